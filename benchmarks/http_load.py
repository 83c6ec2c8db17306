"""A real uvicorn server over an index, and `/search` load from Python client threads.

Used by `bench_speed` (sections 3 and 4): start-up to first answer, resident memory, whether the
serving process mapped libtorch, and latency/throughput under 1 and 8 concurrent clients.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tests.support.processes import REPO_ROOT, free_port

K = 10  # hits per request
WARMUP_QUESTION = "What happened this week?"


def percentiles(ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/mean of latencies in ms (empty input gives NaNs)."""
    if not ms:
        return {"n": 0, "p50": float("nan"), "p95": float("nan"), "p99": float("nan"), "mean": float("nan")}
    a = np.asarray(ms, dtype=np.float64)
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {"n": len(a), "p50": float(p50), "p95": float(p95), "p99": float(p99), "mean": float(a.mean())}


@dataclass(frozen=True, slots=True)
class Server:
    """A uvicorn process serving the index, and how long it took to answer its first /search."""

    url: str
    process: subprocess.Popen[bytes]
    startup_s: float
    log: Path


@contextlib.contextmanager
def serve(
    index_dir: Path, encoder: str, *, access_log: bool, workers: int = 1, timeout: float = 180.0
) -> Iterator[Server]:
    """Spawn `uvicorn --factory qa.api:app_from_environment` and poll /search until it answers 200.

    With `workers` > 1 uvicorn forks that many server processes behind one socket (as
    `qa serve --workers N` does); each is started before the first answer counts only for one.
    """
    import httpx

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}  # defaults, not the caller's
    env |= {"QA_INDEX_DIR": str(index_dir), "QA_ENCODER": encoder}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "qa.api:app_from_environment",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--workers",
        str(workers),
    ]
    if not access_log:
        command.append("--no-access-log")
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="bench-speed-server-") as tmp:
        log = Path(tmp) / "server.log"
        with log.open("wb") as sink:
            started = time.perf_counter()
            process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            startup = _first_answer(httpx, url, process, started, timeout, log)
            print(f"  server: {shlex.join(command)}")
            yield Server(url, process, startup, log)
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _first_answer(
    httpx: Any, url: str, process: subprocess.Popen[bytes], started: float, timeout: float, log: Path
) -> float:
    with httpx.Client(base_url=url, timeout=30.0) as client:
        while time.perf_counter() - started < timeout:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if client.get("/search", params={"q": WARMUP_QUESTION, "k": K}).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(0.02)
    raise RuntimeError(f"no answer from {url}/search within {timeout:.0f}s:\n{log.read_text()[-3000:]}")


@dataclass(frozen=True, slots=True)
class LoadResult:
    """One load run: wall seconds, per-request latencies in ms, failed requests."""

    clients: int
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int
    first_error: str | None


def load(url: str, questions: Sequence[str], clients: int, requests: int) -> LoadResult:
    """`requests` GET /search (questions cycling) from `clients` threads, each with its own connection."""
    import httpx

    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    gate = threading.Barrier(clients + 1)

    def client_loop() -> None:
        with httpx.Client(base_url=url, timeout=60.0) as client:
            gate.wait()
            while (i := next(counter)) < requests:
                params = {"q": questions[i % len(questions)], "k": K}
                started = time.perf_counter()
                try:
                    status = client.get("/search", params=params).status_code
                    error = None if status == 200 else f"HTTP {status}"
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    if error:
                        errors.append(error)

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(client_loop) for _ in range(clients)]
        gate.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        seconds = time.perf_counter() - started
    return LoadResult(clients, len(latencies), seconds, latencies, len(errors), errors[0] if errors else None)


def print_load(name: str, r: LoadResult) -> dict[str, Any]:
    s = percentiles(r.latencies_ms)
    rate = r.requests / r.seconds
    print(
        f"  {name:34} {rate:7.1f} req/s  p50 {s['p50']:7.2f}  p99 {s['p99']:7.2f} ms  "
        f"errors {r.errors}/{r.requests}" + (f"  (first: {r.first_error})" if r.first_error else "")
    )
    return {
        "clients": r.clients,
        "requests": r.requests,
        "req_per_s": rate,
        "errors": r.errors,
        "first_error": r.first_error,
        **{k: s[k] for k in ("p50", "p95", "p99", "mean")},
    }


def server_maps_torch(pid: int) -> bool:
    """Whether the process has any libtorch shared object mapped (it imported torch)."""
    import psutil

    return any("libtorch" in Path(m.path).name for m in psutil.Process(pid).memory_maps(grouped=True))


def server_rss(pid: int) -> int:
    """Resident bytes of a server process and its children (uvicorn's worker processes)."""
    import psutil

    process = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
