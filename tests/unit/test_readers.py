"""Tests for embeddings.readers: seed pages, JSON records, folders, and what gets skipped."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from embeddings.articles import Article
from embeddings.errors import InvalidArticleError
from embeddings.readers import (
    Problem,
    derive_title,
    iter_articles,
    parse_date,
    parse_record,
    parse_text_article,
    read_articles,
)
from tests.support.timing import growth

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
BENCHMARK_CORPUS = REPO.parent / "shared" / "benchmarks" / "realtimeqa-2024q1" / "corpus.jsonl"

# stem -> (date, source, start of the title)
SEED_EXPECTATIONS = {
    "000_91bb215e419c199d": (
        dt.date(2023, 5, 25),
        "Azernews",
        "The First Deputy Minister of Defense – Chief of the General Staff",
    ),
    "001_367b22a23431d7a2": (
        dt.date(2023, 11, 1),
        "News.Az",
        "On November 1, Azerbaijan’s Defense Minister",
    ),
    "002_7518dc16ca897596": (
        dt.date(2023, 11, 1),
        "News.Az",
        "President of the Republic of Azerbaijan Ilham Aliyev has received",
    ),
    "003_3e890d727285aacb": (
        dt.date(2019, 12, 5),
        "News.Az",
        "Azerbaijan`s Minister of Defense, Colonel General Zakir Hasanov has met",
    ),
    "004_8998e6d75cc86e01": (
        dt.date(2021, 12, 2),
        "Azernews",
        "Azerbaijani Defence Minister Zakir Hasanov and Pakistani",
    ),
}


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def seed_articles() -> dict[str, Article]:
    articles, problems = read_articles([SEEDS])
    assert problems == []
    return {article.id: article for article in articles}


# --- seed pages ----------------------------------------------------------------------------------


def test_seed_folder_yields_every_seed_in_sorted_order() -> None:
    articles, problems = read_articles([SEEDS])
    assert problems == []
    assert [article.id for article in articles] == sorted(SEED_EXPECTATIONS)


@pytest.mark.parametrize("stem", sorted(SEED_EXPECTATIONS))
def test_seed_date_source_and_title(seed_articles: dict[str, Article], stem: str) -> None:
    date, source, title_start = SEED_EXPECTATIONS[stem]
    article = seed_articles[stem]
    assert article.date == date
    assert article.source == source
    assert article.title.startswith(title_start)
    assert len(article.title) <= 200
    assert not article.title.startswith("By ")
    assert article.path == str(SEEDS / f"{stem}.txt")
    assert article.url is None


@pytest.mark.parametrize("stem", sorted(SEED_EXPECTATIONS))
def test_seed_debris_is_removed_and_text_normalised(seed_articles: dict[str, Article], stem: str) -> None:
    text = seed_articles[stem].text
    assert "16 px" not in text
    assert "↺" not in text
    assert "date 20" not in text
    assert not text.startswith("By Azernews")
    assert text.splitlines()[-1].strip() not in {"News.Az", "News.az", "Azernews"}
    assert text == text.strip()
    assert "\n\n\n" not in text
    assert "\n\n" in text  # paragraph breaks survive


def test_seed_credit_sentences_stay_in_text(seed_articles: dict[str, Article]) -> None:
    assert "the Defense Ministry’s press service told News.Az." in seed_articles["001_367b22a23431d7a2"].text
    assert "Asim Munir, News.az reports." in seed_articles["002_7518dc16ca897596"].text
    assert seed_articles["000_91bb215e419c199d"].text.count("Azernews informs with reference to") == 1


def test_seed_author_byline_stays_in_text_but_not_in_title(seed_articles: dict[str, Article]) -> None:
    article = seed_articles["004_8998e6d75cc86e01"]
    assert article.text.startswith("By Vugar Khalilov\n\nAzerbaijani Defence Minister")
    assert "Vugar" not in article.title


def test_seed_titles_drop_trailing_credit_clause(seed_articles: dict[str, Article]) -> None:
    assert seed_articles["002_7518dc16ca897596"].title == (
        "President of the Republic of Azerbaijan Ilham Aliyev has received Chief of Pakıstan’s Army Staff "
        "Asim Munir."
    )
    assert "News.Az" not in seed_articles["001_367b22a23431d7a2"].title


def test_seed_long_first_sentence_is_cut_at_a_word_boundary(seed_articles: dict[str, Article]) -> None:
    title = seed_articles["000_91bb215e419c199d"].title
    assert title.endswith("…")
    assert len(title) <= 200
    stem = title.removesuffix("…")
    assert seed_articles["000_91bb215e419c199d"].text.startswith(stem)
    # the cut falls between words: the next character of the text is a space or punctuation
    assert not seed_articles["000_91bb215e419c199d"].text[len(stem)].isalnum()


# --- text pages ----------------------------------------------------------------------------------


def test_text_without_date_line_has_no_date_and_source_from_credit() -> None:
    article = parse_text_article(
        "Parliament passed the budget on Friday, NEWS.AZ reports.\n\nMore details.", article_id="a"
    )
    assert article.date is None
    assert article.source == "News.Az"
    assert article.title == "Parliament passed the budget on Friday."


def test_text_without_any_credit_has_no_source() -> None:
    article = parse_text_article("Parliament passed the budget on Friday.", article_id="a")
    assert article.source is None
    assert article.text == "Parliament passed the budget on Friday."


def test_date_line_with_body_on_following_lines() -> None:
    article = parse_text_article(" date 2024-02-29\nLeap day news arrived. Second.", article_id="a")
    assert article.date == dt.date(2024, 2, 29)
    assert article.text == "Leap day news arrived. Second."


def test_invalid_date_line_raises_with_line_location() -> None:
    with pytest.raises(InvalidArticleError) as caught:
        parse_text_article(" date 2023-13-45 Body.", article_id="a", path="x.txt")
    assert caught.value.location == "x.txt:1"
    assert "2023-13-45" in caught.value.reason


@pytest.mark.parametrize("line", ["Date: 2024-01-05", "date:2024-1-5", "\tdate 2024-01-05"])
def test_date_line_spellings_give_the_date_not_the_title(line: str) -> None:
    raw = f"{line}\nMayor resigns in Naples\nThe mayor resigned on Friday."
    article = parse_text_article(raw, article_id="a")
    assert article.date == dt.date(2024, 1, 5)
    assert article.title == "Mayor resigns in Naples"


@pytest.mark.parametrize("written", ["2024/01/05", "05.01.2024", "5-1-2024"])
def test_date_line_with_a_date_not_in_iso_form_is_refused(written: str) -> None:
    with pytest.raises(InvalidArticleError) as caught:
        parse_text_article(f"date {written}\nMayor resigns.\nBody.", article_id="a", path="x.txt")
    assert caught.value.location == "x.txt:1"
    assert written in caught.value.reason
    assert "YYYY-MM-DD" in caught.value.reason


@pytest.mark.parametrize(
    ("headline", "body"),
    [
        ("上海举办国际汽车展", "上海国际汽车展览会周二开幕，吸引了一千多家参展商。"),
        ("東京で地震", "東京で火曜日に地震があった。"),
    ],
)
def test_a_headline_in_a_script_without_spaces_is_the_title(headline: str, body: str) -> None:
    article = parse_text_article(f" date 2024-03-03\n{headline}\n{body}", article_id="a")
    assert article.title == headline


def test_an_unspaced_line_ending_a_sentence_is_no_headline() -> None:
    article = parse_text_article("東京で火曜日に地震があった。\n被害はなかった。", article_id="a")
    assert article.title.startswith("東京で火曜日に地震があった。")


def test_text_with_only_debris_raises() -> None:
    with pytest.raises(InvalidArticleError, match="no article text"):
        parse_text_article(" date 2023-11-01 + ↺ − 16 px\n\nNews.Az\n", article_id="a")


def test_text_is_normalised() -> None:
    raw = "\ufeff  First line.\r\n\r\n\r\n\r\nSecond   \r\nthird.\r\n\n\n"
    article = parse_text_article(raw, article_id="a")
    assert article.text == "First line.\n\nSecond\nthird."


def test_source_byline_is_dropped_and_sets_source() -> None:
    article = parse_text_article("by AzerNews\n\nThe talks ended.\n\nNews.Az", article_id="a")
    assert article.text == "The talks ended."
    assert article.source == "Azernews"  # the byline comes first


def test_mentions_that_are_not_credits_do_not_set_source() -> None:
    article = parse_text_article("A conference on news.az and other portals opened.", article_id="a")
    assert article.source is None


def test_text_over_max_chars_raises() -> None:
    with pytest.raises(InvalidArticleError, match="longer than 10"):
        parse_text_article("x" * 11, article_id="a", max_chars=10)


# --- titles --------------------------------------------------------------------------------------


def test_headline_like_first_line_becomes_title() -> None:
    text = "Army holds drills in Nakhchivan\n\nThe army held drills on Monday. Troops took part."
    assert derive_title(text) == "Army holds drills in Nakhchivan"


def test_wrapped_first_sentence_is_not_a_headline() -> None:
    text = "The army held drills\nin Nakhchivan on Monday. Troops took part."
    assert derive_title(text) == "The army held drills in Nakhchivan on Monday."


def test_author_byline_is_skipped_for_the_title() -> None:
    assert derive_title("By Vugar Khalilov\n\nTalks ended. More.") == "Talks ended."


def test_first_sentence_does_not_stop_at_abbreviations_or_initials() -> None:
    text = "Gen. A. Munir met U.S. officials in Baku. Then he left."
    assert derive_title(text) == "Gen. A. Munir met U.S. officials in Baku."


def test_title_cut_keeps_whole_words() -> None:
    text = " ".join(["word"] * 100) + "."
    title = derive_title(text)
    assert len(title) <= 200
    assert title.endswith("word…")


@pytest.mark.parametrize(
    "paragraph", [lambda n: "a" + "." * n + "b", lambda n: "A. " * (n // 3), lambda n: "A" + "?" * n + "b"]
)
def test_title_of_a_long_hostile_paragraph_is_found_in_linear_time(paragraph: Callable[[int], str]) -> None:
    # A run of dots, or thousands of initials: the first sentence's end was searched quadratically
    # (x64 for 8 times the text, x8 now), hours for the 2,000,000 characters an article may hold.
    assert 0 < len(derive_title(paragraph(20_000))) <= 200
    assert growth(lambda n: derive_title(paragraph(n)), 2_500) < 24


# --- JSON records --------------------------------------------------------------------------------


def test_record_fields_are_read() -> None:
    record = {
        "id": "abc",
        "title": " Title ",
        "text": "  Body text.  ",
        "date": "2024-01-05",
        "source": "USA Today",
        "url": "https://example.com/a",
    }
    article = parse_record(record, location="f.jsonl:1", path="f.jsonl")
    assert article == Article(
        id="abc",
        title="Title",
        text="Body text.",
        date=dt.date(2024, 1, 5),
        source="USA Today",
        url="https://example.com/a",
        path="f.jsonl",
    )


def test_record_aliases_int_id_and_canonical_source() -> None:
    record = {"id": 42, "body": "Body.", "published_at": "2024-01-05T10:00:00Z", "source": "news.az"}
    article = parse_record(record, location="f:1")
    assert (article.id, article.text, article.date, article.source) == (
        "42",
        "Body.",
        dt.date(2024, 1, 5),
        "News.Az",
    )


def test_record_without_id_gets_stable_content_id() -> None:
    record = {"title": "T", "text": "Body."}
    expected = hashlib.sha1(b"T\nBody.").hexdigest()[:16]
    assert parse_record(record, location="f:1").id == expected
    assert parse_record(dict(record), location="g:9").id == expected
    assert parse_record({"title": "T", "text": "Other."}, location="f:1").id != expected


def test_record_without_title_gets_derived_title() -> None:
    article = parse_record(
        {"id": "1", "text": "Markets fell sharply. Oil rose.", "title": None}, location="f:1"
    )
    assert article.title == "Markets fell sharply."


def test_record_null_or_missing_date_is_none() -> None:
    assert parse_record({"text": "A.", "date": None}, location="f:1").date is None
    assert parse_record({"text": "A."}, location="f:1").date is None


@pytest.mark.parametrize(
    "value",
    [
        "2024-01-05",
        "2024-01-05T10:00:00Z",
        "2024-01-05T10:00:00+02:00",
        "2024-01-05T23:59:59.123456-05:00",
        "2024-01-05 10:00",
        "20240105",
        "20240105T100000Z",
    ],
)
def test_iso_dates_keep_the_date_part(value: str) -> None:
    assert parse_date(value) == dt.date(2024, 1, 5)


@pytest.mark.parametrize(
    "value", ["2023-13-45", "2023-02-30", "2024-01-05T25:00", "05/01/2024", "yesterday", "2024-1-5x"]
)
def test_bad_dates_are_rejected(value: str) -> None:
    with pytest.raises(ValueError, match="invalid date"):
        parse_date(value)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (["not", "an", "object"], "not an object"),
        ({"title": "T"}, "missing text"),
        ({"text": "   "}, "empty text"),
        ({"text": 5}, "text is not a string"),
        ({"text": "A.", "date": "2023-13-45"}, "invalid date"),
        ({"text": "A.", "date": 20240105}, "date is not a string"),
        ({"text": "A.", "title": ["x"]}, "title is not a string"),
        ({"text": "A.", "id": True}, "id is not a string"),
        ({"text": "A.", "source": "S" * 501}, "source is longer than 500 characters"),
    ],
)
def test_bad_records_raise_with_location(record: object, reason: str) -> None:
    with pytest.raises(InvalidArticleError) as caught:
        parse_record(record, location="f.jsonl:3")  # type: ignore[arg-type]
    assert caught.value.location == "f.jsonl:3"
    assert reason in caught.value.reason


# --- files and folders ---------------------------------------------------------------------------


def test_jsonl_bad_lines_are_reported_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"id": "1", "text": "One."}),
                '{"id": "2", "text": ',
                "",
                json.dumps([1, 2]),
                json.dumps({"id": "5", "text": "Five.", "date": "2023-13-45"}),
                json.dumps({"id": "6", "text": "Six."}),
            ]
        ),
        encoding="utf-8",
    )
    articles, problems = read_articles([path])
    assert [article.id for article in articles] == ["1", "6"]
    assert [problem.location for problem in problems] == [f"{path}:2", f"{path}:4", f"{path}:5"]
    assert "invalid JSON" in problems[0].reason
    assert "not an object" in problems[1].reason
    assert "invalid date" in problems[2].reason


def test_jsonl_text_over_max_chars_is_skipped(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", [{"id": "1", "text": "x" * 50}, {"id": "2", "text": "short"}])
    articles, problems = read_articles([path], max_chars=20)
    assert [article.id for article in articles] == ["2"]
    assert problems == [Problem(f"{path}:1", "text longer than 20 characters (50)")]


def test_jsonl_huge_line_is_skipped_without_losing_the_next(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    huge = json.dumps({"id": "1", "text": "x" * 200_000})
    path.write_text(huge + "\n" + json.dumps({"id": "2", "text": "ok"}) + "\n", encoding="utf-8")
    articles, problems = read_articles([path], max_chars=100)
    assert [article.id for article in articles] == ["2"]
    assert problems == [Problem(f"{path}:1", "line too long")]


def test_text_file_far_over_max_chars_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 70_000, encoding="utf-8")
    articles, problems = read_articles([path], max_chars=10)
    assert articles == []
    assert problems == [Problem(str(path), "file too large: over 10 characters")]


def test_deeply_nested_json_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    articles, problems = read_articles([path])
    assert articles == []
    assert problems == [Problem(str(path), "invalid JSON: nested too deeply")]


def test_json_single_object_and_list(tmp_path: Path) -> None:
    single = tmp_path / "a.json"
    single.write_text(json.dumps({"id": "s", "text": "Single."}), encoding="utf-8")
    many = tmp_path / "b.json"
    many.write_text(json.dumps([{"id": "m1", "text": "M1."}, "junk", {"id": "m3", "text": "M3."}]))
    articles, problems = read_articles([tmp_path])
    assert [article.id for article in articles] == ["s", "m1", "m3"]
    assert problems == [Problem(f"{many}:[1]", "record is not an object (got str)")]
    assert articles[0].path == str(single)


@pytest.mark.parametrize(
    ("content", "reason"),
    [('{"id": "1", "text": "trunc', "invalid JSON"), ("42", "expected an object or a list")],
)
def test_bad_json_file_is_reported(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    articles, problems = read_articles([path])
    assert articles == []
    assert len(problems) == 1
    assert problems[0].location == str(path)
    assert reason in problems[0].reason


def test_folder_is_recursive_sorted_and_skips_hidden_and_other_files(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("Zed.", encoding="utf-8")
    (tmp_path / "a.txt").write_text("Ay.", encoding="utf-8")
    (tmp_path / "c.JSONL").write_text(json.dumps({"id": "c1", "text": "Cee."}), encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("Hidden.", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("Hidden too.", encoding="utf-8")
    (tmp_path / "notes.md").write_text("Not an article.", encoding="utf-8")
    articles, problems = read_articles([tmp_path])
    assert [article.id for article in articles] == ["a", "z", "c1"]
    assert problems == []


def test_an_id_read_twice_is_a_problem_and_the_first_article_is_kept(tmp_path: Path) -> None:
    for day, folder in (("01", "2024/03/01"), ("02", "2024/03/02")):  # two stories named story.txt
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "story.txt").write_text(f" date 2024-03-{day}\nStory of day {day}.\n")
    feed = write_jsonl(
        tmp_path / "feed.jsonl", [{"id": "k", "text": "First."}, {"id": "k", "text": "Again."}]
    )

    articles, problems = read_articles([tmp_path / "2024", feed])

    assert [(a.id, a.text) for a in articles] == [("story", "Story of day 01."), ("k", "First.")]
    first = tmp_path / "2024" / "03" / "01" / "story.txt"
    assert problems == [
        Problem(
            str(tmp_path / "2024" / "03" / "02" / "story.txt"),
            f"id 'story' was already read from {first}",
            repeated=True,
        ),
        Problem(f"{feed}:2", f"id 'k' was already read from {feed}:1", repeated=True),
    ]


def test_missing_path_and_unsupported_file_are_problems(tmp_path: Path) -> None:
    other = tmp_path / "notes.md"
    other.write_text("x", encoding="utf-8")
    good = tmp_path / "good.txt"
    good.write_text("Good.", encoding="utf-8")
    articles, problems = read_articles([tmp_path / "nope", other, good])
    assert [article.id for article in articles] == ["good"]
    assert problems[0] == Problem(str(tmp_path / "nope"), "no such file or directory")
    assert problems[1].location == str(other)
    assert "unsupported file type" in problems[1].reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("Line one.\nCafé au lait.".encode("latin-1"), "not valid UTF-8"),
        ("Hello there.".encode("utf-16"), "UTF-16 text"),
        ("Hello there.".encode("utf-16-be"), "NUL"),
        ("Hello there.".encode("utf-16-le"), "NUL"),
    ],
)
def test_wrongly_encoded_text_file_is_reported(tmp_path: Path, data: bytes, reason: str) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(data)
    (tmp_path / "good.txt").write_text("Good.", encoding="utf-8")
    articles, problems = read_articles([tmp_path])
    assert [article.id for article in articles] == ["good"]
    assert len(problems) == 1
    assert problems[0].location.startswith(str(bad))
    assert reason in problems[0].reason


@pytest.mark.parametrize("suffix", [".txt", ".json", ".jsonl"])
def test_a_utf16_file_with_a_byte_order_mark_is_one_problem_that_names_utf16(
    tmp_path: Path, suffix: str
) -> None:
    lines = [json.dumps({"id": f"r{n}", "text": "Storm hits the coast."}) for n in range(3)]
    bad = tmp_path / f"feed{suffix}"
    bad.write_bytes(("\n".join(lines) if suffix == ".jsonl" else lines[0]).encode("utf-16"))
    (tmp_path / "good.txt").write_text("Good.", encoding="utf-8")
    articles, problems = read_articles([tmp_path])
    assert [article.id for article in articles] == ["good"]
    assert problems == [
        Problem(str(bad), "UTF-16 text (it starts with a UTF-16 byte-order mark): save it as UTF-8")
    ]


def test_latin1_error_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes("Line one.\nCafé.".encode("latin-1"))
    _, problems = read_articles([bad])
    assert problems[0].location == f"{bad}:2"


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeff date 2024-01-05 Body.".encode())
    articles, problems = read_articles([path])
    assert problems == []
    assert articles[0].date == dt.date(2024, 1, 5)


def test_iter_articles_is_lazy(tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "a.jsonl", [{"id": "1", "text": "One."}, {"id": "2", "text": "Two."}])
    problems: list[Problem] = []
    stream = iter_articles([good, tmp_path / "missing"], on_problem=problems.append)
    assert next(stream).id == "1"
    assert problems == []  # the missing path has not been looked at yet
    assert [article.id for article in stream] == ["2"]
    assert [problem.reason for problem in problems] == ["no such file or directory"]


def test_problems_are_logged_without_callback(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="embeddings.readers"):
        assert list(iter_articles([tmp_path / "missing"])) == []
    assert "no such file or directory" in caplog.text


def test_problem_is_frozen_and_readable() -> None:
    problem = Problem("f.jsonl:3", "invalid JSON")
    assert str(problem) == "f.jsonl:3: invalid JSON"
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.reason = "other"  # type: ignore[misc]


@pytest.mark.skipif(not BENCHMARK_CORPUS.exists(), reason="benchmark corpus not present")
def test_benchmark_corpus_reads_completely() -> None:
    articles, problems = read_articles([BENCHMARK_CORPUS])
    assert problems == []
    assert len(articles) == 2450
    assert len({article.id for article in articles}) == 2450
    assert all(article.title and article.text for article in articles)
    assert sum(article.date is None for article in articles) == 44


def test_records_without_an_id_keep_syndicated_copies_apart() -> None:
    text = "The central bank raised rates by half a point on Tuesday."
    reuters = parse_record({"title": "Rates up", "text": text, "source": "Reuters"}, location="a")
    ap = parse_record({"title": "Rates up", "text": text, "source": "AP"}, location="b")
    linked = parse_record({"title": "Rates up", "text": text, "url": "https://example.org/x"}, location="c")
    bare = parse_record({"title": "Rates up", "text": text}, location="d")
    redated = parse_record(
        {"title": "Rates up", "text": text, "source": "AP", "date": "2024-01-02"}, location="e"
    )

    assert len({reuters.id, ap.id, linked.id, bare.id}) == 4  # one article each
    assert redated.id == ap.id  # a corrected date updates the article
    assert bare.id == hashlib.sha1(f"Rates up\n{text}".encode()).hexdigest()[:16]  # as before


@pytest.mark.parametrize("text", ["\u200b\u200b", "\u0001\u0002", "\u202e", "— … —"])
def test_a_text_without_a_letter_or_digit_is_refused(text: str) -> None:
    with pytest.raises(InvalidArticleError, match="no letters or digits"):
        parse_record({"id": "x", "title": "X", "text": text}, location="x")
