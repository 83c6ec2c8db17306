"""Question answering over a news archive: retrieval, the Python API, HTTP API and CLI."""

from qa.hits import Answer, Hit, RelatedArticle
from qa.service import QAService, open_service
from qa.settings import Settings

__all__ = ["Answer", "Hit", "QAService", "RelatedArticle", "Settings", "open_service"]
