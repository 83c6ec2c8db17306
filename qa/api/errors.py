"""Errors at the edge: project exceptions become status codes; every error body is `{detail, errors}`.

Bodies never carry a filesystem path, a C++ source location or a traceback: errors about the index
get a fixed public line (the CLI and the logs keep the full one), and any other message has the
index directory taken out.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from embeddings.errors import (
    ArticleNotFoundError,
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexUnavailableError,
    IndexWriteError,
    InvalidArticleError,
    InvalidRequestError,
    QAError,
)
from qa.api.schemas import ErrorResponse
from qa.settings import Settings

# The first class an error is an instance of decides; any other QAError is a 400.
STATUS: dict[type[QAError], int] = {
    ArticleNotFoundError: 404,
    InvalidArticleError: 422,
    InvalidRequestError: 422,
    IndexNotFoundError: 503,
    IndexCorruptError: 503,
    IndexLockedError: 503,
    IndexMismatchError: 503,
    IndexUnavailableError: 503,
    IndexWriteError: 507,
}

PUBLIC: dict[type[QAError], str] = {
    IndexNotFoundError: "no index to answer from yet: build one with `qa index PATH`",
    IndexLockedError: "another write holds the index; try again later",
    IndexMismatchError: "the index was built with another model than the one configured:"
    " configure that model (QA_MODEL_DIR, QA_ENCODER), or rebuild it with `qa index --rebuild PATH...`",
    IndexUnavailableError: "the index cannot be read right now; try again later",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` documenting `ErrorResponse` for each status."""
    return {status: {"model": ErrorResponse, "description": "Error"} for status in statuses}


def add_exception_handlers(app: FastAPI) -> None:
    app.exception_handler(QAError)(qa_error)
    app.exception_handler(RequestValidationError)(invalid_request)


def public_message(exc: QAError, settings: Settings | None) -> str:
    """What an HTTP body may say of `exc`: no absolute path, no C++ location."""
    if isinstance(exc, IndexCorruptError):
        files = sorted({line.split(":", 1)[0] for line in exc.problems})
        named = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        return f"the index is damaged ({named}): answers are refused; {exc.way_out}"
    for cls, message in PUBLIC.items():
        if isinstance(exc, cls):
            return message
    message = str(exc)
    if settings is not None:
        for path in {str(settings.index_dir.resolve()), str(settings.index_dir)}:
            message = message.replace(path, "<index>")
    return message


async def qa_error(request: Request, exc: QAError) -> JSONResponse:
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    settings = getattr(request.app.state, "settings", None)
    return JSONResponse({"detail": _safe(public_message(exc, settings))}, status_code=status)


MAX_ERRORS = 20  # listed in a 422: a body with 100,000 bad items gets their first ones, and a count
MAX_INPUT = 200  # characters of the offending value echoed back, not the whole body


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    shown = errors[:MAX_ERRORS]
    messages = [
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
        + (f" ({e['ctx']['error']})" if e["type"] == "json_invalid" else "")
        for e in shown
    ]
    if len(errors) > len(shown):
        messages.append(f"and {len(errors) - len(shown)} more errors")
    return JSONResponse({"detail": _safe("; ".join(messages)), "errors": _jsonable(shown)}, status_code=422)


def _jsonable(errors: Any) -> Any:
    return [{k: _plain(_brief(v) if k == "input" else v) for k, v in e.items()} for e in errors]


def _brief(value: Any, depth: int = 0) -> Any:
    """`value` cut short for echoing: long strings to MAX_INPUT characters, long or deep lists and
    objects to a count of their items."""
    if isinstance(value, str):
        return value if len(value) <= MAX_INPUT else value[:MAX_INPUT] + "…"
    if isinstance(value, (list, tuple, dict)):
        if len(value) > MAX_ERRORS or depth >= 3:
            return f"<{type(value).__name__} of {len(value)} items>"
        if isinstance(value, dict):
            return {k: _brief(v, depth + 1) for k, v in value.items()}
        return [_brief(v, depth + 1) for v in value]
    return value


def _plain(value: Any) -> Any:
    """A JSON-safe copy: tuples as arrays, NaN and infinities as strings (JSON has neither), lone
    surrogates replaced (UTF-8 cannot carry them), anything else as its string."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]  # `loc` is a tuple: keep it a JSON array, not its Python repr
    if isinstance(value, dict):
        return {_safe(str(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (bool, int, float, type(None))):
        return value
    return _safe(value if isinstance(value, str) else str(value))


def _safe(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")
