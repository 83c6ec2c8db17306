"""Configuration: one settings object, read from `QA_*` environment variables at the edge only."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from embeddings.chunking import ChunkingConfig
from qa.retriever import RetrievalConfig


class Settings(BaseSettings):
    """Every knob of the service. Build with `Settings()` (environment) or `Settings(**mapping)`."""

    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    index_dir: Path = Field(Path(".qa-index"), description="Index directory (QA_INDEX_DIR).")
    model_dir: Path | None = Field(None, description="Local sentence-transformers model; default: bundled.")
    encoder: str = Field("onnx-int8", description="Encoder backend: onnx-int8, onnx or torch.")
    encoder_cache_dir: Path | None = Field(None, description="Where exported ONNX models are cached.")
    batch_size: int = Field(32, ge=1, le=1024)
    encoder_threads: int | None = Field(None, ge=1, description="ONNX Runtime threads (default: all cores).")
    search_threads: int | None = Field(
        None,
        ge=1,
        description="OpenMP threads for FAISS (default: 1 with the ONNX encoders, untouched with"
        " torch). Process-wide: OpenMP is shared with PyTorch.",
    )
    backend: str = Field("faiss", description="Vector store backend.")
    store_options: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="Vector store options as JSON, e.g. QA_STORE_OPTIONS='{\"exact_threshold\": 50000}'.",
    )
    seeds_dir: Path = Field(Path("seeds"), description="Articles `qa serve` indexes when no index exists.")

    chunk_size: int = Field(200, ge=16, le=512, description="Target passage length in model tokens.")
    chunk_overlap: int = Field(40, ge=0, le=256, description="Tokens of overlap between passages.")
    title_context: bool = Field(True, description="Embed and match each passage with its article title.")

    candidates: int = Field(100, ge=10, le=2000)
    lexical: bool = Field(True, description="Fuse BM25 candidates with dense ones.")
    dense_weight: float = 1.0
    lexical_weight: float = Field(1.5, ge=0.0, description="BM25 weight in the rank fusion (dense: 1).")
    max_per_article: int = Field(1, ge=1)
    collapse_duplicates: bool = True
    merge_adjacent: bool = Field(True, description="Extend a hit over an adjacent passage that also ranked.")
    time_boost: float = Field(0.5, ge=0.0)
    time_filter: bool = Field(False, description="Make question time expressions hard filters.")
    recency_half_life_days: float = Field(180.0, ge=0.0)
    recency_weight: float = Field(0.5, ge=0.0, description="Mild preference for recent articles (0: off).")
    strip_time: bool = Field(True, description="Match the question without its time expressions.")
    highlight: bool = True
    highlight_corpus_idf: bool = Field(True, description="Weigh highlight terms by their archive idf.")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int | None = Field(
        None, ge=1, description="`qa serve` processes (default: 2, or 1 on a one-core machine)."
    )
    api_token: SecretStr | None = Field(None, description="Bearer token required by write endpoints.")
    reload_interval: float = Field(1.0, ge=0.0, description="Seconds between checks for a newer index.")
    lock_timeout: float = Field(60.0, ge=0.0)
    max_question_chars: int = Field(1000, ge=1)
    max_k: int = Field(100, ge=1)
    max_batch: int = Field(100, ge=1)
    max_article_chars: int = Field(2_000_000, ge=1)
    max_articles_per_request: int = Field(1000, ge=1)
    max_body_bytes: int = Field(20_000_000, ge=1)

    def chunking(self, max_tokens: int) -> ChunkingConfig:
        return ChunkingConfig(self.chunk_size, self.chunk_overlap, max_tokens)

    def retrieval(self) -> RetrievalConfig:
        return RetrievalConfig(
            candidates=self.candidates,
            lexical=self.lexical,
            dense_weight=self.dense_weight,
            lexical_weight=self.lexical_weight,
            max_per_article=self.max_per_article,
            collapse_duplicates=self.collapse_duplicates,
            merge_adjacent=self.merge_adjacent,
            time_boost=self.time_boost,
            time_filter=self.time_filter,
            recency_half_life_days=self.recency_half_life_days,
            recency_weight=self.recency_weight,
            strip_time=self.strip_time,
            highlight=self.highlight,
            highlight_corpus_idf=self.highlight_corpus_idf,
        )
