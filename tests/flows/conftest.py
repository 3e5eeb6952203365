"""Shared by the whole-campaign tests: the CLI's environment over a temp data dir and the session's Prefect server."""
from __future__ import annotations

from pathlib import Path

import pytest

from services.runtime.server import PrefectServer


@pytest.fixture
def demo_env(tmp_path: Path, prefect_server: PrefectServer, database_url: str | None,
             monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"  # on PostgreSQL, the database_url fixture sets KIEMTRA_DATABASE_URL too
    monkeypatch.setenv("KIEMTRA_DATA_DIR", str(data))
    monkeypatch.setenv("KIEMTRA_PREFECT_API_URL", prefect_server.api_url)
    monkeypatch.setenv("KIEMTRA_ENVIRONMENT", "test")
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "WARNING")
    return data
