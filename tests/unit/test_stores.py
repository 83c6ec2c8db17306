"""Tests for embeddings.backends.local.stores: the backend registry and the FAISS store contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings.backends.local.stores import BACKENDS, VectorStore, create_store, load_store
from embeddings.errors import ConfigurationError

DIM = 16


def _unit(n: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _store(n: int = 50) -> tuple[VectorStore, np.ndarray, np.ndarray]:
    store = create_store("faiss", DIM)
    ids, vectors = np.arange(100, 100 + n, dtype=np.int64), _unit(n)
    store.add(ids, vectors)
    return store, ids, vectors


def _brute_force(vectors: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    return ids[np.argsort(-(vectors @ query), kind="stable")[:k]]


def test_unknown_backend_is_a_configuration_error_listing_the_choices(tmp_path: Path) -> None:
    assert "faiss" in BACKENDS
    with pytest.raises(ConfigurationError, match=r"unknown vector backend 'elastic'.*faiss"):
        create_store("elastic", DIM)
    with pytest.raises(ConfigurationError, match="faiss"):
        load_store("elastic", tmp_path)


def test_added_vectors_come_back_by_id_and_find_themselves() -> None:
    store, ids, vectors = _store()
    assert store.backend == "faiss" and store.dim == DIM and len(store) == 50
    assert np.array_equal(np.sort(store.ids()), ids)
    assert store.ids().dtype == np.int64
    picked = ids[[3, 17, 42]]
    np.testing.assert_allclose(store.vectors(picked), vectors[[3, 17, 42]], atol=1e-6)
    scores, found = store.search(vectors[[3, 17]], k=1)
    assert scores.shape == found.shape == (2, 1)
    assert found[:, 0].tolist() == [ids[3], ids[17]]
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)


def test_search_is_exact_and_best_first() -> None:
    store, ids, vectors = _store()
    query = _unit(1, seed=9)
    scores, found = store.search(query, k=5)
    assert found[0].tolist() == _brute_force(vectors, ids, query[0], 5).tolist()
    assert np.all(np.diff(scores[0]) <= 0)


def test_removed_ids_are_gone_and_unknown_ids_are_not_counted() -> None:
    store, ids, vectors = _store()
    assert store.remove(np.array([ids[3], ids[4], 99999])) == 2
    assert store.remove(np.array([], dtype=np.int64)) == 0
    assert len(store) == 48
    assert not set(store.ids().tolist()) & {ids[3], ids[4]}
    _, found = store.search(vectors[[3]], k=48)
    assert ids[3] not in found[0] and -1 not in found[0]


def test_allowed_restricts_results_and_still_returns_k() -> None:
    store, ids, vectors = _store()
    allowed = ids[::5]  # 10 ids
    query = _unit(2, seed=4)
    scores, found = store.search(query, k=6, allowed=allowed)
    assert found.shape == (2, 6)
    assert set(found.ravel().tolist()) <= set(allowed.tolist())
    for row in range(2):
        assert found[row].tolist() == _brute_force(vectors[::5], allowed, query[row], 6).tolist()
    assert np.all(np.isfinite(scores))


def test_allowed_smaller_than_k_pads_with_minus_one() -> None:
    store, ids, vectors = _store()
    scores, found = store.search(vectors[[0]], k=4, allowed=ids[:2])
    assert sorted(found[0, :2].tolist()) == ids[:2].tolist()
    assert found[0, 2:].tolist() == [-1, -1]
    assert np.all(np.isneginf(scores[0, 2:]))
    scores, found = store.search(vectors[[0]], k=3, allowed=np.array([], dtype=np.int64))
    assert found.tolist() == [[-1, -1, -1]] and np.all(np.isneginf(scores))


def test_search_on_an_empty_store_returns_padding() -> None:
    store = create_store("faiss", DIM)
    assert len(store) == 0 and store.ids().size == 0
    scores, found = store.search(_unit(3), k=4)
    assert found.shape == scores.shape == (3, 4)
    assert np.all(found == -1) and np.all(np.isneginf(scores))


def test_save_then_load_roundtrips(tmp_path: Path) -> None:
    store, ids, vectors = _store()
    store.remove(ids[:5])
    store.save(tmp_path)
    loaded = load_store("faiss", tmp_path)
    assert len(loaded) == 45 and loaded.dim == DIM
    assert np.array_equal(np.sort(loaded.ids()), ids[5:])
    np.testing.assert_array_equal(loaded.vectors(ids[5:]), store.vectors(ids[5:]))
    query = _unit(3, seed=2)
    for a, b in zip(store.search(query, k=7), loaded.search(query, k=7), strict=True):
        np.testing.assert_array_equal(a, b)
    loaded.add(np.array([7], dtype=np.int64), vectors[:1])  # the loaded store stays writable
    assert store.search(vectors[:1], k=1)[1][0, 0] != 7 and loaded.search(vectors[:1], k=1)[1][0, 0] == 7
