"""Issue 4 at the stage level, on a real database: conflicts, unavailable days, members busy elsewhere, the
documents and notifications a schedule produces, and moving one visit."""
from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from models import (Document, DocumentType, Establishment, Inspection, Notification, Person, Selection, Team, TeamMember,
                    Unavailability)
from services.rules.calendar import is_working_day
from services.db import session_scope
from services.errors import Forbidden, Refused
from services.settings import Settings
from services.stages import scheduling, selection
from services.stages.declarations import declare_conflict, declare_unavailable
from services.stages.rescheduling import reschedule_visit
from services.stages.schedule_docs import issue_schedule_documents
from tests.pdf_support import raw_text_of
from tests.factories import approve, create_campaign, create_world

CODE = "LICH-01"


def _proposed(settings: Settings) -> list[str]:
    with session_scope(settings) as session:
        return list(session.exec(select(Establishment.tax_code).join(Selection, Selection.establishment_id == Establishment.id)
                                 .order_by(Selection.rank)).all())


def _visits(settings: Settings) -> dict[str, tuple[date, int, set[str]]]:
    """tax code → (day, team number, member codes)."""
    with session_scope(settings) as session:
        rows = session.exec(select(Establishment.tax_code, Inspection.scheduled_on, Team.number, Team.id)
                            .join(Inspection, Inspection.establishment_id == Establishment.id)
                            .join(Team, Team.id == Inspection.team_id)).all()
        members = {tid: set(session.exec(select(Person.code).join(TeamMember, TeamMember.person_id == Person.id)
                                         .where(TeamMember.team_id == tid)).all()) for _, _, _, tid in rows}
    return {code: (day, number, members[tid]) for code, day, number, tid in rows}


@pytest.fixture
def planned(settings: Settings) -> list[str]:
    create_world(settings, establishments=800, teams=3)
    create_campaign(settings, code=CODE, quota=24, teams=3)
    selection.select_establishments(settings, CODE)
    approve(settings, CODE)
    return _proposed(settings)


def test_conflicts_and_unavailable_days_are_respected(settings: Settings, planned: list[str]) -> None:
    first, second = planned[0], planned[1]
    assert declare_conflict(settings, person_code="SNV-TT01", tax_code=first, reason="Vợ là kế toán trưởng của công ty",
                            declared_on=date(2026, 2, 1), by="SNV-LEAD")
    # six establishments the heads of teams 1 and 2 both declared: only team 3 may visit them
    for code in planned[2:8]:
        for head in ("SNV-TT01", "SNV-TT02"):
            declare_conflict(settings, person_code=head, tax_code=code, reason="Từng làm việc tại cơ sở",
                             declared_on=date(2026, 2, 1), by="SNV-LEAD")
    assert not declare_conflict(settings, person_code="SNV-TT01", tax_code=first, reason="lần nữa",
                                declared_on=date(2026, 2, 1), by="SNV-LEAD")
    blocked = {date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 9)}
    for day in blocked:
        assert declare_unavailable(settings, tax_code=second, day=day, reason="Nghỉ bảo dưỡng dây chuyền", by="SNV-LEAD")
    with pytest.raises(Refused) as bad:
        declare_conflict(settings, person_code="KHONG-CO", tax_code="0000000000", reason="", declared_on=date(2026, 2, 1),
                         by="SNV-LEAD")
    assert bad.value.ids["errors"] == ["person: không có người có mã KHONG-CO",
                                       "tax_code: không có cơ sở mã số thuế 0000000000 trong sổ đăng ký",
                                       "reason: phải ghi nội dung xung đột lợi ích"]

    scheduling.schedule_inspections(settings, CODE)
    visits = _visits(settings)
    assert "SNV-TT01" not in visits[first][2]
    assert all("SNV-TT03" in visits[code][2] for code in planned[2:8])
    assert visits[second][0] not in blocked
    assert all(is_working_day(day) and day >= date(2026, 3, 5) for day, _, _ in visits.values())  # 3 working days' notice


def test_members_busy_in_another_campaign_are_not_in_two_places(settings: Settings, planned: list[str]) -> None:
    scheduling.schedule_inspections(settings, CODE)
    create_campaign(settings, code="LICH-02", quota=24, teams=3)  # the same people, an overlapping period
    selection.select_establishments(settings, "LICH-02")
    approve(settings, "LICH-02")
    scheduling.schedule_inspections(settings, "LICH-02")
    with session_scope(settings) as session:
        rows = session.exec(select(Person.code, Inspection.scheduled_on, Inspection.campaign_id)
                            .join(TeamMember, TeamMember.person_id == Person.id)
                            .join(Inspection, Inspection.team_id == TeamMember.team_id)).all()
    days: dict[tuple[str, date], set[int]] = {}
    for person, day, campaign in rows:
        days.setdefault((person, day), set()).add(campaign)
    assert all(len(c) == 1 for c in days.values())


def test_a_schedule_issues_the_decision_plans_notices_and_notifications_once(settings: Settings, planned: list[str]) -> None:
    scheduling.schedule_inspections(settings, CODE)
    first = issue_schedule_documents(settings, CODE)
    again = issue_schedule_documents(settings, CODE)
    assert (first.done, first.already) == (1 + 3 + 24, 0) and (again.done, again.already) == (0, 28)
    with session_scope(settings) as session:
        kinds = [d.doc_type for d in session.exec(select(Document))]
        notes = session.exec(select(Notification)).all()
    assert kinds.count(DocumentType.INSPECTION_NOTICE) == 24 and kinds.count(DocumentType.INSPECTION_PLAN) == 3
    assert sorted(n.kind for n in notes) == ["inspection_notice"] * 24 + ["team_assignment"] * 7  # 3 teams: 3+3+1 members


def test_plans_and_notices_print_the_team_heads_phone(settings: Settings, planned: list[str]) -> None:
    """The establishment calls the team head: the phone is printed even when messages go to the head by e-mail."""
    from services.delivery.notifications import contact_of

    scheduling.schedule_inspections(settings, CODE)
    issue_schedule_documents(settings, CODE)
    with session_scope(settings) as session:
        docs = session.exec(select(Document).where(Document.doc_type.in_([DocumentType.INSPECTION_NOTICE,  # type: ignore[attr-defined]
                                                                           DocumentType.INSPECTION_PLAN]))).all()
        heads = session.exec(select(Person.code).join(TeamMember, TeamMember.person_id == Person.id)
                             .where(TeamMember.role == "head")).all()
        phones = {contact_of(session, "person", code).phone for code in heads}  # type: ignore[union-attr]
    assert phones and all(phones)
    for doc in docs:
        text = raw_text_of(settings.documents_path / doc.path)
        assert any(phone in text for phone in phones), doc.number




def test_moving_one_visit_moves_only_it_and_replaces_its_notice(settings: Settings, planned: list[str]) -> None:
    scheduling.schedule_inspections(settings, CODE)
    issue_schedule_documents(settings, CODE)
    before = _visits(settings)
    target = planned[5]
    old_day = before[target][0]
    with pytest.raises(Forbidden):
        reschedule_visit(settings, CODE, tax_code=target, reason="Cơ sở đề nghị", by="SNV-TT01", changed_on=date(2026, 3, 2))

    moves = reschedule_visit(settings, CODE, tax_code=target, reason="Cơ sở đề nghị do kiểm kê cuối quý", by="SNV-LEAD",
                             not_on=frozenset({old_day}), changed_on=date(2026, 3, 2))
    after = _visits(settings)
    assert [m.tax_code for m in moves] == [target]
    assert after[target][0] != old_day and is_working_day(after[target][0])
    assert {k: v for k, v in after.items() if k != target} == {k: v for k, v in before.items() if k != target}
    with session_scope(settings) as session:
        est = session.exec(select(Establishment).where(Establishment.tax_code == target)).one()
        inspection = session.exec(select(Inspection).where(Inspection.establishment_id == est.id)).one()
        notices = session.exec(select(Document).where(Document.subject_key == f"inspection:{inspection.id}",
                                                      Document.doc_type == DocumentType.INSPECTION_NOTICE)
                               .order_by(Document.revision)).all()
        assert session.exec(select(Unavailability).where(Unavailability.establishment_id == est.id)).one().day == old_day
        resend = session.exec(select(Notification).where(Notification.kind == "reschedule",
                                                         Notification.recipient_ref == target)).all()
    assert [n.revision for n in notices] == [1, 2] and notices[1].supersedes_id == notices[0].id
    text = raw_text_of(settings.documents_path / notices[1].path)
    assert f"Thông báo này thay thế Thông báo số {notices[0].number}" in text
    assert f"{after[target][0]:%d/%m/%Y}" in text and "kiểm kê cuối quý" in text
    assert len(resend) == 1 and notices[1].number in resend[0].subject
