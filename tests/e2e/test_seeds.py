"""The seed articles through the real model: the Python API, the HTTP API and the `qa` command agree."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from embeddings.readers import read_articles
from qa.api import create_app
from qa.cli import main
from qa.service import QAService, open_service
from qa.settings import Settings

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
QUESTION = "Who did Azerbaijan's defense minister receive on November 1, 2023?"
MUNIR = "001_367b22a23431d7a2"
SEED_IDS = {
    "000_91bb215e419c199d",
    MUNIR,
    "002_7518dc16ca897596",
    "003_3e890d727285aacb",
    "004_8998e6d75cc86e01",
}
AS_OF = "2024-06-01"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("seeds") / "index"


@pytest.fixture(scope="module")
def settings(index_dir: Path) -> Iterator[Settings]:
    with pytest.MonkeyPatch.context() as mp:  # module scope: the autouse QA_* cleaner has not run yet
        for name in [n for n in os.environ if n.upper().startswith("QA_")]:
            mp.delenv(name)
        # reload_interval=0: the `qa` commands below write through their own service.
        yield Settings(index_dir=index_dir, reload_interval=0)


@pytest.fixture(scope="module")
def service(settings: Settings) -> QAService:
    """One real-model index of the seeds, shared by the module (tests leave it as they found it)."""
    articles, problems = read_articles([SEEDS])
    assert problems == []
    qa = open_service(settings)
    assert qa.add(articles).added
    return qa


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# --- Python API ----------------------------------------------------------------------------------


def test_the_question_is_answered_by_the_munir_visit(service: QAService) -> None:
    answer = service.ask(QUESTION, k=5)

    hit = answer.hits[0]
    assert (hit.article_id, hit.date, hit.source) == (MUNIR, dt.date(2023, 11, 1), "News.Az")
    assert "Syed Asim Munir" in service.article(hit.article_id).text
    assert hit.title.startswith("On November 1, Azerbaijan’s Defense Minister")
    assert hit.highlight and hit.highlight in hit.text
    assert answer.interpreted is not None
    assert (answer.interpreted.since, answer.interpreted.until) == (
        dt.date(2023, 11, 1),
        dt.date(2023, 11, 1),
    )
    assert {h.article_id for h in answer.hits} == SEED_IDS  # k=5 over 5 articles: one passage each


def test_as_of_before_the_visit_hides_it(service: QAService) -> None:
    hits = service.ask(QUESTION, k=5, as_of=dt.date(2023, 6, 1)).hits

    assert MUNIR not in {h.article_id for h in hits}
    assert all(h.date is not None and h.date <= dt.date(2023, 6, 1) for h in hits)


# --- the `qa` command ---------------------------------------------------------------------------------


def test_index_again_changes_nothing(
    service: QAService, index_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "index", str(SEEDS), "--index-dir", str(index_dir), "--json")

    assert code == 0
    summary = json.loads(out)
    assert (summary["added"], summary["unchanged"], summary["passages_embedded"]) == (0, 5, 0)
    assert (summary["articles"], summary["problems"], summary["index_dir"]) == (5, 0, str(index_dir))


def test_ask_json_gives_the_same_hits_as_the_http_api(
    service: QAService, settings: Settings, index_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "ask", QUESTION, "-k", "3", "--as-of", AS_OF, "--index-dir", str(index_dir), "--json"
    )
    with TestClient(create_app(settings, lambda: service), base_url="http://localhost") as client:
        http = client.post("/ask", json={"question": QUESTION, "k": 3, "as_of": AS_OF}).json()

    assert code == 0
    answer = json.loads(out)
    assert answer["hits"][0]["article_id"] == MUNIR
    assert answer["hits"][0]["date"] == "2023-11-01"
    assert answer["hits"][0]["source"] == "News.Az"
    assert [set(h) for h in answer["hits"]] == [set(h) for h in http["hits"]]
    assert answer == http


def test_ask_prints_readable_hits(
    service: QAService, index_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "ask", QUESTION, "-k", "2", "--index-dir", str(index_dir))

    assert code == 0
    assert "on November 1, 2023" in out.splitlines()[0]
    assert "1. [2023-11-01] News.Az — On November 1, Azerbaijan’s Defense Minister" in out


def test_ask_batch_prints_one_json_line_per_query(
    service: QAService, index_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    queries = tmp_path / "queries.jsonl"
    queries.write_text(
        json.dumps({"id": "munir", "question": QUESTION})
        + "\n\n"
        + json.dumps({"id": 7, "question": "Whom did President Ilham Aliyev receive?"})
        + "\n",
        encoding="utf-8",
    )

    code, out, _ = run(
        capsys, "ask", "--batch", str(queries), "-k", "2", "--index-dir", str(index_dir), "--json"
    )

    assert code == 0
    records = json_lines(out)
    assert [r["id"] for r in records] == ["munir", "7"]
    assert all({"id", "hits"} <= set(r) and len(r["hits"]) == 2 for r in records)  # type: ignore[arg-type]
    assert records[0]["hits"][0]["article_id"] == MUNIR  # type: ignore[index]


def test_related_json_lists_the_other_seeds(
    service: QAService, index_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "related", MUNIR, "-k", "10", "--index-dir", str(index_dir), "--json")

    assert code == 0
    body = json.loads(out)
    assert body["article_id"] == MUNIR
    assert {r["article_id"] for r in body["related"]} == SEED_IDS - {MUNIR}
    scores = [r["score"] for r in body["related"]]
    assert scores == sorted(scores, reverse=True)


def test_stats_and_check(service: QAService, index_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "stats", "--index-dir", str(index_dir), "--json")
    assert code == 0
    stats = json.loads(out)
    assert stats["articles"] == 5
    assert stats["passages"] == service.stats()["passages"] > 5
    assert stats["sources"] == {"News.Az": 3, "Azernews": 2}
    assert stats["model"] == service.encoder.identity
    assert stats["model"].endswith(":onnx-int8")  # the default encoder

    code, out, _ = run(capsys, "check", "--index-dir", str(index_dir), "--json")
    assert code == 0
    assert json.loads(out)["ok"] is True

    code, out, _ = run(capsys, "check", "--index-dir", str(index_dir))
    assert (code, out.strip()) == (0, "ok")


def test_index_then_delete_an_article(
    service: QAService, index_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = tmp_path / "zeppelin.txt"
    extra.write_text(
        " date 2024-03-01\n\nA zeppelin airship landed in Ganja, News.Az reports.\n", encoding="utf-8"
    )

    code, out, _ = run(capsys, "index", str(extra), "--index-dir", str(index_dir), "--json")
    assert code == 0
    assert (json.loads(out)["added"], json.loads(out)["articles"]) == (1, 6)
    assert service.ask("zeppelin airship", k=1).hits[0].article_id == "zeppelin"

    code, out, _ = run(capsys, "delete", "zeppelin", "--index-dir", str(index_dir), "--json")
    assert code == 0
    assert (json.loads(out)["deleted"], json.loads(out)["articles"]) == (1, 5)
    assert "zeppelin" not in {h.article_id for h in service.ask("zeppelin airship", k=5).hits}


def test_deleting_an_unknown_article_exits_1(
    service: QAService, index_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "delete", "no-such-article", "--index-dir", str(index_dir))

    assert code == 1
    assert "no-such-article" in err
    assert "5 remain" in out


@pytest.mark.parametrize("k", ["0", "101"])
def test_a_k_out_of_range_exits_2(index_dir: Path, capsys: pytest.CaptureFixture[str], k: str) -> None:
    code, _, err = run(capsys, "ask", QUESTION, "-k", k, "--index-dir", str(index_dir))

    assert code == 2
    assert f"k must be between 1 and 100, got {k}" in err


def test_usage_errors_exit_2(index_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ask", "--index-dir", str(index_dir))
    assert code == 2
    assert "QUESTION or --batch" in err

    for argv in (["ask", QUESTION, "-k", "three"], ["ask", QUESTION, "--since", "2023-13-45"], ["nonsense"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
        assert capsys.readouterr().err.strip()


def test_a_missing_index_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "stats", "--index-dir", str(tmp_path / "none"))

    assert code == 1
    assert out == ""
    assert err.startswith("qa: error: no index at") and err.count("\n") == 1


def test_migrate_copies_the_index_into_milvus_where_every_command_answers_alike(
    service: QAService,
    index_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("milvus_lite")
    monkeypatch.setenv("QA_MILVUS_URI", str(tmp_path / "seeds.db"))
    local = ["--index-dir", str(index_dir)]
    code, out, _ = run(capsys, "migrate", "--to", "milvus", *local, "--json")
    assert code == 0
    copied = json.loads(out)
    assert (copied["articles"], copied["passages_embedded"]) == (5, 0)
    assert copied["passages"] == service.stats()["passages"]

    answers = {}
    for backend in ("local", "milvus"):
        monkeypatch.setenv("QA_BACKEND", backend)
        code, out, _ = run(capsys, "ask", QUESTION, "-k", "3", "--as-of", AS_OF, *local, "--json")
        assert code == 0
        answers[backend] = [(h["article_id"], h["text"]) for h in json.loads(out)["hits"]]
    assert answers["milvus"] == answers["local"] and answers["local"][0][0] == MUNIR

    code, out, _ = run(capsys, "check", *local)
    assert (code, out.strip()) == (0, "ok")
    code, out, _ = run(capsys, "stats", *local, "--json")
    assert json.loads(out)["backend"] == "milvus-hnsw" and json.loads(out)["articles"] == 5
    code, out, _ = run(capsys, "related", MUNIR, "-k", "10", *local, "--json")
    assert {r["article_id"] for r in json.loads(out)["related"]} == SEED_IDS - {MUNIR}
    code, _, err = run(capsys, "migrate", "--to", "milvus", *local)
    assert code == 2 and "already in 'milvus'" in err
