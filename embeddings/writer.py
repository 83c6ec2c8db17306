"""The writer: read articles, chunk them, embed what is new and hand them to a backend in one transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from itertools import islice

import numpy as np

from embeddings.articles import Article, Passage, article_problem
from embeddings.backends.base import (
    ArticleWrite,
    Backend,
    IndexInfo,
    IndexSpec,
    PassageDraft,
    PassageRow,
    WriteTransaction,
)
from embeddings.chunking import ChunkingConfig, chunk_article
from embeddings.encoders import Encoder
from embeddings.errors import InvalidArticleError
from embeddings.progress import ProgressMode, progress_bar
from embeddings.text import split_sentences

# An article to write: itself, its content hash, its passages and the texts to embed for them.
Prepared = tuple[Article, str, list[Passage], list[str]]

TITLE_TOKENS = 48  # the most of a title that is embedded with each passage
BATCH_ARTICLES = 128
# Passages embedded per encoder call: a batch of articles holds ~1,500 passages (~40 s on two
# idle cores), so progress is reported every few seconds rather than once a batch.
EMBED_SLICE = 128

Advance = Callable[[int, int], None]  # (articles finished, passages embedded) since the last call


@dataclass(slots=True)
class IndexReport:
    """What one indexing run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    deleted: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)  # ids given again after their first: not written
    passages_embedded: int = 0
    passages_reused: int = 0
    version: int | None = None
    articles: int = 0
    passages: int = 0

    def summary(self) -> dict[str, object]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": self.unchanged,
            "deleted": len(self.deleted),
            "missing": self.missing,
            "passages_embedded": self.passages_embedded,
            "passages_reused": self.passages_reused,
            "version": self.version,
            "articles": self.articles,
            "passages": self.passages,
        }


def passage_context(title: str, passage: Passage, position: int) -> str:
    """The text actually embedded: the article title, then the passage (title not repeated)."""
    if not title or (position == 0 and passage.text.startswith(title)):
        return passage.text
    return f"{title}\n{passage.text}"


def embed_hash(text: str) -> str:
    """Hash of the exact text embedded: equal means the same vector (the embedding cache's key)."""
    return hashlib.sha1(text.encode()).hexdigest()[:20]


def normalized_hash(text: str) -> str:
    """Hash of a passage's words, case- and spacing-insensitive: equal for syndicated copies."""
    return hashlib.sha1(" ".join(text.lower().split()).encode()).hexdigest()[:20]


class Indexer:
    """Applies article additions, updates and deletions to an index directory.

    Unchanged articles cost nothing; changed ones are re-chunked, and any passage whose embedded
    text was already in the index reuses its stored vector instead of being embedded again.
    """

    def __init__(
        self,
        backend: Backend,
        encoder: Encoder,
        chunking: ChunkingConfig,
        *,
        title_context: bool = True,
        lock_timeout: float = 600.0,
        progress: ProgressMode = "off",
        commit_every: int = 5000,
        max_article_chars: int | None = None,
    ) -> None:
        self.backend, self.encoder, self.chunking = backend, encoder, chunking
        self.max_article_chars = max_article_chars  # longer texts are refused (None: any length)
        self.title_context, self.lock_timeout, self.progress = title_context, lock_timeout, progress
        self.commit_every = commit_every  # passages embedded between published versions (0: at the end)

    @property
    def settings(self) -> dict[str, object]:
        """Everything besides an article's own content that decides its passages and vectors."""
        return {
            **asdict(self.chunking),
            "title_context": self.title_context,
            "encoder": self.encoder.identity,
        }

    def upsert(
        self,
        articles: Iterable[Article],
        *,
        prune: bool | Callable[[], bool] = False,
        rebuild: bool = False,
        on_progress: Callable[[int], None] | None = None,
        total: int | None = None,
    ) -> IndexReport:
        """Add or replace articles; of several with one id, the first is written (the others'
        ids are in the report's `repeated`).

        With `prune`, indexed articles absent from `articles` are deleted (a callable is asked
        once every article has been read: a reader that skipped a malformed record can say no,
        since the record's article would be taken for gone); with `rebuild`, the new version
        starts empty (e.g. after a model change), reusing nothing. `total` is how many articles
        `articles` holds, when known, for the progress bar's percentage and ETA.
        """
        report = IndexReport()
        with self.backend.writer(self.lock_timeout):
            txn = self.backend.begin(self.spec, fresh=rebuild)
            bar = progress_bar(self.progress, total)
            embedded = 0

            def advance(articles: int, passages: int) -> None:
                nonlocal embedded
                embedded += passages
                bar.set_postfix_str(f"{embedded} passages embedded", refresh=False)
                bar.update(articles)

            try:
                seen: set[str] = set()
                since_commit = 0
                with ThreadPoolExecutor(1) as pool:  # chunk the next batch while this one embeds
                    batches = _batches(articles, BATCH_ARTICLES)

                    def read_ahead(t: WriteTransaction) -> tuple[int, list[Prepared]] | None:
                        batch = next(batches, [])
                        prepared = self._prepare(t, batch, seen, report)
                        return None if prepared is None else (len(batch), prepared)

                    pending = pool.submit(read_ahead, txn)
                    while True:
                        ready = pending.result()
                        if ready is None:
                            break
                        read, prepared = ready
                        pending = pool.submit(read_ahead, txn)
                        advance(read - len(prepared), 0)  # unchanged and repeated articles are done
                        done = self._write(txn, prepared, report, advance)
                        if on_progress:
                            on_progress(done)
                        since_commit += done
                        if self.commit_every and since_commit >= self.commit_every:
                            # Publish progress, so a long build that dies resumes instead of restarting.
                            # The batch being read ahead used the old transaction only for look-ups
                            # of unchanged content, which the published version still holds.
                            wait([pending])
                            _record(report, txn.commit())
                            txn, since_commit = self.backend.begin(self.spec), 0
                if prune() if callable(prune) else prune:
                    stale = sorted(set(txn.article_ids()) - seen)
                    self._delete(txn, stale, report)
                _record(report, txn.commit())
                bar.total = bar.n  # skipped records never reach the writer: end at 100 %
            except BaseException:
                txn.abort()
                raise
            finally:
                bar.close()
        return report

    def delete(self, ids: Sequence[str]) -> IndexReport:
        """Remove articles (and their passages) by id; unknown ids are listed in `missing`."""
        self.backend.live_version()  # raises IndexNotFoundError: nothing to delete from
        report = IndexReport()
        with self._writing() as txn:
            self._delete(txn, list(dict.fromkeys(ids)), report)
            _record(report, txn.commit())
        return report

    def optimize(self) -> IndexReport:
        """Publish the live content again in the current layout, re-embedding nothing.

        The new version has the backend's current layout (for the local backend: every passage's
        sentence spans, the vector index kind its size calls for under the current store options,
        and a lexical index built afresh: writes reuse stored tokens, so its vocabulary keeps words
        of deleted passages).
        """
        self.backend.live_version()  # raises IndexNotFoundError
        report = IndexReport()
        with self._writing() as txn:
            txn.compact()
            _record(report, txn.commit())
        return report

    def repair(self) -> list[str]:
        """Recover a damaged live version under the writer lock (see `Backend.repair`); passages no
        intact version holds a vector for are embedded again, as they were written."""
        with self.backend.writer(self.lock_timeout):
            return self.backend.repair(self.embed_rows, encoder=self.encoder.identity)

    def embed_rows(self, rows: Sequence[PassageRow]) -> np.ndarray:
        """Vectors `(len(rows), dim)` of stored passages, from the text the writer embeds for them."""
        texts = [
            passage_context(
                self.title_prefix(r.title),
                Passage(r.article_id, r.position, r.start, r.end, r.text),
                r.position,
            )
            for r in rows
        ]
        return self.encoder.encode_documents(texts) if texts else np.empty((0, self.encoder.dim), np.float32)

    @property
    def spec(self) -> IndexSpec:
        return IndexSpec(self.encoder.identity, self.encoder.dim, self.settings)

    @contextmanager
    def _writing(self) -> Iterator[WriteTransaction]:
        """One transaction under the writer lock; an exception aborts it and publishes nothing."""
        with self.backend.writer(self.lock_timeout):
            txn = self.backend.begin(self.spec)
            try:
                yield txn
            except BaseException:
                txn.abort()
                raise

    # --- steps ------------------------------------------------------------------------------

    def _prepare(
        self, txn: WriteTransaction, batch: list[Article], seen: set[str], report: IndexReport
    ) -> list[Prepared] | None:
        """Chunk the articles of a batch that are new or changed (runs beside the encoder)."""
        if not batch:
            return None
        for article in batch:
            if not isinstance(article, Article):  # e.g. a record dict from a script
                raise InvalidArticleError("articles", f"not an Article (got {type(article).__name__})")
            if (problem := article_problem(article, self.max_article_chars)) is not None:
                raise InvalidArticleError(f"article {article.id!r}", problem)
        first = []  # of several articles with one id, the first (`qa index` reports the others)
        for article in batch:
            if article.id not in seen:
                seen.add(article.id)
                first.append(article)
            else:
                report.repeated.append(article.id)
        batch = first
        hashes = {a.id: self.content_hash(a) for a in batch}
        stored = txn.content_hashes([a.id for a in batch])
        out = []
        for article in batch:
            if stored.get(article.id) == hashes[article.id]:
                report.unchanged += 1
                continue
            (report.updated if article.id in stored else report.added).append(article.id)
            title = self.title_prefix(article.title)
            config = ChunkingConfig(
                self.chunking.size,
                self.chunking.overlap,
                self.encoder.max_tokens,
                self.encoder.count_tokens([title])[0] + 1 if title else 0,
            )
            passages = chunk_article(article, self.encoder.count_tokens, config)
            texts = [passage_context(title, p, p.position) for p in passages]
            out.append((article, hashes[article.id], passages, texts))
        return out

    def _write(
        self, txn: WriteTransaction, prepared: list[Prepared], report: IndexReport, advance: Advance
    ) -> int:
        """Embed the passages whose embedded text is new (others reuse their stored vector) and
        hand the batch to the transaction; `advance` hears of each article once its passages
        are embedded."""
        texts = [t for *_, ts in prepared for t in ts]
        embed_hashes = [embed_hash(t) for t in texts]
        cached = txn.cached_vectors(embed_hashes)
        vectors = np.empty((len(texts), self.encoder.dim), np.float32)
        reuse = [i for i, h in enumerate(embed_hashes) if h in cached]
        if reuse:
            vectors[reuse] = np.stack([cached[embed_hashes[i]] for i in reuse])
        fresh = [i for i, h in enumerate(embed_hashes) if h not in cached]
        # Per article, its last passage to embed (-1: none); an article is done once that one is.
        last_fresh = np.full(len(prepared), -1)
        ends = np.cumsum([len(ts) for *_, ts in prepared])
        for i in fresh:
            last_fresh[np.searchsorted(ends, i, side="right")] = i
        last_fresh.sort()
        finished = int(np.searchsorted(last_fresh, -1, side="right"))
        advance(finished, 0)
        for start in range(0, len(fresh), EMBED_SLICE):
            part = fresh[start : start + EMBED_SLICE]
            vectors[part] = self.encoder.encode_documents([texts[i] for i in part])
            now = int(np.searchsorted(last_fresh, part[-1], side="right"))
            advance(now - finished, len(part))
            finished = now
        report.passages_reused += len(reuse)
        report.passages_embedded += len(fresh)
        writes, row = [], 0
        for article, content_hash, passages, _ in prepared:
            drafts = [
                PassageDraft(
                    p.position,
                    p.start,
                    p.end,
                    normalized_hash(p.text),
                    embed_hashes[row + n],
                    split_sentences(p.text),  # the highlight's sentences, split once here
                )
                for n, p in enumerate(passages)
            ]
            writes.append(ArticleWrite(article, content_hash, drafts, vectors[row : row + len(passages)]))
            row += len(passages)
        txn.put(writes)
        return len(texts)

    def _delete(self, txn: WriteTransaction, ids: list[str], report: IndexReport) -> None:
        deleted = set(txn.delete(ids))
        report.missing += [i for i in ids if i not in deleted]
        report.deleted += [i for i in ids if i in deleted]

    def content_hash(self, article: Article) -> str:
        """Hash of the article's content and the settings: equal means its passages are current."""
        fields = [article.id, article.title, article.text, str(article.date), article.source, article.url]
        payload = json.dumps([fields, self.settings], sort_keys=True, default=str)
        return hashlib.sha1(payload.encode()).hexdigest()

    def title_prefix(self, title: str) -> str:
        """The part of a title embedded with each passage ("" without title context)."""
        if not self.title_context or not title:
            return ""
        words = title.split()
        while words and self.encoder.count_tokens([" ".join(words)])[0] > TITLE_TOKENS:
            words = words[: max(1, len(words) * 3 // 4)] if len(words) > 1 else []
        return " ".join(words)


def _record(report: IndexReport, info: IndexInfo) -> None:
    report.version, report.articles, report.passages = info.version, info.articles, info.passages


def _batches(items: Iterable[Article], size: int) -> Iterator[list[Article]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch
