"""Where a Milvus index is: a server's URL, or a Milvus Lite path, and what a configuration may
ask of either (no pymilvus needed to tell: the settings check these before anything loads)."""

from __future__ import annotations

from urllib.parse import urlsplit

SERVER_SCHEMES = ("http://", "https://", "tcp://", "unix:")
CONSISTENCY = ("Strong", "Bounded", "Session", "Eventually")  # Milvus's read consistency levels
LITE_UNBUILT = ("IVF_PQ", "SCANN", "DISKANN")  # index types Milvus Lite 3.2 creates, then never loads


def is_server(uri: str) -> bool:
    """Whether `uri` names a Milvus server or cluster (else a Milvus Lite path ending in .db)."""
    return uri.startswith(SERVER_SCHEMES)


def shown(uri: str) -> str:
    """`uri` as messages may show it: a server URL's `user:password@` (which pymilvus takes as
    credentials) written as `***@`, since an error can reach any client in a 503."""
    if not is_server(uri):
        return uri
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return uri
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()
