"""The routers, one module per topic; `create_app` includes each of `ROUTERS` in order."""

from __future__ import annotations

from qa.api.routes import articles, ask, health

ROUTERS = (ask.router, articles.router, health.router)
