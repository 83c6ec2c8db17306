"""Every row a filter selects, however many: Milvus answers one query with at most 16,384 rows."""

from __future__ import annotations

from typing import Any

from pymilvus import MilvusClient

BATCH = 5_000


def scan(
    client: MilvusClient, collection: str, where: str, fields: list[str], consistency: str = "Strong"
) -> list[dict[str, Any]]:
    """The rows of `collection` that `where` selects, with `fields` (a query iterator's batches)."""
    iterator = client.query_iterator(
        collection, filter=where, output_fields=fields, batch_size=BATCH, consistency_level=consistency
    )
    rows: list[dict[str, Any]] = []
    try:
        while batch := iterator.next():
            rows += batch
    finally:
        iterator.close()
    return rows
