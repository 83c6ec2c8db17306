"""`qa check` of a Milvus index: one scan of a version's passage and article rows, against its commit."""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from embeddings.backends.milvus.log import week
from embeddings.backends.milvus.scan import scan

if TYPE_CHECKING:
    from embeddings.backends.milvus.reader import MilvusReader

_PASSAGE_FIELDS = ["id", "article_id", "article_no", "text_no", "text_hash", "position", "day", "source_key"]
_ARTICLE_FIELDS = ["article_id", "part", "parts", "day", "source"]


def counts(client: Any, names: Any, snapshot: Any, consistency: str) -> list[str]:
    """Whether the collections hold at least the rows a version's commit counts (every open and
    every write begins with it). Milvus keeps its segments sound, but the files of a Lite database
    removed or overwritten under it read as an empty collection, not as an error: without this, an
    index that lost its rows answers "no passages found" and takes writes that bury the loss.

    The counts are of all rows, whatever their version (a filtered count scans every row on Lite:
    2.2 s at 30k passages against 16 ms), so they can only fall short: rows of other versions
    (a dead writer's, retired ones not purged yet) may hide a few missing ones, which `qa check`
    (`audit`) finds."""
    info = snapshot.commit.info
    held = []
    for collection in (names.passages, names.articles):  # articles: one row per body part, at least one
        rows = client.query(collection, filter="", output_fields=["count(*)"], consistency_level=consistency)
        held.append(int(rows[0]["count(*)"]) if rows else 0)
    if held[0] >= info.passages and held[1] >= info.articles:
        return []
    return [
        f"version {snapshot.version}: the commit counts {info.articles} articles / {info.passages} passages,"
        f" the collections hold {held[1]} article rows / {held[0]} passage rows"
    ]


def audit(reader: MilvusReader) -> list[str]:
    """Consistency problems of the reader's version, one line each (empty when sound)."""
    passages = scan(reader.client, reader.names.passages, reader.visible, _PASSAGE_FIELDS, reader.consistency)
    parts = scan(reader.client, reader.names.articles, reader.visible, _ARTICLE_FIELDS, reader.consistency)
    heads = {r["article_id"]: r for r in parts if int(r["part"]) == 0}
    info, commit = reader.info, reader.snapshot.commit
    problems = []
    if (len(heads), len(passages)) != (info.articles, info.passages):
        problems.append(
            f"the commit says {info.articles} articles / {info.passages} passages,"
            f" the collections hold {len(heads)} / {len(passages)}"
        )
    by_article: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in passages:
        by_article[row["article_id"]].append(row)
    orphans = len(set(by_article) ^ set(heads))
    if orphans:
        problems.append(f"{orphans} orphan rows (passages without article or articles without passages)")
    problems += _parts(parts, heads)
    problems += _groups(passages, by_article, heads)
    sources = Counter(r["source"] for r in heads.values() if r["source"])
    if dict(sources) != commit.sources:
        problems.append("the sources the commit counts differ from the article rows")
    if max((int(r["day"]) for r in heads.values()), default=0) != commit.max_day:
        problems.append("the newest date the commit holds differs from the article rows")
    if commit.weeks is not None and dict(Counter(week(int(r["day"])) for r in passages)) != commit.weeks:
        problems.append("the passages per week the commit counts differ from the passage rows")
    by_source = Counter(str(r["source_key"]) for r in passages)
    if commit.source_passages is not None and dict(by_source) != commit.source_passages:
        problems.append("the passages per source the commit counts differ from the passage rows")
    return problems


def _parts(parts: list[dict[str, Any]], heads: dict[str, dict[str, Any]]) -> list[str]:
    """An article body whose stored parts are not exactly 0..parts-1."""
    held: dict[str, list[int]] = defaultdict(list)
    for row in parts:
        held[row["article_id"]].append(int(row["part"]))
    torn = [aid for aid, head in heads.items() if sorted(held[aid]) != list(range(int(head["parts"])))]
    torn += [aid for aid in held if aid not in heads]
    return [f"{len(torn)} articles whose body parts are incomplete, e.g. {torn[0]!r}"] if torn else []


def _groups(
    passages: list[dict[str, Any]],
    by_article: dict[str, list[dict[str, Any]]],
    heads: dict[str, dict[str, Any]],
) -> list[str]:
    """Article and text numbers that do not group passages as their article ids and text hashes do;
    passage ids out of position order; passage days unlike their article's."""
    problems = []
    numbers = {aid: {int(r["article_no"]) for r in rows} for aid, rows in by_article.items()}
    if any(len(n) != 1 for n in numbers.values()) or len(set().union(*numbers.values())) != len(numbers):
        problems.append("article numbers do not group the passages by article")
    texts: dict[str, set[int]] = defaultdict(set)
    for row in passages:
        texts[row["text_hash"]].add(int(row["text_no"]))
    if any(len(n) != 1 for n in texts.values()) or len(set().union(*texts.values())) != len(texts):
        problems.append("text numbers do not group the passages by text")
    unordered = 0
    for rows in by_article.values():
        ordered = sorted(rows, key=lambda r: int(r["position"]))
        unordered += any(int(a["id"]) >= int(b["id"]) for a, b in pairwise(ordered))
    if unordered:
        problems.append(f"{unordered} articles whose passage ids are not in position order")
    days = sum(
        1
        for aid, rows in by_article.items()
        if aid in heads and {int(r["day"]) for r in rows} != {int(heads[aid]["day"])}
    )
    if days:
        problems.append(f"{days} articles whose passages carry another date than the article")
    return problems
