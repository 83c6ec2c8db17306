"""Route dependencies: the service and settings the app holds, and who may write."""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Header, HTTPException, Request

from qa.service import QAService
from qa.settings import Settings, is_loopback


# `async def`, though they await nothing: FastAPI runs a plain `def` dependency in the thread
# pool, one hop there and back per request for `/ask`, which is answered on the event loop.
async def _service(request: Request) -> QAService:
    return request.app.state.service


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


# Module level, never inside a function: with postponed annotations FastAPI resolves `qa: Service`
# in the route module's globals, and a local alias would silently become a required query parameter.
Service = Annotated[QAService, Depends(_service)]
AppSettings = Annotated[Settings, Depends(_settings)]


def may_write(settings: Settings, authorization: str | None, request: Request) -> bool:
    """Whether a request with this `Authorization` header may write (and see where the index is):
    the right bearer token when one is set, else any request to a server listening on loopback that
    no proxy forwarded for another machine."""
    token = settings.token()
    if not token:
        return is_loopback(settings.host) and forwarded_for(request) is None
    scheme, _, given = (authorization or "").strip().partition(" ")
    # Starlette decodes header bytes as latin-1: encoding back gives the bytes sent, which a client
    # sends as UTF-8; compared in constant time against the token's UTF-8 bytes.
    try:
        sent = given.strip().encode("latin-1")
    except UnicodeEncodeError:
        return False
    return scheme.lower() == "bearer" and hmac.compare_digest(sent, token.encode("utf-8"))


def authorise(
    request: Request, settings: AppSettings, authorization: Annotated[str | None, Header()] = None
) -> None:
    """Writes need the bearer token when one is set, and are refused beyond loopback when none is.
    Without a token, a write a browser sends from another origin is refused too: any page the user
    opens could otherwise post to a server on loopback (a request it need not see the answer of).

    A route that takes a body (`StrictJSONRoute`) calls this again before it reads the body, so a
    client that may not write learns that first, not what is wrong with its body (415, 422)."""
    if may_write(settings, authorization, request):
        if not settings.token() and (origin := cross_origin(request)) is not None:
            raise HTTPException(403, f"writes from another origin are refused ({origin})")
        return
    if settings.token():
        raise HTTPException(
            401, "a valid bearer token is required for writes", headers={"WWW-Authenticate": "Bearer"}
        )
    if is_loopback(settings.host):
        raise HTTPException(
            403,
            f"writes forwarded by a proxy for another machine ({forwarded_for(request)}) need"
            " QA_API_TOKEN: without a token only this machine may write",
        )
    raise HTTPException(
        403, "writes are disabled: the server listens beyond loopback and no QA_API_TOKEN is configured"
    )


def cross_origin(request: Request) -> str | None:
    """Why a request comes from a page of another origin (None when it does not, or says nothing:
    curl and scripts send neither header). Browsers send `Sec-Fetch-Site` and, with a POST or a
    DELETE, `Origin`; `null` is a sandboxed or local-file page."""
    site = request.headers.get("sec-fetch-site")
    if site in ("same-origin", "none"):  # the browser's own word: behind a proxy, Host is not Origin's
        return None
    if site is not None:
        return f"Sec-Fetch-Site: {site}"
    origin = request.headers.get("origin")  # browsers without Fetch Metadata
    if origin is None:
        return None
    if origin == "null" or urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower():
        return f"Origin: {origin}"
    return None


def forwarded_for(request: Request) -> str | None:
    """The first client a proxy names (`X-Forwarded-For`, `Forwarded`, `X-Real-IP`) that is not this
    machine, cut to 100 characters; None when no proxy names one. A server on loopback without a
    token takes writes from this machine only, and a proxy in front of it brings other machines in."""
    named = [part for value in request.headers.getlist("x-forwarded-for") for part in value.split(",")]
    for value in request.headers.getlist("forwarded"):  # RFC 7239: for=192.0.2.60;proto=http, for="[::1]"
        for pair in value.replace(",", ";").split(";"):
            key, _, client = pair.strip().partition("=")
            if key.lower() == "for":
                named.append(client)
    named += request.headers.getlist("x-real-ip")
    for client in named:
        if not is_loopback(_bare_host(client)):
            return client.strip()[:100]
    return None


def _bare_host(client: str) -> str:
    """`192.0.2.60:4711` or `"[2001:db8::1]:4711"` as the address alone ("unknown" stays as it is)."""
    host = client.strip().strip('"')
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.partition(":")[0] if host.count(":") == 1 else host
