"""The Python API: one object over an index backend that answers, relates, adds and deletes."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.articles import Article
from embeddings.backends import UNDATED, Backend, Columns, Filters, IndexReader, create_backend
from embeddings.chunking import ChunkingConfig
from embeddings.encoders import Encoder, load_encoder
from embeddings.errors import (
    ArticleNotFoundError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    InvalidRequestError,
    QAError,
)
from embeddings.migration import migrate
from embeddings.progress import ProgressMode
from embeddings.writer import Indexer, IndexReport
from qa.hits import Answer, Hit, RelatedArticle, RelatedCopy
from qa.query_vectors import QueryVectors
from qa.retrieval import (
    Query,
    RetrievalConfig,
    collapses,
    copies_of,
    load_reranker,
    match,
    question_clock,
    read_query,
    retrieve,
)
from qa.retrieval.features import QueryFacts, asks_present
from qa.retrieval.highlighter import load_highlighter
from qa.retrieval.learned import fits_encoder, fitted_encoder, load_ranker, load_related_ranker, model_of
from qa.retrieval.pipeline import candidate_features
from qa.retrieval.query import without_time
from qa.retrieval.ranking import inside
from qa.retrieval.related import related_and_copies
from qa.settings import Settings
from qa.validation import check_date, check_dates, check_flag, check_k, check_many, check_question, check_text

logger = logging.getLogger(__name__)


class QAService:
    """Question answering over one index; thread-safe; sees other processes' writes.

    Example:
        >>> qa = QAService(Path("index"), load_encoder(None))
        >>> qa.ask("Who won the election?", k=3).hits[0].title

    Args:
        index: the backend holding the index, or a directory for the `local` backend.
        max_k, max_question_chars, max_article_chars: limits every caller (Python, CLI, HTTP) is
            held to.
    """

    def __init__(
        self,
        index: Backend | Path | str,
        encoder: Encoder,
        *,
        chunking: ChunkingConfig | None = None,
        retrieval: RetrievalConfig | None = None,
        title_context: bool = True,
        reload_interval: float = 0.25,
        lock_timeout: float = 60.0,
        progress: ProgressMode = "off",
        max_k: int = 100,
        max_question_chars: int = 1000,
        max_article_chars: int | None = 2_000_000,
    ) -> None:
        self.backend: Backend = (
            create_backend("local", root=Path(index)) if isinstance(index, (str, Path)) else index
        )
        self.encoder = encoder
        self.retrieval = retrieval or RetrievalConfig()
        self.reranker = load_reranker(self.retrieval.reranker)
        self.learned = load_model_files(self.retrieval)
        self.reload_interval = reload_interval
        self.max_k, self.max_question_chars = max_k, max_question_chars
        self.indexer = Indexer(
            self.backend,
            encoder,
            chunking or ChunkingConfig(max_tokens=encoder.max_tokens),
            title_context=title_context,
            lock_timeout=lock_timeout,
            progress=progress,
            max_article_chars=max_article_chars,
        )
        self._reader: IndexReader | None = None
        self._current: str | None = None
        self._damaged: dict[str, tuple[str, ...]] = {}  # version token -> its problems
        self._ways_out: dict[tuple[str, ...], str] = {}  # problems -> what recovers from them
        self._checked = 0.0
        self._lock = threading.Lock()
        self.queries = QueryVectors(encoder)

    # --- index state -------------------------------------------------------------------------

    def reader(self) -> IndexReader:
        """The live index version; re-opened when a writer (any process) published a newer one.

        A version found damaged (at open, by the cheap check of each reload, by `verify`) is never
        answered from again: every call raises `IndexCorruptError` until another version is live.
        """
        now = time.monotonic()
        reader = self._reader  # read once: a failed check elsewhere may set it to None meanwhile
        if reader is not None and now - self._checked < self.reload_interval:
            return reader
        with self._lock:
            self._checked = now
            try:
                return self._live_reader()
            except BaseException:
                # Refused once, refused until a check passes: the version answered from before
                # must not serve the calls of the next reload interval.
                self._reader, self._current = None, None
                raise

    def _live_reader(self) -> IndexReader:
        """`reader`'s checks and (re)opening (lock held)."""
        self._require_index()
        try:
            name = self.backend.live_version()
        except IndexCorruptError as exc:  # CURRENT itself names no version
            raise self._refusal(exc.problems) from exc
        if name in self._damaged:
            raise self._refusal(self._damaged[name])
        if name != self._current or self._reader is None:
            self._reader, self._current = None, None
            try:
                reader = self.backend.open(self.encoder.identity)
            except IndexCorruptError as exc:
                self._damaged[name] = exc.problems
                raise self._refusal(exc.problems) from exc
            # Requests that hold the old reader keep using it; it closes when unreferenced.
            self._reader, self._current = reader, name
        elif (problems := self._reader.check(full=False)) and self.backend.live_version() == name:
            self._reader, self._current = None, None
            self._damaged[name] = tuple(problems)
            raise self._refusal(problems)
        return self._reader

    def _refusal(self, problems: Sequence[str]) -> IndexCorruptError:
        """The error refusing a damaged live version, naming the way out that works for its
        problems (`qa repair`, or a rebuild when repair has nothing to recover from): worked out
        once for each set of problems, since it checks the versions kept to fall back to."""
        key = tuple(problems)
        if key not in self._ways_out:
            self._ways_out[key] = self.backend.way_out_of(key)
        return IndexCorruptError.of(key, self._ways_out[key])

    def verify(self, *, structure: bool = False) -> list[str]:
        """Check the live version in full (every checksum; with `structure`, the invariants between
        its parts); a damaged one is refused from then on. Its problems, one line each.

        The version is opened first: its files' signatures are taken before the checksums read
        them, so damage after this moment is caught by the reload checks, before by the hashes.
        """
        if not self.backend.exists():
            return []
        try:
            name = self.backend.live_version()
            self.reader()
        except IndexCorruptError as exc:  # damaged where open looks, or no version can be named
            return list(exc.problems)
        except QAError:
            pass  # e.g. built with another model: every read says so; the checksums still tell
        problems = self.backend.verify(structure=structure)
        if problems:
            with self._lock:
                self._damaged[name] = tuple(problems)
                if self._current == name:
                    self._reader, self._current = None, None
        return problems

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
        "last week") become a preferred window unless `since`/`until` are given: a hard one with
        the time filter (`RetrievalConfig.time_filter`) or when the question asks for nothing
        but news of that time. Relative ones are read against `as_of`; without it, against
        today, or against the archive's newest article when the archive ends before today
        (`Answer.interpreted` says which).

        Raises:
            InvalidRequestError: an empty or too long question, k out of range, since after until,
                an argument of the wrong type (one string for `sources`, a string for a date or
                for `interpret`).
        """
        question = check_question(question, self.max_question_chars)
        check_k(k, self.max_k)
        since, until = check_dates(since, until)
        as_of = check_date(as_of, "as_of")
        interpret = check_flag(interpret, "interpret")
        # Names as a form sends them: spaces around one are not part of it, an empty one asks nothing.
        sources = [s.strip() for s in check_many(sources, "sources") if s.strip()]
        reader = self.reader()
        request = self._request(reader, question, since, until, sources, as_of, interpret)
        hits = retrieve(reader, k=k, config=self.retrieval, reranker=self.reranker, **request.arguments)
        read = request.query.interpreted
        if read is not None:  # counted by the rule ranking prefers the window by
            days = np.array([h.date.toordinal() if h.date else UNDATED for h in hits], np.int64)
            read = replace(read, inside=int(inside(days, (read.since, read.until)).sum()))
        return Answer(question, hits, request.as_of, read, unknown_sources(reader, sources))

    def _request(
        self,
        reader: IndexReader,
        question: str,
        since: dt.date | None,
        until: dt.date | None,
        sources: Sequence[str] | None,
        as_of: dt.date | None,
        interpret: bool,
    ) -> _Request:
        """What `retrieve` is given for a question: its reading, vector, filters and as-of facts."""
        dated = as_of is not None
        newest, today = reader.max_date(), dt.date.today()
        clock = question_clock(as_of, newest, today)
        query = read_query(
            question,
            clock,
            interpret=interpret,
            explicit_dates=since is not None or until is not None,
            strip_time=self.retrieval.strip_time,
            time_filter=self.retrieval.time_filter,
        )
        as_of = as_of or today
        lexical_text = query.words if self.retrieval.lexical_time else query.text
        arguments: dict[str, Any] = {
            "question": query.text,
            "vector": self.queries.vector(query.text),
            "filters": Filters(since, until, tuple(sources or ()), as_of),
            "window": query.window,
            "window_filter": query.window_filter,
            # Recency is measured from the archive's own "now": the as-of date, or the newest
            # article when the archive ends earlier (an archive of 2024 asked in 2026).
            "as_of": min(as_of, newest) if newest else as_of,
            "dated": dated,
            "present": asks_present(question),
            "lexical_text": lexical_text,
        }
        # What `match` compares a passage with: the question without its time words, even when
        # they are not read as dates (the same words, the same match, however it was searched).
        words = query.text if interpret and self.retrieval.strip_time else without_time(question, clock.date)
        vector = arguments["vector"] if words == query.text else self.queries.vector(words)
        arguments["match_words"], arguments["match_vector"] = words, vector
        return _Request(query, as_of, arguments)

    def ranking_features(
        self, question: str, *, as_of: dt.date | None = None
    ) -> tuple[np.ndarray, Columns, np.ndarray]:
        """`(ids, columns, x)`: the candidates the learned ranking would score for `question` and
        their `(n, len(FEATURES))` features, read exactly as `ask` reads it (for fitting a ranker)."""
        reader = self.reader()
        question = check_question(question, self.max_question_chars)
        request = self._request(reader, question, None, None, None, as_of, True)
        a = request.arguments
        lexical = a["lexical_text"] if self.retrieval.lexical else None
        candidates = reader.candidates(a["vector"], lexical, self.retrieval.candidates, a["filters"])
        facts = QueryFacts(a["window"], a["as_of"], a["dated"], a["present"])
        return candidate_features(reader, candidates, facts, lexical)

    def search(
        self,
        question: str,
        k: int = 5,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        as_of: dt.date | None = None,
        interpret: bool = True,
    ) -> list[Hit]:
        """Similarity search for scripts: just the hits of `ask`, which takes the same filters."""
        answer = self.ask(
            question, k, since=since, until=until, sources=sources, as_of=as_of, interpret=interpret
        )
        return answer.hits

    def match_inputs(self, question: str, ids: Sequence[int]) -> np.ndarray:
        """The inputs of `qa.retrieval.match` for the passages `ids`, as `ask` computes them for
        `question` (for fitting the match model)."""
        reader = self.reader()
        request = self._request(
            reader, check_question(question, self.max_question_chars), None, None, None, None, True
        )
        a = request.arguments
        return match.inputs(reader, a["match_vector"], a["match_words"], np.asarray(ids, dtype=np.int64))

    def ask_batch(
        self,
        questions: Sequence[str],
        k: int = 5,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        as_of: dt.date | None = None,
        interpret: bool = True,
    ) -> list[Answer]:
        """Answer many questions under the same filters as `ask`; their embeddings are computed
        ahead, before the first is answered. A question the service refuses is named by its place
        (`questions[3]: question must not be empty`)."""
        checked = []
        for n, question in enumerate(check_many(questions, "questions")):
            try:
                checked.append(check_question(question, self.max_question_chars))
            except InvalidRequestError as exc:
                raise InvalidRequestError(f"questions[{n}]: {exc}") from None
        questions = checked
        self.prepare(questions)
        return [
            self.ask(q, k, since=since, until=until, sources=sources, as_of=as_of, interpret=interpret)
            for q in questions
        ]

    def prepare(self, questions: Sequence[str]) -> None:
        """Embed questions ahead of asking them, in one batch (the cache keeps the vectors)."""
        self.queries.vectors([q.strip() for q in questions])

    def article(self, article_id: str) -> Article:
        article = self.reader().article(check_text(article_id, "the article id"))
        if article is None:
            raise ArticleNotFoundError(f"no article with id {article_id!r}")
        return article

    def related(self, article_id: str, k: int = 5) -> list[RelatedArticle]:
        """The k articles most related to `article_id`: never itself, nor, in the modes that fold
        copies in, its syndicated copies (`copies`); see `retrieval.related`."""
        return self.related_with_copies(article_id, k)[0]

    def copies(self, article_id: str) -> list[RelatedCopy]:
        """The syndicated copies of an article (other articles holding one of its passages word for
        word) that `related` leaves out: none in the modes that list copies as related articles
        (`retrieval.collapses`). Raises ArticleNotFoundError for an unknown article."""
        reader = self.reader()
        own = reader.article_passages(check_text(article_id, "the article id"))
        if not len(own):
            raise ArticleNotFoundError(f"no article with id {article_id!r}")
        return copies_of(reader, article_id, own) if collapses(self.retrieval) else []

    def related_with_copies(
        self, article_id: str, k: int = 5
    ) -> tuple[list[RelatedArticle], list[RelatedCopy]]:
        """`related` and `copies` together, from one version of the index, the copies found once
        (what the API, the CLI and the evaluation show)."""
        check_k(k, self.max_k)
        aid = check_text(article_id, "the article id")
        return related_and_copies(self.reader(), aid, k, self.retrieval)

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
            "learned": [file.summary(self.encoder.identity) for file in self.learned],
        }

    def sources(self) -> list[tuple[str, int]]:
        """`(source, articles)` pairs of the live index, most articles first."""
        return self.reader().sources()

    def newest(self) -> dt.date | None:
        """The newest article's date: where an archive of the past ends (None when nothing is dated)."""
        return self.reader().max_date()

    def version(self) -> int:
        """The live version's number."""
        return self.reader().info.version

    def check(self) -> list[str]:
        """Every problem of the live version (checksums and structure), one line each."""
        return self.backend.verify()

    # --- writes -----------------------------------------------------------------------------

    def add(
        self,
        articles: Iterable[Article],
        *,
        prune: bool | Callable[[], bool] = False,
        rebuild: bool = False,
        total: int | None = None,
    ) -> IndexReport:
        """Add or replace articles (unchanged ones cost nothing); visible to the next query.
        `prune` deletes the indexed articles not among them (see `Indexer.upsert`).

        `total`, the number of articles when known (`embeddings.readers.count_articles`), gives
        the progress bar its percentage and ETA.
        """
        if isinstance(articles, (Article, str, bytes, Mapping)):
            got = type(articles).__name__
            raise InvalidRequestError(f"articles must be an iterable of Article, got one {got}")
        report = self.indexer.upsert(articles, prune=prune, rebuild=rebuild, total=total)
        self._refresh()
        return report

    def delete(self, ids: Sequence[str]) -> IndexReport:
        """Remove articles by id (a list: one string on its own is refused, not read as its
        characters); unknown ids are listed in the report's `missing`."""
        report = self.indexer.delete(check_many(ids, "ids"))
        self._refresh()
        return report

    def repair(self) -> list[str]:
        """Recover a damaged live version (see `Indexer.repair`); what was done, one line each."""
        self._require_index()  # a mistyped --index-dir gets no folder and lock file made for it
        lines = self.indexer.repair()
        self._refresh()
        return lines

    def _require_index(self) -> None:
        if not self.backend.exists():
            raise IndexNotFoundError(
                f"no index at {self.backend.describe()} (build one with `qa index PATH`)"
            )

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


@dataclass(frozen=True, slots=True)
class _Request:
    """A question as `ask` reads it: its query, the as-of day and the keyword arguments of `retrieve`."""

    query: Query
    as_of: dt.date
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LearnedFile:
    """A learned file the configuration uses: its role, its path (None: the package's file, which
    a `qa train-*` run without `--out` rewrites), what it records of its fit, and the command that
    refits it."""

    name: str
    path: Path | None
    about: dict[str, Any]
    refit: str

    def summary(self, encoder: str) -> dict[str, object]:
        """What `stats` says of it for a service embedding with `encoder`: whether it was fitted on
        this model's vectors (`fits`; a file that records no model is taken to fit)."""
        data = self.about.get("data")
        return {
            "name": self.name,
            "packaged": self.path is None,
            "data": None if data is None else str(data),
            "encoder": fitted_encoder(self.about),
            "fits": fits_encoder(self.about, encoder),
        }


def load_model_files(config: RetrievalConfig) -> list[LearnedFile]:
    """Read the learned files `config` uses (ranker, highlighter, match model, related ranker), so
    that a missing or stale one fails at once with one line (`RankerError`), not per question."""
    found = []
    if config.ranking == "learned":
        about = load_ranker(config.ranker_path).about
        found.append(LearnedFile("ranker", config.ranker_path, about, "qa train-ranker"))
    if config.highlight and config.highlighter == "learned":
        about = load_highlighter(config.highlighter_path).about
        found.append(LearnedFile("highlighter", config.highlighter_path, about, "qa train-highlighter"))
    if config.match:
        about = match.load_match(config.match_path).about
        found.append(LearnedFile("match", config.match_path, about, "qa train-match"))
    if config.related == "learned":
        about = load_related_ranker(config.related_ranker_path).about
        refit = "qa train-ranker --related"
        found.append(LearnedFile("related ranker", config.related_ranker_path, about, refit))
    return found


def warn_unfitted(files: Sequence[LearnedFile], encoder: str) -> None:
    """Log, for each of `files` fitted on another model's vectors than `encoder`'s, what to refit.
    (The match model also leaves every `match` null then: `learned.fits_encoder`.)"""
    for file in files:
        if not fits_encoder(file.about, encoder):
            where = "the package's" if file.path is None else str(file.path) + ":"
            matches = file.name == "match"
            name = "match model" if matches else file.name
            effect = "hits get no match" if matches else "its weights misjudge this model's scores"
            logger.warning(
                "%s %s was fitted on %s's vectors, and this service embeds with %s: %s;"
                " refit it on your questions (`%s`)",
                where,
                name,
                fitted_encoder(file.about),
                model_of(encoder),
                effect,
                file.refit,
            )


def warn_mismatched(service: QAService) -> None:
    """Log that the index was built with another model than the service's: a server still starts
    (the index may be rebuilt under it), but answers nothing, and its log should say why."""
    try:
        service.reader()
    except IndexMismatchError as exc:
        logger.error("%s; until then every request that reads the index is refused (503)", exc)
    except QAError:
        pass  # no index yet, or a damaged one: `/health` and every request say so


def unknown_sources(reader: IndexReader, asked: Sequence[str]) -> tuple[str, ...]:
    """The names in `asked` that no article of the version is from, matched as the filters match
    them (without regard to case): said with the answer, since a misspelt source finds nothing."""
    if not asked:
        return ()
    held = {name.lower() for name, _ in reader.sources()}
    unknown: dict[str, str] = {}  # by lowered name: the first spelling asked
    for name in asked:
        if name.lower() not in held:
            unknown.setdefault(name.lower(), name)
    return tuple(unknown.values())


def open_service(settings: Settings, *, progress: ProgressMode = "off", verify: bool = True) -> QAService:
    """A service configured entirely from `settings` (the edge of the program builds them).

    With `verify` and `settings.verify_on_start`, every checksum of the live version is checked
    before the first answer, as `qa serve` does: a script never answers from a damaged index. The
    CLI and the app pass False and check at their own moment (`qa ask`, the app's start-up).
    """
    encoder = load_encoder(
        settings.model_dir,
        settings.encoder,
        cache_dir=settings.encoder_cache_dir,
        batch_size=settings.batch_size,
        threads=settings.encoder_threads,
    )
    service = QAService(
        create_backend(settings.backend, **settings.backend_options()),
        encoder,
        chunking=settings.chunking(encoder.max_tokens),
        retrieval=settings.retrieval,
        title_context=settings.title_context,
        reload_interval=settings.reload_interval,
        lock_timeout=settings.lock_timeout,
        progress=progress,
        max_k=settings.max_k,
        max_article_chars=settings.max_article_chars,
        max_question_chars=settings.max_question_chars,
    )
    if verify and settings.verify_on_start:
        service.verify()  # a damaged version is refused by every read from then on
    return service
