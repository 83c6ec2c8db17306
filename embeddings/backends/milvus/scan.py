"""Every row a filter selects, however many: Milvus answers one query with at most 16,384 rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pymilvus import MilvusClient

BATCH = 5_000


def scan(
    client: MilvusClient, collection: str, where: str, fields: list[str], consistency: str = "Strong"
) -> list[dict[str, Any]]:
    """The rows of `collection` that `where` selects, with `fields` (a query iterator's batches)."""
    rows: list[dict[str, Any]] = []
    for batch in scan_batches(client, collection, where, fields, consistency):
        rows += batch
    return rows


def scan_batches(
    client: MilvusClient, collection: str, where: str, fields: list[str], consistency: str = "Strong"
) -> Iterator[list[dict[str, Any]]]:
    """`scan`'s rows a batch at a time (at most `BATCH`), for counting without holding them all."""
    iterator = client.query_iterator(
        collection, filter=where, output_fields=fields, batch_size=BATCH, consistency_level=consistency
    )
    try:
        while batch := iterator.next():
            yield batch
    finally:
        iterator.close()
