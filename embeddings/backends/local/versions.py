"""The local backend's directory: immutable versions (vectors + rows + lexical) swapped in atomically.

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

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from embeddings.errors import IndexLockedError, IndexNotFoundError, NotADirectoryIndexError

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


class IndexDirectory:
    """Locates versions in an index directory and serialises writers."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def versions(self) -> Path:
        return self.root / "versions"

    def exists(self) -> bool:
        self.check_root()
        return (self.root / CURRENT).is_file()

    def check_root(self) -> None:
        """Raise NotADirectoryIndexError when `root`, or the nearest of its parents that exists,
        is something other than a folder."""
        path = self.root
        while not path.exists() and path != path.parent:
            path = path.parent
        if path.exists() and not path.is_dir():
            if path == self.root:
                raise NotADirectoryIndexError(f"{self.root} is a file, not an index directory")
            raise NotADirectoryIndexError(f"{self.root} cannot be an index directory: {path} is a file")

    def current_name(self) -> str:
        try:
            return (self.root / CURRENT).read_text().strip()
        except FileNotFoundError:
            raise IndexNotFoundError(f"no index at {self.root} (build one with `qa index PATH`)") from None

    def lock(self, timeout: float) -> FileLock:
        self.check_root()
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

    def publish(self, tmp: Path, version: int) -> None:
        """Make the complete, fsynced version in `tmp` the live one: rename it into `versions/`,
        then point CURRENT at it (each step atomic and synced, so a crash leaves either)."""
        _fsync_tree(tmp)
        name = f"v{version:08d}"
        self.versions.mkdir(exist_ok=True)
        final = self.versions / name
        if final.exists():  # left by a writer killed between rename and CURRENT swap
            shutil.rmtree(final)
        os.replace(tmp, final)
        _fsync_dir(self.versions)
        pointer = self.root / (CURRENT + ".tmp")
        with open(pointer, "w") as f:
            f.write(name + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(pointer, self.root / CURRENT)
        _fsync_dir(self.root)


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
