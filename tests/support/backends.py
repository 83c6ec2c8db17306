"""Backends the contract suite runs against, by name: each entry makes an empty backend in a folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from embeddings.backends import Backend
from embeddings.backends.local import LocalBackend

# name -> factory of an empty backend whose files (if any) live under the given folder
BACKEND_FACTORIES: dict[str, Callable[[Path], Backend]] = {
    "local": lambda folder: LocalBackend(folder / "index"),
}
