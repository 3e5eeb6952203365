"""Shared fixtures: a migrated database per test (the real Alembic migrations), and the Prefect server.

Factories are plain functions in ``tests/factories.py``.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.db import migrate
from services.settings import Settings, get_settings

pytest_plugins = ["tests.prefect_support"]


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    return Settings(environment="test", data_dir=data_dir, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings over a fresh SQLite database in a temp dir, schema built by the migrations."""
    s = make_settings(tmp_path / "data")
    migrate(s)
    yield s


@pytest.fixture(autouse=True)
def _no_cached_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
