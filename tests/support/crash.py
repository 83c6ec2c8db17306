"""The crash-trial harness: SIGKILL a driver writer mid-batch, then check the index shows a whole state."""

from __future__ import annotations

import random
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from embeddings.articles import Article
from embeddings.backends import Backend
from embeddings.backends.local.versions import CURRENT, KEEP_VERSIONS, IndexDirectory
from qa.service import QAService
from tests.support.driver import article_record, make_article, make_service, write_jsonl
from tests.support.processes import DriverProcess, free_port, wait_healthy

TOKEN = "crash-trial-token"
MODES = ("cli", "api")
POLICIES = ("uniform", "targeted")

Record = tuple[str, str, str | None, str | None, str | None]


@dataclass(frozen=True, slots=True)
class Plan:
    """State A, the batch, and every state a reader may legitimately see, in order."""

    base: list[Article]
    changed: list[Article]  # the adds and updates, one POST
    deleted: str
    states: dict[str, dict[str, Record]]  # "A", "post" (API only, between requests), "B"

    @property
    def final(self) -> list[Article]:
        """Every article of state B (what `qa index --prune` reads)."""
        changed = {a.id: a for a in self.changed}
        kept = [changed.pop(a.id, a) for a in self.base if a.id != self.deleted]
        return kept + list(changed.values())


@dataclass(frozen=True, slots=True)
class Timing:
    """How an unkilled run went: seconds from start to finish, batches embedded, and seconds from
    the last batch to the last replacement of CURRENT (the commit and swap window)."""

    total: float
    markers: int
    tail: float


@dataclass(slots=True)
class TrialResult:
    """One trial: how it was killed, what was found, whether a writer recovered afterwards."""

    n: int
    mode: str
    policy: str
    kill_after: float  # seconds after the start (cli: spawn; api: the POST is sent)
    killed: bool  # False when the writer finished before the kill moment
    phase: str  # startup, embedding, commit, done
    state: str  # A, post, B, or "mixed" / "unopenable"
    problems: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    recovered: bool = False
    recovery_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.state in ("A", "post", "B")
            and not self.problems
            and self.recovered
            and not self.recovery_problems
        )


def make_plan(n_base: int = 300, n_added: int = 100, n_updated: int = 80, seed: int = 0) -> Plan:
    """Synthetic state A and a batch of `n_added` new articles, `n_updated` revisions and one delete."""
    rng = random.Random(seed)
    base = [make_article(f"a{i:04d}", seed) for i in range(n_base)]
    updated = [make_article(a.id, seed, revision=1) for a in rng.sample(base[:-1], n_updated)]
    added = [make_article(f"b{i:04d}", seed) for i in range(n_added)]
    changed = added + updated
    rng.shuffle(changed)  # every embedding batch holds new work
    deleted = base[-1].id
    a = {x.id: _record(x) for x in base}
    post = a | {x.id: _record(x) for x in changed}
    b = {k: v for k, v in post.items() if k != deleted}
    return Plan(base, changed, deleted, {"A": a, "post": post, "B": b})


def _record(article: Article) -> Record:
    date = article.date.isoformat() if article.date else None
    return (article.title, article.text, date, article.source, article.url)


class CrashHarness:
    """Runs trials of one plan in `workdir`; every trial starts from a copy of the state-A index
    (of the `backend` named: "local" files, or "milvus" in Milvus Lite)."""

    def __init__(self, workdir: Path, plan: Plan, sleep: float = 0.15, backend: str = "local") -> None:
        self.workdir, self.plan, self.sleep, self.backend = Path(workdir), plan, sleep, backend
        self.base_index = self.workdir / "base-index"
        self.final_file = write_jsonl(self.workdir / "batch.jsonl", plan.final)
        base = make_service(self.base_index, backend=backend)
        base.add(plan.base)
        release(base)  # Milvus Lite: its files complete and free before they are copied
        self.timing: dict[str, Timing] = {}

    def service(self, root: Path) -> QAService:
        return make_service(root, backend=self.backend)

    # --- one run of a writer -------------------------------------------------------------------

    def _fresh_copy(self, name: str) -> Path:
        root = self.workdir / name
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(self.base_index, root)
        return root

    def _run(self, mode: str, root: Path, kill: KillPlan | None) -> Outcome:
        """Start a writer on `root` and kill it as `kill` says (None: let it finish)."""
        log = root.parent / f"{root.name}.log"
        if mode == "cli":
            writer = DriverProcess(
                [
                    "cli",
                    str(root),
                    str(self.final_file),
                    "--prune",
                    "--sleep",
                    str(self.sleep),
                    *self._backend,
                ],
                log,
            )
            start = time.monotonic()
            try:
                return self._finish(writer, start, kill, lambda: _exited(writer, 120))
            finally:
                writer.close()
        port = free_port()
        writer = DriverProcess(
            [
                "serve",
                str(root),
                "--port",
                str(port),
                "--token",
                TOKEN,
                "--sleep",
                str(self.sleep),
                *self._backend,
            ],
            log,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, writer)
            done = threading.Event()
            client = threading.Thread(target=self._post_batch, args=(url, done), daemon=True)
            start = time.monotonic()
            client.start()
            outcome = self._finish(writer, start, kill, lambda: done.wait(120))
            client.join(10)
            return outcome
        finally:
            writer.close()

    @property
    def _backend(self) -> list[str]:
        return ["--backend", self.backend]

    def _finish(
        self, writer: DriverProcess, start: float, kill: KillPlan | None, wait_done: Callable[[], bool]
    ) -> Outcome:
        if kill is None:
            if not wait_done():
                raise RuntimeError(f"writer did not finish in time; see {writer.log.name}")
            killed = False
        else:
            if kill.after_markers:
                writer.wait_markers(kill.after_markers, 120)
                time.sleep(kill.delay)
            else:
                time.sleep(max(0.0, start + kill.delay - time.monotonic()))
            killed = writer.kill()
        moment = time.monotonic() - start
        with writer.marker_seen:
            markers = [t - start for t in writer.markers]
        return Outcome(killed, moment, markers, start)

    def _post_batch(self, url: str, done: threading.Event) -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        try:
            with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
                body = {"articles": [article_record(a) for a in self.plan.changed]}
                http.post("/articles", json=body).raise_for_status()
                http.delete(f"/articles/{self.plan.deleted}").raise_for_status()
            done.set()
        except httpx.HTTPError:
            pass  # the server was killed under the request

    # --- calibration and trials -----------------------------------------------------------------

    def calibrate(self, mode: str) -> Timing:
        """One unkilled run: its duration and batches; it must end in state B."""
        root = self._fresh_copy(f"calibrate-{mode}")
        swaps: list[float] = []
        stop = threading.Event()
        # Local versions are published by replacing CURRENT, which is watched; a Milvus Lite file is
        # open in the writer's process alone, so there the commit window ends with the run.
        local = self.backend == "local"
        watcher = threading.Thread(target=_watch_current, args=(root, swaps, stop), daemon=True)
        if local:
            watcher.start()
        outcome = self._run(mode, root, None)
        stop.set()
        if local:
            watcher.join()
        else:
            swaps.append(outcome.start + outcome.moment)
        state, problems, _ = observe(root, self.plan, self.backend)
        if state != "B" or problems or not swaps:
            raise RuntimeError(f"unkilled {mode} run ended in state {state} with problems {problems}")
        last = outcome.markers[-1] if outcome.markers else 0.0
        timing = Timing(outcome.moment, len(outcome.markers), max(0.02, swaps[-1] - outcome.start - last))
        self.timing[mode] = timing
        shutil.rmtree(root, ignore_errors=True)
        return timing

    def trial(self, n: int, mode: str, policy: str, rng: random.Random) -> TrialResult:
        timing = self.timing.get(mode) or self.calibrate(mode)
        if policy == "uniform":
            kill = KillPlan(0, rng.uniform(0, timing.total))
        else:
            kill = KillPlan(timing.markers, rng.uniform(0, timing.tail * 1.3))
        root = self._fresh_copy(f"trial-{n:03d}")
        outcome = self._run(mode, root, kill)
        markers = len(outcome.markers)
        if not outcome.killed:
            phase = "done"
        elif markers == 0:
            phase = "startup"
        else:
            phase = "embedding" if markers < timing.markers else "commit"
        result = TrialResult(n, mode, policy, round(outcome.moment, 3), outcome.killed, phase, "unopenable")
        try:
            result.state, result.problems, result.leftovers = observe(root, self.plan, self.backend)
        except Exception as exc:  # any failure to open is exactly what a trial must catch
            result.problems = [f"{type(exc).__name__}: {exc}"]
            return result
        result.recovered, result.recovery_problems = self._recover(mode, root)
        shutil.rmtree(root, ignore_errors=True)
        (self.workdir / f"trial-{n:03d}.log").unlink(missing_ok=True)
        return result

    def _recover(self, mode: str, root: Path) -> tuple[bool, list[str]]:
        """A writer run after the kill must finish the batch and clear the dead writer's leftovers."""
        qa = self.service(root)
        try:
            if mode == "cli":
                qa.add(self.plan.final, prune=True)
            else:
                qa.add(self.plan.changed)
                if qa.reader().article(self.plan.deleted) is not None:
                    qa.delete([self.plan.deleted])
        except Exception as exc:
            return False, [f"{type(exc).__name__}: {exc}"]
        finally:
            release(qa)
        state, problems, leftovers = observe(root, self.plan, self.backend)
        if state != "B":
            problems.append(f"after recovery the index is in state {state}, not B")
        if leftovers:
            problems.append(f"leftovers after recovery: {leftovers}")
        if self.backend == "local":
            versions = sorted(p.name for p in (root / "versions").iterdir())
            if len(versions) > KEEP_VERSIONS:
                problems.append(f"{len(versions)} versions kept after recovery: {versions}")
        return True, problems


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a writer run ended: killed or not, seconds from start to then, its batch times."""

    killed: bool
    moment: float
    markers: list[float]
    start: float  # time.monotonic() at the start


def _watch_current(root: Path, swaps: list[float], stop: threading.Event) -> None:
    """Record when CURRENT changes (polled every millisecond) until `stop` is set."""
    seen = (root / CURRENT).read_text()
    while not stop.wait(0.001):
        try:
            now = (root / CURRENT).read_text()
        except FileNotFoundError:
            continue
        if now != seen:
            seen = now
            swaps.append(time.monotonic())


def _exited(writer: DriverProcess, timeout: float) -> bool:
    try:
        writer.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        return False
    return writer.proc.returncode == 0


@dataclass(frozen=True, slots=True)
class KillPlan:
    """Kill `delay` seconds after the start, or after `after_markers` embedding batches when nonzero."""

    after_markers: int
    delay: float


def observe(root: Path, plan: Plan, backend: str = "local") -> tuple[str, list[str], list[str]]:
    """Open the index as a reader would: (state name, check problems, leftovers of a writer)."""
    qa = make_service(root, backend=backend)
    try:
        snapshot = qa.reader()
        problems = snapshot.check()
        seen = {aid: _record(a) for aid in snapshot.article_ids() if (a := snapshot.article(aid)) is not None}
        state = next((name for name, want in plan.states.items() if seen == want), "mixed")
        if state == "mixed":
            problems.append(_describe_mix(seen, plan))
        problems += _query_problems(qa, plan, state)
        leftovers = LEFTOVERS[backend](qa.backend)
    finally:
        release(qa)
    return state, problems, leftovers


def _local_leftovers(backend: Backend) -> list[str]:
    """A dead local writer's private directory, pointer file or unpublished versions."""
    root: Path = backend.root  # type: ignore[attr-defined]
    live = IndexDirectory(root).current_name()
    leftovers = [p.name for p in root.glob("tmp-*")]
    if (root / (CURRENT + ".tmp")).exists():
        leftovers.append(CURRENT + ".tmp")
    return leftovers + [p.name for p in (root / "versions").iterdir() if p.name > live]


def _milvus_leftovers(backend: Backend) -> list[str]:
    """Rows above the last commit (a dead writer's), and retirements not purged yet, by collection."""
    client, names = backend.client, backend.names  # type: ignore[attr-defined]
    live = int(backend.live_version())
    leftovers = []
    for name in (*names.data, names.log):
        rows = client.query(name, filter=f"version > {live}", output_fields=["count(*)"])
        if count := int(rows[0]["count(*)"]):
            leftovers.append(f"{name}: {count} rows above version {live}")
    rows = client.query(names.log, filter='kind != "commit"', output_fields=["count(*)"])
    if count := int(rows[0]["count(*)"]):
        leftovers.append(f"{names.log}: {count} retirements not purged")
    return leftovers


LEFTOVERS: dict[str, Callable[[Backend], list[str]]] = {
    "local": _local_leftovers,
    "milvus": _milvus_leftovers,
}


def release(qa: QAService) -> None:
    """Let go of what the service's backend holds open beyond the contract (a Milvus Lite engine)."""
    close = getattr(qa.backend, "close", None)
    if close is not None:
        close()


def _describe_mix(seen: dict[str, Record], plan: Plan) -> str:
    batch = [a.id for a in plan.changed] + [plan.deleted]
    where: Counter[str] = Counter()
    for aid in batch:
        matches = [name for name, want in plan.states.items() if want.get(aid) == seen.get(aid)]
        where["/".join(matches) or "neither"] += 1
    return f"mixed state: batch articles by matching state {dict(where)}"


def _query_problems(qa: QAService, plan: Plan, state: str) -> list[str]:
    """A query for a new article's unique title finds it exactly when the state holds it."""
    added = next(a for a in plan.changed if a.id.startswith("b"))
    hits = qa.search(added.title, k=3)
    found = [h.article_id for h in hits]
    expected = state in ("post", "B")
    if (added.id in found) != expected:
        return [f"search for {added.id!r} returned {found} in state {state}"]
    return []


def run_trials(
    workdir: Path,
    trials: int,
    *,
    seed: int = 0,
    sleep: float = 0.15,
    plan: Plan | None = None,
    backend: str = "local",
) -> list[TrialResult]:
    """Run `trials` trials, alternating CLI/API and uniform/targeted kills."""
    harness = CrashHarness(workdir, plan or make_plan(seed=seed), sleep, backend)
    rng = random.Random(seed)
    return [harness.trial(n, MODES[n % 2], POLICIES[(n // 2) % 2], rng) for n in range(trials)]


def summarise(results: Sequence[TrialResult]) -> dict[str, object]:
    """Counts a report needs: trials, kills, states seen per mode, phases, leftovers, failures."""
    return {
        "trials": len(results),
        "kills": sum(r.killed for r in results),
        "failures": sum(not r.ok for r in results),
        "states": {mode: dict(Counter(r.state for r in results if r.mode == mode)) for mode in MODES},
        "phases": dict(Counter(r.phase for r in results)),
        "states_by_phase": {
            phase: dict(Counter(r.state for r in results if r.phase == phase))
            for phase in ("startup", "embedding", "commit", "done")
        },
        "left_leftovers": sum(bool(r.leftovers) for r in results),
        "leftover_kinds": dict(Counter(_leftover_kind(name) for r in results for name in r.leftovers)),
        "recovered": sum(r.recovered and not r.recovery_problems for r in results),
    }


def _leftover_kind(name: str) -> str:
    if name.startswith("tmp-"):
        return "tmp-*"
    if "rows above version" in name:  # Milvus: a dead writer's rows
        return "rows above the last commit"
    if "retirements not purged" in name:  # Milvus: a commit whose purge did not finish
        return "retirements not purged"
    return name if name == CURRENT + ".tmp" else "unpublished version"
