"""A local write transaction: changes to a private copy of the live version, published atomically."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from embeddings.backends.base import ArticleWrite, IndexInfo, IndexSpec
from embeddings.backends.local.columns import ColumnFiles
from embeddings.backends.local.integrity import record_files
from embeddings.backends.local.lexical import LexicalIndex
from embeddings.backends.local.rows import FILENAME as ROWS_FILE
from embeddings.backends.local.rows import MetadataStore, NewPassage
from embeddings.backends.local.stores import VectorStore
from embeddings.backends.local.versions import FORMAT, MANIFEST, PUBLISHED, IndexDirectory, Manifest
from embeddings.errors import IndexWriteError
from embeddings.text import lexical_text, split_sentences


class LocalTransaction:
    """Implements `embeddings.backends.base.WriteTransaction` in a private directory `tmp`.

    Begun from a version (whose files `tmp` holds), the commit brings that version's per-passage
    column files and lexical index up to date with this transaction's own changes instead of
    rebuilding them; `compact` (`qa optimize`) rebuilds both, which also renumbers densely.
    """

    def __init__(
        self,
        directory: IndexDirectory,
        tmp: Path,
        spec: IndexSpec,
        store_name: str,
        store: VectorStore,
        version: int,
        next_id: int,
        base_lexical: LexicalIndex | None,
        *,
        incremental: bool,
        stem: bool = True,
        live: Callable[[], IndexInfo | None] = lambda: None,
    ) -> None:
        self.directory, self.tmp, self.spec = directory, tmp, spec
        self.store_name, self.store, self.version, self.next_id = store_name, store, version, next_id
        self.base_lexical = base_lexical  # the lexical index of the version begun from
        self.incremental, self.stem, self.live = incremental, stem, live
        self.rows = MetadataStore(tmp / ROWS_FILE, readonly=False)
        self.columns = ColumnFiles(self.rows)
        self.dirty = False  # whether anything changed, i.e. whether committing is worth a version
        self.rows.begin()

    # --- reads of the content being changed ---------------------------------------------------

    def content_hashes(self, article_ids: Sequence[str]) -> dict[str, str]:
        return self.rows.content_hashes(article_ids)

    def article_ids(self) -> list[str]:
        return self.rows.article_ids()

    def cached_vectors(self, embed_hashes: Sequence[str]) -> dict[str, np.ndarray]:
        cached = self.rows.vector_ids_by_embed_hash(embed_hashes)
        if not cached:
            return {}
        hashes = list(cached)
        vectors = self.store.vectors(np.array([cached[h] for h in hashes], dtype=np.int64))
        return dict(zip(hashes, vectors, strict=True))

    # --- changes ------------------------------------------------------------------------------

    def put(self, writes: Sequence[ArticleWrite]) -> None:
        if not writes:
            return
        self.dirty = True
        self.store.remove(self.rows.delete_articles([w.article.id for w in writes]))
        ids = self._allocate(sum(len(w.passages) for w in writes))
        row = 0
        for write in writes:
            rows = [
                NewPassage(
                    int(ids[row + n]),
                    write.article.id,
                    p.position,
                    p.start,
                    p.end,
                    p.text_hash,
                    p.embed_hash,
                    p.sentences,
                )
                for n, p in enumerate(write.passages)
            ]
            self.rows.insert(write.article, write.content_hash, rows)
            row += len(rows)
        self.store.add(ids, np.concatenate([w.vectors for w in writes]))

    def delete(self, article_ids: Sequence[str]) -> list[str]:
        present = self.rows.content_hashes(article_ids)
        self.dirty = self.dirty or bool(present)
        self.store.remove(self.rows.delete_articles(list(present)))
        return [i for i in article_ids if i in present]

    def compact(self) -> None:
        self.dirty = True
        self.incremental = False
        self.base_lexical = None  # built afresh: also drops words no passage uses any more
        self.rows.fill_sentences(split_sentences)

    def _allocate(self, n: int) -> np.ndarray:
        ids = np.arange(self.next_id, self.next_id + n, dtype=np.int64)
        self.next_id += n
        return ids

    # --- ending -------------------------------------------------------------------------------

    def commit(self) -> IndexInfo:
        if not self.dirty and (live := self.live()) is not None:
            self.abort()  # nothing changed: keep the live version rather than copy it
            return live
        ids = self.columns.write(incremental=self.incremental)
        lexical = self._lexical(ids)
        self.rows.commit()
        articles, passages = self.rows.counts()
        self.rows.close()
        self.store.save(self.tmp)
        lexical.save(self.tmp)
        files = record_files(self.tmp, exclude=frozenset({MANIFEST, PUBLISHED}))
        created = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        manifest = Manifest(
            FORMAT,
            self.version,
            self.spec.encoder,
            self.store.dim,
            self.store_name,
            self.spec.settings,
            articles,
            passages,
            self.next_id,
            created,
            files,
        )
        (self.tmp / MANIFEST).write_text(manifest.to_json())
        self.directory.publish(self.tmp, self.version)
        return IndexInfo(
            self.version,
            self.spec.encoder,
            self.store.dim,
            self.store_name,
            articles,
            passages,
            created,
            dict(self.spec.settings),
        )

    def _lexical(self, ids: np.ndarray) -> LexicalIndex:
        title_context = bool(self.spec.settings.get("title_context", True))

        def texts_of(wanted: np.ndarray) -> list[str]:
            rows = self.rows.passage_texts(wanted)
            return [lexical_text(title, text, title_context) for _, title, text in rows]

        base = self.base_lexical
        if base is not None and base.stem == self.stem:
            return base.updated(ids, texts_of)  # tokenizes only the passages added since base
        return LexicalIndex.build(ids, texts_of(ids), stem=self.stem)

    def abort(self) -> None:
        try:
            self.rows.close()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


@contextmanager
def storage_errors() -> Iterator[None]:
    """Turn what the disk says during a write (no space, an I/O error, a read-only file system),
    in whichever library met it first (the OS, SQLite, FAISS), into one `IndexWriteError` line."""
    try:
        yield
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
        raise IndexWriteError(f"could not write the index ({reason}); the live version is unchanged") from exc
    except sqlite3.OperationalError as exc:
        if not any(word in str(exc) for word in ("disk", "full", "I/O", "readonly")):
            raise
        raise IndexWriteError(f"could not write the index ({exc}); the live version is unchanged") from exc
    except RuntimeError as exc:  # FAISS's, whose message names its C++ source: kept in the chain only
        if "write" not in str(exc).lower():
            raise
        raise IndexWriteError(
            "could not write the index (FAISS failed to write the vectors); the live version is unchanged"
        ) from exc
