"""One real uvicorn process over an index of the seed articles, built by the `qa` command."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import clean_environment, free_port, qa_command

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]
QUESTION = "Who did Azerbaijan's defense minister receive on November 1, 2023?"
STARTUP_TIMEOUT = 60.0


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the server has not exited within 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_ready(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"uvicorn exited with {server.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base}/health", timeout=2).json().get("index") is True:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    pytest.fail(f"uvicorn not ready after {STARTUP_TIMEOUT} s:\n{log.read_text(errors='replace')}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    index_dir = tmp_path / "index"
    env = clean_environment()
    built = subprocess.run(
        [*qa_command(), "index", str(REPO / "seeds"), "--index-dir", str(index_dir), "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    assert '"articles": 5' in built.stdout

    port = free_port()
    log = tmp_path / "uvicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "qa.api:app_from_environment",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=clean_environment(QA_INDEX_DIR=str(index_dir)),
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process, log)
        yield base
    finally:
        stop(process)
    # Graceful: the lifespan ran to its end (uvicorn re-raises SIGTERM once it has shut down).
    assert process.returncode in (0, -signal.SIGTERM), log.read_text(errors="replace")
    assert "Application shutdown complete" in log.read_text(errors="replace")


def test_a_real_server_answers_over_http(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as http:
        response = http.post("/ask", json={"question": QUESTION, "k": 3})
        searched = http.get("/search", params={"q": QUESTION, "k": 3})
        bad = http.post("/ask", json={"question": "", "k": 3})
        stats = http.get("/stats")

    assert response.status_code == 200, response.text
    hit = response.json()["hits"][0]
    assert (hit["article_id"], hit["date"], hit["source"]) == (
        "001_367b22a23431d7a2",
        "2023-11-01",
        "News.Az",
    )
    assert "Munir" in hit["text"]
    assert searched.json()["hits"] == response.json()["hits"]
    assert bad.status_code == 422 and bad.json()["detail"]
    assert stats.json()["articles"] == 5


def test_qa_serve_indexes_the_seeds_when_there_is_no_index_and_serves_them(tmp_path: Path) -> None:
    """What `make run` does: `qa serve` on an empty index directory (two workers by default)."""
    port = free_port()
    log = tmp_path / "serve.log"
    env = clean_environment(QA_SEEDS_DIR=str(REPO / "seeds"), QA_WORKERS="2")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*qa_command(), "serve", "--index-dir", str(tmp_path / "index"), "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", process, log)
        answer = httpx.post(f"http://127.0.0.1:{port}/ask", json={"question": QUESTION, "k": 1}, timeout=30)
        assert answer.status_code == 200 and answer.json()["hits"][0]["article_id"] == "001_367b22a23431d7a2"
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while log.read_text(errors="replace").count("Application startup complete") < 2:  # two workers
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        assert "indexing" in log.read_text(errors="replace")
    finally:
        stop(process)
