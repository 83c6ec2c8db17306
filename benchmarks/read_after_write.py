"""Read-after-write across two uvicorn workers: how long an article added on one is missing on the other.

    python -m benchmarks.read_after_write --index /work/cmp/idx-q1 --trials 10 --reload-interval 1 0.25

The index is copied (never written). For each reload interval a server of two workers (the real
model) is started over the copy; each trial polls the other worker for `GET /articles/{id}` every
10 ms from before it POSTs the article through one worker: the delay is from the POST's response
to the first 200 there (0 when the other worker had it first). Prints the delays; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from tests.support.processes import REPO_ROOT, client_per_worker, free_port

TOKEN = "read-after-write"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def trial_delays(index: Path, reload_interval: float, trials: int) -> list[float]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("QA_")}
    env |= {"QA_INDEX_DIR": str(index), "QA_API_TOKEN": TOKEN, "QA_RELOAD_INTERVAL": str(reload_interval)}
    port = free_port()
    log_path = index.parent / f"uvicorn-{reload_interval}.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "--factory", "qa.api:app_from_environment"),
                *("--workers", "2", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
            ],
            env=env,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        clients: list[httpx.Client] = []
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 180
            while True:
                try:
                    if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log_path.read_text()[-2000:])
                time.sleep(0.5)
            time.sleep(5)  # both workers up
            writer, reader = client_per_worker(url, server.pid, clients)
            delays = []
            for n in range(trials):
                article_id = f"raw-{reload_interval}-{n}"
                body = {"articles": [{"id": article_id, "title": "Read after write", "text": f"Probe {n}."}]}
                seen: list[float] = []
                poller = threading.Thread(target=_poll, args=(reader, article_id, seen), daemon=True)
                poller.start()  # the other worker is asked all along, so its reload check is never idle
                time.sleep(0.3 + 0.1 * n)  # the POST lands at a different phase of its reload interval
                writer.post("/articles", json=body, headers=AUTH).raise_for_status()
                written = time.monotonic()
                poller.join(60)
                delays.append(max(0.0, seen[0] - written))
            return delays
        finally:
            for client in clients:
                client.close()
            server.terminate()
            server.wait(30)


def _poll(client: httpx.Client, article_id: str, seen: list[float]) -> None:
    """Ask for the article every 10 ms until it is there; `seen` gets the moment it was."""
    while client.get(f"/articles/{article_id}").status_code != 200:
        time.sleep(0.01)
    seen.append(time.monotonic())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--reload-interval", type=float, nargs="+", default=[1.0, 0.25])
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="qa-raw-"))
    try:
        for interval in args.reload_interval:
            copy = work / f"index-{interval}"
            shutil.copytree(args.index, copy)
            delays = trial_delays(copy, interval, args.trials)
            print(
                json.dumps(
                    {
                        "reload_interval": interval,
                        "trials": len(delays),
                        "median_s": round(statistics.median(delays), 3),
                        "max_s": round(max(delays), 3),
                        "delays_s": [round(d, 3) for d in delays],
                    }
                )
            )
            shutil.rmtree(copy)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
