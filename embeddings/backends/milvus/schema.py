"""The Milvus collections of one index: passages, article rows, term frequencies and the commit log.

Every row of the first three carries the `version` (transaction number) that wrote it; the log says
which versions are committed and which older rows each one retired (see `log.py`). Milvus wants a
vector field in every collection, so the collections whose rows need none carry a two-number pad.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymilvus import DataType, Function, FunctionType, MilvusClient

PAD = [1.0, 0.0]  # the vector of rows that need none (Milvus requires a vector field per collection)
TEXT_MAX = 65_535  # bytes: the longest VARCHAR Milvus stores
KEY_MAX = 1_024  # bytes of an article id, a hash or a term
BODY_PART_CHARS = 16_383  # an article body is stored in parts of this many characters (<= TEXT_MAX bytes)
PARTS_PER_ARTICLE = 4_096  # an article row's key is its article number * this + its part
BM25 = {"bm25_k1": 1.5, "bm25_b": 0.75}  # bm25s's defaults, which the local backend scores with

# The passage fields ranking reads with every candidate, and those a row of `passages()` needs.
COLUMN_FIELDS = ["day", "article_no", "text_no", "position"]  # in `Columns` order
ROW_FIELDS = [
    "id",
    "article_id",
    "position",
    "char_start",
    "char_end",
    "text",
    "text_hash",
    "title",
    "day",
    "source",
    "url",
    "sentences",
]
ARTICLE_FIELDS = [
    "article_id",
    "part",
    "parts",
    "title",
    "day",
    "source",
    "url",
    "path",
    "content_hash",
    "text",
]


@dataclass(frozen=True, slots=True)
class Collections:
    """The names of one index's collections, all derived from one name (`QA_MILVUS_COLLECTION`)."""

    passages: str
    articles: str
    terms: str
    log: str

    @classmethod
    def named(cls, name: str) -> Collections:
        return cls(f"{name}_passages", f"{name}_articles", f"{name}_terms", f"{name}_log")

    @property
    def data(self) -> tuple[str, str, str]:
        """The collections whose rows carry a version (everything but the log)."""
        return (self.passages, self.articles, self.terms)


FILTERED_EF = 1_600  # HNSW's ef under a filter, at least (`DenseIndex.search_params`)


@dataclass(frozen=True, slots=True)
class DenseIndex:
    """The dense vectors' Milvus index: its type (HNSW, FLAT, IVF_FLAT, ...) and build parameters."""

    type: str = "HNSW"
    params: tuple[tuple[str, Any], ...] = (("M", 16), ("efConstruction", 200))
    filtered_ef: int = FILTERED_EF

    @property
    def exact(self) -> bool:
        """Whether its searches are exact (FLAT compares every vector, filtered or not)."""
        return self.type == "FLAT"

    def search_params(self, n: int, *, filtered: bool = False) -> dict[str, Any]:
        """Search parameters for `n` results: HNSW explores `ef` >= 2n nodes, IVF probes 16 lists.

        `filtered`: the search runs under a filter that hides part of the archive. HNSW then
        explores 16n nodes, at least `filtered_ef` (0: as unfiltered): the passages a filter hides
        still fill the graph's neighbourhoods, and with ef = 2n the search ends before it has met
        n of the others (recall@100 0.61 under a filter keeping 10 % of 30,000 passages, 0.98 with
        ef 1,600: docs/BENCHMARKS.md, "Restrictive filters").
        """
        if self.type.startswith("HNSW"):
            ef = max(2 * n, 128)
            if filtered and self.filtered_ef:
                ef = max(ef, 16 * n, self.filtered_ef)
            return {"metric_type": "IP", "params": {"ef": ef}}
        if self.type.startswith("IVF"):
            return {"metric_type": "IP", "params": {"nprobe": 16}}
        return {"metric_type": "IP", "params": {}}


def create(
    client: MilvusClient, names: Collections, dim: int, index: DenseIndex, consistency: str, shards: int = 1
) -> None:
    """Create whichever of the index's collections are missing (every one loaded); the passages'
    in `shards` shards (a server spreads their ingestion over as many channels)."""
    makers = {
        names.passages: lambda: _passages(client, dim, index),
        names.articles: lambda: _keyed(client, DataType.INT64, _article_fields, ("version", "article_id")),
        names.terms: lambda: _keyed(client, DataType.VARCHAR, _term_fields, ("version", "term")),
        names.log: lambda: _keyed(client, DataType.INT64, _log_fields),
    }
    for name, make in makers.items():
        if not client.has_collection(name):
            schema, params = make()
            count = shards if name == names.passages else 1
            client.create_collection(name, schema=schema, consistency_level=consistency, num_shards=count)
            # The collection is empty: not waiting for its index spares pymilvus's 0.5 s polls.
            client.create_index(name, params, sync=False)
            client.load_collection(name)


def built_index(client: MilvusClient, names: Collections, configured: DenseIndex) -> DenseIndex:
    """The dense vectors' index as the collection was built (`QA_MILVUS_INDEX` applies only when
    the collections are made; a later write under another setting changes nothing), else
    `configured`."""
    if client.has_collection(names.passages):
        built = client.describe_index(names.passages, "dense") or {}
        kind = str(built.get("index_type") or "")
        if kind and kind != configured.type:
            return DenseIndex(kind, ())
    return configured


def dimension(client: MilvusClient, names: Collections) -> int | None:
    """The dense vectors' dimension of existing collections (None when there are none)."""
    if not client.has_collection(names.passages):
        return None
    for field in client.describe_collection(names.passages)["fields"]:
        if field["name"] == "dense":
            return int(field["params"]["dim"])
    return None


def _passages(client: MilvusClient, dim: int, index: DenseIndex) -> tuple[Any, Any]:
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    _add_ints(schema, "version", "article_no", "text_no", "position", "char_start", "char_end", "day")
    _add_strings(schema, KEY_MAX, "article_id", "text_hash", "embed_hash")
    _add_strings(schema, TEXT_MAX, "source", "source_key", "title", "url", "text")
    # BM25 reads `terms`: the passage's tokens as `embeddings.text.bm25_tokens` cuts them (the one
    # stemmer and stopword list of the project), so the standard tokenizer only splits at spaces.
    schema.add_field(
        "terms",
        DataType.VARCHAR,
        max_length=TEXT_MAX,
        enable_analyzer=True,
        analyzer_params={"tokenizer": "standard"},
    )
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("sentences", DataType.JSON)
    schema.add_function(
        Function(
            name="terms_bm25",
            function_type=FunctionType.BM25,
            input_field_names=["terms"],
            output_field_names=["sparse"],
        )
    )
    params = client.prepare_index_params()
    params.add_index("dense", index_type=index.type, metric_type="IP", params=dict(index.params))
    params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params=BM25)
    _add_scalar_indexes(
        params, "version", "day", "source_key", "article_id", "text_hash", "text_no", "embed_hash"
    )
    return schema, params


def _add_scalar_indexes(params: Any, *fields: str) -> None:
    """Inverted indexes of the fields filters and look-ups name: without one, a filter scans rows."""
    for name in fields:
        params.add_index(name, index_type="INVERTED")


def _article_fields(schema: Any) -> None:
    _add_ints(schema, "version", "article_no", "part", "parts", "day")
    _add_strings(schema, KEY_MAX, "article_id", "content_hash")
    _add_strings(schema, TEXT_MAX, "title", "source", "url", "path", "text")


def _term_fields(schema: Any) -> None:
    _add_ints(schema, "version", "df")
    _add_strings(schema, KEY_MAX, "term")


def _log_fields(schema: Any) -> None:
    _add_ints(schema, "version")
    _add_strings(schema, 16, "kind")
    schema.add_field("payload", DataType.JSON)


def _keyed(
    client: MilvusClient, key: DataType, fields: Any, indexed: tuple[str, ...] = ()
) -> tuple[Any, Any]:
    """A collection keyed by `key` with the padding vector, `fields(schema)` and inverted indexes
    of the `indexed` fields."""
    schema = client.create_schema(auto_id=False)
    if key == DataType.VARCHAR:
        schema.add_field("key", key, is_primary=True, max_length=KEY_MAX + 24)
    else:
        schema.add_field("key", key, is_primary=True)
    schema.add_field("pad", DataType.FLOAT_VECTOR, dim=len(PAD))
    fields(schema)
    params = client.prepare_index_params()
    params.add_index("pad", index_type="FLAT", metric_type="L2")
    _add_scalar_indexes(params, *indexed)
    return schema, params


def _add_ints(schema: Any, *names: str) -> None:
    for name in names:
        schema.add_field(name, DataType.INT64)


def _add_strings(schema: Any, max_length: int, *names: str) -> None:
    for name in names:
        schema.add_field(name, DataType.VARCHAR, max_length=max_length)
