"""Tests for qa.service.QAService over a fake encoder: filters, time windows, duplicates, writes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import inspect
import itertools
import math
import sqlite3
import weakref
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from embeddings.articles import Article
from embeddings.chunking import ChunkingConfig
from embeddings.errors import ArticleNotFoundError, IndexNotFoundError
from qa.hits import RelatedCopy
from qa.retrieval import RetrievalConfig
from qa.service import QAService
from tests.support.articles import SHARED_PARAGRAPH
from tests.support.backends import BACKENDS_AT
from tests.support.fakes import FakeEncoder
from tests.support.services import build_service

LATER = dt.date(2025, 1, 1)  # an as-of date after every article, so nothing is hidden


def by_id(articles: Sequence[Article]) -> dict[str, Article]:
    return {a.id: a for a in articles}


# --- ask ---------------------------------------------------------------------------------------


def test_ask_returns_k_hits_with_their_articles_metadata(service: QAService, articles: list[Article]) -> None:
    known = by_id(articles)

    answer = service.ask("Which station did the Baku metro open?", k=4, as_of=LATER)

    assert len(answer.hits) == 4
    assert answer.hits[0].article_id == "metro-opening"
    for hit in answer.hits:
        article = known[hit.article_id]
        assert (hit.title, hit.date, hit.source, hit.url) == (
            article.title,
            article.date,
            article.source,
            article.url,
        )
        assert hit.text and article.text[hit.start : hit.end] == hit.text
        assert isinstance(hit.score, float) and math.isfinite(hit.score)  # learned scores may be negative
        assert hit.highlight in hit.text
    scores = [h.score for h in answer.hits]
    assert scores == sorted(scores, reverse=True)


def test_ask_strips_the_question_and_reports_it(service: QAService) -> None:
    answer = service.ask("  football derby  ", k=1, as_of=LATER)

    assert answer.question == "football derby"
    assert answer.as_of == LATER
    assert answer.hits[0].article_id == "football-win"


def test_ask_defaults_as_of_to_today(service: QAService) -> None:
    assert service.ask("metro", k=1).as_of == dt.date.today()


def test_search_returns_the_hits_of_ask(service: QAService) -> None:
    question = "cotton harvest farmers"
    assert service.search(question, 3, as_of=LATER) == service.ask(question, 3, as_of=LATER).hits


@pytest.mark.parametrize("method", [QAService.search, QAService.ask_batch])
def test_search_and_ask_batch_name_the_filters_of_ask(method: object) -> None:
    """Named, not passed through as **filters: a type checker checks a script's filters, and a
    misspelt one is refused by the method called."""

    def keywords(function: object) -> dict[str, object]:
        parameters = inspect.signature(function).parameters.values()  # type: ignore[arg-type]
        return {p.name: p.annotation for p in parameters if p.kind is p.KEYWORD_ONLY}

    assert keywords(method) == keywords(QAService.ask)


def test_a_misspelt_filter_is_refused_by_search(service: QAService) -> None:
    with pytest.raises(TypeError, match="search"):
        service.search("metro", 3, sorces=["Wire"])  # type: ignore[call-arg]


def test_since_and_until_are_hard_filters(service: QAService) -> None:
    since, until = dt.date(2023, 11, 1), dt.date(2023, 11, 30)

    hits = service.ask("metro station in Baku", k=4, since=since, until=until, as_of=LATER).hits

    # Four November articles exist (metro, defense, both pipeline copies) and undated ones are excluded.
    assert len(hits) == 4
    assert all(h.date is not None and since <= h.date <= until for h in hits)
    assert "archive-note" not in {h.article_id for h in hits}


def test_sources_filter_keeps_only_those_sources(service: QAService) -> None:
    hits = service.ask("metro station in Baku", k=3, sources=["reuters"], as_of=LATER).hits

    assert len(hits) == 3  # football-win plus passages of quake-report
    assert {h.source for h in hits} == {"Reuters"}


def test_filters_still_return_k_when_distractors_outrank_every_match(
    tmp_path: Path, fake_encoder: FakeEncoder
) -> None:
    # Forty old articles match the question better than the three recent ones; with only a dozen
    # candidates, filtering after the search would leave nothing. The filter must apply inside it.
    old = [
        Article(
            f"old-{n:02d}",
            f"Harbour bridge opening {n}",
            f"The harbour bridge opening ceremony drew crowds to the harbour bridge, report {n}.",
            dt.date(2022, 3, 1) + dt.timedelta(days=n),
            "Old Times",
        )
        for n in range(40)
    ]
    recent = [
        Article(
            f"new-{n}",
            f"City council news {n}",
            f"The city council discussed budgets and a bridge repair, item {n}.",
            dt.date(2024, 1, 10 + n),
            "City Paper",
        )
        for n in range(3)
    ]
    qa = build_service(tmp_path / "index", fake_encoder, retrieval=RetrievalConfig(candidates=10))
    qa.add(old + recent)
    question = "When was the harbour bridge opening ceremony?"
    assert all(h.article_id.startswith("old-") for h in qa.ask(question, k=3, as_of=LATER).hits)

    by_date = qa.ask(question, k=3, since=dt.date(2024, 1, 1), as_of=LATER).hits
    by_source = qa.ask(question, k=3, sources=["City Paper"], as_of=LATER).hits
    until = qa.ask(question, k=3, until=dt.date(2022, 3, 2), as_of=LATER).hits

    assert sorted(h.article_id for h in by_date) == ["new-0", "new-1", "new-2"]
    assert sorted(h.article_id for h in by_source) == ["new-0", "new-1", "new-2"]
    assert sorted(h.article_id for h in until) == ["old-00", "old-01"]  # only two exist


def test_as_of_hides_later_articles_but_keeps_undated_ones(service: QAService) -> None:
    as_of = dt.date(2023, 11, 1)

    hits = service.ask("metro station history", k=20, as_of=as_of).hits

    ids = {h.article_id for h in hits}
    assert "archive-note" in ids  # undated
    assert "metro-opening" in ids  # published on the as-of date itself
    assert ids.isdisjoint({"defense-visit", "pipeline-a", "pipeline-b", "quake-report"})
    assert all(h.date is None or h.date <= as_of for h in hits)


@pytest.mark.parametrize(
    "config",
    [
        # hand-set: articles inside the window are preferred (time_boost)
        RetrievalConfig(ranking="weights"),
        # learned: the train split's questions seldom name dates, so the ranker weighs the window
        # lightly; time_filter makes it a requirement
        RetrievalConfig(ranking="learned", time_filter=True),
    ],
)
def test_time_expression_in_the_question_is_interpreted_and_preferred(
    service: QAService, config: RetrievalConfig
) -> None:
    service.retrieval = config
    try:
        answer = service.ask("What happened in November 2023?", k=3, as_of=LATER)
    finally:
        service.retrieval = RetrievalConfig()

    assert answer.interpreted is not None
    assert answer.interpreted.since == dt.date(2023, 11, 1)
    assert answer.interpreted.until == dt.date(2023, 11, 30)
    assert "November 2023" in answer.interpreted.text
    assert all(h.date is not None and h.date.month == 11 and h.date.year == 2023 for h in answer.hits)


def test_explicit_since_until_override_the_questions_time_expression(service: QAService) -> None:
    since, until = dt.date(2023, 5, 1), dt.date(2023, 8, 31)

    answer = service.ask("What happened in November 2023?", k=2, since=since, until=until, as_of=LATER)

    assert answer.interpreted is not None and answer.interpreted.set_aside  # said, not used
    assert answer.interpreted.inside == 0  # no hit is from November: the explicit dates decided
    assert {h.article_id for h in answer.hits} == {"cotton-harvest", "football-win"}


def test_interpret_false_ignores_time_expressions(service: QAService) -> None:
    assert service.ask("news in November 2023", k=1, as_of=LATER, interpret=False).interpreted is None


def test_syndicated_copies_collapse_into_one_hit_listing_the_other(service: QAService) -> None:
    hits = service.ask("Caspian pipeline crude oil exports", k=5, as_of=LATER).hits

    shared = [h for h in hits if h.text == SHARED_PARAGRAPH]
    assert len(shared) == 1
    (hit,) = shared
    assert hit.article_id in {"pipeline-a", "pipeline-b"}
    assert hit.duplicates == tuple({"pipeline-a", "pipeline-b"} - {hit.article_id})
    assert all(h.duplicates == () for h in hits if h is not hit)


def test_source_names_are_matched_without_surrounding_spaces_and_empty_ones_ask_nothing(
    service: QAService,
) -> None:
    def sources(names: list[str]) -> set[str | None]:
        return {h.source for h in service.ask("Baku metro station", k=8, sources=names, as_of=LATER).hits}

    assert sources([" news.az "]) == sources(["News.Az"]) == {"News.Az"}
    assert sources(["", " "]) == sources([]) and len(sources([])) > 1


def test_an_answer_names_the_sources_asked_for_that_no_article_is_from(service: QAService) -> None:
    def unknown(names: list[str] | None) -> tuple[str, ...]:
        return service.ask("Baku metro station", k=3, sources=names, as_of=LATER).unknown_sources

    assert unknown(["Reuter", "news.az", " Nobody ", "reuter", "Reuter"]) == ("Reuter", "Nobody")
    assert unknown(["NEWS.AZ", "reuters"]) == unknown(None) == unknown([" "]) == ()
    answer = service.ask("Baku metro station", k=3, sources=["Reuter", "News.Az"], as_of=LATER)
    assert answer.to_dict()["unknown_sources"] == ["Reuter"] and answer.hits  # News.Az still answers


def test_a_hits_copies_are_only_those_its_filters_admit(tmp_path: Path) -> None:
    """A copy published after `as_of`, or from a source or dates not asked for, is not named."""
    qa = build_service(tmp_path / "index", FakeEncoder())
    copies = [("early", dt.date(2023, 1, 1), "Early"), ("also", dt.date(2023, 2, 1), "Also"),
              ("late", dt.date(2025, 6, 1), "Late"), ("undated", None, "Early")]  # fmt: skip
    qa.add([Article(i, f"Pipeline report {i}", SHARED_PARAGRAPH, d, src) for i, d, src in copies])

    def named(**filters: object) -> set[str]:
        (hit,) = qa.ask("Caspian pipeline crude oil exports", k=1, **filters).hits  # type: ignore[arg-type]
        sources = {i: src for i, _, src in copies}
        assert [(c.article_id, c.source) for c in hit.copies] == [(i, sources[i]) for i in hit.duplicates]
        return {hit.article_id, *hit.duplicates}

    assert named(as_of=dt.date(2026, 1, 1)) == {"early", "also", "late", "undated"}
    assert named(as_of=dt.date(2024, 1, 1)) == {"early", "also", "undated"}
    assert named(as_of=dt.date(2026, 1, 1), sources=["early"]) == {"early", "undated"}  # any case
    assert named(as_of=dt.date(2026, 1, 1), since=dt.date(2023, 1, 15)) == {"also", "late"}
    assert named(as_of=dt.date(2026, 1, 1), until=dt.date(2023, 1, 15)) == {"early"}


def test_without_collapsing_both_copies_are_returned(tmp_path: Path, articles: list[Article]) -> None:
    qa = build_service(
        tmp_path / "index", FakeEncoder(), retrieval=RetrievalConfig(collapse_duplicates=False)
    )
    qa.add(articles)

    hits = qa.ask("Caspian pipeline crude oil exports", k=5, as_of=LATER).hits

    # each copy is its own hit (and may extend over its own article's next passage)
    assert sorted(h.article_id for h in hits if SHARED_PARAGRAPH in h.text) == ["pipeline-a", "pipeline-b"]


def test_max_per_article_caps_passages_of_one_article(tmp_path: Path, articles: list[Article]) -> None:
    question = "earthquake in the mountain villages"
    # quake-report has four passages, each about the earthquake.
    default = build_service(tmp_path / "one", FakeEncoder())
    default.add(articles)
    two = build_service(tmp_path / "two", FakeEncoder(), retrieval=RetrievalConfig(max_per_article=2))
    two.add(articles)

    hits_one = default.ask(question, k=4, as_of=LATER).hits
    hits_two = two.ask(question, k=4, as_of=LATER).hits

    assert hits_one[0].article_id == "quake-report"
    assert [h.article_id for h in hits_one].count("quake-report") == 1
    assert len(hits_one) == 4
    assert len(hits_two) == 4
    # two passages of it: next to each other, they show as one card over both (no text twice)
    [one] = [h for h in hits_one if h.article_id == "quake-report"]
    both = [h for h in hits_two if h.article_id == "quake-report"]
    assert sum(h.end - h.start for h in both) > one.end - one.start
    single = build_service(
        tmp_path / "single", FakeEncoder(), retrieval=RetrievalConfig(max_per_article=2, merge_adjacent=False)
    )
    single.add(articles)
    assert [h.article_id for h in single.ask(question, k=4, as_of=LATER).hits].count("quake-report") == 2


def test_passages_over_the_cap_fill_in_only_when_nothing_else_is_left(service: QAService) -> None:
    hits = service.ask("earthquake in the mountain villages", k=15, as_of=LATER).hits

    ids = [h.article_id for h in hits]
    # every article shows: its first passage first, its further ones (the rest of the 15, one
    # syndicated copy collapsed) in the card they touch, so here each article once
    assert len(set(ids)) == len(ids) == 8
    reader = service.reader()
    shown = {(h.article_id, h.start, h.end) for h in hits}
    collapsed = 0
    for article in set(ids) | {"pipeline-b"}:
        for row in reader.passages(reader.article_passages(article).tolist()).values():
            inside = any(a == article and s <= row.start and row.end <= e for a, s, e in shown)
            collapsed += not inside
    assert collapsed == 1


# --- related, article ---------------------------------------------------------------------------


def test_related_never_contains_the_article_itself_and_is_sorted(
    service: QAService, articles: list[Article]
) -> None:
    copies = {"pipeline-a", "pipeline-b"}
    for article in articles:
        related = service.related(article.id, k=10)

        ids = [r.article_id for r in related]
        assert article.id not in ids
        # every other article, the two syndicated copies shown once, or neither when one is the
        # article (the other is its own copy: `copies`)
        assert len(ids) == len(set(ids)) == len(articles) - 2
        assert (article.id in copies) == (not copies & set(ids))
        scores = [r.score for r in related]
        assert scores == sorted(scores, reverse=True)


def test_an_articles_syndicated_copy_is_listed_apart_with_its_metadata(
    service: QAService, articles: list[Article]
) -> None:
    copy = by_id(articles)["pipeline-b"]

    assert service.copies("pipeline-a") == [RelatedCopy(copy.id, copy.date, copy.source, copy.url)]
    service.retrieval = RetrievalConfig(collapse_duplicates=False)
    try:
        top = service.related("pipeline-a", k=2)[0]  # not folded apart: the closest article of all
    finally:
        service.retrieval = RetrievalConfig()
    assert (top.article_id, top.title, top.date, top.source, top.url) == (
        copy.id,
        copy.title,
        copy.date,
        copy.source,
        copy.url,
    )
    with pytest.raises(ArticleNotFoundError):
        service.copies("no-such-article")


def test_article_returns_the_indexed_article(service: QAService, articles: list[Article]) -> None:
    stored = service.article("archive-note")
    original = by_id(articles)["archive-note"]

    assert (stored.id, stored.title, stored.text, stored.date, stored.source, stored.url) == (
        original.id,
        original.title,
        original.text,
        None,
        None,
        None,
    )


def test_unknown_article_raises_article_not_found(service: QAService) -> None:
    with pytest.raises(ArticleNotFoundError, match="nope"):
        service.article("nope")
    with pytest.raises(ArticleNotFoundError, match="nope"):
        service.related("nope")


def test_asking_without_an_index_raises_index_not_found(tmp_path: Path) -> None:
    qa = build_service(tmp_path / "empty", FakeEncoder())

    assert not qa.exists()
    with pytest.raises(IndexNotFoundError, match="qa index"):
        qa.ask("anything")


# --- writes ---------------------------------------------------------------------------------------


def test_added_article_is_visible_to_the_next_query(service: QAService) -> None:
    question = "zeppelin airship landing"
    assert all(h.article_id != "zeppelin" for h in service.ask(question, k=3, as_of=LATER).hits)

    report = service.add(
        [
            Article(
                "zeppelin",
                "Zeppelin lands",
                "A zeppelin airship made a landing in Ganja.",
                dt.date(2024, 3, 1),
            )
        ]
    )

    assert report.added == ["zeppelin"]
    assert service.ask(question, k=3, as_of=LATER).hits[0].article_id == "zeppelin"
    assert service.stats()["articles"] == 9


def test_updated_article_replaces_its_passages(service: QAService, articles: list[Article]) -> None:
    old = by_id(articles)["football-win"]
    new = dataclasses.replace(old, text="Qarabag lost the volleyball final in a tie break.")

    report = service.add([new])

    assert report.updated == ["football-win"]
    assert service.article("football-win").text == new.text
    hit = service.ask("volleyball final tie break", k=1, as_of=LATER).hits[0]
    assert (hit.article_id, hit.text) == ("football-win", new.text)
    assert all("derby" not in h.text for h in service.ask("football derby", k=10, as_of=LATER).hits)


def test_deleted_article_disappears_from_the_next_query(service: QAService) -> None:
    assert service.ask("football derby goals", k=1, as_of=LATER).hits[0].article_id == "football-win"

    report = service.delete(["football-win", "never-indexed"])

    assert report.deleted == ["football-win"]
    assert report.missing == ["never-indexed"]
    assert "football-win" not in {h.article_id for h in service.ask("football derby", k=20, as_of=LATER).hits}
    with pytest.raises(ArticleNotFoundError):
        service.article("football-win")
    assert service.stats()["articles"] == 7


def test_writes_by_another_service_are_seen(service: QAService, fake_encoder: FakeEncoder) -> None:
    other = build_service(service.backend.root, fake_encoder)

    other.delete(["cotton-harvest"])

    assert "cotton-harvest" not in {h.article_id for h in service.ask("cotton", k=20, as_of=LATER).hits}


def test_a_superseded_version_is_released_when_no_request_holds_it(service: QAService) -> None:
    """Without waiting for the cycle collector: a server that publishes a version per write would
    otherwise keep old versions' files (deleted from disk) mapped, its memory growing between collections."""
    service.ask("cotton harvest", k=3, as_of=LATER)
    old = service.reader()
    parts = [weakref.ref(part) for part in (old, old.lexical, old.rows, old.store)]
    connection = old.rows._conn
    del old
    gc.disable()
    try:
        service.delete(["cotton-harvest"])
        service.ask("cotton harvest", k=3, as_of=LATER)

        assert [part() for part in parts] == [None] * 4
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            connection.execute("SELECT 1")
    finally:
        gc.enable()


def test_stats_and_check_describe_the_index(service: QAService) -> None:
    stats = service.stats()

    assert stats["articles"] == 8
    assert stats["passages"] == 15
    assert stats["model"] == "fake@0:test"
    assert stats["dim"] == 64
    assert stats["sources"] == {"News.Az": 3, "Azernews": 2, "Reuters": 2}
    assert service.check() == []


# --- query cache ------------------------------------------------------------------------------------


@pytest.fixture
def query_calls(service: QAService, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every batch of questions the service's encoder is asked to embed."""
    calls: list[list[str]] = []
    encode = service.encoder.encode_queries

    def counting(texts: Sequence[str]) -> np.ndarray:
        calls.append(list(texts))
        return encode(texts)

    monkeypatch.setattr(service.encoder, "encode_queries", counting)
    return calls


def test_a_repeated_question_is_embedded_once(service: QAService, query_calls: list[list[str]]) -> None:
    first = service.ask("metro station", k=2, as_of=LATER)
    second = service.ask("metro station", k=2, as_of=LATER)
    service.ask(" metro station ", k=2, as_of=LATER)

    assert query_calls == [["metro station"]]
    assert first.hits == second.hits


def test_a_batch_embeds_each_distinct_question_once_and_alone(
    service: QAService, query_calls: list[list[str]]
) -> None:
    answers = service.ask_batch(["metro", "football", "metro"], k=1, as_of=LATER)

    # Alone, so a question's vector never depends on its batch neighbours (int8 quantisation).
    assert query_calls == [["metro"], ["football"]]
    assert [a.question for a in answers] == ["metro", "football", "metro"]
    assert answers[1].hits[0].article_id == "football-win"


def test_the_highlight_prefers_the_sentence_with_the_archives_rare_question_word(tmp_path: Path) -> None:
    # "report" is in every article; "Zuckerberg" in one. Within the passage each occurs in one
    # sentence, so only the archive's idf can tell which sentence answers.
    filler = [
        Article(
            f"f{i}", f"Filler {i}", f"The report covers item {i}. Nothing else here.", dt.date(2024, 1, i + 1)
        )
        for i in range(8)
    ]
    target = Article(
        "t",
        "Target",
        "The report was published on Monday. Zuckerberg testified before the Senate.",
        dt.date(2024, 1, 20),
    )
    qa = build_service(
        tmp_path / "index",
        FakeEncoder(),
        chunking=ChunkingConfig(size=200, overlap=0, max_tokens=256),
    )
    qa.add([*filler, target])
    # the lexical highlighter's weights are the idfs; the learned one weighs them among other
    # features, and here prefers the lede
    qa.retrieval = qa.retrieval.model_copy(update={"highlighter": "lexical"})
    question = "What report did Zuckerberg give?"
    hit = next(h for h in qa.ask(question, k=9).hits if h.article_id == "t")
    assert hit.highlight == "Zuckerberg testified before the Senate."
    qa.retrieval = qa.retrieval.model_copy(update={"highlight_corpus_idf": False})
    hit = next(h for h in qa.ask(question, k=9).hits if h.article_id == "t")
    assert hit.highlight == "The report was published on Monday."


def test_store_options_come_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    from qa.settings import Settings

    monkeypatch.setenv("QA_STORE_OPTIONS", '{"exact_threshold": 5000, "mmap": "none"}')
    assert Settings().store_options == {"exact_threshold": 5000, "mmap": "none"}


# --- adjacent passages -----------------------------------------------------------------------------


def _long_article(article_id: str, day: int, topic: str) -> Article:
    sentences = [f"The {topic} council voted on harbour plan {n}." for n in range(40)]
    return Article(article_id, f"The {topic} council", " ".join(sentences), dt.date(2024, 1, day))


@pytest.mark.parametrize(("backend", "k"), [("local", 3), ("local", 6), ("local", 10), ("milvus", 6)])
def test_when_few_articles_fill_k_no_text_is_shown_twice_and_cards_fill_k(
    tmp_path: Path, backend: str, k: int
) -> None:
    # overlapping passages (as the service chunks by default); a date filter leaves two articles
    index = BACKENDS_AT[backend](tmp_path / "index")
    qa = build_service(index, FakeEncoder(), chunking=ChunkingConfig(size=30, overlap=12))
    articles = [_long_article("north", 1, "northern"), _long_article("south", 2, "southern")]
    qa.add([*articles, *(_long_article(f"other-{n}", 20 + n, "other") for n in range(3))])
    passages = {a: len(qa.reader().article_passages(a)) for a in ("north", "south")}
    assert min(passages.values()) >= 12

    hits = qa.ask("harbour plan vote", k=k, since=dt.date(2024, 1, 1), until=dt.date(2024, 1, 2)).hits

    assert len(hits) == k  # further passages fill the places the merged ones left
    assert [h.score for h in hits[:2]] == sorted((h.score for h in hits[:2]), reverse=True)
    for article in ("north", "south"):
        spans = sorted((h.start, h.end) for h in hits if h.article_id == article)
        assert spans, article
        assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans)), spans  # disjoint
    assert all(h.text == by_id(articles)[h.article_id].text[h.start : h.end] for h in hits)
    getattr(index, "close", lambda: None)()


@pytest.mark.parametrize("copy_day", [3, 25], ids=["copy-inside-the-filter", "copy-outside-it"])
def test_a_syndicated_article_shows_its_text_once_too(tmp_path: Path, copy_day: int) -> None:
    qa = build_service(tmp_path / "index", FakeEncoder(), chunking=ChunkingConfig(size=30, overlap=12))
    north = _long_article("north", 1, "northern")
    wire = Article("north-copy", north.title, north.text, dt.date(2024, 1, copy_day))  # the same story
    qa.add([north, wire, *(_long_article(f"other-{n}", 20 + n, "other") for n in range(3))])

    hits = qa.ask("harbour plan vote", k=6, since=dt.date(2024, 1, 1), until=dt.date(2024, 1, 3)).hits

    assert len(hits) == 6
    for a, b in itertools.combinations(hits, 2):
        assert a.article_id != b.article_id or a.end <= b.start or b.end <= a.start, (a, b)
    listed = {h.duplicates for h in hits}
    assert listed == ({("north-copy",)} if copy_day == 3 else {()})  # a copy the filter admits is named


def test_a_passage_carried_by_another_shown_article_is_not_taken_in_again(tmp_path: Path) -> None:
    harbour = "Harbour cranes were repainted blue during the long maintenance week at the port."
    metro = "Metro station reopened after the flood, the transit authority said on Monday."
    qa = build_service(tmp_path / "index", FakeEncoder())
    qa.add(
        [
            Article("a", "Harbour news", f"{harbour} {metro}", dt.date(2024, 1, 2), "Local", "https://x/a"),
            Article("b", "Metro station reopened", metro, dt.date(2024, 1, 1), "Wire", "https://x/b"),
        ]
    )

    hits = qa.ask("metro station reopened flood", k=2).hits

    assert sum(metro in h.text for h in hits) == 1, [h.text for h in hits]  # found in review


def test_a_hit_extends_over_an_adjacent_passage_of_its_article_that_ranked_too(
    tmp_path: Path, service: QAService, articles: list[Article]
) -> None:
    question = "earthquake in the mountain villages"  # quake-report's four passages all match
    plain = build_service(tmp_path / "plain", FakeEncoder(), retrieval=RetrievalConfig(merge_adjacent=False))
    plain.add(articles)
    merged = {h.article_id: h for h in service.ask(question, k=4, as_of=LATER).hits}
    single = {h.article_id: h for h in plain.ask(question, k=4, as_of=LATER).hits}

    assert merged.keys() == single.keys()  # the same articles, in the same order of scores
    quake, alone = merged["quake-report"], single["quake-report"]
    article = by_id(articles)["quake-report"]
    assert quake.position == alone.position and quake.score == alone.score
    assert quake.start <= alone.start < alone.end <= quake.end
    assert quake.end - quake.start > alone.end - alone.start
    assert quake.text == article.text[quake.start : quake.end] and alone.text in quake.text
    assert quake.text[quake.highlight_start : quake.highlight_end] == quake.highlight


def test_a_hit_longer_than_the_bound_is_sent_cut_with_its_spans() -> None:
    from qa.hits import MAX_HIT_CHARS, Hit

    text = "y" * (MAX_HIT_CHARS + 500)
    hit = Hit(
        text, 1.0, "a", "T", None, None, None, 0, 10, 10 + len(text), text[-100:], len(text) - 100, len(text)
    )

    sent = hit.to_dict()

    assert len(sent["text"]) == MAX_HIT_CHARS
    assert sent["span"] == [10, 10 + MAX_HIT_CHARS]
    start, end = sent["highlight_span"]
    assert sent["text"][start:end] == sent["highlight"] and end <= MAX_HIT_CHARS
