"""Document numbers (services/documents/issuing.py, numbering.py): unique, sequential, gap-free per issuer, type and
year; documents immutable once issued. Over the real migrated database (SQLite, or PostgreSQL in the PostgreSQL pass),
including several threads and processes at once; on PostgreSQL the number is reserved in a short transaction of its
own, so a crash after reserving reissues the same number and rendering holds no lock on the series."""
from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from models import (Campaign, Document, DocumentCounter, DocumentType, Establishment, Inspection, NumberReservation,
                    ReservationState)
from services.db import session_scope
from services.documents import load_template
from services.documents.issuing import allocate_number, issue_document
from services.documents.numbering import reservation_line, unused_reservations
from services.errors import ImmutableDocument
from services.settings import Settings
from services.stages import records
from tests import process_support
from tests.conftest import ON_POSTGRES, make_settings, Worlds
from tests.factories import count, create_scheduled_campaign

CAMPAIGN = "NUM-01"


class Boom(Exception):
    """A crash in the middle of a transaction."""


def allocate(settings: Settings, *, issuer: str = "SNV", doc_type: str = "minutes", year: int = 2026) -> int:
    with session_scope(settings) as session:
        return allocate_number(session, issuer_code=issuer, doc_type=doc_type, year=year)


def test_numbers_are_sequential_per_issuer_type_and_year(settings: Settings) -> None:
    assert [allocate(settings) for _ in range(3)] == [1, 2, 3]
    assert allocate(settings, doc_type="violation_record") == 1
    assert allocate(settings, year=2027) == 1
    assert allocate(settings, issuer="SYT") == 1
    assert allocate(settings) == 4
    assert allocate(settings, doc_type="violation_record") == 2
    assert allocate(settings, year=2027) == 2


def test_a_rolled_back_transaction_gives_its_number_back(settings: Settings) -> None:
    assert allocate(settings) == 1
    with pytest.raises(Boom), session_scope(settings) as session:
        assert allocate_number(session, issuer_code="SNV", doc_type="minutes", year=2026) == 2
        raise Boom
    assert allocate(settings) == 2
    # the very first number of a new sequence too (the counter row itself is rolled back)
    with pytest.raises(Boom), session_scope(settings) as session:
        assert allocate_number(session, issuer_code="SNV", doc_type="minutes", year=2030) == 1
        raise Boom
    assert allocate(settings, year=2030) == 1


# --------------------------------------------------------------------------- concurrency


def _allocate_in_process(db_dir: str, n: int, barrier: Any, results: Any) -> None:
    settings = make_settings(Path(db_dir))
    barrier.wait(timeout=60)
    results.put([allocate(settings) for _ in range(n)])


def test_two_processes_allocating_at_once_get_1_to_100_without_duplicate_or_gap(settings: Settings) -> None:
    ctx = process_support.context()
    barrier, results = ctx.Barrier(2), ctx.Queue()
    workers = [process_support.process(ctx, _allocate_in_process, str(settings.data_dir), 50, barrier, results)
               for _ in range(2)]
    for w in workers:
        w.start()
    got = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=30)
        assert w.exitcode == 0
    for numbers in got:
        assert numbers == sorted(numbers) and len(numbers) == 50  # each process sees its numbers grow
    assert sorted(got[0] + got[1]) == list(range(1, 101))
    with session_scope(settings) as session:
        assert session.get(DocumentCounter, ("SNV", "minutes", 2026)).last_seq == 100  # type: ignore[union-attr]


def test_two_threads_allocating_at_once_get_1_to_100_without_duplicate_or_gap(settings: Settings) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        got = list(pool.map(lambda _: [allocate(settings) for _ in range(50)], range(2)))
    assert sorted(got[0] + got[1]) == list(range(1, 101))


# --------------------------------------------------------------------------- issuing documents


@pytest.fixture
def scheduled(settings: Settings, worlds: Worlds) -> list[int]:
    """A campaign with scheduled inspections; returns their ids."""
    worlds.copy(settings, create_scheduled_campaign, code=CAMPAIGN, establishments=200, quota=4)
    with session_scope(settings) as session:
        return list(session.exec(select(Inspection.id).order_by(Inspection.id)).all())


def minutes_context(session: Session, inspection_id: int) -> Callable[[str], Mapping[str, Any]]:
    """The context of a biên bản kiểm tra with no findings yet, built as the records stage builds it."""
    inspection = session.get(Inspection, inspection_id)
    assert inspection is not None
    campaign = session.get(Campaign, inspection.campaign_id)
    establishment = session.get(Establishment, inspection.establishment_id)
    assert campaign is not None and establishment is not None
    base = {"issuer": records.issuer_of(session, campaign), "issued_on": inspection.scheduled_on,
            "campaign": records.campaign_context(session, campaign),
            "team": records.team_context(session, inspection.team_id),
            "establishment": records.establishment_context(establishment),
            "inspection": {"date": inspection.scheduled_on, "start_time": "08:00", "end_time": "11:30",
                           "place": establishment.address},
            "findings": [], "violations": [], "total_amount": 0}
    return lambda number: {**base, "number": number}


def issue_minutes(settings: Settings, inspection_id: int, *, year: int = 2026,
                  doc_type: DocumentType = DocumentType.MINUTES, crash: bool = False,
                  before_render: Callable[[str], None] | None = None, subject_key: str | None = None) -> Document:
    """``before_render(number)`` runs in ``build_context``, i.e. once the number is taken and before the PDF is made."""
    symbol = "BB-KT" if doc_type == DocumentType.MINUTES else "BB-VPHC"
    with session_scope(settings) as session:
        campaign_id = session.get(Inspection, inspection_id).campaign_id  # type: ignore[union-attr]
        build = minutes_context(session, inspection_id)

        def build_context(number: str) -> Mapping[str, Any]:
            if before_render is not None:
                before_render(number)
            return build(number)

        doc = issue_document(session, settings, doc_type=doc_type,
                             subject_key=subject_key or f"inspection:{inspection_id}",
                             issuer_code="SNV", symbol=symbol, year=year, campaign_id=campaign_id,
                             inspection_id=inspection_id, template="bien_ban_kiem_tra",
                             build_context=build_context, actor="test")
        if crash:
            raise Boom
        return doc


def test_issued_documents_are_numbered_in_sequence_and_issuing_again_returns_the_same(
        settings: Settings, scheduled: list[int]) -> None:
    first, second = issue_minutes(settings, scheduled[0]), issue_minutes(settings, scheduled[1])
    assert (first.number, second.number) == ("01/BB-KT", "02/BB-KT")
    record = issue_minutes(settings, scheduled[0], doc_type=DocumentType.VIOLATION_RECORD)
    assert record.number == "01/BB-VPHC"
    assert (settings.documents_path / first.path).read_bytes()[:5] == b"%PDF-"

    again = issue_minutes(settings, scheduled[0])
    assert (again.id, again.number, again.sha256) == (first.id, first.number, first.sha256)
    with session_scope(settings) as session:
        assert count(session, Document) == 3
        assert session.get(DocumentCounter, ("SNV", "minutes", 2026)).last_seq == 2  # type: ignore[union-attr]
    assert issue_minutes(settings, scheduled[2]).number == "03/BB-KT"


def test_a_crash_before_commit_leaves_no_document_and_no_gap(settings: Settings,
                                                             scheduled: list[int]) -> None:
    assert issue_minutes(settings, scheduled[0]).number == "01/BB-KT"
    with pytest.raises(Boom):
        issue_minutes(settings, scheduled[1], crash=True)
    with session_scope(settings) as session:
        assert count(session, Document) == 1
    assert issue_minutes(settings, scheduled[1]).number == "02/BB-KT"


def test_an_issued_document_cannot_be_changed_or_deleted(settings: Settings, scheduled: list[int]) -> None:
    doc = issue_minutes(settings, scheduled[0])

    with (pytest.raises(ImmutableDocument, match="đã ban hành, không được sửa"),
          session_scope(settings) as session):
        stored = session.get(Document, doc.id)
        assert stored is not None
        stored.number = "99/BB-KT"
        session.flush()
    with (pytest.raises(ImmutableDocument, match="đã ban hành, không được xóa"),
          session_scope(settings) as session):
        stored = session.get(Document, doc.id)
        session.delete(stored)
        session.flush()

    with session_scope(settings) as session:
        kept = session.get(Document, doc.id)
        assert kept is not None
        assert (kept.number, kept.sha256, kept.path) == (doc.number, doc.sha256, doc.path)


# --------------------------------------------------------------------------- issuing at once

AT_ONCE = 12  # documents per issuing run
PAUSE_S = 0.02  # a run's other work between two documents: the other run's turn to take the write lock


def _issue_one(settings: Settings, tag: str, i: int, inspection_id: int, *, crash: bool = False) -> int:
    with session_scope(settings) as session:
        campaign_id = session.get(Inspection, inspection_id).campaign_id  # type: ignore[union-attr]
        doc = issue_document(session, settings, doc_type=DocumentType.MINUTES, subject_key=f"at-once:{tag}:{i:03d}",
                             issuer_code="SNV", symbol="BB-KT", year=2026, campaign_id=campaign_id,
                             inspection_id=inspection_id, template="bien_ban_kiem_tra",
                             build_context=minutes_context(session, inspection_id), actor=f"run-{tag}")
        if crash:
            raise Boom
        return doc.seq


def _issue_run(settings: Settings, tag: str, inspection_ids: list[int], n: int, crash_every: int = 0,
               meet: Any = None) -> list[int]:
    """One issuing run: ``n`` biên bản kiểm tra of issuer SNV in 2026, one transaction each (as the stages do).
    With ``crash_every``, every so many documents the first attempt crashes before commit and is run again.
    ``meet`` (the two runs' barrier) is waited at after the first document: neither run can finish before the other
    has begun, however the machine schedules them, so the runs always overlap."""
    numbers = []
    for i in range(n):
        inspection_id = inspection_ids[i % len(inspection_ids)]
        if crash_every and i % crash_every == crash_every - 1:
            with pytest.raises(Boom):
                _issue_one(settings, tag, i, inspection_id, crash=True)
        numbers.append(_issue_one(settings, tag, i, inspection_id))
        if i == 0 and meet is not None:
            meet.wait(timeout=60)
        time.sleep(PAUSE_S)
    return numbers


def _issue_in_process(db_dir: str, tag: str, inspection_ids: list[int], n: int, crash_every: int, barrier: Any,
                      results: Any) -> None:
    settings = make_settings(Path(db_dir))
    load_template("bien_ban_kiem_tra")  # warm up before the start line, so neither run has a head start
    with session_scope(settings) as session:
        session.exec(select(DocumentCounter)).all()
    barrier.wait(timeout=60)
    try:
        results.put((tag, _issue_run(settings, tag, inspection_ids, n, crash_every, meet=barrier)))
    except BaseException as exc:  # the parent reports it instead of waiting for a result that never comes
        results.put((tag, f"{type(exc).__name__}: {exc}"))
        raise


def assert_issued_without_duplicate_or_gap(settings: Settings, runs: dict[str, Any], n: int) -> None:
    for tag, numbers in runs.items():
        assert isinstance(numbers, list), f"issuing run {tag} failed: {numbers}"
        assert numbers == sorted(numbers) and len(set(numbers)) == n, (tag, numbers)  # each run's numbers grow
    a, b = runs.values()
    assert min(a) < max(b) and min(b) < max(a), f"the two runs did not overlap, nothing was tested: {runs}"
    assert sorted(seq for numbers in runs.values() for seq in numbers) == list(range(1, 2 * n + 1))
    with session_scope(settings) as session:
        docs = session.exec(select(Document).where(Document.subject_key.startswith("at-once:"))).all()  # type: ignore[attr-defined]
        assert session.get(DocumentCounter, ("SNV", "minutes", 2026)).last_seq == 2 * n  # type: ignore[union-attr]
    keys = [(d.issuer_code, d.doc_type, d.year, d.number) for d in docs]
    assert len(keys) == len(set(keys)) == 2 * n  # each (issuer, type, year, number) once
    assert sorted(d.seq for d in docs) == list(range(1, 2 * n + 1))
    assert all(d.number == f"{d.seq:02d}/BB-KT" for d in docs)
    assert {d.subject_key for d in docs} == {f"at-once:{tag}:{i:03d}" for tag in runs for i in range(n)}
    for d in docs:  # no run overwrote the other's PDF: each file is the one its document records
        assert hashlib.sha256((settings.documents_path / d.path).read_bytes()).hexdigest() == d.sha256, d.number


@pytest.mark.parametrize("crash_every", [0, 4], ids=["clean", "run-b-crashes-every-4th"])
def test_two_processes_issuing_at_once_number_1_to_2n_without_duplicate_or_gap(settings: Settings, scheduled: list[int],
                                                                               crash_every: int) -> None:
    ctx = process_support.context()
    barrier, results = ctx.Barrier(2), ctx.Queue()
    workers = [process_support.process(ctx, _issue_in_process, str(settings.data_dir), tag, scheduled, AT_ONCE,
                                       crash_every if tag == "b" else 0, barrier, results)
               for tag in ("a", "b")]
    for w in workers:
        w.start()
    runs = dict(results.get(timeout=180) for _ in workers)
    for w in workers:
        w.join(timeout=30)
        assert w.exitcode == 0, runs
    # a crashed attempt gives its number back: the other run (or the retry) takes it, so still no gap
    assert_issued_without_duplicate_or_gap(settings, runs, AT_ONCE)


def test_two_threads_issuing_at_once_number_1_to_2n_without_duplicate_or_gap(settings: Settings,
                                                                             scheduled: list[int]) -> None:
    start = threading.Barrier(2)

    def run(tag: str) -> tuple[str, list[int]]:
        start.wait(timeout=60)
        return tag, _issue_run(settings, tag, scheduled, AT_ONCE, meet=start)

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(pool.map(run, ("a", "b")))
    assert_issued_without_duplicate_or_gap(settings, runs, AT_ONCE)


# --------------------------------------------------------------------------- reservations (issue 17)


def test_a_crash_after_reserving_reissues_the_same_number_and_leaves_no_gap(settings: Settings,
                                                                            scheduled: list[int]) -> None:
    assert issue_minutes(settings, scheduled[0]).number == "01/BB-KT"
    taken: list[str] = []
    with pytest.raises(Boom):
        issue_minutes(settings, scheduled[1], crash=True, before_render=taken.append)
    assert taken == ["02/BB-KT"]
    with session_scope(settings) as session:
        assert count(session, Document) == 1
        unused = unused_reservations(session)
        if ON_POSTGRES:  # the reservation committed on its own: it waits, listed, for the re-run
            assert [(r.subject_key, r.seq) for r in unused] == [(f"inspection:{scheduled[1]}", 2)]
            assert reservation_line(unused[0]).startswith("SNV minutes 2026 số 02: giữ cho inspection:")
        else:  # rolled back with the caller's transaction: the number is free again
            assert unused == []
    other = issue_minutes(settings, scheduled[2])
    rerun = issue_minutes(settings, scheduled[1])
    if ON_POSTGRES:
        assert (rerun.number, other.number) == ("02/BB-KT", "03/BB-KT")
    assert sorted(d.seq for d in (rerun, other)) == [2, 3]
    with session_scope(settings) as session:
        assert unused_reservations(session) == []
        states = session.exec(select(NumberReservation.state)).all()
        assert sorted(states) == [ReservationState.USED] * 3
        assert session.get(DocumentCounter, ("SNV", "minutes", 2026)).last_seq == 3  # type: ignore[union-attr]


def test_two_runs_issuing_the_same_document_at_once_make_one_document(settings: Settings,
                                                                      scheduled: list[int]) -> None:
    inside = threading.Barrier(2, timeout=2)

    def both_inside(_number: str) -> None:
        try:  # on PostgreSQL the second waits for the first's document instead of rendering: the barrier breaks
            inside.wait()
        except threading.BrokenBarrierError:
            pass

    with ThreadPoolExecutor(max_workers=2) as pool:
        docs = list(pool.map(lambda _: issue_minutes(settings, scheduled[0], before_render=both_inside), range(2)))
    assert docs[0].id == docs[1].id and docs[0].number == "01/BB-KT"
    with session_scope(settings) as session:
        assert count(session, Document) == 1
        assert session.get(DocumentCounter, ("SNV", "minutes", 2026)).last_seq == 1  # type: ignore[union-attr]
        assert unused_reservations(session) == []
    assert issue_minutes(settings, scheduled[1]).number == "02/BB-KT"


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite has one writer at a time: the caller's transaction holds the "
                                            "write lock from its first statement, rendering included")
def test_rendering_holds_no_lock_on_the_number_series(settings: Settings, scheduled: list[int]) -> None:
    rendering, release = threading.Event(), threading.Event()

    def slow(_number: str) -> None:
        rendering.set()
        assert release.wait(timeout=60)

    with ThreadPoolExecutor(max_workers=1) as pool:
        slow_doc = pool.submit(issue_minutes, settings, scheduled[0], before_render=slow)
        try:
            assert rendering.wait(timeout=60)
            # while that transaction renders, the same issuer's series gives numbers and documents to others
            with ThreadPoolExecutor(max_workers=1) as other:
                assert other.submit(allocate, settings).result(timeout=10) == 2
                assert other.submit(issue_minutes, settings, scheduled[1]).result(timeout=20).number == "03/BB-KT"
            assert not slow_doc.done()
        finally:
            release.set()
        assert slow_doc.result(timeout=60).number == "01/BB-KT"


THREADS, PER_THREAD = 4, 6


def test_several_threads_issuing_at_once_number_1_to_n_even_with_crashes(settings: Settings,
                                                                         scheduled: list[int]) -> None:
    start = threading.Barrier(THREADS)

    def run(t: int) -> list[int]:
        start.wait(timeout=60)
        seqs = []
        for i in range(PER_THREAD):
            key, inspection_id = f"threads:{t}:{i}", scheduled[(t * PER_THREAD + i) % len(scheduled)]
            if i % 3 == 1:  # crash after the number is taken, then run again
                with pytest.raises(Boom):
                    issue_minutes(settings, inspection_id, crash=True, subject_key=key)
            seqs.append(issue_minutes(settings, inspection_id, subject_key=key).seq)
        return seqs

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        got = list(pool.map(run, range(THREADS)))
    n = THREADS * PER_THREAD
    assert sorted(seq for seqs in got for seq in seqs) == list(range(1, n + 1))
    with session_scope(settings) as session:
        docs = session.exec(select(Document)).all()
        assert sorted(d.seq for d in docs) == list(range(1, n + 1))
        assert all(d.number == f"{d.seq:02d}/BB-KT" for d in docs)
        assert session.get(DocumentCounter, ("SNV", "minutes", 2026)).last_seq == n  # type: ignore[union-attr]
        assert unused_reservations(session) == []
    for d in docs:
        assert hashlib.sha256((settings.documents_path / d.path).read_bytes()).hexdigest() == d.sha256, d.number
