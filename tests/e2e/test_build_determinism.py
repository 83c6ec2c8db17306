"""An index's vectors depend on its articles, not on how the build was cut into calls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings.readers import read_articles
from qa.service import QAService, open_service
from qa.settings import Settings

pytestmark = pytest.mark.model

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def _vectors(service: QAService) -> dict[str, np.ndarray]:
    reader = service.reader()
    return {a: reader.vectors(reader.article_passages(a)) for a in reader.article_ids()}


def test_one_build_and_a_resumed_one_in_another_order_store_the_same_vectors(tmp_path: Path) -> None:
    """The default encoder (int8) quantises per batch: the default batch of one keeps vectors fixed."""
    articles, problems = read_articles([SEEDS])
    assert problems == [] and len(articles) == 5
    whole = open_service(Settings(index_dir=tmp_path / "whole", reload_interval=0))
    whole.add(articles)
    parts = open_service(Settings(index_dir=tmp_path / "parts", reload_interval=0))
    parts.add(articles[::-1][:2])
    parts.add(articles[::-1][2:])
    expected, got = _vectors(whole), _vectors(parts)
    assert sorted(got) == sorted(expected)
    assert sum(len(v) for v in expected.values()) > len(articles)  # several passages an article
    for article_id, vectors in expected.items():
        np.testing.assert_array_equal(got[article_id], vectors, err_msg=article_id)
