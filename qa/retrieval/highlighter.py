"""The learned highlighter: a linear model over sentence features, stored as JSON (never pickle)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from qa.retrieval.learned import LinearRanker, read_linear
from qa.retrieval.sentence_features import FEATURES

__all__ = ["SHIPPED", "load_highlighter", "read_highlighter"]

SHIPPED = Path(__file__).with_name("highlighter.json")


def read_highlighter(path: Path) -> LinearRanker:
    """A highlighter from its JSON file; its features must be this release's sentence `FEATURES`.

    Raises:
        RankerError: unreadable file, or features that differ from `FEATURES`.
    """
    return read_linear(path, FEATURES, what="highlighter", refit="qa train-highlighter")


@lru_cache(maxsize=8)
def load_highlighter(path: Path | None = None) -> LinearRanker:
    """The highlighter at `path`, or the one shipped with the package; read once per path."""
    return read_highlighter(path or SHIPPED)
