"""`GET /` serves the page and its static files from the package, all local, under a strict policy."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


def test_the_page_is_html_that_names_only_its_own_files(client: TestClient) -> None:
    page = client.get("/")
    assets = [a for a in ASSET.findall(page.text) if not a.startswith("data:")]

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert sorted(assets) == ["docs", "static/page.css", "static/page.js"]
    for asset in assets:
        assert client.get(f"/{asset}").status_code == 200, asset


def test_the_static_files_have_their_types(client: TestClient) -> None:
    script, style = client.get("/static/page.js"), client.get("/static/page.css")

    assert script.headers["content-type"].startswith("text/javascript")
    assert style.headers["content-type"].startswith("text/css")
    assert "fetch(" in script.text and ".card" in style.text


def test_the_page_may_load_and_run_only_what_this_server_sends(client: TestClient) -> None:
    policy = client.get("/").headers["content-security-policy"]

    assert "default-src 'self'" in policy and "unsafe-inline" not in policy


def test_files_outside_the_static_folder_are_not_served(client: TestClient) -> None:
    for path in ("/static/../routes/page.py", "/static/%2e%2e/routes/page.py", "/static/missing.js"):
        assert client.get(path).status_code == 404, path


BIG = {"content-length": "21000000"}  # refused by the body limit before any route runs


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/", {}, 200),
        ("GET", "/static/page.js", {}, 200),
        ("GET", "/static/missing.js", {}, 404),
        ("GET", "/docs", {}, 200),
        ("GET", "/redoc", {}, 200),
        ("GET", "/docs/assets/swagger-ui.css", {}, 200),
        ("GET", "/openapi.json", {}, 200),
        ("GET", "/articles/%3Cscript%3E", {}, 404),
        ("GET", "/search?question=", {}, 422),
        ("GET", "/health", {"host": "rebound.example"}, 400),
        ("HEAD", "/health", {}, 200),
        ("POST", "/ask", BIG, 413),
    ],
)
def test_every_response_forbids_sniffing_and_framing(
    client: TestClient, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    response = client.request(method, path, headers=headers)

    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
