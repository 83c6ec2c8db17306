"""The offline side: read articles, chunk them, embed them, and hand them to an index backend."""

from embeddings.articles import Article, Passage
from embeddings.backends import Backend, IndexReader, create_backend
from embeddings.chunking import ChunkingConfig, chunk_article
from embeddings.encoders import Encoder
from embeddings.writer import Indexer, IndexReport

__all__ = [
    "Article",
    "Backend",
    "ChunkingConfig",
    "Encoder",
    "IndexReader",
    "IndexReport",
    "Indexer",
    "Passage",
    "chunk_article",
    "create_backend",
]
