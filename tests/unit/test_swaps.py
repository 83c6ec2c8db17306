"""Files swapped together with their checksums: refused at open, in one line naming the file, never
a traceback (what no checksum can see is whether the parts of a version fit together)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import pytest

from embeddings.articles import Article
from embeddings.backends.local.columns import DAYS_FILENAME, GROUPS_FILENAME, POSITIONS_FILENAME
from embeddings.backends.local.rows import FILENAME as ROWS_FILE
from embeddings.backends.local.versions import MANIFEST, Manifest
from embeddings.errors import IndexCorruptError
from qa import cli
from qa.service import QAService
from tests.support.damage import live_version, resign
from tests.support.fakes import FakeEncoder
from tests.support.services import ClientFactory, build_service

Swap = Callable[[Path], None]  # rewrites one file of a version (then re-signed)


def _array(name: str, change: Callable[[np.ndarray], np.ndarray]) -> Swap:
    def swap(version: Path) -> None:
        np.save(version / name, change(np.load(version / name)))

    return swap


def _json(name: str, change: Callable[[object], object]) -> Swap:
    def swap(version: Path) -> None:
        (version / name).write_text(json.dumps(change(json.loads((version / name).read_text()))))

    return swap


def _one_article_fewer(version: Path) -> None:
    with sqlite3.connect(version / ROWS_FILE) as db:
        (last,) = db.execute("SELECT id FROM articles ORDER BY id DESC LIMIT 1").fetchone()
        db.execute("DELETE FROM passages WHERE article_id = ?", (last,))
        db.execute("DELETE FROM articles WHERE id = ?", (last,))
    db.close()


def _other_vector_ids(version: Path) -> None:
    stored = faiss.read_index(str(version / "vectors.faiss"))
    ids = faiss.vector_to_array(stored.id_map).astype(np.int64)
    other = faiss.IndexIDMap2(faiss.IndexFlatIP(stored.d))
    other.add_with_ids(stored.index.reconstruct_n(0, stored.ntotal), ids + 1000)
    faiss.write_index(other, str(version / "vectors.faiss"))


def _half_the_dimensions(version: Path) -> None:
    stored = faiss.read_index(str(version / "vectors.faiss"))
    ids = faiss.vector_to_array(stored.id_map).astype(np.int64)
    vectors = stored.index.reconstruct_n(0, stored.ntotal)
    other = faiss.IndexIDMap2(faiss.IndexFlatIP(stored.d // 2))
    other.add_with_ids(np.ascontiguousarray(vectors[:, : stored.d // 2]), ids)
    faiss.write_index(other, str(version / "vectors.faiss"))


# Each of these ended `qa ask`, `/ask` or `/related` in an IndexError, ValueError, TypeError or
# AssertionError from NumPy, bm25s or FAISS before the parts were checked at open; the last two
# were answered from ("unavailable" or silently).
SWAPS: dict[str, tuple[str, Swap]] = {
    "tokens cut to half": ("lexical/offsets.npy", _array("lexical/tokens.npy", lambda a: a[: len(a) // 2])),
    "offsets reversed": ("lexical/offsets.npy", _array("lexical/offsets.npy", lambda a: a[::-1].copy())),
    "offsets as floats": ("lexical/offsets.npy", _array("lexical/offsets.npy", lambda a: a.astype(float))),
    "ids cut to half": ("lexical/ids.npy", _array("lexical/ids.npy", lambda a: a[: len(a) // 2])),
    "score rows beyond the passages": (
        "lexical/indices.csc.index.npy",
        _array("lexical/indices.csc.index.npy", lambda a: a + 1000),
    ),
    "score columns reversed": (
        "lexical/indptr.csc.index.npy",
        _array("lexical/indptr.csc.index.npy", lambda a: a[::-1].copy()),
    ),
    "vocabulary shifted": (
        "lexical/vocab.index.json",
        _json("lexical/vocab.index.json", lambda v: {w: c + 1000 for w, c in v.items()}),  # type: ignore[attr-defined]
    ),
    "passage count of bm25s": (
        "lexical/params.index.json",
        _json("lexical/params.index.json", lambda p: p | {"num_docs": 3}),  # type: ignore[operator]
    ),
    "negative text numbers": ("passage_groups.npy", _array("passage_groups.npy", lambda a: -a - 1)),
    "day column flattened": ("passage_days.npy", _array("passage_days.npy", lambda a: a.reshape(-1))),
    "vectors of half the dimensions": ("vectors", _half_the_dimensions),
    "no stemming setting": ("lexical/lexical.json", _json("lexical/lexical.json", lambda c: {})),
    # vectors without their rows: each such hit was dropped unseen and the rest answered
    "rows of one article fewer": (ROWS_FILE, _one_article_fewer),
    # ids that fit every shape but are not those of the other parts: each was answered from
    "column ids shifted": ("passage_days.npy", _array("passage_days.npy", lambda a: a + 10**6)),
    "lexical ids negated": ("lexical/ids.npy", _array("lexical/ids.npy", lambda a: -a - 1)),
    "vector ids shifted": ("vectors", _other_vector_ids),
}


def _swap(service: QAService, swap: Swap) -> Path:
    version = live_version(service.backend.root)  # type: ignore[attr-defined]
    before = {p for p in version.rglob("*") if p.is_file()}
    swap(version)
    for path in before:  # re-sign every file the swap rewrote
        name = path.relative_to(version).as_posix()
        if name not in ("manifest.json", "PUBLISHED"):
            resign(version, name)
    return version


@pytest.mark.parametrize("case", list(SWAPS))
def test_a_swap_is_refused_at_open_with_one_line_naming_the_file(service: QAService, case: str) -> None:
    named, swap = SWAPS[case]
    version = _swap(service, swap)

    assert service.backend.verify(structure=False) == []  # every checksum matches
    with pytest.raises(IndexCorruptError) as caught:
        service.ask("metro station")

    assert any(line.startswith(f"{version.name}/{named}") for line in caught.value.problems), caught.value
    with pytest.raises(IndexCorruptError):  # refused from then on, every read
        service.article("pipeline-a")


@pytest.mark.parametrize("case", list(SWAPS))
def test_qa_ask_check_and_the_api_refuse_a_swap_without_a_traceback(
    service: QAService,
    make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    named, swap = SWAPS[case]
    version = _swap(service, swap)
    root = str(service.backend.root)  # type: ignore[attr-defined]
    monkeypatch.setattr(cli, "_service", lambda settings, progress=False: service)

    asked = cli.main(["ask", "metro station", "--index-dir", root])
    _, err = capsys.readouterr()
    checked = cli.main(["check", "--index-dir", root])
    out, _ = capsys.readouterr()
    client = make_client()

    # the way out that works: `qa repair`, or a rebuild where the rows are swapped and no version is kept
    way_out = "`qa repair` recovers" in err or "`qa index --rebuild PATH...`" in err
    assert asked == 1 and len(err.splitlines()) == 1 and way_out, err
    assert checked == 1 and f"{version.name}/{named}" in out, out
    assert client.post("/ask", json={"question": "metro station"}).status_code == 503
    assert client.get("/articles/pipeline-a/related").status_code == 503
    assert client.get("/health").json()["status"] == "damaged"


@pytest.mark.parametrize("columns", [True, False], ids=["five-parts", "without-column-files"])
def test_ids_that_disagree_are_judged_by_the_rows_and_repair_rebuilds_the_wrong_part(
    service: QAService, fake_encoder: FakeEncoder, columns: bool
) -> None:
    intact = [h.article_id for h in service.ask("metro station").hits]
    version = live_version(service.backend.root)  # type: ignore[attr-defined]
    if not columns:  # as written before column files: two parts, a tie without a referee
        for name in (DAYS_FILENAME, GROUPS_FILENAME, POSITIONS_FILENAME):
            (version / name).unlink()
        manifest = Manifest.read(version)
        files = {k: v for k, v in (manifest.files or {}).items() if not k.startswith("passage_")}
        record = {k: getattr(manifest, k) for k in Manifest.__slots__} | {"files": files}
        (version / MANIFEST).write_text(Manifest(**record).to_json())  # type: ignore[arg-type]
    _array("lexical/ids.npy", lambda a: -a - 1)(version)
    resign(version, "lexical/ids.npy")
    reopened = build_service(service.backend.root, fake_encoder)  # type: ignore[attr-defined]

    with pytest.raises(IndexCorruptError) as caught:
        reopened.ask("metro station")
    assert caught.value.problems == (
        f"{version.name}/lexical/ids.npy: its passage ids are not those of the rows",
    )
    assert any("lexical" in line for line in reopened.repair())  # found in review: it rebuilt the vectors
    assert [
        h.article_id for h in build_service(service.backend.root, fake_encoder).ask("metro station").hits
    ] == intact  # type: ignore[attr-defined]


def test_a_manifest_that_would_reuse_passage_ids_is_refused(service: QAService) -> None:
    version = live_version(service.backend.root)  # type: ignore[attr-defined]
    resign(version, next_passage_id=1)  # a write would give new passages the ids of stored ones

    with pytest.raises(IndexCorruptError) as caught:
        service.add([Article("newer", "Newer", "A newer article about the metro.", None, None)])

    assert caught.value.problems == (
        f"{version.name}/manifest.json: next passage id is not above every stored id",
    )


def test_a_writer_refuses_stored_tokens_beyond_the_vocabulary(service: QAService) -> None:
    """Reads never index by a stored token, so open leaves them to `qa check`; a write would."""
    version = _swap(service, _array("lexical/tokens.npy", lambda a: a + 10**6))
    service.ask("metro station")  # answered: the tokens only count towards overlap

    with pytest.raises(IndexCorruptError, match=r"cannot write.*lexical/tokens\.npy"):
        service.add([Article("newer", "Newer", "A newer article about the metro.", None, None)])
    assert service.backend.verify() == [
        f"{version.name}/lexical/tokens.npy: holds token ids outside the vocabulary of"
        f" {len(json.loads((version / 'lexical/vocab.index.json').read_text()))}"
    ]


def test_repair_rebuilds_a_swapped_lexical_index_from_the_rows(service: QAService) -> None:
    intact = [(h.article_id, round(h.score, 6)) for h in service.ask("metro station").hits]
    _swap(service, SWAPS["tokens cut to half"][1])

    lines = service.repair()

    assert "rebuilt the lexical index from the rows (15 passages)" in lines
    assert [(h.article_id, round(h.score, 6)) for h in service.ask("metro station").hits] == intact
