"""The on-disk index: immutable versions (vectors + metadata + lexical) swapped in atomically.

Layout of an index directory::

    CURRENT             name of the live version, replaced atomically (os.replace)
    versions/v000042/   manifest.json, meta.sqlite, vectors.faiss, lexical/
    .lock               inter-process writer lock
    tmp-*/              a writer's private work; leftovers of a killed writer are removed

A writer copies the live version into a private directory, applies its changes there, fsyncs
it, renames it into `versions/` and only then points CURRENT at it. A crash at any moment
therefore leaves CURRENT naming a complete version: readers see the old state or the new one,
never a mix.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout

from embeddings.errors import IndexCorruptError, IndexLockedError, IndexMismatchError, IndexNotFoundError
from embeddings.lexical import LexicalIndex
from embeddings.metadata import FILENAME as META_FILE
from embeddings.metadata import MetadataStore
from embeddings.stores import VectorStore, create_store, load_store

FORMAT = 1
MANIFEST = "manifest.json"
CURRENT = "CURRENT"
KEEP_VERSIONS = 2
OPEN_ATTEMPTS = 5  # reopen when the version CURRENT named was removed while we opened it


@dataclass(frozen=True, slots=True)
class Manifest:
    """What built a version, and its size: written beside the data, checked on open."""

    format: int
    version: int
    encoder: str
    dim: int
    backend: str
    chunking: dict[str, Any]
    articles: int
    passages: int
    next_passage_id: int
    created: str

    def to_json(self) -> str:
        return json.dumps({k: getattr(self, k) for k in self.__slots__}, indent=2)

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        data = json.loads((directory / MANIFEST).read_text())
        return cls(**{k: data[k] for k in cls.__slots__})


class Snapshot:
    """A read-only view of one index version: safe to share between threads."""

    def __init__(
        self,
        directory: Path,
        manifest: Manifest,
        store: VectorStore,
        meta: MetadataStore,
        lexical: LexicalIndex | None,
    ) -> None:
        self.directory = directory
        self.manifest = manifest
        self.store = store
        self.meta = meta
        self.lexical = lexical

    @classmethod
    def open(cls, directory: Path, store_options: dict[str, object] | None = None) -> Snapshot:
        manifest = Manifest.read(directory)
        if manifest.format != FORMAT:
            raise IndexMismatchError(
                f"{directory}: index format {manifest.format}, this version reads {FORMAT}"
            )
        store = load_store(manifest.backend, directory, store_options)
        meta = MetadataStore(directory / META_FILE, readonly=True)
        lexical = LexicalIndex.load(directory) if LexicalIndex.exists(directory) else None
        return cls(directory, manifest, store, meta, lexical)

    @property
    def version(self) -> int:
        return self.manifest.version

    def close(self) -> None:
        self.meta.close()

    def size_bytes(self) -> int:
        """Bytes on disk; files a writer has since removed (an old version) count as 0, not an error."""
        total = 0
        for base, _, files in os.walk(self.directory):
            for name in files:
                with contextlib.suppress(FileNotFoundError):
                    total += os.stat(os.path.join(base, name)).st_size
        return total

    def check(self) -> list[str]:
        """Consistency problems of this version (empty when vectors, rows and counts agree)."""
        problems = []
        articles, passages = self.meta.counts()
        if (articles, passages) != (self.manifest.articles, self.manifest.passages):
            problems.append(
                f"manifest says {self.manifest.articles} articles / {self.manifest.passages} passages,"
                f" metadata holds {articles} / {passages}"
            )
        vector_ids, row_ids = np.sort(self.store.ids()), self.meta.all_passage_ids()
        if not np.array_equal(vector_ids, row_ids):
            missing = np.setdiff1d(row_ids, vector_ids).size
            extra = np.setdiff1d(vector_ids, row_ids).size
            problems.append(f"{missing} passages without a vector, {extra} vectors without a passage")
        if self.lexical is not None and not np.array_equal(np.sort(self.lexical.ids), row_ids):
            problems.append("lexical index does not cover exactly the stored passages")
        if not self.meta.columns_are_current():
            problems.append("the per-passage columns (dates, article and text numbers) do not match the rows")
        if orphans := self.meta.orphans():
            problems.append(f"{orphans} orphan rows (passages without article or articles without passages)")
        return problems


class IndexDirectory:
    """Locates versions in an index directory and serialises writers."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def versions(self) -> Path:
        return self.root / "versions"

    def exists(self) -> bool:
        return (self.root / CURRENT).is_file()

    def current_name(self) -> str:
        try:
            return (self.root / CURRENT).read_text().strip()
        except FileNotFoundError:
            raise IndexNotFoundError(f"no index at {self.root} (build one with `qa index PATH`)") from None

    def open(
        self, encoder_identity: str | None = None, store_options: dict[str, object] | None = None
    ) -> Snapshot:
        """Open the live version; `encoder_identity`, when given, must match the one that built it."""
        for attempt in range(OPEN_ATTEMPTS):
            name = self.current_name()
            directory = self.versions / name
            try:
                if not (directory / MANIFEST).is_file():
                    raise IndexCorruptError(
                        f"{self.root}: CURRENT names {name!r}, which is not a complete version"
                    )
                snapshot = Snapshot.open(directory, store_options)
                break
            except Exception:
                # Writers publish newer versions and remove old ones; if that happened to the
                # version read from CURRENT while it was opening, open the one CURRENT names now.
                if attempt + 1 == OPEN_ATTEMPTS or self.current_name() == name:
                    raise
        if encoder_identity is not None and snapshot.manifest.encoder != encoder_identity:
            snapshot.close()
            raise IndexMismatchError(
                f"index at {self.root} was built with {snapshot.manifest.encoder!r} but the configured"
                f" encoder is {encoder_identity!r}: configure that model,"
                " or rebuild with `qa index --rebuild PATH...`"
            )
        return snapshot

    def lock(self, timeout: float) -> FileLock:
        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.root / ".lock"), timeout=timeout)

    def acquire(self, timeout: float) -> FileLock:
        lock = self.lock(timeout)
        try:
            lock.acquire()
        except Timeout:
            raise IndexLockedError(
                f"another writer holds {self.root / '.lock'} (waited {timeout:g}s)"
            ) from None
        return lock

    @contextmanager
    def locked(self, timeout: float) -> Iterator[None]:
        """Hold the writer lock for the duration of a `with` block."""
        lock = self.acquire(timeout)
        try:
            yield
        finally:
            lock.release()

    def clean_leftovers(self) -> list[str]:
        """Remove private work of writers that died and versions no longer needed (lock held)."""
        removed = []
        for tmp in self.root.glob("tmp-*"):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp.name)
        leftover = self.root / (CURRENT + ".tmp")
        if leftover.exists():
            leftover.unlink()
            removed.append(leftover.name)
        if self.versions.is_dir():
            live = self.current_name() if self.exists() else None
            names = sorted(p.name for p in self.versions.iterdir() if p.is_dir())
            keep = set(names[-KEEP_VERSIONS:]) | {live}
            for name in names:
                if name not in keep:
                    shutil.rmtree(self.versions / name, ignore_errors=True)
                    removed.append(name)
        return removed

    def begin(
        self,
        encoder_identity: str,
        dim: int,
        backend: str,
        chunking: dict[str, Any],
        store_options: dict[str, object] | None = None,
        *,
        fresh: bool = False,
    ) -> WriteSession:
        """Start a private copy of the live version (or, `fresh`, an empty index) to change."""
        tmp = Path(tempfile.mkdtemp(prefix="tmp-", dir=self.root))
        try:
            version, next_id, base_lexical = 1, 0, None
            from_base = self.exists() and not fresh
            if from_base:
                base = self.open(encoder_identity, store_options)
                base_lexical = base.lexical  # its stored tokens spare the writer re-tokenizing
                for item in base.directory.iterdir():
                    if item.is_file():
                        shutil.copyfile(item, tmp / item.name)
                store = load_store(base.manifest.backend, tmp, store_options)
                version, next_id = base.version + 1, base.manifest.next_passage_id
                base.close()
            else:
                store = create_store(backend, dim, store_options)
                if self.exists():
                    version = int(self.current_name().lstrip("v")) + 1
            meta = MetadataStore(tmp / META_FILE, readonly=False)
        except BaseException:
            # A refused start (model mismatch, corrupt base) must not leave its private copy behind.
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return WriteSession(
            self,
            tmp,
            encoder_identity,
            backend,
            chunking,
            store,
            meta,
            version,
            next_id,
            base_lexical,
            incremental=from_base,
        )


class WriteSession:
    """Changes to a private copy of the index; `commit` publishes them atomically."""

    def __init__(
        self,
        directory: IndexDirectory,
        tmp: Path,
        encoder: str,
        backend: str,
        chunking: dict[str, Any],
        store: VectorStore,
        meta: MetadataStore,
        version: int,
        next_id: int,
        base_lexical: LexicalIndex | None = None,
        *,
        incremental: bool = False,
    ) -> None:
        self.directory, self.tmp, self.encoder, self.backend = directory, tmp, encoder, backend
        self.chunking, self.store, self.meta, self.version = chunking, store, meta, version
        self.next_id = next_id
        self.dirty = False  # whether anything changed, i.e. whether committing is worth a version
        self.base_lexical = base_lexical  # the lexical index of the version begun from
        # Begun from a version (whose files `tmp` holds): bring its per-passage column files up
        # to date rather than rescan every row (`MetadataStore.write_columns`). `qa optimize`
        # turns it off to rescan, which also renumbers densely.
        self.incremental = incremental
        self._ids: np.ndarray | None = None
        self.meta.begin()

    def allocate_ids(self, n: int) -> np.ndarray:
        ids = np.arange(self.next_id, self.next_id + n, dtype=np.int64)
        self.next_id += n
        return ids

    def passage_ids(self) -> np.ndarray:
        """Every passage id of the new version, ascending; call after the last change. Writes the
        per-passage column files, which list them."""
        if self._ids is None:
            self._ids = self.meta.write_columns(incremental=self.incremental)
        return self._ids

    def commit(self, lexical: LexicalIndex | None) -> Manifest:
        self.passage_ids()
        self.meta.commit()
        articles, passages = self.meta.counts()
        self.meta.close()
        self.store.save(self.tmp)
        if lexical is not None:
            lexical.save(self.tmp)
        manifest = Manifest(
            FORMAT,
            self.version,
            self.encoder,
            self.store.dim,
            self.backend,
            self.chunking,
            articles,
            passages,
            self.next_id,
            dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        )
        (self.tmp / MANIFEST).write_text(manifest.to_json())
        _fsync_tree(self.tmp)
        name = f"v{self.version:08d}"
        self.directory.versions.mkdir(exist_ok=True)
        final = self.directory.versions / name
        if final.exists():  # left by a writer killed between rename and CURRENT swap
            shutil.rmtree(final)
        os.replace(self.tmp, final)
        _fsync_dir(self.directory.versions)
        pointer = self.directory.root / (CURRENT + ".tmp")
        with open(pointer, "w") as f:
            f.write(name + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(pointer, self.directory.root / CURRENT)
        _fsync_dir(self.directory.root)
        return manifest

    def abort(self) -> None:
        try:
            self.meta.close()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _fsync_tree(directory: Path) -> None:
    for path in directory.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
    for sub in [directory, *(p for p in directory.rglob("*") if p.is_dir())]:
        _fsync_dir(sub)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
