"""Lexical (BM25) index over passages, built with bm25s and saved as .npy + JSON beside the vectors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

DIRNAME = "lexical"
_IDS = "ids.npy"
_CONFIG = "lexical.json"


class LexicalIndex:
    """BM25 over passage texts (English stopwords, Snowball stemming), keyed by passage id."""

    def __init__(self, retriever: bm25s.BM25, ids: np.ndarray, stem: bool) -> None:
        self._retriever = retriever
        self.ids = ids
        self.stem = stem
        self._stemmer = Stemmer.Stemmer("english") if stem else None
        self._position = {int(i): n for n, i in enumerate(ids)}

    @classmethod
    def build(cls, ids: np.ndarray, texts: Sequence[str], *, stem: bool = True) -> LexicalIndex:
        """Index `texts` (one per passage id in `ids`)."""
        stemmer = Stemmer.Stemmer("english") if stem else None
        tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=stemmer, show_progress=False)
        retriever = bm25s.BM25()
        if len(texts):
            retriever.index(tokens, show_progress=False)
        return cls(retriever, np.asarray(ids, dtype=np.int64), stem)

    @staticmethod
    def exists(directory: Path) -> bool:
        return (directory / DIRNAME / _CONFIG).is_file()

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        base = directory / DIRNAME
        config = json.loads((base / _CONFIG).read_text())
        ids = np.load(base / _IDS)
        retriever = bm25s.BM25.load(str(base), mmap=True, show_progress=False) if len(ids) else bm25s.BM25()
        return cls(retriever, ids, bool(config["stem"]))

    def save(self, directory: Path) -> None:
        base = directory / DIRNAME
        base.mkdir(exist_ok=True)
        if len(self.ids):
            self._retriever.save(str(base), show_progress=False)
        np.save(base / _IDS, self.ids)
        (base / _CONFIG).write_text(json.dumps({"bm25s": bm25s.__version__, "stem": self.stem}))

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k `(scores, ids)`, each `(<=k,)`, best first; only positive scores, only `allowed` ids."""
        if not len(self.ids) or k <= 0:
            return np.empty(0, np.float32), np.empty(0, np.int64)
        tokens = bm25s.tokenize(
            query, stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False
        )[0]
        if not tokens:
            return np.empty(0, np.float32), np.empty(0, np.int64)
        scores = self._retriever.get_scores(tokens).astype(np.float32, copy=False)
        if allowed is not None:
            mask = np.zeros(len(scores), dtype=bool)
            rows = [self._position[int(i)] for i in allowed if int(i) in self._position]
            mask[rows] = True
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return scores[top], self.ids[top]
