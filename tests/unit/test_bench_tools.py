"""Tests for two benchmark helpers: held_out's saved results read back as a baseline, and
isa_vectors' comparison of two embedding runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.held_out import _save, read_refs
from benchmarks.isa_vectors import compare


def test_saved_results_read_back_as_a_baseline(tmp_path: Path) -> None:
    undated = {"learned-lextime": [{"id": "q1", "hits": [{"article_id": "a1", "text": "é"}]}]}
    dated = {"learned-lextime": [{"id": "q1", "hits": []}]}
    _save(tmp_path, undated, "undated")
    _save(tmp_path, dated, "dated")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "learned-lextime-dated.jsonl",
        "learned-lextime.jsonl",
    ]
    assert read_refs(tmp_path, "undated", ("learned-lextime", "weights")) == undated
    assert read_refs(tmp_path, "dated", ("learned-lextime",)) == dated
    assert read_refs(None, "dated", ("learned-lextime",)) == {}


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, 16)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _run(path: Path, passages: np.ndarray, questions: np.ndarray, flags: list[str]) -> Path:
    np.savez(path, passages=passages, questions=questions, flags=np.array(flags), backend=np.array("x"))
    return path


def test_compare_tells_identical_runs_from_moved_ones(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    passages, questions = _unit(rng, 40), _unit(rng, 12)
    first = _run(tmp_path / "a.npz", passages, questions, ["AVX2", "AVX512VNNI"])
    same = compare(first, _run(tmp_path / "b.npz", passages, questions, ["AVX2"]))
    assert same["passages: identical vectors"] == 1.0 and same["questions: min cosine"] > 0.99999
    assert same["top-10 overlap (questions from the second run)"] == 1.0
    moved = questions + 0.8 * _unit(rng, 12)
    moved /= np.linalg.norm(moved, axis=1, keepdims=True)
    other = compare(first, _run(tmp_path / "c.npz", passages, moved, ["AVX2"]))
    assert other["questions: identical vectors"] == 0.0
    assert other["questions: min cosine"] < 0.9
    assert other["top-10 overlap (questions from the second run)"] < 1.0
