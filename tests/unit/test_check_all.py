"""`qa check --all`: the live version and every version kept for `qa repair` to fall back to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embeddings.articles import Article
from embeddings.backends.local.versions import CURRENT
from qa import cli
from qa.service import QAService
from tests.support.articles import make_articles
from tests.support.damage import cut_half, flip_middle, live_version
from tests.support.fakes import FakeEncoder
from tests.support.services import build_service

EXTRA = Article("zeppelin", "Zeppelin lands", "A zeppelin airship made a landing in Ganja.", None, "Air")
CHANGED = "checksum mismatch (its bytes changed after it was written)"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An index of the test articles, then one more article: v00000002 live, v00000001 kept."""
    qa = build_service(tmp_path / "index", FakeEncoder())
    qa.add(make_articles())
    qa.add([EXTRA])
    return qa.backend.root  # type: ignore[attr-defined, no-any-return]


def _check(capsys: pytest.CaptureFixture[str], root: Path, *flags: str) -> tuple[int, str, str]:
    code = cli.main(["check", *flags, "--index-dir", str(root)])
    out, err = capsys.readouterr()
    return code, out, err


def test_check_all_lists_the_live_version_then_each_kept_one(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check(capsys, root, "--all") == (0, "v00000002 (live): ok\nv00000001: ok\n", "")


def test_a_damaged_fall_back_is_seen_only_with_all_and_exits_3_naming_it(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flip_middle(root / "versions" / "v00000001" / "vectors.faiss")

    assert _check(capsys, root) == (0, "ok\n", "")  # the live version alone, as before
    code, out, err = _check(capsys, root, "--all")

    assert code == 3
    assert out.splitlines() == [
        "v00000002 (live): ok",
        "v00000001: 1 problem",
        f"  v00000001/vectors.faiss: {CHANGED}",
    ]
    assert err == "qa: warning: damaged fall-back version v00000001: `qa repair` cannot use it\n"


def test_check_all_json_keeps_the_keys_of_check_and_adds_each_version(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = root / "versions" / "v00000001" / "meta.sqlite"
    size = rows.stat().st_size
    cut_half(rows)

    code, out, _ = _check(capsys, root, "--all", "--json")
    report = json.loads(out)

    assert code == 3
    assert {k: report[k] for k in ("ok", "problems", "version", "note")} == {
        "ok": True,
        "problems": [],
        "version": "v00000002",
        "note": "",
    }
    assert report["versions"] == [
        {"version": "v00000002", "live": True, "ok": True, "problems": []},
        {
            "version": "v00000001",
            "live": False,
            "ok": False,
            "problems": [f"v00000001/meta.sqlite: {size // 2} bytes, written as {size} (cut or extended)"],
        },
    ]


def test_a_damaged_live_version_exits_1_whatever_the_fall_backs(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flip_middle(live_version(root) / "vectors.faiss")
    flip_middle(root / "versions" / "v00000001" / "vectors.faiss")

    code, out, err = _check(capsys, root, "--all")

    assert code == 1
    assert out.splitlines()[0] == "v00000002 (live): 1 problem"
    assert err.splitlines() == [
        "qa: the live version is damaged: `qa repair` recovers",
        "qa: warning: damaged fall-back version v00000001: `qa repair` cannot use it",
    ]


def test_without_a_readable_current_every_version_is_a_fall_back_and_checked(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (root / CURRENT).unlink()

    code, out, _ = _check(capsys, root, "--all")

    assert code == 1
    assert out.splitlines() == [
        "CURRENT: missing, though versions/ holds v00000001, v00000002",
        "v00000002: ok",
        "v00000001: ok",
    ]


def test_a_single_version_says_repair_has_nothing_to_fall_back_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    qa: QAService = build_service(tmp_path / "index", FakeEncoder())
    qa.add(make_articles())

    code, out, _ = _check(capsys, tmp_path / "index", "--all")

    assert code == 0
    assert out.splitlines() == [
        "v00000001 (live): ok",
        "no other version is kept: `qa repair` has none to fall back to",
    ]


LATE = Article("late", "Late news", "A late article arrived while the index was being checked.", None, "Air")


def test_a_version_retired_by_a_write_during_the_check_is_not_called_damaged(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server taking writes publishes while `check --all` reads: the fall-back it was about to
    check is retired (deleted) by that write. Gone is not damaged: no exit 3, no "missing"."""
    from embeddings.backends.local import backend as local_backend

    writer = build_service(root, FakeEncoder())
    check = local_backend.check_version

    def write_first(path: Path, *args: object, **kwargs: object) -> object:
        if path.name == "v00000001" and not (root / "versions" / "v00000003").exists():
            writer.add([LATE])  # publishes v00000003 and retires v00000001, about to be checked
        return check(path, *args, **kwargs)

    monkeypatch.setattr(local_backend, "check_version", write_first)
    code, out, err = _check(capsys, root, "--all")

    assert (code, err) == (0, "")
    assert out.startswith("v00000002 (live): ok\n") and "v00000001" not in out  # gone, not damaged
    assert not (root / "versions" / "v00000001").exists()


def test_the_live_version_named_is_the_one_checked_when_a_write_lands_meanwhile(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write published just after the live version was checked: the problems printed under a
    version's name must be that version's, so the newer one is checked in turn."""
    from embeddings.backends.local.backend import LocalBackend

    writer = build_service(root, FakeEncoder())
    verify = LocalBackend.verify
    checked: list[str] = []

    def write_after(self: LocalBackend, *args: object, **kwargs: object) -> list[str]:
        checked.append(self.live_version())
        problems = verify(self, *args, **kwargs)
        if len(checked) == 1:
            writer.add([LATE])  # published once the check of v00000002 is done: v00000003
        return problems

    monkeypatch.setattr(LocalBackend, "verify", write_after)
    code, out, _ = _check(capsys, root, "--all")

    assert checked == ["v00000002", "v00000003"]
    assert code == 0 and out.startswith("v00000003 (live): ok\n")


@pytest.mark.parametrize(
    ("damaged", "way_out"),
    [
        ("vectors.faiss", "`qa repair` recovers"),  # rebuilt from the intact rows, fall-back or not
        ("meta.sqlite", "no intact earlier version is kept to fall back to: `qa index --rebuild"),
    ],
)
def test_check_names_the_way_out_that_works_when_no_version_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damaged: str, way_out: str
) -> None:
    # One write: the live version alone. Damaged rows cannot be rebuilt, and nothing is kept to fall
    # back to, so `qa repair` would only say it cannot: check names the rebuild instead.
    qa = build_service(tmp_path / "index", FakeEncoder())
    qa.add(make_articles())
    root = qa.backend.root  # type: ignore[attr-defined]
    flip_middle(live_version(root) / damaged)

    code, _, err = _check(capsys, root)

    assert code == 1 and err.startswith(f"qa: the live version is damaged: {way_out}")


def test_damaged_rows_with_an_intact_fall_back_are_repaired(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flip_middle(live_version(root) / "meta.sqlite")

    code, _, err = _check(capsys, root)

    assert code == 1 and err == "qa: the live version is damaged: `qa repair` recovers\n"
