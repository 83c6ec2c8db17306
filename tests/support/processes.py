"""Driver subprocesses for the slow tests and benchmarks: a free port, a driver process, a health wait."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import psutil

REPO_ROOT = Path(__file__).resolve().parents[2]


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without its `QA_*` settings (a child reads only its own), plus `extra`."""
    return {k: v for k, v in os.environ.items() if not k.upper().startswith("QA_")} | extra


def qa_command() -> list[str]:
    """The installed `qa` console script beside this interpreter, else the module."""
    script = Path(sys.executable).with_name("qa")
    return [str(script)] if script.exists() else [sys.executable, "-m", "qa.cli"]


def _clean_env() -> dict[str, str]:
    # PYTHONFAULTHANDLER: a crash prints every thread's stack into the process's log
    return clean_environment(PYTHONUNBUFFERED="1", PYTHONFAULTHANDLER="1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DriverProcess:
    """A driver subprocess whose `encoded N` lines are time-stamped as they arrive."""

    def __init__(self, args: Sequence[str], log: Path) -> None:
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.driver", *args],
            cwd=REPO_ROOT,
            env=_clean_env(),
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        self.markers: list[float] = []
        self.marker_seen = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(b"encoded"):
                with self.marker_seen:
                    self.markers.append(time.monotonic())
                    self.marker_seen.notify_all()
        with self.marker_seen:
            self.marker_seen.notify_all()

    def wait_markers(self, count: int, timeout: float) -> bool:
        with self.marker_seen:
            return self.marker_seen.wait_for(
                lambda: len(self.markers) >= count or self.proc.poll() is not None, timeout
            )

    def kill(self) -> bool:
        """SIGKILL the writer; False when it had already exited."""
        if self.proc.poll() is not None:
            return False
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        return True

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()


def wait_healthy(url: str, writer: DriverProcess, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if writer.proc.poll() is not None:
            raise RuntimeError(f"server exited with {writer.proc.returncode}; see {writer.log.name}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server at {url} not healthy after {timeout:g}s")


def client_per_worker(url: str, pid: int, clients: list[httpx.Client]) -> tuple[httpx.Client, httpx.Client]:
    """Two keep-alive connections accepted by different workers (told apart by who holds the socket)."""
    workers = psutil.Process(pid).children(recursive=True)
    by_worker: dict[int, httpx.Client] = {}
    for _ in range(60):
        client = httpx.Client(base_url=url, timeout=60)
        clients.append(client)
        response = client.get("/health")
        port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
        for worker in workers:
            if any(c.raddr and c.raddr.port == port for c in worker.net_connections(kind="tcp")):
                by_worker.setdefault(worker.pid, client)
        if len(by_worker) == 2:
            first, second = by_worker.values()
            return first, second
    raise AssertionError(f"60 connections all went to workers {list(by_worker)}")
