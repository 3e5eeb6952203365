"""Shared column helpers: timezone-aware UTC timestamps and JSON columns; typed access to stored rows and tables."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns timezone-aware datetimes (SQLite drops tzinfo)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class _Stored(Protocol):
    @property
    def id(self) -> int | None: ...


def id_of(row: _Stored) -> int:
    """A stored row's primary key: ``id`` is typed optional because it is None only until the row is flushed."""
    assert row.id is not None, f"{type(row).__name__} has no id: it was never flushed"
    return row.id


def stored_id(value: int | None) -> int:
    """A primary key read from the database (``select(Model.id)``): never NULL, though the column is typed optional."""
    assert value is not None, "a stored row has an id"
    return value


def stored_ids(values: Iterable[int | None]) -> list[int]:
    return [stored_id(v) for v in values]


def table_of(model: type[SQLModel]) -> sa.Table:
    """The Core table of a table model: SQLModel sets ``__table__`` at class creation but does not declare it
    to type checkers, so Core statements reach it through here rather than through a ``type: ignore``."""
    table = getattr(model, "__table__", None)
    if not isinstance(table, sa.Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


def created_at_field() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def json_field(default_factory: Any = dict) -> Any:
    return Field(default_factory=default_factory, sa_type=sa.JSON, nullable=False)
