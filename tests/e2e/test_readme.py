"""The README's worked example, run as written against `qa serve` over the seeds alone (what
`make run` serves): every curl command answers without an error, the answer shown is the one
given, and the Python example prints the hits it promises."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import REPO_ROOT, clean_environment
from tests.support.seed_server import seed_server

pytestmark = pytest.mark.model

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
README_SERVER = "localhost:8000"
CURL = shutil.which("curl")


def _section(heading: str) -> str:
    start = README.index(f"\n{heading}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def _blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)


def _commands(block: str) -> list[str]:
    """The block's shell commands, continuation lines joined."""
    return [c.strip() for c in block.replace("\\\n", " ").splitlines() if c.strip()]


EXAMPLE = _section("## Worked example")
CURLS = [c for block in _blocks(EXAMPLE, "sh") for c in _commands(block) if c.startswith("curl ")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One worker, so a write is seen by the next command at once, as by a person typing them."""
    workdir = tmp_path_factory.mktemp("readme")
    with seed_server(workdir, workers=1, articles=()) as base:
        yield base, workdir / "index"


def _curl(command: str, base: str) -> str:
    if CURL is None:
        pytest.skip("curl is not installed")
    command = command.replace(README_SERVER, base.removeprefix("http://"))
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"{command}\n{done.stderr}"
    return done.stdout


def test_the_readme_shows_a_few_curl_commands_to_run() -> None:
    assert len(CURLS) >= 9 and all(README_SERVER in c for c in CURLS), CURLS


def test_the_first_answer_is_the_one_the_readme_shows(served: tuple[str, Path]) -> None:
    shown = re.search(r'"article_id": "([^"]+)"', EXAMPLE)
    assert shown is not None

    answer = json.loads(_curl(CURLS[0], served[0]))

    assert answer["hits"][0]["article_id"] == shown.group(1)
    assert answer["hits"][0]["date"] == "2023-11-01" and answer["hits"][0]["source"] == "News.Az"
    assert answer["interpreted"]["since"] == answer["interpreted"]["until"] == "2023-11-01"
    assert len(answer["hits"]) == 2
    shown_inside = re.search(r'"inside": (\d+)', EXAMPLE)
    assert shown_inside is not None and answer["interpreted"]["inside"] == int(shown_inside.group(1))


@pytest.mark.parametrize("command", CURLS[1:], ids=lambda c: c.split("localhost:8000", 1)[-1][:50])
def test_every_other_curl_command_answers_without_an_error(served: tuple[str, Path], command: str) -> None:
    out = _curl(command, served[0])

    if "/metrics" in command:
        assert "qa_http_requests_total" in out
        return
    body: Any = json.loads(out)
    assert not (isinstance(body, dict) and "detail" in body), f"{command}\n{out[:300]}"


def test_the_python_example_prints_the_hits_and_related_articles(served: tuple[str, Path]) -> None:
    (code,) = _blocks(EXAMPLE, "python")
    assert 'Path(".qa-index")' in code
    code = code.replace('Path(".qa-index")', f"Path({str(served[1])!r})")

    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=clean_environment(),
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("2023-11-01 News.Az "), lines
    assert len(lines) == 3 + 3, lines  # three hits, three related articles
