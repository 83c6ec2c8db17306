"""Route dependencies: the service and settings the app holds, and who may write."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from qa.service import QAService
from qa.settings import Settings


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


def authorise(settings: AppSettings, authorization: Annotated[str | None, Header()] = None) -> None:
    """Writes need the bearer token when one is set, and are refused beyond loopback when none is."""
    token = settings.api_token.get_secret_value() if settings.api_token else None
    if token:
        scheme, _, given = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise HTTPException(
                401, "a valid bearer token is required for writes", headers={"WWW-Authenticate": "Bearer"}
            )
    elif not _is_loopback(settings.host):
        raise HTTPException(
            403, "writes are disabled: the server listens beyond loopback and no QA_API_TOKEN is configured"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
