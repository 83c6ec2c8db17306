"""Reading and fingerprinting a sentence-transformers model directory (no torch needed)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embeddings.errors import ConfigurationError

__all__ = ["ModelInfo", "inspect_model", "model_fingerprint"]

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


def _max_tokens(transformer_dir: Path, st_config: dict[str, Any], config: dict[str, Any]) -> int:
    """The longest input the model takes, as sentence-transformers reads it: `max_seq_length`, or
    (sentence-transformers 6 saves it nowhere else) the tokenizer's `model_max_length`, within the
    model's positions."""
    if st_config.get("max_seq_length"):
        return int(st_config["max_seq_length"])
    positions = int(config.get("max_position_embeddings") or 512)
    tokenizer_path = transformer_dir / "tokenizer_config.json"
    tokenizer = _read_json(tokenizer_path) if tokenizer_path.is_file() else {}
    limit = tokenizer.get("model_max_length")
    if isinstance(limit, (int, float)) and 0 < limit < positions:  # unset: transformers' 1e30
        return int(limit)
    return positions


def inspect_model(model_dir: Path) -> ModelInfo:
    """Validate a sentence-transformers directory and read what the encoders need from it.

    Raises:
        ConfigurationError: the directory is missing or is not a sentence-transformers model.
    """
    model_dir = Path(model_dir).expanduser().resolve()
    if model_dir.exists() and not model_dir.is_dir():
        raise ConfigurationError(f"model directory {model_dir} is a file: name the model's folder")
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
        max_tokens=_max_tokens(transformer_dir, st_config, config),
        dim=dim,
        lowercase=bool(st_config.get("do_lower_case", False)),
    )
