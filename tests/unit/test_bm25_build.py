"""Tests for the local backend's bm25_build: the array-built BM25 matrix is exactly the one bm25s builds."""

from __future__ import annotations

import random
from pathlib import Path

import bm25s
import numpy as np
import pytest
import Stemmer
from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings.backends.local.bm25_build import ArrayBM25, FlatTokens, gather_runs
from embeddings.readers import iter_articles

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
METHODS = ["lucene", "robertson", "atire", "bm25l", "bm25+"]

# bm25s divides by the average passage length, so a corpus with no token at all is left out
# (bm25s warns on it; see test_a_corpus_without_tokens_gives_an_empty_matrix).
corpora = st.integers(1, 12).flatmap(
    lambda vocab: st.tuples(
        st.just(vocab),
        st.lists(st.lists(st.integers(0, vocab - 1), max_size=15), min_size=1, max_size=20).filter(
            lambda docs: any(docs)
        ),
    )
)


def _built(retriever: bm25s.BM25, docs: list[list[int]] | FlatTokens, vocab_size: int) -> dict:
    vocab = {f"t{i}": i for i in range(vocab_size)}
    retriever.index(bm25s.tokenization.Tokenized(ids=docs, vocab=vocab), show_progress=False)  # type: ignore[arg-type]
    return retriever.scores


def _assert_same(ours: dict, theirs: dict) -> None:
    assert ours["num_docs"] == theirs["num_docs"]
    np.testing.assert_array_equal(ours["indptr"], theirs["indptr"])
    np.testing.assert_array_equal(ours["indices"], theirs["indices"])
    assert ours["data"].dtype == theirs["data"].dtype
    np.testing.assert_array_equal(ours["data"], theirs["data"])  # bit for bit


@settings(max_examples=150, deadline=None)
@given(corpus=corpora, method=st.sampled_from(METHODS))
def test_the_matrix_equals_bm25s_own_for_every_method(
    corpus: tuple[int, list[list[int]]], method: str
) -> None:
    vocab_size, docs = corpus  # some vocabulary ids used by no passage, some passages empty
    ours = _built(ArrayBM25(method=method), FlatTokens.from_lists(docs), vocab_size)
    theirs = _built(bm25s.BM25(method=method), docs, vocab_size)
    _assert_same(ours, theirs)


def test_lists_are_accepted_too() -> None:
    docs = [[0, 1, 1], [2], []]
    _assert_same(_built(ArrayBM25(), docs, 3), _built(bm25s.BM25(), docs, 3))


def test_a_corpus_without_tokens_gives_an_empty_matrix() -> None:
    scores = _built(ArrayBM25(), FlatTokens.from_lists([[], []]), 2)
    assert scores["num_docs"] == 2 and len(scores["data"]) == 0
    assert scores["indptr"].tolist() == [0, 0, 0]


def test_real_passages_score_and_rank_as_with_bm25s() -> None:
    texts = [a.text for a in iter_articles(sorted(SEEDS.glob("*.txt")))]
    texts += [t[i : i + 400] for t in texts for i in range(0, len(t), 300)]  # overlapping passages
    stemmer = Stemmer.Stemmer("english")
    ours, theirs = ArrayBM25(), bm25s.BM25()
    for retriever in (ours, theirs):  # each gets its own tokens: `index` adds "" to the vocabulary
        tokenized = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False)
        retriever.index(tokenized, show_progress=False)
    _assert_same(ours.scores, theirs.scores)
    for query in ("election results", "storm damage coast", "president visit talks"):
        q = bm25s.tokenize(query, stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)[0]
        np.testing.assert_allclose(ours.get_scores(q), theirs.get_scores(q), rtol=1e-6)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 4)), max_size=8),
    st.randoms(use_true_random=False),
)
def test_gather_runs_copies_each_run_like_slicing(runs: list[tuple[int, int]], rnd: random.Random) -> None:
    src = np.arange(100, 110)
    src_starts = np.array([min(s, 10 - n) for s, n in runs], dtype=np.int64)
    lengths = np.array([n for _, n in runs], dtype=np.int64)
    order = list(range(len(runs)))
    rnd.shuffle(order)  # runs land in the destination in any order
    dst_starts = np.zeros(len(runs), dtype=np.int64)
    position = 0
    for i in order:
        dst_starts[i], position = position, position + lengths[i]
    dst = np.full(position, -1)
    gather_runs(src, src_starts, lengths, dst, dst_starts)
    for s, n, d in zip(src_starts, lengths, dst_starts, strict=True):
        assert dst[d : d + n].tolist() == src[s : s + n].tolist()
    assert (dst >= 0).all()


@pytest.mark.parametrize("docs", [[[0, 2, 2], [], [1]], [[]]])
def test_flat_tokens_round_trip(docs: list[list[int]]) -> None:
    flat = FlatTokens.from_lists(docs)
    assert flat.passages == len(docs) and flat.to_lists() == docs
