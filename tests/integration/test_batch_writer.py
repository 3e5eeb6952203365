"""The intake's batch writer: several writes to a transaction, each in its own savepoint, answered after the commit."""
from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models import AuditEvent
from services import audit
from services.db import get_engine, session_scope
from services.errors import Conflict, NotStored
from services.intake import writer as writer_module
from services.intake.writer import BatchWriter
from services.settings import Settings


def note(reason: str) -> Any:
    """A job that writes one audit event and answers with its reason."""
    def job(session: Session) -> str:
        audit.insert_events(session.connection(), [audit.event_row(actor="test", action="note", entity_type="test",
                                                                   entity_id=1, reason=reason)])
        return reason
    return job


def notes(settings: Settings) -> list[str]:
    with session_scope(settings) as session:
        return sorted(session.exec(select(AuditEvent.reason).where(AuditEvent.action == "note")).all())


def run_all(writer: BatchWriter, jobs: list[Any]) -> list[Any]:
    """Queue every job while the first one holds the writer, so the rest are one batch; return answers or errors."""
    release = threading.Event()

    def hold(session: Session) -> str:
        release.wait(10)
        return note("first")(session)

    async def main() -> list[Any]:
        first = asyncio.ensure_future(writer.run(hold))
        rest = [asyncio.ensure_future(writer.run(job)) for job in jobs]
        await asyncio.sleep(0.05)
        release.set()
        return await asyncio.gather(first, *rest, return_exceptions=True)

    return asyncio.run(main())


def test_queued_writes_share_one_commit(settings: Settings) -> None:
    engine = get_engine(settings)
    commits: list[int] = []

    def counted(_conn: Any) -> None:
        commits.append(1)

    sa.event.listen(engine, "commit", counted)
    try:
        answers = run_all(BatchWriter(engine), [note(f"n{i}") for i in range(20)])
    finally:
        sa.event.remove(engine, "commit", counted)
    assert answers == ["first"] + [f"n{i}" for i in range(20)]
    assert len(commits) == 2  # the holder alone, then the twenty together
    assert notes(settings) == sorted(["first"] + [f"n{i}" for i in range(20)])


def test_a_failing_write_is_rolled_back_alone_and_gets_its_own_error(settings: Settings) -> None:
    def half_then_conflict(session: Session) -> None:
        note("half-written")(session)
        raise Conflict("Xung đột dữ liệu.")

    answers = run_all(BatchWriter(get_engine(settings)), [note("before"), half_then_conflict, note("after")])
    assert answers[0:2] == ["first", "before"] and answers[3] == "after"
    assert isinstance(answers[2], Conflict)
    assert notes(settings) == ["after", "before", "first"]  # nothing of the failed job


def test_when_the_commit_fails_no_write_is_acknowledged(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    class FailingCommit(Session):
        def commit(self) -> None:
            raise sa.exc.OperationalError("COMMIT", None, Exception("disk I/O error"))

    monkeypatch.setattr(writer_module, "Session", FailingCommit)
    answers = run_all(BatchWriter(get_engine(settings)), [note("a"), note("b")])
    assert all(isinstance(a, NotStored) for a in answers)  # a 503 asking to send again, the same client id
    assert answers[0].message == "Hệ thống chưa lưu được dữ liệu gửi lên; hãy gửi lại (giữ nguyên mã gửi)."
    assert notes(settings) == []


def test_a_job_that_would_end_the_thread_fails_its_batch_and_the_writer_goes_on(settings: Settings) -> None:
    writer = BatchWriter(get_engine(settings))

    def exits(_session: Session) -> None:
        raise SystemExit(1)

    with pytest.raises(NotStored):
        asyncio.run(writer.run(exits))
    assert asyncio.run(writer.run(note("after"))) == "after"
    assert notes(settings) == ["after"]


def test_a_unique_race_with_another_writer_is_looked_at_again(settings: Settings) -> None:
    """On PostgreSQL another process may insert the same key between our read and our insert."""
    attempts: list[int] = []

    def racy(session: Session) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise sa.exc.IntegrityError("INSERT", None, Exception("UNIQUE constraint failed"))
        return "seen the other write"

    assert asyncio.run(BatchWriter(get_engine(settings)).run(racy)) == "seen the other write"
    assert len(attempts) == 2


def test_the_thread_ends_when_idle_and_starts_again(settings: Settings) -> None:
    writer = BatchWriter(get_engine(settings), idle_s=0.05)
    assert asyncio.run(writer.run(note("one"))) == "one"
    thread = writer._thread
    assert thread is not None
    thread.join(2)
    assert not thread.is_alive() and writer._thread is None
    assert asyncio.run(writer.run(note("two"))) == "two"
    assert notes(settings) == ["one", "two"]
