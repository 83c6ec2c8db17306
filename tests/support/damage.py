"""Ways to damage an index version's files, as disks and stray writes do, for tests and the campaign."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from embeddings.backends.local.integrity import FileRecord, digest_file
from embeddings.backends.local.versions import CHECKSUMS, CURRENT, MANIFEST, Manifest

FLIP = 64  # bytes flipped by the flip damages


def cut_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def cut_zero(path: Path) -> None:
    path.write_bytes(b"")


def _flip_at(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    end = min(len(data), offset + FLIP)
    data[offset:end] = bytes(b ^ 0xFF for b in data[offset:end])
    with open(path, "r+b") as f:  # in place, as a stray write or a bad sector would
        f.write(data)


def flip_head(path: Path) -> None:
    _flip_at(path, 0)


def flip_middle(path: Path) -> None:
    _flip_at(path, max(0, path.stat().st_size // 2 - FLIP // 2))


def flip_tail(path: Path) -> None:
    _flip_at(path, max(0, path.stat().st_size - FLIP))


DAMAGES: dict[str, Callable[[Path], None]] = {
    "cut-half": cut_half,
    "cut-zero": cut_zero,
    "flip-head": flip_head,
    "flip-middle": flip_middle,
}


def resign(version: Path, name: str | None = None, **fields: object) -> None:
    """Record in a version's manifest the size and checksum `name` has now, and any `fields` (e.g.
    `passages=3`), then its own checksum: files swapped together with their checksums, which no
    checksum can tell from what the writer wrote (only whether the parts fit together)."""
    manifest = Manifest.read(version)
    files = dict(manifest.files or {})
    if name is not None:
        files[name] = FileRecord((version / name).stat().st_size, digest_file(version / name))
    record = {k: getattr(manifest, k) for k in Manifest.__slots__} | fields | {"files": files}
    (version / MANIFEST).write_text(Manifest(**record).to_json())  # type: ignore[arg-type]


def live_version(root: Path) -> Path:
    return root / "versions" / (root / CURRENT).read_text().strip()


def version_files(version: Path) -> list[str]:
    """Every file of a version, relative POSIX paths, sorted."""
    return sorted(p.relative_to(version).as_posix() for p in version.rglob("*") if p.is_file())


def strip_checksums(version: Path) -> None:
    """Rewrite a version's manifest as releases before checksums wrote it (no `files`, no checksum)."""
    data = json.loads((version / MANIFEST).read_text())
    legacy = {k: v for k, v in data.items() if k != "files" and not k.startswith("manifest_")}
    (version / MANIFEST).write_text(json.dumps(legacy, indent=2))


def make_legacy(version: Path) -> None:
    """Make the index holding `version` one that releases before checksums wrote: every version's
    manifest without them, and no `CHECKSUMS` (a manifest stripped in an index that records them is
    damage, see `versions.checksums_since`)."""
    root = version.parent.parent
    for other in (p for p in (root / "versions").iterdir() if (p / MANIFEST).is_file()):
        strip_checksums(other)
    (root / CHECKSUMS).unlink(missing_ok=True)
