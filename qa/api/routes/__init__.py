"""The routers, one module per topic; `create_app` includes each of `ROUTERS` in order."""

from __future__ import annotations

from qa.api.routes import archive, articles, ask, docs, health

ROUTERS = (ask.router, articles.router, archive.router, health.router, docs.router)
