"""Import layout: tests and benchmarks depend one way, embeddings stays below qa, no folder cycles."""

from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("qa", "embeddings", "tests", "benchmarks")
# The nodes of the cycle check, most specific first: tests.support is apart from the rest of tests.
GROUPS = ("tests.support", "qa", "embeddings", "benchmarks", "tests")


@dataclass(frozen=True, slots=True)
class Rule:
    """Modules within `where` import nothing within `banned`, except what is within `allowed`."""

    name: str
    where: str
    banned: tuple[str, ...]
    allowed: tuple[str, ...] = ()


RULES = (
    Rule("nothing under tests/ imports benchmarks", "tests", ("benchmarks",)),
    Rule("benchmarks/ imports only tests.support from tests/", "benchmarks", ("tests",), ("tests.support",)),
    Rule("tests/support/ imports nothing else under tests/", "tests.support", ("tests",), ("tests.support",)),
    Rule("embeddings/ imports neither qa nor FastAPI", "embeddings", ("qa", "fastapi")),
)


@dataclass(frozen=True, slots=True)
class Import:
    """One imported name: the file and line, the importing module, and the dotted name it resolves to."""

    path: str  # relative to the root, e.g. "tests/slow/test_crash.py"
    line: int
    source: str  # the importing module, e.g. "tests.slow.test_crash"
    target: str  # e.g. "benchmarks.crash_trials.CrashHarness" for `from benchmarks.crash_trials import ...`
    statement: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.statement}"


def within(name: str, prefix: str) -> bool:
    """Whether dotted `name` is `prefix` or lies below it (`tests.supportx` is not below `tests.support`)."""
    return name == prefix or name.startswith(prefix + ".")


def group_of(name: str) -> str | None:
    return next((g for g in GROUPS if within(name, g)), None)


def collect_imports(root: Path) -> list[Import]:
    """Every import statement (at any depth, function bodies too) of every .py file in `FOLDERS`."""
    found = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            rel = path.relative_to(root)
            if not any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
                found += file_imports(rel, path.read_text(encoding="utf-8"))
    return found


def file_imports(rel: Path, text: str) -> list[Import]:
    """The imports of the file at `rel` (relative to the root) whose source is `text`, by line."""
    package = list(rel.parent.parts)
    source = ".".join(package if rel.stem == "__init__" else [*package, rel.stem])
    found = []
    for node in ast.walk(ast.parse(text, filename=str(rel))):
        if isinstance(node, ast.Import):
            found += [
                Import(rel.as_posix(), node.lineno, source, a.name, f"import {a.name}") for a in node.names
            ]
        elif isinstance(node, ast.ImportFrom):
            # `from .x import y` in package p is p.x.y; each further dot drops one package level.
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            written = "." * node.level + (node.module or "")
            found += [
                Import(
                    rel.as_posix(),
                    node.lineno,
                    source,
                    module if a.name == "*" else f"{module}.{a.name}",
                    f"from {written} import {a.name}",
                )
                for a in node.names
            ]
    return sorted(found, key=lambda i: i.line)


def broken(rule: Rule, imports: list[Import]) -> list[Import]:
    return [
        i
        for i in imports
        if within(i.source, rule.where)
        and any(within(i.target, b) for b in rule.banned)
        and not any(within(i.target, a) for a in rule.allowed)
    ]


def cycles(imports: list[Import]) -> list[str]:
    """Each cycle between `GROUPS`, once, as its path with one import that makes each step."""
    edges: dict[str, dict[str, Import]] = {g: {} for g in GROUPS}
    for i in imports:
        a, b = group_of(i.source), group_of(i.target)
        if a and b and a != b:
            edges[a].setdefault(b, i)
    found, seen = [], set()
    for start in GROUPS:
        # Breadth-first from `start` for the shortest way back to it.
        paths = deque([[start, nxt] for nxt in edges[start]])
        visited: set[str] = set()
        while paths:
            path = paths.popleft()
            if path[-1] == start:
                if frozenset(path) not in seen:
                    seen.add(frozenset(path))
                    steps = "; ".join(str(edges[a][b]) for a, b in pairwise(path))
                    found.append(f"{' -> '.join(path)} ({steps})")
                break
            if path[-1] in visited:
                continue
            visited.add(path[-1])
            paths.extend([*path, nxt] for nxt in edges[path[-1]])
    return found


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return collect_imports(REPO_ROOT)


@pytest.mark.parametrize("rule", RULES, ids=[r.where for r in RULES])
def test_each_folder_imports_only_what_the_layout_allows(rule: Rule, imports: list[Import]) -> None:
    bad = broken(rule, imports)
    assert not bad, f"{rule.name}, but:\n" + "\n".join(f"  {i}" for i in bad)


def test_the_top_level_folders_import_each_other_without_cycles(imports: list[Import]) -> None:
    found = cycles(imports)
    assert not found, "import cycles between top-level folders:\n" + "\n".join(f"  {c}" for c in found)


def test_the_checks_find_every_kind_of_bad_import(tmp_path: Path) -> None:
    """The checks can fail: a tree that breaks every rule is reported file by file."""
    files = {
        "qa/api.py": "import embeddings.index\n",
        "embeddings/index.py": "def f():\n    from qa.service import QAService\nimport fastapi\n",
        "tests/unit/test_x.py": "from benchmarks.common import score\nfrom tests.support.fakes import F\n",
        "tests/support/crash.py": "from .. import conftest\nfrom .fakes import F\n",
        "benchmarks/common.py": "from tests.support import stats\nfrom tests.slow.driver import WORDS\n",
        "benchmarks/sub/quality.py": "from ..common import score\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = collect_imports(tmp_path)

    assert {r.where: [str(i) for i in broken(r, found)] for r in RULES} == {
        "tests": ["tests/unit/test_x.py:1: from benchmarks.common import score"],
        "benchmarks": ["benchmarks/common.py:2: from tests.slow.driver import WORDS"],
        "tests.support": ["tests/support/crash.py:1: from .. import conftest"],
        "embeddings": [
            "embeddings/index.py:2: from qa.service import QAService",
            "embeddings/index.py:3: import fastapi",
        ],
    }
    assert [i.target for i in found if i.path == "benchmarks/sub/quality.py"] == ["benchmarks.common.score"]
    assert cycles(found) == [
        "tests.support -> tests -> tests.support (tests/support/crash.py:1: from .. import conftest; "
        "tests/unit/test_x.py:2: from tests.support.fakes import F)",
        "qa -> embeddings -> qa (qa/api.py:1: import embeddings.index; "
        "embeddings/index.py:2: from qa.service import QAService)",
        "benchmarks -> tests -> benchmarks (benchmarks/common.py:2: from tests.slow.driver import WORDS; "
        "tests/unit/test_x.py:1: from benchmarks.common import score)",
    ]
