"""The commit log: which versions are committed, what each retired, and the index's counters.

A transaction numbered N writes its rows with `version = N`, then the article ids whose older rows
it replaces or deletes ("retired" rows of the log), and last one "commit" row: that single-row
insert is the commit. Readers see the rows of `floor <= version <= N` except, for every committed
version V whose retired ids are still logged, the rows of those articles older than V. After the
commit the writer deletes those older rows and then their log rows ("purge"); a writer that dies
before the commit leaves rows above the last commit, which the next writer deletes first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymilvus import MilvusClient

from embeddings.backends.base import UNDATED, IndexInfo
from embeddings.backends.milvus import expr
from embeddings.backends.milvus.scan import scan
from embeddings.backends.milvus.schema import PAD, Collections
from embeddings.errors import IndexCorruptError

SEQ = 1 << 20  # a log row's key is its version * SEQ + its sequence number within the version
RETIRED_PER_ROW = 500  # ids per "retired" row: a JSON value stays far below Milvus's 64 KB limit
LIMIT = 16_384  # Milvus's largest query window
# A commit's tables (articles per source, passages per source and per week) ride in its row while
# their JSON stays under this many bytes; larger ones go to "tables" rows of their own, since a
# server caps a JSON value at 64 KB (Lite does not).
INLINE_TABLES = 32_000
TABLES = ("sources", "source_passages", "weeks")
TABLE_ENTRIES = 500  # entries per "tables" row, at most
ROW_BYTES = 48_000  # compact JSON bytes of one log row's list, at most (a server takes 64 KB)
TABLE_ROWS = SEQ // 2  # a version's "tables" rows are numbered from here (its retired ids from 1)


def sized(items: Sequence[Any], most: int) -> Iterator[list[Any]]:
    """`items` in runs of at most `most` whose compact JSON stays under `ROW_BYTES` (a run holds
    one item at least: ingest keeps every id, term and source name far below it)."""
    run: list[Any] = []
    size = 2
    for item in items:
        length = len(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode()) + 1
        if run and (len(run) == most or size + length > ROW_BYTES):
            yield run
            run, size = [], 2
        run.append(item)
        size += length
    if run:
        yield run


def week(day: int) -> int:
    """The bucket a day ordinal's passages are counted in: its week (ordinal // 7), -1 undated."""
    return -1 if day == UNDATED else day // 7


@dataclass(frozen=True, slots=True)
class Commit:
    """One committed version: what it holds (`info`), its floor, and what the next writer allocates from."""

    version: int
    floor: int  # rows of older versions are invisible here: a fresh rebuild starts a new floor
    info: IndexInfo
    next_passage: int
    next_article: int
    next_text: int
    sources: dict[str, int] = field(default_factory=dict)  # articles per source
    max_day: int = 0  # the newest article's day ordinal (UNDATED without dated articles)
    # Passages per week (`week`: day ordinal // 7, -1 undated) and per source key (the lowercased
    # source, "" for none): at least how many a date or source filter admits, without asking
    # Milvus for their ids. None: committed by a release that did not keep them.
    weeks: dict[int, int] | None = None
    source_passages: dict[str, int] | None = None

    def payload(self) -> dict[str, Any]:
        info = self.info
        return {
            "floor": self.floor,
            "info": {
                "encoder": info.encoder,
                "dim": info.dim,
                "store": info.store,
                "articles": info.articles,
                "passages": info.passages,
                "created": info.created,
                "settings": info.settings,
            },
            "next": [self.next_passage, self.next_article, self.next_text],
            "sources": self.sources,
            "max_day": self.max_day,
            **({} if self.weeks is None else {"weeks": {str(w): n for w, n in sorted(self.weeks.items())}}),
            **({} if self.source_passages is None else {"source_passages": self.source_passages}),
        }

    @classmethod
    def from_payload(cls, version: int, payload: dict[str, Any]) -> Commit:
        i = payload["info"]
        info = IndexInfo(
            version,
            i["encoder"],
            i["dim"],
            i["store"],
            i["articles"],
            i["passages"],
            i["created"],
            i["settings"],
        )
        next_passage, next_article, next_text = payload["next"]
        return cls(
            version,
            payload["floor"],
            info,
            next_passage,
            next_article,
            next_text,
            dict(payload["sources"]),
            payload["max_day"],
            {int(w): int(n) for w, n in payload["weeks"].items()} if "weeks" in payload else None,
            dict(payload["source_passages"]) if "source_passages" in payload else None,
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The latest commit and the retirements readers must still apply (those not yet purged)."""

    commit: Commit
    retired: tuple[tuple[int, tuple[str, ...]], ...] = ()  # (version, article ids), committed only

    @property
    def version(self) -> int:
        return self.commit.version

    def versions(self) -> str:
        """The expression of the versions rows of this one may carry (retirements aside)."""
        return f"version >= {self.commit.floor} and version <= {self.version}"

    def hidden_below(self) -> dict[str, int]:
        """For each article a committed version retired, the newest such version: the article's
        rows of older versions are hidden."""
        out: dict[str, int] = {}
        for version, ids in self.retired:
            for article_id in ids:
                out[article_id] = max(out.get(article_id, 0), version)
        return out

    def visible(self) -> str:
        """The expression that selects exactly this version's rows (of any data collection)."""
        parts = [self.versions()]
        for version, ids in self.retired:
            parts.append(f"not (version < {version} and article_id in {expr.strings(ids)})")
        return " and ".join(parts)


def committed(client: MilvusClient, names: Collections, consistency: str) -> list[int]:
    """The committed versions whose commit rows are still logged, ascending."""
    rows = client.query(
        names.log,
        filter='kind == "commit"',
        output_fields=["version"],
        limit=LIMIT,
        consistency_level=consistency,
    )
    return sorted(int(r["version"]) for r in rows)


def rows(client: MilvusClient, names: Collections, consistency: str) -> list[dict[str, Any]]:
    """Every log row, however many (a query alone stops at `LIMIT`): `key`, `version`, `kind`,
    `payload`."""
    fields = ["key", "version", "kind", "payload"]
    return scan(client, names.log, "version >= 0", fields, consistency)


def snapshot(log_rows: Sequence[dict[str, Any]]) -> Snapshot | None:
    """The snapshot the log rows describe (None before the first commit). Retirements of versions
    without a commit row are a dead writer's and count for nothing."""
    commits = {int(r["version"]): r["payload"] for r in log_rows if r["kind"] == "commit"}
    if not commits:
        return None
    latest = max(commits)
    ordered = sorted(log_rows, key=lambda r: int(r["key"]))
    raw = commits[latest]
    payload = {key: value for key, value in raw.items() if key != "tables"}
    if "tables" in raw:  # too large for the commit row: in "tables" rows of the same version
        payload |= {name: {} for name in raw["tables"]}
        held = dict.fromkeys(raw["tables"], 0)
        for r in ordered:
            if r["kind"] == "tables" and int(r["version"]) == latest:
                payload[r["payload"]["table"]].update(dict(r["payload"]["entries"]))
                held[r["payload"]["table"]] += 1
        short = [
            f"{name} {held[name]} of {count}" for name, count in raw["tables"].items() if held[name] != count
        ]
        if short:
            raise IndexCorruptError(
                f"commit {latest}: the log holds other numbers of rows of its tables than it names"
                f" ({', '.join(short)})"
            )
    retired: dict[int, list[str]] = {}
    for r in ordered:
        version = int(r["version"])
        if r["kind"] == "articles" and version in commits and version <= latest:
            retired.setdefault(version, []).extend(r["payload"]["ids"])
    groups = tuple((v, tuple(ids)) for v, ids in sorted(retired.items()) if ids)
    return Snapshot(Commit.from_payload(latest, payload), groups)


def retire(
    client: MilvusClient, names: Collections, version: int, kind: str, ids: Sequence[str], first: int
) -> int:
    """Log what version `version` retires, article ids ("articles") or terms ("terms"), in rows
    numbered from `first` (>= 1; 0 is the commit's); returns the next free number."""
    rows = [
        {"key": version * SEQ + first + n, "version": version, "kind": kind, "payload": {"ids": part}}
        for n, part in enumerate(sized(list(ids), RETIRED_PER_ROW))
    ]
    if first + len(rows) > TABLE_ROWS:
        raise ValueError(f"version {version} retires more than {TABLE_ROWS} rows of ids")
    for part in expr.chunks(rows, 100):
        client.insert(names.log, [row | {"pad": PAD} for row in part])
    return first + len(rows)


def seal(client: MilvusClient, names: Collections, commit: Commit) -> None:
    """Commit: one row, whose insert makes the version and what it retired visible at once.

    Tables too large for that row (`INLINE_TABLES`) are written first, in "tables" rows of the
    version that only its commit row makes anyone read; the commit row names them."""
    payload = commit.payload()
    tables = {name: payload.pop(name) for name in TABLES if name in payload}
    if len(json.dumps(tables, ensure_ascii=False).encode()) <= INLINE_TABLES:
        payload |= tables
    else:
        parts = [
            (name, part)
            for name, table in tables.items()
            for part in sized([list(entry) for entry in table.items()], TABLE_ENTRIES)
        ]
        payload["tables"] = {name: sum(1 for n, _ in parts if n == name) for name in tables}
        rows = [
            {
                "key": commit.version * SEQ + TABLE_ROWS + n,
                "version": commit.version,
                "kind": "tables",
                "payload": {"table": name, "entries": part},
            }
            for n, (name, part) in enumerate(parts)
        ]
        for part in expr.chunks(rows, 100):
            client.insert(names.log, [row | {"pad": PAD} for row in part])
    row = {"key": commit.version * SEQ, "version": commit.version, "kind": "commit", "payload": payload}
    client.insert(names.log, [row | {"pad": PAD}])
