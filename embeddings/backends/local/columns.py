"""Per-passage column files of the local backend: day, article number, text number and position by
passage id.

Written beside the SQLite rows with each version and read once per snapshot, so ranking and
filtering need no SQL: passage ids ascending, then the columns. Versions written before a file
existed compute it once from the rows when first asked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from embeddings.backends.base import UNDATED, Columns
from embeddings.backends.local import npy
from embeddings.backends.local.rows import MetadataStore

DAYS_FILENAME = "passage_days.npy"  # (2, n) int64: ids, their article's day ordinal
GROUPS_FILENAME = "passage_groups.npy"  # (3, n) int64: ids, article number, text number
POSITIONS_FILENAME = "passage_positions.npy"  # (2, n) int64: ids, position in the article


class ColumnFiles:
    """The column files beside `rows`: a read-only snapshot maps them once; a writer computes
    them from its rows or brings the files it began with up to date."""

    def __init__(self, rows: MetadataStore) -> None:
        self.rows = rows
        self.directory = rows.path.parent
        self._read: dict[str, tuple[np.ndarray, ...]] = {}
        self._copies: np.ndarray | None = None  # passages per text number (read-only stores keep it)

    # --- reads -----------------------------------------------------------------------------

    def passage_days(self) -> tuple[np.ndarray, np.ndarray]:
        """`(ids, days)`: every passage id, ascending, and its article's date as a proleptic
        ordinal (`UNDATED` when it has none); two int64 arrays of the passage count."""
        ids, days = self._columns(DAYS_FILENAME, self._compute_days)
        return ids, days

    def passage_groups(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`(ids, articles, texts)`: every passage id, ascending; a number per article and per
        passage text (equal for equal `text_hash`); three int64 arrays of the passage count."""
        ids, articles, texts = self._columns(GROUPS_FILENAME, self._compute_groups)
        return ids, articles, texts

    def passage_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """`(ids, positions)`: every passage id, ascending, and its place in its article (0 first)."""
        ids, positions = self._columns(POSITIONS_FILENAME, self._compute_positions)
        return ids, positions

    def columns(self, ids: np.ndarray) -> Columns:
        """Day, article and text number and position of each given passage (`UNDATED` / -1 when
        unknown)."""
        all_ids, days = self.passage_days()
        group_ids, articles, texts = self.passage_groups()
        position_ids, positions = self.passage_positions()
        return Columns(
            _lookup(all_ids, ids, days, UNDATED),
            _lookup(group_ids, ids, articles, -1),
            _lookup(group_ids, ids, texts, -1),
            _lookup(position_ids, ids, positions, -1),
        )

    def text_copies(self, texts: np.ndarray) -> np.ndarray:
        """How many passages of the archive carry each given text number (0 for -1)."""
        counts = self._copies
        if counts is None:
            counts = np.bincount(self.passage_groups()[2], minlength=1)
            if self.rows.readonly:
                self._copies = counts
        known = (texts >= 0) & (texts < len(counts))
        return np.where(known, counts[np.where(known, texts, 0)], 0)

    def filtered_ids(
        self,
        since: dt.date | None,
        until: dt.date | None,
        sources: Sequence[str] | None,
        as_of: dt.date | None = None,
    ) -> np.ndarray:
        """Ids (ascending) of passages whose article matches every given filter (dates inclusive).

        `since`/`until` exclude undated articles; `as_of` excludes only articles dated after it.
        Dates are compared in the day column, so a date filter costs a vector comparison, not a
        join over the corpus.
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
            keep &= np.isin(ids, self.rows.passage_ids_of_sources(sources))
        return ids[keep]

    def shape_problems(self, passages: int) -> list[str]:
        """Whether each column file present fits `passages` passages, cheap enough for every open:
        its shape and integer type, ids ascending, text numbers not negative (they index a count).
        The files are mapped here, as the first query would map them. One line per problem, naming
        the file (empty when they fit)."""
        problems = []
        for filename, rows in ((DAYS_FILENAME, 2), (GROUPS_FILENAME, 3), (POSITIONS_FILENAME, 2)):
            path = self.directory / filename
            if not path.is_file():
                continue  # computed from the rows when first asked
            mapped = npy.load(path, mmap_mode="r")
            if mapped.shape != (rows, passages) or mapped.dtype.kind not in "iu":
                problems.append(
                    f"{filename}: {mapped.dtype} {mapped.shape}, not ({rows}, {passages}) integers"
                )
                continue
            columns = tuple(np.asarray(row) for row in mapped)
            if bool(np.any(columns[0][1:] <= columns[0][:-1])):
                problems.append(f"{filename}: its passage ids are not in ascending order")
            elif filename == GROUPS_FILENAME and passages and int(columns[2].min()) < 0:
                problems.append(f"{filename}: holds negative text numbers")
            else:
                self._read[filename] = columns
        return problems

    def file_ids(self) -> dict[str, np.ndarray]:
        """The passage ids of each column file `shape_problems` found fitting, by file name."""
        return {filename: columns[0] for filename, columns in self._read.items()}

    def are_current(self) -> bool:
        """Whether the columns in use agree with the rows (a check of the column files).

        Article and text numbers are labels: they agree when they group the passages alike."""
        (ids, days), (group_ids, articles, texts) = self.passage_days(), self.passage_groups()
        (fresh_ids, fresh_days), (_, fresh_articles, fresh_texts) = (
            self._compute_days(),
            self._compute_groups(),
        )
        position_ids, positions = self.passage_positions()
        return (
            np.array_equal(ids, fresh_ids)
            and np.array_equal(group_ids, fresh_ids)
            and np.array_equal(position_ids, fresh_ids)
            and np.array_equal(days, fresh_days)
            and np.array_equal(positions, self._compute_positions()[1])
            and np.array_equal(_first_seen(articles), fresh_articles)
            and np.array_equal(_first_seen(texts), fresh_texts)
        )

    def _columns(
        self, filename: str, compute: Callable[[], tuple[np.ndarray, ...]]
    ) -> tuple[np.ndarray, ...]:
        if filename in self._read:
            return self._read[filename]
        if not self.rows.readonly:
            return compute()
        sidecar = self.directory / filename
        # Plain array views of the mapped file: indexing an np.memmap costs a subclass hop per call.
        mapped = npy.load(sidecar, mmap_mode="r") if sidecar.is_file() else None
        columns = tuple(np.asarray(row) for row in mapped) if mapped is not None else compute()
        self._read[filename] = columns
        return columns

    def _compute_days(self) -> tuple[np.ndarray, np.ndarray]:
        rows = self.rows.passage_dates()
        ordinal = {d: dt.date.fromisoformat(d).toordinal() for d in {r[1] for r in rows} if d}
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        days = np.fromiter((ordinal.get(r[1], UNDATED) for r in rows), dtype=np.int64, count=len(rows))
        return ids, days

    def _compute_positions(self) -> tuple[np.ndarray, np.ndarray]:
        rows = self.rows.passage_positions()
        return (
            np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
            np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows)),
        )

    def _compute_groups(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = self.rows.passage_keys()
        return (
            np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
            _numbered((r[1] for r in rows), start=0),
            _numbered((r[2] for r in rows), start=0),
        )

    # --- writes ----------------------------------------------------------------------------

    def write(self, *, incremental: bool = False) -> np.ndarray:
        """Write the column files beside the rows (writers, after their last change).

        With `incremental`, the files beside the rows (the version this writer began from) are
        brought up to date with the rows' logged deletions and insertions: array work, and SQL
        only about the inserted passages' texts, instead of reading every row. Without it, or
        when those files are missing or disagree with the row count, every row is read.

        Returns:
            Every passage id, ascending `(n,)` int64.
        """
        columns = self._updated() if incremental else None
        if columns is None:
            columns = {
                DAYS_FILENAME: self._compute_days(),
                GROUPS_FILENAME: self._compute_groups(),
                POSITIONS_FILENAME: self._compute_positions(),
            }
        for filename, arrays in columns.items():
            np.save(self.directory / filename, np.stack(arrays))
        self.rows.removed, self.rows.added = [], []  # the files now hold these changes
        return columns[DAYS_FILENAME][0]

    def _updated(self) -> dict[str, tuple[np.ndarray, ...]] | None:
        """The columns of the files beside the rows after the logged changes; None when the files
        are missing or do not fit the rows."""
        files = [self.directory / name for name in (DAYS_FILENAME, GROUPS_FILENAME, POSITIONS_FILENAME)]
        if not all(f.is_file() for f in files):
            return None
        (ids, days), (group_ids, articles, texts), (position_ids, positions) = map(npy.load, files)
        if not (np.array_equal(ids, group_ids) and np.array_equal(ids, position_ids)):
            return None
        removed = np.concatenate(self.rows.removed) if self.rows.removed else np.empty(0, np.int64)
        if len(removed):
            keep = ~np.isin(ids, removed)
            ids, days, articles, texts, positions = (c[keep] for c in (ids, days, articles, texts, positions))
        gone = set(removed.tolist())
        added = sorted(a for a in self.rows.added if a[0] not in gone)  # rows deleted again are gone
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
            positions = np.concatenate([positions, np.array([a[4] for a in added], dtype=np.int64)])
        if len(ids) != self.rows.counts()[1]:
            return None
        return {
            DAYS_FILENAME: (ids, days),
            GROUPS_FILENAME: (ids, _compact(articles), _compact(texts)),
            POSITIONS_FILENAME: (ids, positions),
        }

    def _text_numbers(
        self, hashes: list[str], first_new: int, ids: np.ndarray, texts: np.ndarray
    ) -> np.ndarray:
        """Text numbers of newly added passages (`hashes`, in id order): a stored passage's number
        when one of the kept passages (`ids`, `texts`) carries the same text, else a new one."""
        stored = {
            h: int(texts[np.searchsorted(ids, pid)])
            for h, pid in self.rows.first_passages_of_texts(hashes, first_new)
        }
        fresh: dict[str, int] = {}
        start = int(texts.max(initial=-1)) + 1
        numbers = [stored[h] if h in stored else fresh.setdefault(h, start + len(fresh)) for h in hashes]
        return np.array(numbers, dtype=np.int64)


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
