"""Articles and passages as Milvus rows and back: a row per passage, the article's body in parts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from embeddings.articles import Article
from embeddings.backends.base import UNDATED, ArticleWrite, PassageRow
from embeddings.backends.milvus.schema import BODY_PART_CHARS, PARTS_PER_ARTICLE
from embeddings.errors import InvalidArticleError
from embeddings.text import bm25_tokens, lexical_text, split_sentences


def passage_rows(
    version: int,
    write: ArticleWrite,
    article_no: int,
    first_id: int,
    text_numbers: dict[str, int],
    *,
    title_context: bool,
) -> list[dict[str, Any]]:
    """The passages of `write` with ids from `first_id` in position order.

    `terms` holds the BM25 tokens of each passage (with its title when `title_context`), cut by
    `embeddings.text.bm25_tokens` as the local backend cuts them; Milvus only splits them.
    """
    article = write.article
    day = article.date.toordinal() if article.date else UNDATED
    texts = [article.text[p.start : p.end] for p in write.passages]
    lexical = [lexical_text(article.title, t, title_context) for t in texts]
    tokens = bm25_tokens(lexical, stem=True)
    rows = []
    for n, (passage, text) in enumerate(zip(write.passages, texts, strict=True)):
        sentences = passage.sentences if passage.sentences is not None else split_sentences(text)
        rows.append(
            {
                "id": first_id + n,
                "version": version,
                "article_id": article.id,
                "article_no": article_no,
                "text_no": text_numbers[passage.text_hash],
                "position": passage.position,
                "char_start": passage.start,
                "char_end": passage.end,
                "day": day,
                "source": article.source or "",
                "source_key": (article.source or "").lower(),
                "title": article.title,
                "url": article.url or "",
                "text": text,
                "terms": " ".join(tokens[n]),
                "dense": write.vectors[n].tolist(),
                "text_hash": passage.text_hash,
                "embed_hash": passage.embed_hash,
                "sentences": [[int(s), int(e)] for s, e in sentences],
            }
        )
    return rows


def article_rows(version: int, write: ArticleWrite, article_no: int) -> list[dict[str, Any]]:
    """The article's rows: its fields on each, its body cut into parts of `BODY_PART_CHARS`."""
    article = write.article
    text = article.text
    parts = [text[i : i + BODY_PART_CHARS] for i in range(0, len(text), BODY_PART_CHARS)] or [""]
    if len(parts) > PARTS_PER_ARTICLE:
        raise InvalidArticleError(article.id, f"longer than {BODY_PART_CHARS * PARTS_PER_ARTICLE} characters")
    head = {
        "version": version,
        "article_id": article.id,
        "article_no": article_no,
        "parts": len(parts),
        "title": article.title,
        "day": article.date.toordinal() if article.date else UNDATED,
        "source": article.source or "",
        "url": article.url or "",
        "path": article.path or "",
        "content_hash": write.content_hash,
    }
    return [
        head | {"key": article_no * PARTS_PER_ARTICLE + n, "part": n, "text": part}
        for n, part in enumerate(parts)
    ]


def passage_row(row: dict[str, Any]) -> PassageRow:
    """A passage row as queried (with `schema.ROW_FIELDS`)."""
    return PassageRow(
        int(row["id"]),
        row["article_id"],
        int(row["position"]),
        int(row["char_start"]),
        int(row["char_end"]),
        row["text"],
        row["text_hash"],
        row["title"],
        day_date(int(row["day"])),
        row["source"] or None,
        row["url"] or None,
        tuple((int(s), int(e)) for s, e in row["sentences"]),
    )


def article_of(rows: Sequence[dict[str, Any]]) -> Article | None:
    """The article whose rows (every part, with `schema.ARTICLE_FIELDS`) these are; None for none."""
    if not rows:
        return None
    parts = sorted(rows, key=lambda r: int(r["part"]))
    head = parts[0]
    return Article(
        head["article_id"],
        head["title"],
        "".join(r["text"] for r in parts),
        day_date(int(head["day"])),
        head["source"] or None,
        head["url"] or None,
        head["path"] or None,
    )


def day_date(day: int) -> dt.date | None:
    return dt.date.fromordinal(day) if day != UNDATED else None
