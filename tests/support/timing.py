"""How a function's time grows with its input: a ratio within one run, never a wall-clock bound."""

from __future__ import annotations

import time
from collections.abc import Callable


def growth(work: Callable[[int], object], size: int, *, factor: int = 8, repeats: int = 3) -> float:
    """How many times longer `work(size * factor)` takes than `work(size)` (the best of `repeats`
    runs each): about `factor` for linear work, `factor ** 2` for quadratic."""

    def best(n: int) -> float:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            work(n)
            times.append(time.perf_counter() - started)
        return min(times)

    return best(size * factor) / best(size)
