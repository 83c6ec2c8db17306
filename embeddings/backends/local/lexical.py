"""Lexical (BM25) index over passages, built with bm25s and saved as .npy + JSON beside the vectors."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from embeddings.backends.local import npy
from embeddings.backends.local.bm25_build import ArrayBM25, FlatTokens, gather_runs
from embeddings.backends.overlap import flatten, idf, query_codes, token_overlap
from embeddings.errors import IndexCorruptError
from embeddings.text import bm25_query_tokens, bm25_tokens, snowball_stemmer

DIRNAME = "lexical"
_IDS = "ids.npy"
_CONFIG = "lexical.json"
# Every passage's token ids (vocabulary positions), concatenated in `ids` order, and where each
# passage's run starts: a writer re-tokenizes only new passages (see `LexicalIndex.updated`).
_TOKENS = "tokens.npy"  # int32
_OFFSETS = "offsets.npy"  # int64, len(ids) + 1
# bm25s's own files: the score matrix in CSC form (a column per vocabulary entry), its parameters.
_DATA, _INDICES, _INDPTR = "data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"
_VOCAB, _PARAMS = "vocab.index.json", "params.index.json"


class LexicalIndex:
    """BM25 over passage texts (English stopwords, Snowball stemming), keyed by passage id."""

    def __init__(
        self,
        retriever: bm25s.BM25,
        ids: np.ndarray,
        stem: bool,
        *,
        tokens: FlatTokens | None = None,
        directory: Path | None = None,
    ) -> None:
        self._retriever = retriever
        self.ids = ids
        self.stem = stem
        self._stemmer = snowball_stemmer() if stem else None
        self._tokens = tokens
        self._directory = directory  # where `load` found it: its tokens are read only when needed
        # Passage ids arrive in ascending order, so a position is a binary search, not a dict.
        self._sorted = bool(np.all(ids[1:] > ids[:-1])) if len(ids) > 1 else True
        self._order = None if self._sorted else np.argsort(ids, kind="stable")
        # search and overlap cut the same question: once (bm25s's tokenizer costs ~0.2 ms a call).
        # Over a function of the stemmer, not a bound method: a cycle through `self` would keep a
        # superseded version's arrays mapped until the cycle collector happened to run.
        self.query_tokens = lru_cache(maxsize=1024)(partial(_query_tokens, stemmer=self._stemmer))

    @classmethod
    def build(cls, ids: np.ndarray, texts: Sequence[str], *, stem: bool = True) -> LexicalIndex:
        """Index `texts` (one per passage id in `ids`)."""
        vocab: dict[str, int] = {}
        docs = FlatTokens.from_lists(_token_ids(bm25_tokens(texts, stem), vocab))
        return cls._indexed(np.asarray(ids, dtype=np.int64), docs, vocab, stem)

    def updated(self, ids: np.ndarray, texts_of: Callable[[np.ndarray], Sequence[str]]) -> LexicalIndex:
        """The index over `ids`: passages this one holds keep their stored tokens, and only the
        others are read (`texts_of(those ids)`, one text each) and tokenized.

        BM25's statistics (idf, average length) change with every passage, so the scores are
        recomputed over all of them; tokenizing, most of a rebuild's cost, is what is saved. An
        index saved before tokens were stored is rebuilt from `texts_of(ids)`.
        """
        ids = np.asarray(ids, dtype=np.int64)
        held = self._held_tokens()
        if held is None:
            return LexicalIndex.build(ids, texts_of(ids), stem=self.stem)
        if problems := self.problems():  # they would index the vocabulary: refused, not carried on
            label = self._directory.name if self._directory is not None else "base"
            lines = [f"{label}/{line}" for line in problems]
            raise IndexCorruptError(f"cannot write: {IndexCorruptError.of(lines)}", lines)
        rows, kept = self._rows(ids)
        vocab = dict(self._retriever.vocab_dict) if len(self.ids) else {}
        new = FlatTokens.from_lists(_token_ids(bm25_tokens(texts_of(ids[~kept]), self.stem), vocab))
        lengths = np.empty(len(ids), dtype=np.int64)
        lengths[kept] = held.offsets[rows[kept] + 1] - held.offsets[rows[kept]]
        lengths[~kept] = np.diff(new.offsets)
        offsets = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat = np.empty(int(offsets[-1]), dtype=np.int32)
        starts = offsets[:-1]
        gather_runs(held.flat, held.offsets[rows[kept]], lengths[kept], flat, starts[kept])
        gather_runs(new.flat, new.offsets[:-1], lengths[~kept], flat, starts[~kept])
        return LexicalIndex._indexed(ids, FlatTokens(flat, offsets), vocab, self.stem)

    @classmethod
    def _indexed(cls, ids: np.ndarray, docs: FlatTokens, vocab: dict[str, int], stem: bool) -> LexicalIndex:
        retriever = ArrayBM25()
        if docs.passages:
            corpus = bm25s.tokenization.Tokenized(ids=docs, vocab=vocab)  # type: ignore[arg-type]
            retriever.index(corpus, show_progress=False)
        return cls(retriever, ids, stem, tokens=docs)

    def _held_tokens(self) -> FlatTokens | None:
        if self._tokens is None and self._directory is not None:
            base = self._directory / DIRNAME
            if (base / _TOKENS).is_file() and (base / _OFFSETS).is_file():
                flat = np.asarray(npy.load(base / _TOKENS, mmap_mode="r"))  # a plain view: reads skip memmap
                self._tokens = FlatTokens(flat, npy.load(base / _OFFSETS))
        return self._tokens

    @staticmethod
    def exists(directory: Path) -> bool:
        return (directory / DIRNAME / _CONFIG).is_file()

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        """The index saved in `directory` (its score matrix mapped, not read); `IndexCorruptError`
        when its configuration is not one `save` writes."""
        base = directory / DIRNAME
        config = json.loads((base / _CONFIG).read_text())
        if not isinstance(config, dict) or not isinstance(config.get("stem"), bool):
            raise IndexCorruptError(f"{directory.name}/{DIRNAME}/{_CONFIG}: no stemming setting")
        ids = npy.load(base / _IDS)
        if len(ids):
            with npy.HEADER_LOCK:  # bm25s opens its score arrays with np.load
                retriever = bm25s.BM25.load(str(base), mmap=True, show_progress=False)
        else:
            retriever = bm25s.BM25()
        return cls(retriever, ids, bool(config["stem"]), directory=directory)

    def save(self, directory: Path) -> None:
        base = directory / DIRNAME
        base.mkdir(exist_ok=True)
        if len(self.ids):
            self._retriever.save(str(base), show_progress=False)
        np.save(base / _IDS, self.ids)
        held = self._held_tokens()
        if held is not None:
            np.save(base / _TOKENS, held[0])
            np.save(base / _OFFSETS, held[1])
        (base / _CONFIG).write_text(json.dumps({"bm25s": bm25s.__version__, "stem": self.stem}))

    def __len__(self) -> int:
        return len(self.ids)

    def shape_problems(self, passages: int) -> list[str]:
        """What a search or an overlap needs to hold, cheap enough for every open: the ids against
        the passage count, the stored tokens' offsets against the ids and the tokens, the score
        matrix against the vocabulary and the passages (one pass over each per-passage array, the
        vocabulary and the matrix's row indices; none over the stored tokens). One line per problem,
        naming the file under `lexical/` (empty when they fit).

        These are what a writer bug, or files swapped together with their checksums, would break:
        unchecked, a question ends in an IndexError deep in bm25s or NumPy instead of a refusal.
        """
        n = len(self.ids)
        if self.ids.ndim != 1 or self.ids.dtype.kind not in "iu" or n != passages:
            return [f"{DIRNAME}/{_IDS}: {_shape(self.ids)}, not the ids of the {passages} passages"]
        problems = []
        held = self._held_tokens()
        if held is not None:
            flat, offsets = held
            if flat.ndim != 1 or flat.dtype.kind not in "iu":
                problems.append(f"{DIRNAME}/{_TOKENS}: {_shape(flat)}, not token ids")
            elif offsets.ndim != 1 or offsets.dtype.kind not in "iu" or len(offsets) != n + 1:
                problems.append(f"{DIRNAME}/{_OFFSETS}: {_shape(offsets)}, not the offsets of {n} passages")
            elif offsets[0] != 0 or offsets[-1] != len(flat) or bool(np.any(offsets[1:] < offsets[:-1])):
                cut = f"does not cut the {len(flat)} tokens of {DIRNAME}/{_TOKENS} in order"
                problems.append(f"{DIRNAME}/{_OFFSETS}: {cut}")
        if n:
            problems += self._score_problems(n)
        return problems

    def _score_problems(self, n: int) -> list[str]:
        scores, vocab = self._retriever.scores, self._retriever.vocab_dict
        data, indices, indptr = scores["data"], scores["indices"], scores["indptr"]
        terms = len(indptr) - 1  # bm25s may add one entry (the empty word) to the vocabulary
        if data.ndim != 1 or data.dtype.kind != "f":
            return [f"{DIRNAME}/{_DATA}: {_shape(data)}, not scores"]
        if indices.ndim != 1 or indices.dtype.kind not in "iu":
            return [f"{DIRNAME}/{_INDICES}: {_shape(indices)}, not passage rows"]
        if indptr.ndim != 1 or indptr.dtype.kind not in "iu" or len(vocab) not in (terms, terms + 1):
            return [f"{DIRNAME}/{_INDPTR}: {_shape(indptr)}, not the columns of a vocabulary of {len(vocab)}"]
        if indptr[0] != 0 or indptr[-1] != len(indices) or len(data) != len(indices):
            return [f"{DIRNAME}/{_INDPTR}: columns ending at {indptr[-1]}, for {len(indices)} scores"]
        if bool(np.any(indptr[1:] < indptr[:-1])):
            return [f"{DIRNAME}/{_INDPTR}: its columns go backwards"]
        problems = []
        if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= n):
            problems.append(f"{DIRNAME}/{_INDICES}: names passages beyond the {n} stored")
        if scores["num_docs"] != n:
            problems.append(f"{DIRNAME}/{_PARAMS}: says {scores['num_docs']} passages, the index holds {n}")
        columns = np.fromiter(vocab.values(), dtype=np.int64, count=len(vocab))
        beyond = int(np.count_nonzero((columns < 0) | (columns >= terms)))
        if beyond > (vocab.get("") == terms):  # only the empty word may have no column
            problems.append(
                f"{DIRNAME}/{_VOCAB}: maps words to columns beyond the {terms} of the score matrix"
            )
        return problems

    def problems(self) -> list[str]:
        """What `shape_problems` (checked at open) leaves out for being a pass over every stored
        token: token ids outside the vocabulary (empty when there are none)."""
        held = self._held_tokens()
        if held is None or not len(held.flat):
            return []
        vocab = len(self._retriever.vocab_dict) if len(self.ids) else 0
        if int(held.flat.min()) < 0 or int(held.flat.max()) >= vocab:
            return [f"{DIRNAME}/{_TOKENS}: holds token ids outside the vocabulary of {vocab}"]
        return []

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

    def overlap(
        self, ids: np.ndarray, query: str, texts_of: Callable[[np.ndarray], Sequence[str]]
    ) -> np.ndarray:
        """`(len(ids), 2)`: `overlap.token_overlap` of each passage with `query`'s tokens, from the
        stored tokens (`texts_of(ids)` is read and tokenized only for an index saved without them);
        zeros for an id the index does not hold."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.zeros((len(ids), 2))
        tokens = self.query_tokens(query) if len(self.ids) else ()
        if not tokens or not len(ids):
            return out
        vocab = self._retriever.vocab_dict
        indptr = self._retriever.scores["indptr"]
        codes = query_codes(tokens, vocab.get)
        known = np.array([c for c in set(codes) if c >= 0], dtype=np.int64)
        df = dict(zip(known.tolist(), (indptr[known + 1] - indptr[known]).tolist(), strict=True))
        n = len(self.ids)
        weights = {c: idf(df.get(c, 0), n) for c in set(codes)}
        rows, found = self._rows(ids)
        held = self._held_tokens()
        if held is not None:
            starts = held.offsets[rows[found]]
            lengths = held.offsets[rows[found] + 1] - starts
            offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
            np.cumsum(lengths, out=offsets[1:])
            flat = np.empty(int(offsets[-1]), dtype=held.flat.dtype)
            gather_runs(held.flat, starts, lengths, flat, offsets[:-1])
        else:
            docs = bm25_tokens(texts_of(ids[found]), self.stem)
            flat, offsets = flatten([[vocab.get(t, -1) for t in doc] for doc in docs])
        out[found] = token_overlap(flat, offsets, codes, weights)
        return out

    def _rows(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`(rows, found)`: each id's row in `self.ids` (meaningful where `found`), both `(len(ids),)`."""
        if not len(self.ids):
            return np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=bool)
        own = self.ids if self._order is None else self.ids[self._order]
        at = np.minimum(np.searchsorted(own, ids), len(own) - 1)
        return (at if self._order is None else self._order[at]), own[at] == ids

    def _mask(self, allowed: np.ndarray) -> np.ndarray:
        """Boolean `(n,)` mask of the rows whose passage id is in `allowed`."""
        rows, found = self._rows(allowed)
        mask = np.zeros(len(self.ids), dtype=bool)
        mask[rows[found]] = True
        return mask

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k `(scores, ids)`, each `(<=k,)`, best first; only positive scores, only `allowed` ids."""
        if not len(self.ids) or k <= 0:
            return np.empty(0, np.float32), np.empty(0, np.int64)
        tokens = self.query_tokens(query)
        if not tokens:
            return np.empty(0, np.float32), np.empty(0, np.int64)
        scores = self._retriever.get_scores(list(tokens)).astype(np.float32, copy=False)
        if allowed is not None:
            scores = np.where(self._mask(np.asarray(allowed, dtype=np.int64)), scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return scores[top], self.ids[top]


def _shape(array: np.ndarray) -> str:
    """`int64 (15,)`: what a problem line says an array is."""
    return f"{array.dtype} {array.shape}"


def _token_ids(docs: list[list[str]], vocab: dict[str, int]) -> list[list[int]]:
    """Each document's tokens as vocabulary positions; new words are appended to `vocab`."""
    return [[vocab.setdefault(token, len(vocab)) for token in doc] for doc in docs]


def _query_tokens(query: str, stemmer: Stemmer.Stemmer | None) -> tuple[str, ...]:
    return tuple(bm25_query_tokens(query, stemmer))
