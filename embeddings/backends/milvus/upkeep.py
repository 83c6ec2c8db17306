"""Clean-up a writer does under the lock: a dead writer's rows, and rows committed versions retired."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymilvus import MilvusClient

from embeddings.backends.milvus import expr
from embeddings.backends.milvus.log import Snapshot
from embeddings.backends.milvus.schema import Collections


def clear_leftovers(client: MilvusClient, names: Collections, committed: int) -> None:
    """Delete every row above the last committed version: what a writer that died had written.

    Readers never see them (they filter `version <= committed`); the next writer reuses the
    version number and the passage ids, so they go before it writes."""
    for name in (*names.data, names.log):
        client.delete(name, filter=f"version > {committed}")


def purge(
    client: MilvusClient, names: Collections, log_rows: Sequence[dict[str, Any]], latest: Snapshot
) -> None:
    """Delete the rows committed versions retired, then the log rows that retired them, then
    rows below the floor and commit rows (and their "tables" rows) older than the latest.

    Data goes before the log rows that hide it, so a reader of the latest version never sees a
    retired row whichever moment a crash stops this; running it again finishes the work."""
    commits = {int(r["version"]) for r in log_rows if r["kind"] == "commit"}
    done = []
    for row in log_rows:
        version, kind = int(row["version"]), row["kind"]
        if kind in ("commit", "tables") or version not in commits:
            continue
        ids = row["payload"]["ids"]
        if kind == "articles":
            for name in (names.passages, names.articles):
                client.delete(name, filter=f"version < {version} and article_id in {expr.strings(ids)}")
        elif kind == "terms":
            client.delete(names.terms, filter=f"version < {version} and term in {expr.strings(ids)}")
        done.append(int(row["key"]))
    if done:
        client.delete(names.log, ids=done)
    if latest.commit.floor:
        for name in names.data:
            client.delete(name, filter=f"version < {latest.commit.floor}")
    if any(v < latest.version for v in commits):  # an older commit's tables, then the commit
        client.delete(names.log, filter=f'kind == "tables" and version < {latest.version}')
        client.delete(names.log, filter=f'kind == "commit" and version < {latest.version}')
