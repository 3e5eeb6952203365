"""Shared by the whole-campaign tests: the CLI's environment over a temp data dir and the session's Prefect server."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from services.runtime.server import PrefectServer

# `kiemtra demo` used to point these at the outbox it serves and leave them in os.environ (a later test's
# subprocesses then sent to a closed port and waited out the retries, ~100 s per `kiemtra campaign run`); it now
# wires through services/wiring.py and writes nothing there. The guard stays so no test can leak them again.
DEMO_WIRING = ("KIEMTRA_GATEWAY_URL", "KIEMTRA_PORTAL_URL", "KIEMTRA_PORTAL_SECRET")


@contextmanager
def demo_wiring_undone() -> Iterator[None]:
    """What the demo wrote into os.environ (DEMO_WIRING) is as it was before, once the block ends."""
    before = {key: os.environ.get(key) for key in DEMO_WIRING}
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def demo_env(tmp_path: Path, prefect_server: PrefectServer, database_url: str | None,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    data = tmp_path / "data"  # on PostgreSQL, the database_url fixture sets KIEMTRA_DATABASE_URL too
    monkeypatch.setenv("KIEMTRA_DATA_DIR", str(data))
    monkeypatch.setenv("KIEMTRA_PREFECT_API_URL", prefect_server.api_url)
    monkeypatch.setenv("KIEMTRA_ENVIRONMENT", "test")
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "WARNING")
    with demo_wiring_undone():
        yield data
