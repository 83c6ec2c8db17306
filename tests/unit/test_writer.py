"""Tests for embeddings.writer over the local backend: incremental updates over atomic, locked versions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from embeddings import writer
from embeddings.articles import Article, Passage
from embeddings.backends.local import LocalBackend
from embeddings.backends.local.columns import ColumnFiles
from embeddings.backends.local.reader import LocalReader
from embeddings.backends.local.rows import MetadataStore
from embeddings.chunking import ChunkingConfig
from embeddings.errors import IndexLockedError, IndexMismatchError, IndexNotFoundError, InvalidArticleError
from embeddings.writer import Indexer, passage_context
from tests.support.damage import make_legacy
from tests.support.fakes import FakeEncoder

CHUNKING = ChunkingConfig(size=24, overlap=6)
TOPICS = ["flood", "election", "cricket", "budget", "earthquake", "vaccine", "railway", "drought"]


def _article(n: int, *, title: str | None = None, text: str | None = None, url: str | None = None) -> Article:
    topic = TOPICS[n % len(TOPICS)]
    body = " ".join(
        f"The {topic} report number {n} describes event {s} in district {n * 10 + s} today." for s in range(5)
    )
    return Article(
        f"a{n}",
        title or f"{topic.title()} news {n}",
        text or body,
        dt.date(2024, 1, 1 + n),
        "Dawn",
        url or f"https://news.test/{n}",
    )


def _corpus(n: int = 5) -> list[Article]:
    return [_article(i) for i in range(n)]


def _indexer(root: Path, encoder: FakeEncoder | None = None, *, lock_timeout: float = 600.0) -> Indexer:
    return Indexer(LocalBackend(root), encoder or FakeEncoder(), CHUNKING, lock_timeout=lock_timeout)


@contextmanager
def _live(root: Path, identity: str = "fake@0:test") -> Iterator[LocalReader]:
    snapshot = LocalBackend(root).open(identity)
    try:
        yield snapshot
    finally:
        snapshot.close()


def _versions(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "versions").iterdir())


def _files(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(directory)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _passage_ids(root: Path, article_id: str) -> list[int]:
    with _live(root) as snap:
        return snap.rows.passage_ids(article_id).tolist()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def indexed(root: Path, encoder: FakeEncoder) -> Indexer:
    """An index over `_corpus()` at version 1."""
    report = _indexer(root, encoder).upsert(_corpus())
    assert report.version == 1
    return _indexer(root, encoder)


def test_first_run_embeds_every_passage_with_its_title(root: Path, encoder: FakeEncoder) -> None:
    report = _indexer(root, encoder).upsert(_corpus())
    assert report.added == [f"a{i}" for i in range(5)]
    assert report.passages > 5 and report.passages_embedded == report.passages == sum(encoder.calls)
    assert (report.version, report.articles, report.passages_reused) == (1, 5, 0)
    with _live(root) as snap:
        assert snap.check() == []
        assert snap.manifest.encoder == "fake@0:test" and snap.manifest.dim == encoder.dim
        rows = snap.rows.passages(snap.rows.all_passage_ids())
        article = _article(2)
        mine = sorted((r for r in rows.values() if r.article_id == "a2"), key=lambda r: r.position)
        assert all(article.text[r.start : r.end] == r.text for r in mine)
        passages = [Passage(r.article_id, r.position, r.start, r.end, r.text) for r in mine]
        embedded = [passage_context(article.title, p, p.position) for p in passages]
        assert all(t.startswith(article.title + "\n") for t in embedded)
        stored = snap.store.vectors(np.array([r.id for r in mine]))
        np.testing.assert_allclose(stored, encoder.encode_queries(embedded), atol=1e-6)


def test_reindexing_unchanged_articles_embeds_nothing_and_publishes_nothing(
    root: Path, encoder: FakeEncoder, indexed: Indexer
) -> None:
    calls, current = list(encoder.calls), (root / "CURRENT").read_text()
    report = indexed.upsert(_corpus())
    assert encoder.calls == calls
    assert report.unchanged == 5 and not (report.added or report.updated or report.deleted)
    assert (report.version, report.articles, report.passages_embedded) == (1, 5, 0)
    assert (root / "CURRENT").read_text() == current and _versions(root) == ["v00000001"]


def test_a_changed_article_replaces_its_passages(root: Path, indexed: Indexer) -> None:
    old = _passage_ids(root, "a2")
    others = {f"a{i}": _passage_ids(root, f"a{i}") for i in (0, 1, 3, 4)}
    changed = _article(2, text="A completely new body. It has two sentences about monsoon rain.")
    report = indexed.upsert([*_corpus()[:2], changed, *_corpus()[3:]])
    assert (report.updated, report.unchanged, report.version) == (["a2"], 4, 2)
    with _live(root) as snap:
        assert snap.check() == []
        new = snap.rows.passage_ids("a2").tolist()
        assert new and not set(new) & set(old)
        assert not set(old) & set(snap.store.ids().tolist())
        assert not set(old) & set(snap.rows.all_passage_ids().tolist())
        assert [r.text for r in snap.rows.passages(new).values()] == [changed.text]
        assert {a: snap.rows.passage_ids(a).tolist() for a in others} == others
        assert snap.lexical is not None and snap.lexical.search("monsoon", 3)[1].tolist() == new


def test_a_changed_title_re_embeds_only_that_article(
    root: Path, encoder: FakeEncoder, indexed: Indexer
) -> None:
    before = len(encoder.calls)
    retitled = dataclasses.replace(_article(3), title="Quite a different headline")
    report = indexed.upsert([*_corpus()[:3], retitled, _article(4)])
    assert report.updated == ["a3"] and report.unchanged == 4
    assert sum(encoder.calls[before:]) == report.passages_embedded == len(_passage_ids(root, "a3"))
    assert report.passages_reused == 0


def test_a_url_change_reuses_every_vector(root: Path, encoder: FakeEncoder, indexed: Indexer) -> None:
    with _live(root) as snap:
        old_vectors = snap.store.vectors(snap.rows.passage_ids("a1"))
    calls = list(encoder.calls)
    report = indexed.upsert([_article(1, url="https://elsewhere.test/1")])
    assert report.updated == ["a1"] and encoder.calls == calls
    assert report.passages_embedded == 0 and report.passages_reused == len(old_vectors) > 0
    with _live(root) as snap:
        assert snap.check() == []
        assert snap.rows.article("a1").url == "https://elsewhere.test/1"  # type: ignore[union-attr]
        np.testing.assert_array_equal(snap.store.vectors(snap.rows.passage_ids("a1")), old_vectors)


class RecordingEncoder(FakeEncoder):
    """Remembers every text it embedded."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += texts
        return super().encode_documents(texts)


def test_embedded_text_fits_the_model_even_with_a_long_title(root: Path) -> None:
    encoder = RecordingEncoder()
    title = " ".join(f"word{i}" for i in range(60))
    report = _indexer(root, encoder).upsert([_article(0, title=title), _article(1)])
    assert len(encoder.texts) == report.passages_embedded == report.passages > 2
    counts = encoder.count_tokens(encoder.texts)
    assert max(counts) <= encoder.max_tokens - 2
    long_title = [t for t in encoder.texts if t.startswith("word0 ")]
    assert long_title and all(encoder.count_tokens([t.split("\n")[0]])[0] <= 48 for t in long_title)


@pytest.mark.parametrize("batch", [128, 1])
def test_of_two_articles_with_one_id_the_first_is_written(
    root: Path, encoder: FakeEncoder, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """As `qa index` keeps the first and reports the other (`embeddings.readers.iter_articles`),
    in one batch and across batches alike."""
    monkeypatch.setattr(writer, "BATCH_ARTICLES", batch)
    first, again = _article(0), _article(0, text="Another story under the same id.")
    report = _indexer(root, encoder).upsert([first, _article(1), again])
    assert report.added == ["a0", "a1"]
    with _live(root) as snap:
        assert snap.rows.article("a0") == first


def test_delete_removes_articles_and_reports_missing_ids(root: Path, indexed: Indexer) -> None:
    gone = _passage_ids(root, "a1")
    report = indexed.delete(["a1", "nope", "a1"])
    assert (report.deleted, report.missing, report.articles, report.version) == (["a1"], ["nope"], 4, 2)
    with _live(root) as snap:
        assert snap.check() == []
        assert snap.rows.article("a1") is None
        assert not set(gone) & set(snap.store.ids().tolist())


def test_deleting_only_unknown_ids_publishes_nothing(root: Path, indexed: Indexer) -> None:
    report = indexed.delete(["nope"])
    assert (report.deleted, report.missing, report.version) == ([], ["nope"], 1)
    assert _versions(root) == ["v00000001"]


def test_prune_deletes_articles_absent_from_the_run(root: Path, indexed: Indexer) -> None:
    report = indexed.upsert(_corpus()[:3], prune=True)
    assert report.deleted == ["a3", "a4"] and report.unchanged == 3 and report.articles == 3
    with _live(root) as snap:
        assert snap.check() == [] and snap.rows.article_ids() == ["a0", "a1", "a2"]


def test_prune_asked_once_everything_is_read_can_decline(root: Path, indexed: Indexer) -> None:
    read: list[int] = []
    asked: list[int] = []

    def counted() -> Iterator[Article]:
        for article in _corpus()[:3]:
            read.append(1)
            yield article

    def decline() -> bool:
        asked.append(len(read))  # how many articles had been read when asked
        return False

    report = indexed.upsert(counted(), prune=decline)
    assert report.deleted == [] and asked == [3]
    with _live(root) as snap:
        assert snap.rows.article_ids() == ["a0", "a1", "a2", "a3", "a4"]


def test_rebuild_reuses_nothing_and_can_switch_the_model(root: Path, indexed: Indexer) -> None:
    other = FakeEncoder(identity="fake@1:other")
    report = _indexer(root, other).upsert(_corpus()[:4], rebuild=True)
    assert report.added == ["a0", "a1", "a2", "a3"] and report.passages_reused == 0
    assert report.passages_embedded == report.passages == sum(other.calls)
    assert report.version == 2
    with _live(root, "fake@1:other") as snap:
        assert snap.check() == [] and snap.manifest.articles == 4
    with pytest.raises(IndexMismatchError):
        LocalBackend(root).open("fake@0:test")


def test_another_encoder_identity_is_refused_with_a_helpful_message(root: Path, indexed: Indexer) -> None:
    with pytest.raises(IndexMismatchError, match=r"'fake@0:test'.*'fake@9:else'.*--rebuild"):
        LocalBackend(root).open("fake@9:else")
    with pytest.raises(IndexMismatchError, match="fake@9:else"):
        _indexer(root, FakeEncoder(identity="fake@9:else")).upsert([_article(7)])
    assert not list(root.glob("tmp-*"))
    assert _versions(root) == ["v00000001"]
    with _live(root) as snap:
        assert snap.manifest.articles == 5


@pytest.mark.parametrize("exists", [True, False])
def test_a_directory_without_an_index_is_not_found(tmp_path: Path, exists: bool) -> None:
    root = tmp_path / "nothing"
    if exists:
        root.mkdir()
    assert not LocalBackend(root).exists()
    with pytest.raises(IndexNotFoundError, match="no index"):
        LocalBackend(root).open()


def test_leftovers_of_a_dead_writer_are_cleaned_by_the_next_write(root: Path, indexed: Indexer) -> None:
    (root / "tmp-xyz").mkdir()
    (root / "tmp-xyz" / "meta.sqlite").write_bytes(b"half written")
    (root / "CURRENT.tmp").write_text("v00000099\n")
    with _live(root) as snap:
        assert snap.version == 1 and snap.check() == []
    report = indexed.upsert([_article(9)])
    assert report.version == 2
    assert not (root / "tmp-xyz").exists() and not (root / "CURRENT.tmp").exists()
    assert not list(root.glob("tmp-*"))


def test_a_published_version_is_never_modified(root: Path, indexed: Indexer) -> None:
    v1, v2 = root / "versions" / "v00000001", root / "versions" / "v00000002"
    before = _files(v1)
    assert {"manifest.json", "meta.sqlite", "vectors.faiss", "lexical/ids.npy"} <= set(before)
    indexed.upsert([_article(2, text="Rewritten entirely. Nothing stays.")])
    assert _files(v1) == before
    before = _files(v2)
    indexed.delete(["a0"])
    assert (root / "CURRENT").read_text().strip() == "v00000003"
    assert _files(v2) == before


def test_only_the_last_two_versions_are_kept(root: Path, indexed: Indexer) -> None:
    for n in range(10, 13):
        indexed.upsert([_article(n)])
    assert _versions(root) == ["v00000003", "v00000004"]
    assert (root / "CURRENT").read_text().strip() == "v00000004"
    with _live(root) as snap:
        assert snap.manifest.articles == 8 and snap.check() == []


def test_a_held_lock_makes_another_writer_fail_fast(root: Path, indexed: Indexer) -> None:
    lock = LocalBackend(root).directory.acquire(5)
    try:
        with pytest.raises(IndexLockedError, match="another writer"):
            _indexer(root, lock_timeout=0.1).upsert([_article(8)])
        with pytest.raises(IndexLockedError):
            _indexer(root, lock_timeout=0.1).delete(["a0"])
    finally:
        lock.release()
    assert _indexer(root, lock_timeout=0.1).upsert([_article(8)]).version == 2


class FailingEncoder(FakeEncoder):
    """Fails on its `fail_on`-th call to encode_documents (1-based)."""

    def __init__(self, fail_on: int) -> None:
        super().__init__()
        self.fail_on = fail_on

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        if len(self.calls) + 1 == self.fail_on:
            raise RuntimeError("encoder crashed")
        return super().encode_documents(texts)


def test_a_failing_encoder_leaves_the_live_version_intact(
    root: Path, indexed: Indexer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "BATCH_ARTICLES", 2)  # several batches, so it fails mid-run
    before, current = _files(root / "versions" / "v00000001"), (root / "CURRENT").read_text()
    failing = FailingEncoder(fail_on=2)
    changed = [_article(n, text=f"Fresh text {n}. More words.") for n in range(8)]
    with pytest.raises(RuntimeError, match="encoder crashed"):
        _indexer(root, failing, lock_timeout=0.1).upsert(changed)
    assert len(failing.calls) == 1  # the first batch was embedded and written, privately
    assert (root / "CURRENT").read_text() == current
    assert _versions(root) == ["v00000001"] and _files(root / "versions" / "v00000001") == before
    assert not list(root.glob("tmp-*"))
    with _live(root) as snap:
        assert snap.check() == [] and snap.manifest.articles == 5
        assert snap.rows.article("a0") == _article(0)
    assert _indexer(root, lock_timeout=0.1).upsert(changed).version == 2  # and the lock was released


def test_a_long_run_publishes_progress_and_resumes_after_a_crash(root: Path, encoder: FakeEncoder) -> None:
    articles = [
        dataclasses.replace(_article(n % 28), id=f"a{n}", title=f"News {n}", text=f"Report {n}. " * 12)
        for n in range(300)
    ]
    indexer = Indexer(
        LocalBackend(root), encoder, ChunkingConfig(size=24, overlap=6, max_tokens=64), commit_every=50
    )

    def dies_after(n: int) -> Iterator[Article]:
        yield from articles[:n]
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        indexer.upsert(dies_after(200))
    with _live(root) as snapshot:
        done = snapshot.manifest.articles
        assert 0 < done <= 200 and snapshot.check() == []
    embedded_before = sum(encoder.calls)
    report = indexer.upsert(articles)
    assert report.unchanged == done and len(report.added) == 300 - done
    assert sum(encoder.calls) > embedded_before
    with _live(root) as snapshot:
        assert snapshot.manifest.articles == 300 and snapshot.check() == []


def test_optimize_republishes_the_same_content_in_the_kind_its_size_calls_for(
    root: Path, encoder: FakeEncoder
) -> None:
    articles = [
        _article(i, text=" ".join(f"Sentence {i} number {j} here." for j in range(150))) for i in range(28)
    ]
    Indexer(LocalBackend(root, store_options={"exact_threshold": 5_000}), encoder, CHUNKING).upsert(articles)
    with _live(root) as before:
        ids = np.sort(before.store.ids())
        vectors = before.store.vectors(ids)
        assert before.store.kind == "exact" and 1_000 < len(ids) < 5_000  # type: ignore[attr-defined]
    embedded = list(encoder.calls)
    lowered = Indexer(LocalBackend(root, store_options={"exact_threshold": 1_000}), encoder, CHUNKING)
    report = lowered.optimize()
    assert report.version == 2 and encoder.calls == embedded  # nothing re-embedded
    with _live(root) as after:
        assert after.check() == []
        assert after.store.kind == "ivf_sq8"  # type: ignore[attr-defined]
        assert np.array_equal(np.sort(after.store.ids()), ids)
        found = after.store.search(vectors[:20], 1)[1][:, 0]
        assert np.mean(found == ids[:20]) >= 0.95


def test_optimize_needs_an_index(root: Path) -> None:
    with pytest.raises(IndexNotFoundError):
        _indexer(root).optimize()


def test_writes_reuse_stored_tokens_and_leave_the_lexical_index_a_rebuild_would(
    root: Path, indexed: Indexer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from embeddings.backends.local.lexical import LexicalIndex

    read: list[int] = []
    original = MetadataStore.passage_texts

    def counting(self: MetadataStore, ids: np.ndarray) -> list[tuple[int, str, str]]:
        read.extend(int(i) for i in ids)
        return original(self, ids)

    monkeypatch.setattr(MetadataStore, "passage_texts", counting)
    changed = _article(1, text="A wholly new text about the harbour and its cranes.")
    indexed.upsert([changed, _article(7)])
    indexed.delete(["a2"])
    with _live(root) as snap:
        new_ids = set(snap.rows.passage_ids("a1").tolist()) | set(snap.rows.passage_ids("a7").tolist())
        assert set(read) == new_ids  # nothing else was read back or tokenized
        rows = snap.rows.passage_texts(snap.rows.all_passage_ids())
        rebuilt = LexicalIndex.build(
            np.array([r[0] for r in rows]), [f"{title}\n{text}" for _, title, text in rows]
        )
        for query in ("harbour cranes", "report district", "news event today"):
            got, want = snap.lexical.search(query, 50), rebuilt.search(query, 50)  # type: ignore[union-attr]
            assert got[1].tolist() == want[1].tolist()
            np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
        assert snap.check() == []


def test_each_passage_stores_its_sentence_spans_for_the_highlight(root: Path, indexed: Indexer) -> None:
    from embeddings.text import split_sentences

    with _live(root) as snap:
        rows = snap.rows.passages(snap.rows.all_passage_ids())
        assert rows and all(r.sentences == tuple(split_sentences(r.text)) for r in rows.values())


def test_optimize_fills_the_sentence_spans_of_rows_written_without_them(root: Path, indexed: Indexer) -> None:
    import sqlite3

    from embeddings.text import split_sentences

    version = root / "versions" / LocalBackend(root).live_version()
    make_legacy(version)  # written by a release that recorded neither sentence spans nor checksums
    db = sqlite3.connect(version / "meta.sqlite")
    with db:
        db.execute("UPDATE passages SET sentences = NULL")
    db.close()
    with _live(root) as snap:
        assert all(r.sentences is None for r in snap.rows.passages(snap.rows.all_passage_ids()).values())
    indexed.optimize()
    with _live(root) as snap:
        rows = snap.rows.passages(snap.rows.all_passage_ids())
        assert all(r.sentences == tuple(split_sentences(r.text)) for r in rows.values())


def test_column_files_stay_true_to_the_rows_across_many_writes(
    root: Path, indexed: Indexer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each write updates the base version's per-passage columns from its own changes; after any
    mix of new, changed, syndicated, undated and deleted articles they must equal a full rescan."""
    updated = ColumnFiles._updated
    incremental: list[bool] = []

    def spy(self: ColumnFiles) -> object:
        columns = updated(self)
        incremental.append(columns is not None)
        return columns

    monkeypatch.setattr(ColumnFiles, "_updated", spy)
    rng = np.random.default_rng(5)
    wire = _article(0).text  # articles carrying this text share passages with a0
    for step in range(12):
        n = int(rng.integers(0, 12))
        kind = step % 4
        if kind == 0:
            report = indexed.upsert([_article(n)])
        elif kind == 1:
            report = indexed.upsert([dataclasses.replace(_article(n), text=wire, date=None)])
        elif kind == 2:
            report = indexed.upsert([_article(n, text=f"Changed at step {step}. " + _article(n).text)])
        else:
            report = indexed.delete([f"a{n}", f"a{(n + 5) % 12}"])
        with _live(root) as snap:
            assert snap.check() == [], (step, kind, report)
            assert snap.column_files.passage_groups()[0].tolist() == snap.rows.all_passage_ids().tolist()
    assert len(incremental) >= 10 and all(incremental)  # no write fell back to a rescan
    with _live(root) as snap:
        texts = snap.column_files.passage_groups()[2]
        assert snap.text_copies(texts).max() > 1  # syndicated copies share a text number


# --- articles as a script builds them --------------------------------------------------------------


def test_an_article_dated_with_a_datetime_is_stored_as_its_day(root: Path) -> None:
    timed = dataclasses.replace(_article(1), date=dt.datetime(2024, 1, 5, 10, 30))  # type: ignore[arg-type]
    _indexer(root).upsert([timed, _article(2)])

    with _live(root) as reader:  # the next open reads it (a datetime's isoformat would not)
        assert reader.article("a1").date == dt.date(2024, 1, 5)
    _indexer(root).upsert([_article(3)])  # and the index takes further writes


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"text": ""}, "text is empty"),
        ({"text": " \n\t "}, "text is empty"),
        ({"title": ""}, "title is empty"),
        ({"title": None}, "title is not a string"),
        ({"id": 5}, "id is not a string"),
        ({"date": "2024-01-01"}, "date is not a datetime.date"),
        ({"source": 7}, "source is not a string"),
        ({"text": "nul \x00 here"}, "NUL"),
    ],
)
def test_an_article_a_reader_would_refuse_is_refused_and_nothing_is_written(
    root: Path, fields: dict[str, object], reason: str
) -> None:
    _indexer(root).upsert([_article(1)])
    bad = dataclasses.replace(_article(2), **fields)  # type: ignore[arg-type]

    with pytest.raises(InvalidArticleError, match=reason):
        _indexer(root).upsert([_article(3), bad])
    with _live(root) as reader:
        assert reader.article("a3") is None and reader.article("a1") is not None


def test_something_that_is_not_an_article_is_refused(root: Path) -> None:
    with pytest.raises(InvalidArticleError, match="not an Article \\(got dict\\)"):
        _indexer(root).upsert([{"id": "x", "title": "X", "text": "x"}])  # type: ignore[list-item]


def test_a_text_over_the_limit_is_refused(root: Path) -> None:
    indexer = Indexer(LocalBackend(root), FakeEncoder(), CHUNKING, max_article_chars=100)
    with pytest.raises(InvalidArticleError, match="text longer than 100 characters"):
        indexer.upsert([_article(1, text="word " * 30)])


def test_ids_given_again_in_one_call_are_reported_not_written(root: Path) -> None:
    again = _article(1, title="A later version")
    report = _indexer(root).upsert([_article(1), _article(2), again, again])

    assert report.added == ["a1", "a2"] and report.repeated == ["a1", "a1"]
    with _live(root) as reader:
        assert reader.article("a1").title == _article(1).title  # the first is written


def test_an_empty_source_or_url_is_none() -> None:
    article = Article("x", "X", "Some text.", None, " ", "")
    assert (article.source, article.url) == (None, None)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [("title", "t" * 2001, "title is longer than 2000"), ("url", "u" * 8001, "url is longer than 8000")],
)
def test_a_title_or_url_longer_than_any_backend_keeps_is_refused(
    root: Path, field: str, value: str, reason: str
) -> None:
    with pytest.raises(InvalidArticleError, match=reason):
        _indexer(root).upsert([dataclasses.replace(_article(1), **{field: value})])
