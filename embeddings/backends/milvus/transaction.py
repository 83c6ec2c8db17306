"""A Milvus write transaction: rows written under a new version number, committed by one log row."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pymilvus import MilvusClient

from embeddings.backends.base import UNDATED, ArticleWrite, IndexInfo, IndexSpec
from embeddings.backends.milvus import expr, log, terms, upkeep
from embeddings.backends.milvus.log import LIMIT, Commit, Snapshot
from embeddings.backends.milvus.rows import article_rows, passage_rows
from embeddings.backends.milvus.scan import scan, scan_batches
from embeddings.backends.milvus.schema import PAD, Collections

_ARTICLES_PER_QUERY = 200  # articles whose passages one query reads (well below the query window)


@dataclass(frozen=True, slots=True)
class _Put:
    """What this transaction wrote for one article, to undo its counts if the article goes again."""

    content_hash: str
    source: str | None
    day: int


class MilvusTransaction:
    """Implements `embeddings.backends.base.WriteTransaction` as version `base.version + 1`.

    Rows are inserted as they come with that version, which no reader selects before the commit
    row exists (`log.py`); articles this transaction replaces or deletes are only listed, and their
    old rows deleted after the commit. Counts, sources and per-term document frequencies are
    carried from the base commit and changed by this transaction's own writes.
    """

    def __init__(
        self,
        client: MilvusClient,
        names: Collections,
        spec: IndexSpec,
        base: Snapshot | None,
        *,
        fresh: bool,
        store: str,
        lite: bool,
    ) -> None:
        self.client, self.names, self.spec, self.store, self.lite = client, names, spec, store, lite
        self.latest = base  # the commit this one follows (what a transaction that changed nothing keeps)
        self.base = None if fresh else base  # the content the changes apply to
        self.version = base.version + 1 if base else 1
        self.floor = self.version if fresh or base is None else base.commit.floor
        head = base.commit if base else None
        self.next = [head.next_passage, head.next_article, head.next_text] if head else [0, 0, 0]
        kept = self.base.commit if self.base else None
        self.articles, self.passages = (kept.info.articles, kept.info.passages) if kept else (0, 0)
        self.sources: Counter[str] = Counter(kept.sources if kept else {})
        self.max_day, self.max_day_stale = (kept.max_day if kept else UNDATED), False
        # Passages per week and per source key (`log.week`); counted afresh at the commit over a
        # base of an earlier release.
        self.weeks: Counter[int] = Counter(kept.weeks or {} if kept else {})
        self.source_passages: Counter[str] = Counter(kept.source_passages or {} if kept else {})
        self.recount = kept is not None and (kept.weeks is None or kept.source_passages is None)
        self.df: Counter[str] = Counter()  # this transaction's change of each term's document frequency
        self.retired: list[str] = []  # base articles replaced or deleted
        self.mine: dict[str, _Put] = {}
        self.dirty = self.compacting = self.sealed = False
        self._lock = threading.Lock()  # the writer reads ahead in another thread

    # --- reads of the content being changed ---------------------------------------------------

    def content_hashes(self, article_ids: Sequence[str]) -> dict[str, str]:
        out = {r["article_id"]: r["content_hash"] for r in self._base_heads(article_ids, ["content_hash"])}
        with self._lock:
            retired = set(self.retired)
            out = {aid: h for aid, h in out.items() if aid not in retired}
            out |= {aid: self.mine[aid].content_hash for aid in article_ids if aid in self.mine}
        return out

    def article_ids(self) -> list[str]:
        ids = set()
        if self.base is not None:
            where = f"({self.base.visible()}) and part == 0"
            ids = {r["article_id"] for r in scan(self.client, self.names.articles, where, ["article_id"])}
        with self._lock:
            return sorted((ids - set(self.retired)) | set(self.mine))

    def cached_vectors(self, embed_hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors of any row at or above the floor: retired rows still hold the right vector."""
        out: dict[str, np.ndarray] = {}
        for part in expr.chunks(sorted(set(embed_hashes))):
            where = f"version >= {self.floor} and embed_hash in {expr.strings(part)}"
            for row in self._query(self.names.passages, where, ["embed_hash", "dense"]):
                out.setdefault(row["embed_hash"], np.asarray(row["dense"], dtype=np.float32))
        return out

    # --- changes ------------------------------------------------------------------------------

    def put(self, writes: Sequence[ArticleWrite]) -> None:
        if not writes:
            return
        self.dirty = True
        ids = [w.article.id for w in writes]
        self._undo_own([i for i in ids if i in self.mine])
        self._retire(ids)
        title_context = bool(self.spec.settings.get("title_context", True))
        numbers = self._text_numbers([p.text_hash for w in writes for p in w.passages])
        passages, articles = [], []
        for write in writes:
            article_no, first = self._allocate(len(write.passages))
            rows = passage_rows(self.version, write, article_no, first, numbers, title_context=title_context)
            passages += rows
            articles += article_rows(self.version, write, article_no)
            self._count(write, terms.counted([r["terms"] for r in rows]))
        for part in expr.chunks(passages):
            self.client.insert(self.names.passages, list(part))
        for part in expr.chunks(articles, 100):
            self.client.insert(self.names.articles, [row | {"pad": PAD} for row in part])

    def delete(self, article_ids: Sequence[str]) -> list[str]:
        own = [i for i in dict.fromkeys(article_ids) if i in self.mine]
        self._undo_own(own)
        present = set(own) | set(self._retire(article_ids))
        self.dirty = self.dirty or bool(present)
        return [i for i in article_ids if i in present]

    def compact(self) -> None:
        """A new version that purges at once, and a server asked to compact its segments (Milvus
        Lite compacts by itself after each flush)."""
        self.dirty = self.compacting = True

    # --- ending -------------------------------------------------------------------------------

    def commit(self) -> IndexInfo:
        if not self.dirty and self.latest is not None:
            return self.latest.commit.info
        base = self.base.versions() if self.base is not None else None
        changed = terms.write(self.client, self.names, self.version, base, self.df)
        seq = log.retire(self.client, self.names, self.version, "articles", self.retired, 1)
        if self.base is not None:  # a fresh version's floor already hides every older term row
            log.retire(self.client, self.names, self.version, "terms", changed, seq)
        commit = self._commit()
        log.seal(self.client, self.names, commit)
        self.sealed = True
        if self.lite:  # Milvus Lite searches unflushed rows by rebuilding their index per search
            for name in (*self.names.data, self.names.log):
                self.client.flush(name)
        upkeep.purge(self.client, self.names, log.rows(self.client, self.names, "Strong"), Snapshot(commit))
        if self.compacting and not self.lite:
            self.client.compact(self.names.passages)
        return commit.info

    def abort(self) -> None:
        """Delete this transaction's rows (a dead writer's are deleted by the next one)."""
        if not self.sealed:
            upkeep.clear_leftovers(self.client, self.names, self.version - 1)

    def _commit(self) -> Commit:
        created = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        spec = self.spec
        info = IndexInfo(
            self.version,
            spec.encoder,
            spec.dim,
            self.store,
            self.articles,
            self.passages,
            created,
            spec.settings,
        )
        sources = {s: n for s, n in sorted(self.sources.items()) if n > 0}
        newest = self._newest_day()
        return Commit(self.version, self.floor, info, *self.next, sources, newest, *self._passage_counts())

    # --- steps --------------------------------------------------------------------------------

    def _retire(self, article_ids: Sequence[str]) -> list[str]:
        """Retire the base's articles among `article_ids` (not yet retired); returns their ids."""
        with self._lock:
            done = set(self.retired)
        heads = [r for r in self._base_heads(article_ids, ["source", "day"]) if r["article_id"] not in done]
        if not heads:
            return []
        ids = [r["article_id"] for r in heads]
        self._uncount(self.base.visible(), ids)  # type: ignore[union-attr]
        for head in heads:
            self._forget(head["source"] or None, int(head["day"]))
        with self._lock:
            self.retired += ids
        return ids

    def _undo_own(self, article_ids: Sequence[str]) -> None:
        """Delete rows this transaction wrote for these articles (put again, or deleted)."""
        if not article_ids:
            return
        where = f"version == {self.version} and article_id in {expr.strings(article_ids)}"
        self._uncount(where, article_ids)
        for name in (self.names.passages, self.names.articles):
            self.client.delete(name, filter=where)
        with self._lock:
            for aid in article_ids:
                put = self.mine.pop(aid)
                self._forget(put.source, put.day)

    def _uncount(self, where: str, article_ids: Sequence[str]) -> None:
        """Take the passages of these articles (among rows `where` selects) out of the counts."""
        for part in expr.chunks(list(article_ids), _ARTICLES_PER_QUERY):
            # every row, however many (a query alone stops at `LIMIT` and would leave counts stale)
            rows = scan(
                self.client,
                self.names.passages,
                f"({where}) and article_id in {expr.strings(part)}",
                ["terms", "day", "source_key"],
            )
            self.passages -= len(rows)
            self.df.subtract(terms.counted([r["terms"] for r in rows]))
            self.weeks.subtract(log.week(int(r["day"])) for r in rows)
            self.source_passages.subtract(str(r["source_key"]) for r in rows)

    def _forget(self, source: str | None, day: int) -> None:
        self.articles -= 1
        if source:
            self.sources[source] -= 1
        self.max_day_stale = self.max_day_stale or (day != UNDATED and day >= self.max_day)

    def _count(self, write: ArticleWrite, passages_per_term: Counter[str]) -> None:
        article = write.article
        day = article.date.toordinal() if article.date else UNDATED
        with self._lock:
            self.mine[article.id] = _Put(write.content_hash, article.source, day)
            self.df.update(passages_per_term)
            self.articles += 1
            self.passages += len(write.passages)
            self.weeks[log.week(day)] += len(write.passages)
            self.source_passages[(article.source or "").lower()] += len(write.passages)
            if article.source:
                self.sources[article.source] += 1
            self.max_day = max(self.max_day, day)

    def _allocate(self, passages: int) -> tuple[int, int]:
        """A new article number and the first of `passages` consecutive passage ids (ids follow
        positions: shaping takes id ± 1 for the neighbouring passage)."""
        first, article_no = self.next[0], self.next[1]
        self.next[0] += passages
        self.next[1] += 1
        return article_no, first

    def _text_numbers(self, text_hashes: Sequence[str]) -> dict[str, int]:
        """A number per text hash: a stored passage's with the same words, else a new one."""
        numbers: dict[str, int] = {}
        for part in expr.chunks(sorted(set(text_hashes))):
            where = f"version >= {self.floor} and text_hash in {expr.strings(part)}"
            for row in self._query(self.names.passages, where, ["text_hash", "text_no"]):
                numbers.setdefault(row["text_hash"], int(row["text_no"]))
        for text_hash in text_hashes:
            if text_hash not in numbers:
                numbers[text_hash] = self.next[2]
                self.next[2] += 1
        return numbers

    def _newest_day(self) -> int:
        """The newest article's day: carried, raised by new articles, or looked up again when an
        article of the newest day went."""
        if not self.max_day_stale:
            return self.max_day
        days = [put.day for put in self.mine.values()]
        if self.base is not None:
            retired = set(self.retired)
            where = f"({self.base.visible()}) and part == 0 and day > {UNDATED}"
            rows = scan(self.client, self.names.articles, where, ["article_id", "day"])
            days += [int(r["day"]) for r in rows if r["article_id"] not in retired]
        return max(days, default=UNDATED)

    def _passage_counts(self) -> tuple[dict[int, int], dict[str, int]]:
        """Passages per week and per source key of the version being committed: carried and
        updated, or, over a base of an earlier release, counted once from the rows it will show
        (every visible passage: the base's not retired, and this transaction's), batch by batch."""
        weeks, sources = self.weeks, self.source_passages
        if self.recount and self.base is not None:
            weeks, sources = Counter(), Counter()
            retired, fields = set(self.retired), ["article_id", "day", "source_key"]
            parts = (
                (self.base.visible(), lambda aid: aid not in retired),
                (f"version == {self.version}", lambda aid: aid in self.mine),
            )
            for where, shown in parts:
                for batch in scan_batches(self.client, self.names.passages, where, fields):
                    for row in batch:
                        if shown(row["article_id"]):
                            weeks[log.week(int(row["day"]))] += 1
                            sources[str(row["source_key"])] += 1
        return (
            {w: n for w, n in sorted(weeks.items()) if n > 0},
            {k: n for k, n in sorted(sources.items()) if n > 0},
        )

    def _base_heads(self, article_ids: Sequence[str], fields: list[str]) -> list[dict[str, Any]]:
        """The first article row of each given id visible in the base (with `fields`)."""
        if self.base is None:
            return []
        out: list[dict[str, Any]] = []
        for part in expr.chunks(sorted(set(article_ids))):
            where = f"({self.base.visible()}) and part == 0 and article_id in {expr.strings(part)}"
            out += self._query(self.names.articles, where, ["article_id", *fields])
        return out

    def _query(self, collection: str, where: str, fields: list[str]) -> list[dict[str, Any]]:
        return self.client.query(collection, filter=where, output_fields=fields, limit=LIMIT)
