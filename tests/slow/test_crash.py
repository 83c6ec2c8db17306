"""SIGKILLed writers (CLI and `POST /articles`) leave the old state or the new one, never a mix (local
files and Milvus Lite)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from tests.support.crash import CrashHarness, TrialResult, make_plan, observe, release, summarise
from tests.support.driver import make_service

pytestmark = pytest.mark.slow

TRIALS = 8


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> list[TrialResult]:
    """The full harness of `tests/support/crash.py`, sampled down to a few trials on a small plan."""
    harness = CrashHarness(tmp_path_factory.mktemp("crash"), make_plan(n_base=120, n_added=40, n_updated=30))
    rng = random.Random(1)
    modes, policies = ("cli", "api"), ("uniform", "targeted", "targeted", "targeted")
    return [harness.trial(n, modes[n % 2], policies[(n // 2) % 4], rng) for n in range(TRIALS)]


def test_every_killed_index_opens_checks_clean_and_shows_a_whole_state(results: list[TrialResult]) -> None:
    for r in results:
        assert r.state in ("A", "post", "B"), r
        assert r.problems == [], r
        if r.mode == "cli":
            assert r.state != "post", r  # one `qa index --prune` is one version


def test_a_writer_after_the_kill_finishes_the_batch_and_removes_leftovers(results: list[TrialResult]) -> None:
    for r in results:
        assert r.recovered, r
        assert r.recovery_problems == [], r


def test_the_trials_really_killed_writers_in_their_commit(results: list[TrialResult]) -> None:
    summary = summarise(results)
    assert summary["kills"] >= TRIALS // 2
    assert any(r.killed and r.phase == "commit" for r in results)


@pytest.mark.parametrize("backend", ["local", "milvus"])
def test_observe_tells_a_mixed_index_apart(tmp_path: Path, backend: str) -> None:
    """The harness check can fail: half a batch applied is reported as `mixed`."""
    plan = make_plan(n_base=20, n_added=6, n_updated=4)
    qa = make_service(tmp_path / "index", backend=backend)
    qa.add(plan.base)
    qa.add(plan.changed[: len(plan.changed) // 2])
    release(qa)
    state, problems, leftovers = observe(tmp_path / "index", plan, backend)
    assert state == "mixed"
    assert any("mixed state" in p for p in problems)
    assert leftovers == []


MILVUS_TRIALS = (("cli", "targeted"), ("api", "targeted"), ("cli", "uniform"), ("api", "uniform"))


@pytest.fixture(scope="module")
def milvus_results(tmp_path_factory: pytest.TempPathFactory) -> list[TrialResult]:
    """A few trials of writers into Milvus Lite (`benchmarks/crash_trials.py --backend milvus`)."""
    plan = make_plan(n_base=60, n_added=20, n_updated=15)
    harness = CrashHarness(tmp_path_factory.mktemp("crash-milvus"), plan, backend="milvus")
    rng = random.Random(2)
    return [harness.trial(n, mode, policy, rng) for n, (mode, policy) in enumerate(MILVUS_TRIALS)]


def test_killed_writers_into_milvus_lite_leave_a_whole_state_that_a_writer_completes(
    milvus_results: list[TrialResult],
) -> None:
    for r in milvus_results:
        assert r.state in ("A", "post", "B") and r.problems == [], r
        assert r.recovered and r.recovery_problems == [], r
        if r.mode == "cli":
            assert r.state != "post", r
    assert any(r.killed for r in milvus_results)


def test_a_writer_clears_what_a_writer_killed_at_the_swap_left(tmp_path: Path) -> None:
    """The narrowest windows, which random kills rarely hit, set up by hand: after the rename into
    `versions/` and after writing `CURRENT.tmp`, before `CURRENT` is replaced."""
    plan = make_plan(n_base=20, n_added=6, n_updated=4)
    root = tmp_path / "index"
    make_service(root).add(plan.base)
    live = (root / "CURRENT").read_text().strip()
    unpublished = root / "versions" / f"v{int(live[1:]) + 1:08d}"
    shutil.copytree(root / "versions" / live, unpublished)
    (unpublished / "PUBLISHED").unlink()  # written only once CURRENT names a version: never here
    (unpublished / "vectors.faiss").write_bytes(b"torn")
    (root / "CURRENT.tmp").write_text(unpublished.name + "\n")
    (root / "tmp-dead").mkdir()
    (root / "tmp-dead" / "meta.sqlite").write_bytes(b"half")

    state, problems, leftovers = observe(root, plan)
    assert (state, problems) == ("A", [])
    assert sorted(leftovers) == sorted(["tmp-dead", "CURRENT.tmp", unpublished.name])

    make_service(root).add(plan.final, prune=True)
    state, problems, leftovers = observe(root, plan)
    assert (state, problems, leftovers) == ("B", [], [])
    assert (root / "CURRENT").read_text().strip() == unpublished.name  # rebuilt, not the torn copy
