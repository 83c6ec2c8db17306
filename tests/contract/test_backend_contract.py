"""The backend contract: what every backend (local, Milvus, ...) must do, run by name (`--backend`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from embeddings.articles import Article
from embeddings.backends import (
    UNDATED,
    ArticleWrite,
    Backend,
    Filters,
    IndexReader,
    IndexSpec,
    PassageDraft,
)
from embeddings.errors import IndexLockedError, IndexMismatchError, IndexNotFoundError
from tests.support.backends import BACKEND_FACTORIES
from tests.support.fakes import FakeEncoder

D = dt.date
ENCODER = FakeEncoder(dim=32)
SPEC = IndexSpec(ENCODER.identity, ENCODER.dim, {"title_context": False})
WIRE = "The pipeline consortium said exports rose sharply."
# id -> (date, source, sentences): each sentence becomes one passage
ARTICLES = {
    "flood": (D(2024, 1, 10), "Dawn", ["Floods swept the northern valley overnight.", WIRE]),
    "vote": (D(2024, 2, 15), "Reuters", ["Parliament approved the budget vote.", "Turnout was low."]),
    "quake": (None, "reuters", ["An earthquake shook the coastal town.", WIRE]),
    "match": (D(2024, 3, 20), None, ["The cricket final ended in a tie."]),
}


def _write(article_id: str, *, title: str | None = None, sentences: list[str] | None = None) -> ArticleWrite:
    date, source, default = ARTICLES.get(article_id, (None, None, ["Placeholder text here."]))
    sentences = sentences or default
    text = " ".join(sentences)
    drafts, start = [], 0
    for position, sentence in enumerate(sentences):
        drafts.append(PassageDraft(position, start, start + len(sentence), f"t:{sentence}", f"e:{sentence}"))
        start += len(sentence) + 1
    article = Article(
        article_id, title or f"Title {article_id}", text, date, source, f"https://x.test/{article_id}"
    )
    return ArticleWrite(article, f"c:{article_id}:{text}", drafts, ENCODER.encode_documents(sentences))


@pytest.fixture
def backend(backend_name: str, tmp_path: Path) -> Iterator[Backend]:
    backend = BACKEND_FACTORIES[backend_name](tmp_path)
    yield backend
    _close(backend)


def _close(backend: Backend) -> None:
    """Release what a backend holds open beyond the contract (an embedded engine), if anything."""
    close = getattr(backend, "close", None)
    if close is not None:
        close()


def _publish(backend: Backend, *writes: ArticleWrite, delete: tuple[str, ...] = ()) -> None:
    with backend.writer(timeout=10):
        txn = backend.begin(SPEC)
        txn.put(list(writes))
        txn.delete(list(delete))
        txn.commit()


@pytest.fixture
def filled(backend: Backend) -> Iterator[IndexReader]:
    _publish(backend, *(_write(a) for a in ARTICLES))
    reader = backend.open(SPEC.encoder)
    yield reader
    reader.close()


def _article_of(reader: IndexReader, ids: np.ndarray) -> list[str]:
    rows = reader.passages(ids.tolist())
    return [rows[i].article_id for i in ids.tolist()]


def _dense(reader: IndexReader, text: str, n: int = 10) -> list[str]:
    found = reader.candidates(ENCODER.encode_queries([text])[0], None, n, Filters())
    assert len(found.lexical_ids) == 0  # no text, no lexical candidates
    return _article_of(reader, found.dense_ids)


def test_an_empty_backend_has_no_index(backend: Backend) -> None:
    assert not backend.exists()
    with pytest.raises(IndexNotFoundError):
        backend.live_version()
    with pytest.raises(IndexNotFoundError):
        backend.open(SPEC.encoder)


def test_published_articles_come_back_with_their_rows_and_vectors(
    backend: Backend, filled: IndexReader
) -> None:
    assert backend.exists() and filled.info.articles == 4 and filled.info.passages == 7
    assert filled.article_ids() == sorted(ARTICLES)
    assert filled.info.encoder == SPEC.encoder and filled.info.dim == SPEC.dim
    assert filled.check() == []
    article = filled.article("vote")
    assert article is not None and article.source == "Reuters" and article.date == D(2024, 2, 15)
    assert filled.article("nope") is None
    ids = filled.article_passages("vote")
    rows = filled.passages(ids.tolist())
    assert [rows[i].position for i in ids.tolist()] == [0, 1]
    assert [rows[i].text for i in ids.tolist()] == ARTICLES["vote"][2]
    first = rows[int(ids[0])]
    assert (first.title, first.url, first.text_hash) == (
        "Title vote",
        "https://x.test/vote",
        f"t:{first.text}",
    )
    assert first.text == article.text[first.start : first.end]
    np.testing.assert_allclose(filled.vectors(ids), ENCODER.encode_documents(ARTICLES["vote"][2]), atol=1e-6)
    assert len(filled.article_passages("nope")) == 0
    assert filled.article_slice("vote", 0, 10) == article.text[:10]


def test_the_passages_of_several_articles_come_in_one_call_as_one_by_one(filled: IndexReader) -> None:
    asked = ["vote", "nope", *sorted(ARTICLES)]

    found = filled.articles_passages(asked)

    assert set(found) == set(asked)
    for article in asked:
        assert found[article].tolist() == filled.article_passages(article).tolist()
    assert found["nope"].dtype == np.int64 and len(found["nope"]) == 0
    assert len(found["vote"]) == 2


def test_dense_and_lexical_candidates_rank_the_matching_passage_first(filled: IndexReader) -> None:
    assert _dense(filled, "earthquake shook the coastal town")[0] == "quake"
    vector = ENCODER.encode_queries(["cricket final"])[0]
    found = filled.candidates(vector, "cricket final tie", 5, Filters())
    assert _article_of(filled, found.lexical_ids)[0] == "match"
    assert np.all(np.diff(found.lexical_scores) <= 0) and np.all(np.diff(found.dense_scores) <= 0)
    assert len(found.dense_ids) == 5 and len(set(found.dense_ids.tolist())) == 5


def test_equal_scores_come_in_passage_id_order(filled: IndexReader) -> None:
    """Two articles carry the wire sentence word for word: every backend lists them alike."""
    found = filled.candidates(ENCODER.encode_queries([WIRE])[0], WIRE, 10, Filters())

    for ids, scores in ((found.dense_ids, found.dense_scores), (found.lexical_ids, found.lexical_scores)):
        tied = ids[scores == scores[0]].tolist()
        assert sorted(_article_of(filled, np.array(tied))) == ["flood", "quake"]
        assert tied == sorted(tied)


@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        (Filters(since=D(2024, 2, 1)), {"vote", "match"}),
        (Filters(until=D(2024, 2, 15)), {"flood", "vote"}),
        (Filters(sources=("reuters",)), {"vote", "quake"}),  # case-insensitive
        (Filters(as_of=D(2024, 2, 20)), {"flood", "vote", "quake"}),  # undated stays
        (Filters(as_of=D(2030, 1, 1)), {"flood", "vote", "quake", "match"}),
        (Filters(since=D(2024, 1, 1), sources=("Reuters",)), {"vote"}),
    ],
)
def test_filters_restrict_both_candidate_lists(
    filled: IndexReader, filters: Filters, allowed: set[str]
) -> None:
    vector = ENCODER.encode_queries(["the"])[0]
    found = filled.candidates(vector, "the town valley budget tie exports", 50, filters)
    assert set(_article_of(filled, found.dense_ids)) == allowed
    assert set(_article_of(filled, found.lexical_ids)) <= allowed


def test_a_source_filter_folds_case_beyond_ascii_as_every_backend_does(backend: Backend) -> None:
    """ "élysée wire" finds "Élysée Wire" (SQLite's NOCASE alone folds ASCII only)."""
    wire = _write("elysee", sentences=["The palace announced a state visit."])
    wire = replace(wire, article=replace(wire.article, source="Élysée Wire"))
    _publish(backend, wire, _write("vote"))
    reader = backend.open(SPEC.encoder)
    vector = ENCODER.encode_queries(["palace"])[0]
    try:
        for asked in ("élysée wire", "ÉLYSÉE WIRE", "Élysée Wire"):
            found = reader.candidates(vector, "palace visit", 10, Filters(sources=(asked,)))
            assert set(_article_of(reader, found.dense_ids)) == {"elysee"}, asked
            assert Filters(sources=(asked,)).admits(None, "Élysée Wire")
    finally:
        reader.close()


def test_columns_give_days_articles_shared_texts_and_positions(filled: IndexReader) -> None:
    flood, quake = filled.article_passages("flood"), filled.article_passages("quake")
    ids = np.array([flood[0], flood[1], quake[0], quake[1], 10**9], dtype=np.int64)
    days, articles, texts, positions = filled.columns(ids)
    rows = filled.passages([int(i) for i in ids[:4]])
    assert positions.tolist() == [rows[int(i)].position for i in ids[:4]] + [-1]
    assert positions[0] == 0 and positions[1] > 0
    assert days.tolist() == [D(2024, 1, 10).toordinal()] * 2 + [UNDATED, UNDATED, UNDATED]
    assert articles[0] == articles[1] != articles[2] == articles[3] and articles[4] == -1
    assert texts[1] == texts[3] != texts[0] and texts[4] == -1  # the wire copy in both
    assert filled.text_copies(texts).tolist() == [1, 2, 1, 2, 0]
    rows = filled.passages([int(flood[1])])
    assert sorted(filled.duplicates([rows[int(flood[1])].text_hash])[f"t:{WIRE}"]) == ["flood", "quake"]


def test_idf_ranks_a_rare_word_above_a_common_one(filled: IndexReader) -> None:
    idf = filled.idf(["earthquake", "exports"])
    assert idf is not None and idf["earthquake"] > idf["exports"] > 0


def test_overlap_weighs_the_query_words_and_word_pairs_each_passage_holds(filled: IndexReader) -> None:
    quake, flood = filled.article_passages("quake"), filled.article_passages("flood")
    ids = np.array([quake[0], quake[1], flood[0], 10**9], dtype=np.int64)
    overlap = filled.overlap(ids, "Coastal exports rose?")
    idf = filled.idf(["coastal", "exports", "rose"])
    assert idf is not None
    mass = idf["coastal"] + idf["exports"] + idf["rose"]
    pairs = min(idf["coastal"], idf["exports"]) + min(idf["exports"], idf["rose"])
    # quake[0] holds "coastal" alone; the wire copy holds "exports rose", in that order
    assert overlap[0].tolist() == pytest.approx([idf["coastal"] / mass, 0.0])
    expected = [(idf["exports"] + idf["rose"]) / mass, min(idf["exports"], idf["rose"]) / pairs]
    assert overlap[1].tolist() == pytest.approx(expected)
    assert overlap[2:].tolist() == [[0.0, 0.0], [0.0, 0.0]]  # no query word; an unknown id
    whole = filled.overlap(ids[:1], "an earthquake shook the coastal town")
    assert whole[0].tolist() == pytest.approx([1.0, 1.0])
    assert filled.overlap(ids, "the of and").tolist() == [[0.0, 0.0]] * 4  # stopwords only


def test_archive_facts(filled: IndexReader) -> None:
    assert filled.max_date() == D(2024, 3, 20)
    assert dict(filled.sources())["Dawn"] == 1 and filled.size_bytes() >= 0


def test_a_put_replaces_the_article_and_its_passages(backend: Backend, filled: IndexReader) -> None:
    old = set(filled.article_passages("vote").tolist())
    _publish(backend, _write("vote", title="Budget passes", sentences=["The budget passed at dawn."]))
    reader = backend.open(SPEC.encoder)
    new = reader.article_passages("vote")
    assert len(new) == 1 and not old & set(new.tolist())
    assert reader.articles_passages(["vote"])["vote"].tolist() == new.tolist()
    assert reader.article("vote").title == "Budget passes"  # type: ignore[union-attr]
    assert reader.info.articles == 4 and reader.info.passages == 6 and reader.check() == []
    everything = reader.candidates(ENCODER.encode_queries(["x"])[0], None, 50, Filters())
    assert not old & set(everything.dense_ids.tolist()) and len(everything.dense_ids) == 6
    found = reader.candidates(ENCODER.encode_queries(["budget"])[0], "turnout parliament", 50, Filters())
    assert not old & set(found.lexical_ids.tolist())  # the old passages' words are gone


def test_delete_reports_what_was_there_and_removes_it(backend: Backend, filled: IndexReader) -> None:
    with backend.writer(timeout=10):
        txn = backend.begin(SPEC)
        assert txn.delete(["quake", "nope"]) == ["quake"]
        txn.commit()
    reader = backend.open(SPEC.encoder)
    assert reader.article("quake") is None and reader.info.articles == 3 and reader.check() == []
    assert "quake" not in _dense(reader, "earthquake shook the coastal town")
    assert reader.text_copies(reader.columns(reader.article_passages("flood")).texts).tolist() == [1, 1]


def test_an_aborted_transaction_publishes_nothing(backend: Backend, filled: IndexReader) -> None:
    version = backend.live_version()
    with backend.writer(timeout=10):
        txn = backend.begin(SPEC)
        txn.put([_write("new")])
        txn.delete(["vote"])
        txn.abort()
    assert backend.live_version() == version
    reader = backend.open(SPEC.encoder)
    assert reader.article("new") is None and reader.article("vote") is not None


def test_a_transaction_that_changes_nothing_keeps_the_live_version(
    backend: Backend, filled: IndexReader
) -> None:
    version = backend.live_version()
    with backend.writer(timeout=10):
        info = backend.begin(SPEC).commit()
    assert backend.live_version() == version and info.version == filled.info.version


def test_a_new_version_is_announced_and_stored_facts_are_reused(
    backend: Backend, filled: IndexReader
) -> None:
    version = backend.live_version()
    with backend.writer(timeout=10):
        txn = backend.begin(SPEC)
        assert txn.content_hashes(["vote", "nope"]) == {"vote": _write("vote").content_hash}
        assert sorted(txn.article_ids()) == sorted(ARTICLES)
        cached = txn.cached_vectors([f"e:{WIRE}", "e:unknown"])
        assert list(cached) == [f"e:{WIRE}"]
        np.testing.assert_allclose(cached[f"e:{WIRE}"], ENCODER.encode_documents([WIRE])[0], atol=1e-6)
        txn.put([_write("new")])
        info = txn.commit()
    assert backend.live_version() != version and info.version > filled.info.version and info.articles == 5


def test_a_fresh_transaction_starts_from_an_empty_index(backend: Backend, filled: IndexReader) -> None:
    with backend.writer(timeout=10):
        txn = backend.begin(SPEC, fresh=True)
        assert txn.article_ids() == []
        txn.put([_write("match")])
        txn.commit()
    reader = backend.open(SPEC.encoder)
    assert reader.info.articles == 1 and reader.article("flood") is None


def test_an_index_refuses_another_encoder(backend: Backend, filled: IndexReader) -> None:
    with pytest.raises(
        IndexMismatchError, match=r"'other@1:model': configure that model \(QA_MODEL_DIR, QA_ENCODER\)"
    ):
        backend.open("other@1:model")


def test_writers_are_serialised(
    backend: Backend, filled: IndexReader, backend_name: str, tmp_path: Path
) -> None:
    other = BACKEND_FACTORIES[backend_name](tmp_path)
    try:
        with backend.writer(timeout=10), pytest.raises(IndexLockedError), other.writer(timeout=0.2):
            pass
    finally:
        _close(other)


def test_a_sound_index_verifies_clean_and_repair_leaves_it_as_it_is(
    backend: Backend, filled: IndexReader
) -> None:
    token = backend.live_version()

    assert backend.verify() == []
    assert backend.verify(structure=False) == []
    assert filled.check(full=False) == []
    with backend.writer(timeout=10):
        lines = backend.repair(None, encoder=ENCODER.identity)

    assert lines and all(isinstance(line, str) for line in lines)
    assert backend.live_version() == token


def test_the_versions_kept_to_fall_back_to_verify_clean_and_exclude_the_live_one(
    backend: Backend, filled: IndexReader
) -> None:
    _publish(backend, _write("extra"))  # a second version: the first is the local backend's fall-back

    kept = backend.verify_kept()

    assert all(check.ok and not check.live for check in kept), kept
    assert backend.live_version() not in {check.version for check in kept}
    assert [check.version for check in kept] == sorted((check.version for check in kept), reverse=True)


def test_verify_without_an_index_says_there_is_none(backend: Backend) -> None:
    with pytest.raises(IndexNotFoundError):
        backend.verify()
