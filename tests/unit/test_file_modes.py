"""File modes (issue 13, point 7): the SQLite database and its WAL/shared-memory files are the owner's only (0600),
as the documents are; an older 0644 database is tightened at start with a log line; the public register's files
are the one thing left readable by others (0644, see docs/operations.md, "File modes")."""
from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.db import get_engine
from services.documents.storage import write_atomic
from services.publishing.register import _write_public
from services.settings import Settings


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask of most servers (022): files are created 0644 unless the code asks for less."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_and_its_wal_files_are_the_owners_only(tmp_path: Path) -> None:
    engine = get_engine(Settings(environment="test", data_dir=tmp_path / "data"))
    with engine.begin() as conn:  # a write: SQLite creates its -wal and -shm files
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    with engine.connect():  # they stay while a connection is open
        db = tmp_path / "data" / "kiemtra.db"
        wal, shm = Path(f"{db}-wal"), Path(f"{db}-shm")
        assert wal.exists() and shm.exists()
        assert (mode(db), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
    engine.dispose()


def test_an_older_readable_database_is_tightened_at_start_with_a_log_line(tmp_path: Path,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db = data / "kiemtra.db"
    old = sa.create_engine(f"sqlite:///{db}")  # as an older version left it: SQLite's own 0644
    with old.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    old.dispose()
    wal = Path(f"{db}-wal")
    wal.write_bytes(b"")
    db.chmod(0o644)
    wal.chmod(0o644)

    with caplog.at_level(logging.WARNING, logger="services.db"):
        get_engine(Settings(environment="test", data_dir=data)).dispose()

    assert (mode(db), mode(wal)) == (0o600, 0o600)
    lines = [r.getMessage() for r in caplog.records if r.name == "services.db"]
    assert any(str(db) in line and "0644" in line and "0600" in line for line in lines), lines


def test_documents_are_the_owners_only_and_the_public_register_is_readable(tmp_path: Path) -> None:
    document = tmp_path / "documents" / "2026" / "bien-ban.pdf"
    write_atomic(document, b"%PDF-1.4")
    public = tmp_path / "documents" / "public"
    public.mkdir(parents=True)
    _write_public(public / "register.json", b"[]")
    assert mode(document) == 0o600
    assert mode(public / "register.json") == 0o644
