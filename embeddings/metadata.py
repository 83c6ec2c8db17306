"""SQLite metadata store: articles and their passages, queried by id without loading the corpus."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.articles import Article

FILENAME = "meta.sqlite"
# Per-passage columns written beside the database with each version, read once per snapshot so
# ranking needs no SQL: passage ids ascending, then the columns. Versions written before a file
# existed compute it once when first asked.
DAYS_FILENAME = "passage_days.npy"  # (2, n) int64: ids, their article's day ordinal
GROUPS_FILENAME = "passage_groups.npy"  # (3, n) int64: ids, article number, text number
UNDATED = 0  # day ordinal of an undated article (real ordinals start at 1 for 0001-01-01)

# `text` is the last column of `articles`: SQLite reads a row's columns in order, so a column stored
# after a long body costs a walk through the body's overflow pages (2.5x slower candidate look-ups).
_ARTICLES = """
CREATE TABLE IF NOT EXISTS {name} (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    date TEXT,
    source TEXT,
    url TEXT,
    path TEXT,
    content_hash TEXT NOT NULL,
    text TEXT NOT NULL
);
"""
_ARTICLE_COLUMNS = "id, title, date, source, url, path, content_hash, text"
_SCHEMA = (
    _ARTICLES.format(name="articles")
    + """
CREATE INDEX IF NOT EXISTS articles_date ON articles(date);
CREATE INDEX IF NOT EXISTS articles_source ON articles(source COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles(id),
    position INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text_hash TEXT NOT NULL,
    embed_hash TEXT NOT NULL,
    sentences BLOB
);
CREATE INDEX IF NOT EXISTS passages_article ON passages(article_id, position);
CREATE INDEX IF NOT EXISTS passages_text_hash ON passages(text_hash);
CREATE INDEX IF NOT EXISTS passages_embed_hash ON passages(embed_hash);
"""
)


@dataclass(frozen=True, slots=True)
class PassageRow:
    """A passage joined with its article's metadata, as a query needs it."""

    id: int
    article_id: str
    position: int
    start: int
    end: int
    text: str
    text_hash: str
    title: str
    date: dt.date | None
    source: str | None
    url: str | None
    sentences: tuple[tuple[int, int], ...] | None = None  # spans in `text`, stored at index time


@dataclass(frozen=True, slots=True)
class NewPassage:
    """A passage about to be written, with its id and content hashes."""

    id: int
    article_id: str
    position: int
    start: int
    end: int
    text_hash: str
    embed_hash: str
    sentences: Sequence[tuple[int, int]] | None = None  # `split_sentences` of its text


class MetadataStore:
    """One SQLite file; read-only snapshots open it immutable, writers inside a private copy."""

    def __init__(self, path: Path, *, readonly: bool) -> None:
        self.path = path
        if readonly:
            uri = f"file:{path}?mode=ro&immutable=1"
            self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        else:
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._conn.executescript(_SCHEMA)
            self._upgrade()
        # sqlite3 connections are not safe for concurrent use from several threads.
        self._lock = threading.Lock()
        self._readonly = readonly
        self._columns_read: dict[str, tuple[np.ndarray, ...]] = {}
        self._copies: np.ndarray | None = None  # passages per text number (read-only stores keep it)
        # A writer's own changes, from which it brings the column files it began with up to date.
        self._removed: list[np.ndarray] = []
        self._added: list[tuple[int, str, int, str]] = []  # passage id, article id, day, text hash
        # A version written by an earlier release (read as it is) may lack the column.
        passage_columns = {r[1] for r in self._conn.execute("PRAGMA table_info(passages)")}
        self._sentences = "p.sentences" if "sentences" in passage_columns else "NULL"

    def close(self) -> None:
        self._conn.close()

    def _upgrade(self) -> None:
        """Bring a file of an older layout up to this one: add the passages' `sentences` column and
        rewrite an `articles` table that stores the body before the metadata."""
        passage_columns = [r[1] for r in self._conn.execute("PRAGMA table_info(passages)")]
        if "sentences" not in passage_columns:  # rows written before keep NULL: split at query time
            self._conn.execute("ALTER TABLE passages ADD COLUMN sentences BLOB")
        columns = [r[1] for r in self._conn.execute("PRAGMA table_info(articles)")]
        if columns[-1] == "text":
            return
        self._conn.executescript(
            "BEGIN;"
            + _ARTICLES.format(name="articles_upgraded")
            + f"INSERT INTO articles_upgraded ({_ARTICLE_COLUMNS}) SELECT {_ARTICLE_COLUMNS} FROM articles;"
            "DROP TABLE articles;"
            "ALTER TABLE articles_upgraded RENAME TO articles;" + _SCHEMA + "COMMIT;"
        )

    def _all(self, sql: str, args: Sequence[object] = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    # --- reads -----------------------------------------------------------------------------

    def counts(self) -> tuple[int, int]:
        """`(articles, passages)`."""
        ((a,),), ((p,),) = (
            self._all("SELECT count(*) FROM articles"),
            self._all("SELECT count(*) FROM passages"),
        )
        return int(a), int(p)

    def content_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        """Content hash of each given article id that is stored."""
        out: dict[str, str] = {}
        for chunk in _chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            out.update(self._all(f"SELECT id, content_hash FROM articles WHERE id IN ({marks})", chunk))
        return out

    def article_ids(self) -> list[str]:
        return [r[0] for r in self._all("SELECT id FROM articles ORDER BY id")]

    def article(self, article_id: str) -> Article | None:
        rows = self._all(
            "SELECT id, title, text, date, source, url, path FROM articles WHERE id = ?", (article_id,)
        )
        if not rows:
            return None
        i, title, text, date, source, url, path = rows[0]
        return Article(i, title, text, _date(date), source, url, path)

    def passage_ids(self, article_id: str) -> np.ndarray:
        rows = self._all("SELECT id FROM passages WHERE article_id = ? ORDER BY position", (article_id,))
        return np.array([r[0] for r in rows], dtype=np.int64)

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        """Passages by id, joined with article metadata (text sliced in SQL, no corpus load)."""
        text = f"substr(a.text, p.start + 1, p.end - p.start), {self._sentences}"
        out: dict[int, PassageRow] = {}
        for chunk in _chunks([int(i) for i in ids]):
            marks = ",".join("?" * len(chunk))
            rows = self._all(
                "SELECT p.id, p.article_id, p.position, p.start, p.end,"
                f" {text}, p.text_hash,"
                " a.title, a.date, a.source, a.url"
                f" FROM passages p JOIN articles a ON a.id = p.article_id WHERE p.id IN ({marks})",
                chunk,
            )
            for r in rows:
                out[r[0]] = PassageRow(*r[:6], *r[7:9], _date(r[9]), r[10], r[11], _spans(r[6]))
        return out

    def article_slice(self, article_id: str, start: int, end: int) -> str:
        """`article.text[start:end]` of one article, sliced in SQL ("" for an unknown id)."""
        rows = self._all(
            "SELECT substr(text, ?, ?) FROM articles WHERE id = ?", (start + 1, end - start, article_id)
        )
        return rows[0][0] if rows else ""

    def max_date(self) -> dt.date | None:
        ((value,),) = self._all("SELECT max(date) FROM articles")
        return _date(value)

    def filtered_passage_ids(
        self,
        since: dt.date | None,
        until: dt.date | None,
        sources: Sequence[str] | None,
        as_of: dt.date | None = None,
    ) -> np.ndarray:
        """Ids (ascending) of passages whose article matches every given filter (dates inclusive).

        `since`/`until` exclude undated articles; `as_of` excludes only articles dated after it.
        Dates are compared in a per-passage day column read once per (immutable) snapshot, so a
        date filter costs a vector comparison, not a join over the corpus.
        """
        ids, days = self.passage_days()
        keep = np.ones(len(ids), dtype=bool)
        if as_of is not None:
            keep &= (days == UNDATED) | (days <= as_of.toordinal())
        if since is not None:
            keep &= (days != UNDATED) & (days >= since.toordinal())
        if until is not None:
            keep &= (days != UNDATED) & (days <= until.toordinal())
        if sources:
            rows = self._all(
                "SELECT p.id FROM passages p JOIN articles a ON a.id = p.article_id"
                f" WHERE a.source COLLATE NOCASE IN ({','.join('?' * len(sources))})",
                list(sources),
            )
            keep &= np.isin(ids, np.array([r[0] for r in rows], dtype=np.int64))
        return ids[keep]

    def passage_days(self) -> tuple[np.ndarray, np.ndarray]:
        """`(ids, days)`: every passage id, ascending, and its article's date as a proleptic
        ordinal (`UNDATED` when it has none); two int64 arrays of the passage count."""
        ids, days = self._columns(DAYS_FILENAME, self._compute_days)
        return ids, days

    def days_of(self, ids: np.ndarray) -> np.ndarray:
        """Day ordinal of each given passage's article (`UNDATED` when undated or unknown)."""
        all_ids, all_days = self.passage_days()
        return _lookup(all_ids, ids, all_days, UNDATED)

    def passage_groups(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`(ids, articles, texts)`: every passage id, ascending; a number per article (equal for
        passages of one article) and per passage text (equal for equal `text_hash`, i.e. the same
        words: syndicated copies); three int64 arrays of the passage count."""
        ids, articles, texts = self._columns(GROUPS_FILENAME, self._compute_groups)
        return ids, articles, texts

    def groups_of(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`(articles, texts)` numbers of each given passage (see `passage_groups`); -1 when unknown."""
        all_ids, articles, texts = self.passage_groups()
        return _lookup(all_ids, ids, articles, -1), _lookup(all_ids, ids, texts, -1)

    def text_copies(self, texts: np.ndarray) -> np.ndarray:
        """How many passages of the archive carry each given text number (0 for -1)."""
        counts = self._copies
        if counts is None:
            counts = np.bincount(self.passage_groups()[2], minlength=1)
            if self._readonly:
                self._copies = counts
        known = (texts >= 0) & (texts < len(counts))
        return np.where(known, counts[np.where(known, texts, 0)], 0)

    def _columns(
        self, filename: str, compute: Callable[[], tuple[np.ndarray, ...]]
    ) -> tuple[np.ndarray, ...]:
        """A read-only store maps the columns file its writer left beside it (or computes the
        columns, for versions written before that file existed) and keeps them; a writer's
        store computes them from its current rows."""
        if filename in self._columns_read:
            return self._columns_read[filename]
        sidecar = self.path.with_name(filename)
        if not self._readonly:
            return compute()
        # Plain array views of the mapped file: indexing an np.memmap costs a subclass hop per call.
        mapped = np.load(sidecar, mmap_mode="r") if sidecar.is_file() else None
        columns = tuple(np.asarray(row) for row in mapped) if mapped is not None else compute()
        self._columns_read[filename] = columns
        return columns

    def _compute_days(self) -> tuple[np.ndarray, np.ndarray]:
        rows = self._all(
            "SELECT p.id, a.date FROM passages p JOIN articles a ON a.id = p.article_id ORDER BY p.id"
        )
        ordinal = {d: dt.date.fromisoformat(d).toordinal() for d in {r[1] for r in rows} if d}
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        days = np.fromiter((ordinal.get(r[1], UNDATED) for r in rows), dtype=np.int64, count=len(rows))
        return ids, days

    def _compute_groups(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = self._all("SELECT id, article_id, text_hash FROM passages ORDER BY id")
        return (
            np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
            _numbered((r[1] for r in rows), start=0),
            _numbered((r[2] for r in rows), start=0),
        )

    def write_columns(self, *, incremental: bool = False) -> np.ndarray:
        """Write the per-passage column files beside the database (writers, after their last change).

        With `incremental`, the column files beside the database (the version this writer began
        from: `IndexDirectory.begin` copies them) are brought up to date with this writer's own
        deletions and insertions: array work, and SQL only about the inserted passages' texts,
        instead of reading every row. Without it, or when those files are missing or disagree
        with the row count, every row is read.

        Returns:
            Every passage id, ascending `(n,)` int64.
        """
        columns = self._updated_columns() if incremental else None
        if columns is None:
            columns = {DAYS_FILENAME: self._compute_days(), GROUPS_FILENAME: self._compute_groups()}
        for filename, arrays in columns.items():
            np.save(self.path.with_name(filename), np.stack(arrays))
        self._removed, self._added = [], []  # the files now hold these changes
        return columns[DAYS_FILENAME][0]

    def _updated_columns(self) -> dict[str, tuple[np.ndarray, ...]] | None:
        """The columns of the files beside the database after this writer's changes (see
        `write_columns`); None when the files are missing or do not fit the rows."""
        days_file, groups_file = self.path.with_name(DAYS_FILENAME), self.path.with_name(GROUPS_FILENAME)
        if not (days_file.is_file() and groups_file.is_file()):
            return None
        (ids, days), (group_ids, articles, texts) = np.load(days_file), np.load(groups_file)
        if not np.array_equal(ids, group_ids):
            return None
        removed = np.concatenate(self._removed) if self._removed else np.empty(0, np.int64)
        if len(removed):
            keep = ~np.isin(ids, removed)
            ids, days, articles, texts = ids[keep], days[keep], articles[keep], texts[keep]
        gone = set(removed.tolist())
        added = sorted(a for a in self._added if a[0] not in gone)  # rows deleted again are gone
        if added:
            new_ids = np.array([a[0] for a in added], dtype=np.int64)
            if len(ids) and new_ids[0] <= ids[-1]:  # ids are allocated above every stored one
                return None
            new_articles = _numbered((a[1] for a in added), start=int(articles.max(initial=-1)) + 1)
            new_texts = self._text_numbers([a[3] for a in added], int(new_ids[0]), ids, texts)
            ids = np.concatenate([ids, new_ids])
            days = np.concatenate([days, np.array([a[2] for a in added], dtype=np.int64)])
            articles = np.concatenate([articles, new_articles])
            texts = np.concatenate([texts, new_texts])
        if len(ids) != self.counts()[1]:
            return None
        return {
            DAYS_FILENAME: (ids, days),
            GROUPS_FILENAME: (ids, _compact(articles), _compact(texts)),
        }

    def _text_numbers(
        self, hashes: list[str], first_new: int, ids: np.ndarray, texts: np.ndarray
    ) -> np.ndarray:
        """Text numbers of newly added passages (`hashes`, in id order): a stored passage's number
        when one of the kept passages (`ids`, `texts`) carries the same text, else a new one."""
        stored: dict[str, int] = {}
        for chunk in _chunks(sorted(set(hashes))):
            marks = ",".join("?" * len(chunk))
            rows = self._all(
                f"SELECT text_hash, min(id) FROM passages WHERE text_hash IN ({marks}) AND id < ?"
                " GROUP BY text_hash",
                [*chunk, first_new],
            )
            stored.update({h: int(texts[np.searchsorted(ids, pid)]) for h, pid in rows})
        fresh: dict[str, int] = {}
        start = int(texts.max(initial=-1)) + 1
        numbers = [stored[h] if h in stored else fresh.setdefault(h, start + len(fresh)) for h in hashes]
        return np.array(numbers, dtype=np.int64)

    def columns_are_current(self) -> bool:
        """Whether the per-passage columns in use agree with the rows (a check of the column files).

        Article and text numbers are labels: they agree when they group the passages alike."""
        (ids, days), (group_ids, articles, texts) = self.passage_days(), self.passage_groups()
        (fresh_ids, fresh_days), (_, fresh_articles, fresh_texts) = (
            self._compute_days(),
            self._compute_groups(),
        )
        return (
            np.array_equal(ids, fresh_ids)
            and np.array_equal(group_ids, fresh_ids)
            and np.array_equal(days, fresh_days)
            and np.array_equal(_first_seen(articles), fresh_articles)
            and np.array_equal(_first_seen(texts), fresh_texts)
        )

    def vector_ids_by_embed_hash(self, hashes: Sequence[str]) -> dict[str, int]:
        """Some passage id whose embedded text had each given hash (the embedding cache)."""
        out: dict[str, int] = {}
        for chunk in _chunks(list(set(hashes))):
            marks = ",".join("?" * len(chunk))
            out.update(
                self._all(
                    "SELECT embed_hash, min(id) FROM passages"
                    f" WHERE embed_hash IN ({marks}) GROUP BY embed_hash",
                    chunk,
                )
            )
        return out

    def duplicate_passages(self, text_hashes: Sequence[str]) -> dict[str, list[str]]:
        """For each text hash, the ids of every article holding a passage with that text."""
        out: dict[str, list[str]] = {}
        for chunk in _chunks(list(set(text_hashes))):
            marks = ",".join("?" * len(chunk))
            for h, aid in self._all(
                f"SELECT DISTINCT text_hash, article_id FROM passages WHERE text_hash IN ({marks})", chunk
            ):
                out.setdefault(h, []).append(aid)
        return out

    def passage_texts(self, ids: np.ndarray) -> list[tuple[int, str, str]]:
        """`(passage id, article title, passage text)` for the given ids, in ascending id order."""
        out: list[tuple[int, str, str]] = []
        for chunk in _chunks(sorted(int(i) for i in ids)):
            marks = ",".join("?" * len(chunk))
            out += self._all(
                "SELECT p.id, a.title, substr(a.text, p.start + 1, p.end - p.start)"
                " FROM passages p JOIN articles a ON a.id = p.article_id"
                f" WHERE p.id IN ({marks}) ORDER BY p.id",
                chunk,
            )
        return out

    def fill_sentences(self, split: Callable[[str], Sequence[tuple[int, int]]]) -> int:
        """Store `split(text)` for every passage that has no sentence spans (written by an older
        release); returns how many were filled."""
        rows = self._all(
            "SELECT p.id, substr(a.text, p.start + 1, p.end - p.start)"
            " FROM passages p JOIN articles a ON a.id = p.article_id WHERE p.sentences IS NULL"
        )
        with self._lock:
            self._conn.executemany(
                "UPDATE passages SET sentences = ? WHERE id = ?",
                [(_span_blob(split(text)), pid) for pid, text in rows],
            )
        return len(rows)

    def all_passage_ids(self) -> np.ndarray:
        return np.array([r[0] for r in self._all("SELECT id FROM passages ORDER BY id")], dtype=np.int64)

    def sources(self) -> list[tuple[str, int]]:
        return self._all(
            "SELECT source, count(*) FROM articles WHERE source IS NOT NULL GROUP BY source ORDER BY 2 DESC"
        )

    def orphans(self) -> int:
        """Passages whose article is missing, plus articles without passages."""
        (a,) = self._all("SELECT count(*) FROM passages WHERE article_id NOT IN (SELECT id FROM articles)")
        (b,) = self._all("SELECT count(*) FROM articles WHERE id NOT IN (SELECT article_id FROM passages)")
        return int(a[0]) + int(b[0])

    # --- writes (only on a writer's private copy) -----------------------------------------

    def delete_articles(self, ids: Sequence[str]) -> np.ndarray:
        """Delete articles and their passages; returns the removed passage ids."""
        removed: list[int] = []
        for chunk in _chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            removed += [
                r[0] for r in self._all(f"SELECT id FROM passages WHERE article_id IN ({marks})", chunk)
            ]
            with self._lock:
                self._conn.execute(f"DELETE FROM passages WHERE article_id IN ({marks})", chunk)
                self._conn.execute(f"DELETE FROM articles WHERE id IN ({marks})", chunk)
        out = np.array(removed, dtype=np.int64)
        self._removed.append(out)
        return out

    def insert(self, article: Article, content_hash: str, passages: Sequence[NewPassage]) -> None:
        day = article.date.toordinal() if article.date else UNDATED
        self._added += [(p.id, article.id, day, p.text_hash) for p in passages]
        with self._lock:
            self._conn.execute(
                "INSERT INTO articles (id, title, text, date, source, url, path, content_hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    article.id,
                    article.title,
                    article.text,
                    article.date.isoformat() if article.date else None,
                    article.source,
                    article.url,
                    article.path,
                    content_hash,
                ),
            )
            self._conn.executemany(
                "INSERT INTO passages"
                " (id, article_id, position, start, end, text_hash, embed_hash, sentences)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        p.id,
                        p.article_id,
                        p.position,
                        p.start,
                        p.end,
                        p.text_hash,
                        p.embed_hash,
                        None if p.sentences is None else _span_blob(p.sentences),
                    )
                    for p in passages
                ],
            )

    def begin(self) -> None:
        with self._lock:
            self._conn.execute("BEGIN")

    def commit(self) -> None:
        with self._lock:
            self._conn.execute("COMMIT")

    def max_passage_id(self) -> int:
        (row,) = self._all("SELECT coalesce(max(id), -1) FROM passages")
        return int(row[0])


def _lookup(all_ids: np.ndarray, ids: np.ndarray, column: np.ndarray, missing: int) -> np.ndarray:
    """`column` at each of `ids` (found in the ascending `all_ids`), `missing` where absent."""
    if not len(all_ids):
        return np.full(len(ids), missing, dtype=np.int64)
    at = np.minimum(np.searchsorted(all_ids, ids), len(all_ids) - 1)
    return np.where(all_ids[at] == ids, column[at], missing)


def _numbered(values: Iterable[str], start: int) -> np.ndarray:
    """Numbers for `values`, equal for equal values, from `start` in order of first sight."""
    seen: dict[str, int] = {}
    return np.array([seen.setdefault(v, start + len(seen)) for v in values], dtype=np.int64)


def _first_seen(labels: np.ndarray) -> np.ndarray:
    """`labels` renumbered 0, 1, 2... in order of first appearance (equal labels stay equal)."""
    if not len(labels):
        return labels
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse]


def _compact(labels: np.ndarray) -> np.ndarray:
    """`labels` as they are, or renumbered densely once writes have left them sparse (numbers of
    deleted passages are never reused, and readers count passages per number)."""
    if not len(labels) or labels.max() < 2 * len(labels):
        return labels
    return np.unique(labels, return_inverse=True)[1].astype(np.int64)


def _span_blob(spans: Sequence[tuple[int, int]]) -> bytes:
    """Sentence spans as little-endian int32 (start, end) pairs (read back by `_spans`)."""
    return np.asarray(spans, dtype="<i4").tobytes()


def _spans(blob: bytes | None) -> tuple[tuple[int, int], ...] | None:
    """Sentence spans stored as little-endian int32 (start, end) pairs; None when not stored."""
    if blob is None:
        return None
    flat = np.frombuffer(blob, dtype="<i4").tolist()
    return tuple(zip(flat[::2], flat[1::2], strict=True))


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _chunks(items: list, size: int = 900) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
