"""Tests for indexing progress: articles counted up front, the writer advancing a bar as it embeds."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

import pytest

from embeddings import writer
from embeddings.articles import Article
from embeddings.backends.local import LocalBackend
from embeddings.chunking import ChunkingConfig
from embeddings.progress import progress_bar
from embeddings.readers import count_articles
from embeddings.writer import Indexer
from tests.support.fakes import FakeEncoder


class RecordingBar:
    """Stands in for the tqdm bar: records each advance and the postfix shown with it."""

    def __init__(self, total: int | None) -> None:
        self.total, self.n = total, 0
        self.steps: list[int] = []
        self.postfix = ""

    def update(self, n: int) -> None:
        self.n += n
        self.steps.append(n)

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text

    def close(self) -> None:
        pass


def article(n: int, sentences: int) -> Article:
    text = " ".join(f"Sentence {s} of story {n} tells of rain number {s}." for s in range(sentences))
    return Article(f"a{n}", f"Story {n}", text, dt.date(2024, 1, 1 + n), "Wire")


@pytest.fixture
def bars(monkeypatch: pytest.MonkeyPatch) -> list[RecordingBar]:
    made: list[RecordingBar] = []

    def make(mode: str, total: int | None, **_: Any) -> RecordingBar:
        made.append(RecordingBar(total))
        return made[-1]

    monkeypatch.setattr(writer, "progress_bar", make)
    monkeypatch.setattr(writer, "EMBED_SLICE", 4)
    return made


def test_the_bar_advances_as_each_articles_passages_are_embedded(
    tmp_path: Path, bars: list[RecordingBar]
) -> None:
    indexer = Indexer(LocalBackend(tmp_path / "index"), FakeEncoder(), ChunkingConfig(size=12, overlap=0))
    articles = [article(n, 3) for n in range(3)]

    report = indexer.upsert(articles, total=3)

    bar = bars[0]
    assert report.passages_embedded > 4  # several slices of 4 passages
    assert bar.total == bar.n == 3
    assert sum(1 for step in bar.steps if step) >= 2  # not all at once at the end of the batch
    assert bar.postfix == f"{report.passages_embedded} passages embedded"


def test_unchanged_and_repeated_articles_count_as_done_at_once(
    tmp_path: Path, bars: list[RecordingBar]
) -> None:
    indexer = Indexer(LocalBackend(tmp_path / "index"), FakeEncoder(), ChunkingConfig(size=12, overlap=0))
    indexer.upsert([article(0, 2), article(1, 2)])

    indexer.upsert([article(0, 2), article(1, 2), article(1, 2), article(2, 2)], total=4)

    bar = bars[1]
    assert bar.steps[0] == 3  # two unchanged articles and one repeated id, before any embedding
    assert bar.n == bar.total == 4


def test_log_mode_logs_the_count_rate_and_eta(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="embeddings.progress")

    bar = progress_bar("log", 4, interval=0.0)
    bar.update(2)
    bar.set_postfix_str("9 passages embedded", refresh=False)
    bar.update(2)
    bar.close()

    lines = [r.getMessage() for r in caplog.records]
    assert lines[-1].startswith("indexing: 4/4 articles (100%), ")
    assert "articles/s, ETA 00:00, 9 passages embedded" in lines[-1]
    assert len(lines) == len(set(lines))  # the last line is not repeated at close


def test_off_mode_shows_nothing(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    bar = progress_bar("off", 2)
    bar.update(2)
    bar.close()
    assert capsys.readouterr().err == "" and not caplog.records


def test_count_articles_counts_records_cheaply(tmp_path: Path) -> None:
    (tmp_path / "feed.jsonl").write_text('{"text": "a"}\n\n{"text": "b"}\nnot json\n')
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "one.txt").write_text("x")
    (tmp_path / "dir" / "two.txt").write_text("y")
    (tmp_path / "dir" / "notes.md").write_text("z")

    assert count_articles([tmp_path / "feed.jsonl", tmp_path / "dir", tmp_path / "missing.jsonl"]) == 5


def test_count_articles_is_unknown_for_json_documents_and_pipes(tmp_path: Path) -> None:
    (tmp_path / "doc.json").write_text('[{"text": "a"}]')
    os.mkfifo(tmp_path / "pipe")

    assert count_articles([tmp_path / "doc.json"]) is None
    assert count_articles([tmp_path / "pipe"]) is None
