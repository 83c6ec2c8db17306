"""Configuration: one settings object, read from `QA_*` environment variables at the edge only."""

from __future__ import annotations

import difflib
import ipaddress
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from embeddings.backends import BACKENDS
from embeddings.backends.local.stores import BACKENDS as STORES
from embeddings.backends.local.stores import check_options
from embeddings.backends.milvus.uri import CONSISTENCY, LITE_UNBUILT, is_server
from embeddings.chunking import ChunkingConfig
from embeddings.encoders import ENCODERS
from embeddings.errors import ConfigurationError
from qa.retrieval.config import RetrievalConfig

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
# Dense-vector indexes Milvus builds for float vectors (Milvus Lite 3.2 accepted each of them).
MILVUS_INDEXES = ("HNSW", "FLAT", "IVF_FLAT", "IVF_SQ8", "IVF_PQ", "SCANN", "DISKANN", "AUTOINDEX")
# Of those, Milvus Lite cannot load `LITE_UNBUILT` (it creates them; every later open fails).
# The settings that name one of a few implementations: what each is called in a message, and its
# registry (read when checked: a backend registered later counts).
_NAMED: dict[str, tuple[str, Collection[str]]] = {
    "encoder": ("encoder backend", ENCODERS),
    "backend": ("index backend", BACKENDS),
    "store": ("vector store", STORES),
}


def is_loopback(host: str) -> bool:
    """Whether a listening address (or host name) is this machine's loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Every knob of the service. Build with `Settings()` (environment) or `Settings(**mapping)`."""

    # A misspelt keyword (`Settings(recency_wieght=0)`) is an error, not a knob silently left as
    # it was; environment variables are read field by field, so other QA_ names are not refused.
    model_config = SettingsConfigDict(env_prefix="QA_", extra="forbid")

    index_dir: Path = Field(Path(".qa-index"), description="Index directory (QA_INDEX_DIR).")
    model_dir: Path | None = Field(None, description="Local sentence-transformers model; default: bundled.")
    encoder: str = Field("onnx-int8", description="Encoder backend: onnx-int8, onnx or torch.")
    encoder_cache_dir: Path | None = Field(None, description="Where exported ONNX models are cached.")
    batch_size: int | None = Field(
        None,
        ge=1,
        le=1024,
        description="Passages per encoder call (default: 1 with onnx-int8, whose vectors would"
        " otherwise move with their batch; 32 with onnx and torch).",
    )
    encoder_threads: int | None = Field(None, ge=1, description="ONNX Runtime threads (default: all cores).")
    search_threads: int | None = Field(
        None,
        ge=1,
        description="OpenMP threads for FAISS (default: 1 with the ONNX encoders, untouched with"
        " torch). Process-wide: OpenMP is shared with PyTorch.",
    )
    backend: str = Field(
        "local",
        description="Index backend: local (FAISS + BM25 + SQLite files) or milvus (Milvus collections).",
    )
    store: str = Field("faiss", description="Vector store of the local backend.")
    store_options: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="Vector store options as JSON, e.g. QA_STORE_OPTIONS='{\"exact_threshold\": 50000}'.",
    )
    milvus_uri: str | None = Field(
        None,
        description="Milvus: a http(s) URL (a server or cluster) or a path ending in .db (Milvus Lite, one"
        " process at a time); default INDEX_DIR/milvus.db.",
    )
    milvus_token: SecretStr | None = Field(
        None, description="Milvus server token (user:password or API key)."
    )
    milvus_collection: str = Field(
        "newsqa", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Prefix of the index's Milvus collections."
    )
    milvus_consistency: str = Field(
        "Strong", description="Consistency level of Milvus reads: Strong, Bounded, Session or Eventually."
    )
    milvus_index: str = Field(
        "HNSW", description=f"Milvus index of the dense vectors: {', '.join(MILVUS_INDEXES)}."
    )
    milvus_shards: int = Field(
        1, ge=1, le=64, description="Shards of the Milvus passages collection (at creation)."
    )
    seeds_dir: Path = Field(Path("seeds"), description="Articles `qa serve` indexes when no index exists.")

    chunk_size: int = Field(200, ge=16, le=512, description="Target passage length in model tokens.")
    chunk_overlap: int = Field(40, ge=0, le=256, description="Tokens of overlap between passages.")
    title_context: bool = Field(True, description="Embed and match each passage with its article title.")

    retrieval: RetrievalConfig = Field(
        default_factory=RetrievalConfig,
        description="Retrieval knobs; each is also read from its own variable, e.g. QA_RECENCY_WEIGHT.",
    )

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int | None = Field(
        None, ge=1, description="`qa serve` processes (default: 2, or 1 on a one-core machine)."
    )
    api_token: SecretStr | None = Field(None, description="Bearer token required by write endpoints.")
    allowed_hosts: list[str] | None = Field(
        None,
        description='Host header values the server answers (port ignored; "*" for any), as JSON, e.g.'
        " QA_ALLOWED_HOSTS='[\"news.example.org\"]'. Default: the loopback names when the server"
        " listens on loopback without a token (so a page on another site cannot reach it by DNS"
        " rebinding), any host otherwise.",
    )
    verify_on_start: bool = Field(
        True,
        description="Check every file of the live version against its checksum before answering from it"
        " (`qa serve`, `qa ask`, `qa related`, the app's start-up): about 1 s per GB of index from the"
        " page cache, 7 s per GB from a 140 MB/s disk (docs/BENCHMARKS.md).",
    )
    reload_interval: float = Field(
        0.25,
        ge=0.0,
        description="Seconds between checks for a newer index version (and for files changed under the"
        " one served): an article written through one worker is served by the others within about"
        " this plus an open (0.27 s at most measured with 0.25 s, 0.95 s with 1 s; docs/RELIABILITY.md).",
    )
    lock_timeout: float = Field(60.0, ge=0.0)
    max_question_chars: int = Field(1000, ge=1)
    max_k: int = Field(100, ge=1)
    max_batch: int = Field(100, ge=1)
    max_article_chars: int = Field(2_000_000, ge=1)
    max_articles_per_request: int = Field(1000, ge=1)
    max_body_bytes: int = Field(20_000_000, ge=1)
    metrics: bool = Field(True, description="Count requests per route and serve them at GET /metrics.")

    def served_hosts(self) -> list[str] | None:
        """The Host names requests may carry (None: any); see `allowed_hosts`."""
        if self.allowed_hosts is not None:
            return None if "*" in self.allowed_hosts else list(self.allowed_hosts)
        return list(LOOPBACK_NAMES) if not self.token() and is_loopback(self.host) else None

    def token(self) -> str:
        """The API token writes need ("" when none is set)."""
        return self.api_token.get_secret_value() if self.api_token else ""

    def chunking(self, max_tokens: int) -> ChunkingConfig:
        return ChunkingConfig(self.chunk_size, self.chunk_overlap, max_tokens)

    @field_validator("index_dir", "model_dir", "encoder_cache_dir", "seeds_dir", mode="before")
    @classmethod
    def _named_folder(cls, value: Any) -> Any:
        """`QA_INDEX_DIR=` (an unset shell variable) is refused, not read as this folder: the
        model looked for here, graphs exported here, `qa serve` indexing this folder as seeds."""
        if isinstance(value, str) and not value.strip():
            raise ValueError("empty: name a folder ('.' for this one)")
        return value

    @field_validator("host")
    @classmethod
    def _named_host(cls, value: str) -> str:
        """`QA_HOST=` is refused here, naming the variable, not when `qa serve` looks the name up."""
        if not value.strip():
            raise ValueError("empty: name an address (127.0.0.1; 0.0.0.0 for every interface)")
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _some_host(cls, value: list[str] | None) -> list[str] | None:
        """`QA_ALLOWED_HOSTS='[]'` (or only empty names) would answer every request 400: refused."""
        if value is not None and not [host for host in value if host.strip()]:
            raise ValueError('no host named: list the Host names to answer (["*"] for any)')
        return value

    @field_validator("encoder", "backend", "store")
    @classmethod
    def _known_name(cls, value: str, info: ValidationInfo) -> str:
        """Checked with the rest of the configuration, a usage error (exit 2) naming the variable:
        not when the model loads or the index opens, and for the store not only at the next fresh
        build (an index that exists is read with the store it was built with)."""
        what, choices = _NAMED[info.field_name or ""]
        if value not in choices:
            raise ValueError(f"unknown {what} {value!r} (one of {', '.join(choices)})")
        return value

    @field_validator("milvus_index")
    @classmethod
    def _known_index(cls, value: str) -> str:
        """One Milvus builds for float vectors: a name it refuses would be found only when the
        collection is made, leaving an index no later command can open."""
        if value.upper() not in MILVUS_INDEXES:
            raise ValueError(
                f"not a Milvus index of float vectors: {value!r} (one of {', '.join(MILVUS_INDEXES)})"
            )
        return value.upper()

    @field_validator("milvus_consistency")
    @classmethod
    def _known_consistency(cls, value: str) -> str:
        """One of Milvus's levels, in any case (a usage error, exit 2, not a failure at first use)."""
        for level in CONSISTENCY:
            if value.lower() == level.lower():
                return level
        raise ValueError(f"unknown consistency level {value!r} (one of {', '.join(CONSISTENCY)})")

    @model_validator(mode="after")
    def _index_lite_can_load(self) -> Settings:
        """An index type Milvus Lite creates but cannot load would leave an index no command opens."""
        lite = self.backend == "milvus" and not is_server(self.milvus_uri or "milvus.db")
        if lite and self.milvus_index in LITE_UNBUILT:
            raise ValueError(
                f"QA_MILVUS_INDEX={self.milvus_index}: Milvus Lite cannot load it (use HNSW, FLAT,"
                " IVF_FLAT, IVF_SQ8 or AUTOINDEX; the others need a Milvus server)"
            )
        return self

    @model_validator(mode="after")
    def _usable_store_options(self) -> Settings:
        """Options the store refuses are a usage error (exit 2) naming QA_STORE_OPTIONS, not a
        failure when the index first opens. Only these import the store's engine here."""
        if self.backend == "local" and self.store_options:
            try:
                check_options(self.store, dict(self.store_options))
            except ConfigurationError as exc:
                raise ValueError(f"QA_STORE_OPTIONS: {exc}") from None
        return self

    @model_validator(mode="before")
    @classmethod
    def _nest_retrieval(cls, data: Any) -> Any:
        """Retrieval knobs given flat (`Settings.model_validate({"recency_weight": 0})`) go into
        `retrieval`; knobs given there take precedence. (`Settings(...)` nests each source first.)"""
        return nest_retrieval(data) if isinstance(data, dict) else data

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_within_size(cls, value: int, info: ValidationInfo) -> int:
        """Checked with the rest of the configuration (a usage error, exit 2), not when the
        first article is chunked."""
        size = info.data.get("chunk_size")
        if size is not None and value >= size:
            raise ValueError(f"the overlap ({value}) must be smaller than the chunk size ({size})")
        return value

    def backend_options(self) -> dict[str, object]:
        """The keyword options of the configured backend (see `embeddings.backends`)."""
        if self.backend == "local":
            # OpenMP is one pool per process, shared by FAISS and PyTorch. A single query's search
            # gains nothing from more threads, and an idle OpenMP worker spinning after an exact
            # search slows ONNX Runtime's next question (8.3 vs 5.0 ms p50 on a small index), so
            # with the ONNX encoders FAISS gets one thread. With the torch encoder the pool is
            # PyTorch's: one thread there would halve indexing (42.7 -> 23.5 passages/s).
            threads = self.search_threads or (None if self.encoder == "torch" else 1)
            return {
                "root": self.index_dir,
                "store": self.store,
                "store_options": dict(self.store_options),
                "search_threads": threads,
            }
        if self.backend == "milvus":
            token = self.milvus_token.get_secret_value() if self.milvus_token else None
            return {
                "uri": self.milvus_uri or str(self.index_dir / "milvus.db"),
                "token": token,
                "collection": self.milvus_collection,
                "consistency": self.milvus_consistency,
                "index_type": self.milvus_index,
                "shards": self.milvus_shards,
                # Writers of one index take this lock: against a server, on a folder they share.
                "lock_path": self.index_dir / f"milvus-{self.milvus_collection}.lock",
            }
        return {}

    @property
    def single_process(self) -> bool:
        """Whether only one process may open the index (Milvus Lite embeds its engine in one)."""
        return self.backend == "milvus" and not is_server(str(self.backend_options()["uri"]))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Each source nests its own flat knobs, so that precedence holds knob by knob across
        # sources: a keyword beats any variable, then QA_RETRIEVAL beats QA_<KNOB>.
        return (
            _NestedSource(settings_cls, init_settings),
            _NestedSource(settings_cls, env_settings),
            _FlatRetrievalSource(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )


def variable_names() -> set[str]:
    """Every `QA_*` variable a setting is read from, the retrieval knobs' own included."""
    fields = [*Settings.model_fields, *RetrievalConfig.model_fields]
    return {f"QA_{name.upper()}" for name in fields}


def misspelt_variables(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """`(name, setting)` for each `QA_*` name in `environ` that is no setting's variable but close
    to one: a typo that would leave the knob as it was. Other names are left alone (another tool's,
    an old release's)."""
    known = sorted(variable_names())
    found = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith("QA_") or upper in known:
            continue
        if close := difflib.get_close_matches(upper, known, n=1, cutoff=0.8):
            found.append((name, close[0]))
    return found


def nest_retrieval(values: dict[str, Any]) -> dict[str, Any]:
    """`values` with its flat retrieval knobs moved into `retrieval`; a knob given in `retrieval`
    (a mapping or a `RetrievalConfig`, whose explicitly set knobs count) wins over its flat form."""
    values = dict(values)
    flat = {name: values.pop(name) for name in list(values) if name in RetrievalConfig.model_fields}
    given = values.get("retrieval")
    if isinstance(given, RetrievalConfig):
        given = given.model_dump(exclude_unset=True)
    if isinstance(given, dict) or (flat and given is None):
        values["retrieval"] = {**flat, **(given or {})}
    elif flat:  # e.g. a JSON string pydantic will parse: the flat knobs cannot be merged into it
        values.update(flat)
    return values


class _NestedSource(PydanticBaseSettingsSource):
    """Another source's values with its flat retrieval knobs nested (see `nest_retrieval`)."""

    def __init__(self, settings_cls: type[BaseSettings], source: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self.source = source

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return nest_retrieval(self.source())


class _FlatRetrievalSource(PydanticBaseSettingsSource):
    """Each retrieval knob from its own variable (`QA_RECENCY_WEIGHT=0`), under `retrieval`."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        names = {f"QA_{name.upper()}": name for name in RetrievalConfig.model_fields}
        knobs = {names[key.upper()]: value for key, value in os.environ.items() if key.upper() in names}
        return {"retrieval": knobs} if knobs else {}
