"""The HTTP edge's own cost per request: routing, parameters, dependencies, response model, JSON.

The app runs in-process over a stub service that answers every question with the same hand-made
hits (checked like the real service checks them), so retrieval costs nothing and what is left is
the edge. Requests go straight to the ASGI app, without a client or a socket. The app runs with
its metrics middleware and without it (`QA_METRICS=false`), in alternating rounds, so the ratio is
what counting and timing each request costs. Prints figures; asserts nothing.

    PYTHONPATH=. python -m benchmarks.bench_edge [--requests 3000] [--k 5]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import time
import timeit
from collections.abc import Sequence
from typing import Any, cast

from fastapi import FastAPI
from pydantic import TypeAdapter

from qa.api import create_app
from qa.api.schemas import AnswerOut
from qa.hits import Answer, Hit
from qa.service import QAService
from qa.settings import Settings
from qa.validation import check_dates, check_k, check_question

BLOCK = 100
ROUNDS = 3
TEXT = "The Baku metro opened a new station on the green line. Passengers crowded the platform."


class StubService:
    """Answers every question with the same `k` hits, after the checks the real service makes."""

    def __init__(self, k: int) -> None:
        hits = [
            Hit(TEXT, 0.05 - i / 1000, f"article-{i}", f"Title {i}", dt.date(2023, 11, 1), "News.Az",
                f"https://news.az/{i}", 0, 0, len(TEXT), TEXT[:55], 0, 55, ("copy",))
            for i in range(k)
        ]  # fmt: skip
        self.answer = Answer("metro station", hits, dt.date(2024, 1, 1))

    def ask(self, question: str, k: int = 5, *, since: Any = None, until: Any = None, **_: Any) -> Answer:
        check_question(question, 1000)
        check_k(k, 100)
        check_dates(since, until)
        return self.answer


async def request(app: FastAPI, method: str, path: str, query: bytes = b"", body: bytes = b"") -> bytes:
    # A loopback Host: with the default settings the app answers no other (HostCheck's 400).
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query,
        "headers": [(b"host", b"localhost"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {},
    }  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 200, sent
    return cast(bytes, sent[1]["body"])


async def per_request(app: FastAPI, requests: int, *call: Any) -> list[float]:
    """CPU seconds per request, one figure per block of BLOCK requests."""
    for _ in range(BLOCK):
        await request(app, *call)
    blocks = []
    for _ in range(max(1, requests // BLOCK)):
        started = time.process_time()
        for _ in range(BLOCK):
            await request(app, *call)
        blocks.append((time.process_time() - started) / BLOCK)
    return blocks


def edge_app(stub: StubService, *, metrics: bool) -> FastAPI:
    app = create_app(Settings(metrics=metrics), lambda: cast(QAService, stub))
    app.state.service = stub  # what the lifespan does; no lifespan runs without a server
    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args(argv)
    stub = StubService(args.k)
    apps = {"": edge_app(stub, metrics=True), " (no metrics)": edge_app(stub, metrics=False)}
    calls = {
        "GET /search": ("GET", "/search", f"question=metro+station&k={args.k}".encode()),
        "POST /ask": ("POST", "/ask", b"", json.dumps({"question": "metro station", "k": args.k}).encode()),
    }
    for name, call in calls.items():
        blocks: dict[str, list[float]] = {label: [] for label in apps}
        for _ in range(ROUNDS):  # alternating, so a slower spell of the machine hits both alike
            for label, app in apps.items():
                blocks[label] += asyncio.run(per_request(app, args.requests // ROUNDS, *call))
        for label, times in blocks.items():
            print(
                f"{name + label:26} min {min(times) * 1e6:6.1f} us,"
                f" median {statistics.median(times) * 1e6:6.1f} us"
            )
        (on, off) = blocks.values()
        for stat in (min, statistics.median):
            more, ratio = stat(on) - stat(off), stat(on) / stat(off)
            print(f"{name:26} metrics, by {stat.__name__}: {more * 1e6:+.1f} us a request, x{ratio:.3f}")

    # The part the response model adds: the old edge sent `json.dumps(answer.to_dict())`.
    adapter = TypeAdapter(AnswerOut)

    def plain() -> bytes:
        return json.dumps(stub.answer.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()

    def model() -> bytes:  # the route's AnswerOut.of, FastAPI's check of the instance, its JSON dump
        return adapter.dump_json(adapter.validate_python(AnswerOut.of(stub.answer), from_attributes=True))

    for name, render in (("json.dumps(to_dict())", plain), ("response model", model)):
        best = min(timeit.repeat(render, number=2000, repeat=7)) / 2000
        print(f"{name:22} {best * 1e6:6.1f} us per answer of {args.k} hits")


if __name__ == "__main__":
    main()
