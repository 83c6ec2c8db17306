"""Where a Milvus index is: a server's URL, or a Milvus Lite path (no pymilvus needed to tell)."""

from __future__ import annotations

SERVER_SCHEMES = ("http://", "https://", "tcp://", "unix:")


def is_server(uri: str) -> bool:
    """Whether `uri` names a Milvus server or cluster (else a Milvus Lite path ending in .db)."""
    return uri.startswith(SERVER_SCHEMES)
