"""The approximate FAISS index: IVF lists of 8-bit scalar-quantised vectors, sized and tuned from data."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import faiss
import numpy as np

# Self-calibration: held-in vectors (their own id excluded) stand in for queries.
CALIBRATION_QUERIES = 200
CALIBRATION_K = 10
# Calibration queries come from the stored data; real questions sit farther from it, so the
# nprobe that reaches the target recall there is doubled for search.
NPROBE_MARGIN = 2
# How the calibrated nprobe (for k=10) grows with the k of an unfiltered search: (k/10) **
# K_EXPONENT. The service asks for 100 dense candidates: with ^0.25 (57 of 256 lists on the
# benchmark index instead of √'s 102) recall@100 stays 0.986 on its real questions and 0.9905 at
# 1M synthetic passages, the same as with √ (docs/BENCHMARKS.md). Filtered searches keep √.
K_EXPONENT = 0.25
# k-means wants at least this many training points per list (below it FAISS warns and clusters poorly).
MIN_POINTS_PER_LIST = 39


@dataclass(frozen=True, slots=True)
class IvfParams:
    """How an IVF-SQ8 index was built and is searched (saved beside it, restored on load)."""

    nlist: int
    nprobe: int
    trained_count: int
    calibrated_recall: float | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IvfParams:
        recall = data.get("calibrated_recall")
        return cls(
            nlist=int(data["nlist"]),
            nprobe=int(data["nprobe"]),
            trained_count=int(data["trained_count"]),
            calibrated_recall=None if recall is None else float(recall),
        )


def choose_nlist(n: int) -> int:
    """Number of IVF lists for `n` vectors: the power of two nearest 2·√n, with enough points each."""
    if n < MIN_POINTS_PER_LIST:
        return 1
    target = 2 ** round(math.log2(max(1.0, 2 * math.sqrt(n))))
    ceiling = 2 ** int(math.log2(n // MIN_POINTS_PER_LIST))
    return max(1, min(target, ceiling))


def build_ivf(
    vectors: np.ndarray,
    ids: np.ndarray,
    *,
    nlist: int | None,
    nprobe: int | None,
    recall_target: float,
    train_size: int,
    seed: int = 0,
) -> tuple[faiss.Index, IvfParams]:
    """Train an `IndexIVFScalarQuantizer` (SQ8, inner product) on `vectors` and add them all.

    Args:
        vectors: `(n, dim)` float32 unit rows.
        ids: `(n,)` int64 ids of the rows.
        nlist: list count, or None for `choose_nlist(n)`.
        nprobe: lists probed per query, or None to calibrate it for `recall_target`.
        recall_target: recall@10 against exact search the calibrated nprobe must reach.
        train_size: at most this many rows (but at least 39 per list) train the lists.
        seed: seed of the training and calibration samples.

    Returns:
        The filled index (with an id hashtable, so it can remove and reconstruct by id) and its params.
    """
    n, dim = vectors.shape
    nlist = min(nlist or choose_nlist(n), n)
    rng = np.random.default_rng(seed)
    sample_size = min(n, max(train_size, MIN_POINTS_PER_LIST * nlist))
    sample = vectors if sample_size == n else vectors[np.sort(rng.choice(n, sample_size, replace=False))]
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    index.train(np.ascontiguousarray(sample))
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))
    recall = None
    if nprobe is None:
        nprobe, recall = calibrate_nprobe(index, vectors, ids, recall_target, rng)
    return index, IvfParams(nlist, min(nprobe, nlist), n, recall)


def calibrate_nprobe(
    index: faiss.Index, vectors: np.ndarray, ids: np.ndarray, target: float, rng: np.random.Generator
) -> tuple[int, float]:
    """The search nprobe for `index` and the recall@10 its undoubled value reached.

    Stored rows serve as queries with themselves excluded (a stand-in for held-out queries); the
    ground truth is exact inner product over `vectors` `(n, dim)`. The smallest power-of-two nprobe
    reaching `target` (or, when none does, the one where recall stops improving) is doubled.
    """
    n = len(ids)
    k = min(CALIBRATION_K, n - 1)
    if k < 1:
        return 1, 1.0
    picks = rng.choice(n, min(CALIBRATION_QUERIES, n), replace=False)
    queries, own = np.ascontiguousarray(vectors[picks]), ids[picks]
    _, rows = faiss.knn(queries, vectors, k + 1, faiss.METRIC_INNER_PRODUCT)
    truth = _drop_own(ids[rows], own, k)
    best_nprobe, best_recall = 1, -1.0
    nprobe = 1
    while True:
        _, found = index.search(queries, k + 1, params=faiss.SearchParametersIVF(nprobe=nprobe))
        recall = _recall(_drop_own(found, own, k), truth)
        if recall >= target:
            chosen, chosen_recall = nprobe, recall
            break
        if recall > best_recall + 0.002:
            best_nprobe, best_recall = nprobe, recall
        if nprobe >= index.nlist:
            chosen, chosen_recall = best_nprobe, best_recall
            break
        nprobe = min(index.nlist, 2 * nprobe)
    return min(index.nlist, chosen * NPROBE_MARGIN), float(chosen_recall)


def search_nprobe(params: IvfParams, k: int, selectivity: float) -> int:
    """nprobe for a query wanting `k` hits among a `selectivity` fraction of the vectors.

    Unfiltered, the calibrated nprobe grows with (k/10) ** K_EXPONENT: the 100 nearest
    neighbours sit in nearly the same lists as the 10 nearest. A filter keeping a fraction s of
    the vectors pushes the k-th allowed neighbour as far out as the (k/s)-th unfiltered one, so
    filtered searches probe √(k/(10 s)) times the calibrated lists (with the gentler growth,
    recall@100 fell to 0.95–0.96 at 1 % and 0.1 % of a million passages; see
    benchmarks/bench_scale.py).
    """
    deeper = max(1.0, k / CALIBRATION_K)
    factor = deeper**K_EXPONENT if selectivity >= 1.0 else math.sqrt(deeper / max(selectivity, 1e-9))
    return max(1, min(params.nlist, math.ceil(params.nprobe * factor)))


def ivf_ids(index: faiss.Index) -> np.ndarray:
    """Every id stored in the inverted lists of `index`, `(n,)` int64 (list order)."""
    invlists = faiss.extract_index_ivf(index).invlists
    parts = [np.empty(0, np.int64)]
    for list_no in range(invlists.nlist):
        size = invlists.list_size(list_no)
        if size:
            parts.append(faiss.rev_swig_ptr(invlists.get_ids(list_no), size).copy())
    return np.concatenate(parts).astype(np.int64, copy=False)


def _drop_own(found: np.ndarray, own: np.ndarray, k: int) -> np.ndarray:
    out = np.full((len(found), k), -1, np.int64)
    for row, (hits, self_id) in enumerate(zip(found, own, strict=True)):
        kept = hits[(hits != self_id) & (hits >= 0)][:k]
        out[row, : len(kept)] = kept
    return out


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(np.intersect1d(f[f >= 0], t[t >= 0])) for f, t in zip(found, truth, strict=True))
    return hits / max(1, int((truth >= 0).sum()))
