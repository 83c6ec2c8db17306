"""Copying an index from one backend to another (e.g. local files into Milvus) without embedding anything."""

from __future__ import annotations

from embeddings.articles import Passage
from embeddings.backends.base import ArticleWrite, IndexReader, PassageDraft
from embeddings.errors import IndexCorruptError, IndexMismatchError
from embeddings.text import split_sentences
from embeddings.writer import BATCH_ARTICLES, Indexer, IndexReport, embed_hash, passage_context


def migrate(source: IndexReader, indexer: Indexer) -> IndexReport:
    """Replace the index of `indexer.backend` with every article of `source` and its stored vectors.

    One fresh transaction: readers see the old index until all of `source` is in. Content and
    embed hashes are computed as `Indexer.upsert` computes them, so later writes reuse the copied
    vectors. A local index of more than the exact threshold stores SQ8 codes: the vectors copied
    are those codes decoded, the vectors its searches used.

    Raises:
        IndexMismatchError: `source` was built with another encoder or other settings.
    """
    if source.info.encoder != indexer.encoder.identity or source.info.settings != indexer.settings:
        raise IndexMismatchError(
            f"the index to copy was built with {source.info.encoder!r} and settings {source.info.settings};"
            f" this writer has {indexer.encoder.identity!r} and {indexer.settings}"
        )
    report = IndexReport()
    backend = indexer.backend
    with backend.writer(indexer.lock_timeout):
        txn = backend.begin(indexer.spec, fresh=True)
        try:
            ids = source.article_ids()
            for start in range(0, len(ids), BATCH_ARTICLES):
                batch = ids[start : start + BATCH_ARTICLES]
                writes = [_copied(source, indexer, article_id) for article_id in batch]
                txn.put(writes)
                report.added += batch
                report.passages_reused += sum(len(w.passages) for w in writes)
            info = txn.commit()
        except BaseException:
            txn.abort()
            raise
    report.version, report.articles, report.passages = info.version, info.articles, info.passages
    return report


def _copied(source: IndexReader, indexer: Indexer, article_id: str) -> ArticleWrite:
    """One article of `source` as a write, with its stored passages and vectors."""
    article = source.article(article_id)
    if article is None:
        raise IndexCorruptError(f"the index to copy lists article {article_id!r} but holds no row of it")
    ids = source.article_passages(article_id)
    rows = source.passages(ids.tolist())
    title = indexer.title_prefix(article.title)
    drafts = []
    for pid in ids.tolist():
        row = rows[pid]
        passage = Passage(article_id, row.position, row.start, row.end, row.text)
        spans = row.sentences if row.sentences is not None else split_sentences(row.text)
        embedded = embed_hash(passage_context(title, passage, row.position))
        drafts.append(PassageDraft(row.position, row.start, row.end, row.text_hash, embedded, spans))
    return ArticleWrite(article, indexer.content_hash(article), drafts, source.vectors(ids))
