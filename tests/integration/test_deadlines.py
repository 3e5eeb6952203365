"""Legal deadlines walked through time with a test clock: the sweeper runs every day and each warning and
escalation must fall on the day the law and the calendar say.

The expected dates are worked out by hand, not by the code:

* the visit (discovery) is Wednesday 29/04/2026. Thursday 30/04 (Reunification Day) and Friday 01/05 (Labour
  Day) are public holidays, 02–03/05 a weekend; 27/04 was the day off for the Hùng Kings' anniversary.
* biên bản vi phạm: 2 working days from discovery (NĐ 118/2021 Art.12 cl.2) → Mon 04/05 is the 1st, Tue
  05/05 the 2nd: due 05/05. The warning comes 2 working days before: Mon 04/05 is one, Wed 29/04 the
  second → warned on 29/04. Not drawn up by 05/05 → escalated on Wed 06/05.
* the record is drawn up late, Thu 07/05 → the decision is due 07 *working* days later (Luật XLVPHC Art.66 as
  amended 2020; the record's day is not counted): Fri 08 (1), Mon 11 (2), Tue 12 (3), Wed 13 (4), Thu 14 (5),
  Fri 15 (6), Mon 18/05 (7). Warned 2 working days before: Fri 15 is one, Thu 14/05 the second; not issued
  by Mon 18/05 → escalated Tue 19/05.
* the act (12 workers × 1–3 million đ under Art.22 cl.2) has a range whose maximum reaches the Art.61 threshold,
  so the record gives the right to explain: a hearing may be asked for within 02 working days (Fri 08, Mon
  11/05 → 11/05), a written explanation sent within 05 (08, 11, 12, 13, Thu 14/05 → 14/05). These are the
  violator's rights: never warned nor escalated, closed by the first sweep after they pass (12/05, 15/05).
* the decision is issued Wed 20/05 → sent within 03 working days (Art.70 as amended 2025): Thu 21 (1), Fri 22 (2),
  Mon 25/05 (3); warned Fri 22 then Thu 21 → on Thu 21/05; not sent by 25/05 → escalated Tue 26/05. Comply within
  10 days: Sat 30/05 → the next working day, Mon 01/06; warned 2 working days before: Fri 29 (1), Thu 28/05 (2).
* thời hiệu: 1 year from the violation → 29/04/2027; met when the decision is issued.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import select

from models import (AuditEvent, Deadline, DeadlineKind, DeadlineStatus, Establishment, Inspection, Notification, Person,
                    PersonRole, Violation)
from services.stages import deadline_changes, deadlines
from services.rules import deadline_rules
from services.db import session_scope
from services.errors import Conflict, Refused
from services.intake import logic
from services.rules import competence
from services.intake.schemas import FindingsSubmission
from services.settings import Settings
from tests.cases import INSPECTOR, approve_and_draw_up, d, decide, person_by_code, visit
from tests.factories import create_scheduled_campaign, team_inspections

VISIT = date(2026, 4, 29)


@pytest.fixture
def case(settings: Settings) -> int:
    """One inspection visited on 29/04/2026 whose findings fail one item (12 workers without health checks)."""
    create_scheduled_campaign(settings, code="HAN-01")
    inspection_id = team_inspections(settings)[INSPECTOR][0]
    # Art.22 cl.2: periodic health examinations, per worker
    visit(settings, inspection_id, on=VISIT, client_id="han01-0001",
          fails={"YT-01": {"workers_affected": 12, "note": "12 người lao động chưa được khám sức khỏe định kỳ."}})
    return inspection_id


def sweep_days(settings: Settings, first: date, last: date) -> None:
    day = first
    while day <= last:
        deadlines.sweep(settings, day)
        day += timedelta(days=1)


def events(settings: Settings, action: str) -> list[tuple[str, str]]:
    """(deadline kind, the day it happened) for every audit event of ``action`` on deadlines."""
    with session_scope(settings) as session:
        rows = session.exec(select(AuditEvent, Deadline).join(Deadline, Deadline.id == AuditEvent.entity_id)
                            .where(AuditEvent.entity_type == "deadline", AuditEvent.action == action)
                            .order_by(AuditEvent.id)).all()
        return [(str(dl.kind), e.data["on"]) for e, dl in rows]


def deadline(settings: Settings, kind: DeadlineKind, inspection_id: int) -> Deadline:
    with session_scope(settings) as session:
        return session.exec(select(Deadline).where(Deadline.kind == kind, Deadline.subject_key == f"inspection:{inspection_id}")).one()


def test_a_case_walked_day_by_day_is_warned_and_escalated_on_the_right_days(settings: Settings, case: int) -> None:
    sweep_days(settings, VISIT, d(6, 5))
    record = deadline(settings, DeadlineKind.VIOLATION_RECORD, case)
    assert (record.starts_on, record.due_on) == (VISIT, d(5, 5))
    assert "02 ngày làm việc" in record.basis_vi and "Nghị định 118/2021/NĐ-CP" in record.basis_vi
    limitation = deadline(settings, DeadlineKind.LIMITATION, case)
    assert limitation.due_on == d(29, 4, 2027)
    assert events(settings, "deadline_warning") == [("violation_record", "2026-04-29")]
    assert events(settings, "deadline_escalated") == [("violation_record", "2026-05-06")]

    approve_and_draw_up(settings, case, d(7, 5))
    sweep_days(settings, d(7, 5), d(19, 5))
    record = deadline(settings, DeadlineKind.VIOLATION_RECORD, case)
    assert (record.status, record.met_on) == (DeadlineStatus.MET, d(7, 5))  # late, and the escalation stays on record
    decision = deadline(settings, DeadlineKind.SANCTION_DECISION, case)
    assert (decision.starts_on, decision.due_on) == (d(7, 5), d(18, 5))
    assert decision.basis_vi == ("Ra quyết định xử phạt trong 07 ngày làm việc kể từ ngày lập biên bản vi phạm hành "
                                 "chính — Điều 66 Luật Xử lý vi phạm hành chính (sửa đổi, bổ sung năm 2020)")
    hearing, written = (deadline(settings, k, case) for k in (DeadlineKind.EXPLAIN_HEARING, DeadlineKind.EXPLAIN_WRITTEN))
    assert (hearing.starts_on, hearing.due_on, hearing.status, hearing.met_on) == (d(7, 5), d(11, 5), DeadlineStatus.MET,
                                                                                  d(11, 5))
    assert (written.due_on, written.status, written.met_on) == (d(14, 5), DeadlineStatus.MET, d(14, 5))
    assert "Điều 61 Luật Xử lý vi phạm hành chính" in written.basis_vi
    assert (hearing.warned_on, hearing.escalated_on, written.warned_on, written.escalated_on) == (None,) * 4
    assert events(settings, "deadline_warning")[1:] == [("sanction_decision", "2026-05-14")]
    assert events(settings, "deadline_escalated")[1:] == [("sanction_decision", "2026-05-19")]
    with session_scope(settings) as session:
        title = competence.required_signer(session, session.get(Inspection, case))
        told = session.exec(select(Person.role, Person.title).join(Notification, Notification.recipient_ref == Person.code)
                            .where(Notification.kind == "deadline_overdue",
                                   Notification.subject.startswith("Quá hạn từ ngày 19/05/2026"))).all()  # type: ignore[union-attr]
    assert (PersonRole.OFFICIAL, title) in told and any(role == PersonRole.LEAD for role, _ in told)

    # the written explanation sent on the last day, 14/05, is recorded on 19/05: the decision's period becomes 1 month
    # (to Mon 08/06), so the decision of 20/05 is within it (after 18/05 it would be refused: Art.65 cl.1 c)
    with session_scope(settings) as session:
        deadline_changes.record_explanation(session, case, actor="SNV-LEAD", on=d(14, 5), kind="written",
                                            reason="Văn bản giải trình của công ty nhận ngày 14/05/2026")
    decide(settings, case, d(20, 5))
    sweep_days(settings, d(20, 5), d(26, 5))
    assert deadline(settings, DeadlineKind.SANCTION_DECISION, case).met_on == d(20, 5)
    assert deadline(settings, DeadlineKind.LIMITATION, case).status == DeadlineStatus.MET
    send = deadline(settings, DeadlineKind.SEND_DECISION, case)
    assert (send.starts_on, send.due_on, send.status) == (d(20, 5), d(25, 5), DeadlineStatus.OPEN)
    assert "03 ngày làm việc" in send.basis_vi and "Điều 70 Luật Xử lý vi phạm hành chính (sửa đổi, bổ sung năm 2025)" \
        in send.basis_vi
    assert events(settings, "deadline_warning")[2:] == [("send_decision", "2026-05-21")]
    assert events(settings, "deadline_escalated")[2:] == [("send_decision", "2026-05-26")]
    with session_scope(settings) as session:
        subjects = session.exec(select(Notification.subject).where(Notification.kind == "deadline_overdue")).all()
    assert any(s.startswith("Quá hạn từ ngày 26/05/2026 — Gửi quyết định xử phạt để thi hành: ") for s in subjects)

    # sent late, by registered post on 27/05: the way it was sent is named in the recorded reason
    with session_scope(settings) as session:
        sent = deadline_changes.mark_met(session, send.id, d(27, 5), actor="SNV-LEAD",
                                  reason="Phiếu gửi bưu chính bảo đảm số RR123456789VN")
        assert sent.met_on == d(27, 5)
        reason = session.exec(select(AuditEvent.reason).where(AuditEvent.entity_type == "deadline",
                                                              AuditEvent.entity_id == send.id,
                                                              AuditEvent.action == "deadline_status")).one()
    assert reason == ("Đã gửi quyết định xử phạt ngày 27/05/2026: gửi qua dịch vụ bưu chính bằng hình thức bảo đảm — "
                      "Phiếu gửi bưu chính bảo đảm số RR123456789VN")
    sweep_days(settings, d(27, 5), d(28, 5))
    comply = deadline(settings, DeadlineKind.COMPLY, case)
    assert (comply.starts_on, comply.due_on) == (d(20, 5), d(1, 6))
    assert events(settings, "deadline_warning")[3:] == [("comply", "2026-05-28")]

    # the lead confirms payment on 29/05: nothing is escalated for it afterwards, nor again for the sending
    with session_scope(settings) as session:
        deadline_changes.mark_met(session, comply.id, d(29, 5), actor="SNV-LEAD",
                                  reason="Biên lai nộp phạt số 0012345 ngày 29/05/2026")
    sweep_days(settings, d(29, 5), d(10, 6))
    assert [k for k, _ in events(settings, "deadline_escalated")] == ["violation_record", "sanction_decision", "send_decision"]


def test_warnings_and_escalations_reach_the_lead_once_each(settings: Settings, case: int) -> None:
    for _ in range(3):  # the sweeper may run several times a day (retries, a manual run)
        deadlines.sweep(settings, VISIT)
        deadlines.sweep(settings, d(6, 5))
    with session_scope(settings) as session:
        sent = session.exec(select(Notification.kind, Notification.recipient_ref, Notification.subject)
                            .where(Notification.kind.in_(["deadline_warning", "deadline_overdue"]))  # type: ignore[attr-defined]
                            .order_by(Notification.id)).all()
        leads = {p.code for p in session.exec(select(Person).where(Person.role == PersonRole.LEAD))}
        officials = {p.code for p in session.exec(select(Person).where(Person.role == PersonRole.OFFICIAL))}
    warnings = [s for s in sent if s[0] == "deadline_warning"]
    overdue = [s for s in sent if s[0] == "deadline_overdue"]
    assert warnings and {r for _, r, _ in warnings} <= leads
    assert all(subject.startswith("Sắp đến hạn ngày 05/05/2026 — Lập biên bản vi phạm hành chính: ") for _, _, subject in warnings)
    # no violation record yet, so no official is competent for the file: the escalation goes to the lead
    assert {r for _, r, _ in overdue} & leads and not {r for _, r, _ in overdue} & officials
    assert all(subject.startswith("Quá hạn từ ngày 06/05/2026 — Lập biên bản vi phạm hành chính: ") for _, _, subject in overdue)
    with session_scope(settings) as session:
        body = session.exec(select(Notification.body).where(Notification.kind == "deadline_overdue")).first()
        establishment = session.get(Establishment, session.get(Inspection, case).establishment_id)
    assert f"{establishment.name} (MST {establishment.tax_code})" in body and "Hạn cuối: 05/05/2026" in body
    assert len(events(settings, "deadline_warning")) == 1 and len(events(settings, "deadline_escalated")) == 1
    with session_scope(settings) as session:
        assert len(session.exec(select(Deadline)).all()) == 2  # record and limitation, once each


def test_a_corrected_version_without_violations_cancels_the_record_deadline(settings: Settings, case: int) -> None:
    deadlines.sweep(settings, VISIT)
    with session_scope(settings) as session:
        inspection = session.get(Inspection, case)
        findings = [{"item_code": i.code, "result": "pass"} for i in logic.checklist_for(session, inspection)]
        logic.submit_findings(session, person_by_code(session, INSPECTOR), case,
                              FindingsSubmission(client_submission_id="han01-0002", findings=findings,
                                                 reason="Đã xuất trình sổ khám sức khỏe định kỳ"))
    report = deadlines.sweep(settings, d(4, 5))
    assert report.cancelled == 2
    assert deadline(settings, DeadlineKind.VIOLATION_RECORD, case).status == DeadlineStatus.CANCELLED
    assert deadlines.sweep(settings, d(6, 5)).escalated == 0


def test_explanation_complexity_and_the_one_extension_move_the_decision_deadline(settings: Settings, case: int) -> None:
    deadlines.sweep(settings, VISIT)
    with session_scope(settings) as session:
        moved = deadline_changes.declare_complex(session, case, DeadlineKind.VIOLATION_RECORD, actor="SNV-LEAD",
                                          reason="Cần xác minh hồ sơ khám sức khỏe tại cơ sở y tế")
        # 5 working days from Wed 29/04: 04, 05, 06, 07, 08/05
        assert moved.due_on == d(8, 5) and "(vụ việc phức tạp)" in moved.basis_vi
    approve_and_draw_up(settings, case, d(30, 4) + timedelta(days=7))  # Thu 07/05
    deadlines.sweep(settings, d(7, 5))
    assert deadline(settings, DeadlineKind.EXPLAIN_WRITTEN, case).status == DeadlineStatus.OPEN
    with session_scope(settings) as session:
        explained = deadline_changes.record_explanation(session, case, actor="SNV-LEAD", on=d(8, 5), kind="hearing",
                                                 reason="Công ty gửi văn bản đề nghị giải trình ngày 08/05/2026")
        assert explained.due_on == d(8, 6)  # 1 month from 07/05 is Sun 07/06 → the next working day, Mon 08/06
    for kind in (DeadlineKind.EXPLAIN_HEARING, DeadlineKind.EXPLAIN_WRITTEN):  # the right was exercised on 08/05
        closed = deadline(settings, kind, case)
        assert (closed.status, closed.met_on) == (DeadlineStatus.MET, d(8, 5))
    with session_scope(settings) as session:
        extended = deadline_changes.extend_decision(session, case, 1, actor="SNV-LEAD", reason="Vụ việc đặc biệt phức tạp",
                                             on=d(1, 6))
        assert extended.due_on == d(7, 7)  # 07/05 + 2 months = Tue 07/07
        assert extended.warned_on is None
    with session_scope(settings) as session, pytest.raises(Conflict, match="đã được gia hạn một lần"):
        deadline_changes.extend_decision(session, case, 1, actor="SNV-LEAD", reason="lần nữa", on=d(1, 6))
    with session_scope(settings) as session:
        changes = session.exec(select(AuditEvent).where(AuditEvent.action == "deadline_changed").order_by(AuditEvent.id)).all()
        assert [(e.actor, e.data["due_after"]) for e in changes] == [
            ("SNV-LEAD", "2026-05-08"), ("SNV-LEAD", "2026-06-08"), ("SNV-LEAD", "2026-07-07")]


def test_a_moved_deadline_is_warned_and_escalated_again_for_its_new_date(settings: Settings, case: int) -> None:
    # the record on the day of the visit, Wed 29/04: 30/04–03/05 are off, so the 07 working days are Mon 04/05 (1),
    # 05 (2), 06 (3), 07 (4), Fri 08 (5), Mon 11 (6), Tue 12/05 (7); warned Mon 11 then Fri 08 → on 08/05
    approve_and_draw_up(settings, case, VISIT)
    sweep_days(settings, VISIT, d(13, 5))
    decision = [e for e in events(settings, "deadline_escalated") if e[0] == "sanction_decision"]
    assert decision == [("sanction_decision", "2026-05-13")]
    with session_scope(settings) as session:  # the company explained on 05/05, within its 05 working days (to Fri 08/05),
        # recorded on 14/05: 1 month from 29/04, Fri 29/05
        assert deadline_changes.record_explanation(session, case, actor="SNV-LEAD", reason="Đơn giải trình ngày 05/05/2026",
                                                   kind="written", on=d(5, 5)).due_on == d(29, 5)
    sweep_days(settings, d(14, 5), d(1, 6))
    assert [e for e in events(settings, "deadline_warning") if e[0] == "sanction_decision"] == [
        ("sanction_decision", "2026-05-08"), ("sanction_decision", "2026-05-27")]  # 2 working days before each date
    assert [e for e in events(settings, "deadline_escalated") if e[0] == "sanction_decision"] == [
        ("sanction_decision", "2026-05-13"), ("sanction_decision", "2026-05-30")]
    with session_scope(settings) as session:
        subjects = session.exec(select(Notification.subject).where(Notification.kind == "deadline_overdue")).all()
    assert {s[:26] for s in subjects} >= {"Quá hạn từ ngày 13/05/2026", "Quá hạn từ ngày 30/05/2026"}


def test_people_cannot_move_a_deadline_without_a_reason_or_beyond_the_law(settings: Settings, case: int) -> None:
    deadlines.sweep(settings, VISIT)
    approve_and_draw_up(settings, case, VISIT)
    deadlines.sweep(settings, VISIT)
    with session_scope(settings) as session, pytest.raises(Refused) as no_reason:
        deadline_changes.record_explanation(session, case, actor="SNV-LEAD", reason="  ", kind="written")
    assert no_reason.value.ids["errors"] == ["reason: phải ghi lý do thay đổi thời hạn"]
    with session_scope(settings) as session, pytest.raises(Refused) as too_long:
        deadline_changes.extend_decision(session, case, 2, actor="SNV-LEAD", reason="Phức tạp", on=d(13, 5))
    assert too_long.value.ids["errors"] == [  # the 07-working-day period (due 12/05), asked for too long and too late
        "months: chỉ được gia hạn từ 01 đến 01 tháng",
        "months: chỉ gia hạn thời hạn 01 tháng (vụ việc phức tạp hoặc có giải trình), không gia hạn thời hạn 07 ngày làm việc",
        "on: thời hạn đã hết ngày 12/05/2026; không thể gia hạn sau khi hết hạn"]
    with session_scope(settings) as session, pytest.raises(Conflict, match="tự đóng"):
        deadline_changes.mark_met(session, deadline(settings, DeadlineKind.SANCTION_DECISION, case).id, VISIT,
                           actor="SNV-LEAD", reason="x")
    with session_scope(settings) as session, pytest.raises(Conflict, match="quyền của người vi phạm"):
        deadline_changes.mark_met(session, deadline(settings, DeadlineKind.EXPLAIN_HEARING, case).id, VISIT,
                           actor="SNV-LEAD", reason="x")


@pytest.mark.parametrize(("start", "months", "expected"), [
    (date(2026, 1, 31), 1, date(2026, 2, 28)), (date(2028, 1, 31), 1, date(2028, 2, 29)),
    (date(2026, 12, 15), 1, date(2027, 1, 15)), (date(2026, 4, 29), 12, date(2027, 4, 29))])
def test_a_month_ends_on_the_same_day_or_the_last_day_of_the_month(start: date, months: int, expected: date) -> None:
    assert deadline_rules.add_months(start, months) == expected


def test_the_flow_sweeps_as_of_the_given_day(settings: Settings, case: int) -> None:
    from flows import deadline_sweeper
    from services import wiring

    with wiring.use(wiring.Wiring(settings)):  # the flow reads the test's wiring, as a worker reads its environment's
        result: dict[str, Any] = deadline_sweeper.sweep.fn(d(6, 5))
    assert result["today"] == "2026-05-06" and result["created"] == 2 and result["escalated"] == 1
    assert result["overdue"] == [f"violation_record:inspection:{case}"]


def test_the_lead_moves_and_closes_deadlines_from_the_command_line(settings: Settings, case: int,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from services.entry.cli import deadlines as cli_deadlines
    from services.entry.cli.app import app
    from services.settings import get_settings

    monkeypatch.setenv("KIEMTRA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KIEMTRA_ENVIRONMENT", "test")
    monkeypatch.setattr(cli_deadlines.console, "width", 200)
    get_settings.cache_clear()
    runner = CliRunner()
    deadlines.sweep(settings, VISIT)
    done = runner.invoke(app, ["deadlines", "complex", str(case), "--kind", "violation_record", "--reason", "Cần xác minh"])
    assert done.exit_code == 0, done.output
    assert "Lập biên bản vi phạm, cuộc kiểm tra" in done.output and "hạn cuối 08/05/2026" in done.output
    approve_and_draw_up(settings, case, d(7, 5))
    # the record of Thu 07/05 gives the right to explain until Thu 14/05 (05 working days): decided on Fri 15/05
    decide(settings, case, d(15, 5))
    deadlines.sweep(settings, d(15, 5))
    comply = deadline(settings, DeadlineKind.COMPLY, case)
    paid = runner.invoke(app, ["deadlines", "met", str(comply.id), "--on", "2026-05-20", "--reason", "Biên lai số 0012"])
    assert paid.exit_code == 0 and "(đã thực hiện)" in paid.output
    assert deadline(settings, DeadlineKind.COMPLY, case).met_on == d(20, 5)
    refused = [runner.invoke(app, ["deadlines", "met", str(comply.id), "--on", "20/05/2026", "--reason", "x"]),
               runner.invoke(app, ["deadlines", "complex", str(case), "--kind", "comply", "--reason", "x"]),
               runner.invoke(app, ["deadlines", "explained", str(case), "--kind", "written", "--reason", " "])]
    assert all(r.exit_code == 1 for r in refused)
    assert "Ngày không hợp lệ (cần dạng YYYY-MM-DD): on: 20/05/2026" in refused[0].output
    assert "Loại thời hạn không hợp lệ: kind comply" in refused[1].output
    assert "đã đóng" in refused[2].output  # the decision was issued: its deadline closed

    # sending the decision (issued Fri 15/05: 03 working days → Mon 18 (1), Tue 19 (2), Wed 20/05 (3)) is confirmed the
    # same way, naming how
    send = deadline(settings, DeadlineKind.SEND_DECISION, case)
    assert send.due_on == d(20, 5)
    unnamed = runner.invoke(app, ["deadlines", "met", str(send.id), "--on", "2026-05-18", "--reason", "Đã gửi"])
    assert unnamed.exit_code == 1 and "sent_by: phải ghi một cách gửi quyết định" in unnamed.output
    handed = runner.invoke(app, ["deadlines", "met", str(send.id), "--on", "2026-05-18",
                                 "--reason", "Giao trực tiếp cho giám đốc công ty, có ký nhận"])
    assert handed.exit_code == 0, handed.output
    assert "Gửi quyết định xử phạt, cuộc kiểm tra" in handed.output and "(đã thực hiện)" in handed.output
    listed = runner.invoke(app, ["deadlines", "list", "--all"])
    assert listed.exit_code == 0, listed.output
    assert "Gửi quyết định xử phạt" in listed.output and "Hạn gửi văn bản giải trình" in listed.output


def test_the_sweep_creates_the_new_kinds_once_and_explanations_only_where_the_law_gives_the_right(
        settings: Settings) -> None:
    create_scheduled_campaign(settings, code="HAN-02")
    first, second = team_inspections(settings)[INSPECTOR][:2]
    visit(settings, first, on=VISIT, client_id="han02-0001",  # 12 workers × up to 3 million đ: right to explain
          fails={"YT-01": {"workers_affected": 12}})
    visit(settings, second, on=VISIT, client_id="han02-0002",  # Art.20 cl.2: at most 3 (organisation 6) million đ
          fails={"LD-03": {}})
    for inspection_id in (first, second):
        approve_and_draw_up(settings, inspection_id, d(7, 5))
    decide(settings, first, d(15, 5))  # its right to explain runs until Thu 14/05
    decide(settings, second, d(12, 5))  # no right to explain: decided within the 07 working days
    for _ in range(2):
        deadlines.sweep(settings, d(15, 5))
    assert deadlines.create_from_state(settings) == 0
    with session_scope(settings) as session:
        kinds = {i: sorted(str(k) for k in session.exec(select(Deadline.kind).where(Deadline.inspection_id == i)).all())
                 for i in (first, second)}
        ranges = {i: [v.range_max for v in session.exec(select(Violation).where(Violation.inspection_id == i))]
                  for i in (first, second)}
    assert max(ranges[first]) >= 30_000_000 and max(ranges[second]) < 15_000_000  # the premise of the test
    both = ["comply", "limitation", "sanction_decision", "send_decision", "violation_record"]
    assert [k for k in kinds[first] if k != "remedial"] == sorted([*both, "explain_hearing", "explain_written"])
    assert [k for k in kinds[second] if k != "remedial"] == both
    # Tue 12/05 is the decision's day: 03 working days → Wed 13 (1), Thu 14 (2), Fri 15/05 (3)
    assert deadline(settings, DeadlineKind.SEND_DECISION, second).due_on == d(15, 5)
    # the record of Thu 07/05: decision by Mon 18/05 (07 working days), met when issued on 12/05
    decided = deadline(settings, DeadlineKind.SANCTION_DECISION, second)
    assert (decided.due_on, decided.status, decided.met_on) == (d(18, 5), DeadlineStatus.MET, d(12, 5))
