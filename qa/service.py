"""The Python API: one object that opens an index directory and answers, relates, adds and deletes."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from embeddings.articles import Article
from embeddings.chunking import ChunkingConfig
from embeddings.encoders import load_encoder
from embeddings.encoding import Encoder
from embeddings.errors import ArticleNotFoundError, IndexNotFoundError
from embeddings.index import IndexDirectory, Snapshot
from embeddings.indexing import Indexer, IndexReport
from qa.hits import Answer, Hit, Interpretation, RelatedArticle
from qa.retriever import Filters, RetrievalConfig, allowed_ids, retrieve
from qa.settings import Settings
from qa.timeparse import interpret_time
from qa.validation import check_dates, check_k, check_question

QUERY_CACHE = 1024


class QAService:
    """Question answering over one index directory; thread-safe; sees other processes' writes.

    Example:
        >>> qa = QAService(Path("index"), load_encoder(None))
        >>> qa.ask("Who won the election?", k=3).hits[0].title
    """

    def __init__(
        self,
        index_dir: Path,
        encoder: Encoder,
        *,
        chunking: ChunkingConfig | None = None,
        retrieval: RetrievalConfig | None = None,
        backend: str = "faiss",
        store_options: dict[str, object] | None = None,
        title_context: bool = True,
        reload_interval: float = 1.0,
        lock_timeout: float = 60.0,
        progress: bool = False,
        max_k: int = 100,
        max_question_chars: int = 1000,
    ) -> None:
        self.directory = IndexDirectory(index_dir)
        self.encoder = encoder
        self.retrieval = retrieval or RetrievalConfig()
        self.store_options = store_options or {}
        self.reload_interval = reload_interval
        self.max_k, self.max_question_chars = max_k, max_question_chars
        self.indexer = Indexer(
            self.directory,
            encoder,
            chunking or ChunkingConfig(max_tokens=encoder.max_tokens),
            backend=backend,
            store_options=self.store_options,
            title_context=title_context,
            lock_timeout=lock_timeout,
            progress=progress,
        )
        self._snapshot: Snapshot | None = None
        self._current: str | None = None
        self._max_date: dt.date | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()

    # --- index state -------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The live index version; re-read when another writer published a newer one."""
        now = time.monotonic()
        if self._snapshot is not None and now - self._checked < self.reload_interval:
            return self._snapshot
        with self._lock:
            self._checked = now
            name = self.directory.current_name() if self.directory.exists() else None
            if name is None:
                raise IndexNotFoundError(
                    f"no index at {self.directory.root} (build one with `qa index PATH`)"
                )
            if name != self._current or self._snapshot is None:
                # Requests that hold the old snapshot keep using it; it closes when unreferenced.
                self._snapshot = self.directory.open(self.encoder.identity, self.store_options)
                self._current, self._max_date = name, self._snapshot.meta.max_date()
            return self._snapshot

    def exists(self) -> bool:
        return self.directory.exists()

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
        """
        question = check_question(question, self.max_question_chars)
        check_k(k, self.max_k)
        check_dates(since, until)
        as_of = as_of or dt.date.today()
        snapshot = self.snapshot()
        window = None
        interpreted = interpret_time(question, as_of) if interpret else None
        if interpreted and since is None and until is None:
            window = (interpreted.since, interpreted.until)
            interpreted_out = Interpretation(interpreted.since, interpreted.until, interpreted.text)
        else:
            interpreted_out = None
        filters = Filters(since, until, tuple(sources or ()), as_of)
        allowed = allowed_ids(snapshot, filters, self._max_date)
        # Once a time expression is a date window, its words ("this week") only add noise to matching.
        text = _without(question, interpreted.text) if interpreted and self.retrieval.strip_time else question
        hits = retrieve(
            snapshot,
            text,
            self._embed_query(text),
            k,
            allowed=allowed,
            window=window,
            # Recency is measured from the archive's own "now": the as-of date, or the newest
            # article when the archive ends earlier (an archive of 2024 asked in 2026).
            as_of=min(as_of, self._max_date) if self._max_date else as_of,
            config=self.retrieval,
        )
        return Answer(question, hits, as_of, interpreted_out)

    def search(self, question: str, k: int = 5, **filters: object) -> list[Hit]:
        """Similarity search for scripts: just the hits of `ask`."""
        return self.ask(question, k, **filters).hits  # type: ignore[arg-type]

    def ask_batch(self, questions: Sequence[str], k: int = 5, **filters: object) -> list[Answer]:
        """Answer many questions; their embeddings are computed in one batch."""
        questions = [check_question(q, self.max_question_chars) for q in questions]  # before any work
        self.prepare(questions)
        return [self.ask(q, k, **filters) for q in questions]  # type: ignore[arg-type]

    def prepare(self, questions: Sequence[str]) -> None:
        """Embed questions ahead of asking them, in one batch (the cache keeps the vectors)."""
        self._embed_queries([q.strip() for q in questions])

    def article(self, article_id: str) -> Article:
        article = self.snapshot().meta.article(article_id)
        if article is None:
            raise ArticleNotFoundError(f"no article with id {article_id!r}")
        return article

    def related(self, article_id: str, k: int = 5) -> list[RelatedArticle]:
        """The k articles most similar to `article_id` (never itself), by passage similarity."""
        check_k(k, self.max_k)
        snapshot = self.snapshot()
        own = snapshot.meta.passage_ids(article_id)
        if not len(own):
            raise ArticleNotFoundError(f"no article with id {article_id!r}")
        centroid = snapshot.store.vectors(own).mean(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        scores, ids = snapshot.store.search(centroid.reshape(1, -1), len(own) + 20 * k)
        best: dict[str, float] = {}
        rows = snapshot.meta.passages(int(i) for i in ids[0] if i >= 0)
        for score, pid in zip(scores[0], ids[0], strict=True):
            row = rows.get(int(pid))
            if row is not None and row.article_id != article_id and row.article_id not in best:
                best[row.article_id] = float(score)
        out = []
        for aid, score in sorted(best.items(), key=lambda kv: -kv[1])[:k]:
            a = snapshot.meta.article(aid)
            if a is not None:
                out.append(RelatedArticle(a.id, a.title, a.date, a.source, a.url, score))
        return out

    def stats(self) -> dict[str, object]:
        snapshot = self.snapshot()
        m = snapshot.manifest
        return {
            "articles": m.articles,
            "passages": m.passages,
            "model": m.encoder,
            "dim": m.dim,
            "backend": m.backend,
            "version": m.version,
            "created": m.created,
            "index_bytes": snapshot.size_bytes(),
            "index_dir": str(self.directory.root),
            "sources": dict(snapshot.meta.sources()[:20]),
        }

    def check(self) -> list[str]:
        return self.snapshot().check()

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

    def optimize(self) -> IndexReport:
        """Rewrite the live version in the current layout (see `Indexer.optimize`)."""
        report = self.indexer.optimize()
        self._refresh()
        return report

    # --- query embedding cache --------------------------------------------------------------

    def clear_query_cache(self) -> None:
        with self._lock:
            self._queries.clear()

    def _embed_query(self, question: str) -> np.ndarray:
        return self._embed_queries([question])[0]

    def _embed_queries(self, questions: Sequence[str]) -> list[np.ndarray]:
        missing = list(dict.fromkeys(q for q in questions if q not in self._queries))
        if missing:
            # One question at a time: int8 activations are quantised per batch, so a vector
            # computed beside other questions would differ (slightly) from the same question alone.
            vectors = [self.encoder.encode_queries([q])[0] for q in missing]
            with self._lock:
                for q, v in zip(missing, vectors, strict=True):
                    self._queries[q] = v
                while len(self._queries) > QUERY_CACHE:
                    self._queries.popitem(last=False)
        out = []
        for q in questions:
            v = self._queries.get(q)
            out.append(v if v is not None else self.encoder.encode_queries([q])[0])
        return out


def _without(question: str, expressions: str) -> str:
    for expression in expressions.split("; "):
        question = question.replace(expression, " ")
    return " ".join(question.split()) or question


def open_service(settings: Settings, *, progress: bool = False) -> QAService:
    """A service configured entirely from `settings` (the edge of the program builds them)."""
    import faiss

    # OpenMP is one pool per process, shared by FAISS and PyTorch. A single query's search gains
    # nothing from more threads, and an idle OpenMP worker spinning after an exact search slows
    # ONNX Runtime's next question (8.3 vs 5.0 ms p50 on a small index), so with the ONNX
    # encoders FAISS gets one thread. With the torch encoder the pool is PyTorch's: one thread
    # there would halve indexing (42.7 -> 23.5 passages/s).
    threads = settings.search_threads or (None if settings.encoder == "torch" else 1)
    if threads is not None:
        faiss.omp_set_num_threads(threads)
    encoder = load_encoder(
        settings.model_dir,
        settings.encoder,
        cache_dir=settings.encoder_cache_dir,
        batch_size=settings.batch_size,
        threads=settings.encoder_threads,
    )
    return QAService(
        settings.index_dir,
        encoder,
        chunking=settings.chunking(encoder.max_tokens),
        retrieval=settings.retrieval(),
        backend=settings.backend,
        store_options=dict(settings.store_options),
        title_context=settings.title_context,
        reload_interval=settings.reload_interval,
        lock_timeout=settings.lock_timeout,
        progress=progress,
        max_k=settings.max_k,
        max_question_chars=settings.max_question_chars,
    )
