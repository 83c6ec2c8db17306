"""`/docs` and `/redoc` load their scripts and styles from this server, never from a CDN."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.mark.parametrize(
    ("path", "needs"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")]
)
def test_docs_pages_name_only_local_assets_and_each_is_served(
    client: TestClient, path: str, needs: str
) -> None:
    page = client.get(path)
    assets = ASSET.findall(page.text)

    assert page.status_code == 200
    assert any(a.endswith(needs) for a in assets), assets
    assert "http" not in page.text.replace("http-equiv", "")  # no absolute address, no CDN
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200 and len(served.content) > 1000, asset


def test_swagger_ui_asks_no_online_validator(client: TestClient) -> None:
    assert '"validatorUrl": null' in client.get("/docs").text


def test_the_oauth2_redirect_page_is_served(client: TestClient) -> None:
    assert "oauth2" in client.get("/docs/oauth2-redirect").text.lower()


def test_the_docs_pages_stay_out_of_the_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    assert not {"/docs", "/redoc", "/docs/oauth2-redirect", "/", "/metrics"} & set(paths)


def test_redoc_may_show_no_image_from_elsewhere(client: TestClient) -> None:
    # ReDoc's bundle always asks Redocly's CDN for a logo; the policy keeps the browser from asking.
    assert client.get("/redoc").headers["content-security-policy"] == "img-src 'self' data:"
