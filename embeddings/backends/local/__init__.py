"""The `local` backend: one machine, versioned directories of FAISS vectors, BM25 and SQLite rows."""

from embeddings.backends.local.backend import LocalBackend

__all__ = ["LocalBackend"]
