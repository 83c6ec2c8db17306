"""Subprocess writers for crash and concurrency trials: the CLI path or a uvicorn server, fake encoder.

Run as `python -m tests.support.driver cli INDEX_DIR FILE... [--prune] [--sleep S]` (the real `qa index`
code path with its service swapped for one over a `SlowEncoder`) or `python -m tests.support.driver serve
INDEX_DIR --port P [--token T]` (the real app under a real uvicorn); `--backend milvus` keeps the index in
Milvus Lite (`INDEX_DIR/milvus.db`) instead of local files. Each `encode_documents` call
sleeps `--sleep` seconds and then prints `encoded N` on stdout, so a harness can widen the window in
which a kill lands and tell how far the writer got.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.articles import Article
from embeddings.chunking import ChunkingConfig
from qa.retrieval import RetrievalConfig
from qa.service import QAService
from qa.settings import Settings
from tests.support.backends import BACKENDS_AT
from tests.support.fakes import FakeEncoder

WORDS = (
    "harbour council budget railway election drought vaccine tariff bridge festival glacier senate "
    "pipeline refinery cotton wheat metro tunnel court verdict strike union airline runway museum "
    "earthquake flood reservoir satellite launch treaty summit embassy ferry pilgrim mosque cathedral "
    "orchard vineyard factory turbine solar grid ministry reform pension hospital clinic teacher "
    "student library stadium derby league coach striker goalkeeper parliament budget deficit inflation "
    "currency exchange bond market auction tender contract highway border customs caravan nomad"
).split()


class SlowEncoder(FakeEncoder):
    """`FakeEncoder` that sleeps per document batch and reports each batch on stdout."""

    def __init__(self, sleep: float = 0.0, report: bool = False) -> None:
        super().__init__()
        self.sleep, self.report = sleep, report

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        time.sleep(self.sleep)
        vectors = super().encode_documents(texts)
        if self.report:
            print(f"encoded {len(texts)}", flush=True)
        return vectors


def make_service(
    index_dir: Path,
    *,
    sleep: float = 0.0,
    report: bool = False,
    reload_interval: float = 0.0,
    backend: str = "local",
) -> QAService:
    """A service over the `backend` index in `index_dir` with the fake encoder and short passages
    (as `build_service`)."""
    encoder = SlowEncoder(sleep, report)
    return QAService(
        BACKENDS_AT[backend](index_dir),
        encoder,
        chunking=ChunkingConfig(size=20, overlap=0, max_tokens=encoder.max_tokens),
        # Articles get random dates: a recency preference would reorder the title look-ups the
        # harness uses to tell states apart, which is ranking, not durability.
        retrieval=RetrievalConfig(recency_weight=0.0),
        reload_interval=reload_interval,
        lock_timeout=120.0,
    )


def make_article(article_id: str, seed: int, revision: int = 0) -> Article:
    """A deterministic synthetic article; `revision` changes its title and every sentence."""
    rng = random.Random(f"{article_id}/{seed}/{revision}")
    sentences = [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 12))).capitalize() + f" rev{revision}."
        for _ in range(rng.randint(3, 8))
    ]
    return Article(
        article_id,
        f"{article_id} {rng.choice(WORDS)} report rev{revision}",
        " ".join(sentences),
        dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 700)),
        rng.choice(["News.Az", "Reuters", "Azernews"]),
        f"https://example.org/{article_id}",
    )


def article_record(article: Article) -> dict[str, Any]:
    """The JSON record `POST /articles` and the `.jsonl` reader accept for `article`."""
    return article.to_record()


def write_jsonl(path: Path, articles: Sequence[Article]) -> Path:
    path.write_text("".join(json.dumps(article_record(a)) + "\n" for a in articles), encoding="utf-8")
    return path


def run_cli(args: argparse.Namespace) -> int:
    from qa import cli

    def service(settings: Settings, progress: bool = False) -> QAService:
        return make_service(settings.index_dir, sleep=args.sleep, report=True, backend=args.backend)

    cli._service = service  # the real `qa index` code path, with the fake encoder
    argv = ["index", *map(str, args.files), "--index-dir", str(args.index_dir), "--json"]
    return cli.main([*argv, "--prune"] if args.prune else argv)


def run_server(args: argparse.Namespace) -> int:
    import uvicorn

    from qa.api import create_app

    settings = Settings(
        index_dir=args.index_dir,
        host="127.0.0.1",
        port=args.port,
        api_token=args.token,
        reload_interval=args.reload_interval,
    )
    service = make_service(
        args.index_dir,
        sleep=args.sleep,
        report=True,
        reload_interval=args.reload_interval,
        backend=args.backend,
    )
    app = create_app(settings, lambda: service)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.driver")
    sub = parser.add_subparsers(required=True)
    p = sub.add_parser("cli", help="run `qa index FILE...` with the fake encoder")
    p.add_argument("index_dir", type=Path)
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--prune", action="store_true")
    p.add_argument("--sleep", type=float, default=0.0)
    p.add_argument("--backend", choices=sorted(BACKENDS_AT), default="local")
    p.set_defaults(run=run_cli)
    p = sub.add_parser("serve", help="serve the API over INDEX_DIR with the fake encoder")
    p.add_argument("index_dir", type=Path)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--token")
    p.add_argument("--sleep", type=float, default=0.0)
    p.add_argument("--reload-interval", type=float, default=0.0)
    p.add_argument("--backend", choices=sorted(BACKENDS_AT), default="local")
    p.set_defaults(run=run_server)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
