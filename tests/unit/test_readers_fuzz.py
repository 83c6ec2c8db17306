"""Property tests for embeddings.readers: bad input is reported and skipped, never raised."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings.articles import Article
from embeddings.errors import InvalidArticleError
from embeddings.readers import Problem, derive_title, parse_record, parse_text_article, read_articles

FUZZ = settings(max_examples=100, deadline=None)
GOOD_RECORD = {"id": "good", "title": "Good", "text": "A valid article.", "date": "2024-01-05"}

# Each Latin-1 letter is followed by an ASCII one, so no byte pair happens to be valid UTF-8.
latin1_text = st.lists(st.characters(min_codepoint=0xA0, max_codepoint=0xFF), min_size=1, max_size=20).map(
    lambda letters: "".join(letter + "a" for letter in letters)
)
bad_month_day = st.one_of(
    st.tuples(st.integers(13, 99), st.integers(1, 28)),
    st.tuples(st.integers(1, 12), st.integers(32, 99)),
    st.tuples(st.just(0), st.integers(1, 28)),
    st.tuples(st.just(2), st.integers(30, 31)),
)


@contextmanager
def folder_with_good_file() -> Iterator[Path]:
    """A temporary folder holding one valid .jsonl file, `0_good.jsonl` (sorted first)."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "0_good.jsonl").write_text(json.dumps(GOOD_RECORD) + "\n", encoding="utf-8")
        yield folder


def read_beside_good(folder: Path, bad: Path, **kwargs: int) -> tuple[list[Article], list[Problem]]:
    """Read the folder; the good article must always come through, whatever `bad` holds."""
    articles, problems = read_articles([folder], **kwargs)
    assert articles[0].id == "good"
    assert all(article.path == str(bad) for article in articles[1:])
    assert all(problem.location.startswith(str(bad)) for problem in problems)
    return articles, problems


@FUZZ
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".txt", ".jsonl", ".json"]))
def test_random_bytes_never_raise(data: bytes, suffix: str) -> None:
    with folder_with_good_file() as folder:
        bad = folder / f"1_bad{suffix}"
        bad.write_bytes(data)
        articles, problems = read_beside_good(folder, bad)
        if suffix == ".txt":  # one file, one outcome: an article or a problem
            assert len(articles) - 1 + len(problems) == 1
        for article in articles:
            assert article.title and article.text


@FUZZ
@given(
    prefix=st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=30),
    accented=latin1_text,
    suffix=st.sampled_from([".txt", ".jsonl", ".json"]),
)
def test_latin1_files_are_reported(prefix: str, accented: str, suffix: str) -> None:
    text = prefix + accented
    with folder_with_good_file() as folder:
        bad = folder / f"1_bad{suffix}"
        bad.write_bytes(json.dumps({"text": text}, ensure_ascii=False).encode("latin-1"))
        articles, problems = read_beside_good(folder, bad)
        assert len(articles) == 1
        assert len(problems) == 1
        assert "UTF-8" in problems[0].reason


@FUZZ
@given(text=st.text(max_size=60), encoding=st.sampled_from(["utf-16", "utf-16-le", "utf-16-be"]))
def test_utf16_files_are_reported(text: str, encoding: str) -> None:
    with folder_with_good_file() as folder:
        bad = folder / "1_bad.txt"
        # ASCII letters in UTF-16 carry NUL bytes; without them UTF-16 can happen to be valid UTF-8.
        bad.write_bytes(f"News of the day. {text}".encode(encoding))
        articles, problems = read_beside_good(folder, bad)
        assert len(articles) == 1
        assert len(problems) == 1


@FUZZ
@given(
    record=st.fixed_dictionaries(
        {"id": st.text(max_size=10), "title": st.text(max_size=20), "text": st.text(min_size=1, max_size=80)}
    ),
    cut=st.floats(0.0, 1.0, exclude_max=True),
    suffix=st.sampled_from([".jsonl", ".json"]),
)
def test_truncated_json_is_reported(record: dict[str, str], cut: float, suffix: str) -> None:
    encoded = json.dumps(record)
    truncated = encoded[: max(1, int(len(encoded) * cut))]
    with folder_with_good_file() as folder:
        bad = folder / f"1_bad{suffix}"
        bad.write_text(truncated, encoding="utf-8")
        articles, problems = read_beside_good(folder, bad)
        assert len(articles) == 1
        assert len(problems) == 1
        assert "invalid JSON" in problems[0].reason


@FUZZ
@given(extra=st.integers(1, 5_000), valid_after=st.booleans())
def test_oversized_texts_are_reported(extra: int, valid_after: bool) -> None:
    max_chars = 1_000
    with folder_with_good_file() as folder:
        big = "x" * (max_chars + extra)
        bad_lines = folder / "1_bad.jsonl"
        lines = [json.dumps({"id": "big", "text": big})]
        if valid_after:
            lines.append(json.dumps({"id": "after", "text": "Short."}))
        bad_lines.write_text("\n".join(lines), encoding="utf-8")
        (folder / "2_bad.txt").write_text(big, encoding="utf-8")
        articles, problems = read_articles([folder], max_chars=max_chars)
        assert [article.id for article in articles] == ["good"] + (["after"] if valid_after else [])
        assert [problem.location for problem in problems] == [f"{bad_lines}:1", str(folder / "2_bad.txt")]


@FUZZ
@given(year=st.integers(1000, 9999), month_day=bad_month_day, in_text=st.booleans())
def test_impossible_dates_are_reported(year: int, month_day: tuple[int, int], in_text: bool) -> None:
    month, day = month_day
    date = f"{year:04d}-{month:02d}-{day:02d}"
    with folder_with_good_file() as folder:
        if in_text:
            bad = folder / "1_bad.txt"
            bad.write_text(f" date {date} Body text.", encoding="utf-8")
        else:
            bad = folder / "1_bad.jsonl"
            bad.write_text(
                json.dumps({"text": "Body.", "published_at": f"{date}T10:00:00Z"}), encoding="utf-8"
            )
        articles, problems = read_beside_good(folder, bad)
        assert len(articles) == 1
        assert len(problems) == 1
        assert date in problems[0].reason


@FUZZ
@given(raw=st.text(max_size=400))
def test_parse_text_article_only_raises_invalid_article(raw: str) -> None:
    try:
        article = parse_text_article(raw, article_id="x")
    except InvalidArticleError:
        return
    assert article.text == article.text.strip()
    assert article.text
    assert "\n\n\n" not in article.text
    assert 0 < len(article.title) <= 200


@FUZZ
@given(text=st.text(min_size=1, max_size=600).filter(str.strip))
def test_derived_titles_are_short_and_non_empty(text: str) -> None:
    title = derive_title(text.strip())
    assert 0 < len(title) <= 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@FUZZ
@given(
    record=st.dictionaries(
        st.sampled_from(["id", "title", "text", "body", "date", "published_at", "source", "url", "x"]),
        json_values,
        max_size=8,
    )
)
def test_parse_record_only_raises_invalid_article(record: dict[str, object]) -> None:
    try:
        article = parse_record(record, location="f:1")
    except InvalidArticleError as exc:
        assert exc.location == "f:1"
        return
    assert article.id
    assert article.title
    assert article.text == article.text.strip()
