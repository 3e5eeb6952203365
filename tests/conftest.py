"""Shared fixtures: a migrated database per test (the real Alembic migrations), and the Prefect server.

SQLite by default: a fresh file in the test's temp dir, a byte copy of one file the migrations built once per
session (per xdist worker), since running the migrations for every test cost more than most tests. With
``KIEMTRA_TEST_DATABASE_URL`` set to a PostgreSQL admin URL (``postgresql+psycopg://postgres@127.0.0.1:55432/postgres``,
as ``.ci/postgres run`` sets it), each test gets its own fresh PostgreSQL database instead, copied from a template
that the migrations built once per session, and dropped afterwards.

Factories are plain functions in ``tests/factories.py``.
"""
from __future__ import annotations

import copy
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa

from services.db import DB_FILE_MODE, _engine_for, migrate
from services.settings import Settings, get_settings

pytest_plugins = ["tests.prefect_support"]

T = TypeVar("T")
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

    def replace(self, url: str, source_url: str) -> None:
        """Make the database at ``url`` a copy of the one at ``source_url`` (same name, so ``url`` stays valid)."""
        _engine_for(url).dispose()
        _engine_for(source_url).dispose()  # a template must have no connection when it is copied
        name, source = sa.engine.make_url(url).database, sa.engine.make_url(source_url).database
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')

    def close(self) -> None:
        for name in list(self.made):
            self.drop(self.url(name))
        self.admin.dispose()


class SqliteTemplate:
    """One SQLite file the migrations built, copied byte for byte (owner-only, as ``services.db`` makes it) into each
    test's data dir: the same schema, ``alembic_version`` and WAL mode as ``migrate`` gives a new file."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self._image: bytes | None = None

    def _build(self) -> bytes:
        settings = make_settings(self.work_dir)
        migrate(settings)
        _engine_for(settings.db_url).dispose()
        path = Path(settings.db_url.removeprefix("sqlite:///"))
        _checkpoint(path)
        return path.read_bytes()

    def copy_to(self, settings: Settings) -> bool:
        """Write the migrated file where ``settings`` keeps its database; False when a database is already there."""
        if self._image is None:
            self._image = self._build()
        path = Path(settings.db_url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, DB_FILE_MODE)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as out:
            out.write(self._image)
        return True


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Settings], Settings]:
    """Brings a test's database to the newest migration, the cheap way: on SQLite a copy of the session's migrated
    file (a database already in place is migrated as it is); on PostgreSQL ``new_database`` already copied the
    migrated template. Use it where a test builds its own ``Settings`` instead of taking ``settings``."""
    template = SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))

    def bring_to_head(settings: Settings) -> Settings:
        if settings.db_url.startswith("sqlite:///") and not template.copy_to(settings):
            migrate(settings)
        return settings

    return bring_to_head


class Worlds:
    """Worlds (a province, campaigns, documents…) a factory builds once per session, then copied into each test that
    asks: the database (a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL) and the data dir's files
    (documents, outbox). For worlds whose building costs more than a copy (documents rendered); the test then changes
    its own copy as it likes."""

    def __init__(self, work_dir: Path, databases: PostgresDatabases | None,
                 migrated: Callable[[Settings], Settings]) -> None:
        self.work_dir, self.databases, self.migrated = work_dir, databases, migrated
        self.built: dict[str, tuple[Settings, Any]] = {}

    def copy(self, settings: Settings, build: Callable[..., T], **kwargs: Any) -> T:
        """``build(settings, **kwargs)``'s world in the database and data dir of ``settings`` (which must be as the
        ``settings`` fixture made it: nothing written yet); returns what ``build`` returned (a copy of it)."""
        assert settings.documents_dir is None and settings.evidence_dir is None, "a world is copied within the data dir"
        options = settings.model_dump(mode="json", exclude={"data_dir", "database_url"})
        key = f"{build.__module__}.{build.__qualname__}{sorted(kwargs.items())!r}{sorted(options.items())!r}"
        if key not in self.built:
            folder = self.work_dir / f"world-{len(self.built)}"
            image = settings.model_copy(update={"data_dir": folder / "data", "database_url": (
                self.databases.create() if self.databases is not None else None)})
            result = build(self.migrated(image), **kwargs)
            image.data_dir.mkdir(parents=True, exist_ok=True)  # on PostgreSQL a world may have no file at all
            _engine_for(image.db_url).dispose()
            if self.databases is None:
                _checkpoint(Path(image.db_url.removeprefix("sqlite:///")))
            self.built[key] = (image, result)
        image, result = self.built[key]
        _engine_for(settings.db_url).dispose()
        if self.databases is not None:
            assert settings.database_url is not None and image.database_url is not None
            self.databases.replace(settings.database_url, image.database_url)
        else:
            database = Path(settings.db_url.removeprefix("sqlite:///"))
            for name in (database, *(database.with_name(database.name + end) for end in ("-wal", "-shm"))):
                name.unlink(missing_ok=True)
        shutil.copytree(image.data_dir, settings.data_dir, dirs_exist_ok=True)  # copy2: modes kept (0600 database)
        return copy.deepcopy(result)


def _checkpoint(database: Path) -> None:
    """Everything of a SQLite database into its main file (no connection may be open), so that a copy of that file is
    the whole database."""
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0, f"{database}: the WAL could not be checkpointed"
    finally:
        conn.close()
    for end in ("-wal", "-shm"):
        database.with_name(database.name + end).unlink(missing_ok=True)


@pytest.fixture(scope="session")
def worlds(tmp_path_factory: pytest.TempPathFactory, postgres_databases: PostgresDatabases | None,
           migrated: Callable[[Settings], Settings]) -> Worlds:
    return Worlds(tmp_path_factory.mktemp("worlds"), postgres_databases, migrated)


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
    ``migrated`` copies it there)."""
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
def settings(tmp_path: Path, database_url: str | None, migrated: Callable[[Settings], Settings]) -> Iterator[Settings]:
    """Settings over a fresh database (SQLite in a temp dir, or PostgreSQL), schema built by the migrations."""
    yield migrated(make_settings(tmp_path / "data", database_url=database_url))


@pytest.fixture(autouse=True)
def _no_cached_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
