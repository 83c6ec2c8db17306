"""Lexical (BM25) index over passages, built with bm25s and saved as .npy + JSON beside the vectors."""

from __future__ import annotations

import json
import math
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
        # Passage ids arrive in ascending order, so a position is a binary search, not a dict.
        self._sorted = bool(np.all(ids[1:] > ids[:-1])) if len(ids) > 1 else True
        self._order = None if self._sorted else np.argsort(ids, kind="stable")

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

    def idf(self, words: Sequence[str]) -> dict[str, float]:
        """BM25 (Lucene) idf of each lowercase word over the indexed passages, read from the index.

        A word the index never saw (or a stopword) gets the idf of a term in no passage.
        """
        n = len(self.ids)
        out: dict[str, float] = {}
        if not n:
            return dict.fromkeys(words, 0.0)
        vocab = self._retriever.vocab_dict
        indptr = self._retriever.scores["indptr"]
        for word in words:
            token = self._stemmer.stemWord(word) if self._stemmer else word
            column = vocab.get(token)
            df = int(indptr[column + 1] - indptr[column]) if column is not None else 0
            out[word] = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
        return out

    def _mask(self, allowed: np.ndarray) -> np.ndarray:
        """Boolean `(n,)` mask of the rows whose passage id is in `allowed`."""
        ids = self.ids if self._order is None else self.ids[self._order]
        rows = np.searchsorted(ids, allowed)
        rows = rows[(rows < len(ids)) & (ids[np.minimum(rows, len(ids) - 1)] == allowed)]
        if self._order is not None:
            rows = self._order[rows]
        mask = np.zeros(len(self.ids), dtype=bool)
        mask[rows] = True
        return mask

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
            scores = np.where(self._mask(np.asarray(allowed, dtype=np.int64)), scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return scores[top], self.ids[top]
