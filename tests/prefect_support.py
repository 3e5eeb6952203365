"""Pytest support: one real local Prefect server per test session (never ephemeral mode); under pytest-xdist, one
per worker that runs a test needing it, each on its own free port and PREFECT_HOME.

Registered by ``pytest_plugins = ["tests.prefect_support"]`` in tests/conftest.py; a test module may
also import the fixture explicitly (``from tests.prefect_support import prefect_server``).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.runtime.launch import DB_FILE_NAME
from services.runtime.server import PrefectServer, ensure_server, stop_server
from services.runtime.client import CLIENT_ENV_KEYS, restore_prefect_client
from services.settings import Settings


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Prefect migrates its own database when a server starts on an empty PREFECT_HOME: ~6.5 s of CPU of the ~10 s a
# start costs on this machine (3 s with a migrated database). The first server of a Prefect version leaves a copy of
# its migrated database here (var/ is the machine's scratch space, ignored by git); test servers start from a copy.
PREFECT_TEMPLATES = Path(__file__).resolve().parents[1] / "var" / "test-cache"


def _template() -> Path:
    import prefect

    return PREFECT_TEMPLATES / f"prefect-{prefect.__version__}-{DB_FILE_NAME}"


def seed_prefect_home(settings: Settings) -> None:
    """Gives a new server's empty PREFECT_HOME a copy of the migrated Prefect database, when one was kept."""
    target = settings.prefect_home_path / DB_FILE_NAME
    if _template().exists() and not target.exists():
        settings.prefect_home_path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_template(), target)


def keep_prefect_template(settings: Settings) -> None:
    """After a server started on an empty home: a consistent copy of its database (SQLite's backup, safe while the
    server runs), renamed into place so that concurrent test workers never see half a file."""
    source, template = settings.prefect_home_path / DB_FILE_NAME, _template()
    if template.exists() or not source.exists():
        return
    template.parent.mkdir(parents=True, exist_ok=True)
    partial = template.with_name(f"{template.name}.{os.getpid()}.partial")
    with contextlib.closing(sqlite3.connect(source)) as live, contextlib.closing(sqlite3.connect(partial)) as copy:
        live.backup(copy)
    os.replace(partial, template)


def prefect_test_settings(data_dir: Path, port: int | None = None) -> Settings:
    """Settings for a private managed server under ``data_dir`` (ignores any KIEMTRA_PREFECT_* env)."""
    return Settings(
        environment="test",
        data_dir=data_dir,
        prefect_port=port or free_port(),
        prefect_api_url=None,
        prefect_home=None,
    )


@contextlib.contextmanager
def prefect_env_restored() -> Iterator[None]:
    """Restore PREFECT_API_URL / PREFECT_HOME (and prefect's settings) on exit."""
    previous = {key: os.environ.get(key) for key in CLIENT_ENV_KEYS}
    try:
        yield
    finally:
        restore_prefect_client(previous)


# One server per session even when several modules import the fixture explicitly (each import makes
# a distinct session-scoped fixture): the first instance starts it, the last one to finish stops it.
_session: dict[str, object] = {"settings": None, "users": 0}


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """A ``prefect server`` for the whole session (its PREFECT_HOME in a session temp dir, a free
    port); this process points at it while it runs, and it is stopped at the end."""
    if _session["settings"] is None:
        _session["settings"] = prefect_test_settings(tmp_path_factory.mktemp("prefect-session"))
    settings = _session["settings"]
    assert isinstance(settings, Settings)
    with prefect_env_restored():
        seed_prefect_home(settings)
        server = ensure_server(settings)
        keep_prefect_template(settings)
        _session["users"] = int(_session["users"]) + 1  # type: ignore[call-overload]
        try:
            yield server
        finally:
            _session["users"] = int(_session["users"]) - 1  # type: ignore[call-overload]
            if not _session["users"]:
                stop_server(settings)
                _session["settings"] = None
