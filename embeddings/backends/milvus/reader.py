"""A read-only view of one committed version of a Milvus index: searches and queries filtered to it."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from pymilvus import MilvusClient

from embeddings.articles import Article
from embeddings.backends.base import UNDATED, Candidates, Columns, Filters, IndexInfo, PassageRow, best_first
from embeddings.backends.milvus import expr, terms
from embeddings.backends.milvus.audit import audit
from embeddings.backends.milvus.log import LIMIT, Snapshot, week
from embeddings.backends.milvus.rows import article_of, day_date, passage_row
from embeddings.backends.milvus.scan import scan
from embeddings.backends.milvus.schema import (
    ARTICLE_FIELDS,
    BODY_PART_CHARS,
    COLUMN_FIELDS,
    ROW_FIELDS,
    Collections,
    DenseIndex,
)
from embeddings.backends.overlap import flatten, idf, query_codes, token_overlap
from embeddings.text import bm25_query_tokens, snowball_stemmer

_EMPTY_IDS = np.empty(0, np.int64)
_EMPTY_SCORES = np.empty(0, np.float32)
_CACHED = 200_000  # entries each of a reader's caches holds at most
_FILTERS_CACHED = 1_000  # filter expressions whose admitted passages a reader keeps (<= 8 kB each)
# A restrictive filter's passages, when at most this many, are scored exactly rather than searched
# through the dense index: HNSW (and IVF) searches that skip most of the graph miss many of the
# few passages left (Milvus Lite, HNSW, 30,000 passages: recall@10 0.13 when a filter keeps 0.1 %,
# 0.44 at 1 %, 0.98 at 10 %; docs/BENCHMARKS.md, "Restrictive filters"). The local FAISS store's
# `exact_filter_limit`.
EXACT_FILTER_LIMIT = 1_000
ARTICLES_PER_QUERY = 100  # articles whose passage ids one query fetches (rows stay under LIMIT)


class MilvusReader:
    """Implements `embeddings.backends.base.IndexReader` over one committed version.

    Every search carries the version's visibility expression (`Snapshot.visible`); every query
    selects the version's range and drops the retired rows it fetched. Rows a writer is adding or
    has retired stay out of sight whatever their state in Milvus.
    """

    def __init__(
        self,
        client: MilvusClient,
        names: Collections,
        snapshot: Snapshot,
        *,
        consistency: str,
        dense_index: DenseIndex,
        lite_path: Path | None,
        exact_filter_limit: int = EXACT_FILTER_LIMIT,
    ) -> None:
        self.client, self.names, self.snapshot = client, names, snapshot
        self.consistency, self.dense_index, self.lite_path = consistency, dense_index, lite_path
        self.exact_filter_limit = exact_filter_limit
        self.info: IndexInfo = snapshot.commit.info
        self.visible = snapshot.visible()
        self._hidden = snapshot.hidden_below()
        self._stemmer = snowball_stemmer()
        # What this version holds never changes: search hits' columns, text copies, term counts and
        # the passages a restrictive filter admits are kept once read (`_remember`).
        self._columns: dict[int, tuple[int, ...]] = {}  # `COLUMN_FIELDS` by passage id
        self._copies: dict[int, int] = {}
        self._df: dict[str, int] = {}
        self._admissions: dict[tuple[int, str], np.ndarray | None] = {}  # by limit and expression
        self._week_counts: tuple[np.ndarray, np.ndarray, int] | None = None  # `_too_many`'s
        self._lock = threading.Lock()

    def close(self) -> None:
        """Nothing to release: the backend owns the client."""

    # --- candidates --------------------------------------------------------------------------

    def search_expression(self, filters: Filters) -> str:
        """The expression a search under `filters` runs with (visibility and filters)."""
        return expr.both(self.visible, expr.restriction(filters, self.snapshot.commit.max_day))

    def candidates(self, vector: np.ndarray, text: str | None, n: int, filters: Filters) -> Candidates:
        """Dense candidates of a filter that admits at most `exact_filter_limit` passages are
        scored exactly (`_exact`); others, and every unfiltered search, come from the dense index."""
        query = np.asarray(vector, np.float32)
        where = self.search_expression(filters)
        restricted = bool(expr.restriction(filters, self.snapshot.commit.max_day))
        probe = restricted and not self.dense_index.exact and not self._too_many(filters)
        admitted = self._admitted(where) if probe else None
        if admitted is not None:
            dense_ids, dense_scores = self._exact(query, admitted, n)
        else:
            dense = self._search([query.tolist()], "dense", n, where, filtered=restricted)
            dense_ids, dense_scores = best_first(*self._hits(dense, np.float32))
        tokens = bm25_query_tokens(text, self._stemmer) if text is not None else []
        if not tokens:
            return Candidates(dense_ids, dense_scores, _EMPTY_IDS, _EMPTY_SCORES)
        lexical = self._search([" ".join(tokens)], "sparse", n, where)
        # BM25 scores are never negative; Milvus Lite reports them negated (as distances), servers not.
        lexical_ids, lexical_scores = self._hits(lexical, np.float32)
        return Candidates(dense_ids, dense_scores, *best_first(lexical_ids, np.abs(lexical_scores)))

    def _too_many(self, filters: Filters) -> bool:
        """Whether `filters` surely admit more passages than the exact path takes, by the commit's
        counts of passages per week or per source, so that a broad filter asks Milvus for no ids
        (Lite reads every row it returns: 130–170 ms for 1,001). A date window counts only the
        weeks it holds whole: a lower bound, so a filter of few passages is never taken for a
        broad one. False when that cannot be told: sources and dates together, or a commit
        without the counts (an earlier release's)."""
        commit = self.snapshot.commit
        if self.exact_filter_limit <= 0:
            return False
        if filters.sources:  # a source filter's passages are counted, but not per week as well
            dated = bool(expr.restriction(replace(filters, sources=()), commit.max_day))
            if commit.source_passages is None or dated:
                return False
            keys = {s.lower() for s in filters.sources}
            return sum(commit.source_passages.get(key, 0) for key in keys) > self.exact_filter_limit
        if commit.weeks is None:
            return False
        if self._week_counts is None:  # dated weeks ascending, passages up to each; undated ones
            dated = sorted((w, n) for w, n in commit.weeks.items() if w >= 0)
            weeks = np.array([w for w, _ in dated], dtype=np.int64)
            upto = np.cumsum([n for _, n in dated], dtype=np.int64)
            self._week_counts = (weeks, upto, commit.weeks.get(week(UNDATED), 0))
        weeks, upto, undated = self._week_counts
        low = filters.since.toordinal() if filters.since else None
        high = min((d.toordinal() for d in (filters.until, filters.as_of) if d is not None), default=None)
        first_whole = 0 if low is None else -(-low // 7)  # the first week the window holds whole
        last_whole = (high + 1) // 7 - 1 if high is not None else int(weeks[-1]) if len(weeks) else -1
        first = int(np.searchsorted(weeks, first_whole))
        last = int(np.searchsorted(weeks, last_whole, side="right"))
        admitted = int(upto[last - 1]) - (int(upto[first - 1]) if first else 0) if last > first else 0
        if filters.since is None and filters.until is None:
            admitted += undated  # an as-of keeps the undated articles
        return admitted > self.exact_filter_limit

    def _admitted(self, where: str) -> np.ndarray | None:
        """The ids of the passages `where` admits when they are at most `exact_filter_limit`, else
        None: one query for at most that many + 1 ids (Milvus Lite's `count(*)` reads every row it
        counts, 3.3 s for 30,000), kept for the next search under the same filters when reads are
        Strong."""
        limit = self.exact_filter_limit
        if limit <= 0:
            return None
        with self._lock:
            if (limit, where) in self._admissions:
                return self._admissions[limit, where]
        rows = self.client.query(
            self.names.passages,
            filter=where,
            output_fields=["id"],
            limit=limit + 1,
            consistency_level=self.consistency,
        )
        ids = np.array(sorted(int(r["id"]) for r in rows), dtype=np.int64)
        admitted = ids if len(ids) <= limit else None
        if self.consistency == "Strong":  # a weaker read may not see all of the version's rows yet
            self._remember(self._admissions, {(limit, where): admitted}, _FILTERS_CACHED)
        return admitted

    def _exact(self, query: np.ndarray, ids: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The `n` best of the passages `ids` by inner product with the `(dim,)` `query` (the
        collection's metric), best first, equal scores by id; their columns are kept as a search's."""
        rows = self._query_ids(self.names.passages, ids.tolist(), ["id", "dense", *COLUMN_FIELDS])
        if not rows:
            return _EMPTY_IDS, _EMPTY_SCORES
        self._remember(self._columns, {int(r["id"]): tuple(int(r[f]) for f in COLUMN_FIELDS) for r in rows})
        found = np.array([int(r["id"]) for r in rows], dtype=np.int64)
        vectors = np.array([r["dense"] for r in rows], dtype=np.float32).reshape(len(rows), -1)
        ranked_ids, scores = best_first(found, vectors @ query)
        return ranked_ids[:n], scores[:n]

    def _search(
        self, data: list[Any], field: str, n: int, where: str, *, filtered: bool = False
    ) -> list[dict[str, Any]]:
        """The `n` best hits of a search of `field` under `where` (`filtered`: which hides part
        of the archive, for the dense index's parameters), their columns kept."""
        if field == "dense":
            params = self.dense_index.search_params(n, filtered=filtered)
        else:
            params = {"metric_type": "BM25"}
        found = self.client.search(
            self.names.passages,
            data=data,
            anns_field=field,
            limit=n,
            filter=where,
            output_fields=COLUMN_FIELDS,
            search_params=params,
            consistency_level=self.consistency,
        )
        hits = list(found[0]) if found else []
        self.keep_columns(hits)
        return hits

    def keep_columns(self, hits: Sequence[dict[str, Any]]) -> None:
        """Remember the columns that search hits carry (searched with `COLUMN_FIELDS` as output
        fields), so that `columns` of those passages costs no query."""
        columns = {int(h["id"]): tuple(int(h["entity"][f]) for f in COLUMN_FIELDS) for h in hits}
        self._remember(self._columns, columns)

    def _remember(self, kept: dict[Any, Any], values: dict[Any, Any], most: int = _CACHED) -> None:
        """Add `values` to one of the reader's caches, emptied when it outgrows `most` entries."""
        with self._lock:
            if len(kept) + len(values) > most:
                kept.clear()
            kept.update(values)

    @staticmethod
    def _hits(hits: list[dict[str, Any]], dtype: type) -> tuple[np.ndarray, np.ndarray]:
        ids = np.fromiter((int(h["id"]) for h in hits), dtype=np.int64, count=len(hits))
        scores = np.fromiter((float(h["distance"]) for h in hits), dtype=dtype, count=len(hits))
        return ids, scores

    def columns(self, ids: np.ndarray) -> Columns:
        wanted = [int(i) for i in ids.tolist()]
        with self._lock:
            known = {i: self._columns[i] for i in wanted if i in self._columns}
        missing = [i for i in wanted if i not in known]
        for row in self._query_ids(self.names.passages, missing, ["id", *COLUMN_FIELDS]):
            known[int(row["id"])] = tuple(int(row[f]) for f in COLUMN_FIELDS)
        unknown = (UNDATED, -1, -1, -1)
        values = zip(*(known.get(i, unknown) for i in wanted), strict=True) if wanted else ((),) * 4
        return Columns(*(np.array(c, dtype=np.int64) for c in values))

    def text_copies(self, texts: np.ndarray) -> np.ndarray:
        numbers = sorted({int(t) for t in texts.tolist() if t >= 0})
        with self._lock:
            counts = {t: self._copies[t] for t in numbers if t in self._copies}
        asked = [t for t in numbers if t not in counts]
        fetched: Counter[int] = Counter({t: 0 for t in asked})
        for part in expr.chunks(asked):
            rows = self._query(self.names.passages, f"text_no in {expr.ints(part)}", ["text_no"])
            fetched.update(int(r["text_no"]) for r in rows)
        counts |= fetched
        self._remember(self._copies, fetched)
        return np.array([counts.get(int(t), 0) if t >= 0 else 0 for t in texts.tolist()], dtype=np.int64)

    def idf(self, words: Sequence[str]) -> dict[str, float] | None:
        """BM25 (Lucene) idf of each word, from the document frequencies writers keep per term."""
        stems = {w: self._stemmer.stemWord(w) for w in words}
        df = self._frequencies(set(stems.values()))
        return {w: idf(df.get(t, 0), self.info.passages) for w, t in stems.items()}

    def _frequencies(self, tokens: set[str]) -> dict[str, int]:
        """How many passages of the version hold each stemmed token (kept once read)."""
        with self._lock:
            df = {t: self._df[t] for t in tokens if t in self._df}
        asked = {t for t in tokens if t not in df}
        if asked:
            versions = self.snapshot.versions()
            fetched = dict.fromkeys(asked, 0) | terms.frequencies(
                self.client, self.names, versions, asked, self.consistency
            )
            df |= fetched
            self._remember(self._df, fetched)
        return df

    def overlap(self, ids: np.ndarray, text: str) -> np.ndarray:
        """From each passage's stored `terms` (its BM25 tokens), as the local backend computes it."""
        out = np.zeros((len(ids), 2))
        tokens = bm25_query_tokens(text, self._stemmer)
        if not tokens or not len(ids):
            return out
        df = self._frequencies(set(tokens))
        number = {t: i for i, t in enumerate(dict.fromkeys(t for t in tokens if df.get(t, 0)))}
        codes = query_codes(tokens, number.get)
        weights = {c: idf(df.get(t, 0), self.info.passages) for t, c in zip(tokens, codes, strict=True)}
        wanted = [int(i) for i in ids.tolist()]
        rows = self._query_ids(self.names.passages, wanted, ["id", "terms"])
        held = {int(r["id"]): r["terms"] for r in rows}
        found = np.array([i in held for i in wanted], dtype=bool)
        docs = [[number.get(t, -1) for t in held[i].split()] for i in wanted if i in held]
        out[found] = token_overlap(*flatten(docs), codes, weights)
        return out

    # --- rows ---------------------------------------------------------------------------------

    def passages(self, ids: Sequence[int]) -> dict[int, PassageRow]:
        rows = self._query_ids(self.names.passages, [int(i) for i in ids], ROW_FIELDS)
        return {int(row["id"]): passage_row(row) for row in rows}

    def article_slice(self, article_id: str, start: int, end: int) -> str:
        if end <= start:
            return ""
        first, last = start // BODY_PART_CHARS, (end - 1) // BODY_PART_CHARS
        rows = self._query(
            self.names.articles,
            f"article_id == {expr.string(article_id)} and part >= {first} and part <= {last}",
            ["part", "text"],
        )
        body = "".join(r["text"] for r in sorted(rows, key=lambda r: int(r["part"])))
        offset = first * BODY_PART_CHARS
        return body[start - offset : end - offset]

    def duplicates(self, text_hashes: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, set[str]] = {}
        for part in expr.chunks(sorted(set(text_hashes))):
            for row in self._query(
                self.names.passages, f"text_hash in {expr.strings(part)}", ["text_hash", "article_id"]
            ):
                out.setdefault(row["text_hash"], set()).add(row["article_id"])
        return {h: sorted(ids) for h, ids in out.items()}

    def article(self, article_id: str) -> Article | None:
        return article_of(
            self._query(self.names.articles, f"article_id == {expr.string(article_id)}", ARTICLE_FIELDS)
        )

    def article_ids(self) -> list[str]:
        where = f"({self.visible}) and part == 0"
        return sorted(
            r["article_id"]
            for r in scan(self.client, self.names.articles, where, ["article_id"], self.consistency)
        )

    def article_passages(self, article_id: str) -> np.ndarray:
        rows = self._query(
            self.names.passages, f"article_id == {expr.string(article_id)}", ["id", "position"]
        )
        rows.sort(key=lambda r: int(r["position"]))
        return np.array([int(r["id"]) for r in rows], dtype=np.int64)

    def articles_passages(self, article_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """One query per `ARTICLES_PER_QUERY` articles (one round trip each, not one per article);
        a chunk whose rows fill Milvus's query window (and may be cut short) is asked article by
        article."""
        found: dict[str, np.ndarray] = {}
        for part in expr.chunks(sorted(set(article_ids)), ARTICLES_PER_QUERY):
            rows = self._query(self.names.passages, f"article_id in {expr.strings(part)}", ["id", "position"])
            if len(rows) >= LIMIT:
                found |= {article: self.article_passages(article) for article in part}
                continue
            grouped: dict[str, list[tuple[int, int]]] = {}
            for r in rows:
                grouped.setdefault(r["article_id"], []).append((int(r["position"]), int(r["id"])))
            found |= {a: np.array([pid for _, pid in sorted(p)], dtype=np.int64) for a, p in grouped.items()}
        return {a: found.get(a, _EMPTY_IDS) for a in article_ids}

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        wanted = [int(i) for i in ids.tolist()]
        found = {
            int(r["id"]): r["dense"] for r in self._query_ids(self.names.passages, wanted, ["id", "dense"])
        }
        vectors = [found[i] for i in wanted if i in found]
        return np.array(vectors, dtype=np.float32).reshape(len(vectors), self.info.dim)

    def max_date(self) -> dt.date | None:
        return day_date(self.snapshot.commit.max_day)

    def sources(self) -> list[tuple[str, int]]:
        return sorted(self.snapshot.commit.sources.items(), key=lambda kv: (-kv[1], kv[0]))

    # --- the version as a whole -----------------------------------------------------------------

    def size_bytes(self) -> int:
        """Bytes of the Milvus Lite directory (every index in it); 0 on a server, which does not say."""
        if self.lite_path is None:
            return 0
        return sum(p.stat().st_size for p in self.lite_path.rglob("*") if p.is_file())

    def check(self, full: bool = True) -> list[str]:
        """`full`: the audit of this version's rows (Milvus keeps its own storage sound, so nothing
        cheap is left to ask on every reload check)."""
        return audit(self) if full else []

    # --- queries --------------------------------------------------------------------------------

    def _query(self, collection: str, where: str, fields: list[str]) -> list[dict[str, Any]]:
        """Rows of `collection` (passages or articles) matching `where` that belong to this version.

        The expression names only versions and the fields asked about, which inverted indexes
        answer; retirements are applied to the rows fetched (`Snapshot.visible` as a test)."""
        rows = self.client.query(
            collection,
            filter=f"{self.snapshot.versions()} and ({where})",
            output_fields=[*fields, "version", "article_id"],
            limit=LIMIT,
            consistency_level=self.consistency,
        )
        return [r for r in rows if self._admits(r)]

    def _query_ids(self, collection: str, ids: list[int], fields: list[str]) -> list[dict[str, Any]]:
        """Passage rows by id: a look-up by primary key alone, the fastest Milvus query."""
        out: list[dict[str, Any]] = []
        for part in expr.chunks(sorted(set(ids))):
            out += self.client.query(
                collection,
                filter=f"id in {expr.ints(part)}",
                output_fields=[*fields, "version", "article_id"],
                limit=LIMIT,
                consistency_level=self.consistency,
            )
        return [r for r in out if self._admits(r)]

    def _admits(self, row: dict[str, Any]) -> bool:
        version = int(row["version"])
        floor, latest = self.snapshot.commit.floor, self.snapshot.version
        return floor <= version <= latest and version >= self._hidden.get(row["article_id"], 0)
