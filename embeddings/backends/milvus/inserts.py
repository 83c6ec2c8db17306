"""Inserts sent in order from one background thread: a writer embeds its next batch meanwhile."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from pymilvus import MilvusClient


class BackgroundInserts:
    """Queues `client.insert` calls on one thread, so they run in the order given while the caller
    goes on (the encoder releases the GIL; against a server an insert is mostly waiting). Whatever
    must see the rows — a delete of them, a commit — calls `wait` first, which raises the first
    failure of an insert."""

    def __init__(self, client: MilvusClient) -> None:
        self.client = client
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="milvus-insert")
        self._pending: list[Future[Any]] = []

    def insert(self, collection: str, rows: list[dict[str, Any]]) -> None:
        self._pending.append(self._pool.submit(self.client.insert, collection, rows))

    def wait(self) -> None:
        """Return once every queued insert is done; raise the first one's failure."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def close(self) -> None:
        """Stop the thread; inserts not yet sent are dropped (an abort deletes what was sent)."""
        for future in self._pending:
            future.cancel()
        self._pool.shutdown(wait=True)
        self._pending = []
