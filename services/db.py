"""Database engine, sessions and migrations.

SQLite (WAL) is the embedded default; PostgreSQL by URL is the production path. The schema is created
only by the Alembic migrations in ``migrations/`` (never ``create_all``), so tests run the real ones.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import logging
import os
import sqlite3
import stat
import threading
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)
DB_FILE_MODE = 0o600  # the database holds people, tokens' hashes and findings: its owner only

def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _sqlite_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")
    # WAL persists in the file. Switching needs an exclusive lock and does not wait for it, so only the
    # first connection (migrate) switches; later ones just read the mode.
    if cur.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


READ_ONLY = "kiemtra_read_only"


class _WriterGate:
    """One writer at a time per engine inside this process, queued fairly by a lock instead of SQLite's busy
    handler (whose growing sleeps gave concurrent API requests multi-second tails). Other processes (workers,
    the CLI) still meet at SQLite's own lock. Released at commit or rollback, from whichever thread ends it."""

    TIMEOUT_S = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def begin(self, conn: sa.Connection) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")  # a reader: WAL gives it a snapshot without any lock to wait for
            return
        if not self._lock.acquire(timeout=self.TIMEOUT_S):
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", None,
                                          Exception("no write slot within 60 s (a transaction left open?)"))
        conn.info["kiemtra_writer"] = True
        try:
            # Take SQLite's write lock when the transaction starts: a deferred transaction that reads and then
            # writes fails with "database is locked" instead of waiting, and number allocation must serialise.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.end(conn)
            raise

    def end(self, conn: sa.Connection, *_args: Any) -> None:
        if conn.info.pop("kiemtra_writer", False):
            self._lock.release()


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file owner-only before SQLite does (it would use 0644), and tighten a file, WAL or shared
    memory index left readable by others by an older version. SQLite gives the -wal and -shm files it creates the
    database file's mode, so they follow."""
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = os.path.abspath(database)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, DB_FILE_MODE))  # an empty file is an empty database
    except FileExistsError:
        pass
    except FileNotFoundError:  # no folder: SQLite will say so when it connects
        return
    for name in (path, f"{path}-wal", f"{path}-shm", f"{path}-journal"):
        try:
            mode = stat.S_IMODE(os.stat(name).st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            os.chmod(name, DB_FILE_MODE)
            log.warning("database file %s was readable by others (mode %04o): set to %04o", name, mode, DB_FILE_MODE)


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)
        gate = _WriterGate()
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", gate.begin)
        sa.event.listen(engine, "commit", gate.end)
        sa.event.listen(engine, "rollback", gate.end)
        return engine
    # hide_parameters: a database error's message never carries the values sent (a token hash, a person's text)
    # into a log or a traceback
    return sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)


def get_engine(settings: Settings) -> Engine:
    if settings.db_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return _engine_for(settings.db_url)


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """A unit of work: commits when the block ends normally, rolls back otherwise."""
    with Session(get_engine(settings), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def upsert_insert(session: Session, table: sa.Table) -> Any:
    """An INSERT that supports ``.on_conflict_do_nothing(...)`` on the session's database (SQLite or PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql
        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite
    return sqlite.insert(table)


@contextmanager
def read_only_session(engine: Engine) -> Iterator[Session]:
    """A session that only reads (never commits anything): no write lock on SQLite."""
    with engine.connect() as conn:
        with Session(bind=conn.execution_options(**{READ_ONLY: True}), expire_on_commit=False) as session:
            yield session


def alembic_config(settings: Settings, connection: sa.Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", settings.db_url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def migrate(settings: Settings) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    engine = get_engine(settings)  # creates the data dir for SQLite
    with engine.connect() as conn:  # the first connection turns SQLite's WAL mode on, once, for the file
        command.upgrade(alembic_config(settings, conn), "head")
