"""A real `qa serve` (the real model, two workers) over the seeds plus a few articles made for the page.

The extra articles give the page what the seeds lack: urls, two syndicated copies ("also published
by"), dates in the archive's last week, and an article whose title, text, source and url try to
inject HTML and script.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.processes import REPO_ROOT, clean_environment, free_port, qa_command

SEEDS = REPO_ROOT / "seeds"
PIPELINE = (
    "The Caspian pipeline consortium said crude oil exports through the western pipeline rose by a"
    " fifth in March, after repairs at the Novorossiysk terminal were finished ahead of schedule."
)
# Each piece of text tries to run script if it were ever put into the page as HTML.
INJECTED_TITLE = "<img src=x onerror=\"document.title='injected'\">Baku ferry <b>timetable</b> changes"
INJECTED_SOURCE = "<i>Sea</i> Wire"
INJECTED_URL = "javascript:document.title='injected'"
EXTRA_ARTICLES = [
    {
        "id": "caspian-oil-trend",
        "title": "Caspian pipeline oil exports rise",
        "text": PIPELINE,
        "date": "2024-03-20",
        "source": "Trend",
        "url": "https://example.org/trend/caspian-oil",
    },
    {
        "id": "caspian-oil-report",
        "title": "Caspian pipeline oil exports rise",
        "text": PIPELINE,
        "date": "2024-03-21",
        "source": "Report.az",
        "url": "https://example.org/report/caspian-oil",
    },
    {
        "id": "ferry-timetable",
        "title": INJECTED_TITLE,
        # An emoji before the answer: highlight spans count code points, JavaScript counts UTF-16 units.
        "text": "🚢⛴ Ferry news from the port. The Baku ferry timetable changes on April 1, adding two"
        " <script>document.title='injected'</script> crossings to Turkmenbashi every day.",
        "date": "2024-03-18",
        "source": INJECTED_SOURCE,
        "url": INJECTED_URL,
    },
]
STARTUP_TIMEOUT = 120.0


def _environment() -> dict[str, str]:
    env = clean_environment(PYTHONUNBUFFERED="1")
    return {k: v for k, v in env.items() if not k.upper().startswith("PROMETHEUS_")}


def build_index(workdir: Path, articles: Sequence[dict[str, str]] = EXTRA_ARTICLES) -> Path:
    """The seeds and `articles` (none: the seeds alone, as `make run` serves) indexed by `qa index`
    (the real model) under `workdir`."""
    inputs = [str(SEEDS)]
    if articles:
        extra = workdir / "extra.jsonl"
        extra.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
        inputs.append(str(extra))
    index_dir = workdir / "index"
    built = subprocess.run(
        [*qa_command(), "index", *inputs, "--index-dir", str(index_dir), "--json"],
        env=_environment(),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if built.returncode != 0:
        raise RuntimeError(f"qa index failed:\n{built.stderr}")
    return index_dir


@contextmanager
def seed_server(
    workdir: Path, *, workers: int = 2, articles: Sequence[dict[str, str]] = EXTRA_ARTICLES
) -> Iterator[str]:
    """`qa serve` over `build_index(workdir, articles)`; yields its base url once every worker started."""
    index_dir = build_index(workdir, articles)
    port = free_port()
    log = workdir / "serve.log"
    with log.open("wb") as out:
        serve = ["serve", "--index-dir", str(index_dir), "--port", str(port), "--workers", str(workers)]
        process = subprocess.Popen(
            [*qa_command(), *serve],
            env=_environment(),
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_started(base, process, log, workers)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_started(base: str, process: subprocess.Popen[bytes], log: Path, workers: int) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"qa serve exited with {process.returncode}:\n{log.read_text(errors='replace')}"
            )
        started = log.read_text(errors="replace").count("Application startup complete")
        try:
            if started >= workers and httpx.get(f"{base}/health", timeout=2).json().get("index") is True:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"qa serve not ready after {STARTUP_TIMEOUT:g} s:\n{log.read_text(errors='replace')}")
