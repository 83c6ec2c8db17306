"""Deprecated location of `split_sentences`: import it from `embeddings.text` (removed once callers moved)."""

from embeddings.text import split_sentences

__all__ = ["split_sentences"]
