"""The application: settings and service on `app.state`; routers, middleware and error handlers wired once."""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import tqdm
from fastapi import FastAPI

from qa.api.errors import add_exception_handlers, error_responses
from qa.api.metrics import Metrics, RequestMetrics
from qa.api.middleware import BodyLimit, HeadAsGet, HostCheck, SecurityHeaders
from qa.api.routes import ROUTERS
from qa.api.routes import metrics as metrics_route
from qa.api.supervision import stop_when_parent_dies
from qa.service import QAService, warn_mismatched, warn_unfitted
from qa.settings import Settings


def create_app(
    settings: Settings, service_factory: Callable[[], QAService], *, metrics_dir: Path | None = None
) -> FastAPI:
    """The application; `service_factory` runs at startup, so tests and `qa serve` choose the service.

    `metrics_dir`: where the worker processes of one server share their metrics (prometheus-client's
    multiprocess mode, which `PROMETHEUS_MULTIPROC_DIR` switches on); None for a single process.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # bm25s makes a (disabled) tqdm bar per question, and tqdm's first bar creates a
        # multiprocessing lock: a worker stopped by a signal left it to the resource tracker, which
        # warned of "leaked semaphore objects" at every stop of `qa serve`. Bars share a thread lock.
        tqdm.tqdm.set_lock(threading.RLock())
        stop_when_parent_dies()
        app.state.service = service = service_factory()
        warn_unfitted(service.learned, service.encoder.identity)  # once per worker, in its log
        if settings.verify_on_start:
            app.state.service.verify()  # a damaged live version is refused (503) from the start
        warn_mismatched(service)
        yield

    app = FastAPI(
        title="News QA",
        version="0.1.0",
        lifespan=lifespan,
        description="Ask a news archive questions; get passages with date, source, title and url.",
        responses=error_responses(400, 413, 422, 503),
        redirect_slashes=False,  # `/articles/` is no article, not a redirect to `/articles`
        # Served by routes/docs.py with local assets: FastAPI's own pages load them from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    add_exception_handlers(app)
    app.add_middleware(HeadAsGet)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(HostCheck, hosts=settings.served_hosts())
    app.add_middleware(SecurityHeaders)  # outside the checks: their refusals carry the headers too
    for router in ROUTERS:
        app.include_router(router)
    if settings.metrics:
        app.state.metrics = Metrics(lambda: getattr(app.state, "service", None), metrics_dir)
        # Added last, so outermost: requests refused by the body limit are counted too.
        app.add_middleware(RequestMetrics, metrics=app.state.metrics)
        app.include_router(metrics_route.router)
    return app


def app_from_environment() -> FastAPI:
    """Factory for `uvicorn --factory qa.api:app_from_environment` (e.g. with several workers)."""
    from qa.service import open_service

    settings = Settings()
    # prometheus-client's own switch for multiprocess mode, set by `qa serve` for its workers.
    shared = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return create_app(  # the app verifies at its start-up (`verify_on_start`)
        settings, lambda: open_service(settings, verify=False), metrics_dir=Path(shared) if shared else None
    )
