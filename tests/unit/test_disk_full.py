"""A write that fills the disk (a small tmpfs) fails with one line, exit 1, 507; the live version stays."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from embeddings.articles import Article
from embeddings.errors import IndexWriteError
from qa import cli
from qa.api import create_app
from qa.service import QAService
from qa.settings import Settings
from tests.support.articles import make_articles
from tests.support.damage import live_version
from tests.support.fakes import FakeEncoder
from tests.support.services import build_service

DISK = 3 << 20  # bytes of the tmpfs
NEW = [
    Article(f"new-{n}", f"New article {n}", f"Fresh words number {n} about zeppelins. " * 40)
    for n in range(20)
]


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of `DISK` bytes (skipped where this machine or user cannot mount one)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        # Lazily: the service under test may still hold its files open (SQLite, a mapped FAISS index).
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave: int) -> None:
    """Fill the disk so that about `leave` bytes stay free."""
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with open(disk / "filler", "wb") as f:
        f.write(b"\0" * max(0, free - leave))


def _state(root: Path) -> tuple[str, list[str]]:
    leftovers = [p.name for p in root.iterdir() if p.name.startswith("tmp-") or p.name == "CURRENT.tmp"]
    return live_version(root).name, leftovers


outcomes: list[bool] = []


@pytest.mark.parametrize("leave", [0, 8 << 10, 64 << 10, 160 << 10, 320 << 10, 640 << 10, 2 << 20])
def test_a_write_on_a_full_disk_fails_cleanly_at_any_point(disk: Path, leave: int) -> None:
    """With more or less room left the write dies at a different step (the copy, SQLite, FAISS,
    the lexical files, the manifest, the swap) or succeeds; either way one version is live,
    intact, and nothing of the write is left behind."""
    qa = build_service(disk / "index", FakeEncoder())
    qa.add(make_articles())
    before, _ = _state(disk / "index")
    _fill(disk, leave)

    try:
        qa.add(NEW)
        failed = False
    except IndexWriteError as exc:
        failed = True
        assert ("No space left on device" in str(exc) or "disk is full" in str(exc)) and "\n" not in str(exc)

    live, leftovers = _state(disk / "index")
    assert leftovers == []
    assert (live == before) == failed
    outcomes.append(failed)
    assert qa.backend.verify() == []
    assert qa.stats()["articles"] == (8 if failed else 28)


def test_the_free_space_tried_covers_failures_and_success() -> None:
    """Runs after the cases above: some died on the full disk, the roomiest one wrote."""
    if outcomes:
        assert any(outcomes) and not outcomes[-1]


@pytest.fixture
def full(disk: Path) -> QAService:
    qa = build_service(disk / "index", FakeEncoder())
    qa.add(make_articles())
    _fill(disk, 0)
    return qa


def test_qa_index_on_a_full_disk_prints_one_line_and_exits_1(
    full: QAService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = tmp_path / "new.jsonl"
    batch.write_text("".join(json.dumps(a.to_record()) + "\n" for a in NEW))
    monkeypatch.setattr(cli, "_service", lambda settings, progress=False: full)
    out, err = io.StringIO(), io.StringIO()

    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["index", str(batch), "--index-dir", str(full.backend.root)])

    assert code == 1
    assert err.getvalue().count("\n") == 1 and "No space left on device" in err.getvalue()
    assert "Traceback" not in err.getvalue() and out.getvalue() == ""
    assert full.backend.verify() == [] and full.stats()["articles"] == 8


def test_post_articles_on_a_full_disk_is_507(full: QAService) -> None:
    settings = Settings(index_dir=full.backend.root, reload_interval=0)
    with TestClient(create_app(settings, lambda: full), base_url="http://localhost") as client:
        response = client.post("/articles", json={"articles": [a.to_record() for a in NEW]})

        assert response.status_code == 507
        assert "No space left on device" in response.json()["detail"]
        assert str(full.backend.root) not in response.text
        assert client.get("/stats").json()["articles"] == 8
