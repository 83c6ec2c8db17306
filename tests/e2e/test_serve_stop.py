"""`qa serve` with two workers stops cleanly: nothing in its log but uvicorn's lines, no orphaned worker."""

from __future__ import annotations

from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.seed_server import seed_server

pytestmark = pytest.mark.model


def test_a_server_stopped_after_answering_logs_no_warning(tmp_path: Path) -> None:
    with seed_server(tmp_path, workers=2, articles=()) as base, httpx.Client(timeout=30) as client:
        for _ in range(4):  # over fresh connections, so both workers are likely to answer one
            asked = httpx.post(f"{base}/ask", json={"question": "Who won the election?"}, timeout=30)
            assert asked.status_code == 200
        assert client.get(f"{base}/health").status_code == 200

    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "Stopping parent process" in log  # stopped by the signal, not killed
    assert "Traceback" not in log
    assert "leaked semaphore" not in log


def test_the_workers_stop_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    with seed_server(tmp_path, workers=2, articles=()) as base:
        port = base.rsplit(":", 1)[1]
        supervisor = next(p for p in psutil.process_iter(["cmdline"]) if port in (p.info["cmdline"] or []))
        workers = supervisor.children()
        assert len(workers) >= 2  # the two workers (and the resource tracker)
        supervisor.kill()  # SIGKILL: it cannot stop its workers itself
        _, alive = psutil.wait_procs(workers, timeout=30)

    assert not alive, f"orphaned workers still running: {[p.pid for p in alive]}"
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base}/health", timeout=5)  # nothing answers on the port any more
