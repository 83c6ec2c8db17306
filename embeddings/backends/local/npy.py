"""`.npy` files opened one at a time in a process.

numpy parses each file's header with `ast.literal_eval`. In CPython 3.11 (3.11.7 here) the AST
builder keeps its recursion count in interpreter-wide state, and a garbage collection inside it
can hand the GIL to another thread building an AST too: one of them then fails with a spurious
`SystemError: AST constructor recursion depth mismatch` (python/cpython#106905, fixed upstream by
python/cpython#113035). A server opens index versions in several threads (requests, a writer), so
every `.npy` this package opens, its own and those `bm25s` opens, goes through `HEADER_LOCK`.
Opening is rare and headers are small; reading mapped arrays afterwards needs no lock.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Literal

import numpy as np

HEADER_LOCK = threading.Lock()


def load(path: Path, mmap_mode: Literal["r"] | None = None) -> np.ndarray:
    """`np.load` of one `.npy` file, under `HEADER_LOCK`."""
    with HEADER_LOCK:
        return np.load(path, mmap_mode=mmap_mode)
