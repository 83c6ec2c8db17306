"""The questions of a `qa ask --batch` file: JSON lines, each `{"question", "id"?, "date"?}`.

A line that holds no usable question is reported (a `Problem`, `FILE:LINE: reason`) and skipped, as `qa index`
does with articles; a file that cannot be read, or that holds no question at all, is an error.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from embeddings.errors import QAError
from embeddings.readers import Problem


class BatchFileError(QAError):
    """A `qa ask --batch` file cannot be read, or holds no question that can be asked."""


@dataclass(frozen=True, slots=True)
class BatchQuestion:
    """One question of a `--batch` file; `id` is the line number when the line gives none."""

    location: str  # FILE:LINE
    id: str
    question: str
    as_of: dt.date | None


def read_batch(
    path: Path, as_of: dt.date | None, as_of_from_date: bool, on_problem: Callable[[Problem], None]
) -> list[BatchQuestion]:
    """The questions of a `--batch` file, one JSON object a line; a line that holds none is passed
    to `on_problem` and skipped. Raises BatchFileError when the file cannot be read or no line can
    be used."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BatchFileError(f"cannot read {path}: {(exc.strerror or str(exc)).lower()}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        reason = f"not valid UTF-8 (byte 0x{data[exc.start]:02x} on line {line})"
        raise BatchFileError(f"cannot read {path}: {reason}") from exc
    questions = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        location = f"{path}:{n}"
        try:
            questions.append(batch_question(line, location, str(n), as_of, as_of_from_date))
        except ValueError as exc:
            on_problem(Problem(location, str(exc)))
    if not questions:
        raise BatchFileError(f"no question in {path} could be asked")
    return questions


def batch_question(
    line: str, location: str, default_id: str, as_of: dt.date | None, as_of_from_date: bool
) -> BatchQuestion:
    """One line of a `--batch` file; raises ValueError saying what is wrong with it."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise ValueError("invalid JSON: nested too deeply") from None
    if not isinstance(item, dict):
        raise ValueError("not a JSON object")
    if "question" not in item:
        raise ValueError('missing "question"')
    question = item["question"]
    if not isinstance(question, str) or not question.strip():
        raise ValueError('"question" must be a non-empty string')
    qid = item.get("id")
    if qid is None:
        qid = default_id
    elif isinstance(qid, bool) or not isinstance(qid, str | int):
        raise ValueError('"id" must be a string or a whole number')
    if as_of_from_date and item.get("date"):
        try:
            as_of = dt.date.fromisoformat(str(item["date"])[:10])
        except ValueError:
            raise ValueError(f'"date" is not a date (YYYY-MM-DD): {item["date"]!r}') from None
    return BatchQuestion(location, str(qid), question, as_of)
