"""Shared fixtures: a migrated database per test (the real Alembic migrations), and the Prefect server.

SQLite by default: a fresh file in the test's temp dir. With ``KIEMTRA_TEST_DATABASE_URL`` set to a PostgreSQL
admin URL (``postgresql+psycopg://postgres@127.0.0.1:55432/postgres``, as ``.ci/postgres run`` sets it), each test
gets its own fresh PostgreSQL database instead, copied from a template that the migrations built once per session,
and dropped afterwards.

Factories are plain functions in ``tests/factories.py``.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.db import _engine_for, migrate
from services.settings import Settings, get_settings

pytest_plugins = ["tests.prefect_support"]

TEST_DATABASE_URL = os.environ.get("KIEMTRA_TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    return Settings(environment="test", data_dir=data_dir, **overrides)  # type: ignore[arg-type]


class PostgresDatabases:
    """Fresh databases on the test server: ``CREATE DATABASE … TEMPLATE`` of one the migrations built."""

    def __init__(self, admin_url: str, work_dir: Path) -> None:
        self.base = sa.engine.make_url(admin_url)
        self.admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        self.prefix = f"kiemtra_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.work_dir = work_dir
        self.template: str | None = None
        self.made: set[str] = set()
        self._count = 0

    def url(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def _execute(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(sql)

    def _template(self) -> str:
        if self.template is None:
            name = f"{self.prefix}_template"
            self._execute(f'CREATE DATABASE "{name}"')
            self.made.add(name)
            migrate(make_settings(self.work_dir, database_url=self.url(name)))
            _engine_for(self.url(name)).dispose()  # a template must have no connection when it is copied
            self.template = name
        return self.template

    def create(self, *, empty: bool = False) -> str:
        """A copy of the migrated template, or an empty database (``empty``: e.g. for Prefect's own tables)."""
        self._count += 1
        name = f"{self.prefix}_{self._count}"
        self._execute(f'CREATE DATABASE "{name}"' if empty else f'CREATE DATABASE "{name}" TEMPLATE "{self._template()}"')
        self.made.add(name)
        return self.url(name)

    def drop(self, url: str) -> None:
        _engine_for(url).dispose()
        name = sa.engine.make_url(url).database
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.discard(str(name))

    def close(self) -> None:
        for name in list(self.made):
            self.drop(self.url(name))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresDatabases | None]:
    if not ON_POSTGRES:
        yield None
        return
    databases = PostgresDatabases(TEST_DATABASE_URL, tmp_path_factory.mktemp("pg-template"))
    try:
        yield databases
    finally:
        databases.close()


@pytest.fixture
def new_database(postgres_databases: PostgresDatabases | None) -> Iterator[Callable[[], str | None]]:
    """Makes a fresh migrated database: its URL on PostgreSQL; None on SQLite (the caller's data dir has it, and
    ``migrate`` builds it)."""
    made: list[str] = []

    def make() -> str | None:
        if postgres_databases is None:
            return None
        made.append(postgres_databases.create())
        return made[-1]

    yield make
    for url in made:
        assert postgres_databases is not None
        postgres_databases.drop(url)


@pytest.fixture
def database_url(new_database: Callable[[], str | None], monkeypatch: pytest.MonkeyPatch) -> str | None:
    """The test's database on PostgreSQL (None on SQLite). On PostgreSQL the environment points at it too
    (``KIEMTRA_DATABASE_URL``), as ``KIEMTRA_DATA_DIR`` does for SQLite, so that the CLI, subprocesses and
    spawned workers of the test use it."""
    url = new_database()
    if url is not None:
        monkeypatch.setenv("KIEMTRA_DATABASE_URL", url)
    return url


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Iterator[Settings]:
    """Settings over a fresh database (SQLite in a temp dir, or PostgreSQL), schema built by the migrations."""
    s = make_settings(tmp_path / "data", database_url=database_url)
    migrate(s)
    yield s


@pytest.fixture(autouse=True)
def _no_cached_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
