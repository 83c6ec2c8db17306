"""The milvus backend beyond the contract: commit log and purge, term counts, long bodies, settings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import fcntl
import json
import logging
import math
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from embeddings.articles import Article
from embeddings.backends import UNDATED, ArticleWrite, Filters, IndexSpec, PassageDraft, create_backend
from embeddings.backends.base import best_first
from embeddings.backends.milvus import backend as milvus_backend
from embeddings.backends.milvus import log as milvus_log
from embeddings.backends.milvus.reader import MilvusReader
from embeddings.backends.milvus.scan import scan
from embeddings.backends.milvus.schema import BODY_PART_CHARS, FILTERED_EF, DenseIndex
from embeddings.errors import (
    ConfigurationError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexUnavailableError,
    IndexWriteError,
    NotADirectoryIndexError,
)
from embeddings.text import split_sentences
from qa import cli
from qa.api.errors import public_message
from qa.retrieval import RetrievalConfig
from qa.service import QAService
from qa.settings import Settings
from tests.support.fakes import FakeEncoder
from tests.support.services import build_service

pytest.importorskip("milvus_lite")
MilvusBackend = milvus_backend.MilvusBackend


def _article(article_id: str, text: str, *, title: str | None = None, day: int = 1) -> Article:
    return Article(article_id, title or f"About {article_id}", text, dt.date(2024, 1, day), "Wire", None)


ARTICLES = [
    _article(
        "flood", "Floods swept the northern valley overnight. Rescue teams reached the villages.", day=3
    ),
    _article("vote", "Parliament approved the budget vote. Turnout was low in the capital.", day=5),
    _article("quake", "An earthquake shook the coastal town. Fishermen stayed ashore.", day=7),
]


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[MilvusBackend]:
    b = MilvusBackend(tmp_path / "milvus.db", collection="unit")
    yield b
    b.close()


@pytest.fixture
def milvus(backend: MilvusBackend, fake_encoder: FakeEncoder) -> QAService:
    qa = QAService(backend, fake_encoder, reload_interval=0)
    qa.add(ARTICLES)
    return qa


def _rows(backend: MilvusBackend, collection: str, where: str = "version >= 0") -> int:
    return int(backend.client.query(collection, filter=where, output_fields=["count(*)"])[0]["count(*)"])


def _write(article: Article, encoder: FakeEncoder) -> ArticleWrite:
    """The article as one passage per sentence (hashes of its words), vectors of `encoder`."""
    spans = split_sentences(article.text)
    texts = [article.text[a:b] for a, b in spans]
    drafts = [
        PassageDraft(n, a, b, f"t:{t}", f"e:{t}")
        for n, ((a, b), t) in enumerate(zip(spans, texts, strict=True))
    ]
    return ArticleWrite(article, f"c:{article.text}", drafts, encoder.encode_documents(texts))


def test_a_writer_that_died_before_its_commit_leaves_rows_no_reader_sees_and_the_next_writer_deletes(
    backend: MilvusBackend, milvus: QAService, fake_encoder: FakeEncoder
) -> None:
    version = backend.live_version()
    with backend.writer(timeout=5):
        dead = backend.begin(milvus.indexer.spec)  # as a killed writer: rows written, no commit
        dead.put([_write(_article("vote", "The budget failed in a late vote."), fake_encoder)])
        dead.put([_write(_article("new", "A new article arrived."), fake_encoder)])
        dead.delete(["quake"])
    assert _rows(backend, backend.names.passages, f"version > {int(version)}") > 0
    assert backend.live_version() == version
    reader = backend.open()
    assert reader.article("vote") == ARTICLES[1] and reader.article("new") is None
    assert reader.article("quake") == ARTICLES[2] and reader.check() == []
    with backend.writer(timeout=5):
        backend.begin(milvus.indexer.spec).abort()
    for name in (*backend.names.data, backend.names.log):
        assert _rows(backend, name, f"version > {int(version)}") == 0


def test_a_commit_whose_purge_did_not_run_hides_the_rows_it_retired(
    backend: MilvusBackend, milvus: QAService, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = set(backend.open().article_passages("vote").tolist())
    from embeddings.backends.milvus import transaction

    monkeypatch.setattr(transaction.upkeep, "purge", lambda *args: None)  # killed after the commit row
    milvus.add([_article("vote", "The budget failed in a late vote. Ministers resigned.", day=5)])
    reader = backend.open()
    assert _rows(backend, backend.names.passages, f"id in {sorted(old)}") == len(old)  # still stored
    everything = reader.candidates(np.ones(64, np.float32) / 8, "budget vote turnout", 50, Filters())
    assert not old & (set(everything.dense_ids.tolist()) | set(everything.lexical_ids.tolist()))
    assert reader.article("vote").text.startswith("The budget failed")  # type: ignore[union-attr]
    assert reader.check() == [] and reader.info.articles == 3
    monkeypatch.undo()
    with backend.writer(timeout=5):
        backend.begin(milvus.indexer.spec).abort()  # the next writer finishes the purge
    assert _rows(backend, backend.names.passages, f"id in {sorted(old)}") == 0
    assert backend.open().snapshot.retired == ()


def test_term_frequencies_follow_updates_and_deletes(
    tmp_path: Path, backend: MilvusBackend, milvus: QAService, fake_encoder: FakeEncoder
) -> None:
    milvus.add([_article("vote", "The earthquake budget failed in a late vote.", day=5)])
    milvus.delete(["flood"])
    milvus.add([_article("storm", "A storm and an earthquake hit the valley.", day=9)])
    fresh = MilvusBackend(tmp_path / "fresh.db", collection="fresh")
    try:
        rebuilt = QAService(fresh, fake_encoder, reload_interval=0)
        rebuilt.add([backend.open().article(i) for i in ("vote", "quake", "storm")])  # type: ignore[misc]
        words = ["earthquake", "valley", "budget", "floods", "rescue", "storm", "nowhere"]
        assert backend.open().idf(words) == pytest.approx(fresh.open().idf(words))
        n = fresh.open().info.passages
        assert fresh.open().idf(["nowhere"])["nowhere"] == pytest.approx(math.log(1 + (n + 0.5) / 0.5))
    finally:
        fresh.close()


def test_a_long_body_is_stored_in_parts_and_read_back_whole(
    backend: MilvusBackend, milvus: QAService
) -> None:
    body = " ".join(f"Sentence number {n} of a very long report." for n in range(900))
    assert len(body) > 2 * BODY_PART_CHARS
    milvus.add([_article("long", body, day=9)])
    reader = backend.open()
    assert reader.article("long").text == body  # type: ignore[union-attr]
    start = BODY_PART_CHARS - 10
    assert reader.article_slice("long", start, start + 30) == body[start : start + 30]
    assert reader.check() == []


def test_a_copy_of_a_local_index_answers_alike_and_reuses_its_hashes(
    tmp_path: Path, fake_encoder: FakeEncoder, articles: list[Article]
) -> None:
    # Rank fusion: the learned ranking also reads BM25 scores, which Milvus's analyser and BM25
    # compute a little differently from bm25s, so its order may differ where scores are close.
    weights = RetrievalConfig(ranking="weights")
    local = build_service(tmp_path / "local", fake_encoder, retrieval=weights)
    local.add(articles)
    target = MilvusBackend(tmp_path / "copy.db", collection="copy")
    try:
        copy = build_service(tmp_path / "unused", fake_encoder)
        copy = QAService(
            target, fake_encoder, chunking=copy.indexer.chunking, retrieval=weights, reload_interval=0
        )
        report = copy.migrate(local.backend)
        assert report.passages_embedded == 0 and report.articles == len(articles)
        assert copy.check() == [] and copy.stats()["passages"] == local.stats()["passages"]
        for question in ("budget vote", "earthquake on the coast", "cricket final"):
            assert [h.article_id for h in copy.search(question, k=3)] == [
                h.article_id for h in local.search(question, k=3)
            ]
        again = copy.add(articles)
        assert again.unchanged == len(articles) and again.passages_embedded == 0
    finally:
        target.close()


def test_a_copy_refuses_an_index_of_other_settings(
    tmp_path: Path, fake_encoder: FakeEncoder, articles: list[Article]
) -> None:
    local = build_service(tmp_path / "local", fake_encoder)
    local.add(articles[:2])
    target = MilvusBackend(tmp_path / "copy.db", collection="copy")
    try:
        other = QAService(target, fake_encoder, title_context=False, reload_interval=0)
        with pytest.raises(IndexMismatchError):
            other.migrate(local.backend)
    finally:
        target.close()


def test_settings_name_a_lite_file_under_the_index_dir_or_a_server(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path, backend="milvus", milvus_token="u:p")
    options = settings.backend_options()
    assert (
        options["uri"] == str(tmp_path / "milvus.db") and options["token"] == "u:p" and options["shards"] == 1
    )
    assert settings.single_process
    server = Settings(index_dir=tmp_path, backend="milvus", milvus_uri="http://milvus:19530")
    assert not server.single_process
    built = create_backend("milvus", **server.backend_options())
    assert built.describe().startswith("http://milvus:19530")
    with pytest.raises(ConfigurationError):
        MilvusBackend(tmp_path / "index.sqlite")
    with pytest.raises(ConfigurationError):
        MilvusBackend(tmp_path / "x.db", consistency="Sometimes")


def test_a_lite_index_another_process_holds_is_refused_at_once_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "held.db"
    data.mkdir()
    fd = os.open(data / milvus_backend.LITE_LOCK, os.O_CREAT | os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as Milvus Lite's engine in another process
    try:
        with pytest.raises(IndexUnavailableError, match="another process has the Milvus Lite index"):
            MilvusBackend(str(data), lock_path=tmp_path / "w.lock").client  # noqa: B018
    finally:
        os.close(fd)
    assert not milvus_backend._lite_held(data)  # released: free again


def test_pymilvus_logs_through_the_root_logger(backend: MilvusBackend) -> None:
    """Not through a stderr handler of its own, which no console setting could quiet (handed back
    when the first client connects)."""
    backend.client  # noqa: B018
    for name in ("pymilvus", "pymilvus.milvus_client"):
        logger = logging.getLogger(name)
        assert logger.handlers == [] and logger.propagate


def test_an_unknown_dense_index_is_a_configuration_error_before_anything_is_made() -> None:
    with pytest.raises(ValidationError, match="not a Milvus index of float vectors: 'BOGUS'"):
        Settings(backend="milvus", milvus_index="BOGUS")
    assert Settings(milvus_index="flat").milvus_index == "FLAT"


def test_a_lite_uri_naming_a_file_is_one_line(tmp_path: Path) -> None:
    plain = tmp_path / "notes.db"
    plain.write_text("hi")

    with pytest.raises(IndexUnavailableError, match="is a file, not a Milvus Lite index"):
        MilvusBackend(str(plain), lock_path=tmp_path / "w.lock").client  # noqa: B018


def test_a_servers_credentials_in_its_url_never_show_in_messages(tmp_path: Path) -> None:
    # pymilvus takes `user:password@` in the URL as credentials; an error about the server can
    # reach any client of the API in a 503's detail.
    backend = MilvusBackend("http://editor:s3cret@127.0.0.1:1", lock_path=tmp_path / "w.lock")

    assert backend.describe().startswith("http://***@127.0.0.1:1 ")
    with pytest.raises(IndexUnavailableError) as refused:
        backend.client  # noqa: B018  # nothing listens on port 1
    assert "s3cret" not in str(refused.value) and "Milvus at http://***@127.0.0.1:1:" in str(refused.value)


@pytest.mark.parametrize("kind", ["file", "dangling link"])
def test_an_index_dir_that_cannot_be_a_folder_is_one_line_for_reads_and_writes(
    tmp_path: Path, kind: str
) -> None:
    """As with the local backend: not a traceback from `mkdir` when writing, nor "no index"."""
    index_dir = tmp_path / "idx"
    if kind == "file":
        index_dir.write_text("hi")
    else:
        index_dir.symlink_to(tmp_path / "unmounted")
    settings = Settings(backend="milvus", index_dir=index_dir)
    backend = create_backend("milvus", **settings.backend_options())
    qa = build_service(backend, FakeEncoder())

    for call in (qa.exists, lambda: qa.add(ARTICLES)):
        with pytest.raises(NotADirectoryIndexError, match=f"^{index_dir} is a (file|link)"):
            call()
    assert not (tmp_path / "unmounted").exists()


def test_a_writer_lock_that_cannot_be_made_is_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only index dir (where the lock lives): an `IndexWriteError`, not a traceback."""

    class ReadOnlyLock(milvus_backend.FileLock):
        def acquire(self, *args: object, **kwargs: object) -> None:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), self.lock_file)

    monkeypatch.setattr(milvus_backend, "FileLock", ReadOnlyLock)
    backend = MilvusBackend(tmp_path / "milvus.db", lock_path=tmp_path / "w.lock")

    with pytest.raises(IndexWriteError, match=r"writer lock .*w\.lock \(Read-only file system\); nothing"):
        build_service(backend, FakeEncoder()).add(ARTICLES)
    assert not backend.exists()


def test_the_index_type_is_the_one_the_collections_were_built_with(tmp_path: Path) -> None:
    """`QA_MILVUS_INDEX` applies when the collections are made: a later write under another
    setting keeps the built index, and says so."""
    uri = tmp_path / "flat.db"
    flat = MilvusBackend(uri, collection="kind", index_type="FLAT")
    build_service(flat, FakeEncoder()).add(ARTICLES)
    flat.close()
    hnsw = MilvusBackend(uri, collection="kind")  # the default, HNSW
    qa = build_service(hnsw, FakeEncoder())
    qa.add([_article("more", "More floods in the valley.", day=9)])
    try:
        assert qa.stats()["backend"] == "milvus-flat"
        assert hnsw.client.describe_index("kind_passages", "dense")["index_type"] == "FLAT"
    finally:
        hnsw.close()


# --- exact dense search under restrictive filters ------------------------------------------------

DAY0 = dt.date(2024, 1, 1)
DAYS = 100  # the random articles are dated over this many days: one day's filter keeps 1 %
TIED = tuple(f"copy{n}" for n in range(8))  # articles of the source "Copies", all of one vector
SPANS = ((0, 0, 9), (1, 10, 18))  # each article's two passages: "One part." and "Another."
RandomIndex = tuple[Path, str, dict[str, np.ndarray]]


def _random_corpus(uri: Path, index_type: str) -> dict[str, np.ndarray]:
    """600 articles of two seeded random unit vectors (32 numbers) dated over `DAYS` days, and the
    `TIED` copies dated after them, in Milvus Lite; closed once written, so that the dense index is
    built (Lite searches a segment exactly until then). Returns each article's `(2, 32)` vectors."""
    rng = np.random.default_rng(0)
    drawn = rng.standard_normal((600 + 1, 2, 32)).astype(np.float32)
    drawn /= np.linalg.norm(drawn, axis=2, keepdims=True)
    drawn[-1, 1] = drawn[-1, 0]
    vectors = {f"a{n:03d}": drawn[n] for n in range(600)} | dict.fromkeys(TIED, drawn[-1])
    writes = []
    for n, (article_id, v) in enumerate(vectors.items()):
        tied = article_id in TIED
        day = DAY0 + dt.timedelta(days=DAYS if tied else n % DAYS)
        article = Article(article_id, article_id, "One part. Another.", day, "Copies" if tied else "Wire")
        drafts = [PassageDraft(p, a, b, f"t:{article_id}{p}", f"e:{article_id}{p}") for p, a, b in SPANS]
        writes.append(ArticleWrite(article, f"c:{article_id}", drafts, v))
    backend = MilvusBackend(uri, collection="exact", index_type=index_type)
    try:
        with backend.writer(timeout=10):
            txn = backend.begin(IndexSpec("random@0", 32, {"title_context": False}))
            txn.put(writes)
            txn.commit()
    finally:
        backend.close()  # waits for Lite's index build
    return vectors


@pytest.fixture(scope="module", params=["HNSW", "IVF_FLAT", "FLAT"])
def random_index(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> RandomIndex:
    uri = tmp_path_factory.mktemp("exact") / "milvus.db"
    return uri, request.param, _random_corpus(uri, request.param)


@contextmanager
def _opened(random_index: RandomIndex, **options: Any) -> Iterator[MilvusReader]:
    uri, index_type, _ = random_index
    backend = MilvusBackend(uri, collection="exact", index_type=index_type, **options)
    try:
        yield backend.open()
    finally:
        backend.close()


def _brute_force(
    reader: MilvusReader, vectors: dict[str, np.ndarray], articles: list[str], query: np.ndarray, n: int
) -> tuple[list[int], np.ndarray]:
    """The `n` best passages of `articles` for `query` by inner product, equal scores by id."""
    ids = np.concatenate([reader.article_passages(a) for a in articles])
    ids, scores = best_first(ids, np.concatenate([vectors[a] @ query for a in articles]))
    return ids[:n].tolist(), scores[:n]


def _queries(count: int) -> np.ndarray:
    q = np.random.default_rng(1).standard_normal((count, 32)).astype(np.float32)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def test_a_restrictive_filter_finds_the_exact_dense_top_n_whatever_the_index(
    random_index: RandomIndex,
) -> None:
    """A filter that keeps 1 % of the passages: the HNSW graph, searched alone, misses many of them
    (shown with the exact path off); the reader scores them exactly, as the local backend does."""
    _, index_type, vectors = random_index
    day = DAY0 + dt.timedelta(days=7)
    kept = [a for a in vectors if a not in TIED and (int(a[1:]) % DAYS) == 7]
    filters = Filters(since=day, until=day)
    with _opened(random_index) as reader:
        for query in _queries(10):
            truth, scores = _brute_force(reader, vectors, kept, query, 10)
            found = reader.candidates(query, None, 10, filters)
            assert found.dense_ids.tolist() == truth
            np.testing.assert_allclose(found.dense_scores, scores, atol=1e-6)
            assert reader.columns(found.dense_ids).days.tolist() == [day.toordinal()] * 10
    if index_type == "HNSW":
        with _opened(random_index, exact_filter_limit=0) as graph_only:
            graph_only.dense_index = replace(graph_only.dense_index, filtered_ef=0)  # ef as unfiltered
            found = [graph_only.candidates(q, None, 10, filters).dense_ids.tolist() for q in _queries(10)]
            with _opened(random_index) as reader:
                assert found != [_brute_force(reader, vectors, kept, q, 10)[0] for q in _queries(10)]


def test_a_filter_past_the_exact_path_searches_the_graph_wider(random_index: RandomIndex) -> None:
    """A filter admitting more passages than the exact path takes (here none) goes to the dense
    index: HNSW then explores 16n nodes, at least `FILTERED_EF`, where an unfiltered search
    explores 2n (at least 128). On this small graph that finds the filter's exact top 10, which
    the unfiltered ef misses (the test above)."""
    _, index_type, vectors = random_index
    if index_type != "HNSW":
        pytest.skip("ef is HNSW's")
    day = DAY0 + dt.timedelta(days=7)
    kept = [a for a in vectors if a not in TIED and (int(a[1:]) % DAYS) == 7]
    with _opened(random_index, exact_filter_limit=0) as graph_only:
        calls = graph_only.client = _Searches(graph_only.client)
        for query in _queries(10):
            found = graph_only.candidates(query, None, 10, Filters(since=day, until=day))
            assert found.dense_ids.tolist() == _brute_force(graph_only, vectors, kept, query, 10)[0]
        graph_only.candidates(_queries(1)[0], None, 10, Filters())
    assert calls.efs == [FILTERED_EF] * 10 + [128]


def test_the_ef_of_a_filtered_search_grows_with_the_results_asked_for() -> None:
    hnsw = DenseIndex()
    assert hnsw.search_params(100)["params"] == {"ef": 200}
    assert hnsw.search_params(100, filtered=True)["params"] == {"ef": FILTERED_EF}
    assert hnsw.search_params(400, filtered=True)["params"] == {"ef": 6_400}
    assert replace(hnsw, filtered_ef=0).search_params(100, filtered=True)["params"] == {"ef": 200}
    assert DenseIndex("IVF_FLAT", ()).search_params(100, filtered=True)["params"] == {"nprobe": 16}


class _Searches:
    """A client that records the ef of its dense searches."""

    def __init__(self, client: Any) -> None:
        self.client, self.efs = client, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def search(self, *args: Any, **kwargs: Any) -> Any:
        self.efs.append(kwargs["search_params"]["params"]["ef"])
        return self.client.search(*args, **kwargs)


class _Calls:
    """A client that records its searches (by vector field) and queries (by filter)."""

    def __init__(self, client: Any) -> None:
        self.client, self.searches, self.queries = client, [], []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def search(self, *args: Any, **kwargs: Any) -> Any:
        self.searches.append(kwargs["anns_field"])
        return self.client.search(*args, **kwargs)

    def query(self, *args: Any, **kwargs: Any) -> Any:
        self.queries.append(kwargs["filter"])
        return self.client.query(*args, **kwargs)


@pytest.mark.parametrize(
    ("filters", "exact", "asks"),
    [
        (Filters(since=DAY0 + dt.timedelta(days=3), until=DAY0 + dt.timedelta(days=3)), True, True),  # 12
        (Filters(sources=("copies",)), True, True),  # 16
        (Filters(since=DAY0 + dt.timedelta(days=90)), False, False),  # 136: the commit's day counts say so
        (Filters(as_of=DAY0 + dt.timedelta(days=20)), False, False),  # 252; whole weeks: at least 240
        (Filters(since=DAY0 + dt.timedelta(days=1), until=DAY0 + dt.timedelta(days=12)), False, True),  # 144
        # (its one whole week holds 84 of them: at most 100 for all the counts can tell, so it asks)
        (Filters(sources=("WIRE",)), False, False),  # 1,200: the commit counts each source's passages
        (Filters(sources=("wire",), since=DAY0 + dt.timedelta(days=90)), False, True),  # 120, not counted
        (Filters(as_of=DAY0 + dt.timedelta(days=DAYS)), False, False),  # the newest day: all of them
        (Filters(), False, False),
    ],
)
def test_the_exact_path_is_taken_only_for_a_restrictive_filter_of_few_passages(
    random_index: RandomIndex, filters: Filters, exact: bool, asks: bool
) -> None:
    """At most `exact_filter_limit` (here 100) passages: one query of ids, their vectors read, no
    dense search. More: the search alone, after a query of ids only where the commit's passages
    per week and per source cannot tell (sources and dates together, or a window whose whole
    weeks hold too few). Nothing restricted (no
    filter, or an as-of on or after the newest day), or a FLAT index (already exact): the search
    alone. The query of ids is asked once per filter."""
    _, index_type, _ = random_index
    with _opened(random_index, exact_filter_limit=100) as reader:
        calls = reader.client = _Calls(reader.client)
        first = reader.candidates(_queries(2)[0], None, 10, filters)
        asked = list(calls.queries)
        again = reader.candidates(_queries(2)[1], None, 10, filters)
    assert len(first.dense_ids) == len(again.dense_ids) == 10
    probed = asks and index_type != "FLAT"
    scored = exact and probed
    assert calls.searches == ([] if scored else ["dense", "dense"])
    assert asked[:1] == ([reader.search_expression(filters)] if probed else [])
    assert (len(asked), len(calls.queries) - len(asked)) == ((2, 1) if scored else (int(probed), 0))


def test_the_commit_counts_passages_per_day_through_replacements_and_deletions(
    backend: MilvusBackend, fake_encoder: FakeEncoder
) -> None:
    """What `_too_many` reads: the counts carried from commit to commit equal the rows' weeks and
    sources, and `qa check` (the audit) holds the commit to them."""
    qa = QAService(backend, fake_encoder, reload_interval=0)
    qa.add([_article(f"a{n}", "One part. Another part. A third.", day=1 + n % 3) for n in range(6)])
    undated = Article("new", "New", "Fresh.", None, None, None)
    other = Article("post", "Post", "Elsewhere. Twice.", dt.date(2024, 1, 2), "Élysée Post", None)
    qa.add([_article("a0", "Now a single part.", day=3), undated, other])
    qa.delete(["a1"])
    reader = qa.reader()
    found = scan(reader.client, reader.names.passages, reader.visible, ["day", "source_key"])
    rows_per_week = dict(Counter(milvus_log.week(int(r["day"])) for r in found))

    assert reader.snapshot.commit.weeks == rows_per_week and milvus_log.week(UNDATED) in rows_per_week
    assert reader.snapshot.commit.source_passages == dict(Counter(r["source_key"] for r in found))
    assert {"", "wire", "élysée post"} == set(reader.snapshot.commit.source_passages)
    assert qa.check() == []
    sound = reader.snapshot.commit
    wrong_weeks = {w: n + 1 for w, n in rows_per_week.items()}
    wrong_sources = {key: n - 1 for key, n in sound.source_passages.items()}
    for commit, problem in (
        (dataclasses.replace(sound, weeks=wrong_weeks), "passages per week"),
        (dataclasses.replace(sound, source_passages=wrong_sources), "passages per source"),
    ):
        backend.client.delete(backend.names.log, filter=f"key == {commit.version * milvus_log.SEQ}")
        milvus_log.seal(backend.client, backend.names, commit)
        assert f"the {problem} the commit counts differ from the passage rows" in qa.check()


def test_a_commit_of_an_earlier_release_gets_its_day_counts_at_the_next_write(
    backend: MilvusBackend, fake_encoder: FakeEncoder
) -> None:
    qa = QAService(backend, fake_encoder, reload_interval=0)
    qa.add(ARTICLES)
    # as an earlier release wrote it
    commit = dataclasses.replace(qa.reader().snapshot.commit, weeks=None, source_passages=None)
    backend.client.delete(backend.names.log, filter=f"key == {commit.version * milvus_log.SEQ}")
    milvus_log.seal(backend.client, backend.names, commit)
    assert QAService(backend, fake_encoder, reload_interval=0).reader().snapshot.commit.weeks is None

    qa.add([_article("late", "A late story.", day=9)])
    qa.delete(["vote"])

    commit = qa.reader().snapshot.commit
    assert commit.weeks == dict(Counter(milvus_log.week(dt.date(2024, 1, d).toordinal()) for d in (3, 7, 9)))
    assert commit.source_passages == {"wire": 3} and qa.check() == []


def test_tables_too_large_for_the_commit_row_go_to_rows_of_their_own(
    backend: MilvusBackend, fake_encoder: FakeEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server caps a JSON value at 64 KB: a commit's tables past `INLINE_TABLES` (here 10 bytes)
    are written in "tables" rows of its version, read back whole, and purged with the commit."""
    monkeypatch.setattr(milvus_log, "INLINE_TABLES", 10)
    monkeypatch.setattr(milvus_log, "TABLE_ENTRIES", 1)  # a row per entry: several rows a table
    qa = QAService(backend, fake_encoder, reload_interval=0)
    qa.add(ARTICLES)
    qa.add([Article("late", "Late", "A late story.", dt.date(2024, 1, 9), "Post", None)])

    def tables() -> list[int]:
        rows = backend.client.query(backend.names.log, filter='kind == "tables"', output_fields=["version"])
        return sorted({int(r["version"]) for r in rows})

    fresh = QAService(backend, fake_encoder, reload_interval=0)
    commit = fresh.reader().snapshot.commit
    assert tables() == [commit.version]  # the older version's rows went with its commit
    assert commit.sources == {"Post": 1, "Wire": 3} and commit.source_passages == {"post": 1, "wire": 3}
    assert sum(commit.weeks.values()) == 4 and fresh.check() == []
    assert [name for name, _ in fresh.sources()] == ["Wire", "Post"]
    # a table row lost: the commit names how many it wrote, so the version is refused, not misread
    key = max(int(r["key"]) for r in backend.client.query(backend.names.log, filter='kind == "tables"'))
    backend.client.delete(backend.names.log, ids=[key])
    with pytest.raises(IndexCorruptError, match="other numbers of rows of its tables"):
        QAService(backend, fake_encoder, reload_interval=0).reader()


def test_log_rows_are_cut_by_count_and_by_bytes() -> None:
    runs = list(milvus_log.sized(["a" * 10] * 7, most=3))
    assert [len(r) for r in runs] == [3, 3, 1]
    long = ["é" * 20_000] * 3  # 40 kB of UTF-8 each: one a row, whatever `most` allows
    assert [len(r) for r in milvus_log.sized(long, most=500)] == [1, 1, 1]
    runs = list(milvus_log.sized(["x" * 900] * 200, 500))
    sizes = [len(json.dumps(r, ensure_ascii=False).encode()) for r in runs]
    assert max(sizes) <= milvus_log.ROW_BYTES and len(sizes) == 4


def test_under_weaker_reads_the_passages_a_filter_admits_are_asked_for_each_time(
    random_index: RandomIndex,
) -> None:
    """A Bounded read may not see all of the version's rows yet: what it admitted is not kept."""
    _, index_type, _ = random_index
    day = Filters(since=DAY0, until=DAY0)
    with _opened(random_index, consistency="Bounded") as reader:
        calls = reader.client = _Calls(reader.client)
        for query in _queries(2):
            reader.candidates(query, None, 10, day)
    probes = [where for where in calls.queries if where == reader.search_expression(day)]
    assert len(probes) == (0 if index_type == "FLAT" else 2)


def test_equal_scores_under_a_restrictive_filter_keep_the_lowest_passage_ids(
    random_index: RandomIndex,
) -> None:
    """16 passages of one vector and 5 places: the 5 with the lowest ids, not the engine's choice."""
    _, _, vectors = random_index
    with _opened(random_index) as reader:
        copies = np.sort(np.concatenate([reader.article_passages(a) for a in TIED]))
        found = reader.candidates(vectors[TIED[0]][0], None, 5, Filters(sources=("Copies",)))
    assert found.dense_ids.tolist() == copies[:5].tolist()
    np.testing.assert_allclose(found.dense_scores, 1.0, atol=1e-6)


def test_a_lite_database_whose_rows_are_gone_is_refused_and_takes_no_write(
    tmp_path: Path, fake_encoder: FakeEncoder
) -> None:
    path = tmp_path / "milvus.db"
    built = MilvusBackend(path, collection="unit")
    QAService(built, fake_encoder, reload_interval=0).add(ARTICLES)
    built.close()
    lost = list(path.glob("collections/unit_passages/**/*.parquet"))
    assert lost, sorted(str(p.relative_to(path)) for p in path.rglob("*"))[:20]
    for file in lost:  # the passages' files removed under a closed database
        file.unlink()

    backend = MilvusBackend(path, collection="unit")
    try:
        qa = QAService(backend, fake_encoder, reload_interval=0)
        with pytest.raises(IndexCorruptError, match=r"passage rows.*qa index --rebuild"):
            qa.ask("metro")  # not "no passages found"
        assert qa.verify() and "passage rows" in qa.verify()[0]
        with pytest.raises(IndexCorruptError):
            qa.add([ARTICLES[0]])  # a write would bury the loss
        qa.add(ARTICLES, rebuild=True)  # the way out the message names
        assert qa.ask("metro").hits
    finally:
        backend.close()


def test_every_refusal_of_a_damaged_lite_index_names_the_rebuild_not_qa_repair(
    tmp_path: Path,
    fake_encoder: FakeEncoder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`qa repair` has nothing to fall back to with Milvus: the second refusal of the service, the
    API's 503 and `qa check` name the way out the first refusal names."""
    settings = Settings(backend="milvus", index_dir=tmp_path / "idx")
    built = create_backend("milvus", **settings.backend_options())
    QAService(built, fake_encoder, reload_interval=0).add(ARTICLES)
    built.close()
    for file in (tmp_path / "idx").glob("milvus.db/collections/*_passages/**/*.parquet"):
        file.unlink()

    backend = create_backend("milvus", **settings.backend_options())
    try:
        qa = QAService(backend, fake_encoder, reload_interval=0)
        for _ in range(2):  # the second from the service's record of the damage
            with pytest.raises(IndexCorruptError, match=r"passage rows.*qa index --rebuild") as caught:
                qa.search("metro")
        assert public_message(caught.value, settings).endswith(
            "answers are refused; `qa index --rebuild PATH...` builds it again from the articles"
        )
    finally:
        backend.close()
    monkeypatch.setenv("QA_BACKEND", "milvus")

    assert cli.main(["check", "--index-dir", str(tmp_path / "idx")]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "qa: the live version is damaged: `qa index --rebuild PATH...` builds it again from the articles"
    )


def test_a_word_longer_than_a_key_is_indexed_uncounted(milvus: QAService) -> None:
    run_on = "港口" * 600  # 1,200 characters without a space: one BM25 term of 3,600 bytes
    report = milvus.add([Article("cjk", "港口", f"{run_on} harbour news.", dt.date(2024, 1, 2), "Wire")])
    assert report.added == ["cjk"]
    assert "cjk" in {h.article_id for h in milvus.ask("harbour news", k=10).hits}


def test_reading_a_lite_database_that_is_not_there_creates_nothing(tmp_path: Path) -> None:
    backend = MilvusBackend(tmp_path / "typo" / "milvus.db", collection="unit")
    assert not backend.exists()
    with pytest.raises(IndexNotFoundError):
        backend.open()
    with pytest.raises(IndexNotFoundError):
        backend.live_version()
    assert list(tmp_path.iterdir()) == []  # no empty database, no lock file
