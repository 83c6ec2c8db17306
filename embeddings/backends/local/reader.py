"""A read-only view of one local index version: FAISS vectors, BM25, SQLite rows and column files."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embeddings.articles import Article
from embeddings.backends.base import (
    Candidates,
    Columns,
    Filters,
    IndexInfo,
    PassageRow,
    VersionCheck,
    best_first,
)
from embeddings.backends.local.columns import ColumnFiles
from embeddings.backends.local.integrity import file_problems, signatures
from embeddings.backends.local.lexical import DIRNAME as LEXICAL_DIR
from embeddings.backends.local.lexical import LexicalIndex
from embeddings.backends.local.rows import FILENAME as ROWS_FILE
from embeddings.backends.local.rows import MetadataStore
from embeddings.backends.local.stores import VectorStore, load_store
from embeddings.backends.local.versions import FORMAT, MANIFEST, Manifest
from embeddings.errors import IndexCorruptError, IndexMismatchError, IndexUnavailableError, QAError
from embeddings.text import lexical_text

logger = logging.getLogger(__name__)

_EMPTY_IDS = np.empty(0, np.int64)
_EMPTY_SCORES = np.empty(0, np.float32)


class LocalReader:
    """Implements `embeddings.backends.base.IndexReader` over one version directory."""

    def __init__(
        self,
        directory: Path,
        manifest: Manifest,
        store: VectorStore,
        rows: MetadataStore,
        lexical: LexicalIndex | None,
    ) -> None:
        self.directory = directory
        self.manifest = manifest
        self.store = store
        self.rows = rows
        self.column_files = ColumnFiles(rows)
        self.lexical = lexical
        self.info = IndexInfo(
            manifest.version,
            manifest.encoder,
            manifest.dim,
            manifest.backend,
            manifest.articles,
            manifest.passages,
            manifest.created,
            dict(manifest.chunking),
            checksums=manifest.files is not None,
        )
        self._max_date = rows.max_date()
        self._sources: list[tuple[str, int]] | None = None  # read once: a version never changes
        # Each file as opened: a server compares on every reload check (`check(full=False)`).
        self._seen = signatures(directory, self._names())

    @classmethod
    def open(cls, directory: Path, store_options: dict[str, object] | None = None) -> LocalReader:
        """Open a version after the checks that are cheap: its manifest against its own checksum,
        every recorded file present at its recorded size, the small files against their checksums,
        the headers of the rest as they load, and the shapes and counts its parts must agree on to
        be answered from (`shape_problems`); `IndexCorruptError` naming the file otherwise."""
        manifest = Manifest.read(directory)
        if manifest.format != FORMAT:
            raise IndexMismatchError(
                f"{directory.name}: index format {manifest.format}, this version reads {FORMAT}"
            )
        if manifest.files is not None:
            problems = file_problems(directory, manifest.files, directory.name, full=False)
            if problems:
                raise IndexCorruptError.of(problems)
        rows = None
        try:
            store = load_store(manifest.backend, directory, store_options)
            rows = MetadataStore(directory / ROWS_FILE, readonly=True)
            lexical = LexicalIndex.load(directory) if LexicalIndex.exists(directory) else None
            reader = cls(directory, manifest, store, rows, lexical)
        except QAError:
            if rows is not None:
                rows.close()
            raise
        except Exception as exc:
            if rows is not None:
                rows.close()
            if not directory.is_dir():
                raise  # removed by a writer while it opened: the backend opens the newer one
            raise _open_failure(directory, manifest, exc) from exc
        if problems := reader.shape_problems():
            reader.close()
            raise _misfit(directory, manifest, problems)
        return reader

    @property
    def version(self) -> int:
        return self.manifest.version

    def close(self) -> None:
        self.rows.close()

    # --- candidates --------------------------------------------------------------------------

    def candidates(self, vector: np.ndarray, text: str | None, n: int, filters: Filters) -> Candidates:
        allowed = self._allowed(filters)
        scores, ids = self.store.search(vector.reshape(1, -1), n, allowed)
        found = ids[0] >= 0
        dense_ids, dense_scores = best_first(ids[0][found], scores[0][found])
        if text is None or self.lexical is None:
            return Candidates(dense_ids, dense_scores, _EMPTY_IDS, _EMPTY_SCORES)
        lexical_scores, lexical_ids = self.lexical.search(text, n, allowed)
        return Candidates(dense_ids, dense_scores, *best_first(lexical_ids, lexical_scores))

    def _allowed(self, filters: Filters) -> np.ndarray | None:
        """Passage ids the filters allow, or None when they allow everything."""
        as_of = filters.as_of
        if as_of is not None and (self._max_date is None or as_of >= self._max_date):
            as_of = None  # hides nothing: the archive ends before it
        if filters.since is None and filters.until is None and not filters.sources and as_of is None:
            return None
        return self.column_files.filtered_ids(filters.since, filters.until, filters.sources or None, as_of)

    def columns(self, ids: np.ndarray) -> Columns:
        return self.column_files.columns(ids)

    def text_copies(self, texts: np.ndarray) -> np.ndarray:
        return self.column_files.text_copies(texts)

    def idf(self, words: Sequence[str]) -> dict[str, float] | None:
        return None if self.lexical is None else self.lexical.idf(words)

    def overlap(self, ids: np.ndarray, text: str) -> np.ndarray:
        if self.lexical is None:
            return np.zeros((len(ids), 2))
        return self.lexical.overlap(ids, text, self._texts)

    def _texts(self, ids: np.ndarray) -> list[str]:
        """What the lexical index tokenized of each passage (for an index saved without tokens)."""
        title_context = bool(self.info.settings.get("title_context", True))
        found = {
            pid: lexical_text(title, text, title_context) for pid, title, text in self.rows.passage_texts(ids)
        }
        return [found.get(i, "") for i in ids.tolist()]

    # --- rows ---------------------------------------------------------------------------------

    def passages(self, ids: Sequence[int]) -> dict[int, PassageRow]:
        return self.rows.passages(ids)

    def article_slice(self, article_id: str, start: int, end: int) -> str:
        return self.rows.article_slice(article_id, start, end)

    def duplicates(self, text_hashes: Sequence[str]) -> dict[str, list[str]]:
        return self.rows.duplicate_passages(text_hashes)

    def article(self, article_id: str) -> Article | None:
        return self.rows.article(article_id)

    def article_ids(self) -> list[str]:
        return self.rows.article_ids()

    def article_passages(self, article_id: str) -> np.ndarray:
        return self.rows.passage_ids(article_id)

    def articles_passages(self, article_ids: Sequence[str]) -> dict[str, np.ndarray]:
        return self.rows.passage_ids_of(article_ids)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        return self.store.vectors(ids)

    def max_date(self) -> dt.date | None:
        return self._max_date

    def sources(self) -> list[tuple[str, int]]:
        if self._sources is None:
            self._sources = self.rows.sources()
        return list(self._sources)

    # --- the version as a whole -----------------------------------------------------------------

    def size_bytes(self) -> int:
        """Bytes on disk; files a writer has since removed (an old version) count as 0, not an error."""
        total = 0
        for base, _, files in os.walk(self.directory):
            for name in files:
                with contextlib.suppress(FileNotFoundError):
                    total += os.stat(os.path.join(base, name)).st_size
        return total

    def check(self, full: bool = True) -> list[str]:
        """Problems of this version, one line each (empty when sound).

        `full`: every file against its recorded checksum, then (when they all match) the
        invariants between the parts. Otherwise only whether a file changed since it was opened
        (size, modification time, inode; a changed file is hashed again): cheap enough for a server
        to ask on every reload check.
        """
        if not full:
            return self._changed()
        if self.manifest.files is not None:
            problems = file_problems(self.directory, self.manifest.files, self.directory.name, full=True)
            if problems:
                return problems  # the parts are not read: damaged bytes could fail in any way
        return self.structure_problems()

    def shape_problems(self) -> list[str]:
        """What answering from this version needs its parts to agree on, cheap enough for every open:
        the vectors' count and dimension, the rows' article and passage counts, the lexical index
        and the column files against the manifest's counts, the next passage id above every stored
        one, one set of passage ids in the vectors, the lexical index and the column files
        (`_id_problems`). One line per problem, naming the file (empty when they fit). Checksums
        cannot see these when files were swapped together with theirs; unchecked, a question would
        end in a traceback, or be answered from parts that do not belong together."""
        label, manifest = self.directory.name, self.manifest
        try:
            problems = []
            if self.store.dim != manifest.dim:
                problems.append(f"{label}/vectors: dimension {self.store.dim}, manifest: {manifest.dim}")
            if len(self.store) != manifest.passages:
                problems.append(
                    f"{label}/vectors: {len(self.store)} vectors, manifest: {manifest.passages} passages"
                )
            articles, passages = self.rows.counts()  # 0.16 ms warm at 41k passages: SQLite counts an index
            if (articles, passages) != (manifest.articles, manifest.passages):
                problems.append(
                    f"{label}/{ROWS_FILE}: {articles} articles / {passages} passages,"
                    f" manifest: {manifest.articles} / {manifest.passages}"
                )
            if self.lexical is not None:
                problems += [f"{label}/{line}" for line in self.lexical.shape_problems(manifest.passages)]
            problems += [f"{label}/{line}" for line in self.column_files.shape_problems(manifest.passages)]
            ids = self.lexical.ids if self.lexical is not None and not problems else np.empty(0)
            if len(ids) and int(ids.max()) >= manifest.next_passage_id:  # a write would reuse ids
                problems.append(f"{label}/manifest.json: next passage id is not above every stored id")
            return problems or [f"{label}/{line}" for line in self._id_problems()]
        except Exception as exc:  # a file that does not parse as what it should be
            return [f"{label}: unreadable while checking its shape ({type(exc).__name__})"]

    def _id_problems(self) -> list[str]:
        """Whether the vectors, the lexical index and the column files hold one set of passage ids,
        compared by a fingerprint of each (one pass over each id array, in any order). Where they
        differ, the rows' ids decide: each part that differs from them is named (what `qa repair`
        rebuilds from the rows). Rows whose ids differ from parts that all agree are `qa check`'s
        to find: seeing them would take a read of every row at every open."""
        parts = {"vectors": self.store.ids()}
        if self.lexical is not None:
            parts[f"{LEXICAL_DIR}/ids.npy"] = self.lexical.ids
        parts |= self.column_files.file_ids()
        prints = {name: _fingerprint(ids) for name, ids in parts.items()}
        if len(set(prints.values())) == 1:
            return []
        rows = _fingerprint(self.rows.all_passage_ids())  # only now: a pass over the SQLite rows
        return [
            f"{name}: its passage ids are not those of the rows" for name, p in prints.items() if p != rows
        ]

    def structure_problems(self) -> list[str]:
        """The invariants between the parts (counts, ids in vectors = rows = lexical, column files)."""
        try:
            return self._structure()
        except Exception as exc:
            return [f"{self.directory.name}: unreadable while checking its structure ({type(exc).__name__})"]

    def _names(self) -> list[str]:
        if self.manifest.files is not None:
            return sorted([MANIFEST, *self.manifest.files])
        files = (p for p in self.directory.rglob("*") if p.is_file())
        return sorted(p.relative_to(self.directory).as_posix() for p in files)

    def _changed(self) -> list[str]:
        now = signatures(self.directory, list(self._seen))
        changed = sorted(name for name, sig in now.items() if sig != self._seen[name])
        if not changed:
            return []
        label = self.directory.name
        if self.manifest.files is None:
            return [f"{label}/{name}: changed after it was opened" for name in changed]
        problems = []
        if MANIFEST in changed:
            try:
                if Manifest.read(self.directory) != self.manifest:
                    problems.append(f"{label}/{MANIFEST}: rewritten after it was opened")
            except IndexCorruptError as exc:
                problems.append(str(exc))
        records = {name: self.manifest.files[name] for name in changed if name != MANIFEST}
        problems += file_problems(self.directory, records, label, full=True)
        if not problems:  # rewritten with the same bytes (a copy, `touch`): still intact
            self._seen.update(now)
        return problems

    def _structure(self) -> list[str]:
        """The invariants between the parts: counts, ids in vectors = rows = lexical, column files."""
        label = self.directory.name
        problems = [f"{label}/{ROWS_FILE}: {line}" for line in self.rows.integrity()]
        if problems:
            return problems
        articles, passages = self.rows.counts()
        if (articles, passages) != (self.manifest.articles, self.manifest.passages):
            problems.append(
                f"{label}/manifest.json: says {self.manifest.articles} articles / {self.manifest.passages}"
                f" passages, {ROWS_FILE} holds {articles} / {passages}"
            )
        vector_ids, row_ids = np.sort(self.store.ids()), self.rows.all_passage_ids()
        if not np.array_equal(vector_ids, row_ids):
            missing = np.setdiff1d(row_ids, vector_ids).size
            extra = np.setdiff1d(vector_ids, row_ids).size
            problems.append(
                f"{label}/vectors: {missing} passages without a vector, {extra} vectors without a passage"
            )
        if len(row_ids) and row_ids[-1] >= self.manifest.next_passage_id:
            problems.append(f"{label}/manifest.json: next passage id is not above every stored id")
        if self.lexical is not None:
            if not np.array_equal(np.sort(self.lexical.ids), row_ids):
                problems.append(f"{label}/lexical: does not cover exactly the stored passages")
            problems += [f"{label}/{line}" for line in self.lexical.problems()]
        if not self.column_files.are_current():
            problems.append(
                f"{label}/passage_*.npy: the per-passage columns (dates, article and text numbers, positions)"
                " do not match the rows"
            )
        if orphans := self.rows.orphans():
            problems.append(
                f"{label}/{ROWS_FILE}: {orphans} orphan rows (passages without article or articles without"
                " passages)"
            )
        return problems


def _fingerprint(ids: np.ndarray) -> tuple[int, int, int]:
    """`(count, sum, sum of a mixing of each id)` of an id array, wrapping at 64 bits: equal for
    equal sets of ids in any order, and unequal, but by chance, for others."""
    ids = np.asarray(ids)
    ids = ids.view(np.uint64) if ids.dtype == np.int64 and ids.flags.c_contiguous else ids.astype(np.uint64)
    mixed = ids * np.uint64(0x9E3779B97F4A7C15)
    mixed ^= ids >> np.uint64(29)
    return len(ids), int(ids.sum(dtype=np.uint64)), int(mixed.sum(dtype=np.uint64))


def check_version(
    directory: Path,
    store_options: dict[str, object] | None = None,
    *,
    live: bool = False,
    structure: bool = True,
) -> VersionCheck:
    """Every problem of the version in `directory`, one line each naming the file: its manifest,
    every file against its checksum, then (`structure`, when they all match) the invariants between
    its parts. Damaged files are never parsed."""
    name = directory.name
    if not directory.is_dir():
        return VersionCheck(name, live, (f"{name}: missing",))
    try:
        manifest = Manifest.read(directory)
    except IndexCorruptError as exc:
        return VersionCheck(name, live, exc.problems)
    checksums = manifest.files is not None
    problems: list[str] = []
    if manifest.files is not None:
        problems = file_problems(directory, manifest.files, name, full=True)
    if problems or not structure:
        return VersionCheck(name, live, tuple(problems), checksums)
    try:
        reader = LocalReader.open(directory, store_options)
    except IndexCorruptError as exc:
        return VersionCheck(name, live, exc.problems, checksums)
    except QAError as exc:
        return VersionCheck(name, live, (f"{name}: {exc}",), checksums)
    try:
        return VersionCheck(name, live, tuple(reader.structure_problems()), checksums)
    finally:
        reader.close()


def _misfit(directory: Path, manifest: Manifest, problems: list[str]) -> IndexCorruptError:
    """Parts of a version that do not fit together. With checksums every file is hashed first, so
    that damage is named by its file; when they all match, the parts were written so (a writer bug)
    or swapped together with their checksums, and the misfit itself is what is refused."""
    label = directory.name
    damaged = file_problems(directory, manifest.files, label, full=True) if manifest.files is not None else []
    return IndexCorruptError.of(damaged or problems)


def _open_failure(directory: Path, manifest: Manifest, exc: Exception) -> QAError:
    """What an unexpected failure to open a version means. A legacy version without checksums
    cannot tell damage from anything else: damaged. With checksums, every file is hashed in full:
    a mismatch is damage, named by file; files that all match mean the process failed (an
    interpreter race like the one `npy` guards against, memory, a passing I/O error), and the
    version must not be refused for good: unavailable, logged."""
    label = directory.name
    if manifest.files is None:
        return IndexCorruptError.of([f"{label}: unreadable ({type(exc).__name__})"])
    problems = file_problems(directory, manifest.files, label, full=True)
    if problems:
        return IndexCorruptError.of(problems)
    logger.warning("%s: every file matches its checksum but opening it failed: %s", label, _cause(exc))
    return IndexUnavailableError(
        f"{label} could not be opened ({type(exc).__name__}) though its files are intact; try again"
    )


def _cause(exc: Exception) -> str:
    """One line for a log: the exception's type and the first line of its message, unless that
    names a library's C++ source."""
    first = next(iter(str(exc).splitlines()), "")[:200]
    if any(marker in first for marker in (".cpp", "faiss/", 'File "')):
        first = ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
