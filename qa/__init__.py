"""Question answering over a news archive: retrieval, the Python API, HTTP API and CLI."""

from embeddings.articles import Article
from embeddings.errors import (
    ArticleNotFoundError,
    ConfigurationError,
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexUnavailableError,
    IndexWriteError,
    InvalidArticleError,
    InvalidRequestError,
    QAError,
)
from embeddings.readers import parse_record
from embeddings.writer import IndexReport
from qa.hits import Answer, Hit, Interpretation, RelatedArticle, RelatedCopy
from qa.service import QAService, open_service
from qa.settings import Settings

__all__ = [
    "Answer",
    "Article",
    "ArticleNotFoundError",
    "ConfigurationError",
    "Hit",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexReport",
    "IndexUnavailableError",
    "IndexWriteError",
    "Interpretation",
    "InvalidArticleError",
    "InvalidRequestError",
    "QAError",
    "QAService",
    "RelatedArticle",
    "RelatedCopy",
    "Settings",
    "open_service",
    "parse_record",
]
