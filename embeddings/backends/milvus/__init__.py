"""The `milvus` backend: passages, article rows, term frequencies and a commit log in Milvus collections.

The backend itself is `embeddings.backends.milvus.backend.MilvusBackend` (it imports pymilvus).
"""

from embeddings.backends.milvus.uri import is_server

__all__ = ["is_server"]
