"""The project's exception hierarchy: library code raises only these."""

from __future__ import annotations

from collections.abc import Sequence


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


class NotADirectoryIndexError(IndexNotFoundError):
    """The index directory is a plain file (or another non-directory): no index is there and none
    can be written there."""


class IndexMismatchError(QAError):
    """The index was built with another model (or encoder variant) than the one configured."""

    @classmethod
    def of(cls, where: str, built: str, configured: str) -> IndexMismatchError:
        """The error for the index at `where` (as the backend describes it), naming both models and
        the two ways out."""
        return cls(
            f"index at {where} was built with {built!r} but the configured encoder is {configured!r}:"
            " configure that model (QA_MODEL_DIR, QA_ENCODER), or rebuild with `qa index --rebuild PATH...`"
        )


REPAIR = "`qa repair` recovers"  # the way out of a damaged local index
REBUILD = "`qa index --rebuild PATH...` builds it again from the articles"  # when nothing else can


class IndexCorruptError(QAError):
    """An index exists but is damaged or fails its consistency check; `problems`, one line each,
    name the files (relative to the index, never an absolute path); `way_out`, what recovers it."""

    def __init__(self, message: str, problems: Sequence[str] = (), way_out: str = REPAIR) -> None:
        super().__init__(message)
        self.problems = tuple(problems) or (message,)
        self.way_out = way_out

    @classmethod
    def of(cls, problems: Sequence[str], way_out: str = REPAIR) -> IndexCorruptError:
        """One line for a damaged version: its first problem, how many more, and the way out
        (`way_out`: what recovers this backend's index, `Backend.way_out`)."""
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        message = f"index damaged: {problems[0]}{more}; `qa check` lists every problem, {way_out}"
        return cls(message, problems, way_out)


class IndexWriteError(QAError):
    """A write could not be stored (no space left, an I/O error); the live version is unchanged."""


class IndexLockedError(QAError):
    """Another writer holds the index lock for longer than we were willing to wait."""


class IndexUnavailableError(QAError):
    """The index cannot be read right now though nothing says it is damaged: the engine holding it
    cannot be reached or refused a request (e.g. a Milvus server), or a local version whose files
    all match their checksums failed to open. Worth retrying; never marks a version damaged."""


class ArticleNotFoundError(QAError):
    """No article with that id is indexed."""


class ConfigurationError(QAError):
    """A setting names something that does not exist (unknown backend, missing model dir, ...)."""


class InvalidRequestError(QAError):
    """A request the service cannot answer as asked (k out of range, since after until, empty question)."""
