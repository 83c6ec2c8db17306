"""Document frequencies per BM25 term: versioned rows the writers keep and `idf` reads.

Milvus scores BM25 with statistics it does not expose, and the highlight weighs question words by
their rarity in the archive (`IndexReader.idf`). So each transaction writes, for every term whose
count of passages it changed, a row `(term, df, version)`; a reader takes the newest row of a term
at or below its version (older rows are purged once the log says they were superseded).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from pymilvus import MilvusClient

from embeddings.backends.milvus import expr
from embeddings.backends.milvus.log import LIMIT
from embeddings.backends.milvus.schema import KEY_MAX, PAD, Collections


def frequencies(
    client: MilvusClient, names: Collections, versions: str, terms: Iterable[str], consistency: str = "Strong"
) -> dict[str, int]:
    """Each stored term's passage count in the newest row among `versions` (an expression)."""
    newest: dict[str, tuple[int, int]] = {}
    kept = sorted({t for t in terms if len(t.encode()) <= KEY_MAX})  # longer ones are never stored
    for part in expr.chunks(kept):
        rows = client.query(
            names.terms,
            filter=f"{versions} and term in {expr.strings(part)}",
            output_fields=["term", "version", "df"],
            limit=LIMIT,
            consistency_level=consistency,
        )
        for row in rows:
            term, version = row["term"], int(row["version"])
            if term not in newest or version > newest[term][0]:
                newest[term] = (version, int(row["df"]))
    return {term: df for term, (_, df) in newest.items()}


def write(
    client: MilvusClient, names: Collections, version: int, base: str | None, changes: Counter[str]
) -> list[str]:
    """Rows of version `version` for every term `changes` moves: the count among the `base`
    versions (an expression; None for an empty base) plus the change. Returns those terms."""
    # A "word" longer than a key holds (a run of text without spaces) is left uncounted: BM25 still
    # matches it in the passages' own terms; only its rarity is unknown, as for a word never seen.
    terms = sorted(t for t, change in changes.items() if change and len(t.encode()) <= KEY_MAX)
    stored = frequencies(client, names, base, terms) if base is not None and terms else {}
    rows = [
        {"key": f"{version}:{t}", "term": t, "df": max(0, stored.get(t, 0) + changes[t]), "version": version}
        for t in terms
    ]
    for part in expr.chunks(rows):
        client.insert(names.terms, [row | {"pad": PAD} for row in part])
    return terms


def distinct(terms_text: str) -> set[str]:
    """The distinct terms of a passage's `terms` field (its BM25 tokens joined by spaces)."""
    return set(terms_text.split())


def counted(passages: Sequence[str]) -> Counter[str]:
    """Passages per term over the `terms` fields of some passages."""
    out: Counter[str] = Counter()
    for text in passages:
        out.update(distinct(text))
    return out
