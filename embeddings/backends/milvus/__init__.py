"""The `milvus` backend: passages, article rows, term frequencies and a commit log in Milvus collections."""

from embeddings.backends.milvus.backend import MilvusBackend, is_server

__all__ = ["MilvusBackend", "is_server"]
