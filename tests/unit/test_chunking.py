"""Tests for embeddings.chunking: token bounds, overlap, exact spans, oversized sentences and words."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest

from embeddings.articles import Article, Passage
from embeddings.chunking import ChunkingConfig, chunk_article
from embeddings.text import split_sentences
from tests.support.fakes import FakeEncoder

COUNT = FakeEncoder().count_tokens
WORDS = "the army said talks on trade and water resumed in Lahore after a storm hit the coast".split()


def _tokens(text: str) -> int:
    return COUNT([text])[0]


def _text(seed: int, sentences: int = 40) -> str:
    rng = random.Random(seed)
    out = []
    for _ in range(sentences):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 18))]
        out.append(" ".join(words).capitalize() + rng.choice([".", "!", "?", ", he said."]))
    return "  ".join(out) if seed % 2 else "\n".join(out)


def _chunk(text: str, config: ChunkingConfig) -> list[Passage]:
    return chunk_article(Article("a1", "Title", text), COUNT, config)


CONFIGS = [
    ChunkingConfig(size=40, overlap=10, max_tokens=256),
    ChunkingConfig(size=200, overlap=20, max_tokens=64, context_tokens=12),
    ChunkingConfig(size=16, overlap=0, max_tokens=64),
]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("seed", range(4))
def test_every_passage_fits_the_model_with_its_context(config: ChunkingConfig, seed: int) -> None:
    passages = _chunk(_text(seed), config)
    assert len(passages) > 1
    bound = min(config.size, config.max_tokens - config.context_tokens - 2)
    assert config.budget == bound
    assert max(_tokens(p.text) for p in passages) <= bound


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("seed", range(4))
def test_spans_are_exact_ordered_and_cover_the_text(config: ChunkingConfig, seed: int) -> None:
    article = Article("a1", "Title", _text(seed))
    passages = chunk_article(article, COUNT, config)
    assert [p.position for p in passages] == list(range(len(passages)))
    assert all(p.article_id == "a1" for p in passages)
    for p in passages:
        assert article.text[p.start : p.end] == p.text
        assert p.text == p.text.strip()
    covered = set()
    for p in passages:
        covered.update(range(p.start, p.end))
    assert all(i in covered for i, ch in enumerate(article.text) if not ch.isspace())


@pytest.mark.parametrize("seed", range(4))
def test_consecutive_passages_overlap_by_whole_sentences_within_the_overlap(seed: int) -> None:
    config = ChunkingConfig(size=40, overlap=12, max_tokens=256)
    text = _text(seed)
    starts = {s for s, _ in split_sentences(text)}
    passages = _chunk(text, config)
    overlapping = 0
    for prev, nxt in pairwise(passages):
        assert nxt.start > prev.start and nxt.end > prev.end  # always advances
        if nxt.start < prev.end:
            overlapping += 1
            assert nxt.start in starts  # the repeated part starts at a sentence
            assert _tokens(text[nxt.start : prev.end]) <= config.overlap
    assert overlapping > 0


def test_zero_overlap_never_repeats_text() -> None:
    passages = _chunk(_text(1), ChunkingConfig(size=30, overlap=0, max_tokens=256))
    assert all(nxt.start >= prev.end for prev, nxt in pairwise(passages))


def test_a_giant_sentence_is_cut_at_words_within_budget() -> None:
    rng = random.Random(7)
    text = " ".join(rng.choice(WORDS) for _ in range(1000)) + "."
    config = ChunkingConfig(size=32, overlap=8, max_tokens=64)
    passages = _chunk(text, config)
    assert len(passages) >= 1000 // 32
    for p in passages:
        assert _tokens(p.text) <= config.budget
        assert text[p.start : p.end] == p.text
        assert p.start == 0 or text[p.start - 1] == " "  # cut between words, not inside one


@pytest.mark.parametrize(("size", "overlap"), [(24, 0), (24, 6), (20, 5), (16, 0)])
def test_a_giant_word_is_cut_within_budget_and_neighbours_stay_trimmed(size: int, overlap: int) -> None:
    url = ("https://example.com/" + "ab/" * 2000)[:5000]
    assert _tokens(url) > 1000
    text = f"See {url} for details on the vote. A second sentence follows."
    config = ChunkingConfig(size=size, overlap=overlap, max_tokens=64)
    passages = _chunk(text, config)
    assert max(_tokens(p.text) for p in passages) <= config.budget
    assert all(text[p.start : p.end] == p.text and p.text == p.text.strip() for p in passages)
    inside_url = [p for p in passages if p.start >= 4 and p.end <= 4 + len(url)]
    assert len(inside_url) >= 1000 // config.budget
    assert passages[-1].text.endswith("A second sentence follows.")


@pytest.mark.parametrize("text", ["", "   ", "\n\n \t"])
def test_empty_or_blank_text_gives_no_passages(text: str) -> None:
    assert _chunk(text, ChunkingConfig()) == []


def test_a_short_text_is_one_passage() -> None:
    assert [p.text for p in _chunk("  One sentence only.  ", ChunkingConfig())] == ["One sentence only."]


@pytest.mark.parametrize(
    ("size", "overlap"),
    [(7, 0), (0, 0), (40, -1), (40, 40), (40, 41)],
)
def test_invalid_config_raises_value_error(size: int, overlap: int) -> None:
    with pytest.raises(ValueError, match=r"size|overlap"):
        ChunkingConfig(size=size, overlap=overlap)


def test_a_text_without_whitespace_is_cut_into_passages_like_any_other() -> None:
    """WordPiece (and the fake encoder) count a long run without whitespace as one token, whatever
    its length: such a run is cut into runs of at most MAX_WORD_CHARS counted like words."""
    from embeddings.chunking import MAX_WORD_CHARS

    rng = random.Random(0)
    text = "".join(rng.choice("abcdefghij") for _ in range(50_000))
    config = ChunkingConfig(size=20, overlap=0, max_tokens=64)

    passages = chunk_article(Article("blob", "Blob", text), COUNT, config)

    assert len(passages) > 1
    assert all(text[p.start : p.end] == p.text for p in passages)
    assert max(len(p.text) for p in passages) <= config.budget * MAX_WORD_CHARS
    assert passages[0].start == 0 and passages[-1].end == len(text)
    assert all(a.end == b.start for a, b in pairwise(passages))  # no overlap asked, nothing skipped


def test_a_long_run_inside_ordinary_text_is_cut_too() -> None:
    text = "A short sentence first. " + "x" * 1_000 + " and words after it."

    passages = chunk_article(Article("mixed", "Mixed", text), COUNT, ChunkingConfig(size=8, overlap=0))

    assert max(len(p.text) for p in passages) < 1_000
    assert "".join(text[p.start : p.end] for p in passages).replace(" ", "") == text.replace(" ", "")
