"""The project's exception hierarchy: library code raises only these."""

from __future__ import annotations


class QAError(Exception):
    """Root of every error this project raises on purpose."""


class InvalidArticleError(QAError):
    """An article file or record cannot be read; carries where and why."""

    def __init__(self, location: str, reason: str) -> None:
        super().__init__(f"{location}: {reason}")
        self.location = location
        self.reason = reason


class IndexNotFoundError(QAError):
    """No index exists at the given directory."""


class IndexMismatchError(QAError):
    """The index was built with another model (or encoder variant) than the one configured."""


class IndexCorruptError(QAError):
    """An index exists but fails its consistency check."""


class IndexLockedError(QAError):
    """Another writer holds the index lock for longer than we were willing to wait."""


class IndexUnavailableError(QAError):
    """The engine holding the index cannot be reached or refused a request (e.g. a Milvus server)."""


class ArticleNotFoundError(QAError):
    """No article with that id is indexed."""


class ConfigurationError(QAError):
    """A setting names something that does not exist (unknown backend, missing model dir, ...)."""


class InvalidRequestError(QAError):
    """A request the service cannot answer as asked (k out of range, since after until, empty question)."""
