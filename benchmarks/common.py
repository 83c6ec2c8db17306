"""Shared benchmark plumbing: data loading, word windows, scoring, results and an embedding cache."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

# The statistics live in tests/support/ (the unit tests pin them); benchmarks keep importing them from here.
from tests.support.stats import paired_bootstrap as paired_bootstrap
from tests.support.stats import per_query_scores as per_query_scores
from tests.support.stats import read_jsonl as read_jsonl
from tests.support.stats import score as score

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE_DIR = REPO_ROOT / ".bench" / "cache"
DEFAULT_RESULTS_DIR = REPO_ROOT / ".bench" / "results"

Encode = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True, slots=True)
class BenchPassage:
    """One word window of a benchmark article (whitespace-normalised, so not a char span)."""

    article_id: str
    text: str


def split_parser(doc: str | None) -> argparse.ArgumentParser:
    """The command line of a study over one split and its index: `DATA_DIR --index-dir DIR`, the
    module's docstring as its help; the caller adds its own options."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--index-dir", type=Path, required=True)
    return parser


def load_corpus(data_dir: Path) -> list[dict[str, Any]]:
    """Read `data_dir/corpus.jsonl`: one `{id, title, text, date, source, url}` dict per article."""
    return read_jsonl(Path(data_dir) / "corpus.jsonl")


def load_queries(data_dir: Path) -> list[dict[str, Any]]:
    """Read `data_dir/queries.jsonl`: one `{id, question, date, answers, gold_ids, source}` per query."""
    return read_jsonl(Path(data_dir) / "queries.jsonl")


def word_passages(text: str, size: int = 200, overlap: int = 40) -> list[str]:
    """Split a text into windows of `size` words that overlap by `overlap` words.

    Windows start every `size - overlap` words; the last window may be short. A text of at
    most `size` words is one passage; a text with no words has none. Words are re-joined
    with single spaces.
    """
    if not 0 <= overlap < size:
        raise ValueError(f"need 0 <= overlap < size, got size={size} overlap={overlap}")
    words = text.split()
    stride = size - overlap
    passages = []
    start = 0
    while start < len(words):
        passages.append(" ".join(words[start : start + size]))
        if start + size >= len(words):
            break
        start += stride
    return passages


def corpus_passages(
    articles: Sequence[dict[str, Any]], size: int = 200, overlap: int = 40
) -> list[BenchPassage]:
    """All word windows of all articles, in corpus order then window order."""
    return [
        BenchPassage(article_id=str(a["id"]), text=t)
        for a in articles
        for t in word_passages(a.get("text") or "", size, overlap)
    ]


def words_at(results: list[dict[str, Any]], k: int = 5) -> float:
    """Mean words per hit text over the top k hits of every result (how much text AnsRec@k reads)."""
    counts = [len((h.get("text") or "").split()) for r in results for h in r.get("hits", [])[:k]]
    return round(sum(counts) / max(len(counts), 1), 1)


def write_results(path: Path, results: list[dict[str, Any]]) -> None:
    """Write one results JSON object per line (the format score.py reads)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for r in results:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def _save_npy(path: Path, array: np.ndarray) -> None:
    # Write then rename, so an interrupted run never leaves a truncated file under the final name.
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:
        np.save(f, array)
    os.replace(tmp, path)


def _load_rows(path: Path, rows: int) -> np.ndarray | None:
    try:
        array = np.load(path)
    except (OSError, ValueError):
        return None
    return array if array.ndim == 2 and array.shape[0] == rows else None


def encode_in_chunks(
    texts: Sequence[str],
    encode: Encode,
    partial_dir: Path,
    chunk_size: int = 1000,
    desc: str = "encoding",
) -> np.ndarray:
    """Encode `texts` chunk by chunk, saving each chunk so an interrupted run resumes.

    Chunk `i` (texts `i*chunk_size` to `(i+1)*chunk_size`) is stored as `partial_dir/{i:06d}.npy`;
    chunks already there are loaded, not re-encoded. A tqdm bar (stderr) counts texts.

    Returns:
        `(len(texts), dim)` float32 array, rows in the order of `texts`.
    """
    partial_dir = Path(partial_dir)
    partial_dir.mkdir(parents=True, exist_ok=True)
    bounds = [(s, min(s + chunk_size, len(texts))) for s in range(0, len(texts), chunk_size)]
    chunks: list[np.ndarray | None] = [
        _load_rows(partial_dir / f"{i:06d}.npy", end - start) for i, (start, end) in enumerate(bounds)
    ]
    done = sum(end - start for (start, end), c in zip(bounds, chunks, strict=True) if c is not None)
    with tqdm(total=len(texts), initial=done, desc=desc, unit="text", mininterval=5.0) as bar:
        for i, (start, end) in enumerate(bounds):
            if chunks[i] is not None:
                continue
            vectors = np.asarray(encode(list(texts[start:end])), dtype=np.float32)
            _save_npy(partial_dir / f"{i:06d}.npy", vectors)
            chunks[i] = vectors
            bar.update(end - start)
    if not bounds:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate([c for c in chunks if c is not None], axis=0)


def cache_key(key_texts: Sequence[str], tag: str) -> str:
    """sha256 hex digest of `tag` and every text (length-prefixed, so boundaries count)."""
    h = hashlib.sha256()
    for part in (tag, *key_texts):
        data = part.encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def cached_embeddings(
    key_texts: list[str],
    encode: Encode,
    cache_dir: Path,
    tag: str,
    chunk_size: int = 1000,
) -> np.ndarray:
    """Embeddings of `key_texts`, computed once and then read from `cache_dir`.

    The cache file is `cache_dir/<sha256(tag, texts)>.npy`, with a `.json` note beside it
    (tag, rows, dim). `tag` must name everything that changes the vectors (model, sequence
    length, role). While encoding, progress is kept in `<key>.partial-<chunk_size>/` (see
    `encode_in_chunks`) and removed once the full array is saved.

    Returns:
        `(len(key_texts), dim)` float32 array.
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = cache_key(key_texts, tag)
    final = cache_dir / f"{key}.npy"
    cached = _load_rows(final, len(key_texts)) if final.exists() else None
    if cached is not None:
        return cached.astype(np.float32, copy=False)
    partial_dir = cache_dir / f"{key}.partial-{chunk_size}"
    vectors = encode_in_chunks(key_texts, encode, partial_dir, chunk_size=chunk_size, desc=tag)
    _save_npy(final, vectors)
    note = {"tag": tag, "rows": int(vectors.shape[0]), "dim": int(vectors.shape[1])}
    (cache_dir / f"{key}.json").write_text(json.dumps(note) + "\n", encoding="utf-8")
    shutil.rmtree(partial_dir, ignore_errors=True)
    return vectors
