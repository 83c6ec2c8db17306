"""A version that fails to open: damage when a file says so, a passing failure when every file is intact;
and what keeps concurrent opens from failing."""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from embeddings.articles import Article
from embeddings.backends.local import integrity, npy, reader
from embeddings.backends.local.lexical import LexicalIndex
from embeddings.errors import IndexCorruptError, IndexUnavailableError
from qa.service import QAService
from tests.support.damage import flip_head, live_version, make_legacy
from tests.support.services import ClientFactory

EXTRA = Article("zeppelin", "Zeppelin lands", "A zeppelin airship made a landing in Ganja.", None, "Air")


class FailingLoads:
    """Lexical loads that fail as on a machine out of memory while `left` is above zero."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, left: int) -> None:
        self.left, self.calls = left, 0
        self._original: Callable[[Path], LexicalIndex] = LexicalIndex.load
        monkeypatch.setattr(reader.LexicalIndex, "load", staticmethod(self.load))

    def load(self, directory: Path) -> LexicalIndex:
        self.calls += 1
        if self.left > 0:
            self.left -= 1
            raise OSError(errno.ENOMEM, "Cannot allocate memory")
        return self._original(directory)


def test_an_intact_version_that_fails_to_open_is_unavailable_logged_and_not_refused_for_good(
    service: QAService, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    name = live_version(service.backend.root).name
    loads = FailingLoads(monkeypatch, left=1)

    unavailable = rf"{name} could not be opened \(OSError\).*intact"
    with (
        caplog.at_level(logging.WARNING, logger=reader.__name__),
        pytest.raises(IndexUnavailableError, match=unavailable),
    ):
        service.ask("metro")

    (record,) = caplog.records
    assert name in record.getMessage() and "OSError: [Errno 12] Cannot allocate memory" in record.getMessage()
    assert service.ask("metro").hits  # the same version, opened on the next call
    assert loads.calls == 2
    assert service.verify() == []


def test_a_version_that_fails_to_open_with_a_damaged_file_names_the_file(
    service: QAService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(integrity, "SMALL_FILE", 0)  # as for big files: only their sizes are checked at open
    version = live_version(service.backend.root)
    flip_head(version / "lexical" / "ids.npy")  # numpy cannot parse its header any more

    with pytest.raises(IndexCorruptError) as caught:
        service.ask("metro")

    assert caught.value.problems == (f"{version.name}/lexical/ids.npy: {integrity.CHANGED}",)
    with pytest.raises(IndexCorruptError):  # refused from then on
        service.ask("metro")


def test_a_version_without_checksums_that_fails_to_open_is_damaged(
    service: QAService, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = live_version(service.backend.root)
    make_legacy(version)
    FailingLoads(monkeypatch, left=1)

    with pytest.raises(IndexCorruptError) as caught:
        service.ask("metro")

    assert caught.value.problems == (f"{version.name}: unreadable (OSError)",)  # nothing can tell otherwise


def test_the_api_answers_503_while_unavailable_and_health_says_so_then_recovers(
    make_client: ClientFactory, service: QAService, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads = FailingLoads(monkeypatch, left=1_000)
    client = make_client()  # starts while every open fails

    answer = client.post("/ask", json={"question": "metro"})
    health = client.get("/health")

    assert answer.status_code == 503
    assert answer.json()["detail"] == "the index cannot be read right now; try again later"
    assert health.status_code == 503
    assert health.json()["status"] == "unavailable"
    assert str(service.backend.root) not in answer.text + health.text
    loads.left = 0  # the failure passes
    assert client.get("/health").json()["status"] == "ok"
    assert client.post("/ask", json={"question": "metro"}).status_code == 200


def test_every_npy_file_is_opened_under_the_header_lock(
    service: QAService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Concurrent `.npy` header parses can fail on CPython 3.11 (see `embeddings.backends.local.npy`)."""
    held: list[bool] = []
    original = np.load

    def load(*args: Any, **kwargs: Any) -> Any:
        held.append(npy.HEADER_LOCK.locked())
        return original(*args, **kwargs)

    monkeypatch.setattr(np, "load", load)
    service.ask("metro")  # opens the version and reads its column files and stored tokens
    opened = len(held)
    service.add([EXTRA])  # a writer opens the live version and brings its column files up to date
    service.related(EXTRA.id, 3)  # and the new version is opened for reading

    assert opened >= 6 and len(held) > opened + 6 and all(held), held
