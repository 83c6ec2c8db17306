"""Shared benchmark plumbing: data loading, word windows, scoring, results and an embedding cache."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE_DIR = REPO_ROOT / ".bench" / "cache"
DEFAULT_RESULTS_DIR = REPO_ROOT / ".bench" / "results"

Encode = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True, slots=True)
class BenchPassage:
    """One word window of a benchmark article (whitespace-normalised, so not a char span)."""

    article_id: str
    text: str


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_corpus(data_dir: Path) -> list[dict[str, Any]]:
    """Read `data_dir/corpus.jsonl`: one `{id, title, text, date, source, url}` dict per article."""
    return _read_jsonl(Path(data_dir) / "corpus.jsonl")


def load_queries(data_dir: Path) -> list[dict[str, Any]]:
    """Read `data_dir/queries.jsonl`: one `{id, question, date, answers, gold_ids, source}` per query."""
    return _read_jsonl(Path(data_dir) / "queries.jsonl")


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


def score(queries_path: Path, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Score results with the benchmark's own `score.py` (found beside the data directory).

    Args:
        queries_path: `DATA_DIR/queries.jsonl`; `score.py` is read from `DATA_DIR/../score.py`.
        results: one `{"id", "hits": [{"article_id", "text"}, ...]}` per query, hits best first.

    Returns:
        score.py's metrics dict (Hits@k, MRR@10, AnsRec@k, queries, answered).
    """
    return _scorer(Path(queries_path)).score(_read_jsonl(Path(queries_path)), results)


def per_query_scores(queries_path: Path, results: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Each `score.py` metric for each query alone: metric -> `(n_queries,)` array, queries in file order.

    `score.py` scores every query separately, so the mean of a column is the aggregate it prints
    (up to its rounding to 4 decimals); a query with no results line scores 0, as there.
    """
    queries = _read_jsonl(Path(queries_path))
    scorer = _scorer(Path(queries_path))
    by_id = {r["id"]: r for r in results}
    rows = [scorer.score([q], [by_id[q["id"]]] if q["id"] in by_id else []) for q in queries]
    metrics = [m for m, v in rows[0].items() if isinstance(v, float)] if rows else []
    return {m: np.array([row[m] for row in rows], dtype=np.float64) for m in metrics}


def paired_bootstrap(
    ours: np.ndarray, theirs: np.ndarray, *, rounds: int = 10_000, level: float = 0.95, seed: int = 0
) -> tuple[float, float, np.ndarray]:
    """Confidence interval of `mean(ours - theirs)` by resampling queries with replacement.

    Both arrays hold one score per query, aligned `(n_queries,)`; resampling pairs keeps each
    query's two scores together, so what both systems find hard cancels out.

    Returns:
        `(low, high, means)`: the central `level` interval and all `rounds` resampled means.
    """
    if ours.shape != theirs.shape or ours.ndim != 1 or len(ours) == 0:
        raise ValueError(f"need two equal non-empty 1-d arrays, got {ours.shape} and {theirs.shape}")
    diff = ours - theirs
    picks = np.random.default_rng(seed).integers(0, len(diff), size=(rounds, len(diff)))
    means = diff[picks].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high), means


def _scorer(queries_path: Path) -> Any:
    """The benchmark's `score.py` module, imported from beside the data directory."""
    script = queries_path.parent.parent / "score.py"
    spec = importlib.util.spec_from_file_location("benchmark_score", script)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"cannot import {script}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
