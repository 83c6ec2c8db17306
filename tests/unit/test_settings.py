"""Tests for qa.settings: retrieval knobs nested, flat or from the environment, and backend options."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from embeddings.backends import BACKENDS
from qa.cli import main
from qa.retrieval.config import RetrievalConfig
from qa.settings import Settings


def test_retrieval_defaults_to_the_configs_own_defaults() -> None:
    assert Settings().retrieval == RetrievalConfig()


def test_a_nested_mapping_sets_the_retrieval_knobs() -> None:
    settings = Settings(retrieval={"fusion": "linear", "recency_weight": 0.0})

    assert (settings.retrieval.fusion, settings.retrieval.recency_weight) == ("linear", 0.0)
    assert settings.retrieval.time_boost == RetrievalConfig().time_boost


def test_a_nested_config_object_is_kept() -> None:
    config = RetrievalConfig(rrf_k=7, max_per_article=2)

    assert Settings(retrieval=config).retrieval == config


def test_a_flat_keyword_is_nested_into_retrieval() -> None:
    settings = Settings(recency_weight=0, candidates=50)

    assert (settings.retrieval.recency_weight, settings.retrieval.candidates) == (0.0, 50)
    assert "recency_weight" not in Settings.model_fields  # one definition, not a copy


def test_flat_keywords_and_a_config_object_combine() -> None:
    settings = Settings(retrieval=RetrievalConfig(rrf_k=7), recency_weight=0.25)

    assert (settings.retrieval.rrf_k, settings.retrieval.recency_weight) == (7, 0.25)


def test_each_knob_is_read_from_its_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_RECENCY_WEIGHT", "0.25")
    monkeypatch.setenv("QA_FUSION", "linear")
    monkeypatch.setenv("QA_LEXICAL", "false")

    retrieval = Settings().retrieval

    assert (retrieval.recency_weight, retrieval.fusion, retrieval.lexical) == (0.25, "linear", False)


def test_the_retrieval_variable_is_read_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_RETRIEVAL", '{"rrf_k": 30, "highlight": false}')

    retrieval = Settings().retrieval

    assert (retrieval.rrf_k, retrieval.highlight, retrieval.fusion) == (30, False, "rrf")


def test_a_flat_variable_fills_in_what_the_json_leaves_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_RETRIEVAL", '{"rrf_k": 30}')
    monkeypatch.setenv("QA_TIME_BOOST", "2")

    retrieval = Settings().retrieval

    assert (retrieval.rrf_k, retrieval.time_boost) == (30, 2.0)


def test_an_explicit_retrieval_mapping_wins_over_a_flat_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_RECENCY_WEIGHT", "0.25")
    monkeypatch.setenv("QA_RRF_K", "5")

    retrieval = Settings(retrieval={"recency_weight": 2.0}).retrieval

    assert (retrieval.recency_weight, retrieval.rrf_k) == (2.0, 5)


def test_a_flat_keyword_wins_over_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_RECENCY_WEIGHT", "0.25")

    assert Settings(recency_weight=3).retrieval.recency_weight == 3.0


def test_a_flat_keyword_wins_over_the_retrieval_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_RETRIEVAL", '{"recency_weight": 0.3, "rrf_k": 30}')

    retrieval = Settings(recency_weight=0.1).retrieval

    assert (retrieval.recency_weight, retrieval.rrf_k) == (0.1, 30)


def test_a_config_object_wins_knob_by_knob_over_the_retrieval_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QA_RETRIEVAL", '{"recency_weight": 0.3, "rrf_k": 30}')

    retrieval = Settings(retrieval=RetrievalConfig(recency_weight=0.2)).retrieval

    assert (retrieval.recency_weight, retrieval.rrf_k) == (0.2, 30)


def test_the_retrieval_variable_wins_over_a_knobs_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_RETRIEVAL", '{"recency_weight": 0.3}')
    monkeypatch.setenv("QA_RECENCY_WEIGHT", "0")
    monkeypatch.setenv("QA_RRF_K", "5")

    retrieval = Settings().retrieval

    assert (retrieval.recency_weight, retrieval.rrf_k) == (0.3, 5)


def test_flat_knobs_in_a_validated_mapping_are_nested() -> None:
    settings = Settings.model_validate({"recency_weight": 0.4, "retrieval": {"rrf_k": 9}})

    assert (settings.retrieval.recency_weight, settings.retrieval.rrf_k) == (0.4, 9)


@pytest.mark.parametrize(
    "given", [{"fusion": "max"}, {"retrieval": {"fusion": "max"}}], ids=["flat", "nested"]
)
def test_an_unknown_fusion_is_rejected_with_the_choices(given: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match=r"unknown fusion 'max'; choices: linear, rrf") as error:
        Settings(**given)
    assert error.value.errors()[0]["loc"] == ("retrieval", "fusion")


def test_an_unknown_fusion_variable_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_FUSION", "max")

    with pytest.raises(ValidationError, match=r"choices: linear, rrf"):
        Settings()


def test_the_highlighter_is_learned_unless_lexical_is_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().retrieval.highlighter == "learned"
    monkeypatch.setenv("QA_HIGHLIGHTER", "lexical")

    assert Settings().retrieval.highlighter == "lexical"
    with pytest.raises(ValidationError, match=r"unknown highlighter 'dense'; choices: learned, lexical"):
        Settings(highlighter="dense")


@pytest.mark.parametrize(
    ("knob", "value"), [("candidates", 5), ("candidates", 5000), ("rrf_k", 0), ("max_per_article", 0)]
)
def test_out_of_range_knobs_are_rejected(knob: str, value: int) -> None:
    with pytest.raises(ValidationError) as error:
        Settings(**{knob: value})
    assert error.value.errors()[0]["loc"] == ("retrieval", knob)


def test_an_unknown_nested_knob_is_rejected() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Settings(retrieval={"recency": 0.5})


# --- backend_options ---------------------------------------------------------------------------


def test_local_backend_options_with_the_onnx_encoder_use_one_search_thread(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path, store_options={"exact_threshold": 5000})

    assert settings.backend_options() == {
        "root": tmp_path,
        "store": "faiss",
        "store_options": {"exact_threshold": 5000},
        "search_threads": 1,
    }


@pytest.mark.parametrize(
    ("encoder", "threads", "expected"),
    [("onnx", None, 1), ("torch", None, None), ("torch", 4, 4), ("onnx-int8", 3, 3)],
)
def test_search_threads_default_by_encoder_unless_set(
    encoder: str, threads: int | None, expected: int | None
) -> None:
    settings = Settings(encoder=encoder, search_threads=threads)

    assert settings.backend_options()["search_threads"] == expected


def test_backend_options_copy_the_store_options() -> None:
    settings = Settings(store_options={"exact_threshold": 5000})

    settings.backend_options()["store_options"]["nprobe"] = 4  # type: ignore[index]

    assert settings.store_options == {"exact_threshold": 5000}


def test_another_backend_gets_no_local_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BACKENDS, "elsewhere", ("elsewhere", "Elsewhere", "elsewhere"))
    assert Settings(backend="elsewhere").backend_options() == {}


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("QA_BACKEND", "torch", "QA_BACKEND: unknown index backend 'torch' (one of local, milvus)"),
        ("QA_STORE", "hnsw", "QA_STORE: unknown vector store 'hnsw' (one of faiss)"),
    ],
)
def test_an_unknown_backend_or_store_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["stats", "--index-dir", "nowhere"]) == 2
    assert capsys.readouterr().err == f"qa: error: bad configuration: {message}\n"


def test_a_misspelt_keyword_is_an_error_not_ignored() -> None:
    with pytest.raises(ValidationError, match="recency_wieght"):
        Settings(recency_wieght=0)
    with pytest.raises(ValidationError, match="index_dri"):
        Settings(index_dri="x")


def test_an_unknown_qa_variable_is_not_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_SOMETHING_ELSE", "1")  # another tool's, or an old release's
    assert Settings().index_dir == Path(".qa-index")


def test_an_overlap_as_long_as_the_chunk_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match=r"overlap \(40\) must be smaller than the chunk size \(40\)"):
        Settings(chunk_size=40, chunk_overlap=40)
    monkeypatch.setenv("QA_CHUNK_SIZE", "40")
    monkeypatch.setenv("QA_CHUNK_OVERLAP", "40")
    assert main(["stats"]) == 2


@pytest.mark.parametrize("index", ["DISKANN", "SCANN", "IVF_PQ"])
def test_an_index_milvus_lite_cannot_load_is_a_configuration_error(index: str) -> None:
    with pytest.raises(ValidationError, match=f"{index}: Milvus Lite cannot load it"):
        Settings(backend="milvus", milvus_index=index)
    server = Settings(backend="milvus", milvus_index=index, milvus_uri="http://milvus:19530")
    assert server.milvus_index == index


def test_a_consistency_level_is_read_in_any_case_and_an_unknown_one_refused() -> None:
    assert Settings(milvus_consistency="bounded").milvus_consistency == "Bounded"
    with pytest.raises(ValidationError, match="unknown consistency level 'Wrong'"):
        Settings(milvus_consistency="Wrong")


@pytest.mark.parametrize("variable", ["QA_MODEL_DIR", "QA_ENCODER_CACHE_DIR", "QA_SEEDS_DIR", "QA_HOST"])
def test_an_empty_folder_or_host_variable_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str
) -> None:
    monkeypatch.setenv(variable, "")  # an unset shell variable: never this folder, nor every address
    assert main(["stats", "--index-dir", "nowhere"]) == 2
    assert capsys.readouterr().err.startswith(f"qa: error: bad configuration: {variable}: empty: name ")


def test_a_misspelt_variable_is_named_with_the_setting_it_is_close_to(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("QA_RECENCY_WIEGHT", "0")
    monkeypatch.setenv("QA_SOMETHING_ELSE", "1")  # close to no setting: another tool's, said nothing of
    assert main(["check", "--index-dir", str(tmp_path / "none")]) == 1
    warning, error = capsys.readouterr().err.splitlines()
    assert (
        warning
        == "qa: warning: QA_RECENCY_WIEGHT is not a setting (ignored); did you mean QA_RECENCY_WEIGHT?"
    )
    assert error.startswith("qa: error: no index at ")


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ('{"nprobe": -1}', "faiss store option nprobe=-1: expected an integer >= 1"),
        ('{"nprobes": 8}', "unknown faiss store option(s) nprobes; choices: "),
    ],
)
def test_store_options_the_store_refuses_are_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], options: str, problem: str
) -> None:
    monkeypatch.setenv("QA_STORE_OPTIONS", options)
    assert main(["stats", "--index-dir", "nowhere"]) == 2
    assert capsys.readouterr().err.startswith(f"qa: error: bad configuration: QA_STORE_OPTIONS: {problem}")


@pytest.mark.parametrize("value", ["[]", '[""]', '["  "]'])
def test_allowed_hosts_naming_no_host_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    monkeypatch.setenv("QA_ALLOWED_HOSTS", value)  # a server that would answer every request 400
    assert main(["stats", "--index-dir", "nowhere"]) == 2
    assert capsys.readouterr().err.startswith("qa: error: bad configuration: QA_ALLOWED_HOSTS: no host named")
    assert Settings(allowed_hosts=["*"]).served_hosts() is None
