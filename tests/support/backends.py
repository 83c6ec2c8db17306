"""Backends the contract suite runs against, by name: each entry makes an empty backend in a folder.

`milvus-server` runs against the Milvus server or cluster that `QA_MILVUS_URI` names when the tests
start (a http(s) URL; `QA_MILVUS_TOKEN` if it needs one), in collections named after the test's
folder and dropped afterwards; without such a URL its tests are skipped.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from embeddings.backends import Backend
from embeddings.backends.local import LocalBackend
from embeddings.backends.milvus import is_server

# Read once, when the tests start: the suite's fixtures clear QA_* variables for each test.
SERVER_URI = os.environ.get("QA_MILVUS_URI", "")
SERVER_TOKEN = os.environ.get("QA_MILVUS_TOKEN")


def local_at(root: Path) -> Backend:
    return LocalBackend(root)


def milvus_at(root: Path) -> Backend:
    """A Milvus Lite index in `root` (the engine runs in this process)."""
    from embeddings.backends.milvus.backend import MilvusBackend

    return MilvusBackend(root / "milvus.db", collection="test")


def milvus_server_at(root: Path) -> Backend:
    """An index on the Milvus server of `QA_MILVUS_URI`, in collections of its own (dropped at `close`)."""
    if not is_server(SERVER_URI):
        pytest.skip("needs a Milvus server: set QA_MILVUS_URI to its http(s) URL")
    from embeddings.backends.milvus.backend import MilvusBackend

    class DroppedAtClose(MilvusBackend):
        def close(self) -> None:
            for name in (*self.names.data, self.names.log):
                if self.client.has_collection(name):
                    self.client.drop_collection(name)
            super().close()

    name = "qa_test_" + hashlib.sha1(str(root).encode()).hexdigest()[:12]
    return DroppedAtClose(
        SERVER_URI, token=SERVER_TOKEN, collection=name, lock_path=root.parent / "writer.lock"
    )


# name -> a backend whose files live in the given index directory
BACKENDS_AT: dict[str, Callable[[Path], Backend]] = {"local": local_at, "milvus": milvus_at}

# name -> factory of an empty backend whose files (if any) live under the given folder
BACKEND_FACTORIES: dict[str, Callable[[Path], Backend]] = {
    name: (lambda folder, at=at: at(folder / "index"))
    for name, at in {**BACKENDS_AT, "milvus-server": milvus_server_at}.items()
}
# Backends whose tests need a server (marked `milvus_server`, skipped without one).
NEEDS_SERVER = frozenset({"milvus-server"})
