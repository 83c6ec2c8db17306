"""The routers, one module per topic; `create_app` includes each of `ROUTERS` in order."""

from __future__ import annotations

from qa.api.routes import archive, articles, ask, docs, health, page

# `metrics.router` is included by `create_app` when metrics are on.
ROUTERS = (ask.router, articles.router, archive.router, health.router, docs.router, page.router)
