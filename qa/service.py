"""The Python API: one object over an index backend that answers, relates, adds and deletes."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from embeddings.articles import Article
from embeddings.backends import Backend, Filters, IndexReader, create_backend
from embeddings.chunking import ChunkingConfig
from embeddings.encoders import Encoder, load_encoder
from embeddings.errors import ArticleNotFoundError, IndexNotFoundError
from embeddings.migration import migrate
from embeddings.writer import Indexer, IndexReport
from qa.hits import Answer, Hit, RelatedArticle
from qa.query_vectors import QueryVectors
from qa.retrieval import RetrievalConfig, load_reranker, read_query, retrieve
from qa.retrieval import related as related_articles
from qa.settings import Settings
from qa.validation import check_dates, check_k, check_question


class QAService:
    """Question answering over one index; thread-safe; sees other processes' writes.

    Example:
        >>> qa = QAService(Path("index"), load_encoder(None))
        >>> qa.ask("Who won the election?", k=3).hits[0].title

    Args:
        index: the backend holding the index, or a directory for the `local` backend.
        max_k, max_question_chars: limits every caller (Python, CLI, HTTP) is held to.
    """

    def __init__(
        self,
        index: Backend | Path | str,
        encoder: Encoder,
        *,
        chunking: ChunkingConfig | None = None,
        retrieval: RetrievalConfig | None = None,
        title_context: bool = True,
        reload_interval: float = 1.0,
        lock_timeout: float = 60.0,
        progress: bool = False,
        max_k: int = 100,
        max_question_chars: int = 1000,
    ) -> None:
        self.backend: Backend = (
            create_backend("local", root=Path(index)) if isinstance(index, (str, Path)) else index
        )
        self.encoder = encoder
        self.retrieval = retrieval or RetrievalConfig()
        self.reranker = load_reranker(self.retrieval.reranker)
        self.reload_interval = reload_interval
        self.max_k, self.max_question_chars = max_k, max_question_chars
        self.indexer = Indexer(
            self.backend,
            encoder,
            chunking or ChunkingConfig(max_tokens=encoder.max_tokens),
            title_context=title_context,
            lock_timeout=lock_timeout,
            progress=progress,
        )
        self._reader: IndexReader | None = None
        self._current: str | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self.queries = QueryVectors(encoder)

    # --- index state -------------------------------------------------------------------------

    def reader(self) -> IndexReader:
        """The live index version; re-opened when a writer (any process) published a newer one."""
        now = time.monotonic()
        if self._reader is not None and now - self._checked < self.reload_interval:
            return self._reader
        with self._lock:
            self._checked = now
            if not self.backend.exists():
                raise IndexNotFoundError(
                    f"no index at {self.backend.describe()} (build one with `qa index PATH`)"
                )
            name = self.backend.live_version()
            if name != self._current or self._reader is None:
                # Requests that hold the old reader keep using it; it closes when unreferenced.
                self._reader = self.backend.open(self.encoder.identity)
                self._current = name
            return self._reader

    def exists(self) -> bool:
        return self.backend.exists()

    def _refresh(self) -> None:
        self._checked = 0.0

    # --- reads ------------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        k: int = 5,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        as_of: dt.date | None = None,
        interpret: bool = True,
    ) -> Answer:
        """The k passages that best answer `question`.

        Explicit `since`/`until`/`sources` are hard filters. `as_of` (default today) hides
        articles published after it. Time expressions in the question ("in November 2023",
        "last week") become a preferred window unless `since`/`until` are given.

        Raises:
            InvalidRequestError: an empty or too long question, k out of range, since after until.
        """
        question = check_question(question, self.max_question_chars)
        check_k(k, self.max_k)
        check_dates(since, until)
        as_of = as_of or dt.date.today()
        reader = self.reader()
        query = read_query(
            question,
            as_of,
            interpret=interpret,
            explicit_dates=since is not None or until is not None,
            strip_time=self.retrieval.strip_time,
        )
        newest = reader.max_date()
        hits = retrieve(
            reader,
            query.text,
            self.queries.vector(query.text),
            k,
            filters=Filters(since, until, tuple(sources or ()), as_of),
            window=query.window,
            # Recency is measured from the archive's own "now": the as-of date, or the newest
            # article when the archive ends earlier (an archive of 2024 asked in 2026).
            as_of=min(as_of, newest) if newest else as_of,
            config=self.retrieval,
            reranker=self.reranker,
        )
        return Answer(question, hits, as_of, query.interpreted)

    def search(self, question: str, k: int = 5, **filters: object) -> list[Hit]:
        """Similarity search for scripts: just the hits of `ask`."""
        return self.ask(question, k, **filters).hits  # type: ignore[arg-type]

    def ask_batch(self, questions: Sequence[str], k: int = 5, **filters: object) -> list[Answer]:
        """Answer many questions; their embeddings are computed in one batch."""
        questions = [check_question(q, self.max_question_chars) for q in questions]
        self.prepare(questions)
        return [self.ask(q, k, **filters) for q in questions]  # type: ignore[arg-type]

    def prepare(self, questions: Sequence[str]) -> None:
        """Embed questions ahead of asking them, in one batch (the cache keeps the vectors)."""
        self.queries.vectors([q.strip() for q in questions])

    def article(self, article_id: str) -> Article:
        article = self.reader().article(article_id)
        if article is None:
            raise ArticleNotFoundError(f"no article with id {article_id!r}")
        return article

    def related(self, article_id: str, k: int = 5) -> list[RelatedArticle]:
        """The k articles most similar to `article_id` (never itself), by passage similarity."""
        check_k(k, self.max_k)
        return related_articles(self.reader(), article_id, k)

    def stats(self) -> dict[str, object]:
        reader = self.reader()
        info = reader.info
        return {
            "articles": info.articles,
            "passages": info.passages,
            "model": info.encoder,
            "dim": info.dim,
            "backend": info.store,
            "version": info.version,
            "created": info.created,
            "index_bytes": reader.size_bytes(),
            "index_dir": self.backend.describe(),
            "sources": dict(reader.sources()[:20]),
        }

    def version(self) -> int:
        """The live version's number."""
        return self.reader().info.version

    def check(self) -> list[str]:
        return self.reader().check()

    # --- writes -----------------------------------------------------------------------------

    def add(self, articles: Iterable[Article], *, prune: bool = False, rebuild: bool = False) -> IndexReport:
        """Add or replace articles (unchanged ones cost nothing); visible to the next query."""
        report = self.indexer.upsert(articles, prune=prune, rebuild=rebuild)
        self._refresh()
        return report

    def delete(self, ids: Sequence[str]) -> IndexReport:
        report = self.indexer.delete(ids)
        self._refresh()
        return report

    def migrate(self, source: Backend) -> IndexReport:
        """Replace this service's index with a copy of `source`'s (another backend's index of this
        encoder and these settings), embedding nothing (see `embeddings.migration.migrate`)."""
        reader = source.open(self.encoder.identity)
        try:
            report = migrate(reader, self.indexer)
        finally:
            reader.close()
        self._refresh()
        return report

    def optimize(self) -> IndexReport:
        """Rewrite the live version in the backend's current layout (see `Indexer.optimize`)."""
        report = self.indexer.optimize()
        self._refresh()
        return report


def open_service(settings: Settings, *, progress: bool = False) -> QAService:
    """A service configured entirely from `settings` (the edge of the program builds them)."""
    encoder = load_encoder(
        settings.model_dir,
        settings.encoder,
        cache_dir=settings.encoder_cache_dir,
        batch_size=settings.batch_size,
        threads=settings.encoder_threads,
    )
    return QAService(
        create_backend(settings.backend, **settings.backend_options()),
        encoder,
        chunking=settings.chunking(encoder.max_tokens),
        retrieval=settings.retrieval,
        title_context=settings.title_context,
        reload_interval=settings.reload_interval,
        lock_timeout=settings.lock_timeout,
        progress=progress,
        max_k=settings.max_k,
        max_question_chars=settings.max_question_chars,
    )
