"""bm25s's BM25 index, built from flat token arrays with NumPy instead of per-passage Python loops.

bm25s builds its score matrix one document at a time (a `Counter` and a set intersection per
passage): every write into the 32k-passage benchmark archive spent about 1.5 s recomputing it,
and at a million passages it takes over a minute (`benchmarks/bench_bm25.py`). `build_index_from_ids`
is the method bm25s documents as the one to override "to build the index in a different way";
`ArrayBM25` overrides it to count term and document frequencies for all passages at once. The
scores are still bm25s's: its idf and term-frequency functions for the configured method, laid
out in its sparse (CSC) format, and `tests/unit/test_bm25_build.py` checks that the matrix equals
the one bm25s builds itself, bit for bit. Everything else (search, save, load) is bm25s's own.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import bm25s
import numpy as np
from bm25s.scoring import _select_idf_scorer, _select_tfc_scorer
from scipy import sparse


class FlatTokens(NamedTuple):
    """Every passage's token ids concatenated (`flat`), passage `i` at `flat[offsets[i]:offsets[i + 1]]`."""

    flat: np.ndarray  # (total tokens,) integer
    offsets: np.ndarray  # (passages + 1,) int64, starts at 0

    @property
    def passages(self) -> int:
        return len(self.offsets) - 1

    @classmethod
    def from_lists(cls, docs: list[list[int]]) -> FlatTokens:
        offsets = np.zeros(len(docs) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(d) for d in docs])
        flat = np.fromiter((t for d in docs for t in d), dtype=np.int32, count=int(offsets[-1]))
        return cls(flat, offsets)

    def to_lists(self) -> list[list[int]]:
        return [self.flat[a:b].tolist() for a, b in zip(self.offsets[:-1], self.offsets[1:], strict=True)]


class ArrayBM25(bm25s.BM25):
    """`bm25s.BM25` whose index is built from `FlatTokens` in a few NumPy passes (same scores)."""

    def build_index_from_ids(
        self,
        unique_token_ids: list[int],
        corpus_token_ids: Any,
        show_progress: bool = True,
        leave_progress: bool = False,
    ) -> dict[str, Any]:
        # Variants scored against a non-occurrence array, and the scipy CSC backend, keep bm25s's path.
        if self.method in self.methods_requiring_nonoccurrence or self.csc_backend != "numpy":
            if isinstance(corpus_token_ids, FlatTokens):
                corpus_token_ids = corpus_token_ids.to_lists()
            return super().build_index_from_ids(
                unique_token_ids, corpus_token_ids, show_progress, leave_progress
            )
        if not isinstance(corpus_token_ids, FlatTokens):
            corpus_token_ids = FlatTokens.from_lists(corpus_token_ids)
        self.nonoccurrence_array = None  # as bm25s leaves it for these methods
        flat, offsets = corpus_token_ids
        n_docs, n_vocab = len(offsets) - 1, len(unique_token_ids)
        doc_len = np.diff(offsets)
        avg_doc_len = doc_len.mean() if n_docs else np.float64(0.0)

        # A (passage, term) count matrix in CSC form holds the non-zeros in bm25s's order (by
        # term, then passage) with the term frequencies as values. SciPy builds it with a
        # counting sort by term that keeps each term's passages in input order (ascending), so
        # repeats are adjacent and summed in place: linear time, where sorting every
        # (term, passage) key took 4x longer at a million passages.
        doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), doc_len)
        counts = sparse.csc_matrix(
            (np.ones(len(flat), dtype=np.int64), (doc_of, np.asarray(flat))), shape=(n_docs, n_vocab)
        )
        del doc_of
        counts.sum_duplicates()
        doc_idx, tf = counts.indices, counts.data
        doc_freq = np.diff(counts.indptr)
        voc_idx = np.repeat(np.arange(n_vocab, dtype=np.int64), doc_freq)

        compute_idf = _select_idf_scorer(self.idf_method)
        idf = np.zeros(n_vocab, dtype=self.dtype)
        present = np.flatnonzero(doc_freq)
        idf[present] = [compute_idf(int(df), N=n_docs) for df in doc_freq[present]]
        tfc = _select_tfc_scorer(self.method)(
            tf_array=tf.astype(self.dtype),
            l_d=doc_len[doc_idx],
            l_avg=avg_doc_len,
            k1=self.k1,
            b=self.b,
            delta=self.delta,
        )
        indptr = np.zeros(n_vocab + 1, dtype=np.int64)
        np.cumsum(doc_freq, out=indptr[1:])
        return {
            "data": (idf[voc_idx] * tfc).astype(self.dtype),
            "indices": doc_idx.astype(self.int_dtype),
            "indptr": indptr,
            "num_docs": n_docs,
        }


def gather_runs(
    src: np.ndarray, src_starts: np.ndarray, lengths: np.ndarray, dst: np.ndarray, dst_starts: np.ndarray
) -> None:
    """Copy runs `src[src_starts[i]:+lengths[i]]` to `dst[dst_starts[i]:+lengths[i]]`, all at once."""
    total = int(lengths.sum())
    if not total:
        return
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    dst[np.repeat(dst_starts, lengths) + within] = src[np.repeat(src_starts, lengths) + within]
