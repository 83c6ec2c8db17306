"""The local backend's directory: immutable versions (vectors + rows + lexical) swapped in atomically.

Layout of an index directory::

    CURRENT             name of the live version, replaced atomically (os.replace)
    versions/v00000042/ manifest.json, meta.sqlite, vectors.faiss, lexical/; PUBLISHED once
                        CURRENT has named it
    LAST                the highest version number taken (a dead writer's too)
    CHECKSUMS           the first version number published with checksums: a manifest of that
                        version or a later one without them had them removed (damage)
    .lock               inter-process writer lock
    tmp-*/              a writer's private work; leftovers of a killed writer are removed
    damaged/v00000041/  versions `qa repair` found damaged and moved aside

A writer copies the live version into a private directory, applies its changes there, fsyncs
it, renames it into `versions/` and only then points CURRENT at it. A crash at any moment
therefore leaves CURRENT naming a complete version: readers see the old state or the new one,
never a mix. A new version's number is above every version the directory holds (damaged ones
included), so a publish never replaces one; a version newer than the live one that never went live
(a writer died between the rename and the swap) is removed by the next writer, one that did (CURRENT
was set back) is kept. Versions without CURRENT are damage, not an empty directory.

A manifest without checksums is read as one written before they existed only where nothing says
the index had them by then: neither `CHECKSUMS` nor an earlier version whose manifest holds them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from embeddings.backends.folders import check_folder
from embeddings.backends.local.integrity import ALGORITHM, CHANGED, FileRecord, digest_bytes
from embeddings.errors import IndexCorruptError, IndexLockedError, IndexNotFoundError

FORMAT = 1
MANIFEST = "manifest.json"
CURRENT = "CURRENT"
PUBLISHED = "PUBLISHED"  # marks a version CURRENT has named (written right after the swap)
LAST = "LAST"  # the highest version number a writer has taken, so that none is taken twice
CHECKSUMS = "CHECKSUMS"  # the first version number published with checksums (see `checksums_since`)
KEEP_VERSIONS = 2  # the live version and the one before it, to fall back to
DAMAGED = "damaged"
_VERSION_NAME = re.compile(r"v[0-9]{8}")
OPEN_ATTEMPTS = 5  # reopen when the version CURRENT named was removed while we opened it


@dataclass(frozen=True, slots=True)
class Manifest:
    """What built a version, its size, and every other file's size and checksum: written beside the
    data, checked on open. `files` is None for a version written before checksums were recorded."""

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
    files: dict[str, FileRecord] | None = None

    def to_json(self) -> str:
        """The manifest as JSON, its own checksum first (over the rest, keys sorted)."""
        data: dict[str, Any] = {k: getattr(self, k) for k in _FIELDS}
        data["files"] = {name: r.to_dict() for name, r in sorted((self.files or {}).items())}
        return json.dumps({_SELF: _own_digest(data), **data}, indent=2)

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        """The manifest of the version in `directory`; `IndexCorruptError` when it is unreadable,
        does not match its own checksum, or lacks a field."""
        label = f"{directory.name}/{MANIFEST}"
        try:
            data = json.loads((directory / MANIFEST).read_bytes())
        except FileNotFoundError:
            raise IndexCorruptError(f"{label}: missing") from None
        except (OSError, ValueError) as exc:  # ValueError: not UTF-8, not JSON
            raise IndexCorruptError(f"{label}: unreadable ({type(exc).__name__})") from exc
        if not isinstance(data, dict):
            raise IndexCorruptError(f"{label}: not a JSON object")
        keys = set(data)
        if keys == set(_FIELDS):  # written before checksums were recorded, unless the index says otherwise
            if (since := _checksummed_since(directory)) is not None:
                raise IndexCorruptError(
                    f"{label}: its checksums are missing, though this index records them since"
                    f" v{since:08d} (removed from the manifest)"
                )
            return cls._of(data, None, label)
        if keys != {*_FIELDS, "files", _SELF}:
            raise IndexCorruptError(f"{label}: unexpected fields {sorted(keys ^ {*_FIELDS, 'files', _SELF})}")
        given = data.pop(_SELF)
        if given != _own_digest(data):
            raise IndexCorruptError(f"{label}: {CHANGED}")
        try:
            files = {str(name): FileRecord.from_dict(r) for name, r in data.pop("files").items()}
        except (AttributeError, KeyError, TypeError) as exc:
            raise IndexCorruptError(f"{label}: malformed file list") from exc
        return cls._of(data, files, label)

    @classmethod
    def _of(cls, data: dict[str, Any], files: dict[str, FileRecord] | None, label: str) -> Manifest:
        manifest = cls(**{k: data[k] for k in _FIELDS}, files=files)
        types = {"format": int, "version": int, "dim": int, "articles": int, "passages": int}
        if any(not isinstance(getattr(manifest, k), t) for k, t in types.items()):
            raise IndexCorruptError(f"{label}: a count is not an integer")
        return manifest


_FIELDS = tuple(f for f in Manifest.__slots__ if f != "files")
_SELF = "manifest_" + ALGORITHM  # the manifest's own checksum


def _own_digest(data: dict[str, Any]) -> str:
    return digest_bytes(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())


def checksums_since(root: Path) -> int | None:
    """The lowest version number this index is known to have published with checksums: the one
    `CHECKSUMS` records, or a version in `versions/` whose manifest holds them (an index whose
    writers recorded checksums before `CHECKSUMS` existed). None when nothing says it ever did."""
    recorded = _recorded_since(root)
    for name in IndexDirectory(root).version_names():  # oldest first
        number = int(name[1:])
        if recorded is not None and number >= recorded:
            break
        if _holds_checksums(root / "versions" / name):
            return number
    return recorded


def _recorded_since(root: Path) -> int | None:
    """The number `CHECKSUMS` holds; None when there is none (an index from before it) or it is
    unreadable (the next writer writes it again)."""
    with suppress(OSError, ValueError):
        return int((root / CHECKSUMS).read_text().strip())
    return None


def _checksummed_since(directory: Path) -> int | None:
    """`checksums_since` of the index holding the version `directory`, when it is at or below that
    version's number (its manifest must then hold checksums); None otherwise, or when `directory`
    is not a version of an index (a copy elsewhere: nothing to go by)."""
    if not _VERSION_NAME.fullmatch(directory.name) or directory.parent.name not in ("versions", DAMAGED):
        return None
    since = checksums_since(directory.parent.parent)
    return since if since is not None and since <= int(directory.name[1:]) else None


def _holds_checksums(directory: Path) -> bool:
    """Whether the manifest in `directory` lists checksums and matches its own (evidence that the
    index recorded them when it wrote that version)."""
    try:
        data = json.loads((directory / MANIFEST).read_bytes())
        given = data.pop(_SELF)
        return isinstance(data.get("files"), dict) and given == _own_digest(data)
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return False


class IndexDirectory:
    """Locates versions in an index directory and serialises writers."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def versions(self) -> Path:
        return self.root / "versions"

    def exists(self) -> bool:
        """Whether an index is here: CURRENT in any shape, or versions without it (damage that
        `current_name` reports; writers must not take it for an empty directory and start over)."""
        self.check_root()
        current = self.root / CURRENT
        return current.exists() or current.is_symlink() or bool(self.version_names())

    def check_root(self) -> None:
        """Raise NotADirectoryIndexError when no index directory can be at `root` (`check_folder`)."""
        check_folder(self.root)

    def current_name(self) -> str:
        try:
            name = (self.root / CURRENT).read_bytes().decode("ascii").strip()
        except FileNotFoundError:
            self.check_root()
            if names := self.version_names():
                raise IndexCorruptError(
                    f"{CURRENT}: missing, though versions/ holds {', '.join(names[-3:])}"
                ) from None
            raise IndexNotFoundError(f"no index at {self.root} (build one with `qa index PATH`)") from None
        except (OSError, UnicodeDecodeError) as exc:
            self.check_root()  # `root` a file: say so rather than call CURRENT damaged
            raise IndexCorruptError(f"{CURRENT}: unreadable ({type(exc).__name__})") from exc
        if not _VERSION_NAME.fullmatch(name):
            raise IndexCorruptError(f"{CURRENT}: names {name[:40]!r}, not a version")
        return name

    def next_version(self) -> int:
        """A number above every version this directory holds (live, kept, damaged, or left by a
        writer that died), so that no publish replaces one."""
        names = set(self.version_names())
        damaged = self.root / DAMAGED
        if damaged.is_dir():
            names |= {p.name for p in damaged.iterdir() if _VERSION_NAME.fullmatch(p.name)}
        with suppress(IndexCorruptError, IndexNotFoundError):
            names.add(self.current_name())
        taken = max((int(name[1:]) for name in names), default=0)
        with suppress(OSError, ValueError):  # none yet, or damaged: the names alone decide
            taken = max(taken, int((self.root / LAST).read_text().strip()))
        return taken + 1

    def version_names(self) -> list[str]:
        """Names of the versions in `versions/`, oldest first."""
        if not self.versions.is_dir():
            return []
        return sorted(
            p.name for p in self.versions.iterdir() if _VERSION_NAME.fullmatch(p.name) and p.is_dir()
        )

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
        for leftover in (self.root / f"{name}.tmp" for name in (CURRENT, LAST, CHECKSUMS)):
            if leftover.exists() or leftover.is_symlink():
                _remove(leftover)
                removed.append(leftover.name)
        if self.versions.is_dir():
            try:
                live = self.current_name() if self.exists() else None
            except IndexCorruptError:
                return removed  # without a readable CURRENT no version is known to be unneeded
            if live is not None and (self.versions / live).is_dir():
                self._mark_published(self.versions / live)  # a writer died between swap and mark
            names = self.version_names()  # stray folders (v00000003.bak) are neither kept nor counted
            unpublished = [  # renamed into versions/ by a writer that died before the swap
                n
                for n in names
                if live is not None and n > live and not (self.versions / n / PUBLISHED).exists()
            ]
            kept = [n for n in names if n not in unpublished]
            keep = set(kept[-KEEP_VERSIONS:]) | {live}
            for name in names:
                if name not in keep:
                    shutil.rmtree(self.versions / name, ignore_errors=True)
                    removed.append(name)
        return removed

    def publish(self, tmp: Path, version: int) -> None:
        """Make the complete, fsynced version in `tmp` the live one: rename it into `versions/`,
        then point CURRENT at it (each step atomic and synced, so a crash leaves either). A step
        that fails (a full disk, an I/O error) before CURRENT is replaced leaves nothing of it."""
        _fsync_tree(tmp)
        name = f"v{version:08d}"
        self.versions.mkdir(exist_ok=True)
        final = self.versions / name
        if final.exists():
            raise FileExistsError(f"{final} exists: a version is never replaced (see `next_version`)")
        _write_synced(self.root / LAST, f"{version}\n")  # taken, even if this writer dies now
        self._record_checksums(tmp, version)
        current = self.root / CURRENT
        if current.is_dir() and not current.is_symlink():  # damage: os.replace cannot swap a file in
            shutil.rmtree(current)
        os.replace(tmp, final)
        pointer = self.root / (CURRENT + ".tmp")
        try:
            _fsync_dir(self.versions)
            with open(pointer, "w") as f:
                f.write(name + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(pointer, self.root / CURRENT)
        except BaseException:
            pointer.unlink(missing_ok=True)
            shutil.rmtree(final, ignore_errors=True)
            raise
        _fsync_dir(self.root)
        self._mark_published(final)

    def _record_checksums(self, tmp: Path, version: int) -> None:
        """Write `CHECKSUMS` when the version about to be published holds checksums and the index
        records no number yet: from then on a later manifest stripped of them is damage. A number
        once written is kept (a higher one would excuse a stripped manifest)."""
        if _recorded_since(self.root) is None and _holds_checksums(tmp):
            since = min(version, checksums_since(self.root) or version)
            _write_synced(self.root / CHECKSUMS, f"{since}\n")

    @staticmethod
    def _mark_published(version: Path) -> None:
        """It went live: never to be taken for a dead writer's leftover. Best effort: the version
        is live whether or not the mark is written (a full disk, say), and the next writer marks
        it under the lock."""
        if (version / PUBLISHED).exists():
            return
        with suppress(OSError):
            with open(version / PUBLISHED, "w") as f:
                os.fsync(f.fileno())
            _fsync_dir(version)

    def quarantine(self, name: str) -> Path:
        """Move a damaged version out of `versions/` into `damaged/` (kept for inspection, never
        opened or counted among the versions kept); returns where it went."""
        target = self.root / DAMAGED / name
        if target.parent.exists() and not target.parent.is_dir():  # damage too: set it aside
            os.replace(target.parent, target.parent.with_name(f"{DAMAGED}.file"))
        target.parent.mkdir(exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        os.replace(self.versions / name, target)
        return target


def _write_synced(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically and durably (whatever shape damage left it in)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _remove(path: Path) -> None:
    """Remove a file, a link or a folder."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


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
