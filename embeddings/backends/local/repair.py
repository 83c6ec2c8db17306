"""Repair of a local index: rebuild damaged parts from intact rows, or fall back to an intact version.

What a version holds and what each part can be rebuilt from:

- `meta.sqlite` (the rows: articles and passages) is the source of everything else and is rebuilt
  from nothing: damaged rows make the repair fall back to the newest intact earlier version.
- `manifest.json` holds the checksums that say which other file is intact: damaged, the same.
- the column files and `lexical/` are derived from the rows: rebuilt from them.
- `vectors.*`: rebuilt from the vectors that intact versions store for the same embedded text
  (by its hash), and the rest re-embedded when an encoder of the index's model is at hand.

The repaired version is published as a new version; the damaged one is moved to `damaged/`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embeddings.backends.base import Embed
from embeddings.backends.local.columns import (
    DAYS_FILENAME,
    GROUPS_FILENAME,
    POSITIONS_FILENAME,
    ColumnFiles,
)
from embeddings.backends.local.integrity import file_problems, record_files
from embeddings.backends.local.lexical import DIRNAME as LEXICAL_DIR
from embeddings.backends.local.lexical import LexicalIndex
from embeddings.backends.local.reader import check_version
from embeddings.backends.local.rows import FILENAME as ROWS_FILE
from embeddings.backends.local.rows import MetadataStore
from embeddings.backends.local.stores import create_store, load_store
from embeddings.backends.local.versions import MANIFEST, PUBLISHED, IndexDirectory, Manifest
from embeddings.errors import IndexCorruptError
from embeddings.text import lexical_text

DERIVED = frozenset({"columns", "lexical", "vectors"})  # the parts rebuilt from the rows
EMBED_BATCH = 256


def part_of(line: str) -> str:
    """Which part a problem line (`vNNN/file: what`) is about: manifest, rows, columns, lexical,
    vectors, or "version" when it does not name one file."""
    _, _, rest = line.partition("/")
    name = rest.split(":", 1)[0] if rest else ""
    if name == MANIFEST:
        return "manifest"
    if name == ROWS_FILE:
        return "rows"
    if name in (DAYS_FILENAME, GROUPS_FILENAME, POSITIONS_FILENAME, "passage_*.npy"):
        return "columns"
    if name.startswith(LEXICAL_DIR):
        return "lexical"
    if name.startswith("vectors"):
        return "vectors"
    return "version"


def repair_index(
    directory: IndexDirectory,
    store_options: dict[str, object],
    stem: bool,
    embed: Embed | None,
    encoder: str | None,
) -> list[str]:
    """Recover the live version; what was done, one line each (see the module docstring)."""
    names = directory.version_names()
    try:
        live: str | None = directory.current_name()
    except IndexCorruptError as exc:  # CURRENT itself is damaged: every version is a candidate
        live, problems = None, [str(exc)]
    if live is not None:
        problems = list(check_version(directory.versions / live, store_options).problems)
        if not problems:
            return [f"{live} is intact: nothing to repair"]
    done = [f"found: {line}" for line in problems]
    parts = {part_of(line) for line in problems}
    if live is not None and parts <= DERIVED:
        try:
            return done + _rebuild(directory, live, parts, store_options, stem, embed, encoder)
        except IndexCorruptError as exc:
            done.append(f"cannot rebuild {', '.join(sorted(parts))}: {exc}")
    return done + _fall_back(directory, live, names, store_options)


def _fall_back(
    directory: IndexDirectory, live: str | None, names: list[str], store_options: dict[str, object]
) -> list[str]:
    """Publish a copy of the newest intact version other than the live one as a new version: of
    those that went live first (a newer one stays only if it did: the writer lock's cleaning
    removes the others, unless CURRENT is unreadable)."""
    published = {n for n in names if (directory.versions / n / PUBLISHED).exists()}
    for name in sorted(names, key=lambda n: (n in published, n), reverse=True):  # went live first
        if name == live:
            continue
        path = directory.versions / name
        if not check_version(path, store_options).ok:
            continue
        version = directory.next_version()
        tmp = Path(tempfile.mkdtemp(prefix="tmp-", dir=directory.root))
        try:
            shutil.copytree(path, tmp, dirs_exist_ok=True, ignore=shutil.ignore_patterns(PUBLISHED))
            manifest = Manifest.read(path)
            fields = {k: getattr(manifest, k) for k in Manifest.__slots__}
            if manifest.files is None:  # written before checksums: the copy records them, as a write would
                fields["files"] = record_files(tmp, exclude=frozenset({MANIFEST, PUBLISHED}))
            (tmp / MANIFEST).write_text(Manifest(**(fields | {"version": version})).to_json())
            directory.publish(tmp, version)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        lines = [
            f"fell back to {name} ({manifest.articles} articles, {manifest.passages} passages),"
            f" published as v{version:08d}"
        ]
        if live is not None:
            lines.append(f"what {live} held that {name} does not is lost: write it again")
            lines += _quarantined(directory, live)
        return lines
    raise IndexCorruptError(
        "cannot repair: no intact earlier version to fall back to; rebuild the index from its articles"
        " with `qa index --rebuild PATH...`"
    )


def _rebuild(
    directory: IndexDirectory,
    live: str,
    parts: set[str],
    store_options: dict[str, object],
    stem: bool,
    embed: Embed | None,
    encoder: str | None,
) -> list[str]:
    """A new version: the live one's intact files, the damaged derived parts rebuilt from its rows."""
    source = directory.versions / live
    manifest = Manifest.read(source)
    version = directory.next_version()
    tmp = Path(tempfile.mkdtemp(prefix="tmp-", dir=directory.root))
    lines = []
    try:
        shutil.copytree(
            source, tmp, symlinks=True, dirs_exist_ok=True, ignore=shutil.ignore_patterns(PUBLISHED)
        )
        for link in [p for p in tmp.rglob("*") if p.is_symlink()]:  # never in a version: damage
            link.unlink()
        rows = MetadataStore(tmp / ROWS_FILE, readonly=False)
        try:
            ids = rows.all_passage_ids()
            if "columns" in parts:
                ColumnFiles(rows).write(incremental=False)
                lines.append("rebuilt the per-passage column files from the rows")
            if "lexical" in parts:
                shutil.rmtree(tmp / LEXICAL_DIR, ignore_errors=True)
                title = bool(manifest.chunking.get("title_context", True))
                texts = [lexical_text(t, x, title) for _, t, x in rows.passage_texts(ids)]
                LexicalIndex.build(ids, texts, stem=stem).save(tmp)
                lines.append(f"rebuilt the lexical index from the rows ({len(ids)} passages)")
            if "vectors" in parts:
                for name in ("vectors.faiss", "vectors.json"):  # a file, or damage in another shape
                    path = tmp / name
                    if path.is_dir() and not path.is_symlink():
                        shutil.rmtree(path)
                    else:
                        path.unlink(missing_ok=True)
                usable = embed if encoder == manifest.encoder else None
                vectors, reused = _vectors(directory, manifest, rows, ids, store_options, usable)
                store = create_store(manifest.backend, manifest.dim, store_options)
                store.add(ids, vectors)
                store.save(tmp)
                embedded = len(ids) - reused
                lines.append(f"rebuilt the vectors: {reused} from intact versions, {embedded} re-embedded")
            articles, passages = rows.counts()
        finally:
            rows.close()
        fields = {k: getattr(manifest, k) for k in Manifest.__slots__}
        files = record_files(tmp, exclude=frozenset({MANIFEST, PUBLISHED}))
        changed = {"version": version, "articles": articles, "passages": passages, "files": files}
        rebuilt = Manifest(**(fields | changed))
        (tmp / MANIFEST).write_text(rebuilt.to_json())
        directory.publish(tmp, version)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    lines.append(f"published the repaired version as v{version:08d}")
    lines += _quarantined(directory, live)
    return lines


def _quarantined(directory: IndexDirectory, name: str) -> list[str]:
    """Move a damaged version aside, if it is there to move (CURRENT may name a missing one)."""
    if not (directory.versions / name).is_dir():
        return []
    return [f"moved the damaged {name} to {directory.quarantine(name).relative_to(directory.root)}"]


def _vectors(
    directory: IndexDirectory,
    manifest: Manifest,
    rows: MetadataStore,
    ids: np.ndarray,
    store_options: dict[str, object],
    embed: Embed | None,
) -> tuple[np.ndarray, int]:
    """`(len(ids), dim)` vectors of the live rows' passages, and how many came from intact versions:
    each passage takes a stored vector of the same embedded text, newest intact version first."""
    hashes = rows.embed_hashes(ids)
    found: dict[str, np.ndarray] = {}
    for name in reversed(directory.version_names()):
        wanted = sorted(set(hashes) - found.keys())
        if not wanted:
            break
        path = directory.versions / name
        try:
            other = Manifest.read(path)
        except IndexCorruptError:
            continue
        if other.encoder != manifest.encoder or other.files is None:
            continue
        needed = {k: r for k, r in other.files.items() if k.startswith("vectors") or k == ROWS_FILE}
        if file_problems(path, needed, name, full=True):
            continue  # the live version's own vectors, when damaged, are never read
        found.update(_stored_vectors(path, other, wanted, store_options))
    vectors = np.empty((len(ids), manifest.dim), np.float32)
    missing = [n for n, h in enumerate(hashes) if h not in found]
    for n, h in enumerate(hashes):
        if h in found:
            vectors[n] = found[h]
    if missing:
        if embed is None:
            raise IndexCorruptError(
                f"{len(missing)} passages have no vector in any intact version, and no encoder of"
                f" {manifest.encoder!r} is at hand to embed them"
            )
        passages = rows.passages(ids[missing])
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start : start + EMBED_BATCH]
            vectors[batch] = embed([passages[int(ids[n])] for n in batch])
    return vectors, len(ids) - len(missing)


def _stored_vectors(
    path: Path, manifest: Manifest, hashes: Sequence[str], store_options: dict[str, object]
) -> dict[str, np.ndarray]:
    rows = MetadataStore(path / ROWS_FILE, readonly=True)
    try:
        by_hash = rows.vector_ids_by_embed_hash(hashes)
    finally:
        rows.close()
    if not by_hash:
        return {}
    store = load_store(manifest.backend, path, store_options)
    keys = list(by_hash)
    vectors = store.vectors(np.array([by_hash[k] for k in keys], dtype=np.int64))
    return dict(zip(keys, vectors, strict=True))
