"""One case walked through the stages by the service functions (no HTTP, no Prefect): a visit with findings, the
lead's approval and the records, the competent official's decision. Shared by the tests of what comes after."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from sqlmodel import Session, select

from models import Inspection, Person, PersonRole, Violation
from models.base import id_of
from services.db import session_scope
from services.intake import decisions, logic
from services.rules import competence
from services.rules.calendar import is_working_day
from services.intake.schemas import DecisionIn, FindingsSubmission, ReviewIn
from services.settings import Settings
from services.stages import records, sanctions
from services.stages.common import Outcome

INSPECTOR = "SNV-TT01"  # head of the demo world's first team


def d(day: int, month: int, year: int = 2026) -> date:
    return date(year, month, day)


def person_by_code(session: Session, code: str) -> Person:
    return session.exec(select(Person).where(Person.code == code)).one()


def lead(session: Session) -> Person:
    person = session.exec(select(Person).where(Person.role == PersonRole.LEAD).order_by(Person.code)).first()
    assert person is not None
    return person


def visit(settings: Settings, inspection_id: int, *, on: date, client_id: str,
          fails: Mapping[str, Mapping[str, Any]] | None = None, inspector: str = INSPECTOR) -> None:
    """The inspection is visited ``on`` that day and its findings submitted: every item passes except ``fails``
    (item code → the finding's other fields, e.g. ``{"YT-01": {"workers_affected": 12}}``); by default the
    first checklist item fails (5 workers, 2 devices)."""
    with session_scope(settings) as session:
        inspection = session.get(Inspection, inspection_id)
        assert inspection is not None
        inspection.scheduled_on = on
        session.add(inspection)
    with session_scope(settings) as session:
        inspection = session.get(Inspection, inspection_id)
        findings = [{"item_code": i.code, "result": "pass"} for i in logic.checklist_for(session, inspection)]
        if fails is None:
            fails = {findings[0]["item_code"]: {"workers_affected": 5, "devices_affected": 2}}
        for f in findings:
            if f["item_code"] in fails:
                f.update(result="fail", **fails[f["item_code"]])
        logic.submit_findings(session, person_by_code(session, inspector), inspection_id,
                              FindingsSubmission(client_submission_id=client_id, findings=findings))


def approve_and_draw_up(settings: Settings, inspection_id: int, on: date) -> None:
    """The lead approves the findings; the records are drawn up ``on`` that day."""
    with session_scope(settings) as session:
        logic.review_findings(session, lead(session), inspection_id, ReviewIn(decision="approve"))
    assert records.issue_for_inspection(settings, inspection_id, drawn_up_on=on) == Outcome.ISSUED


def competent_official(session: Session, inspection_id: int) -> Person:
    """The official whose title the file needs (the demo world has one per title)."""
    title = competence.required_signer(session, session.get(Inspection, inspection_id))
    official = session.exec(select(Person).where(Person.role == PersonRole.OFFICIAL, Person.title == title)).first()
    assert official is not None, title
    return official


def decide(settings: Settings, inspection_id: int, on: date) -> None:
    """The competent official adopts the proposed amounts ``on`` that day; the decision is issued."""
    with session_scope(settings) as session:
        official = competent_official(session, inspection_id)
        amounts = {v.id: v.proposed_amount for v in session.exec(select(Violation).where(Violation.inspection_id == inspection_id))}
        decisions.record_decision(session, official, inspection_id, DecisionIn(amounts=amounts, decided_on=on))
    assert sanctions.decide_for_inspection(settings, inspection_id) == Outcome.ISSUED


def decide_on_last_day(settings: Settings, files: list[int], official_code: str) -> tuple[int, list[int]]:
    """The first of ``files`` within ``official_code``'s competence decided (amounts recorded) on the 7th working day
    after its violation record — the last day the law allows (a decision "today", months after a March record, is
    refused: Luật XLVPHC Art.65 cl.1 c); returns its id and the other files within that competence."""
    from models import DocumentType
    from services.documents.issuing import latest_document
    from services.rules.deadline_rules import nth_working_day_after

    with session_scope(settings) as session:
        official = person_by_code(session, official_code)
        mine = [i for i in files if competent_official(session, i).code == official_code]
        assert mine, f"no file within the competence of {official_code}"
        first = mine[0]
        record = latest_document(session, doc_type=DocumentType.VIOLATION_RECORD, subject_key=f"inspection:{first}")
        assert record is not None and record.issued_on is not None
        amounts = {id_of(v): v.proposed_amount for v in session.exec(select(Violation).where(Violation.inspection_id == first))}
        decisions.record_decision(session, official, first,
                                  DecisionIn(decided_on=nth_working_day_after(record.issued_on, 7), amounts=amounts))
    return first, mine[1:]


def complex_case(settings: Settings, inspection_id: int) -> None:
    """The lead declares the case complex once its record is issued: 1 month from the record to decide (Luật XLVPHC
    Art.66 cl.1) instead of 07 working days; a decision after it is refused (Art.65 cl.1 c)."""
    from models import DeadlineKind
    from services.stages import deadline_changes, deadlines

    deadlines.create_from_state(settings)
    with session_scope(settings) as session:
        deadline_changes.declare_complex(session, inspection_id, DeadlineKind.SANCTION_DECISION, actor="SNV-LEAD",
                                         reason="Vụ việc phức tạp: cần xác minh thêm hồ sơ của cơ sở")


def working_before(day: date, n: int) -> date:
    """The n-th working day before ``day`` (the calendar's holidays and swapped days counted)."""
    while n:
        day -= timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def pin_today(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    """Every ``today_in_vietnam()`` of this process — the app served in a thread included — answers ``day``: for a
    world whose decisions must fall within the law's time limits (Luật XLVPHC Art.65 cl.1 c) whatever the real date."""
    class Pinned(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Pinned:
            return cls.combine(day, time(12), tzinfo=tz)

    monkeypatch.setattr("services.rules.calendar.datetime", Pinned)
