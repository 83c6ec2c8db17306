"""Reading articles, chunking them into passages, embedding them and keeping the on-disk index."""

from embeddings.articles import Article, Passage
from embeddings.chunking import ChunkingConfig, chunk_article
from embeddings.encoders import Encoder
from embeddings.index import IndexDirectory, Snapshot
from embeddings.indexing import Indexer, IndexReport

__all__ = [
    "Article",
    "ChunkingConfig",
    "Encoder",
    "IndexDirectory",
    "IndexReport",
    "Indexer",
    "Passage",
    "Snapshot",
    "chunk_article",
]
