"""The `torch` encoder: the model run by sentence-transformers, the reference the ONNX backends match."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embeddings.encoders.base import EncoderOptions, check_batch_size, encode_bucketed, require
from embeddings.encoders.model_info import inspect_model

__all__ = ["SentenceTransformerEncoder"]


class SentenceTransformerEncoder:
    """The model run by sentence-transformers on torch; the reference the ONNX backends match."""

    def __init__(self, model_dir: Path, *, batch_size: int | None = None, device: str = "cpu") -> None:
        self.batch_size = check_batch_size(batch_size)
        info = inspect_model(model_dir)
        st = require("sentence_transformers", "sentence-transformers")
        self._model = st.SentenceTransformer(str(info.path), device=device, local_files_only=True)
        dimension = getattr(self._model, "get_embedding_dimension", None)
        dimension = dimension or self._model.get_sentence_embedding_dimension
        self.identity = f"{info.name}@{info.fingerprint}:torch"
        self.dim = int(dimension())
        self.max_tokens = int(self._model.max_seq_length)

    @classmethod
    def from_options(cls, model_dir: Path, options: EncoderOptions) -> SentenceTransformerEncoder:
        """The encoder `load_encoder` builds, on the CPU; `cache_dir` and `threads` do not apply."""
        return cls(model_dir, batch_size=options.batch_size)

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
