"""FAISS backend: exact search while small, IVF-SQ8 once past a size threshold; keyed by passage id.

Two kinds of index, chosen by size and recorded in `vectors.json` beside `vectors.faiss`:

- `exact`: `IndexIDMap2` over `IndexFlatIP` (1,536 bytes per 384-dim passage, exact results).
- `ivf_sq8`: `IndexIVFScalarQuantizer` with 8-bit codes (dim bytes + 8-byte id per passage, plus a
  16-byte id→slot hashtable on disk), lists sized from the data and nprobe calibrated for a recall@10
  target. The first write that takes the count past `exact_threshold` (or the first save of an
  exact store already past it) converts an exact store (training from its float vectors); once
  the store has grown so much that its list count is 4× too small it is retrained from its
  decoded vectors.

`load` memory-maps the file (option `mmap`): the flat codes of `exact` zero-copy via
`IO_FLAG_MMAP_IFC` (default), the inverted lists (codes and ids) of `ivf_sq8` via `IO_FLAG_MMAP`
(only with `mmap="all"`: slower to scan); the id maps and IVF centroids are read into memory.
A mapped store is read-only in FAISS (writing to it would crash the process), so the first write
copies it into memory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import ClassVar

import faiss
import numpy as np

from embeddings.backends.local.stores.faiss_ivf import (
    IvfParams,
    build_ivf,
    choose_nlist,
    ivf_ids,
    search_nprobe,
)
from embeddings.errors import ConfigurationError, IndexCorruptError

FILENAME = "vectors.faiss"
INFO_FILENAME = "vectors.json"
FORMAT = 1
EXACT = "exact"
IVF_SQ8 = "ivf_sq8"
# Retrain an IVF store once the list count chosen for its size reaches this multiple of its own.
REGROW_FACTOR = 4
MIN_EXACT_THRESHOLD = 1_000
# An id filter is a bitmap (built per query from a max_id-long mask) while max_id stays below this
# or 64 x the allowed count; beyond that a hash set of the allowed ids is cheaper.
BITMAP_MAX_IDS = 1 << 22


@dataclass(frozen=True, slots=True)
class FaissOptions:
    """Options of the FAISS store (the `options` mapping of `create_store` / `load_store`).

    Attributes:
        exact_threshold: stores with more passages than this (at least 1,000) become `ivf_sq8`.
            An exact scan reads every vector (1.5 kB each): about 0.1 ms per 1,000 passages on
            one core here, so past 20,000 it alone would take most of a 5 ms query budget.
        nlist: IVF list count; None chooses it from the size (and retrains as the store grows).
        nprobe: IVF lists probed per query; None calibrates it when the lists are trained.
        recall_target: recall@10 against exact search the calibrated nprobe must reach.
        train_size: rows sampled to train the IVF lists (at least 39 per list are used).
        exact_filter_limit: `allowed` sets at most this large are scored directly, without the index.
        mmap: which stores are memory-mapped on load rather than read into memory: `"exact"`
            (default), `"all"` (also true) or `"none"` (also false). FAISS scans mapped IVF
            lists about 5x slower than lists in memory (1.37 vs 0.29 ms at nprobe 32 on the
            benchmark index), so by default only the flat, exact codes are mapped.
    """

    exact_threshold: int = 20_000
    nlist: int | None = None
    nprobe: int | None = None
    recall_target: float = 0.97
    train_size: int = 100_000
    exact_filter_limit: int = 1_000
    mmap: str = "exact"

    @classmethod
    def parse(cls, options: Mapping[str, object]) -> FaissOptions:
        """Validate a plain mapping (values may be strings, as from settings)."""
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(options) - set(names))
        if unknown:
            raise ConfigurationError(
                f"unknown faiss store option(s) {', '.join(unknown)}; choices: {', '.join(names)}"
            )
        values: dict[str, object] = {}
        for name, value in options.items():
            try:
                values[name] = _coerce(name, value)
            except (TypeError, ValueError) as exc:
                raise ConfigurationError(f"faiss store option {name}={value!r}: {exc}") from None
        return cls(**values)  # type: ignore[arg-type]


def _coerce(name: str, value: object) -> object:
    if name == "mmap":
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on", "all"}:
            return "all"
        if text in {"0", "false", "no", "off", "none"}:
            return "none"
        if text == "exact":
            return "exact"
        raise ValueError('expected "exact", "all" or "none" (or a boolean)')
    if name == "recall_target":
        number = float(value)  # type: ignore[arg-type]
        if not 0.0 < number <= 1.0:
            raise ValueError("expected a fraction in (0, 1]")
        return number
    if value is None and name in {"nlist", "nprobe"}:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError("expected an integer")
    number = int(value)
    lowest = {"exact_threshold": MIN_EXACT_THRESHOLD, "exact_filter_limit": 0}.get(name, 1)
    if number < lowest:
        raise ValueError(f"expected an integer >= {lowest}")
    return number


class FaissStore:
    """Exact or IVF-SQ8 FAISS index by size; see `embeddings.backends.local.stores.base.VectorStore`."""

    backend: ClassVar[str] = "faiss"

    def __init__(
        self,
        index: faiss.Index,
        options: FaissOptions,
        kind: str = EXACT,
        params: IvfParams | None = None,
        mapped_from: Path | None = None,
    ) -> None:
        self._index = index
        self._options = options
        self._kind = kind
        self._params = params
        self._mapped_from = mapped_from
        self.dim: int = index.d

    @classmethod
    def check_options(cls, options: Mapping[str, object]) -> None:
        FaissOptions.parse(options)

    @classmethod
    def create(cls, dim: int, options: Mapping[str, object]) -> FaissStore:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)), FaissOptions.parse(options))

    @classmethod
    def load(cls, directory: Path, options: Mapping[str, object]) -> FaissStore:
        opts = FaissOptions.parse(options)
        path, info_path = directory / FILENAME, directory / INFO_FILENAME
        label, info_label = f"{directory.name}/{FILENAME}", f"{directory.name}/{INFO_FILENAME}"
        kind, params = EXACT, None
        if info_path.is_file():  # stores saved before the IVF kind existed have no info file
            try:
                info = json.loads(info_path.read_text())
                kind = info["kind"]
                if kind == IVF_SQ8:
                    params = IvfParams.from_dict(info["params"])
            except (ValueError, KeyError, TypeError) as exc:
                raise IndexCorruptError(f"{info_label}: unreadable ({type(exc).__name__})") from exc
            if info.get("format") != FORMAT or kind not in (EXACT, IVF_SQ8):
                raise IndexCorruptError(f"{info_label}: format {info.get('format')!r} kind {kind!r} unknown")
        if not path.is_file():
            raise IndexCorruptError(f"{label}: missing")
        flags = 0
        mapped = opts.mmap == "all" or (opts.mmap == "exact" and kind == EXACT)
        if mapped:
            flags = faiss.IO_FLAG_MMAP_IFC if kind == EXACT else faiss.IO_FLAG_MMAP
        try:
            index = faiss.read_index(str(path), flags)
        except RuntimeError as exc:  # its message names FAISS's C++ source: kept in the chain only
            raise IndexCorruptError(f"{label}: FAISS cannot read it") from exc
        if kind == EXACT and not isinstance(index, faiss.IndexIDMap2):
            raise IndexCorruptError(f"{label}: expected an exact IndexIDMap2, found {type(index).__name__}")
        if kind == IVF_SQ8:
            if not isinstance(index, faiss.IndexIVFScalarQuantizer):
                raise IndexCorruptError(f"{label}: expected IVF-SQ8, found {type(index).__name__}")
            if index.direct_map.type != faiss.DirectMap.Hashtable:
                index.set_direct_map_type(faiss.DirectMap.Hashtable)
            if opts.nprobe is not None and params is not None:
                params = replace(params, nprobe=min(opts.nprobe, params.nlist))
        return cls(index, opts, kind, params, path if mapped else None)

    # --- reads -----------------------------------------------------------------------------

    @property
    def kind(self) -> str:
        """`"exact"` or `"ivf_sq8"`."""
        return self._kind

    @property
    def params(self) -> IvfParams | None:
        """List count, nprobe and training size of an `ivf_sq8` store (None when exact)."""
        return self._params

    @property
    def mapped(self) -> bool:
        """Whether the index is still served from a memory-mapped file."""
        return self._mapped_from is not None

    def info(self) -> dict[str, object]:
        """What `save` records in `vectors.json`: format, kind, dim, count, params, FAISS version."""
        return {
            "format": FORMAT,
            "kind": self._kind,
            "dim": self.dim,
            "count": len(self),
            "params": self._params.to_dict() if self._params else None,
            "faiss_version": faiss.__version__,
        }

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k ids per query row `(m, dim)`, restricted to `allowed` ids `(a,)` when given.

        Returns `(scores, ids)`, both `(m, k)`, best first, padded with `-inf` / `-1`. A small
        `allowed` set is scored directly (exact, or exact over SQ8-decoded vectors); a large one
        filters the index scan through a bitmap, probing more IVF lists the fewer ids it keeps.
        """
        queries = _rows(queries)
        m = queries.shape[0]
        if k <= 0 or len(self) == 0 or (allowed is not None and len(allowed) == 0):
            return _padding(m, max(k, 0))
        selector, keep_alive, selectivity = None, None, 1.0
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=np.int64)
            if len(allowed) <= self._options.exact_filter_limit:
                found = self._search_among(queries, k, np.unique(allowed))
                if found is not None:
                    return found
            selector, keep_alive = _selector(allowed)
            selectivity = len(allowed) / len(self)
        if self._kind == IVF_SQ8 and self._params is not None:
            params = faiss.SearchParametersIVF(nprobe=search_nprobe(self._params, k, selectivity))
            if selector is not None:
                params.sel = selector
        else:
            params = faiss.SearchParameters(sel=selector) if selector is not None else None
        scores, ids = self._index.search(queries, k, params=params)
        del keep_alive
        scores[ids < 0] = -np.inf
        return scores, ids

    def _search_among(
        self, queries: np.ndarray, k: int, allowed: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        try:
            candidates = self._index.reconstruct_batch(allowed)
        except RuntimeError:  # an allowed id without a vector: let the index filter instead
            return None
        all_scores = queries @ candidates.T
        kk = min(k, len(allowed))
        top = np.argpartition(-all_scores, kk - 1, axis=1)[:, :kk]
        top_scores = np.take_along_axis(all_scores, top, axis=1)
        order = np.argsort(-top_scores, axis=1, kind="stable")
        scores, ids = _padding(len(queries), k)
        scores[:, :kk] = np.take_along_axis(top_scores, order, axis=1)
        ids[:, :kk] = allowed[np.take_along_axis(top, order, axis=1)]
        return scores, ids

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors `(len(ids), dim)` (SQ8-decoded, so approximate, for `ivf_sq8`)."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if not len(ids):
            return np.empty((0, self.dim), np.float32)
        try:
            return self._index.reconstruct_batch(ids)
        except RuntimeError as exc:
            raise IndexCorruptError(f"{FILENAME}: a requested passage id has no stored vector") from exc

    def ids(self) -> np.ndarray:
        if self._kind == IVF_SQ8:
            return ivf_ids(self._index)
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    # --- writes ----------------------------------------------------------------------------

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Insert `vectors` `(n, dim)` under new `ids` `(n,)`; may convert or retrain the index."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if not len(ids):
            return
        vectors = _rows(vectors)
        self._own()
        if self._kind == EXACT and len(self) + len(ids) > self._options.exact_threshold:
            stored = self._index.index.reconstruct_n(0, len(self)) if len(self) else vectors[:0]
            self._train(np.concatenate([stored, vectors]), np.concatenate([self.ids(), ids]))
            return
        self._index.add_with_ids(vectors, ids)
        if (
            self._kind == IVF_SQ8
            and self._options.nlist is None
            and self._params is not None
            and choose_nlist(len(self)) >= REGROW_FACTOR * self._params.nlist
        ):
            every = self.ids()
            self._train(self._index.reconstruct_batch(every), every)

    def remove(self, ids: np.ndarray) -> int:
        """Delete the given ids `(n,)`; returns how many were present."""
        ids = np.unique(np.asarray(ids, dtype=np.int64))
        if not len(ids):
            return 0
        self._own()
        if self._kind == IVF_SQ8:  # the id hashtable removes only through an id array
            return int(self._index.remove_ids(faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids))))
        return int(self._index.remove_ids(faiss.IDSelectorBatch(ids)))

    def save(self, directory: Path) -> None:
        """Write `vectors.faiss` and `vectors.json` into `directory`, each replaced atomically."""
        path = directory / FILENAME
        if self._kind == EXACT and len(self) > self._options.exact_threshold:
            # Grown past the threshold without an add (options changed): the kind follows the size.
            self._own()
            self._train(self._index.index.reconstruct_n(0, len(self)), self.ids())
        if self._mapped_from is None or self._mapped_from.resolve() != path.resolve():
            self._own()  # FAISS would write a mapped IVF as a reference to its file, not its data
            tmp = path.with_name(path.name + ".tmp")
            faiss.write_index(self._index, str(tmp))
            os.replace(tmp, path)
        info_tmp = directory / (INFO_FILENAME + ".tmp")
        info_tmp.write_text(json.dumps(self.info(), indent=2))
        os.replace(info_tmp, directory / INFO_FILENAME)

    def _train(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        opts = self._options
        self._index, self._params = build_ivf(
            vectors,
            ids,
            nlist=opts.nlist,
            nprobe=opts.nprobe,
            recall_target=opts.recall_target,
            train_size=opts.train_size,
        )
        self._kind = IVF_SQ8

    def _own(self) -> None:
        """Copy a memory-mapped index into memory so that FAISS may change it."""
        if self._mapped_from is None:
            return
        if self._kind == EXACT:
            owned = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
            if len(self):
                owned.add_with_ids(self._index.index.reconstruct_n(0, len(self)), self.ids())
            self._index = owned
        else:
            ivf = faiss.extract_index_ivf(self._index)
            mapped = ivf.invlists
            lists = faiss.ArrayInvertedLists(mapped.nlist, mapped.code_size)
            for list_no in range(mapped.nlist):
                size = mapped.list_size(list_no)
                if size:  # same slots, so the id hashtable stays valid
                    lists.add_entries(list_no, size, mapped.get_ids(list_no), mapped.get_codes(list_no))
            ivf.replace_invlists(lists, True)
            lists.this.disown()
        self._mapped_from = None


def _selector(allowed: np.ndarray) -> tuple[faiss.IDSelector, np.ndarray | None]:
    """An id filter for FAISS and the array it points into (to keep alive during the search)."""
    top = int(allowed.max())
    if allowed.min() >= 0 and top < max(BITMAP_MAX_IDS, 64 * len(allowed)):
        mask = np.zeros(top + 1, dtype=bool)
        mask[allowed] = True
        bitmap = np.packbits(mask, bitorder="little")
        return faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap)), bitmap
    return faiss.IDSelectorBatch(allowed), None


def _padding(m: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((m, k), -np.inf, np.float32), np.full((m, k), -1, np.int64)


def _rows(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float32).reshape(-1, x.shape[-1])
