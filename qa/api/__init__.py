"""HTTP API: a thin FastAPI edge over `QAService`; every bad request is a 4xx with a message."""

from __future__ import annotations

from qa.api.app import app_from_environment, create_app

__all__ = ["app_from_environment", "create_app"]
