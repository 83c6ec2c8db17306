"""Tests for embeddings.backends: backends created by name, with helpful errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from embeddings import backends
from embeddings.backends import BACKENDS, create_backend
from embeddings.backends.local import LocalBackend
from embeddings.errors import ConfigurationError, QAError
from qa.settings import Settings


def test_the_registry_names_each_backend_and_its_engine() -> None:
    assert BACKENDS == {
        "local": ("embeddings.backends.local", "LocalBackend", "faiss-cpu"),
        "milvus": ("embeddings.backends.milvus.backend", "MilvusBackend", "pymilvus milvus-lite"),
    }


def test_local_builds_a_local_backend_at_the_given_root(tmp_path: Path) -> None:
    backend = create_backend("local", root=tmp_path / "index", store_options={"exact_threshold": 5000})

    assert isinstance(backend, LocalBackend)
    assert (backend.name, backend.root, backend.describe()) == (
        "local",
        tmp_path / "index",
        str(tmp_path / "index"),
    )
    assert (backend.store, backend.store_options) == ("faiss", {"exact_threshold": 5000})
    assert not backend.exists()


def test_settings_backend_options_build_the_configured_backend(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path, encoder="torch", store="faiss")  # torch: FAISS threads untouched

    backend = create_backend(settings.backend, **settings.backend_options())

    assert isinstance(backend, LocalBackend) and backend.root == tmp_path


def test_an_unknown_backend_is_a_configuration_error_listing_the_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(
        backends.BACKENDS, "memory", ("embeddings.backends.local", "LocalBackend", "faiss-cpu")
    )

    with pytest.raises(ConfigurationError) as error:
        create_backend("elastic", root=Path("x"))

    assert str(error.value) == "unknown backend 'elastic'; choices: local, memory, milvus"
    assert isinstance(error.value, QAError) and error.value.__cause__ is None


def test_a_missing_engine_package_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        backends.BACKENDS, "milvus", ("no_such_engine_pkg.backend", "MilvusBackend", "pymilvus")
    )

    with pytest.raises(
        ConfigurationError, match=r"^backend 'milvus' needs `pip install pymilvus` \("
    ) as error:
        create_backend("milvus", uri="http://localhost:19530")

    assert "no_such_engine_pkg" in str(error.value)
    assert isinstance(error.value.__cause__, ImportError)


def test_a_registered_backend_gets_its_own_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(backends.BACKENDS, "echo", ("types", "SimpleNamespace", "none"))

    backend = create_backend("echo", uri="http://db:19530", collection="news")

    assert vars(backend) == {"uri": "http://db:19530", "collection": "news"}
