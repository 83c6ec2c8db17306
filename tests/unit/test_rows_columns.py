"""Tests for the local backend's SQLite rows and column files: filters, duplicates, reopen."""

from __future__ import annotations

import datetime as dt
import mmap
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from embeddings.articles import Article
from embeddings.backends import UNDATED
from embeddings.backends.local.columns import DAYS_FILENAME, GROUPS_FILENAME, ColumnFiles
from embeddings.backends.local.rows import FILENAME, MetadataStore, NewPassage

D = dt.date
# id -> (date, source); each article gets two passages with ids 10*n and 10*n + 1.
ARTICLES = {
    "jan": (D(2024, 1, 10), "Dawn"),
    "feb": (D(2024, 2, 15), "Reuters"),
    "mar": (D(2024, 3, 20), "dawn"),
    "undated": (None, "Reuters"),
    "nosource": (D(2024, 2, 1), None),
}
PIDS = {aid: [10 * n, 10 * n + 1] for n, aid in enumerate(ARTICLES)}


def cols(store: MetadataStore) -> ColumnFiles:
    """The column files beside `store`, one object per store (so what it reads, it keeps)."""
    return store.__dict__.setdefault("_test_columns", ColumnFiles(store))


def _ids(*article_ids: str) -> list[int]:
    return sorted(p for a in article_ids for p in PIDS[a])


@pytest.fixture(scope="module")
def meta(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MetadataStore]:
    """The articles above, written once, then reopened read-only as a snapshot does."""
    path = tmp_path_factory.mktemp("meta") / FILENAME
    writer = MetadataStore(path, readonly=False)
    writer.begin()
    for aid, (date, source) in ARTICLES.items():
        text = f"Shared wire copy. Local detail about {aid}."
        article = Article(aid, f"Title {aid}", text, date, source, f"https://x.test/{aid}")
        first, second = PIDS[aid]
        writer.insert(
            article,
            f"hash-{aid}",
            [
                NewPassage(first, aid, 0, 0, 17, "h-shared", f"e-{first}"),
                NewPassage(second, aid, 1, 18, len(text), f"h-{aid}", f"e-{second}"),
            ],
        )
    writer.commit()
    writer.close()
    reader = MetadataStore(path, readonly=True)
    yield reader
    reader.close()


def _filtered(
    meta: MetadataStore,
    since: dt.date | None = None,
    until: dt.date | None = None,
    sources: list[str] | None = None,
    as_of: dt.date | None = None,
) -> list[int]:
    ids = cols(meta).filtered_ids(since, until, sources, as_of=as_of)
    assert ids.dtype == np.int64
    return sorted(ids.tolist())


def test_no_filter_returns_every_passage(meta: MetadataStore) -> None:
    assert _filtered(meta) == _ids(*ARTICLES)
    assert meta.counts() == (5, 10)


def test_since_and_until_are_inclusive_and_exclude_undated(meta: MetadataStore) -> None:
    assert _filtered(meta, since=D(2024, 2, 15)) == _ids("feb", "mar")
    assert _filtered(meta, until=D(2024, 2, 1)) == _ids("jan", "nosource")
    assert _filtered(meta, since=D(2024, 2, 1), until=D(2024, 2, 15)) == _ids("feb", "nosource")
    assert _filtered(meta, since=D(2025, 1, 1)) == []


def test_as_of_keeps_undated_articles(meta: MetadataStore) -> None:
    assert _filtered(meta, as_of=D(2024, 2, 1)) == _ids("jan", "undated", "nosource")
    assert _filtered(meta, as_of=D(2023, 1, 1)) == _ids("undated")


def test_as_of_with_since_still_excludes_undated(meta: MetadataStore) -> None:
    assert _filtered(meta, as_of=D(2024, 2, 20), since=D(2024, 2, 1)) == _ids("feb", "nosource")


def test_sources_match_case_insensitively(meta: MetadataStore) -> None:
    assert _filtered(meta, sources=["DAWN"]) == _ids("jan", "mar")
    assert _filtered(meta, sources=["reuters", "dawn"]) == _ids("jan", "feb", "mar", "undated")
    assert _filtered(meta, sources=["Nobody"]) == []
    assert _filtered(meta, sources=[]) == _ids(*ARTICLES)  # an empty list means no source filter


def test_filters_combine(meta: MetadataStore) -> None:
    assert _filtered(meta, sources=["reuters"], since=D(2024, 1, 1)) == _ids("feb")
    assert _filtered(meta, sources=["reuters"], as_of=D(2024, 1, 1)) == _ids("undated")


def test_duplicate_passages_lists_every_article_holding_a_text(meta: MetadataStore) -> None:
    dups = meta.duplicate_passages(["h-shared", "h-jan", "h-unknown"])
    assert sorted(dups) == ["h-jan", "h-shared"]
    assert sorted(dups["h-shared"]) == sorted(ARTICLES)
    assert dups["h-jan"] == ["jan"]
    assert meta.duplicate_passages([]) == {}


def test_passages_are_sliced_from_the_article_with_its_metadata(meta: MetadataStore) -> None:
    rows = meta.passages([20, 21, 999])
    assert sorted(rows) == [20, 21]
    assert rows[20].text == "Shared wire copy."
    assert rows[21].text == "Local detail about mar."
    assert (rows[21].article_id, rows[21].date, rows[21].source) == ("mar", D(2024, 3, 20), "dawn")
    assert meta.article("undated") == Article(
        "undated",
        "Title undated",
        "Shared wire copy. Local detail about undated.",
        None,
        "Reuters",
        "https://x.test/undated",
    )
    assert meta.article("missing") is None


def test_max_date_and_sources(meta: MetadataStore) -> None:
    assert meta.max_date() == D(2024, 3, 20)
    assert dict(meta.sources()) == {"Dawn": 1, "Reuters": 2, "dawn": 1}
    assert meta.orphans() == 0


def test_passage_days_align_ids_with_article_dates(meta: MetadataStore) -> None:
    ids, days = cols(meta).passage_days()
    assert ids.tolist() == _ids(*ARTICLES)
    by_id = dict(zip(ids.tolist(), days.tolist(), strict=True))
    assert by_id[PIDS["feb"][1]] == D(2024, 2, 15).toordinal()
    assert by_id[PIDS["undated"][0]] == UNDATED
    assert cols(meta).passage_days()[0] is ids  # read once per immutable snapshot
    wanted = np.array([PIDS["feb"][1], 999, PIDS["undated"][0]])
    assert cols(meta).columns(wanted).days.tolist() == [D(2024, 2, 15).toordinal(), UNDATED, UNDATED]


def test_an_older_layout_is_upgraded_by_the_writer_without_losing_rows(tmp_path: Path) -> None:
    path = tmp_path / FILENAME
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE articles (id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL,"
        " date TEXT, source TEXT, url TEXT, path TEXT, content_hash TEXT NOT NULL);"
        "INSERT INTO articles VALUES ('a', 'Title', 'Body one. Body two.', '2024-01-02', 'Dawn',"
        " 'https://x.test/a', NULL, 'h');"
        "CREATE TABLE passages (id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, position INTEGER NOT NULL,"
        " start INTEGER NOT NULL, end INTEGER NOT NULL, text_hash TEXT NOT NULL, embed_hash TEXT NOT NULL);"
        "INSERT INTO passages VALUES (0, 'a', 0, 10, 19, 't', 'e');"
    )
    old.commit()
    old.close()
    as_it_is = MetadataStore(path, readonly=True)  # a reader opens an old version unchanged
    assert as_it_is.passages([0])[0].text == "Body two." and as_it_is.passages([0])[0].sentences is None
    as_it_is.close()
    writer = MetadataStore(path, readonly=False)
    columns = [r[1] for r in writer._conn.execute("PRAGMA table_info(articles)")]
    passage_columns = [r[1] for r in writer._conn.execute("PRAGMA table_info(passages)")]
    writer.close()
    assert columns == ["id", "title", "date", "source", "url", "path", "content_hash", "text"]
    assert passage_columns[-1] == "sentences"
    reader = MetadataStore(path, readonly=True)
    assert reader.article("a") == Article(
        "a", "Title", "Body one. Body two.", D(2024, 1, 2), "Dawn", "https://x.test/a"
    )
    assert reader.passages([0])[0].text == "Body two."
    assert reader.passages([0])[0].sentences is None  # an old row: the highlight splits it itself
    assert cols(reader).filtered_ids(None, None, ["dawn"]).tolist() == [0]
    reader.close()


def _mapped(array: np.ndarray) -> bool:
    """Whether the array's memory is a mapped file (read on demand), not a loaded copy."""
    base = array
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None)
    return base is not None


def test_a_writer_leaves_passage_columns_that_readers_map_and_check(tmp_path: Path) -> None:
    path = tmp_path / FILENAME
    writer = MetadataStore(path, readonly=False)
    writer.begin()
    writer.insert(
        Article("a", "T", "One. Two.", D(2024, 5, 6), "Dawn"), "h", [NewPassage(7, "a", 0, 0, 4, "t", "e")]
    )
    writer.insert(Article("b", "T", "One.", None, "Dawn"), "h2", [NewPassage(9, "b", 0, 0, 4, "t", "e")])
    writer.commit()
    cols(writer).write()
    writer.close()
    reader = MetadataStore(path, readonly=True)
    ids, days = cols(reader).passage_days()
    assert _mapped(ids) and ids.tolist() == [7, 9]
    assert days.tolist() == [D(2024, 5, 6).toordinal(), UNDATED]
    group_ids, articles, texts = cols(reader).passage_groups()
    assert _mapped(group_ids) and group_ids.tolist() == [7, 9]
    assert articles[0] != articles[1] and texts[0] == texts[1]  # two articles, one (syndicated) text
    assert cols(reader).are_current()
    reader.close()
    np.save(tmp_path / DAYS_FILENAME, np.array([[7, 9], [UNDATED, UNDATED]]))  # a sidecar that lies
    assert not cols(MetadataStore(path, readonly=True)).are_current()
    writer = MetadataStore(path, readonly=False)
    cols(writer).write()
    writer.close()
    np.save(tmp_path / GROUPS_FILENAME, np.array([[7, 9], [0, 0], [0, 0]]))  # one that merges articles
    assert not cols(MetadataStore(path, readonly=True)).are_current()
    (tmp_path / GROUPS_FILENAME).unlink()  # a version written before the file existed: computed
    older = MetadataStore(path, readonly=True)
    assert cols(older).are_current() and cols(older).passage_groups()[2].tolist() == [0, 0]


def test_groups_number_articles_and_texts_of_the_given_passages(meta: MetadataStore) -> None:
    feb, undated = PIDS["feb"], PIDS["undated"]
    _, articles, texts, positions = cols(meta).columns(np.array([feb[0], feb[1], undated[0], 999]))
    assert articles[0] == articles[1] != articles[2] and articles[3] == -1 and texts[3] == -1
    assert positions.tolist() == [0, 1, 0, -1]  # each passage's place in its article
    assert texts[0] == texts[2] != texts[1]  # every article's first passage is the shared wire copy
    assert (
        cols(meta).passage_groups()[0] is cols(meta).passage_groups()[0]
    )  # read once per immutable snapshot


def test_sentence_spans_round_trip_through_the_store(tmp_path: Path) -> None:
    path = tmp_path / FILENAME
    writer = MetadataStore(path, readonly=False)
    writer.begin()
    article = Article("a", "T", "One two. Three four.", D(2024, 5, 6), "Dawn")
    writer.insert(
        article,
        "h",
        [NewPassage(1, "a", 0, 0, 20, "t", "e", [(0, 8), (9, 20)]), NewPassage(2, "a", 1, 9, 20, "u", "f")],
    )
    writer.commit()
    writer.close()
    rows = MetadataStore(path, readonly=True).passages([1, 2])
    assert rows[1].sentences == ((0, 8), (9, 20)) and rows[2].sentences is None


def test_text_copies_count_the_passages_carrying_each_text(meta: MetadataStore) -> None:
    texts = cols(meta).columns(np.array([PIDS["feb"][0], PIDS["feb"][1], 999])).texts
    assert cols(meta).text_copies(texts).tolist() == [
        len(ARTICLES),
        1,
        0,
    ]  # the wire copy is in every article


def _insert(writer: MetadataStore, article_id: str, date: dt.date | None, texts: dict[int, str]) -> None:
    """An article whose passages (id -> text hash) are given."""
    passages = [NewPassage(pid, article_id, n, 0, 4, h, h) for n, (pid, h) in enumerate(texts.items())]
    writer.insert(Article(article_id, "T", "Body.", date, "Dawn"), article_id, passages)


def _first_version(tmp_path: Path, articles: dict[str, tuple[dt.date | None, dict[int, str]]]) -> Path:
    """A version written in full (column files included): article id -> (date, passage texts)."""
    (tmp_path / "v1").mkdir()
    base = tmp_path / "v1" / FILENAME
    writer = MetadataStore(base, readonly=False)
    writer.begin()
    for article_id, (date, texts) in articles.items():
        _insert(writer, article_id, date, texts)
    writer.commit()
    cols(writer).write()
    writer.close()
    return base


def _next_version(tmp_path: Path, base: Path, name: str) -> Path:
    """A copy of a version's files, as `LocalBackend.begin` makes for a writer."""
    copy = tmp_path / name
    copy.mkdir()
    for item in base.parent.iterdir():
        copy.joinpath(item.name).write_bytes(item.read_bytes())
    return copy / FILENAME


def test_a_writer_brings_the_column_files_it_began_with_up_to_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = _first_version(
        tmp_path,
        {
            "a": (D(2024, 1, 2), {0: "wire", 1: "a-only"}),
            "b": (None, {2: "wire", 3: "b-only"}),
            "c": (D(2024, 1, 3), {4: "c-only"}),
        },
    )

    path = _next_version(tmp_path, base, "v2")
    writer = MetadataStore(path, readonly=False)
    monkeypatch.setattr(cols(writer), "_compute_days", lambda: pytest.fail("rescanned every row"))
    monkeypatch.setattr(cols(writer), "_compute_groups", lambda: pytest.fail("rescanned every row"))
    writer.begin()
    writer.delete_articles(["a"])
    _insert(writer, "d", D(2024, 2, 1), {5: "a-only", 6: "b-only", 7: "wire"})  # texts seen before
    _insert(writer, "e", None, {8: "new", 9: "new"})  # one text twice
    _insert(writer, "gone", None, {10: "c-only"})
    writer.delete_articles(["gone"])  # inserted and deleted within one write
    ids = cols(writer).write(incremental=True)
    writer.commit()
    writer.close()

    reader = MetadataStore(path, readonly=True)
    assert ids.tolist() == reader.all_passage_ids().tolist() == [2, 3, 4, 5, 6, 7, 8, 9]
    assert cols(reader).are_current()
    _, days = cols(reader).passage_days()
    assert (
        days.tolist()
        == [UNDATED, UNDATED, D(2024, 1, 3).toordinal()] + [D(2024, 2, 1).toordinal()] * 3 + [UNDATED] * 2
    )
    _, articles, texts = cols(reader).passage_groups()
    assert len({*articles[:2].tolist()}) == 1 and len(set(articles.tolist())) == 4
    by_id = dict(zip(ids.tolist(), texts.tolist(), strict=True))
    # equal texts, equal numbers
    assert by_id[7] == by_id[2] and by_id[6] == by_id[3] and by_id[8] == by_id[9]
    assert len(set(by_id.values())) == 5  # wire, b-only, c-only, a-only (only d's now), new
    reader.close()


def test_a_writer_rescans_when_the_column_files_are_missing_or_do_not_fit(tmp_path: Path) -> None:
    base = _first_version(tmp_path, {"a": (D(2024, 1, 2), {0: "x", 1: "y"})})
    for broken in ("missing", "short"):
        path = _next_version(tmp_path, base, broken)
        if broken == "missing":
            path.with_name(GROUPS_FILENAME).unlink()
        else:
            np.save(path.with_name(DAYS_FILENAME), np.array([[0], [UNDATED]]))
            np.save(path.with_name(GROUPS_FILENAME), np.array([[0], [0], [0]]))
        writer = MetadataStore(path, readonly=False)
        writer.begin()
        _insert(writer, "b", None, {2: "x"})
        cols(writer).write(incremental=True)
        writer.commit()
        writer.close()
        reader = MetadataStore(path, readonly=True)
        assert cols(reader).passage_days()[0].tolist() == [0, 1, 2] and cols(reader).are_current(), broken
        reader.close()


def test_numbers_left_sparse_by_deletions_are_renumbered_densely(tmp_path: Path) -> None:
    base = _first_version(tmp_path, {f"a{n}": (None, {n: f"text{n}"}) for n in range(10)})

    path = _next_version(tmp_path, base, "v2")
    writer = MetadataStore(path, readonly=False)
    writer.begin()
    writer.delete_articles([f"a{n}" for n in range(9)])
    _insert(writer, "b", None, {10: "text9", 11: "fresh"})
    cols(writer).write(incremental=True)
    writer.commit()
    writer.close()

    reader = MetadataStore(path, readonly=True)
    _, articles, texts = cols(reader).passage_groups()
    assert cols(reader).are_current()
    assert articles.max() < 3 and texts.max() < 3  # not 10 and 11: readers count per number
    assert cols(reader).text_copies(texts).tolist() == [2, 2, 1]  # a9 and b share "text9"
