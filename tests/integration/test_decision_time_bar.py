"""No sanction decision after its time limit or the limitation (Luật XLVPHC Art.65 cl.1 c), on every path: the API
(422 on ``decided_on``, as for the explanation window), the console's decision screen, the ``decide-sanctions`` stage,
and the console's inbox and deadlines board. Nothing is stored on a refusal.

The dates, worked out by hand (the calendar of tests/integration/test_deadlines.py):

* visit Wed 29/04/2026 (discovery); 30/04, 01/05 holidays, 02–03/05 a weekend; the record drawn up Thu 07/05;
* the decision within 07 working days: Fri 08 (1), Mon 11 (2), 12 (3), 13 (4), 14 (5), Fri 15 (6), Mon 18/05 (7);
  the act (12 workers under NĐ 12/2022 Art.22 cl.2) gives the right to explain in writing until Thu 14/05;
* explained: 1 month from 07/05 is Sun 07/06 → Mon 08/06; the one extension of 1 month: Tue 07/07;
* the limitation case: visit Tue 02/12/2025, 12 months → 02/12/2026; the record drawn up late on Tue 01/12/2026.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from models import AuditEvent, Document, DocumentCounter, DocumentType, Inspection, InspectionStatus, Violation
from services.db import session_scope
from services.entry.http.console.base import COOKIE
from services.entry.http.console.deadline_board import board
from services.entry.http.console.inbox_queries import files_to_decide
from services.entry.http.web_form import csrf_token
from services.errors import IntakeError
from services.intake import decisions
from services.intake.decision_issue import issue_now
from services.intake.schemas import DecisionIn
from services.rules.calendar import today_in_vietnam
from services.settings import Settings
from services.stages import deadline_changes, deadlines, sanctions
from tests.cases import approve_and_draw_up, competent_official, d, decide, visit
from tests.console_support import console_login, serving
from tests.factories import create_scheduled_campaign, intake_http, team_inspections

CODE = "THB-01"
LAW = "khoản 1 Điều 65 Luật Xử lý vi phạm hành chính"
REMEDIES = "biện pháp khắc phục hậu quả"


@pytest.fixture
def world(settings: Settings) -> tuple[dict[str, str], int]:
    """One file: visited 29/04/2026 (12 workers without health checks), its record drawn up on Thu 07/05."""
    tokens = create_scheduled_campaign(settings, code=CODE)
    inspection_id = team_inspections(settings)["SNV-TT01"][0]
    visit(settings, inspection_id, on=d(29, 4), client_id="thb01-0001",
          fails={"YT-01": {"workers_affected": 12, "note": "12 người lao động chưa được khám sức khỏe định kỳ."}})
    approve_and_draw_up(settings, inspection_id, d(7, 5))
    return tokens, inspection_id


def stored(settings: Settings) -> dict[str, Any]:
    """What a decision would change: the acts' decision fields, documents, number counters, audit rows."""
    with session_scope(settings) as session:
        return {"acts": [(v.id, v.final_amount, v.decided_on, v.decided_by_id)
                         for v in session.exec(select(Violation).order_by(col(Violation.id))).all()],
                "documents": [(x.doc_type, x.number) for x in session.exec(select(Document).order_by(col(Document.id)))],
                "counters": [(c.issuer_code, c.doc_type, c.year, c.last_seq) for c in session.exec(select(DocumentCounter))],
                "audit": [(a.action, a.entity_type, a.entity_id) for a in session.exec(select(AuditEvent)
                                                                                   .order_by(col(AuditEvent.id))).all()]}


def official_and_amounts(settings: Settings, inspection_id: int) -> tuple[str, dict[int, int]]:
    with session_scope(settings) as session:
        official = competent_official(session, inspection_id)
        amounts = {v.id or 0: v.proposed_amount
                   for v in session.exec(select(Violation).where(Violation.inspection_id == inspection_id)).all()}
        return official.code, amounts


def record(settings: Settings, inspection_id: int, on: date) -> None:
    """The competent official's decision through the function the API and the console call."""
    _, amounts = official_and_amounts(settings, inspection_id)
    with session_scope(settings) as session:
        official = competent_official(session, inspection_id)
        decisions.record_decision(session, official, inspection_id, DecisionIn(amounts=amounts, decided_on=on))


def refused(settings: Settings, inspection_id: int, on: date) -> str:
    before = stored(settings)
    with pytest.raises(IntakeError) as caught:
        record(settings, inspection_id, on)
    assert stored(settings) == before  # nothing stored: no amount, no document, no number, no audit row
    first = caught.value.field_errors()[0]
    assert first.startswith("decided_on: Đã hết thời hạn ra quyết định xử phạt") and LAW in first and REMEDIES in first
    return first


WRITTEN_ON = d(12, 5)  # within the 05 working days of the record of 07/05


def explained(settings: Settings, inspection_id: int, on: date = WRITTEN_ON) -> None:
    """A written explanation received ``on`` (within the 05 working days of the record of 07/05: to 14/05)."""
    deadlines.create_from_state(settings)
    with session_scope(settings) as session:
        deadline_changes.record_explanation(session, inspection_id, actor="SNV-LEAD", on=on, kind="written",
                                            reason=f"Công ty gửi văn bản giải trình ngày {on:%d/%m/%Y}")


def test_the_api_refuses_after_the_seven_working_days_and_allows_the_last_day(
        settings: Settings, world: tuple[dict[str, str], int]) -> None:
    tokens, inspection_id = world
    code, amounts = official_and_amounts(settings, inspection_id)
    body = {"amounts": {str(k): v for k, v in amounts.items()}}
    before = stored(settings)
    with intake_http(settings) as http:
        headers = {"Authorization": f"Bearer {tokens[code]}"}
        late = http.post(f"/api/inspections/{inspection_id}/decision", headers=headers,
                         json={**body, "decided_on": "2026-05-19"})
        assert late.status_code == 422, late.text
        reason = late.json()["errors"][0]
        assert reason.startswith("decided_on: Đã hết thời hạn ra quyết định xử phạt")
        assert LAW in reason and "18/05/2026" in reason and "07 ngày làm việc" in reason and REMEDIES in reason
        assert stored(settings) == before
        on_time = http.post(f"/api/inspections/{inspection_id}/decision", headers=headers,
                            json={**body, "decided_on": "2026-05-18"})
        assert on_time.status_code == 201, on_time.text
        assert on_time.json()["issue"]["outcome"] == "issued"


def test_an_explanation_moves_the_limit_to_one_month(settings: Settings, world: tuple[dict[str, str], int]) -> None:
    _, inspection_id = world
    explained(settings, inspection_id)
    assert "08/06/2026" in refused(settings, inspection_id, d(9, 6))
    decide(settings, inspection_id, d(8, 6))  # the last day: issued


def test_the_one_extension_moves_it_once_more(settings: Settings, world: tuple[dict[str, str], int]) -> None:
    _, inspection_id = world
    explained(settings, inspection_id)
    with session_scope(settings) as session:
        deadline_changes.extend_decision(session, inspection_id, 1, actor="SNV-LEAD", reason="Vụ việc đặc biệt phức tạp",
                                         on=d(1, 6))
    reason = refused(settings, inspection_id, d(8, 7))
    assert "07/07/2026" in reason and "gia hạn 01 tháng" in reason
    decide(settings, inspection_id, d(7, 7))


def test_the_limitation_period_bars_the_decision_whatever_the_decision_period(settings: Settings) -> None:
    create_scheduled_campaign(settings, code=CODE)
    inspection_id = team_inspections(settings)["SNV-TT01"][0]
    visit(settings, inspection_id, on=d(2, 12, 2025), client_id="thb01-0002")
    approve_and_draw_up(settings, inspection_id, d(1, 12))  # drawn up a year late: its own period runs to 2027
    explained(settings, inspection_id, d(2, 12))  # within the 05 working days of the record of Tue 01/12
    reason = refused(settings, inspection_id, d(3, 12))
    assert "thời hiệu xử phạt vi phạm hành chính đã hết ngày 02/12/2026" in reason
    assert "thời hạn ra quyết định xử phạt đã hết" not in reason
    decide(settings, inspection_id, d(2, 12))  # the last day of the limitation


def test_the_stage_never_issues_a_late_decision_and_records_why(settings: Settings,
                                                                  world: tuple[dict[str, str], int]) -> None:
    _, inspection_id = world
    # amounts stored with a late date (as before this rule existed): the stage must refuse, not issue
    code, amounts = official_and_amounts(settings, inspection_id)
    with session_scope(settings) as session:
        official = competent_official(session, inspection_id)
        for v in session.exec(select(Violation).where(Violation.inspection_id == inspection_id)).all():
            v.final_amount, v.decided_on, v.decided_by_id = amounts[v.id or 0], d(19, 5), official.id
            session.add(v)
    before = stored(settings)
    result = sanctions.decide_sanctions(settings, CODE, [inspection_id])
    assert result.failed == [inspection_id] and result.done == 0
    after = stored(settings)
    assert after["documents"] == before["documents"] and after["counters"] == before["counters"]
    assert [a for a in after["audit"] if a not in before["audit"]] == [("stage_failed", "inspection", inspection_id)]
    with session_scope(settings) as session:
        inspection = session.get(Inspection, inspection_id)
        assert inspection is not None and inspection.status == InspectionStatus.RECORDS_ISSUED
        failure = session.exec(select(AuditEvent).where(AuditEvent.action == "stage_failed")).one()
        assert failure.reason.startswith("decide-sanctions: Đã hết thời hạn ra quyết định xử phạt") and LAW in failure.reason
    issue = issue_now(settings, inspection_id, actor=code)  # what the API and the console answer for such a file
    assert issue.outcome == "waiting" and LAW in (issue.waiting_reason or "") and issue.issuable_from is None


def test_the_console_shows_the_bar_before_anything_is_filled_and_refuses_the_post(
        settings: Settings, world: tuple[dict[str, str], int]) -> None:
    tokens, inspection_id = world
    code, amounts = official_and_amounts(settings, inspection_id)
    before = stored(settings)
    with serving(settings) as url, httpx.Client(timeout=60) as client:
        console_login(client, url, code, tokens[code])
        page = client.get(f"{url}/console/inspections/{inspection_id}/decision")
        assert page.status_code == 200
        html = page.text
        assert 'id="het-thoi-han"' in html and "Đã hết thời hạn ra quyết định xử phạt" in html and LAW in html
        assert REMEDIES in html and 'id="nut-quyet-dinh"' not in html and 'id="quyet-dinh"' not in html
        # a form kept open from before the limit passed is refused all the same
        form = {"csrf": csrf_token(client.cookies[COOKIE], f"console|decision:{inspection_id}"),
                "ngay": today_in_vietnam().isoformat(), "hanh_dong": "quyet_dinh",
                **{f"so_tien.{k}": str(v) for k, v in amounts.items()}, **{f"de_xuat.{k}": str(v) for k, v in amounts.items()}}
        sent = client.post(f"{url}/console/inspections/{inspection_id}/decision", data=form)
        assert sent.status_code == 422 and 'id="het-thoi-han"' in sent.text and 'id="nut-quyet-dinh"' not in sent.text
        inbox = client.get(f"{url}/console/")
        assert "Đã hết thời hạn ra quyết định xử phạt" in inbox.text and "chờ quyết định</span>" not in inbox.text
    after = stored(settings)
    assert (after["acts"], after["documents"], after["counters"]) == (before["acts"], before["documents"], before["counters"])
    assert [a for a in after["audit"] if a not in before["audit"]
            and not a[0].startswith(("web_session", "login", "token"))] == []


def test_the_inbox_and_the_board_show_the_file_as_time_barred(settings: Settings,
                                                              world: tuple[dict[str, str], int]) -> None:
    _, inspection_id = world
    deadlines.create_from_state(settings)
    with session_scope(settings) as session:
        official = competent_official(session, inspection_id)
        in_time = files_to_decide(session, official, d(18, 5)).items
        late = files_to_decide(session, official, d(19, 5)).items
        assert [i.badge for i in in_time] == ["chờ quyết định"]
        assert [i.badge for i in late] == ["Đã hết thời hạn ra quyết định xử phạt"] and LAW in late[0].detail
        rows = [r for _, _, rows in board(session, d(19, 5), CODE).groups for r in rows if r.inspection_id == inspection_id]
        decision = next(r for r in rows if r.kind == "sanction_decision")
        assert decision.what_vi == "Đã hết thời hạn ra quyết định xử phạt" and "18/05/2026" in decision.barred_vi
        on_time = [r for _, _, rows in board(session, d(18, 5), CODE).groups for r in rows if r.kind == "sanction_decision"]
        assert [r.what_vi for r in on_time] == ["Ra quyết định xử phạt"] and on_time[0].barred_vi == ""
    assert DocumentType.SANCTION_DECISION not in {x[0] for x in stored(settings)["documents"]}
