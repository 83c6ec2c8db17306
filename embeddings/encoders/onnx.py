"""The `onnx` and `onnx-int8` encoders: the model's exported graph run by ONNX Runtime, no torch."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.encoders.base import (
    DEFAULT_BATCH,
    EncoderOptions,
    check_batch_size,
    encode_bucketed,
    l2_normalize,
    mean_pool,
    require,
)
from embeddings.encoders.export import INPUT_NAMES, OUTPUT_NAME, default_cache_dir, ensure_onnx
from embeddings.encoders.model_info import inspect_model
from embeddings.errors import ConfigurationError

__all__ = ["OnnxEncoder", "pad_encodings"]


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


class OnnxEncoder:
    """The same model through ONNX Runtime; once the graph is cached, torch is never imported."""

    def __init__(
        self,
        model_dir: Path,
        *,
        quantize: bool,
        cache_dir: Path | None = None,
        batch_size: int | None = None,
        threads: int | None = None,
    ) -> None:
        # int8 quantises activations with one scale per batch: alone, a passage's vector depends on
        # nothing but the passage (as a question's always does), at about the same speed on a CPU.
        self.batch_size = check_batch_size(batch_size, 1 if quantize else DEFAULT_BATCH)
        info = inspect_model(model_dir)
        if info.pooling != "mean" or info.other_modules:
            raise ConfigurationError(
                f"the onnx encoders support Transformer + mean Pooling (+ Normalize) models; {info.path} "
                f"has {info.pooling} pooling and modules {list(info.other_modules)}: use the torch"
                " encoder (QA_ENCODER=torch)"
            )
        tokenizer_file = info.transformer_dir / "tokenizer.json"
        if not tokenizer_file.is_file():
            raise ConfigurationError(f"{tokenizer_file} is missing; the onnx backends need a fast tokenizer")
        ort = require("onnxruntime", "onnxruntime")
        tokenizers = require("tokenizers", "tokenizers")
        cache = Path(cache_dir) if cache_dir is not None else default_cache_dir(info.path, info.fingerprint)
        try:  # before an export, which takes seconds, finds it cannot write there
            cache.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot keep the model's ONNX graphs in {cache}: {exc.strerror or exc}"
                " (set QA_ENCODER_CACHE_DIR to another folder)"
            ) from exc
        self.path = ensure_onnx(info.transformer_dir, cache, info.fingerprint, quantize=quantize)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or _available_cpus()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's own classes (InvalidProtobuf, Fail, ...), no common base
            raise ConfigurationError(
                f"cannot load the cached ONNX graph {self.path} ({str(exc).splitlines()[0]}):"
                " delete it, and the model is exported again"
            ) from exc
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

    @classmethod
    def from_options(cls, model_dir: Path, options: EncoderOptions, *, quantize: bool) -> OnnxEncoder:
        """The encoder `load_encoder` builds: the fp32 graph, or its int8 copy when `quantize`."""
        return cls(
            model_dir,
            quantize=quantize,
            cache_dir=options.cache_dir,
            batch_size=options.batch_size,
            threads=options.threads,
        )

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
