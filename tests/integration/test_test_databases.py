"""The suite's own databases: a test's database, copied from the one the migrations built once per session, is what
running the migrations on an empty database gives (tables, columns, indexes, keys, revision), private to the test,
owner-only; a database already in place is migrated, never overwritten; a world built once is copied whole (rows and
files) into each test that asks, and each copy is that test's own."""
from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import select

from models import Agency
from services.demo import seed as demo
from services.db import DB_FILE_MODE, alembic_config, get_engine, migrate, session_scope
from services.settings import Settings
from tests.conftest import PostgresDatabases, Worlds, make_settings


def _schema(settings: Settings) -> dict[str, Any]:
    engine = get_engine(settings)
    inspector = sa.inspect(engine)
    out: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        out[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(table)),
            "unique": sorted((u["name"] or "", tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)),
            "foreign_keys": sorted((tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                                   for f in inspector.get_foreign_keys(table)),
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
        }
    with engine.connect() as conn:
        out["revision"] = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
    return out


@pytest.fixture
def migrated_from_empty(postgres_databases: PostgresDatabases | None, tmp_path: Path) -> Iterator[Settings]:
    """A database the migrations built just now, from nothing (what ``kiemtra migrate`` does on a new install)."""
    if postgres_databases is None:
        settings = make_settings(tmp_path / "from-empty")
        migrate(settings)
        yield settings
        return
    url = postgres_databases.create(empty=True)
    try:
        settings = make_settings(tmp_path / "from-empty", database_url=url)
        migrate(settings)
        yield settings
    finally:
        postgres_databases.drop(url)


def test_a_tests_database_is_the_one_the_migrations_build(settings: Settings, migrated_from_empty: Settings) -> None:
    assert settings.db_url != migrated_from_empty.db_url
    ours = _schema(settings)
    assert len(ours) > 20 and len(ours["revision"]) == 1
    assert ours == _schema(migrated_from_empty)


def test_a_copied_sqlite_file_is_owner_only_and_in_wal_mode(settings: Settings) -> None:
    if not settings.db_url.startswith("sqlite"):
        pytest.skip("a SQLite file's mode and journal")
    path = Path(settings.db_url.removeprefix("sqlite:///"))
    assert stat.S_IMODE(path.stat().st_mode) == DB_FILE_MODE
    with get_engine(settings).connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def test_each_database_is_the_tests_own(tmp_path: Path, new_database: Callable[[], str | None],
                                        migrated: Callable[[Settings], Settings]) -> None:
    first = migrated(make_settings(tmp_path / "first", database_url=new_database()))
    with session_scope(first) as session:
        demo.seed_agencies(session)
    second = migrated(make_settings(tmp_path / "second", database_url=new_database()))  # after the first one wrote
    with session_scope(first) as session:
        assert session.exec(select(Agency)).all()
    with session_scope(second) as session:
        assert session.exec(select(Agency)).all() == []


def test_a_database_already_in_place_is_migrated_not_replaced(tmp_path: Path,
                                                              migrated: Callable[[Settings], Settings]) -> None:
    settings = make_settings(tmp_path / "old")  # SQLite: the case where a file can already be in the data dir
    engine = get_engine(settings)
    with engine.connect() as conn:
        command.upgrade(alembic_config(settings, conn), "0010")
        conn.commit()
        conn.execute(sa.text("INSERT INTO agency (code, name, parent_name, kind, province_code, place) "
                             "VALUES ('SNV', 'SỞ NỘI VỤ', 'UBND TỈNH CAO BẰNG', 'labour', '04', 'Cao Bằng')"))
        conn.commit()
    migrated(settings)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT code FROM agency").scalars().all() == ["SNV"]
        assert conn.exec_driver_sql("SELECT count(*) FROM accesstoken").scalar() == 0  # 0011's table: at head now
    engine.dispose()


BUILDS: list[Path] = []


def _world(settings: Settings, *, note: str) -> dict[str, str]:
    """Agencies in the database and a file in the documents folder; counts its builds."""
    BUILDS.append(settings.data_dir)
    with session_scope(settings) as session:
        demo.seed_agencies(session)
    folder = settings.documents_path / "world"
    folder.mkdir(parents=True)
    (folder / "note.txt").write_text(note, encoding="utf-8")
    return {"note": note}


def _world_of(settings: Settings) -> tuple[list[str], str]:
    with session_scope(settings) as session:
        codes = sorted(session.exec(select(Agency.code)).all())
    return codes, (settings.documents_path / "world" / "note.txt").read_text(encoding="utf-8")


def test_a_world_is_built_once_and_each_test_changes_only_its_copy(tmp_path: Path, new_database: Callable[[], str | None],
                                                                   migrated: Callable[[Settings], Settings],
                                                                   worlds: Worlds) -> None:
    first, second, third = (migrated(make_settings(tmp_path / name, database_url=new_database()))
                            for name in ("first", "second", "third"))
    built = len(BUILDS)
    result = worlds.copy(first, _world, note="Ghi chú")
    assert result == {"note": "Ghi chú"} and len(BUILDS) == built + 1 and BUILDS[-1] != first.data_dir
    codes, note = _world_of(first)
    assert codes and note == "Ghi chú"
    result["note"] = "changed by the test"  # the test's own copy of the result, too
    with session_scope(first) as session:  # the first test changes its world
        session.delete(session.exec(select(Agency).where(Agency.code == codes[0])).one())
    (first.documents_path / "world" / "note.txt").write_text("đã sửa", encoding="utf-8")

    assert worlds.copy(second, _world, note="Ghi chú") == {"note": "Ghi chú"}
    assert len(BUILDS) == built + 1  # not built again
    assert _world_of(second) == (codes, "Ghi chú")  # as built, whatever the first test did to its copy
    assert _world_of(first) == (codes[1:], "đã sửa")
    worlds.copy(third, _world, note="Khác")  # other arguments: another world
    assert len(BUILDS) == built + 2 and _world_of(third) == (codes, "Khác")
