"""The corruption campaign: each file of the live version damaged each way; what check, serve and the API do.

One case damages one file of a copy of an index one way (`tests/support/damage.py`), then asks:

- `qa check`: exit 1, one line per problem, one of them naming the file, no traceback;
- `qa serve`: refuses to start (exit 1, one line naming the way out: `qa repair`, or `qa index
  --rebuild` where repair has nothing to recover from), uvicorn never called;
- `qa ask`: the same refusal;
- an app started on the damaged copy: every read 503, `/health` 503;
- an app started on the intact copy and damaged while it runs: every read 503, or a 200 equal to
  the intact answer; `/health` 503 once a read was refused;
- no body anywhere with the index's path, a traceback or a C++ source location.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from fastapi.testclient import TestClient

from embeddings.backends.local.versions import CURRENT, PUBLISHED
from qa import cli
from qa.api import create_app
from qa.service import QAService
from qa.settings import Settings
from tests.support.damage import DAMAGES, live_version

ServiceFactory = Callable[[Path], QAService]
LEAKS = ("Traceback", ".cpp", "faiss/", 'File "')


@dataclass(slots=True)
class CaseResult:
    """What one damaged copy did to each judge."""

    file: str
    damage: str
    check_exit: int = 0
    check_lines: list[str] = field(default_factory=list)
    check_names_file: bool = False
    serve_refused: bool = False
    ask_refused: bool = False
    started_refused: bool = False  # an app started on the damage answered no read with 200
    running_wrong_200: int = 0  # 200s after damage whose body differs from the intact one
    running_health_503: bool = False
    tracebacks: int = 0
    leaks: list[str] = field(default_factory=list)

    @property
    def detected(self) -> bool:
        return self.check_exit == 1 and self.check_names_file and bool(self.check_lines)

    @property
    def ok(self) -> bool:
        return (
            self.detected
            and self.serve_refused
            and self.ask_refused
            and self.started_refused
            and self.running_wrong_200 == 0
            and self.running_health_503
            and not self.tracebacks
            and not self.leaks
        )


def reads(article_id: str, question: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """The requests judged: every read route of the API."""
    return [
        ("POST", "/ask", {"question": question, "k": 5}),
        ("GET", f"/search?question={question}&k=5", None),
        ("POST", "/ask/batch", {"questions": [question], "k": 3}),
        ("GET", f"/articles/{article_id}", None),
        ("GET", f"/articles/{article_id}/related?k=3", None),
        ("GET", "/stats", None),
    ]


class Campaign:
    """Cases over copies of the index at `source` (never written), in `workdir`."""

    def __init__(
        self, source: Path, workdir: Path, make_service: ServiceFactory, article_id: str, question: str
    ) -> None:
        self.source, self.workdir, self.make_service = source, workdir, make_service
        self.requests = reads(article_id, question)
        self.root = workdir / "index"
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.copytree(source, self.root)
        self.intact = self._answers_of_intact()

    def files(self) -> list[str]:
        """Every file of the live version, and `CURRENT`, which names it (not the `PUBLISHED`
        marker: empty, it holds no data, and only says the version once went live)."""
        version = live_version(self.root)
        return [
            CURRENT,
            *sorted(
                p.relative_to(version).as_posix()
                for p in version.rglob("*")
                if p.is_file() and p.name != PUBLISHED
            ),
        ]

    def path(self, file: str) -> Path:
        return self.root / CURRENT if file == CURRENT else live_version(self.root) / file

    def run(self, file: str, damage: str) -> CaseResult:
        result = CaseResult(file, damage)
        path = self.path(file)
        backup = self.workdir / "backup"
        shutil.copy2(path, backup)
        try:
            with self._app() as client:  # started intact, damaged while it runs
                DAMAGES[damage](path)
                self._judge_running(client, result)
            self._judge_cli(path, result)
            with self._app() as client:
                bodies = [self._send(client, r, result) for r in self.requests]
                health = client.get("/health")
                self._scan(health.text, result)
                result.started_refused = (
                    all(status != 200 for status, _ in bodies) and health.status_code == 503
                )
        finally:
            shutil.copy2(backup, path)
        return result

    # --- judges ------------------------------------------------------------------------------

    def _judge_running(self, client: TestClient, result: CaseResult) -> None:
        for request, intact in zip(self.requests, self.intact, strict=True):
            status, body = self._send(client, request, result)
            if status == 200 and body != intact:
                result.running_wrong_200 += 1
        health = client.get("/health")
        self._scan(health.text, result)
        result.running_health_503 = health.status_code == 503

    def _judge_cli(self, path: Path, result: CaseResult) -> None:
        code, out, err = self._cli("check")
        result.check_exit = code
        result.check_lines = out.splitlines()
        result.check_names_file = any(result.file in line for line in result.check_lines)
        result.tracebacks += "Traceback" in out + err
        started: list[object] = []
        original = uvicorn.run
        uvicorn.run = lambda *a, **k: started.append(a)  # type: ignore[assignment]
        try:
            code, _, err = self._cli("serve")
        finally:
            uvicorn.run = original  # type: ignore[assignment]
        result.serve_refused = code == 1 and not started and _one_line_naming_a_way_out(err)
        result.tracebacks += "Traceback" in err
        code, out, err = self._cli("ask", "anything at all")
        result.ask_refused = code == 1 and _one_line_naming_a_way_out(err) and not out
        result.tracebacks += "Traceback" in err

    def _cli(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        service = cli._service
        cli._service = lambda settings, progress=False: self.make_service(settings.index_dir)  # type: ignore[assignment]
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = cli.main([argv[0], *argv[1:], "--index-dir", str(self.root)])
                except Exception as exc:  # counted: the command must never end in a traceback
                    code = 99
                    err.write(f"Traceback (escaped): {type(exc).__name__}: {exc}\n")
        finally:
            cli._service = service  # type: ignore[assignment]
        return code, out.getvalue(), err.getvalue()

    # --- helpers -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _app(self) -> Iterator[TestClient]:
        # With a token, as a server others reach would have: /stats keeps the index path to itself.
        settings = Settings(index_dir=self.root, reload_interval=0, api_token="campaign-token")
        service = self.make_service(self.root)
        app = create_app(settings, lambda: service)
        with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as client:
            yield client

    def _answers_of_intact(self) -> list[Any]:
        result = CaseResult("", "")
        with self._app() as client:
            answers = [self._send(client, r, result) for r in self.requests]
        if any(status != 200 for status, _ in answers):
            raise RuntimeError(f"the intact index does not answer: {answers}")
        return [body for _, body in answers]

    def _send(self, client: TestClient, request: tuple[str, str, Any], result: CaseResult) -> tuple[int, Any]:
        method, url, body = request
        response = client.request(method, url, json=body)
        self._scan(response.text, result)
        if response.status_code >= 500 and response.status_code not in (503, 507):
            result.tracebacks += 1  # an unexpected server error
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, response.text

    def _scan(self, text: str, result: CaseResult) -> None:
        for needle in (*LEAKS, str(self.root.resolve()), str(self.workdir)):
            if needle in text:
                result.leaks.append(f"{result.file} {result.damage}: {needle!r} in {text[:120]!r}")


def _one_line_naming_a_way_out(err: str) -> bool:
    lines = [line for line in err.splitlines() if line.strip()]
    way_out = "qa repair" in lines[0] or "qa index --rebuild" in lines[0] if lines else False
    return len(lines) == 1 and way_out and "Traceback" not in err


def summarise(results: list[CaseResult]) -> dict[str, object]:
    """The campaign's table: cases, detected, tracebacks, servers answering from damage, wrong 200s, leaks."""
    return {
        "cases": len(results),
        "detected_by_check": sum(r.detected for r in results),
        "serve_refused": sum(r.serve_refused for r in results),
        "ask_refused": sum(r.ask_refused for r in results),
        "started_app_refused_every_read": sum(r.started_refused for r in results),
        "running_app_health_503": sum(r.running_health_503 for r in results),
        "servers_answering_from_damage": sum(not r.started_refused for r in results),
        "http_200_with_different_answers": sum(r.running_wrong_200 for r in results),
        "tracebacks": sum(r.tracebacks for r in results),
        "bodies_leaking": sum(len(r.leaks) for r in results),
    }
