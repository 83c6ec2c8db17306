"""Bounded load test on loopback: a real `qa serve` (default encoder) under 8 client threads.

Indexes `seeds/` into a temporary index, starts `qa serve` on 127.0.0.1 with a write token, and
runs client threads for `--seconds`, mixing `GET /search`, `POST /ask` and occasional
`POST /articles`. Reports requests served, errors, p50/p99 latency per endpoint and the server's
RSS at start and end; then checks that every article added under load can be fetched and found.

    python -m benchmarks.load_test --seconds 60
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import psutil

from tests.support.driver import WORDS
from tests.support.processes import REPO_ROOT, free_port

TOKEN = "load-test-token"
QUESTIONS = [
    "Who met the Pakistani defence minister?",
    "Where did the Chief of the General Staff travel?",
    "What was discussed about military cooperation?",
    "Which ministry reported the visit?",
    "What happened in November 2023?",
    "Azernews report on defence",
    "news from 2021",
    "parliament house visit",
]


@dataclass(slots=True)
class Tally:
    """Per-thread results, merged at the end (no locks on the hot path)."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    added: list[tuple[str, str]] = field(default_factory=list)  # (id, a word only that article has)


def _client_loop(url: str, n: int, deadline: float, write_share: float, tally: Tally) -> None:
    rng = random.Random(n)
    with httpx.Client(base_url=url, timeout=60) as http:
        count = 0
        while time.monotonic() < deadline:
            count += 1
            roll = rng.random()
            question = rng.choice(QUESTIONS)
            if rng.random() < 0.3:  # some questions the query cache has never seen
                question += " " + " ".join(rng.sample(WORDS, 3))
            if roll < write_share:
                article_id, tag = f"load-{n}-{count}", f"loadtag{n}x{count}"
                title = f"{tag} {' '.join(rng.sample(WORDS, 4))}"
                text = ". ".join(" ".join(rng.sample(WORDS, 10)).capitalize() for _ in range(6)) + "."
                record = {"id": article_id, "title": title, "text": f"{tag}: {text}", "date": "2024-01-15"}
                name, send = (
                    "POST /articles",
                    lambda r=record: http.post(
                        "/articles",
                        json={"articles": [r]},
                        headers={"Authorization": f"Bearer {TOKEN}"},
                    ),
                )
            elif roll < (1 + write_share) / 2:
                name, send = "GET /search", lambda q=question: http.get("/search", params={"q": q, "k": 5})
            else:
                name, send = "POST /ask", lambda q=question: http.post("/ask", json={"question": q, "k": 5})
            start = time.perf_counter()
            try:
                response = send()
            except httpx.HTTPError as exc:
                tally.errors.append(f"{name}: {type(exc).__name__}: {exc}")
                continue
            tally.latencies[name].append(time.perf_counter() - start)
            tally.statuses[f"{name} {response.status_code}"] += 1
            if response.status_code != 200:
                tally.errors.append(f"{name}: {response.status_code} {response.text[:200]}")
            elif name == "POST /articles":
                tally.added.append((record["id"], record["title"].split()[0]))


def _wait_healthy(url: str, server: subprocess.Popen[bytes], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=5).json().get("index"):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server at {url} not healthy after {timeout:g}s")


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ms = np.array(values) * 1000
    return {"n": len(values), "p50_ms": round(float(np.percentile(ms, 50)), 1)} | {
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
        "max_ms": round(float(ms.max()), 1),
    }


def _verify(url: str, added: list[tuple[str, str]]) -> list[str]:
    """Every article added under load can be fetched and is among the top 5 hits for its own tag.

    The tag, not the title, is the query: the synthetic articles share one small vocabulary, so a
    title alone does not single out its article. Not "first": the tag is BM25's top hit, but rank
    fusion ties it with the dense list's top hit for a made-up word (a ranking matter, not a lost write).
    """
    problems = []
    with httpx.Client(base_url=url, timeout=60) as http:
        for article_id, tag in added:
            if http.get(f"/articles/{article_id}").status_code != 200:
                problems.append(f"{article_id}: GET /articles/{{id}} did not find it")
            hits = http.get("/search", params={"q": tag, "k": 5}).json()["hits"]
            if article_id not in [h["article_id"] for h in hits]:
                problems.append(f"{article_id}: /search for {tag!r} did not find it")
        if (checked := http.get("/stats").json())["articles"] < len(added):
            problems.append(f"/stats counts {checked['articles']} articles, fewer than were added")
    return problems


def run(seconds: float, threads: int, write_share: float, workdir: Path) -> dict[str, object]:
    """Index the seeds, serve them, load the server; returns the figures."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("QA_")}
    env |= {"QA_INDEX_DIR": str(workdir / "index"), "QA_API_TOKEN": TOKEN}
    subprocess.run(
        [sys.executable, "-m", "qa.cli", "index", str(REPO_ROOT / "seeds")],
        env=env,
        cwd=REPO_ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    log = (workdir / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server)
        httpx.post(f"{url}/ask", json={"question": QUESTIONS[0]}, timeout=60)  # warm up
        process = psutil.Process(server.pid)
        rss_start = _rss(process)
        tallies = [Tally() for _ in range(threads)]
        deadline = time.monotonic() + seconds
        workers = [
            threading.Thread(target=_client_loop, args=(url, n, deadline, write_share, tallies[n]))
            for n in range(threads)
        ]
        started = time.monotonic()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.monotonic() - started
        rss_end = _rss(process)
        added = [a for t in tallies for a in t.added]
        problems = _verify(url, added)
        rss_after_verify = _rss(process)
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    latencies: dict[str, list[float]] = defaultdict(list)
    for t in tallies:
        for name, values in t.latencies.items():
            latencies[name] += values
    everything = [v for values in latencies.values() for v in values]
    errors = [e for t in tallies for e in t.errors]
    return {
        "seconds": round(elapsed, 1),
        "threads": threads,
        "requests": len(everything),
        "requests_per_second": round(len(everything) / elapsed, 1),
        "errors": len(errors),
        "error_samples": errors[:5],
        "statuses": dict(sum((t.statuses for t in tallies), Counter())),
        "latency": {"all": _percentiles(everything)}
        | {k: _percentiles(v) for k, v in sorted(latencies.items())},
        "rss_mb": {
            "start": round(rss_start / 2**20, 1),
            "end": round(rss_end / 2**20, 1),
            "growth": round((rss_end - rss_start) / 2**20, 1),
            "after_verify": round(rss_after_verify / 2**20, 1),
        },
        "articles_added": len(added),
        "added_verified": len(added) - len({p.split(":")[0] for p in problems}),
        "verify_problems": problems[:10],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--write-share", type=float, default=0.02, help="share of requests that add an article"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="qa-load-"))
    try:
        figures = run(args.seconds, args.threads, args.write_share, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if not figures["errors"] and not figures["verify_problems"] else 1


def _rss(process: psutil.Process) -> int:
    """Resident bytes of `qa serve` and its worker processes (it forks one per worker)."""
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])


if __name__ == "__main__":
    sys.exit(main())
