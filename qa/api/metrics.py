"""Prometheus metrics: requests and latency per route template (a middleware), the index read at scrape.

With several worker processes each one counts its own requests; `qa serve` then turns on
prometheus-client's multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`, a directory the workers share) and a
scrape of any worker adds up the counts of all of them. The index figures are read at scrape time from
the live version, the same for every worker.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from embeddings.errors import QAError
from qa.service import QAService

# Requests the router matched no route for (and those refused before routing, e.g. a body over the
# limit) share one label: raw paths would make a new time series for every URL a client invents.
UNMATCHED = "(unmatched)"
# Any other method a client sends is counted as "other", for the same reason.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Answers take milliseconds; writes and a cold start take seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The app's metrics: a registry of its own, so several apps in one process never collide.

    Args:
        service: the app's service, or None before startup (then the index is reported absent).
        multiprocess_dir: the directory prometheus-client's multiprocess mode writes to, when it is
            on (it is switched at import by `PROMETHEUS_MULTIPROC_DIR`); a scrape then adds up every
            process's files instead of this process's counts.
    """

    def __init__(self, service: Callable[[], QAService | None], multiprocess_dir: Path | None = None) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "qa_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "qa_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response, by method and route template.",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        # The labelled series by (method, route, status); bounded, as the labels are.
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self.index = IndexCollector(service)
        self.multiprocess_dir = multiprocess_dir
        if multiprocess_dir is None:
            self.registry.register(self.index)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:  # `labels()` checks and locks on every call: look each series up once
            series = self._series[key] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
        series[0].inc()
        series[1].observe(seconds)

    def render(self) -> bytes:
        """The text exposition format, every process's requests included in multiprocess mode."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self.multiprocess_dir))
        registry.register(self.index)
        return generate_latest(registry)


class IndexCollector(Collector):
    """The live index's size, version and last write, read when scraped."""

    def __init__(self, service: Callable[[], QAService | None]) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        qa = self.service()
        info = None
        if qa is not None and qa.exists():
            try:
                info = qa.reader().info
            except QAError:  # removed or unreadable between the check and the open: report it absent
                info = None
        yield _gauge("qa_index_up", "1 when an index exists to answer from.", 0.0 if info is None else 1.0)
        if info is None:
            return
        yield _gauge("qa_index_articles", "Articles in the live index version.", info.articles)
        yield _gauge("qa_index_passages", "Passages in the live index version.", info.passages)
        yield _gauge("qa_index_version", "Number of the live index version.", info.version)
        written = _timestamp(info.created)
        if written is not None:
            yield _gauge(
                "qa_index_last_write_timestamp_seconds",
                "When the live index version was written (Unix time).",
                written,
            )


class RequestMetrics:
    """Counts each HTTP request and times it, labelled by the route template that answered it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, root = time.perf_counter(), scope.get("root_path", "")
        status = 500  # what the server sends when the app raises before starting a response

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            self.metrics.observe(method, _template(scope, root), status, time.perf_counter() - started)


def _template(scope: Scope, root: str) -> str:
    """The template of the route that answered: the router records it in the (shared) scope; a mounted
    app (static files) is known by the prefix it added to `root_path`."""
    route = getattr(scope.get("route"), "path", None)
    if route:
        return str(route)
    endpoint = scope.get("endpoint")  # a plain Starlette route (`/openapi.json`) records only this
    for candidate in getattr(scope.get("app"), "routes", ()) if endpoint is not None else ():
        if getattr(candidate, "endpoint", None) is endpoint:
            return str(candidate.path)
    mounted = scope.get("root_path", "")
    if mounted != root and mounted.startswith(root):
        return f"{mounted[len(root) :]}/{{path}}"
    return UNMATCHED


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


def _timestamp(created: str) -> float | None:
    try:
        when = dt.datetime.fromisoformat(created)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)).timestamp()
