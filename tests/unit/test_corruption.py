"""The corruption campaign over a small index: every file of a version, cut and flipped, is caught by
`qa check`, refused by `qa serve`, `qa ask` and the API, and never answered as a 200 that differs."""

from __future__ import annotations

from pathlib import Path

import pytest

from embeddings.backends.local import integrity
from qa.service import QAService
from tests.support.campaign import Campaign, CaseResult, summarise
from tests.support.damage import DAMAGES
from tests.support.fakes import FakeEncoder
from tests.support.services import build_service


def _service(root: Path) -> QAService:
    return build_service(root, FakeEncoder())


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Campaign:
    from tests.support.articles import make_articles

    source = tmp_path_factory.mktemp("campaign-source") / "index"
    _service(source).add(make_articles())
    return Campaign(source, tmp_path_factory.mktemp("campaign"), _service, "pipeline-a", "metro station")


@pytest.fixture(scope="module")
def results(campaign: Campaign) -> list[CaseResult]:
    # Every file counts as big, as in a real index: open checks its size only, so a flip that keeps
    # the size must be caught by the start-up hash or the reload checks.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(integrity, "SMALL_FILE", 0)
        return [campaign.run(file, damage) for file in campaign.files() for damage in DAMAGES]


def test_the_campaign_covers_every_file_kind_of_a_version(campaign: Campaign) -> None:
    files = campaign.files()

    # CURRENT and 16 files of the version, 4 damages each: the 64 cases and 4 of the
    # positions column added since
    assert len(files) == 17
    assert {"CURRENT", "manifest.json", "meta.sqlite", "vectors.faiss", "vectors.json", "passage_days.npy",
            "passage_groups.npy", "passage_positions.npy", "lexical/tokens.npy",
            "lexical/offsets.npy"} <= set(files)  # fmt: skip


def test_every_damage_is_caught_refused_and_never_answered_differently(results: list[CaseResult]) -> None:
    failed = [r for r in results if not r.ok]

    assert failed == []
    assert summarise(results) == {
        "cases": 68,
        "detected_by_check": 68,
        "serve_refused": 68,
        "ask_refused": 68,
        "started_app_refused_every_read": 68,
        "running_app_health_503": 68,
        "servers_answering_from_damage": 0,
        "http_200_with_different_answers": 0,
        "tracebacks": 0,
        "bodies_leaking": 0,
    }


def test_check_prints_one_line_per_problem_naming_the_file(results: list[CaseResult]) -> None:
    for r in results:
        assert r.check_exit == 1, r
        assert all(line.startswith(("v0", "CURRENT")) for line in r.check_lines), r
        assert any(r.file in line for line in r.check_lines), r


def test_a_case_fails_when_the_damage_goes_unnoticed(campaign: Campaign) -> None:
    """The judges can fail: a file that is never read, replaced by itself, is not damage."""
    result = CaseResult("vectors.json", "none")

    campaign._judge_cli(campaign.root / "versions" / "x" / "vectors.json", result)

    assert not result.detected and not result.serve_refused and not result.ok
