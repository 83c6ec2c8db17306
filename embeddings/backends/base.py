"""The backend contract: what retrieval and the writer need of whatever holds an index.

A backend holds everything of an index together (vectors, lexical postings, the filterable
fields and the article rows) and answers at the level the retriever asks: "candidates for this
question under these filters", "these rows", "these per-passage columns". The `local` backend
keeps them in versioned directories on one machine; another engine (Milvus) fits behind the same
three protocols without touching ranking, shaping or the edges.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple, Protocol

import numpy as np

from embeddings.articles import Article

UNDATED = 0  # day ordinal of an undated article (real ordinals start at 1 for 0001-01-01)


@dataclass(frozen=True, slots=True)
class Filters:
    """Hard restrictions on candidates: dates inclusive (undated articles excluded), sources
    compared case-insensitively; `as_of` drops only articles dated after it."""

    since: dt.date | None = None
    until: dt.date | None = None
    sources: tuple[str, ...] = ()
    as_of: dt.date | None = None

    def admits(self, date: dt.date | None, source: str | None) -> bool:
        """Whether an article of this date and source passes, by the rule the backends apply in
        their searches (for the few rows read after one, such as a hit's syndicated copies)."""
        if date is None:
            return self.since is None and self.until is None and self._source_ok(source)
        return (
            (self.as_of is None or date <= self.as_of)
            and (self.since is None or date >= self.since)
            and (self.until is None or date <= self.until)
            and self._source_ok(source)
        )

    def _source_ok(self, source: str | None) -> bool:
        return not self.sources or (source or "").lower() in {s.lower() for s in self.sources}


class Candidates(NamedTuple):
    """Dense and lexical candidate lists, each best first (equal scores by id, `best_first`): ids
    `(<=n,)` int64, scores float."""

    dense_ids: np.ndarray
    dense_scores: np.ndarray
    lexical_ids: np.ndarray
    lexical_scores: np.ndarray


def best_first(ids: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A candidate list best first, equal scores by passage id: syndicated copies with the same
    vector come in one order from every backend (a search engine leaves ties in its own order).
    Which of several items tied at the last place make the list is still the engine's choice."""
    order = np.lexsort((ids, -scores))
    return ids[order], scores[order]


class Columns(NamedTuple):
    """Per-passage fields ranking needs, aligned with the ids asked for, `(len(ids),)` int64 each:
    the article's day ordinal (`UNDATED` when undated or unknown), an article number (equal for
    passages of one article), a text number (equal for passages with the same words: syndicated
    copies) and the passage's position in its article (0 first); -1 for an unknown id."""

    days: np.ndarray
    articles: np.ndarray
    texts: np.ndarray
    positions: np.ndarray


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
class PassageDraft:
    """A passage about to be written (the backend gives it its id)."""

    position: int
    start: int
    end: int
    text_hash: str  # of its words, case- and spacing-insensitive: equal for syndicated copies
    embed_hash: str  # of the exact text embedded: equal means the same vector
    sentences: Sequence[tuple[int, int]] | None = None  # sentence spans in its text


@dataclass(frozen=True, slots=True)
class ArticleWrite:
    """One article to add or replace, with its passages and their `(n, dim)` vectors."""

    article: Article
    content_hash: str
    passages: Sequence[PassageDraft]
    vectors: np.ndarray


# Vectors `(len(rows), dim)` for passages, computed as the writer embeds them (used by `repair`).
Embed = Callable[[Sequence[PassageRow]], np.ndarray]


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """What decides an index's vectors: the encoder's identity and dimension, and the chunking and
    title settings (recorded with the index; a different spec cannot reuse its vectors)."""

    encoder: str
    dim: int
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IndexInfo:
    """What one published version of an index holds and what built it."""

    version: int
    encoder: str
    dim: int
    store: str
    articles: int
    passages: int
    created: str
    settings: dict[str, Any] = field(default_factory=dict)
    checksums: bool | None = None  # whether its files carry checksums (None: the engine keeps its own)


@dataclass(frozen=True, slots=True)
class VersionCheck:
    """What checking one version found: its name, whether it is the live one, its problems (one
    line each, empty when sound) and whether its files carry checksums (None: the engine keeps its
    own; False: only its structure could be checked)."""

    version: str
    live: bool
    problems: tuple[str, ...]
    checksums: bool | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


class IndexReader(Protocol):
    """A read-only, consistent view of one index version; safe to share between threads."""

    info: IndexInfo

    def candidates(self, vector: np.ndarray, text: str | None, n: int, filters: Filters) -> Candidates:
        """Up to `n` dense candidates for the `(dim,)` unit `vector` and up to `n` lexical (BM25)
        candidates for `text` (none when `text` is None or the index has no lexical part), both
        restricted by `filters`. `filters.as_of` on or after the newest article restricts nothing."""
        ...

    def columns(self, ids: np.ndarray) -> Columns:
        """The per-passage columns of the given passage ids."""
        ...

    def text_copies(self, texts: np.ndarray) -> np.ndarray:
        """How many passages of the index carry each given text number (0 for -1)."""
        ...

    def passages(self, ids: Sequence[int]) -> dict[int, PassageRow]:
        """Rows of the given passage ids that exist."""
        ...

    def article_slice(self, article_id: str, start: int, end: int) -> str:
        """`article.text[start:end]` ("" for an unknown article)."""
        ...

    def duplicates(self, text_hashes: Sequence[str]) -> dict[str, list[str]]:
        """For each text hash, the ids of every article holding a passage with that text."""
        ...

    def idf(self, words: Sequence[str]) -> dict[str, float] | None:
        """BM25 idf of each lowercase word over the passages (None without a lexical index)."""
        ...

    def overlap(self, ids: np.ndarray, text: str) -> np.ndarray:
        """`(len(ids), 2)` float64: how much of `text`'s BM25 tokens each passage holds, as
        `embeddings.backends.overlap.token_overlap` computes it (`OVERLAP` names the columns;
        zeros without a lexical index or for an unknown id)."""
        ...

    def article(self, article_id: str) -> Article | None: ...

    def article_ids(self) -> list[str]:
        """The id of every article, sorted (what copying an index to another backend walks)."""
        ...

    def article_passages(self, article_id: str) -> np.ndarray:
        """The article's passage ids in position order (empty for an unknown article)."""
        ...

    def articles_passages(self, article_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """`article_passages` of each given article, in one look-up where the engine allows (an
        unknown article maps to an empty array)."""
        ...

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored `(len(ids), dim)` vectors of existing passage ids."""
        ...

    def max_date(self) -> dt.date | None: ...

    def sources(self) -> list[tuple[str, int]]:
        """`(source, articles)` pairs, most articles first, ties by name."""
        ...

    def size_bytes(self) -> int: ...

    def check(self, full: bool = True) -> list[str]:
        """Problems of this version, one line each (empty when sound). `full`: its stored data
        against what was written and the invariants between its parts; otherwise only what is
        cheap enough for a server to ask on every reload check (e.g. whether a file changed)."""
        ...

    def close(self) -> None: ...


class WriteTransaction(Protocol):
    """Changes to an index that become visible together at `commit`, or not at all."""

    def content_hashes(self, article_ids: Sequence[str]) -> dict[str, str]:
        """The stored content hash of each given article that exists."""
        ...

    def article_ids(self) -> list[str]: ...

    def cached_vectors(self, embed_hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """A stored `(dim,)` vector for each embed hash some passage already has."""
        ...

    def put(self, writes: Sequence[ArticleWrite]) -> None:
        """Add the articles, replacing stored articles of the same ids and their passages."""
        ...

    def delete(self, article_ids: Sequence[str]) -> list[str]:
        """Delete articles and their passages; returns the ids that were present."""
        ...

    def compact(self) -> None:
        """Rewrite everything in this release's layout at commit (nothing is re-embedded)."""
        ...

    def commit(self) -> IndexInfo:
        """Publish the changes (or, when nothing changed, keep the live version); returns it."""
        ...

    def abort(self) -> None: ...


class Backend(Protocol):
    """Where an index lives: opens read views, serialises writers, starts transactions."""

    name: ClassVar[str]
    way_out: ClassVar[str]  # what recovers a damaged index, for messages ("`qa repair` recovers")

    def exists(self) -> bool:
        """Whether a published version exists."""
        ...

    def way_out_of(self, problems: Sequence[str], kept: Sequence[VersionCheck] | None = None) -> str:
        """What recovers a live version with these problems (`way_out`, or what can when that cannot);
        `kept`: `verify_kept()`'s checks when the caller has them."""
        ...

    def live_version(self) -> str:
        """A cheap token naming the live version: it changes whenever a writer publishes
        (raises `IndexNotFoundError` when there is no index)."""
        ...

    def open(self, encoder: str | None = None) -> IndexReader:
        """The live version; `encoder`, when given, must be the identity that built it."""
        ...

    def writer(self, timeout: float) -> AbstractContextManager[None]:
        """Hold the writer lock (one writer at a time) for a `with` block."""
        ...

    def begin(self, spec: IndexSpec, *, fresh: bool = False) -> WriteTransaction:
        """A transaction over the live content (or, `fresh`, over an empty index); call inside
        `writer()`."""
        ...

    def describe(self) -> str:
        """Where the index is, for messages (e.g. a directory or a URI)."""
        ...

    def verify(self, *, structure: bool = True) -> list[str]:
        """Problems of the live version, one line each (empty when sound), found without serving
        from it: its stored data against what was written (checksums) and, with `structure`, the
        invariants between its parts. Raises `IndexNotFoundError` when there is no index."""
        ...

    def verify_kept(self, *, structure: bool = True) -> list[VersionCheck]:
        """`verify` of every version kept besides the live one, newest first: those `repair` could
        fall back to. Empty when the backend keeps none (then only the live version can be checked).
        Works when the live version cannot be named (all are then listed, none live)."""
        ...

    def repair(self, embed: Embed | None = None, *, encoder: str | None = None) -> list[str]:
        """Make a sound version live again after damage (call inside `writer()`): fall back to an
        intact earlier version, or rebuild the damaged parts from intact ones (`embed`, given,
        re-embeds passages no intact version holds a vector for, if `encoder` built the index).
        Returns what was done, one line each; raises `IndexCorruptError` when nothing sound is left
        to recover from."""
        ...
