"""SQLite rows of the local backend: articles and their passages, queried by id without loading the corpus."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.articles import Article
from embeddings.backends.base import UNDATED, PassageRow
from embeddings.errors import IndexCorruptError

FILENAME = "meta.sqlite"

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
        # Closed when this store goes, not when the connection does: a connection is freed only by
        # the cycle collector (its statement cache refers back to it), and until then it keeps a
        # superseded version's file, deleted from disk, open.
        weakref.finalize(self, self._conn.close)
        # sqlite3 connections are not safe for concurrent use from several threads.
        self._lock = threading.Lock()
        self.readonly = readonly
        # A writer's own changes, from which `ColumnFiles` brings the files it began with up to date.
        self.removed: list[np.ndarray] = []
        # passage id, article id, day, text hash, position in its article
        self.added: list[tuple[int, str, int, str, int]] = []
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
            try:
                return self._conn.execute(sql, args).fetchall()
            except (sqlite3.DatabaseError, sqlite3.OperationalError) as exc:
                if not self.readonly or type(exc) not in (sqlite3.DatabaseError, sqlite3.OperationalError):
                    raise  # a writer's errors are the transaction's to tell (a full disk, ...)
                label = f"{self.path.parent.name}/{self.path.name}"
                raise IndexCorruptError(f"{label}: unreadable ({exc})") from exc

    def integrity(self) -> list[str]:
        """SQLite's own check of the file's pages and indexes (`PRAGMA quick_check`); empty when sound."""
        lines = [str(r[0]) for r in self._all("PRAGMA quick_check(5)")]
        return [] if lines == ["ok"] else lines

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
        return self.passage_ids_of([article_id])[article_id]

    def passage_ids_of(self, article_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """`passage_ids` of each given article (empty for an unknown one), in one query per chunk."""
        found: dict[str, list[int]] = {}
        for chunk in _chunks(sorted(set(article_ids))):
            marks = ",".join("?" * len(chunk))
            for article, pid in self._all(
                f"SELECT article_id, id FROM passages WHERE article_id IN ({marks})"
                " ORDER BY article_id, position",
                chunk,
            ):
                found.setdefault(article, []).append(pid)
        return {a: np.array(found.get(a, []), dtype=np.int64) for a in article_ids}

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

    def passage_dates(self) -> list[tuple[int, str | None]]:
        """`(passage id, article date)` of every passage, by ascending id."""
        return self._all(
            "SELECT p.id, a.date FROM passages p JOIN articles a ON a.id = p.article_id ORDER BY p.id"
        )

    def passage_positions(self) -> list[tuple[int, int]]:
        """`(passage id, position in its article)` of every passage, by ascending id."""
        return self._all("SELECT id, position FROM passages ORDER BY id")

    def passage_keys(self) -> list[tuple[int, str, str]]:
        """`(passage id, article id, text hash)` of every passage, by ascending id."""
        return self._all("SELECT id, article_id, text_hash FROM passages ORDER BY id")

    def passage_ids_of_sources(self, sources: Sequence[str]) -> np.ndarray:
        """Ids of the passages whose article's source is one of `sources`, matched as the other
        backends and `Filters.admits` match them (`str.lower` on both sides). SQLite's NOCASE index
        folds ASCII only, so a name with other letters ("élysée wire" for "Élysée Wire") is first
        found among the archive's source names."""
        names = sorted({s.lower() for s in sources if s.isascii()})
        other = {s.lower() for s in sources if not s.isascii()}
        if other:
            names += [name for name, _ in self.sources() if name.lower() in other]
        ids: list[int] = []
        for chunk in _chunks(names):  # within SQLite's limit on bound variables, however many asked
            rows = self._all(
                "SELECT p.id FROM passages p JOIN articles a ON a.id = p.article_id"
                f" WHERE a.source COLLATE NOCASE IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            ids += [r[0] for r in rows]
        return np.array(sorted(ids), dtype=np.int64)

    def first_passages_of_texts(self, text_hashes: Sequence[str], below: int) -> list[tuple[str, int]]:
        """`(text hash, smallest passage id below `below` carrying it)` for the stored ones."""
        out: list[tuple[str, int]] = []
        for chunk in _chunks(sorted(set(text_hashes))):
            marks = ",".join("?" * len(chunk))
            out += self._all(
                f"SELECT text_hash, min(id) FROM passages WHERE text_hash IN ({marks}) AND id < ?"
                " GROUP BY text_hash",
                [*chunk, below],
            )
        return out

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

    def embed_hashes(self, ids: np.ndarray) -> list[str]:
        """The embed hash of each given passage id, in the order given (ids must exist)."""
        stored = dict(self._all("SELECT id, embed_hash FROM passages"))
        return [stored[int(i)] for i in ids]

    def all_passage_ids(self) -> np.ndarray:
        return np.array([r[0] for r in self._all("SELECT id FROM passages ORDER BY id")], dtype=np.int64)

    def sources(self) -> list[tuple[str, int]]:
        return self._all(
            "SELECT source, count(*) FROM articles WHERE source IS NOT NULL"
            " GROUP BY source ORDER BY 2 DESC, 1"
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
        self.removed.append(out)
        return out

    def insert(self, article: Article, content_hash: str, passages: Sequence[NewPassage]) -> None:
        day = article.date.toordinal() if article.date else UNDATED
        self.added += [(p.id, article.id, day, p.text_hash, p.position) for p in passages]
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
