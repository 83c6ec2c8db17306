"""The `milvus` backend: an index in Milvus collections, on a server or cluster or in a Milvus Lite file."""

from __future__ import annotations

import fcntl
import functools
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, cast

from filelock import FileLock, Timeout
from pymilvus import MilvusClient, MilvusException
from pymilvus.client import entity_helper

from embeddings.backends.base import Embed, IndexSpec, VersionCheck
from embeddings.backends.folders import check_folder
from embeddings.backends.milvus import audit, log, schema, upkeep
from embeddings.backends.milvus.reader import EXACT_FILTER_LIMIT, MilvusReader
from embeddings.backends.milvus.schema import Collections, DenseIndex
from embeddings.backends.milvus.transaction import MilvusTransaction
from embeddings.backends.milvus.uri import CONSISTENCY, LITE_UNBUILT, is_server, shown
from embeddings.errors import (
    REBUILD,
    ConfigurationError,
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexUnavailableError,
    IndexWriteError,
)

LITE_LOCK = "LOCK"  # the file in a Milvus Lite data directory that its one process holds (flock)


def _log_through_the_root() -> None:
    """pymilvus gives its loggers a stderr handler of its own at import, with propagation off, so
    its warnings reach the console whatever the application decides: hand them back to the root
    logger, where `qa`'s console (or uvicorn's logging) filters them like any library's."""
    for name in ("pymilvus", "pymilvus.milvus_client", "pymilvus.bulk_writer"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


def _lite_held(path: Path) -> bool:
    """Whether another process holds the Milvus Lite data directory `path` (its engine serves one
    process: opening it would fail, after seconds of retries and a logged traceback)."""
    from milvus_lite.server_manager import server_manager_instance

    if os.path.abspath(path) in getattr(server_manager_instance, "_servers", {}):
        return False  # this process runs its engine: its connections share it
    lock = path / LITE_LOCK
    if not lock.is_file():
        return False
    try:
        fd = os.open(lock, os.O_RDONLY)  # a shared probe, released at once
    except OSError:
        return False  # unreadable here: let the engine say what is wrong
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


class MilvusBackend:
    """Implements `embeddings.backends.base.Backend` in the collections `{collection}_*` at `uri`.

    Args:
        uri: `http(s)://host:19530` (a Milvus server or cluster) or a path ending in `.db` (Milvus
            Lite, embedded in this process: one process at a time may open it).
        token: the server's token (`user:password` or an API key).
        collection: the name the index's collections are derived from.
        consistency: the consistency level of reads (Strong: a commit is seen by the next read).
        index_type, index_params: the dense vectors' Milvus index, used when collections are made.
        shards: the passages collection's shards, used when it is made.
        exact_filter_limit: a filter that admits at most this many passages has them scored
            exactly instead of searched through the dense index (0: always the index).
        lock_path: the writer lock file (default: beside a Lite file; for a server, in the
            temporary directory, which serialises writers of one machine only).
    """

    name: ClassVar[str] = "milvus"
    # Milvus keeps no earlier version to fall back to (`repair` has nothing to rebuild from): an
    # index whose rows are gone is built again from its articles.
    way_out: ClassVar[str] = REBUILD

    def __init__(
        self,
        uri: str | Path,
        *,
        token: str | None = None,
        collection: str = "newsqa",
        consistency: str = "Strong",
        index_type: str = "HNSW",
        index_params: dict[str, Any] | None = None,
        shards: int = 1,
        lock_path: Path | str | None = None,
        exact_filter_limit: int = EXACT_FILTER_LIMIT,
    ) -> None:
        self.uri = str(uri)
        self.lite = not is_server(self.uri)
        if self.lite and not self.uri.endswith(".db"):
            raise ConfigurationError(
                f"Milvus URI {self.uri!r}: a http(s) URL, or a Milvus Lite path ending in .db"
            )
        if consistency not in CONSISTENCY:
            raise ConfigurationError(
                f"unknown consistency level {consistency!r}; choices: {', '.join(CONSISTENCY)}"
            )
        if self.lite and index_type.upper() in LITE_UNBUILT:
            raise ConfigurationError(
                f"Milvus Lite cannot load a {index_type} index (HNSW, FLAT, IVF_FLAT, IVF_SQ8 or AUTOINDEX)"
            )
        if self.lite:  # Lite answers from its own files: the server's timestamp it asks for means nothing
            logging.getLogger("pymilvus.client.iterator.query_iterator").setLevel(logging.ERROR)
        self.token, self.consistency, self.names = token, consistency, Collections.named(collection)
        default_params = DenseIndex().params if index_type == "HNSW" else ()
        params = tuple(sorted(index_params.items())) if index_params is not None else default_params
        self.dense_index, self.shards = DenseIndex(index_type, params), shards
        self.exact_filter_limit = exact_filter_limit
        default_lock = (
            f"{self.uri}.{collection}.lock"
            if self.lite
            else Path(tempfile.gettempdir()) / f"qa-milvus-{collection}.lock"
        )
        self.lock_path = Path(lock_path or default_lock)
        self._client: MilvusClient | None = None
        self._connecting = threading.Lock()

    @property
    def client(self) -> MilvusClient:
        """The client, connected on first use (Milvus Lite starts its engine in this process)."""
        with self._connecting:
            if self._client is None:
                if self.lite:
                    check_folder(Path(self.uri).parent)
                    Path(self.uri).parent.mkdir(parents=True, exist_ok=True)
                    if Path(self.uri).is_file():  # Milvus Lite 3 keeps its data in a folder of that name
                        raise IndexUnavailableError(
                            f"{self.uri} is a file, not a Milvus Lite index: point QA_MILVUS_URI elsewhere"
                        )
                    if _lite_held(Path(self.uri)):
                        raise IndexUnavailableError(
                            f"another process has the Milvus Lite index {self.uri} open: Lite serves"
                            " one process at a time (a Milvus server serves many)"
                        )
                # pymilvus checks each VARCHAR of a row insert character by character (each a string
                # of length 1, never over the limit): half the client's cost of an insert, to check
                # nothing. The engine checks the lengths itself.
                entity_helper.CHECK_STR_ARRAY = False
                _log_through_the_root()
                try:
                    client = MilvusClient(self.uri, token=self.token or "")
                except MilvusException as exc:
                    raise IndexUnavailableError(f"Milvus at {shown(self.uri)}: {exc.message}") from exc
                self._client = cast(MilvusClient, _Guarded(client, shown(self.uri)))
                # A server keeps collections loaded; Milvus Lite starts every process with them released.
                for name in (*self.names.data, self.names.log):
                    if self._client.has_collection(name):
                        self._client.load_collection(name)
            return self._client

    def close(self) -> None:
        """Disconnect; a Milvus Lite engine stops, which frees its file for other processes."""
        with self._connecting:
            client, self._client = self._client, None
        if client is not None:
            client.close()
            if self.lite:
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(self.uri)

    def describe(self) -> str:
        return f"{shown(self.uri)} (collections {self.names.passages.removesuffix('_passages')}_*)"

    def exists(self) -> bool:
        if self._absent():
            return False
        return self.client.has_collection(self.names.log) and bool(self._committed())

    def _absent(self) -> bool:
        """A Lite database not created yet: reading it must not create it (a mistyped
        `--index-dir` would get an empty database and a lock file, as no local index does)."""
        if not self.lite or self._client is not None:
            return False
        check_folder(Path(self.uri).parent)
        return not Path(self.uri).exists()

    def live_version(self) -> str:
        versions = (
            self._committed() if not self._absent() and self.client.has_collection(self.names.log) else []
        )
        if not versions:
            raise IndexNotFoundError(f"no index in Milvus at {self.describe()}")
        return str(versions[-1])

    def open(self, encoder: str | None = None) -> MilvusReader:
        if self._absent():
            raise IndexNotFoundError(f"no index in Milvus at {self.describe()}")
        snapshot = (
            log.snapshot(log.rows(self.client, self.names, self.consistency)) if self._has_log() else None
        )
        if snapshot is None:
            raise IndexNotFoundError(f"no index in Milvus at {self.describe()}")
        if encoder is not None and snapshot.commit.info.encoder != encoder:
            raise IndexMismatchError.of(self.describe(), snapshot.commit.info.encoder, encoder)
        for _ in range(3):
            problems = audit.counts(self.client, self.names, snapshot, self.consistency)
            # Rows a newer commit retired and its writer purged after this snapshot was read are
            # not damage: counted short while the log moved on, the newest version is counted.
            newer = log.snapshot(log.rows(self.client, self.names, self.consistency)) if problems else None
            if newer is None or newer.version == snapshot.version:
                break
            snapshot = newer
        if problems:
            raise IndexCorruptError.of(problems, REBUILD)
        lite_path = Path(self.uri) if self.lite else None
        return MilvusReader(
            self.client,
            self.names,
            snapshot,
            consistency=self.consistency,
            dense_index=schema.built_index(self.client, self.names, self.dense_index),
            lite_path=lite_path,
            exact_filter_limit=self.exact_filter_limit,
        )

    @contextmanager
    def writer(self, timeout: float) -> Iterator[None]:
        check_folder(self.lock_path.parent)
        lock = FileLock(str(self.lock_path), timeout=timeout)
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except Timeout:  # before OSError: filelock's Timeout is a TimeoutError
            raise IndexLockedError(f"another writer holds {self.lock_path} (waited {timeout:g}s)") from None
        except OSError as exc:  # a read-only or full disk: no lock file, so nothing is written
            reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
            raise IndexWriteError(
                f"could not take the writer lock {self.lock_path} ({reason}); nothing was written"
            ) from exc
        try:
            yield
        finally:
            lock.release()

    def begin(self, spec: IndexSpec, *, fresh: bool = False) -> MilvusTransaction:
        """A transaction over the latest commit, after deleting what a dead writer left and
        finishing the purge of what committed versions retired (call inside `writer()`)."""
        dim = schema.dimension(self.client, self.names)
        if dim is not None and dim != spec.dim:
            raise IndexMismatchError(
                f"the collections at {self.describe()} hold vectors of {dim} numbers, the encoder makes"
                f" {spec.dim}: set QA_MILVUS_COLLECTION to a new name for an index of this model"
            )
        schema.create(self.client, self.names, spec.dim, self.dense_index, self.consistency, self.shards)
        rows = log.rows(self.client, self.names, "Strong")
        base = log.snapshot(rows)
        if base is not None and not fresh and base.commit.info.encoder != spec.encoder:
            raise IndexMismatchError.of(self.describe(), base.commit.info.encoder, spec.encoder)
        upkeep.clear_leftovers(self.client, self.names, base.version if base else 0)
        if base is not None:
            upkeep.purge(self.client, self.names, rows, base)
        # A write over rows the commit does not find would build on the damage and hide it;
        # a rebuild (`fresh`) is the way out, so it may go ahead.
        if (
            base is not None
            and not fresh
            and (problems := audit.counts(self.client, self.names, base, "Strong"))
        ):
            raise IndexCorruptError.of(problems, REBUILD)
        store = f"milvus-{schema.built_index(self.client, self.names, self.dense_index).type.lower()}"
        return MilvusTransaction(
            self.client, self.names, spec, base, fresh=fresh, store=store, lite=self.lite
        )

    def verify(self, *, structure: bool = True) -> list[str]:
        """Milvus checks its own segments; `structure` audits the live version's rows."""
        try:
            reader = self.open()
        except IndexCorruptError as exc:  # its rows are not what the commit counts
            return list(exc.problems)
        try:
            return reader.check(full=structure)
        finally:
            reader.close()

    def way_out_of(self, problems: Sequence[str], kept: Sequence[VersionCheck] | None = None) -> str:
        """A rebuild, whatever the problems: nothing is kept to repair from."""
        return self.way_out

    def verify_kept(self, *, structure: bool = True) -> list[VersionCheck]:
        """None: Milvus keeps no earlier version to check or fall back to. A commit retires the rows
        it replaced and the writer purges them right after, so only the live version can be read
        (`verify`); `repair` never falls back here."""
        return []

    def repair(self, embed: Embed | None = None, *, encoder: str | None = None) -> list[str]:
        """Nothing to rebuild from here: Milvus keeps its storage sound, and a dead writer's rows
        are cleared when the next write begins. Says what the audit found."""
        problems = self.verify()
        if problems:
            raise IndexCorruptError.of(problems, REBUILD)
        return [f"{self.describe()}: version {self.live_version()} is sound; nothing to repair"]

    def _has_log(self) -> bool:
        return bool(self.client.has_collection(self.names.log))

    def _committed(self) -> list[int]:
        return log.committed(self.client, self.names, self.consistency)


class _Guarded:
    """A `MilvusClient` whose failures surface as `IndexUnavailableError` (the project's errors)."""

    def __init__(self, client: MilvusClient, uri: str) -> None:
        self._client, self._uri = client, uri

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr
        return _guard(attr, self._uri)


def _guard(method: Callable[..., Any], uri: str) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except MilvusException as exc:
            raise IndexUnavailableError(f"Milvus at {uri}: {exc.message}") from exc

    return call
