"""ASGI middleware of the app: one class per concern, added in `create_app`."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """413 for a request body over `limit` bytes, whether declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        detail = f"request body over {self.limit} bytes"
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            # A chunked body declares no length: count it as the endpoint reads it.
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise HTTPException(413, detail)
            return message

        await self.app(scope, counted, send)


class HeadAsGet:
    """HEAD answered as the GET of the same path without its body (headers, Content-Length and
    status as GET's): load balancers and link checkers probe with HEAD, and FastAPI's routes answer
    only the methods they declare."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.start":
                scope["method"] = "HEAD"  # what the access log and the request metrics say
            elif message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        # The GET runs in full (a file response reads its file) and only its body is dropped:
        # HEAD is a probe's request, rare and small. In place: the router records the route here.
        scope["method"] = "GET"
        try:
            await self.app(scope, receive, headers_only)
        finally:
            scope["method"] = "HEAD"


class SecurityHeaders:
    """`X-Content-Type-Options: nosniff` and `X-Frame-Options: DENY` on every response, errors,
    static files and the API docs included (a route's own value is kept).

    nosniff: a JSON error that echoes a request's text is never sniffed into HTML; DENY: no page
    of another site frames this one (the page's policy says so too, but Swagger UI at `/docs`,
    whose buttons send requests from this origin, had nothing against clickjacking)."""

    HEADERS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"))

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in self.HEADERS if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class HostCheck:
    """400 for a request whose Host header names none of `hosts` (None: any host is answered).

    A page on another site can make a browser send requests to a loopback server by pointing its
    own name at 127.0.0.1 (DNS rebinding); those requests carry that site's name in Host.
    """

    def __init__(self, app: ASGIApp, hosts: Sequence[str] | None) -> None:
        self.app = app
        self.hosts = None if hosts is None else {_host_name(h) for h in hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.hosts is None or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if _host_name(Headers(scope=scope).get("host", "")) in self.hosts:
            await self.app(scope, receive, send)
            return
        detail = "the Host header names a host this server does not serve (setting QA_ALLOWED_HOSTS)"
        await JSONResponse({"detail": detail}, status_code=400)(scope, receive, send)


def _host_name(host: str) -> str:
    """The name of a Host header value without its port: `[::1]:8000` -> `::1`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")
