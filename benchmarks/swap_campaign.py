"""Files swapped together with their checksums: what check, ask, serve and the API do with each.

    python -m benchmarks.swap_campaign                 # the test articles, fake encoder (about 2 min)
    python -m benchmarks.swap_campaign --only tokens   # the cases whose name holds "tokens"

Checksums catch damage; they cannot catch a file replaced by another valid one whose size and
checksum were recorded in the manifest with it (a re-signed manifest). What is left to notice then
is whether the parts of the version fit together. Each case replaces one file of a copy of the
index (each `.npy` eight ways, the JSON files, the vectors, the rows, five manifest fields),
re-signs the manifest, and is judged twice: by the reads of a service (`ask`, `related`,
`article`, `stats`: answered, refused with the project's error, or a traceback, with where it
came from) and by the corruption campaign's judges (`tests/support/campaign.py`: `qa check`,
`qa serve`, `qa ask`, the API). Prints one line per case and the totals; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from embeddings.backends.local import integrity
from embeddings.backends.local.versions import MANIFEST, Manifest
from embeddings.errors import QAError
from qa.service import QAService
from tests.support import damage
from tests.support.articles import make_articles
from tests.support.campaign import Campaign
from tests.support.fakes import FakeEncoder
from tests.support.services import build_service

Swap = Callable[[Path], None]  # rewrites one file of the version in the given directory

ARRAYS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "half": lambda a: a[..., : a.shape[-1] // 2],
    "float": lambda a: a.astype(np.float64),
    "flat": lambda a: a.reshape(-1) if a.ndim > 1 else a.reshape(1, -1),
    "big": lambda a: a + 10**6 if a.dtype.kind in "iu" else a * 1e6,
    "negative": lambda a: -a - 1,
    "empty": lambda a: a[..., :0],
    "reversed": lambda a: a[..., ::-1].copy(),
    "double": lambda a: np.concatenate([a, a], axis=-1),
}
NPY_FILES = [
    "lexical/tokens.npy",
    "lexical/offsets.npy",
    "lexical/ids.npy",
    "lexical/data.csc.index.npy",
    "lexical/indices.csc.index.npy",
    "lexical/indptr.csc.index.npy",
    "passage_days.npy",
    "passage_groups.npy",
    "passage_positions.npy",
]


def _array(file: str, change: Callable[[np.ndarray], np.ndarray]) -> Swap:
    return lambda version: np.save(version / file, change(np.load(version / file)))


def _json(file: str, change: Callable[[Any], Any]) -> Swap:
    def swap(version: Path) -> None:
        (version / file).write_text(json.dumps(change(json.loads((version / file).read_text()))))

    return swap


def _rows(sql: str) -> Swap:
    def swap(version: Path) -> None:
        db = sqlite3.connect(version / "meta.sqlite")
        with db:
            db.executescript(sql)
        db.close()

    return swap


def _vectors(kind: str) -> Swap:
    def swap(version: Path) -> None:
        stored = faiss.read_index(str(version / "vectors.faiss"))
        n, dim = stored.ntotal, stored.d
        ids = faiss.vector_to_array(stored.id_map).astype(np.int64)
        vectors = stored.index.reconstruct_n(0, n)
        if kind == "flat":  # without its ids
            other = faiss.IndexFlatIP(dim)
            other.add(vectors)
        else:
            other = faiss.IndexIDMap2(faiss.IndexFlatIP(dim // 2 if kind == "dim" else dim))
            if kind == "half":
                other.add_with_ids(vectors[: n // 2], ids[: n // 2])
            elif kind == "dim":
                other.add_with_ids(np.ascontiguousarray(vectors[:, : dim // 2]), ids)
            else:  # "ids": other passage ids
                other.add_with_ids(vectors, ids + 1000)
        faiss.write_index(other, str(version / "vectors.faiss"))

    return swap


def _manifest(field: str, change: Callable[[Any], Any]) -> Swap:
    def swap(version: Path) -> None:
        damage.resign(version, **{field: change(getattr(Manifest.read(version), field))})

    return swap


def swaps() -> dict[tuple[str, str], Swap]:
    """Every case: (file, how) -> the swap."""
    cases: dict[tuple[str, str], Swap] = {}
    for how, change in ARRAYS.items():
        for file in NPY_FILES:
            cases[file, how] = _array(file, change)
    vocab, params = "lexical/vocab.index.json", "lexical/params.index.json"
    cases[vocab, "half"] = _json(vocab, lambda v: dict(list(v.items())[: len(v) // 2]))
    cases[vocab, "shifted"] = _json(vocab, lambda v: {w: c + 1000 for w, c in v.items()})
    cases[vocab, "list"] = _json(vocab, list)
    cases[params, "num_docs"] = _json(params, lambda p: p | {"num_docs": 3})
    cases[params, "dtype"] = _json(params, lambda p: p | {"dtype": "float64", "int_dtype": "int64"})
    cases[params, "method"] = _json(params, lambda p: p | {"method": "bm25l"})
    cases["lexical/lexical.json", "no stem"] = _json("lexical/lexical.json", lambda c: {"bm25s": c["bm25s"]})
    cases["vectors.json", "count"] = _json("vectors.json", lambda v: v | {"count": 3})
    ivf = {"kind": "ivf_sq8", "params": {"nlist": 4, "nprobe": 2, "train": 10}}
    cases["vectors.json", "ivf"] = _json("vectors.json", lambda v: v | ivf)
    for kind in ("half", "dim", "ids", "flat"):
        cases["vectors.faiss", kind] = _vectors(kind)
    cases["meta.sqlite", "fewer passages"] = _rows("DELETE FROM passages WHERE id % 2 = 0;")
    cases["meta.sqlite", "no articles"] = _rows("DELETE FROM articles;")
    cases[MANIFEST, "passages"] = _manifest("passages", lambda v: v + 5)
    cases[MANIFEST, "dim"] = _manifest("dim", lambda v: v * 2)
    cases[MANIFEST, "next id"] = _manifest("next_passage_id", lambda v: 1)
    cases[MANIFEST, "backend"] = _manifest("backend", lambda v: "annoy")
    cases[MANIFEST, "chunking"] = _manifest("chunking", lambda v: {})
    return cases


def apply(version: Path, file: str, swap: Swap) -> None:
    """Swap `file` and record its new size and checksum in a re-signed manifest."""
    swap(version)
    if file != MANIFEST:
        damage.resign(version, file)


def as_damage(root: Path, file: str, swap: Swap) -> Callable[[Path], None]:
    """The swap as one of the campaign's damages (given the file's path: its version is the live one)."""
    return lambda _path: apply(damage.live_version(root), file, swap)


def reads(service: QAService) -> dict[str, str]:
    """What each read of a service does: `ok`, the project error's name, or `TRACEBACK type@file:line`."""
    calls: dict[str, Callable[[], object]] = {
        "ask": lambda: service.ask("metro station"),
        "related": lambda: service.related("pipeline-a"),
        "article": lambda: service.article("pipeline-a"),
        "stats": service.stats,
    }
    out = {}
    for name, call in calls.items():
        try:
            call()
            out[name] = "ok"
        except QAError as exc:
            out[name] = type(exc).__name__
        except Exception as exc:
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if "site-packages" not in f.filename]
            where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
            out[name] = f"TRACEBACK {type(exc).__name__}@{where}"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="run the cases whose file or name holds one")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="swap-campaign-"))

    def make(root: Path) -> QAService:
        return build_service(root, FakeEncoder())

    totals = {"cases": 0, "with a traceback": 0, "detected by check": 0, "ask refused": 0, "app refused": 0}
    try:
        source = work / "source"
        make(source).add(make_articles())
        campaign = Campaign(source, work / "campaign", make, "pipeline-a", "metro station")
        integrity.SMALL_FILE = 0  # every file counts as big, as in a real index: open checks sizes only
        for (file, how), swap in swaps().items():
            if args.only and not any(word in f"{file} {how}" for word in args.only):
                continue
            root = work / "reads"
            shutil.rmtree(root, ignore_errors=True)
            shutil.copytree(source, root)
            apply(damage.live_version(root), file, swap)
            outcome = reads(make(root))
            shutil.rmtree(campaign.root)
            shutil.copytree(source, campaign.root)
            damage.DAMAGES["swap"] = as_damage(campaign.root, file, swap)
            result = campaign.run(file, "swap")
            traced = result.tracebacks > 0 or any(v.startswith("TRACEBACK") for v in outcome.values())
            totals["cases"] += 1
            totals["with a traceback"] += traced
            totals["detected by check"] += result.check_exit == 1
            totals["ask refused"] += result.ask_refused
            totals["app refused"] += result.started_refused
            check = result.check_lines[0] if result.check_lines else ""
            print(f"{file:31} {how:15} {' '.join(f'{k}:{v}' for k, v in outcome.items())} | check: {check}")
    finally:
        damage.DAMAGES.pop("swap", None)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(totals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
