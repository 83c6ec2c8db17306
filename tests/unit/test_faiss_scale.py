"""Tests for the FAISS store's switch from exact search to IVF-SQ8 past its size threshold."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from embeddings.backends.local.stores import create_store, load_store
from embeddings.backends.local.stores.faiss_ivf import IvfParams, choose_nlist, search_nprobe
from embeddings.backends.local.stores.faiss_store import EXACT, INFO_FILENAME, IVF_SQ8, FaissStore
from embeddings.errors import ConfigurationError, IndexCorruptError

DIM = 32
THRESHOLD = 2_000
OPTIONS: dict[str, object] = {"exact_threshold": THRESHOLD}


def _clustered(n: int, seed: int, centres: int = 60) -> np.ndarray:
    """`(n, DIM)` unit vectors around a fixed set of cluster centres (same centres for any seed)."""
    means = np.random.default_rng(1234).standard_normal((centres, DIM)).astype(np.float32)
    rng = np.random.default_rng(seed)
    x = means[rng.integers(0, centres, n)] + 0.6 * rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _exact_top(vectors: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return ids[np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :k]]


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    pairs = zip(found, truth, strict=True)
    return float(np.mean([len(set(f.tolist()) & set(t.tolist())) / len(t) for f, t in pairs]))


def _filled(n: int = 4_000, **options: object) -> tuple[FaissStore, np.ndarray, np.ndarray]:
    store = create_store("faiss", DIM, {**OPTIONS, **options})
    assert isinstance(store, FaissStore)
    ids, vectors = np.arange(10, 10 + n, dtype=np.int64), _clustered(n, seed=0)
    for start in range(0, n, 1_000):  # several writes, like successive index sessions
        store.add(ids[start : start + 1_000], vectors[start : start + 1_000])
    return store, ids, vectors


@pytest.fixture(scope="module")
def approximate() -> tuple[FaissStore, np.ndarray, np.ndarray]:
    return _filled()


def test_store_is_exact_up_to_the_threshold_and_ivf_sq8_past_it() -> None:
    store = create_store("faiss", DIM, OPTIONS)
    assert isinstance(store, FaissStore)
    ids, vectors = np.arange(THRESHOLD + 1, dtype=np.int64), _clustered(THRESHOLD + 1, seed=0)
    store.add(ids[:THRESHOLD], vectors[:THRESHOLD])
    assert store.kind == EXACT and store.params is None
    store.add(ids[THRESHOLD:], vectors[THRESHOLD:])
    assert store.kind == IVF_SQ8 and len(store) == THRESHOLD + 1
    assert store.params is not None and store.params.nlist == choose_nlist(THRESHOLD + 1) > 1
    assert 1 <= store.params.nprobe <= store.params.nlist
    assert store.params.trained_count == THRESHOLD + 1
    assert np.array_equal(np.sort(store.ids()), ids)
    # SQ8 keeps vectors to within a small quantisation error.
    np.testing.assert_allclose(store.vectors(ids[:50]), vectors[:50], atol=0.02)


def test_recall_at_10_against_exact_search_stays_above_0_95(
    approximate: tuple[FaissStore, np.ndarray, np.ndarray],
) -> None:
    store, ids, vectors = approximate
    assert store.kind == IVF_SQ8
    queries = _clustered(300, seed=99)  # held out: not stored
    _, found = store.search(queries, k=10)
    assert found.shape == (300, 10) and (found >= 0).all()
    assert _recall(found, _exact_top(vectors, ids, queries, 10)) >= 0.95


def test_recall_at_100_the_services_candidate_depth_stays_above_0_95(
    approximate: tuple[FaissStore, np.ndarray, np.ndarray],
) -> None:
    store, ids, vectors = approximate
    queries = _clustered(300, seed=98)

    _, found = store.search(queries, k=100)

    assert _recall(found, _exact_top(vectors, ids, queries, 100)) >= 0.95


@pytest.mark.parametrize(
    ("k", "selectivity", "expected"),
    [(10, 1.0, 8), (5, 1.0, 8), (100, 1.0, 15), (10, 0.25, 16), (100, 0.25, 51), (100, 1e-6, 64)],
)
def test_nprobe_grows_with_k_and_with_the_filters_narrowness(
    k: int, selectivity: float, expected: int
) -> None:
    params = IvfParams(nlist=64, nprobe=8, trained_count=4_000, calibrated_recall=0.97)

    # unfiltered 8 x (k/10)^0.25; filtered 8 x sqrt(k / (10 selectivity)); rounded up, within [1, nlist]
    assert search_nprobe(params, k, selectivity) == expected


def test_remove_works_after_the_switch() -> None:
    store, ids, vectors = _filled()
    gone = ids[[0, 5, 500, 3_999]]
    assert store.remove(np.concatenate([gone, [10**9]])) == 4
    assert store.remove(gone) == 0
    assert len(store) == len(ids) - 4
    assert not set(store.ids().tolist()) & set(gone.tolist())
    _, found = store.search(vectors[[0, 5, 500, 3_999]], k=10)
    assert not set(found.ravel().tolist()) & set(gone.tolist())
    with pytest.raises(IndexCorruptError):
        store.vectors(gone[:1])
    store.add(gone[:1], vectors[:1])  # an id can come back after removal
    assert store.search(vectors[:1], k=1)[1][0, 0] == gone[0]


@pytest.mark.parametrize("exact_filter_limit", [0, 20_000], ids=["index-scan", "direct-scoring"])
def test_allowed_filter_works_after_the_switch(exact_filter_limit: int) -> None:
    store, ids, vectors = _filled(exact_filter_limit=exact_filter_limit)
    assert store.kind == IVF_SQ8
    allowed = np.random.default_rng(3).choice(ids, size=len(ids) // 10, replace=False)
    queries = _clustered(100, seed=77)
    scores, found = store.search(queries, k=10, allowed=allowed)
    assert set(found.ravel().tolist()) <= set(allowed.tolist())
    assert np.all(np.diff(scores, axis=1) <= 1e-6)
    keep = np.isin(ids, allowed)
    assert _recall(found, _exact_top(vectors[keep], ids[keep], queries, 10)) >= 0.95


def test_allowed_smaller_than_k_pads_after_the_switch(
    approximate: tuple[FaissStore, np.ndarray, np.ndarray],
) -> None:
    store, ids, vectors = approximate
    scores, found = store.search(vectors[:2], k=5, allowed=ids[[0, 1, 2]])
    assert sorted(found[0, :3].tolist()) == ids[:3].tolist() and found[0, 0] == ids[0]
    assert found[:, 3:].tolist() == [[-1, -1], [-1, -1]] and np.all(np.isneginf(scores[:, 3:]))


@pytest.mark.parametrize(("mmap", "mapped"), [(False, False), (True, True), ("exact", False), ("all", True)])
def test_save_and_load_keep_the_kind_and_its_parameters(
    approximate: tuple[FaissStore, np.ndarray, np.ndarray], tmp_path: Path, mmap: object, mapped: bool
) -> None:
    store, ids, _ = approximate
    store.save(tmp_path)
    info = json.loads((tmp_path / INFO_FILENAME).read_text())
    assert info["kind"] == IVF_SQ8 and info["count"] == len(ids) and info["dim"] == DIM
    loaded = load_store("faiss", tmp_path, {**OPTIONS, "mmap": mmap})
    assert isinstance(loaded, FaissStore)
    assert loaded.kind == IVF_SQ8 and loaded.params == store.params and loaded.mapped is mapped
    assert np.array_equal(np.sort(loaded.ids()), ids)
    queries = _clustered(20, seed=5)
    for a, b in zip(store.search(queries, k=10), loaded.search(queries, k=10), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_mapped_store_copies_itself_into_memory_on_the_first_write(
    approximate: tuple[FaissStore, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    store, ids, vectors = approximate
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    store.save(first)
    size = (first / "vectors.faiss").stat().st_size
    loaded = load_store("faiss", first, {**OPTIONS, "mmap": "all"})
    assert isinstance(loaded, FaissStore) and loaded.mapped
    new = np.array([10**6], dtype=np.int64)
    loaded.add(new, vectors[:1])
    assert not loaded.mapped and loaded.remove(ids[:1]) == 1
    assert (first / "vectors.faiss").stat().st_size == size  # the mapped file is untouched
    loaded.save(second)
    again = load_store("faiss", second, OPTIONS)
    assert new[0] in again.ids() and ids[0] not in again.ids() and len(again) == len(ids)


def test_saving_an_unchanged_mapped_store_elsewhere_writes_its_data(
    approximate: tuple[FaissStore, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    store, ids, _ = approximate
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    store.save(first)
    mapped = load_store("faiss", first, {**OPTIONS, "mmap": "all"})
    assert isinstance(mapped, FaissStore) and mapped.mapped
    mapped.save(first)  # onto its own file: nothing to rewrite
    mapped.save(second)
    shutil.rmtree(first)
    copy = load_store("faiss", second, {**OPTIONS, "mmap": False})
    assert np.array_equal(np.sort(copy.ids()), ids)


def test_a_mapped_exact_store_stays_writable(tmp_path: Path) -> None:
    store = create_store("faiss", DIM, OPTIONS)
    ids, vectors = np.arange(100, dtype=np.int64), _clustered(100, seed=2)
    store.add(ids, vectors)
    store.save(tmp_path)
    loaded = load_store("faiss", tmp_path, OPTIONS)
    assert isinstance(loaded, FaissStore) and loaded.kind == EXACT and loaded.mapped
    np.testing.assert_array_equal(loaded.vectors(ids[:3]), vectors[:3])
    loaded.add(np.array([500], dtype=np.int64), vectors[:1])
    assert loaded.remove(ids[:1]) == 1 and not loaded.mapped
    assert loaded.search(vectors[:1], k=1)[1][0, 0] == 500


def test_growing_far_past_the_training_size_retrains_with_more_lists() -> None:
    store = create_store("faiss", DIM, {"exact_threshold": 1_000})
    assert isinstance(store, FaissStore)
    ids, vectors = np.arange(2_600, dtype=np.int64), _clustered(2_600, seed=0)
    store.add(ids[:1_100], vectors[:1_100])
    assert store.params is not None
    first = store.params.nlist
    store.add(ids[1_100:], vectors[1_100:])
    assert store.params.nlist >= 4 * first and store.params.trained_count == 2_600
    assert np.array_equal(np.sort(store.ids()), ids)
    queries = _clustered(200, seed=42)
    assert _recall(store.search(queries, k=10)[1], _exact_top(vectors, ids, queries, 10)) >= 0.95


def test_a_store_saved_without_its_info_file_loads_as_exact(tmp_path: Path) -> None:
    store = create_store("faiss", DIM, OPTIONS)
    store.add(np.arange(10, dtype=np.int64), _clustered(10, seed=0))
    store.save(tmp_path)
    (tmp_path / INFO_FILENAME).unlink()
    loaded = load_store("faiss", tmp_path, OPTIONS)
    assert isinstance(loaded, FaissStore) and loaded.kind == EXACT and len(loaded) == 10


def test_options_are_validated_and_may_come_as_strings() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown faiss store option.*exact_threshold"):
        create_store("faiss", DIM, {"threshold": 5})
    with pytest.raises(ConfigurationError, match="exact_threshold"):
        create_store("faiss", DIM, {"exact_threshold": 10})
    with pytest.raises(ConfigurationError, match="recall_target"):
        create_store("faiss", DIM, {"recall_target": 1.5})
    store = create_store("faiss", DIM, {"exact_threshold": "1000", "mmap": "false", "nprobe": "4"})
    ids = np.arange(1_001, dtype=np.int64)
    store.add(ids, _clustered(1_001, seed=0))
    assert isinstance(store, FaissStore) and store.kind == IVF_SQ8
    assert store.params is not None and store.params.nprobe == 4 and store.params.calibrated_recall is None


def test_an_exact_store_past_a_lowered_threshold_converts_when_saved(tmp_path: Path) -> None:
    ids, vectors = np.arange(1_200, dtype=np.int64), _clustered(1_200, seed=3)
    store = create_store("faiss", DIM, {"exact_threshold": 5_000})
    store.add(ids, vectors)
    store.save(tmp_path)
    lowered = load_store("faiss", tmp_path, {"exact_threshold": 1_000})
    assert isinstance(lowered, FaissStore) and lowered.kind == EXACT  # reading changes nothing
    lowered.save(tmp_path)
    converted = load_store("faiss", tmp_path, {"exact_threshold": 1_000})
    assert isinstance(converted, FaissStore) and converted.kind == IVF_SQ8
    assert np.array_equal(np.sort(converted.ids()), ids)
    queries = _clustered(100, seed=9)
    assert _recall(converted.search(queries, k=10)[1], _exact_top(vectors, ids, queries, 10)) >= 0.95
