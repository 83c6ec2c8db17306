"""What the `qa` command prints besides its results: log levels set once, library noise kept off."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from tqdm import tqdm

from embeddings.progress import ProgressMode

OWN = ("qa", "embeddings")  # loggers of this project; everything else is a library's
# Libraries that log the tracebacks of the errors they raise, which this project reports in one
# line of its own: shown from -v on.
LOUD = ("pymilvus", "milvus_lite")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Levels(logging.Filter):
    """Lets a record through at `own` level and above for this project's loggers, at `others`
    and above for the rest (some libraries set their own loggers to DEBUG, e.g. bm25s)."""

    def __init__(self, own: int, others: int, loud: int | None = None) -> None:
        super().__init__()
        self.own, self.others = own, others
        self.loud = others if loud is None else loud

    def filter(self, record: logging.LogRecord) -> bool:
        top = record.name.split(".", 1)[0]
        least = self.own if top in OWN else self.loud if top in LOUD else self.others
        return record.levelno >= least


def levels(verbosity: int) -> tuple[int, int]:
    """(this project's, libraries') lowest level shown: 0 → INFO / ERROR, 1 (-v) → DEBUG / WARNING,
    2 (-vv) → DEBUG / DEBUG."""
    if verbosity <= 0:
        return logging.INFO, logging.ERROR
    return logging.DEBUG, logging.WARNING if verbosity == 1 else logging.DEBUG


@contextmanager
def console(verbosity: int = 0) -> Iterator[None]:
    """Configure logging for one run of the command, and restore what was there afterwards.

    One handler on the root logger writes to stderr with the levels of `levels(verbosity)`.
    tqdm's bars share a thread lock rather than a multiprocessing one (a process-wide semaphore
    that the resource tracker reports as leaked when a worker process ends abruptly), and
    Hugging Face libraries draw no progress bars of their own (the one-time model export's
    "Loading weights") unless -vv.
    """
    own, others = levels(verbosity)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT, "%H:%M:%S"))
    handler.addFilter(_Levels(own, others, logging.CRITICAL if verbosity <= 0 else None))
    root = logging.getLogger()
    saved_level = root.level
    root.addHandler(handler)
    root.setLevel(min(own, others))
    tqdm.set_lock(threading.RLock())
    saved_env = os.environ.get("HF_HUB_DISABLE_PROGRESS_BARS")
    if verbosity < 2:
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)
        if saved_env is None:
            os.environ.pop("HF_HUB_DISABLE_PROGRESS_BARS", None)
        else:
            os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = saved_env


def progress_mode() -> ProgressMode:
    """A bar on a terminal; log lines when stderr goes to a file or a pipe."""
    return "bar" if sys.stderr.isatty() else "log"


# Control characters other than the line breaks and tabs of our own output, written as \u escapes:
# an article's title or source holding ESC sequences would otherwise set the terminal's title,
# clear the screen or hide text. Inside JSON an escape is the same string (json.dumps writes the
# C0 ones so already; DEL and C1 it writes raw).
CONTROLS = {c: f"\\u{c:04x}" for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) not in "\n\t"}


# ... and for a line that must stay one line: a file name may hold a newline or a tab too.
LINE_CONTROLS = CONTROLS | {ord("\n"): "\\u000a", ord("\t"): "\\u0009"}


def escaped(text: str) -> str:
    """`text` with its control characters written out (`CONTROLS`)."""
    return text.translate(CONTROLS)


def escaped_line(text: str) -> str:
    """`text` as one line: every control character written out, newlines and tabs too."""
    return text.translate(LINE_CONTROLS)


class OutputError(Exception):
    """Stdout could not be written (a full disk, a device error): the command's output is lost."""


class EscapingStream:
    """A text stream that writes through `escaped`; otherwise the stream it wraps. A failed write
    or flush raises `OutputError` (a closed pipe stays a `BrokenPipeError`)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        with _output_errors():
            self.stream.write(escaped(text))
        return len(text)

    def flush(self) -> None:
        with _output_errors():
            self.stream.flush()

    def __getattr__(self, name: str) -> object:  # flush, fileno, isatty, encoding, ...
        return getattr(self.stream, name)


@contextmanager
def _output_errors() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write the output: {exc.strerror or exc}") from exc


@contextmanager
def escaping_stdout() -> Iterator[None]:
    """Everything printed to stdout in the block goes through `escaped` (no stdout, as under
    `>&-`: nothing to wrap, and print writes nothing)."""
    saved = sys.stdout
    if saved is None:
        yield
        return
    sys.stdout = EscapingStream(saved)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout = saved
