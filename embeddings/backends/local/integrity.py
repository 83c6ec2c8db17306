"""Checksums of a version's files: recorded in its manifest when written, verified at open and by `qa check`.

xxh3-128 (xxhash): 20 GB/s on one core here against 0.66 GB/s for BLAKE2b
(`benchmarks/bench_checksums.py`), and the damage it guards against (torn writes, truncation, bit
flips, a stray copy) is not adversarial, so a non-cryptographic 128-bit hash is enough. Lucene keeps a
checksum in each segment file's footer; a version here keeps them all in its manifest instead, so the
FAISS, bm25s, SQLite and NumPy files stay in their own formats.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import xxhash

ALGORITHM = "xxh3_128"
SMALL_FILE = 1 << 20  # files up to this size are hashed at every open; larger ones only by size there
_CHUNK = 1 << 22
CHANGED = "checksum mismatch (its bytes changed after it was written)"


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A file's size and checksum as its writer left it."""

    size: int
    digest: str

    def to_dict(self) -> dict[str, object]:
        return {"size": self.size, ALGORITHM: self.digest}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> FileRecord:
        size, digest = data["size"], data[ALGORITHM]
        if not isinstance(size, int) or not isinstance(digest, str):
            raise TypeError("size must be an integer and the checksum a string")
        return cls(size, digest)


def digest_bytes(data: bytes) -> str:
    return xxhash.xxh3_128_hexdigest(data)


def digest_file(path: Path) -> str:
    """The checksum of a file's bytes, read in 4 MiB chunks."""
    state = xxhash.xxh3_128()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            state.update(chunk)
    return state.hexdigest()


def record_files(directory: Path, exclude: frozenset[str]) -> dict[str, FileRecord]:
    """Size and checksum of every file under `directory` by relative POSIX path, except `exclude`."""
    records = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        name = path.relative_to(directory).as_posix()
        if name not in exclude:
            records[name] = FileRecord(path.stat().st_size, digest_file(path))
    return records


def copy_verified(source: Path, target: Path, expected: FileRecord | None) -> bool:
    """Copy `source` to `target`, hashing what is read; whether it matched `expected` (True when
    nothing is expected). A writer copies the live version this way, so damage is never carried
    into a new version under fresh checksums."""
    if expected is None:
        shutil.copyfile(source, target)
        return True
    state, size = xxhash.xxh3_128(), 0
    with open(source, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(_CHUNK):
            state.update(chunk)
            size += len(chunk)
            dst.write(chunk)
    return size == expected.size and state.hexdigest() == expected.digest


def file_problems(directory: Path, records: Mapping[str, FileRecord], label: str, *, full: bool) -> list[str]:
    """One line per recorded file that is missing, has another size or (when `full`, or for a file
    up to `SMALL_FILE`) another checksum; each line starts with `label/name`."""
    problems = []
    for name, record in records.items():
        path = directory / name
        try:
            size = path.stat().st_size
            if size != record.size:
                problems.append(f"{label}/{name}: {size} bytes, written as {record.size} (cut or extended)")
            elif (full or size <= SMALL_FILE) and digest_file(path) != record.digest:
                problems.append(f"{label}/{name}: {CHANGED}")
        except FileNotFoundError:
            problems.append(f"{label}/{name}: missing")
        except OSError as exc:
            problems.append(f"{label}/{name}: unreadable ({os.strerror(exc.errno or 0)})")
    return problems


Signature = tuple[int, int, int]  # size, modification time (ns), inode


def signatures(directory: Path, names: list[str]) -> dict[str, Signature | None]:
    """What `os.stat` says of each file (None when it is gone): a change means it was written to."""
    out: dict[str, Signature | None] = {}
    for name in names:
        try:
            st = (directory / name).stat()
            out[name] = (st.st_size, st.st_mtime_ns, st.st_ino)
        except OSError:
            out[name] = None
    return out
