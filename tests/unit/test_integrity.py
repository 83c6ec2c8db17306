"""Checksums of a local version's files: recorded, checked at open and in full, refused by writers."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from embeddings.articles import Article
from embeddings.backends.local import LocalBackend, integrity
from embeddings.backends.local import versions as versions_module
from embeddings.errors import IndexCorruptError
from qa.service import QAService, open_service
from qa.settings import Settings
from tests.support.articles import make_articles
from tests.support.damage import (
    cut_half,
    flip_middle,
    live_version,
    make_legacy,
    strip_checksums,
    version_files,
)
from tests.support.fakes import FakeEncoder
from tests.support.services import build_service

EXTRA = Article("zeppelin", "Zeppelin lands", "A zeppelin airship made a landing in Ganja.", None, "Air")


@pytest.fixture
def two_versions(tmp_path: Path) -> tuple[QAService, FakeEncoder]:
    """An index of the test articles, then one more article: two versions, the live one newest."""
    encoder = FakeEncoder()
    qa = build_service(tmp_path / "index", encoder)
    qa.add(make_articles())
    qa.add([EXTRA])
    return qa, encoder


def test_the_manifest_records_every_other_file_with_its_size_and_checksum(service: QAService) -> None:
    version = live_version(service.backend.root)
    manifest = json.loads((version / "manifest.json").read_text())

    assert set(manifest["files"]) == set(version_files(version)) - {"manifest.json", "PUBLISHED"}
    assert manifest["files"]["meta.sqlite"]["size"] == (version / "meta.sqlite").stat().st_size
    assert all(len(record["xxh3_128"]) == 32 for record in manifest["files"].values())
    assert next(iter(manifest)) == "manifest_xxh3_128"  # its own checksum, first
    assert service.backend.verify() == []
    assert service.reader().info.checksums is True


@pytest.mark.parametrize("name", ["vectors.faiss", "meta.sqlite", "lexical/tokens.npy", "passage_days.npy"])
def test_verify_names_each_damaged_file_in_one_line(service: QAService, name: str) -> None:
    flip_middle(live_version(service.backend.root) / name)

    (problem,) = service.backend.verify()

    assert problem.startswith(f"{live_version(service.backend.root).name}/{name}: checksum mismatch")


def test_open_refuses_a_cut_file_and_the_message_names_it_and_repair(service: QAService) -> None:
    cut_half(live_version(service.backend.root) / "vectors.faiss")

    with pytest.raises(IndexCorruptError) as caught:
        service.backend.open()

    assert "vectors.faiss" in str(caught.value) and "qa repair" in str(caught.value)
    assert str(service.backend.root) not in str(caught.value)


def test_a_flip_in_the_manifest_is_caught_by_its_own_checksum(service: QAService) -> None:
    path = live_version(service.backend.root) / "manifest.json"
    path.write_text(path.read_text().replace('"passages": 15', '"passages": 16'))

    assert service.backend.verify() == [f"{path.parent.name}/manifest.json: " + _CHANGED]


_CHANGED = "checksum mismatch (its bytes changed after it was written)"


def test_a_reader_notices_a_file_changed_under_it(service: QAService) -> None:
    reader = service.reader()
    assert reader.check(full=False) == []

    flip_middle(reader.directory / "vectors.faiss")  # type: ignore[attr-defined]

    assert reader.check(full=False) == [f"{reader.directory.name}/vectors.faiss: {_CHANGED}"]  # type: ignore[attr-defined]


def test_a_writer_refuses_to_carry_damage_into_a_new_version(
    service: QAService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(integrity, "SMALL_FILE", 0)  # as for a big file: checked by size at open
    version = live_version(service.backend.root)
    flip_middle(version / "lexical" / "tokens.npy")
    service.reader()  # opens: the flip keeps the size

    with pytest.raises(IndexCorruptError, match=r"cannot write.*tokens\.npy"):
        service.add([EXTRA])

    assert live_version(service.backend.root) == version
    assert not list(service.backend.root.glob("tmp-*"))


@pytest.mark.parametrize("verify_on_start", [True, False])
def test_a_scripts_service_refuses_a_damaged_index_before_its_first_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, verify_on_start: bool
) -> None:
    """`open_service` checks every checksum, as `qa serve` does, unless the setting says not to."""
    encoder = FakeEncoder()
    build_service(tmp_path / "index", encoder).add(make_articles())
    monkeypatch.setattr(integrity, "SMALL_FILE", 0)  # as for a big file: checked by size at open
    flip_middle(live_version(tmp_path / "index") / "vectors.faiss")
    monkeypatch.setattr("qa.service.load_encoder", lambda *args, **kwargs: encoder)
    # encoder="torch": open_service then leaves FAISS's process-wide thread count alone.
    settings = Settings(index_dir=tmp_path / "index", encoder="torch", verify_on_start=verify_on_start)

    qa = open_service(settings)

    if verify_on_start:
        with pytest.raises(IndexCorruptError, match=r"vectors\.faiss: checksum mismatch.*`qa repair`"):
            qa.search("metro", k=1)
    else:
        assert qa.search("metro", k=1)


def test_a_version_without_checksums_opens_and_is_checked_for_structure(service: QAService) -> None:
    make_legacy(live_version(service.backend.root))

    assert service.backend.verify() == []
    assert service.reader().info.checksums is False
    service.add([EXTRA])  # the next write records them
    assert service.reader().info.checksums is True


def test_structure_problems_name_the_part(service: QAService) -> None:
    version = live_version(service.backend.root)
    make_legacy(version)  # so that a rewritten column file is not a checksum mismatch
    days = version / "passage_days.npy"
    ids, values = np.load(days)
    np.save(days, np.stack([ids, values + 1]))

    assert service.backend.verify() == [
        f"{version.name}/passage_*.npy: the per-passage columns (dates, article and text numbers, positions)"
        " do not match the rows"
    ]


# --- a manifest stripped of its checksums ---------------------------------------------------------

OTHER = Article("quokka", "Quokka seen", "A quokka was seen near the harbour at dawn.", None, "Wild")


def _stripped(version: Path, since: int) -> str:
    return (
        f"{version.name}/manifest.json: its checksums are missing, though this index records them"
        f" since v{since:08d} (removed from the manifest)"
    )


def test_an_index_records_from_which_version_on_it_has_checksums(
    two_versions: tuple[QAService, FakeEncoder],
) -> None:
    qa, _ = two_versions

    assert (qa.backend.root / "CHECKSUMS").read_text() == "1\n"  # written by the first write, kept


def test_a_manifest_stripped_of_its_checksums_is_damage_not_an_old_version(service: QAService) -> None:
    version = live_version(service.backend.root)
    strip_checksums(version)  # two keys deleted: every checksum of the version would be disabled

    assert service.backend.verify() == [_stripped(version, 1)]
    with pytest.raises(IndexCorruptError) as caught:
        service.ask("metro")
    assert caught.value.problems == (_stripped(version, 1),)


def test_a_stripped_fall_back_is_damage_too_and_repair_falls_back_past_a_stripped_live_one(
    two_versions: tuple[QAService, FakeEncoder],
) -> None:
    qa, _ = two_versions
    root = qa.backend.root
    strip_checksums(root / "versions" / "v00000001")

    (kept,) = qa.backend.verify_kept()  # type: ignore[attr-defined]
    assert kept.problems == (_stripped(root / "versions" / "v00000001", 1),)

    qa.add([OTHER])  # v00000003
    strip_checksums(live_version(root))
    lines = qa.repair()

    assert any("fell back to v00000002" in line for line in lines), lines
    assert qa.backend.verify() == []


def test_without_the_checksums_file_a_kept_version_holding_them_is_the_evidence(
    two_versions: tuple[QAService, FakeEncoder],
) -> None:
    """An index written by the release before `CHECKSUMS` existed: its own versions say it."""
    qa, _ = two_versions
    (qa.backend.root / "CHECKSUMS").unlink()
    version = live_version(qa.backend.root)
    strip_checksums(version)

    assert qa.backend.verify() == [_stripped(version, 1)]


def test_an_index_from_before_checksums_stays_readable_and_is_held_to_them_after_its_next_write(
    two_versions: tuple[QAService, FakeEncoder],
) -> None:
    qa, _ = two_versions
    root = qa.backend.root
    make_legacy(live_version(root))  # every version without checksums, no CHECKSUMS

    assert qa.backend.verify() == []
    assert qa.reader().info.checksums is False
    qa.add([OTHER])  # v00000003, the first with checksums

    assert (root / "CHECKSUMS").read_text() == "3\n"
    (kept,) = [c for c in qa.backend.verify_kept() if c.version == "v00000002"]  # type: ignore[attr-defined]
    assert kept.ok and kept.checksums is False  # older than the first checksums: as it was
    strip_checksums(live_version(root))
    assert qa.backend.verify() == [_stripped(live_version(root), 3)]


def test_repair_falling_back_to_a_version_from_before_checksums_records_them(
    two_versions: tuple[QAService, FakeEncoder],
) -> None:
    qa, _ = two_versions
    root = qa.backend.root
    make_legacy(live_version(root))
    qa.add([OTHER])  # v00000003 with checksums; v00000002 kept without
    cut_half(live_version(root) / "meta.sqlite")

    lines = qa.repair()

    assert any("fell back to v00000002" in line for line in lines), lines
    copy = live_version(root)  # v00000004: its manifest lists every file (was: none, yet "with checksums")
    files = json.loads((copy / "manifest.json").read_text())["files"]
    assert set(files) == set(version_files(copy)) - {"manifest.json", "PUBLISHED"}
    assert qa.backend.verify() == []


# --- repair ---------------------------------------------------------------------------------------


def _answers(qa: QAService) -> list[tuple[str, float]]:
    return [(h.article_id, round(h.score, 5)) for h in qa.search("zeppelin metro football", k=5)]


@pytest.mark.parametrize(
    ("name", "rebuilt"),
    [
        ("lexical/data.csc.index.npy", "lexical index"),
        ("passage_groups.npy", "column files"),
        ("vectors.faiss", "vectors: 15 from intact versions, 1 re-embedded"),
        ("vectors.json", "vectors"),
    ],
)
def test_repair_rebuilds_a_damaged_derived_part_from_the_rows(
    two_versions: tuple[QAService, FakeEncoder], name: str, rebuilt: str
) -> None:
    qa, _ = two_versions
    before = _answers(qa)
    damaged = live_version(qa.backend.root)
    flip_middle(damaged / name)

    lines = qa.repair()

    assert any(rebuilt in line for line in lines), lines
    assert qa.backend.verify() == []
    assert _answers(qa) == before
    assert qa.stats()["articles"] == 9  # nothing lost
    assert (qa.backend.root / "damaged" / damaged.name / name).is_file()
    assert len(list((qa.backend.root / "versions").iterdir())) == 2


@pytest.mark.parametrize("name", ["meta.sqlite", "manifest.json"])
def test_repair_falls_back_to_the_intact_earlier_version_when_rows_or_manifest_are_damaged(
    two_versions: tuple[QAService, FakeEncoder], name: str
) -> None:
    qa, _ = two_versions
    damaged = live_version(qa.backend.root)
    cut_half(damaged / name)

    lines = qa.repair()

    assert any("fell back to" in line for line in lines)
    assert any("lost" in line for line in lines)
    assert qa.backend.verify() == []
    assert qa.stats()["articles"] == 8  # the last write is gone: said so above
    assert int(live_version(qa.backend.root).name[1:]) > int(damaged.name[1:])


def test_repair_without_an_intact_version_says_how_to_rebuild(tmp_path: Path) -> None:
    qa = build_service(tmp_path / "index", FakeEncoder())
    qa.add(make_articles())
    cut_half(live_version(qa.backend.root) / "meta.sqlite")

    with pytest.raises(IndexCorruptError, match="qa index --rebuild"):
        qa.repair()


def test_repair_re_embeds_vectors_when_no_earlier_version_holds_them(tmp_path: Path) -> None:
    encoder = FakeEncoder()
    qa = build_service(tmp_path / "index", encoder)
    qa.add(make_articles())
    before = _answers(qa)
    flip_middle(live_version(qa.backend.root) / "vectors.faiss")

    lines = qa.repair()

    assert "rebuilt the vectors: 0 from intact versions, 15 re-embedded" in lines
    assert _answers(qa) == before


def test_repair_of_an_intact_index_does_nothing(service: QAService) -> None:
    version = live_version(service.backend.root)

    assert service.repair() == [f"{version.name} is intact: nothing to repair"]
    assert live_version(service.backend.root) == version


def test_repair_after_a_damaged_current_pointer_falls_back_to_an_intact_version(
    two_versions: tuple[QAService, FakeEncoder],
) -> None:
    qa, _ = two_versions
    (qa.backend.root / "CURRENT").write_bytes(b"\xff\xfe garbage")

    with pytest.raises(IndexCorruptError, match="CURRENT"):
        qa.reader()
    lines = qa.repair()

    assert any("fell back to" in line for line in lines)
    assert qa.stats()["articles"] == 9  # the newest version was intact


# --- CURRENT and the versions beside it -------------------------------------------------------------


def _versions(qa: QAService) -> list[str]:
    return sorted(p.name for p in (qa.backend.root / "versions").iterdir())


def test_versions_without_current_are_damage_not_an_empty_index(
    two_versions: tuple[QAService, FakeEncoder],
) -> None:
    """Taken for "no index", a write would start over at v1 and the next ones delete the archive."""
    qa, _ = two_versions
    held = _versions(qa)
    (qa.backend.root / "CURRENT").unlink()

    for read in (lambda: qa.search("metro", k=1), qa.stats):  # each naming the way out
        with pytest.raises(
            IndexCorruptError, match=r"CURRENT: missing, though versions/ holds .*`qa repair`"
        ):
            read()
    with pytest.raises(IndexCorruptError, match="CURRENT: missing"):
        qa.add([Article("new", "New", "A new story.", None, None)])  # refused, nothing written
    assert _versions(qa) == held and qa.backend.exists()

    lines = qa.repair()

    assert lines[-1].startswith(f"fell back to {held[-1]}") and "v00000003" in lines[-1]
    assert qa.stats()["articles"] == 9 and qa.backend.verify() == []


def test_a_live_version_gone_missing_is_repaired_under_a_new_number(
    two_versions: tuple[QAService, FakeEncoder],
) -> None:
    qa, _ = two_versions
    live = live_version(qa.backend.root)
    shutil.rmtree(live)

    lines = qa.repair()

    assert live.name not in _versions(qa) and len(_versions(qa)) == 2  # not published under its name
    assert not any("moved the damaged" in line for line in lines)
    assert qa.backend.verify() == [] and qa.stats()["articles"] == 8
    assert qa.repair()[0].endswith("is intact: nothing to repair")


def test_current_set_back_keeps_the_newer_version_a_write_would_have_replaced(
    two_versions: tuple[QAService, FakeEncoder],
) -> None:
    qa, _ = two_versions
    older, newer = _versions(qa)
    (qa.backend.root / "CURRENT").write_text(older + "\n")

    qa.add([Article("new", "New", "A new story.", None, None)])

    assert _versions(qa) == [newer, "v00000003"]  # the newer one kept, the write above it
    assert (qa.backend.root / "versions" / newer / "manifest.json").is_file()


def test_a_version_a_dead_writer_renamed_in_but_never_published_is_removed(
    two_versions: tuple[QAService, FakeEncoder],
) -> None:
    qa, _ = two_versions
    root = qa.backend.root
    live = live_version(root)
    leftover = root / "versions" / "v00000003"
    shutil.copytree(live, leftover)
    (leftover / "PUBLISHED").unlink()  # renamed into versions/, then the writer died before the swap
    (root / "LAST").write_text("3\n")  # the number it had taken
    stray = root / "versions" / f"{live.name}.bak"  # an operator's copy: never counted or removed
    shutil.copytree(live, stray)

    qa.add([Article("new", "New", "A new story.", None, None)])

    # the leftover removed, its number never taken again: a reader that had opened it cannot
    # mistake the new version for it
    assert _versions(qa) == [live.name, f"{live.name}.bak", "v00000004"]
    assert qa.stats()["articles"] == 10 and not leftover.exists()


def test_a_live_version_a_writer_died_before_marking_is_marked_by_the_next_writer(
    two_versions: tuple[QAService, FakeEncoder],
) -> None:
    qa, _ = two_versions
    live = live_version(qa.backend.root)
    (live / "PUBLISHED").unlink()  # killed between the swap of CURRENT and the mark

    qa.add([Article("new", "New", "A new story.", None, None)])

    assert (live / "PUBLISHED").is_file() and live.name in _versions(qa)


@pytest.mark.parametrize("name", ["vectors.faiss", "passage_days.npy", "lexical/tokens.npy"])
def test_repair_replaces_a_derived_file_turned_into_a_symlink(
    two_versions: tuple[QAService, FakeEncoder], name: str
) -> None:
    qa, _ = two_versions
    path = live_version(qa.backend.root) / name
    path.unlink()
    path.symlink_to(path.name)  # a link to itself

    lines = qa.repair()

    assert any(line.startswith("rebuilt") for line in lines), lines
    assert qa.backend.verify() == [] and qa.stats()["articles"] == 9


def test_a_refused_index_stays_refused_within_the_reload_interval(
    two_versions: tuple[QAService, FakeEncoder],
) -> None:
    qa, _ = two_versions
    qa.reload_interval = 60.0
    qa.search("metro", k=1)
    (qa.backend.root / "CURRENT").write_bytes(b"garbage")
    qa._checked = 0.0  # the interval is over: the next call checks

    for _ in range(3):  # not the version answered from before, on the calls that follow
        with pytest.raises(IndexCorruptError, match="CURRENT"):
            qa.search("metro", k=1)


@pytest.mark.parametrize(
    ("shape", "done"), [("CURRENT", "fell back to v00000002"), ("vectors.faiss", "rebuilt the vectors")]
)
def test_repair_recovers_a_file_turned_into_a_folder(
    two_versions: tuple[QAService, FakeEncoder], shape: str, done: str
) -> None:
    qa, _ = two_versions
    root = qa.backend.root
    path = root / "CURRENT" if shape == "CURRENT" else live_version(root) / shape
    path.unlink()
    path.mkdir()

    lines = qa.repair()

    assert any(line.startswith(done) for line in lines), lines
    assert qa.backend.verify() == [] and qa.stats()["articles"] == 9  # the newest, intact or rebuilt


def test_every_version_number_taken_is_recorded_before_its_version_appears(
    two_versions: tuple[QAService, FakeEncoder],
) -> None:
    qa, _ = two_versions
    root = qa.backend.root
    seen: list[tuple[str, bool]] = []
    replace = os.replace

    def watching(src: object, dst: object) -> None:  # the rename of a new version into versions/
        if Path(str(dst)).parent == root / "versions":
            seen.append(((root / "LAST").read_text().strip(), Path(str(dst)).exists()))
        replace(src, dst)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(versions_module.os, "replace", watching)
        qa.add([Article("new", "New", "A new story.", None, None)])

    assert seen == [("3", False)]


def test_the_backend_itself_verifies_and_repairs(tmp_path: Path) -> None:
    """The contract's `verify` and `repair`, called directly (as another edge would)."""
    qa = build_service(tmp_path / "index", FakeEncoder())
    qa.add(make_articles())
    qa.add([EXTRA])
    backend = LocalBackend(tmp_path / "index")
    flip_middle(live_version(backend.root) / "lexical" / "ids.npy")

    assert len(backend.verify(structure=False)) == 1
    with backend.writer(5):
        assert any("lexical" in line for line in backend.repair())
    assert backend.verify() == []
    shutil.rmtree(tmp_path / "index" / "damaged")


def test_qa_repair_prints_what_it_did_and_qa_check_is_clean_after(
    two_versions: tuple[QAService, FakeEncoder],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from qa import cli

    qa, _ = two_versions
    root = str(qa.backend.root)
    monkeypatch.setattr(cli, "_service", lambda settings, progress=False: qa)
    cut_half(live_version(qa.backend.root) / "passage_days.npy")

    assert cli.main(["check", "--index-dir", root]) == 1
    assert cli.main(["repair", "--index-dir", root]) == 0
    assert cli.main(["check", "--index-dir", root]) == 0

    out = capsys.readouterr().out.splitlines()
    assert "passage_days.npy" in out[0] and "(cut or extended)" in out[0]
    assert any(line.startswith("rebuilt the per-passage column files") for line in out)
    assert out[-1] == "ok"


def test_a_refusal_names_the_way_out_that_works_for_its_damage(
    tmp_path: Path, two_versions: tuple[QAService, FakeEncoder]
) -> None:
    # One version, its rows damaged: nothing to rebuild them from, nothing kept to fall back to.
    one = build_service(tmp_path / "one", FakeEncoder())
    one.add(make_articles())
    cut_half(live_version(one.backend.root) / "meta.sqlite")
    with pytest.raises(IndexCorruptError, match=r"no intact earlier version is kept .*`qa index --rebuild"):
        one.ask("metro")
    # The same damage with the version before kept: `qa repair` falls back to it.
    qa, _ = two_versions
    cut_half(live_version(qa.backend.root) / "meta.sqlite")
    with pytest.raises(IndexCorruptError, match=r"`qa repair` recovers$"):
        qa.ask("metro")
