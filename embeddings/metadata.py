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
DAYS_FILENAME = "passage_days.npy"  # (2, n) int64: passage ids ascending, their article's day ordinal
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
        self._days: tuple[np.ndarray, np.ndarray] | None = None
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

    def passages(self, ids: Iterable[int], *, with_text: bool = True) -> dict[int, PassageRow]:
        """Passages by id, joined with article metadata (text sliced in SQL, no corpus load).

        Ranking needs only the metadata; `with_text=False` leaves `text` empty and skips reading
        article bodies, which is most of the cost.
        """
        text = f"substr(a.text, p.start + 1, p.end - p.start), {self._sentences}" if with_text else "'', NULL"
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
        ordinal (`UNDATED` when it has none); two int64 arrays of the passage count.

        A read-only store maps the `DAYS_FILENAME` its writer left beside it (or, for versions
        written before that file existed, computes the columns once) and keeps them.
        """
        if self._days is not None:
            return self._days
        sidecar = self.path.with_name(DAYS_FILENAME)
        if self._readonly and sidecar.is_file():
            table = np.load(sidecar, mmap_mode="r")
            self._days = (table[0], table[1])
            return self._days
        days = self._compute_days()
        if self._readonly:
            self._days = days
        return days

    def days_of(self, ids: np.ndarray) -> np.ndarray:
        """Day ordinal of each given passage's article (`UNDATED` when undated or unknown)."""
        all_ids, all_days = self.passage_days()
        if not len(all_ids):
            return np.full(len(ids), UNDATED, dtype=np.int64)
        at = np.minimum(np.searchsorted(all_ids, ids), len(all_ids) - 1)
        return np.where(all_ids[at] == ids, all_days[at], UNDATED)

    def _compute_days(self) -> tuple[np.ndarray, np.ndarray]:
        rows = self._all(
            "SELECT p.id, a.date FROM passages p JOIN articles a ON a.id = p.article_id ORDER BY p.id"
        )
        ordinal = {d: dt.date.fromisoformat(d).toordinal() for d in {r[1] for r in rows} if d}
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        days = np.fromiter((ordinal.get(r[1], UNDATED) for r in rows), dtype=np.int64, count=len(rows))
        return ids, days

    def write_days(self) -> None:
        """Write the `passage_days` columns beside the database (writers, after their last change)."""
        ids, days = self._compute_days()
        np.save(self.path.with_name(DAYS_FILENAME), np.stack([ids, days]))

    def days_are_current(self) -> bool:
        """Whether the day columns in use agree with the rows (a check of the sidecar file)."""
        ids, days = self.passage_days()
        fresh_ids, fresh_days = self._compute_days()
        return np.array_equal(ids, fresh_ids) and np.array_equal(days, fresh_days)

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
        return np.array(removed, dtype=np.int64)

    def insert(self, article: Article, content_hash: str, passages: Sequence[NewPassage]) -> None:
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
