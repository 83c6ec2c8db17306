"""Deprecated location of `Encoder`: import it from `embeddings.encoders` (removed once callers moved)."""

from embeddings.encoders.base import Encoder

__all__ = ["Encoder"]
