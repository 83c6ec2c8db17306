"""The encoder contract (text to unit float32 vectors) and the plumbing every backend shares."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Protocol, runtime_checkable

import numpy as np

from embeddings.errors import ConfigurationError

__all__ = [
    "DEFAULT_BATCH",
    "Encoder",
    "EncoderFactory",
    "EncoderOptions",
    "check_batch_size",
    "encode_bucketed",
    "l2_normalize",
    "length_batches",
    "mean_pool",
    "require",
]


@runtime_checkable
class Encoder(Protocol):
    """What the chunker, index and retriever need from a model.

    `identity` names the model and variant that produced vectors (recorded in the index;
    opening an index with another identity is an error). Vectors are `(n, dim)` float32,
    L2-normalised, so inner product is cosine similarity.
    """

    identity: str
    dim: int
    max_tokens: int

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Number of model tokens of each text, special tokens excluded."""
        ...

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages: `(len(texts), dim)` float32, unit rows."""
        ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions: `(len(texts), dim)` float32, unit rows."""
        ...


DEFAULT_BATCH = 32  # passages per model call where the batch does not change the vectors


@dataclass(frozen=True, slots=True)
class EncoderOptions:
    """The knobs `load_encoder` passes to every backend; each uses those that apply to it."""

    batch_size: int | None = None  # None: the backend's own default (see `check_batch_size`)
    cache_dir: Path | None = None  # where exported graphs are kept (ONNX backends)
    threads: int | None = None  # intra-op threads (ONNX backends; None: every available CPU)


class EncoderFactory(Protocol):
    """What the registry needs from a backend class: build it from a model and the options."""

    def from_options(self, model_dir: Path, options: EncoderOptions, **variant: object) -> Encoder: ...


def require(module: str, package: str) -> ModuleType:
    """Import an optional dependency, or say which pip package provides it.

    Raises:
        ConfigurationError: the module is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigurationError(f"the '{module}' module is missing: pip install {package}") from exc


def check_batch_size(batch_size: int | None, default: int = DEFAULT_BATCH) -> int:
    """`batch_size` (None: the backend's `default`), once known to be at least 1.

    Raises:
        ConfigurationError: it is not.
    """
    if batch_size is None:
        return default
    if batch_size < 1:
        raise ConfigurationError(f"batch_size must be at least 1, got {batch_size}")
    return batch_size


def length_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Indices `0..n-1` grouped into batches of similar length, longest first, so padding is minimal."""
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def encode_bucketed(
    lengths: Sequence[int], batch_size: int, dim: int, encode_batch: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Run `encode_batch(indices) -> (len(indices), dim)` over length buckets; rows in input order.

    Returns:
        `(len(lengths), dim)` float32.
    """
    out = np.empty((len(lengths), dim), dtype=np.float32)
    for indices in length_batches(lengths, batch_size):
        out[indices] = encode_batch(indices)
    return out


def mean_pool(token_embeddings: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """Average `(batch, seq, dim)` token vectors over the unmasked positions of `(batch, seq)`.

    Returns:
        `(batch, dim)` float32.
    """
    mask = attention_mask.astype(np.float32)[..., None]
    summed = (token_embeddings.astype(np.float32) * mask).sum(axis=1)
    return summed / np.maximum(mask.sum(axis=1), 1e-9)


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Scale `(n, dim)` rows to unit length (zero rows stay zero), as float32."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
