"""Document numbers (NĐ 30/2020 Art.15): per issuer, type and year from 01, with no gap and no duplicate.

A number is *reserved* for one document (type, subject, revision) in ``NumberReservation`` before the document is
rendered, then *used* when the document row is inserted.

- PostgreSQL: :func:`reserve_apart` takes the reservation in its own short transaction on its own connection. The
  series' counter row is locked only for the counter increment and the reservation insert, so the rendering (and
  later the signing) that follows holds no series lock: the documents of one issuer are made in parallel by as many
  workers as there are. A run that crashes, or whose transaction rolls back, after reserving leaves the reservation
  committed; the re-run of the same (type, subject, revision) finds it and reuses its number: the same number, no gap.
- SQLite: one writer at a time (the caller's transaction holds the write lock from its first statement, and a
  second connection writing would wait for it for ever), so :func:`reserve_within` reserves inside the caller's
  transaction as before; a rollback gives the number back with everything else.

A number reserved for a subject that is never issued is not lost silently: :func:`unused_reservations` lists it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import DocumentCounter, NumberReservation, ReservationState
from models.base import table_of, utcnow
from services.errors import Conflict


@dataclass(frozen=True)
class Series:
    issuer_code: str
    doc_type: str
    year: int


@dataclass(frozen=True)
class Reservation:
    id: int
    seq: int


def format_number(seq: int, symbol: str) -> str:
    """"01/QĐ-UBND": NĐ 30/2020 Art.15, numbers start at 01 each year, a leading zero below 10."""
    return f"{seq:02d}/{symbol}"


def _insert(conn: sa.Connection, table: sa.Table) -> sa.Insert:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql
        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite
    return sqlite.insert(table)


def _series_row(conn: sa.Connection, series: Series) -> None:
    table = table_of(DocumentCounter)
    values = {"issuer_code": series.issuer_code, "doc_type": series.doc_type, "year": series.year, "last_seq": 0}
    conn.execute(_insert(conn, table).values(**values).on_conflict_do_nothing())  # type: ignore[attr-defined]


def _next_seq(conn: sa.Connection, series: Series) -> int:
    table = table_of(DocumentCounter)
    stmt = (sa.update(table)
            .where(table.c.issuer_code == series.issuer_code, table.c.doc_type == series.doc_type,
                   table.c.year == series.year)
            .values(last_seq=table.c.last_seq + 1).returning(table.c.last_seq))
    return int(conn.execute(stmt).scalar_one())


def allocate_number(session: Session, *, issuer_code: str, doc_type: str, year: int) -> int:
    """The series' next number inside the caller's transaction (a rollback gives it back)."""
    conn = session.connection()
    series = Series(issuer_code, doc_type, year)
    _series_row(conn, series)
    return _next_seq(conn, series)


def _reserve(conn: sa.Connection, series: Series, subject_key: str, revision: int, *, actor: str,
             state: ReservationState) -> Reservation:
    """Find the subject's reservation or take the series' next number for it, in ``conn``'s transaction."""
    counter, table = table_of(DocumentCounter), table_of(NumberReservation)
    _series_row(conn, series)
    # The series lock first: two runs reserving for the same subject at once take turns, and the second (its next
    # statement sees what committed before it) finds the first's reservation instead of taking a second number.
    conn.execute(sa.select(counter.c.last_seq).where(counter.c.issuer_code == series.issuer_code,
                                                     counter.c.doc_type == series.doc_type,
                                                     counter.c.year == series.year).with_for_update())
    found = conn.execute(sa.select(table.c.id, table.c.seq, table.c.issuer_code, table.c.year).where(
        table.c.doc_type == series.doc_type, table.c.subject_key == subject_key, table.c.revision == revision)).first()
    if found is not None:
        if (found.issuer_code, found.year) != (series.issuer_code, series.year):
            raise Conflict(f"Số {found.seq:02d} năm {found.year} của {found.issuer_code} đã được giữ cho văn bản "
                           f"{series.doc_type} {subject_key} (lần {revision}); không cấp số thứ hai.")
        return Reservation(int(found.id), int(found.seq))
    seq = _next_seq(conn, series)
    new_id = conn.execute(sa.insert(table).values(
        issuer_code=series.issuer_code, doc_type=series.doc_type, year=series.year, seq=seq,
        subject_key=subject_key, revision=revision, state=state.value, reserved_by=actor[:64],
        reserved_at=utcnow()).returning(table.c.id)).scalar_one()
    return Reservation(int(new_id), seq)


@lru_cache(maxsize=8)
def _reservation_engine(url: str) -> sa.Engine:
    return sa.create_engine(url, poolclass=sa.pool.NullPool, hide_parameters=True)


def reservation_engine(engine: sa.Engine) -> sa.Engine:
    """Reservations' own connections, outside the application's pool: a caller holding one of the pool's connections
    never waits for another of that pool to reserve (a full pool of callers would otherwise wait for one another until
    the pool's timeout). Not pooled (a loopback connection costs a few milliseconds against a rendering's tens): none
    is left open, so a database can be dropped or copied as a template once the application's engine is disposed."""
    return _reservation_engine(engine.url.render_as_string(hide_password=False))


def reserve_apart(engine: sa.Engine, series: Series, subject_key: str, revision: int, *, actor: str) -> Reservation:
    """PostgreSQL: the subject's number, reserved and committed in a short transaction of its own."""
    with reservation_engine(engine).begin() as conn:
        return _reserve(conn, series, subject_key, revision, actor=actor, state=ReservationState.RESERVED)


def reserve_within(session: Session, series: Series, subject_key: str, revision: int, *, actor: str) -> Reservation:
    """SQLite: the subject's number inside the caller's transaction, marked used (the document commits with it)."""
    return _reserve(session.connection(), series, subject_key, revision, actor=actor, state=ReservationState.USED)


def hold(session: Session, reservation: Reservation) -> None:
    """Lock the reservation in the caller's transaction: two runs issuing the same subject take turns from here."""
    table = table_of(NumberReservation)
    session.execute(sa.select(table.c.id).where(table.c.id == reservation.id).with_for_update())


def mark_used(session: Session, reservation: Reservation) -> None:
    table = table_of(NumberReservation)
    session.execute(sa.update(table).where(table.c.id == reservation.id).values(state=ReservationState.USED.value))


def unused_reservations(session: Session, *, older_than: timedelta = timedelta(0),
                        now: datetime | None = None) -> list[NumberReservation]:
    """Numbers reserved whose document is not issued (yet): a run that crashed and was never re-run, or one rendering
    now. With ``older_than``, only those reserved at least that long ago."""
    cutoff = (now or utcnow()) - older_than
    return list(session.exec(select(NumberReservation).where(
        NumberReservation.state == ReservationState.RESERVED, col(NumberReservation.reserved_at) <= cutoff)
        .order_by(col(NumberReservation.issuer_code), col(NumberReservation.doc_type), col(NumberReservation.year),
                  col(NumberReservation.seq))).all())


def reservation_line(r: NumberReservation) -> str:
    """One line per reserved-but-unused number, for an operator."""
    return (f"{r.issuer_code} {r.doc_type} {r.year} số {r.seq:02d}: giữ cho {r.subject_key} (lần {r.revision}) "
            f"lúc {r.reserved_at:%Y-%m-%d %H:%M} UTC bởi {r.reserved_by or '?'}, chưa ban hành")


def main(argv: list[str] | None = None) -> int:
    """``python -m services.documents.numbering [--hours H]``: the numbers reserved at least H hours ago (default 1)
    whose document is not issued, one line each; exit status 1 when there is one."""
    import argparse

    from services.db import session_scope
    from services.settings import get_settings

    parser = argparse.ArgumentParser(description="Số văn bản đã giữ nhưng chưa ban hành")
    parser.add_argument("--hours", type=float, default=1.0)
    args = parser.parse_args(argv)
    with session_scope(get_settings()) as session:
        lines = [reservation_line(r) for r in unused_reservations(session, older_than=timedelta(hours=args.hours))]
    print("\n".join(lines) if lines else "Không có số nào đã giữ mà chưa ban hành.")  # noqa: T201 - this module's command line
    return 1 if lines else 0


if __name__ == "__main__":
    raise SystemExit(main())
