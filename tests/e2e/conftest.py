"""The e2e fixtures: one `qa serve` over the seeds (real model, two workers) for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.seed_server import seed_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base url of `qa serve` over the seeds and `tests.support.seed_server.EXTRA_ARTICLES`."""
    with seed_server(tmp_path_factory.mktemp("served")) as base:
        yield base
