"""JSON bodies as RFC 8259 defines them: NaN, Infinity and lone surrogates are refused (422), not parsed.

Python's `json` accepts `NaN` and `Infinity` and decodes `"\ud800"` into a string that UTF-8 cannot
encode: each reached a 500 deeper in (the 422 handler itself, SQLite, the tokenizer). Routes that
take a body use `StrictJSONRoute`, so FastAPI's own JSON error (422) tells the client instead.
A route guarded by `authorise` checks the client's right to write before it looks at the body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import Headers

from qa.api.deps import authorise

# A \u escape of a UTF-16 surrogate; only bodies holding one are searched for a lone one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def parse_strict(body: bytes) -> Any:
    """The JSON value of `body`; `json.JSONDecodeError` for what RFC 8259 does not allow."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise json.JSONDecodeError("the body is not UTF-8 text", body.decode("latin-1"), exc.start) from None

    def refuse(name: str) -> Any:
        raise json.JSONDecodeError(f"{name} is not a JSON number", text, max(0, text.find(name)))

    try:
        value = json.loads(text, parse_constant=refuse)
        if (match := _SURROGATE_ESCAPE.search(text)) and _has_lone_surrogate(value):
            raise json.JSONDecodeError(
                "a string holds a lone UTF-16 surrogate, which is not text", text, match.start()
            )
    except RecursionError:  # `[[[[…` a hundred thousand deep: a reason, as for other bad JSON
        raise json.JSONDecodeError("arrays or objects nested too deeply", text, 0) from None
    return value


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_strict(await self.body())
        return self._json


def unsupported(headers: Headers) -> str | None:
    """Why a body sent with these headers cannot be read as JSON (None when it can): a declared
    type that is not JSON (a form, plain text), or a compressed body."""
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        return f"a body compressed as {encoding!r} is not accepted: send it uncompressed"
    declared = headers.get("content-type")
    if declared is None:
        return None  # read as JSON
    kind = declared.split(";", 1)[0].strip().lower()
    if kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json")):
        return None
    return f"the body must be JSON (content-type: application/json), not {kind or 'an empty type'}"


class StrictJSONRoute(APIRoute):
    """A route whose JSON body is parsed by `parse_strict` (set as a router's `route_class`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        guarded = any(d.dependency is authorise for d in self.dependencies)

        async def strict(request: Request) -> Response:
            scope = request.scope
            if guarded:  # who may write before what the body holds: 401/403 before 415/422
                authorise(request, request.app.state.settings, request.headers.get("authorization"))
            if request.method in ("POST", "PUT", "PATCH"):
                if problem := unsupported(request.headers):
                    raise HTTPException(415, problem)
                if "content-type" not in request.headers:  # no declared type: taken for JSON
                    scope = {**scope, "headers": [*scope["headers"], (b"content-type", b"application/json")]}
            return await handler(StrictJSONRequest(scope, request.receive))

        return strict
