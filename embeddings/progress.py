"""Indexing progress: a tqdm bar on a terminal, periodic log lines elsewhere, or nothing."""

from __future__ import annotations

import logging
import sys
from typing import Literal

from tqdm import tqdm

__all__ = ["LOG_INTERVAL", "ProgressMode", "progress_bar"]

ProgressMode = Literal["off", "bar", "log"]

LOG_INTERVAL = 10.0  # seconds between two log lines
logger = logging.getLogger(__name__)

# `unit` starts with a space (" articles"), so that the rate reads "3.10 articles/s".
_BAR = (
    "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}{unit}"
    " [{elapsed}<{remaining}, {rate_noinv_fmt}{postfix}]"
)
_BAR_NO_TOTAL = "{desc}: {n_fmt}{unit} [{elapsed}, {rate_noinv_fmt}{postfix}]"
_LINE = "{desc}: {n_fmt}/{total_fmt}{unit} ({percentage:.0f}%), {rate_noinv_fmt}, ETA {remaining}{postfix}"
_LINE_NO_TOTAL = "{desc}: {n_fmt}{unit}, {rate_noinv_fmt}, {elapsed} elapsed{postfix}"


class _LogStream:
    """A file for tqdm that turns each refresh into one INFO line of `logger`."""

    def write(self, text: str) -> None:
        line = text.strip("\r\n ")
        if line:
            logger.info(line)

    def flush(self) -> None:
        pass


class _LogBar(tqdm):
    """A bar for `_LogStream` whose last line is not repeated at close when it was just logged."""

    def close(self) -> None:
        if self.last_print_n == self.n:
            self.leave = False  # tqdm then writes an empty line, which `_LogStream` drops
        super().close()


def progress_bar(
    mode: ProgressMode,
    total: int | None,
    *,
    desc: str = "indexing",
    unit: str = "articles",
    interval: float = LOG_INTERVAL,
) -> tqdm:
    """A progress bar over `total` items (None: unknown), with rate and, given a total, an ETA.

    "bar": drawn on stderr and left there at the end. "log": a line such as `indexing: 120/2450
    articles (5%), 3.1 articles/s, ETA 12:31, passages=1530` logged every `interval` seconds and at
    the end (for logs and pipes, where a redrawn bar is one endless line). "off": nothing.
    """
    if mode == "off":
        return tqdm(total=total, disable=True)
    if mode == "bar":
        return tqdm(
            total=total,
            desc=desc,
            unit=f" {unit}",
            file=sys.stderr,
            bar_format=_BAR if total else _BAR_NO_TOTAL,
            dynamic_ncols=True,
            mininterval=0.5,
        )
    return _LogBar(
        total=total,
        desc=desc,
        unit=f" {unit}",
        file=_LogStream(),
        bar_format=_LINE if total else _LINE_NO_TOTAL,
        mininterval=interval,
        maxinterval=interval,
        miniters=1,
        ascii=True,
    )
