"""The `local` backend: FAISS + bm25s + SQLite in versioned directories on one machine."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from embeddings.backends.base import Embed, IndexInfo, IndexSpec, VersionCheck
from embeddings.backends.local.integrity import CHANGED, copy_verified, file_problems
from embeddings.backends.local.reader import LocalReader, check_version
from embeddings.backends.local.repair import DERIVED, part_of, repair_index
from embeddings.backends.local.stores import create_store, load_store
from embeddings.backends.local.transaction import LocalTransaction, storage_errors
from embeddings.backends.local.versions import CURRENT, MANIFEST, PUBLISHED, IndexDirectory
from embeddings.errors import REBUILD, REPAIR, IndexCorruptError, IndexMismatchError

OPEN_ATTEMPTS = 5  # reopen when the version CURRENT named was removed while we opened it


class LocalBackend:
    """Implements `embeddings.backends.base.Backend` in the directory `root`.

    Args:
        root: the index directory (see `versions` for its layout).
        store: the vector store of new indexes (an existing index keeps the one that built it).
        store_options: options of that store (see `stores.faiss_store.FaissOptions`).
        search_threads: OpenMP threads FAISS uses in this process (None: leave as is).
        stem: whether BM25 stems words (Snowball, English).
    """

    name: ClassVar[str] = "local"
    way_out: ClassVar[str] = REPAIR

    def __init__(
        self,
        root: Path,
        *,
        store: str = "faiss",
        store_options: dict[str, object] | None = None,
        search_threads: int | None = None,
        stem: bool = True,
    ) -> None:
        self.directory = IndexDirectory(Path(root))
        self.store, self.store_options, self.stem = store, dict(store_options or {}), stem
        if search_threads is not None:
            import faiss

            faiss.omp_set_num_threads(search_threads)

    @property
    def root(self) -> Path:
        return self.directory.root

    def describe(self) -> str:
        return str(self.directory.root)

    def exists(self) -> bool:
        return self.directory.exists()

    def live_version(self) -> str:
        return self.directory.current_name()

    def open(self, encoder: str | None = None) -> LocalReader:
        for attempt in range(OPEN_ATTEMPTS):
            name = self.directory.current_name()
            path = self.directory.versions / name
            try:
                if not (path / MANIFEST).is_file():
                    raise IndexCorruptError(f"{CURRENT} names {name}, which is not a complete version")
                reader = LocalReader.open(path, self.store_options)
                break
            except Exception:
                # Writers publish newer versions and remove old ones; if that happened to the
                # version read from CURRENT while it was opening, open the one CURRENT names now.
                if attempt + 1 == OPEN_ATTEMPTS or self.directory.current_name() == name:
                    raise
        if encoder is not None and reader.info.encoder != encoder:
            reader.close()
            raise IndexMismatchError.of(str(self.root), reader.info.encoder, encoder)
        return reader

    @contextmanager
    def writer(self, timeout: float) -> Iterator[None]:
        """Hold the writer lock; leftovers of writers that died are removed first, and the block's
        own leftovers and versions no longer needed after it, whether it succeeded or failed."""
        with storage_errors(), self.directory.locked(timeout):
            self.directory.clean_leftovers()
            try:
                yield
            finally:
                self.directory.clean_leftovers()

    def verify(self, *, structure: bool = True) -> list[str]:
        """Problems of the live version, one line each naming the file (empty when sound): every
        file against its checksum, then (when they match, and `structure`) the invariants between
        the parts. Damaged files are never parsed."""
        name = self.directory.current_name()
        path = self.directory.versions / name
        if not path.is_dir():
            return [f"{CURRENT} names {name}, which is not in versions/"]
        return list(check_version(path, self.store_options, live=True, structure=structure).problems)

    def way_out_of(self, problems: Sequence[str], kept: Sequence[VersionCheck] | None = None) -> str:
        """What recovers a live version with these problems: `qa repair` when it can rebuild the
        damaged parts from intact rows or fall back to an intact kept version; else a rebuild.
        `kept`: the kept versions' checks when the caller made them (`verify_kept`), else made here."""
        if {part_of(line) for line in problems} <= DERIVED:
            return self.way_out
        if any(c.ok for c in (self.verify_kept() if kept is None else kept)):
            return self.way_out
        return "no intact earlier version is kept to fall back to: " + REBUILD

    def verify_kept(self, *, structure: bool = True) -> list[VersionCheck]:
        """`verify` of every other version in `versions/`, newest first: the ones `repair` falls back
        to (writers keep one besides the live one, `KEEP_VERSIONS`; a dead writer's may be there
        too until the next write). Not those moved to `damaged/`."""
        try:
            live: str | None = self.directory.current_name()
        except IndexCorruptError:  # every version is a fall-back then
            live = None
        checks = []
        for name in reversed(self.directory.version_names()):
            path = self.directory.versions / name
            if name == live:
                continue
            check = check_version(path, self.store_options, structure=structure)
            if path.is_dir():  # else a writer retired it meanwhile: gone, not damaged
                checks.append(check)
        return checks

    def repair(self, embed: Embed | None = None, *, encoder: str | None = None) -> list[str]:
        """Recover a damaged live version (call inside `writer()`); see `local.repair`."""
        return repair_index(self.directory, self.store_options, self.stem, embed, encoder)

    def begin(self, spec: IndexSpec, *, fresh: bool = False) -> LocalTransaction:
        """A private copy of the live version (or, `fresh`, an empty index) to change."""
        tmp = Path(tempfile.mkdtemp(prefix="tmp-", dir=self.root))
        try:
            next_id, base_lexical, store_name = 0, None, self.store
            from_base = self.exists() and not fresh
            if from_base:
                base = self.open(spec.encoder)
                try:
                    _copy_base(base, tmp)
                finally:
                    base.close()
                base_lexical = base.lexical  # its stored tokens spare the writer re-tokenizing
                next_id, store_name = base.manifest.next_passage_id, base.manifest.backend
            version = self.directory.next_version()
            if from_base:
                store = load_store(store_name, tmp, self.store_options)
            else:
                store = create_store(store_name, spec.dim, self.store_options)
            return LocalTransaction(
                self.directory,
                tmp,
                spec,
                store_name,
                store,
                version,
                next_id,
                base_lexical,
                incremental=from_base,
                stem=self.stem,
                live=lambda: self._live_info(spec.encoder),
            )
        except BaseException:
            # A refused start (model mismatch, corrupt base) must not leave its private copy behind.
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _live_info(self, encoder: str) -> IndexInfo | None:
        """The live version's info (None without one): what a write that changed nothing reports."""
        if not self.exists():
            return None
        reader = self.open(encoder)
        try:
            return reader.info
        finally:
            reader.close()


def _copy_base(base: LocalReader, tmp: Path) -> None:
    """Copy the base version's files into a writer's directory, hashing each as it is read; the
    lexical files it reads in place are hashed too. Damage is refused here, before a new version
    could carry it under fresh checksums."""
    records = base.manifest.files
    label = base.directory.name
    damaged = []
    for item in base.directory.iterdir():
        if item.is_file() and item.name not in (MANIFEST, PUBLISHED):  # the new version is not live yet
            expected = records.get(item.name) if records is not None else None
            if not copy_verified(item, tmp / item.name, expected):
                damaged.append(f"{label}/{item.name}: {CHANGED}")
    if records is not None:
        in_place = {name: r for name, r in records.items() if "/" in name}
        damaged += file_problems(base.directory, in_place, label, full=True)
    if damaged:
        raise IndexCorruptError(f"cannot write: {IndexCorruptError.of(damaged)}", damaged)
