"""Tests for the `qa` command over a fake encoder: exit codes, one-line errors, progress, no noise."""

from __future__ import annotations

import argparse
import errno
import io
import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from tqdm import tqdm

from qa import cli
from qa.console import console
from qa.retrieval.features import FEATURES
from qa.retrieval.learned import read_ranker
from qa.retrieval.match import MATCH_FEATURES, read_match
from qa.service import QAService
from qa.settings import Settings
from tests.support.fakes import FakeEncoder
from tests.support.services import build_service


@pytest.fixture(autouse=True)
def fake_service(monkeypatch: pytest.MonkeyPatch, fake_encoder: FakeEncoder) -> None:
    """Commands build their service over the fake encoder (the real CLI code path otherwise)."""

    def service(settings: Settings, progress: str = "off") -> QAService:
        return build_service(settings.index_dir, fake_encoder, progress=progress)

    monkeypatch.setattr(cli, "_service", service)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_feed(path: Path, n: int = 3) -> Path:
    records = [
        {
            "id": f"r{i}",
            "title": f"Storm {i}",
            "text": f"A storm hit the coast on day {i}.",
            "date": "2024-03-2" + str(i),
        }
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_index_logs_progress_lines_with_a_total_when_stderr_is_not_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "index", str(write_feed(tmp_path / "feed.jsonl")), "--index-dir", str(tmp_path / "i")
    )

    assert code == 0
    assert out.startswith("indexed 3 articles")
    assert "indexing: 3/3 articles (100%)" in err
    assert "passages embedded" in err


def test_index_of_a_missing_file_fails_before_writing_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = write_feed(tmp_path / "feed.jsonl")
    code, out, err = run(
        capsys, "index", str(feed), str(tmp_path / "nope.jsonl"), "--index-dir", str(tmp_path / "i")
    )

    assert code == 1 and out == ""
    assert (
        one_line(err)
        == f"qa: error: no such file or directory: {tmp_path / 'nope.jsonl'} (nothing was indexed)"
    )
    assert not (tmp_path / "i").exists()


def test_index_with_nothing_readable_fails_and_creates_no_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "no text"}\n')

    code, _, err = run(capsys, "index", str(bad), "--index-dir", str(tmp_path / "i"))

    assert code == 1
    assert "Traceback" not in err
    assert err.splitlines() == [
        f"qa: skipped {bad}:1: missing text",
        f"qa: error: no article could be read from {bad} (nothing was indexed)",
    ]
    assert not (tmp_path / "i").exists()


COMMANDS_ON_AN_INDEX = [
    ["index", "FEED"],
    ["ask", "storm"],
    ["related", "r0"],
    ["stats"],
    ["check"],
    ["check", "--all"],
    ["delete", "r0"],
    ["optimize"],
    ["repair"],
]


@pytest.mark.parametrize("command", COMMANDS_ON_AN_INDEX)
def test_an_index_dir_that_is_a_file_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    plain = tmp_path / "plain"
    plain.write_text("not an index")
    argv = [str(write_feed(tmp_path / "feed.jsonl")) if a == "FEED" else a for a in command]

    code, _, err = run(capsys, *argv, "--index-dir", str(plain))

    assert code == 1
    assert one_line(err) == f"qa: error: {plain} is a file, not an index directory"


@pytest.mark.parametrize("command", COMMANDS_ON_AN_INDEX)
def test_an_index_dir_that_is_a_dangling_link_is_a_one_line_error_naming_its_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    link = tmp_path / "idx"
    link.symlink_to(tmp_path / "unmounted" / "idx")
    argv = [str(write_feed(tmp_path / "feed.jsonl")) if a == "FEED" else a for a in command]

    code, _, err = run(capsys, *argv, "--index-dir", str(link))

    assert code == 1
    assert one_line(err) == (
        f"qa: error: {link} is a link to {tmp_path / 'unmounted' / 'idx'}, which does not exist"
        " (create it, or point the link elsewhere)"
    )
    assert not (tmp_path / "unmounted").exists()


@pytest.mark.parametrize("command", [["repair"], ["optimize"], ["delete", "x"], ["stats"], ["check"]])
def test_a_command_over_a_missing_index_says_so_and_creates_no_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """A mistyped `--index-dir`: one line, and no empty index folder (with a lock file) left there."""
    missing = tmp_path / "typo"

    code, _, err = run(capsys, *command, "--index-dir", str(missing))

    assert code == 1
    assert one_line(err) == f"qa: error: no index at {missing} (build one with `qa index PATH`)"
    assert not missing.exists()


def test_an_index_dir_below_a_file_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain"
    plain.write_text("")

    code, _, err = run(
        capsys, "index", str(write_feed(tmp_path / "f.jsonl")), "--index-dir", str(plain / "sub")
    )

    assert code == 1
    assert one_line(err) == f"qa: error: {plain / 'sub'} cannot be an index directory: {plain} is a file"


def test_eval_without_data_says_where_to_get_it_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    code, _, err = run(capsys, "eval", "../shared/benchmarks/realtimeqa-2024q1")

    assert code == 1
    line = one_line(err)
    assert line.startswith("qa: error: no benchmark directory at ../shared/benchmarks/realtimeqa-2024q1: ")
    assert "corpus.jsonl and queries.jsonl" in line and "github.com/realtimeqa/realtimeqa_public" in line
    assert list(tmp_path.iterdir()) == []  # no .qa-eval/ left behind


def test_eval_names_the_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "bench"
    data.mkdir()
    write_feed(data / "corpus.jsonl")

    code, _, err = run(capsys, "eval", str(data), "--index-dir", str(tmp_path / "i"))

    assert code == 1
    assert one_line(err).startswith(f"qa: error: {data} has no queries.jsonl: ")
    assert not (tmp_path / "i").exists()


def test_ask_prints_how_it_read_the_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = str(tmp_path / "i")
    assert run(capsys, "index", str(write_feed(tmp_path / "feed.jsonl")), "--index-dir", index)[0] == 0

    code, out, err = run(capsys, "ask", "What happened yesterday?", "--index-dir", index)

    assert code == 0 and err == ""
    assert out.splitlines()[0] == (
        "(reading 'yesterday' as 2024-03-21 to 2024-03-22, relative to 2024-03-22, the archive's last day"
        " (it ends before today); only articles from that window)"
    )
    assert "Storm 2" in out and "Storm 0" not in out


def test_ask_after_the_archive_ends_says_when_it_ends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = str(tmp_path / "i")
    assert run(capsys, "index", str(write_feed(tmp_path / "feed.jsonl")), "--index-dir", index)[0] == 0

    code, out, _ = run(capsys, "ask", "storm", "--since", "2030-01-01", "--index-dir", index)
    assert (code, out) == (
        0,
        "no passages found (--since 2030-01-01: the newest article is from 2024-03-22)\n",
    )
    code, out, _ = run(capsys, "ask", "storm", "--source", "Nobody", "--index-dir", index)
    assert (code, out) == (0, "no passages found\n")  # the source is what is said, on stderr


def test_verbose_is_accepted_before_and_after_the_command() -> None:
    parser = cli._parser()
    assert parser.parse_args(["-v", "stats"]).verbose == 1
    assert parser.parse_args(["stats", "-vv"]).verbose == 2
    assert parser.parse_args(["stats"]).verbose == 0


def test_console_shows_this_projects_lines_and_keeps_library_noise_off(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def emit() -> None:
        logging.getLogger("bm25s").debug("Building index from IDs objects")
        logging.warning("Please consider to run pre-processing before quantization")  # onnxruntime's way
        logging.getLogger("embeddings.progress").info("indexing: 1/2 articles")

    with console(0):
        emit()
    quiet = capsys.readouterr().err
    with console(1):
        emit()
    verbose = capsys.readouterr().err

    assert "indexing: 1/2 articles" in quiet
    assert "bm25s" not in quiet and "pre-processing" not in quiet
    assert "pre-processing" in verbose and "bm25s" not in verbose


def test_console_removes_its_handler_and_gives_tqdm_a_thread_lock() -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level

    with console(0):
        assert len(root.handlers) == len(handlers) + 1
        # A multiprocessing lock is a named semaphore the resource tracker reports as leaked.
        assert isinstance(tqdm.get_lock(), type(threading.RLock()))

    assert root.handlers == handlers and root.level == level


@pytest.fixture
def knobs(monkeypatch: pytest.MonkeyPatch, fake_encoder: FakeEncoder) -> None:
    """Commands build their service with the retrieval settings of the environment (QA_*_PATH)."""

    def service(settings: Settings, progress: str = "off") -> QAService:
        return build_service(settings.index_dir, fake_encoder, retrieval=settings.retrieval)

    monkeypatch.setattr(cli, "_service", service)


def bench(tmp_path: Path, questions: list[dict[str, object]]) -> Path:
    """A benchmark directory: `write_feed`'s articles and `questions`."""
    data = tmp_path / "bench"
    data.mkdir()
    write_feed(data / "corpus.jsonl")
    (data / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions))
    return data


@pytest.mark.usefixtures("knobs")
def test_train_ranker_refits_over_a_ranker_file_of_another_release(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file a release's new features make stale is the one the command must be able to replace."""
    stale = tmp_path / "stale.json"
    stale.write_text(
        json.dumps({"kind": "linear", "features": ["dense"], "mean": [0], "scale": [1], "weights": [1]})
    )
    monkeypatch.setenv("QA_RANKER_PATH", str(stale))
    data = bench(
        tmp_path,
        [{"question": f"Where did the storm hit on day {i}?", "gold_ids": [f"r{i}"]} for i in range(3)],
    )
    out = tmp_path / "new.json"

    code, printed, err = run(
        capsys, "train-ranker", str(data), "--index-dir", str(tmp_path / "i"), "--out", str(out)
    )

    assert code == 0, err
    assert read_ranker(out).features == FEATURES and f"wrote {out}" in printed
    assert read_ranker(out).about["encoder"] == "fake@0:test"  # whose dense scores it weighs

    monkeypatch.setenv("QA_RANKER_PATH", str(out))
    code, printed, _ = run(capsys, "stats", "--index-dir", str(tmp_path / "i"))
    assert (
        "ranker         a file of your own, fitted on bench with this model's vectors" in printed.splitlines()
    )


@pytest.mark.usefixtures("knobs")
def test_train_match_fits_over_a_match_file_that_cannot_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QA_MATCH_PATH", str(tmp_path / "missing.json"))
    questions = [
        {"question": f"Where did the storm hit on day {i}?", "gold_ids": [f"r{i}"], "date": f"2024-03-2{i}"}
        for i in range(3)
    ]
    data = bench(tmp_path, questions)
    older = {"id": "old", "title": "Harbour works", "text": "The harbour was dredged.", "date": "2023-06-01"}
    corpus = data / "corpus.jsonl"
    corpus.write_text(corpus.read_text() + json.dumps(older) + "\n")  # what the archive held before
    out = tmp_path / "match.json"

    code, printed, err = run(
        capsys, "train-match", str(data), "--index-dir", str(tmp_path / "i"), "--out", str(out)
    )

    assert code == 0, err
    assert read_match(out).about["data"] == "bench"
    assert printed.splitlines() == [printed.splitlines()[0], f"use it with QA_MATCH_PATH={out}"]


@pytest.mark.usefixtures("knobs")
@pytest.mark.parametrize(("bias", "weak"), [(-50.0, True), (50.0, False)])
def test_ask_marks_weak_matches_and_says_when_every_hit_is_one(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    bias: float,
    weak: bool,
) -> None:
    model = tmp_path / "match.json"
    model.write_text(
        json.dumps(
            {"kind": "logistic", "features": list(MATCH_FEATURES), "mean": [0.0] * 3, "scale": [1.0] * 3}
            | {"weights": [0.0] * 3, "bias": bias, "weak_below": 0.5}
        )
    )
    monkeypatch.setenv("QA_MATCH_PATH", str(model))
    index = build_index(tmp_path, capsys)

    code, out, _ = run(capsys, "ask", "storm", "-k", "2", "--index-dir", index)

    ranked = [line for line in out.splitlines() if line[:3] in ("1. ", "2. ")]
    assert code == 0 and len(ranked) == 2
    assert all(line.endswith(", weak match)") == weak for line in ranked)
    footer = "(every hit matches the question only weakly: the archive may not hold the answer)"
    assert (out.splitlines()[-1] == footer) == weak


def test_train_match_without_dated_questions_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = bench(tmp_path, [{"question": "Where?", "gold_ids": ["r0"]}])
    out = tmp_path / "match.json"

    code, _, err = run(
        capsys, "train-match", str(data), "--index-dir", str(tmp_path / "i"), "--out", str(out)
    )

    assert code == 1 and not out.exists() and "Traceback" not in err
    assert err.splitlines()[-1].startswith(
        "qa: error: need first hits of both kinds to fit on (0 held, 0 lacking)"
    )


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ('{"question": "Where?", "date": "2024-01-02"}', "a question record needs 'question', 'gold_ids'"),
        (
            '{"question": "Where?", "gold_ids": ["r0"], "date": "16/01/2024"}',
            "date '16/01/2024' is not YYYY-MM-DD",
        ),
        ('{"question": "Where?"', "not JSON (Expecting ',' delimiter)"),
        ('{"question": "Where?", "gold_ids": "r0"}', "gold_ids is not a list of strings (got str)"),
        (
            '{"question": "Where?", "gold_ids": ["r0"], "answers": "Baku"}',
            "answers is not a list of strings (got str)",
        ),
        ('{"question": 5, "gold_ids": ["r0"]}', "question is not a string"),
    ],
)
@pytest.mark.parametrize("command", ["train-ranker", "train-match"])
def test_a_bad_question_line_stops_training_in_one_line_before_anything_is_indexed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, line: str, why: str
) -> None:
    data = bench(tmp_path, [])
    (data / "queries.jsonl").write_text(line + "\n")

    code, _, err = run(
        capsys, command, str(data), "--index-dir", str(tmp_path / "i"), "--out", str(tmp_path / "o")
    )

    assert code == 1 and not (tmp_path / "i").exists() and not (tmp_path / "o").exists()
    assert one_line(err) == f"qa: error: {data / 'queries.jsonl'}:1: {why}"


@pytest.mark.parametrize("variable", ["QA_MATCH_PATH", "QA_RANKER_PATH", "QA_HIGHLIGHTER_PATH"])
def test_serve_with_a_learned_file_that_cannot_be_read_stops_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """Before the workers start: each would print its own traceback, and the server exit 0."""
    index = build_index(tmp_path, capsys)
    monkeypatch.setenv(variable, str(tmp_path / "missing.json"))
    started: list[object] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: started.append(a))

    code, _, err = run(capsys, "serve", "--index-dir", index, "--port", "8799")

    assert code == 1 and started == []
    assert one_line(err).startswith("qa: error: cannot read ") and "missing.json" in err


def test_an_unknown_encoder_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QA_ENCODER", "foo")

    code, out, err = run(capsys, "stats", "--index-dir", str(tmp_path / "i"))

    assert code == 2 and out == ""
    assert one_line(err).startswith("qa: error: bad configuration: QA_ENCODER: ")
    assert "unknown encoder backend 'foo' (one of torch, onnx, onnx-int8)" in err


def test_stats_names_the_sources_in_words_and_version_says_which_release(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = tmp_path / "feed.jsonl"
    records = [
        {"id": f"r{i}", "text": f"Story {i}.", "source": s} for i, s in enumerate(["Wire", "Wire", "Post"])
    ]
    feed.write_text("".join(json.dumps(r) + "\n" for r in records))
    index = str(tmp_path / "i")
    assert run(capsys, "index", str(feed), "--index-dir", index)[0] == 0

    code, out, _ = run(capsys, "stats", "--index-dir", index)
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])

    lines = out.splitlines()
    assert code == 0 and "sources        Wire 2, Post 1" in lines
    # one column of values, the learned files' longest name ("related ranker") included
    assert len({line.index(" ", len("related ranker")) for line in lines}) == 1
    assert any(line.startswith("related ranker ") for line in lines)
    assert exited.value.code == 0 and capsys.readouterr().out.startswith("qa ")


def build_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    index = str(tmp_path / "i")
    assert run(capsys, "index", str(write_feed(tmp_path / "feed.jsonl")), "--index-dir", index)[0] == 0
    return index


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing.jsonl", "no such file or directory"),
        ("folder", "is a directory"),
        ("latin1.jsonl", "not valid UTF-8 (byte 0xe9 on line 2)"),
    ],
)
def test_a_batch_file_that_cannot_be_read_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, reason: str
) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "latin1.jsonl").write_bytes(b'{"question": "storm"}\n{"question": "caf\xe9"}\n')
    batch = tmp_path / name

    code, out, err = run(capsys, "ask", "--batch", str(batch), "--index-dir", str(tmp_path / "i"))

    assert code == 1 and out == ""
    assert one_line(err) == f"qa: error: cannot read {batch}: {reason}"


def test_batch_lines_without_a_question_are_skipped_with_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = build_index(tmp_path, capsys)
    lines = [
        '{"id": "a", "question": "storm"}',
        '{"question": "coast"}',
        '{"id": "c"}',
        '"storm"',
        '{"question": null}',
        '{"question": 5}',
        '{"question": "  "}',
        "{bad",
        '{"id": ["x"], "question": "storm"}',
    ]
    batch = tmp_path / "q.jsonl"
    batch.write_text("\n".join(lines) + "\n")

    code, out, err = run(capsys, "ask", "--batch", str(batch), "--index-dir", index)

    assert code == 0
    assert out.splitlines() == ["a\t3 hits", "2\t3 hits"]  # a line without an id: its line number
    assert err.splitlines() == [
        f'qa: skipped {batch}:3: missing "question"',
        f"qa: skipped {batch}:4: not a JSON object",
        f'qa: skipped {batch}:5: "question" must be a non-empty string',
        f'qa: skipped {batch}:6: "question" must be a non-empty string',
        f'qa: skipped {batch}:7: "question" must be a non-empty string',
        f"qa: skipped {batch}:8: invalid JSON: Expecting property name enclosed in double quotes (column 2)",
        f'qa: skipped {batch}:9: "id" must be a string or a whole number',
    ]


def test_a_batch_in_which_no_question_can_be_asked_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = build_index(tmp_path, capsys)
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"id": "a"}\n{"question": "' + "x" * 1001 + '"}\n')

    code, out, err = run(capsys, "ask", "--batch", str(batch), "--index-dir", index)

    assert code == 1 and out == ""
    assert err.splitlines() == [
        f'qa: skipped {batch}:1: missing "question"',
        f"qa: skipped {batch}:2: question is longer than 1000 characters",
        f"qa: error: no question in {batch} could be asked",
    ]


@pytest.mark.parametrize("variable", ["QA_RETRIEVAL", "QA_STORE_OPTIONS"])
def test_a_variable_that_is_not_json_is_a_one_line_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "{bad")

    code, out, err = run(capsys, "stats", "--index-dir", str(tmp_path / "i"))

    assert code == 2 and out == ""
    assert one_line(err) == (
        f"qa: error: bad configuration: {variable} is not valid JSON"
        " (Expecting property name enclosed in double quotes, column 2)"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "-1"], "argument --port: a port is between 1 and 65535, got -1"),
        (["--port", "0"], "argument --port: a port is between 1 and 65535, got 0"),
        (["--port", "70000"], "argument --port: a port is between 1 and 65535, got 70000"),
        (["--port", "http"], "argument --port: not a whole number: 'http'"),
        (["--workers", "0"], "argument --workers: must be at least 1, got 0"),
    ],
)
def test_serve_refuses_a_port_or_worker_count_out_of_range(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(["serve", *argv])

    assert raised.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"qa serve: error: {message}"


def test_help_describes_every_argument_of_every_command_and_gives_examples() -> None:
    parser = cli._parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]

    undescribed = [
        f"qa {name} {action.dest}"
        for name, sub in commands.choices.items()
        for action in sub._actions
        if not action.help
    ]

    assert undescribed == []
    assert "examples:" in parser.format_help() and "Exit status" in parser.format_help()


def test_serve_accepts_the_ends_of_the_port_range() -> None:
    parser = cli._parser()
    assert parser.parse_args(["serve", "--port", "1", "--workers", "1"]).port == 1
    assert parser.parse_args(["serve", "--port", "65535"]).port == 65535


def test_ask_no_interpret_leaves_time_words_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = build_index(tmp_path, capsys)
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"id": "y", "question": "What happened yesterday?"}\n')

    read = json.loads(run(capsys, "ask", "What happened yesterday?", "--json", "--index-dir", index)[1])
    single = json.loads(
        run(capsys, "ask", "What happened yesterday?", "--no-interpret", "--json", "--index-dir", index)[1]
    )
    batched = json.loads(
        run(capsys, "ask", "--batch", str(batch), "--no-interpret", "--json", "--index-dir", index)[1]
    )

    assert read["interpreted"] is not None
    assert single["interpreted"] is None and len(single["hits"]) == 3
    assert batched["id"] == "y" and batched["interpreted"] is None


def test_delete_counts_one_article_in_the_singular(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = build_index(tmp_path, capsys)

    assert run(capsys, "delete", "r0", "--index-dir", index)[1] == "deleted 1 article; 2 remain\n"
    assert run(capsys, "delete", "r1", "--index-dir", index)[1] == "deleted 1 article; 1 remains\n"


def test_related_names_an_unknown_source_in_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = build_index(tmp_path, capsys)

    code, out, _ = run(capsys, "related", "r0", "--index-dir", index)

    assert code == 0 and out
    assert all("] unknown source — Storm " in line for line in out.splitlines() if "[" in line)


def test_ask_says_which_source_no_article_is_from_and_what_it_may_have_meant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = tmp_path / "feed.jsonl"
    records = [
        {"id": f"r{i}", "title": f"Storm {i}", "text": "A storm hit the coast.", "source": source}
        for i, source in enumerate(["Reuters", "News.Az"])
    ]
    feed.write_text("".join(json.dumps(r) + "\n" for r in records))
    index = str(tmp_path / "i")
    assert run(capsys, "index", str(feed), "--index-dir", index)[0] == 0
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"question": "storm"}\n{"question": "coast"}\n')

    ask = ["--source", "reuter", "--source", "news.az", "--source", "Nobody", "--index-dir", index]
    code, out, err = run(capsys, "ask", "storm", *ask)
    batch_code, batch_out, batch_err = run(capsys, "ask", "--batch", str(batch), *ask)

    assert code == batch_code == 0
    assert "News.Az" in out and len(batch_out.splitlines()) == 2
    expected = [
        "qa: no article is from source 'reuter'; did you mean 'Reuters'?",
        "qa: no article is from source 'Nobody'",
    ]
    assert err.splitlines() == batch_err.splitlines() == expected  # said once for a batch
    assert run(capsys, "ask", "storm", "--source", "REUTERS", "--index-dir", index)[2] == ""


def test_a_reader_that_stops_reading_ends_the_command_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`qa ask --batch ... | head`: the pipe closes mid-output; exit 141, no traceback."""

    def closed_pipe(args: object) -> int:
        raise BrokenPipeError

    monkeypatch.setattr(cli, "_run", closed_pipe)

    assert cli.main(["stats"]) == 141
    assert capsys.readouterr().err == ""


class _FullDisk(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("argv", [["stats"], ["ask", "storm"], ["ask", "storm", "--json"]])
def test_output_that_cannot_be_written_is_one_error_line(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`qa ask ... > file` on a full disk: exit 1 and one line saying so, not a traceback."""
    index = str(tmp_path / "i")
    assert run(capsys, "index", str(write_feed(tmp_path / "feed.jsonl")), "--index-dir", index)[0] == 0
    monkeypatch.setattr(sys, "stdout", _FullDisk())

    code = cli.main([*argv, "--index-dir", index])

    assert code == 1
    assert one_line(capsys.readouterr().err) == "qa: error: cannot write the output: No space left on device"


def test_a_closed_stdout_is_written_nothing_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`qa ask ... >&-` (no stdout at all): the command runs, as print does without a stdout."""
    index = str(tmp_path / "i")
    assert run(capsys, "index", str(write_feed(tmp_path / "feed.jsonl")), "--index-dir", index)[0] == 0
    monkeypatch.setattr(sys, "stdout", None)

    assert cli.main(["ask", "storm", "--index-dir", index]) == 0
    assert capsys.readouterr().err == ""


def pruned_after(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rewrite: Callable[[list[str]], list[str]]
) -> tuple[int, str, str, str]:
    """Index the three-article feed, `rewrite` its lines, index it again with `--prune`: the
    second run's exit status, stdout and stderr, and the index directory."""
    feed = write_feed(tmp_path / "feed.jsonl")
    index = str(tmp_path / "i")
    assert run(capsys, "index", str(feed), "--index-dir", index)[0] == 0
    feed.write_text("\n".join(rewrite(feed.read_text().splitlines())) + "\n")
    return (*run(capsys, "index", str(feed), "--prune", "--index-dir", index), index)


def test_prune_deletes_nothing_when_a_record_was_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A record skipped for a typo must not read as an article that is gone."""
    code, out, err, index = pruned_after(
        tmp_path, capsys, lambda lines: [*lines[:2], lines[2].replace("2024-03-22", "2024-13-22")]
    )

    assert code == 0 and "deleted 0" in out
    assert (
        err.splitlines()[-1]
        == "qa: --prune deleted nothing: 1 file or record was skipped (fix them and index again)"
    )
    assert run(capsys, "stats", "--index-dir", index, "--json")[1].count('"articles": 3') == 1


def test_index_notes_articles_without_a_date_or_dated_after_today(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = tmp_path / "feed.jsonl"
    records = [
        {"id": "dated", "text": "A storm hit the coast.", "date": "2024-03-20"},
        {"id": "nodate", "text": "A storm hit the hills."},
        {"id": "typo", "text": "A storm hit the port.", "date": "2204-03-20"},
    ]
    feed.write_text("".join(json.dumps(r) + "\n" for r in records))

    code, out, err = run(capsys, "index", str(feed), "--index-dir", str(tmp_path / "i"))

    assert code == 0 and out.startswith("indexed 3 articles")  # noted, not skipped
    notes = [line for line in err.splitlines() if line.startswith("qa: note:")]
    assert notes == [
        "qa: note: 1 article without a date (nodate): date filters and time words never find them",
        "qa: note: 1 article dated after today (typo 2204-03-20): answers leave them out until that day"
        " (or an as-of after it); check those dates",
    ]
    index = str(tmp_path / "i")
    assert "typo" not in run(capsys, "ask", "storm port", "-k", "3", "--json", "--index-dir", index)[1]
    later = run(
        capsys, "ask", "storm port", "-k", "3", "--json", "--as-of", "2204-03-20", "--index-dir", index
    )
    assert "typo" in later[1]


def test_a_repeated_id_does_not_keep_prune_from_deleting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its first article is read, so nothing of it is gone; an article left out of the feed is."""
    # r2 gone, r1 twice
    code, out, err, _ = pruned_after(tmp_path, capsys, lambda lines: [lines[0], lines[1], lines[1]])

    assert code == 0 and "deleted 1" in out and "--prune deleted nothing" not in err
    assert "id 'r1' was already read" in err


# --- from a review of the command line as an analyst uses it -------------------------------------


def test_a_file_name_that_is_no_id_is_skipped_and_the_rest_indexed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(" date 2024-03-01\nThe harbour reopened after the storm.\n")
    (corpus / "report .txt").write_text(" date 2024-03-02\nThe mayor spoke about the bridge.\n")
    code, out, err = run(capsys, "index", str(corpus), "--index-dir", str(tmp_path / "idx"))

    assert code == 0 and "added 1" in out
    assert "qa: skipped" in err and "report .txt" in err and "surrounding whitespace" in err


def test_a_pipe_among_the_articles_is_reported_not_waited_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_feed(corpus / "feed.jsonl")
    os.mkfifo(corpus / "zz.txt")
    code, out, err = run(capsys, "index", str(corpus), "--index-dir", str(tmp_path / "idx"))

    assert code == 0 and "added 3" in out and "zz.txt: not a regular file" in err


def test_an_index_kept_inside_the_corpus_is_not_read_as_articles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_feed(corpus / "feed.jsonl")
    for _ in range(2):
        code, out, err = run(capsys, "index", str(corpus), "--index-dir", str(corpus / "idx"), "--prune")
        assert code == 0 and "qa: skipped" not in err, err
    write_feed(corpus / "feed.jsonl", n=2)  # one record gone: prune deletes it, nothing holds it back
    code, out, err = run(capsys, "index", str(corpus), "--index-dir", str(corpus / "idx"), "--prune")
    assert code == 0 and "deleted 1" in out, out + err


@pytest.mark.parametrize("how", ["option", "variable"])
def test_an_empty_index_dir_is_refused_not_read_as_this_folder(
    how: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    if how == "option":
        with pytest.raises(SystemExit) as exit_:
            cli.main(["stats", "--index-dir", ""])
        code, err = int(exit_.value.code or 0), capsys.readouterr().err
    else:
        monkeypatch.setenv("QA_INDEX_DIR", "")
        code, _, err = run(capsys, "stats")
    assert code == 2 and "empty: name a folder" in err
    assert list(tmp_path.iterdir()) == []  # nothing written here


def test_titles_and_sources_cannot_drive_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = {
        "id": "esc",
        "title": "Harmless \x1b]0;pwned\x07\x1b[2J title",
        "text": "The copper mine reopened. \x9b31m Workers returned.",
        "source": "Wire\x1b[1m",
    }
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps(record) + "\n")
    run(capsys, "index", str(feed), "--index-dir", str(tmp_path / "idx"))
    code, out, _ = run(capsys, "ask", "copper mine", "--index-dir", str(tmp_path / "idx"))

    assert code == 0 and not any(c in out for c in "\x1b\x07\x9b")
    assert "Harmless \\u001b]0;pwned\\u0007\\u001b[2J title" in out and "Wire\\u001b[1m" in out
    code, out, _ = run(capsys, "ask", "copper mine", "--json", "--index-dir", str(tmp_path / "idx"))
    assert json.loads(out)["hits"][0]["title"] == record["title"]  # JSON: the same string, escaped


def test_a_file_named_with_a_newline_is_reported_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ok.txt").write_text("The copper mine reopened on Monday.")
    (corpus / "evil\nqa: note:\tall good.txt").write_text("A forged line.")
    code, _, err = run(capsys, "index", str(corpus), "--index-dir", str(tmp_path / "idx"))

    assert code == 0
    skipped = [line for line in err.splitlines() if "skipped" in line]
    assert skipped == [
        f"qa: skipped {corpus}/evil\\u000aqa: note:\\u0009all good.txt: id holds a control character"
    ]
    assert all(line.startswith("qa: skipped") for line in err.splitlines() if "all good" in line)


def test_a_batch_asked_since_after_until_is_one_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "index", str(write_feed(tmp_path / "feed.jsonl")), "--index-dir", str(tmp_path / "idx"))
    batch = tmp_path / "b.jsonl"
    batch.write_text('{"question": "storm"}\n{"question": "coast"}\n')
    code, _, err = run(
        capsys, "ask", "--batch", str(batch), "--since", "2024-03-05", "--until", "2024-03-01",
        "--index-dir", str(tmp_path / "idx"),
    )  # fmt: skip
    assert code == 2 and one_line(err) == "qa: error: since (2024-03-05) is after until (2024-03-01)"


def test_no_passages_since_a_day_after_as_of_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "index", str(write_feed(tmp_path / "feed.jsonl")), "--index-dir", str(tmp_path / "idx"))
    code, out, _ = run(
        capsys, "ask", "storm", "--since", "2024-03-21", "--as-of", "2024-03-01",
        "--index-dir", str(tmp_path / "idx"),
    )  # fmt: skip
    assert code == 0 and out.strip() == "no passages found (--since 2024-03-21 is after --as-of 2024-03-01)"


def test_ask_says_who_else_published_a_hit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "The central bank cut its rate by a quarter point on Wednesday."
    records = [
        {"id": "ap", "title": "Fed cuts", "text": text, "date": "2024-12-18", "source": "AP"},
        {"id": "wp", "title": "Fed cuts", "text": text, "date": "2024-12-18", "source": "Washington Post"},
    ]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in records))
    run(capsys, "index", str(feed), "--index-dir", str(tmp_path / "idx"))
    code, out, _ = run(capsys, "ask", "Did the Fed cut rates?", "--index-dir", str(tmp_path / "idx"))

    shown = "AP" if "] AP —" in out else "Washington Post"
    other = "Washington Post" if shown == "AP" else "AP"
    assert code == 0 and f"   also published by {other} (2024-12-18)" in out


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (
            '{"question": "Where?", "gold_ids": ["r0"]}',
            "a question record needs 'id', 'question', 'gold_ids'",
        ),
        (
            '{"id": "q1", "question": "Where?", "gold_ids": ["r0"], "answers": "Baku"}',
            "answers is not a list",
        ),
        ('{"id": "q1"', "not JSON"),
    ],
)
def test_eval_reads_the_questions_before_indexing_and_says_which_line_is_bad(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, why: str
) -> None:
    data = bench(tmp_path, [])
    (data / "queries.jsonl").write_text(line + "\n")
    code, _, err = run(capsys, "eval", str(data), "--index-dir", str(tmp_path / "i"))

    assert code == 1 and why in one_line(err) and f"{data / 'queries.jsonl'}:1" in err
    assert not (tmp_path / "i").exists()  # nothing indexed for a file that cannot be answered


@pytest.mark.parametrize("command", ["train-ranker", "train-match", "train-highlighter"])
@pytest.mark.parametrize("option", ["--out", "--examples"])
@pytest.mark.parametrize("where", ["missing/file", "folder"])
def test_an_output_that_cannot_be_written_stops_training_before_the_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, option: str, where: str
) -> None:
    data = bench(
        tmp_path, [{"question": "Where did the storm hit?", "gold_ids": ["r1"], "date": "2024-03-22"}]
    )
    (tmp_path / "folder").mkdir()
    target = tmp_path / where
    code, _, err = run(capsys, command, str(data), "--index-dir", str(tmp_path / "i"), option, str(target))

    assert code == 2 and one_line(err).startswith(f"qa: error: {option} {target}: ")
    assert not (tmp_path / "i").exists()


def test_serve_on_a_port_in_use_is_one_line_before_anything_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run(capsys, "serve", "--index-dir", str(tmp_path / "i"), "--port", str(port))

    assert code == 1 and one_line(err).startswith(f"qa: error: cannot listen on 127.0.0.1:{port}: ")
    assert "qa serve --port N" in err and not (tmp_path / "i").exists()  # the seeds were not indexed


def test_two_data_folders_of_one_name_do_not_share_an_evaluation_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    questions = [
        {"id": "q1", "question": "Where did the storm hit?", "gold_ids": ["r1"], "answers": ["coast"]}
    ]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = bench(tmp_path / "a", questions)
    second = bench(tmp_path / "b", questions)  # both folders are named "bench"
    code, _, err = run(capsys, "eval", str(first))
    assert code == 0, err
    assert (tmp_path / ".qa-eval" / "bench.from").read_text().strip() == str(first.resolve())

    code, _, err = run(capsys, "eval", str(second))
    assert code == 2 and one_line(err) == (
        f"qa: error: {Path('.qa-eval') / 'bench'} holds the index of {first.resolve()}, another folder"
        " named 'bench': give this one its own --index-dir"
    )
    code, _, _ = run(capsys, "eval", str(second), "--index-dir", str(tmp_path / "own"))
    assert code == 0


def test_related_says_so_when_no_other_article_is_related(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = tmp_path / "feed.jsonl"
    records = [
        {"id": f"w{i}", "title": "Storm", "text": "A storm hit the coast.", "source": source}
        for i, source in enumerate(["Wire", "Gazette"])
    ]
    feed.write_text("".join(json.dumps(r) + "\n" for r in records))
    copies, alone = str(tmp_path / "copies"), str(tmp_path / "alone")
    assert run(capsys, "index", str(feed), "--index-dir", copies)[0] == 0
    feed.write_text(json.dumps(records[0]) + "\n")
    assert run(capsys, "index", str(feed), "--index-dir", alone)[0] == 0

    assert run(capsys, "related", "w0", "--index-dir", alone)[:2] == (0, "no other article is related\n")
    code, out, _ = run(capsys, "related", "w0", "--index-dir", copies)
    assert code == 0
    assert out.splitlines() == [
        "the same story, also published by Gazette (undated)",
        "no other article is related besides its copies",
    ]
