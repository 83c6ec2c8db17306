"""Tests for the package's declared data: an installed (not editable) copy holds every file it reads."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("qa", "embeddings")


def _declared() -> dict[str, list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["setuptools"].get("package-data", {})


def _data_files() -> list[Path]:
    """The files beside the code that are not Python (the learned files, the page's files)."""
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts:
                found.append(path.relative_to(ROOT))
    return sorted(found)


def _is_declared(path: Path, declared: dict[str, list[str]]) -> bool:
    """Whether a package-data pattern of one of the file's enclosing packages names it."""
    for depth in range(1, len(path.parts)):
        package = ".".join(path.parts[:depth])
        inside = Path(*path.parts[depth:]).as_posix()
        if any(fnmatch(inside, pattern) for pattern in declared.get(package, [])):
            return True
    return False


@pytest.mark.parametrize("path", _data_files(), ids=str)
def test_every_data_file_of_the_packages_is_installed_with_them(path: Path) -> None:
    assert _is_declared(path, _declared()), f"{path} is not in [tool.setuptools.package-data]"


@pytest.mark.parametrize("package", PACKAGES)
def test_the_packages_tell_type_checkers_they_are_typed(package: str) -> None:
    assert (ROOT / package / "py.typed").is_file()
    assert _is_declared(Path(package, "py.typed"), _declared())
