"""The engine's own history in selection (Chỉ thị 20/CT-TTg and past violations), on a real migrated database.

Campaign A visits its establishments in March 2026 (one is fined); campaign B, planned from 2026-09-01, must not
propose them again, a surprise campaign may take one with a recorded complaint, the lead's add without a trigger is
refused naming A's visit, and the past-violations factor counts A's sanction with its date.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models import (Campaign, CampaignKind, Establishment, Finding, Inspection, InspectionStatus, Person, Selection,
                    SelectionKind, Submission, Violation)
from services import audit
from services.db import session_scope
from services.errors import Refused
from services.rules.risk import factor_contributions, is_eligible, past_violations_detail_vi, policy_for
from services.rules.risk_sql import eligible, score_expression
from services.settings import Settings
from services.stages import approval, selection
from services.stages.triggers import record_trigger
from tests.factories import (approve, create_campaign, create_scheduled_campaign, intake_http,
                             team_inspections)

B_START, B_END = date(2026, 9, 1), date(2026, 11, 30)
# scheduled -> on site -> ... -> sanctioned, as the stages move an inspection (the state machine checks each step)
WALK = [InspectionStatus.FINDINGS_SUBMITTED, InspectionStatus.FINDINGS_APPROVED, InspectionStatus.RECORDS_ISSUED,
        InspectionStatus.SANCTIONED]


def _table() -> sa.Table:
    return Establishment.__table__  # type: ignore[attr-defined,no-any-return]


def _inspections(settings: Settings, code: str) -> list[Inspection]:
    with session_scope(settings) as session:
        return list(session.exec(select(Inspection).join(Campaign, Inspection.campaign_id == Campaign.id)
                                 .where(Campaign.code == code).order_by(Inspection.id)))


def _selected(settings: Settings, code: str) -> list[Selection]:
    with session_scope(settings) as session:
        return list(session.exec(select(Selection).join(Campaign, Selection.campaign_id == Campaign.id)
                                 .where(Campaign.code == code).order_by(Selection.rank)))


def _tax_code(settings: Settings, establishment_id: int) -> str:
    with session_scope(settings) as session:
        est = session.get(Establishment, establishment_id)
        assert est is not None
        return est.tax_code


def _campaign(session: Session, code: str) -> Campaign:
    return session.exec(select(Campaign).where(Campaign.code == code)).one()


def walk(settings: Settings, inspection_id: int, *, on: date, to: InspectionStatus, fine: int | None = None) -> None:
    """The visit took place ``on`` that day and the inspection moved through the state machine up to ``to``; with
    ``fine``, one failed finding became a violation whose amount an official decided (what records, the official's
    decision and the sanction stage leave behind)."""
    with session_scope(settings) as session:
        inspection = session.get(Inspection, inspection_id)
        assert inspection is not None
        inspection.scheduled_on = on
        for status in WALK[:WALK.index(to) + 1]:
            audit.transition(session, inspection, status, actor="test", reason="test")
        if fine is None:
            return
        inspector = session.exec(select(Person).order_by(Person.id)).first()
        assert inspector is not None and inspector.id is not None
        submission = Submission(client_submission_id=f"hist-{inspection_id}", inspection_id=inspection_id,
                                submitted_by_id=inspector.id, content_sha256="0" * 64, payload=[])
        session.add(submission)
        session.flush()
        finding = Finding(inspection_id=inspection_id, submission_id=submission.id, item_code="HL-01", result="fail")
        session.add(finding)
        session.flush()
        session.connection().execute(sa.insert(Violation.__table__).values(  # type: ignore[attr-defined]
            inspection_id=inspection_id, finding_id=finding.id, provision_code="ND12-22-1", proposed_amount=fine,
            range_min=fine // 2, range_max=fine * 2, reasoning=[], final_amount=fine, decided_on=on))


@pytest.fixture
def history(settings: Settings) -> dict[str, Any]:
    """Campaign A (March 2026): 8 visits, one fined on 10/03/2026, two visits left only scheduled."""
    create_scheduled_campaign(settings, code="HIST-A", establishments=400, quota=10)
    inspections = _inspections(settings, "HIST-A")
    assert len(inspections) == 10
    visited, fined, scheduled_only = inspections[:8], inspections[0], inspections[8:]
    walk(settings, fined.id, on=date(2026, 3, 10), to=InspectionStatus.SANCTIONED, fine=15_000_000)  # type: ignore[arg-type]
    for day, i in enumerate(visited[1:], start=11):
        walk(settings, i.id, on=date(2026, 3, day),  # type: ignore[arg-type]
             to=InspectionStatus.RECORDS_ISSUED if day % 2 else InspectionStatus.FINDINGS_SUBMITTED)
    return {"visited": {i.establishment_id for i in visited}, "fined": fined.establishment_id,
            "scheduled_only": {i.establishment_id for i in scheduled_only}}


def test_a_planned_campaign_never_proposes_what_the_engine_inspected_within_a_year(
        settings: Settings, history: dict[str, Any]) -> None:
    create_campaign(settings, code="HIST-B", quota=400, period_start=B_START, period_end=B_END)
    selection.select_establishments(settings, "HIST-B")
    chosen = {s.establishment_id for s in _selected(settings, "HIST-B")}

    assert not chosen & history["visited"]  # visited in March 2026, < 365 days before 01/09/2026
    assert history["scheduled_only"] <= chosen  # on A's calendar, never visited: not an inspection
    policy = policy_for(B_START)
    with session_scope(settings) as session:
        campaign = _campaign(session, "HIST-B")
        ids = list(session.exec(select(Establishment.id)))
        rows = selection.rows_with_history(session, ids, policy, campaign)  # type: ignore[arg-type]
    mirror = {i for i, row in rows.items() if is_eligible(row, policy, B_START)}
    assert chosen == mirror  # the quota takes everything eligible: SQL and the Python mirror agree
    assert {i for i in history["visited"] if rows[i]["engine_last_visit_on"] is not None} == history["visited"]

    verified = selection.verify_selection(settings, "HIST-B")
    assert verified["identical"] and verified["registry_unchanged"] and verified["history_unchanged"]
    assert verified["history_rows"] == 8

    # one of A's scheduled establishments is visited after all (before B starts): B's list is now out of date, and
    # the verification says why
    late = next(i for i in _inspections(settings, "HIST-A") if i.status == InspectionStatus.SCHEDULED)
    walk(settings, late.id, on=date(2026, 5, 20), to=InspectionStatus.FINDINGS_SUBMITTED)  # type: ignore[arg-type]
    again = selection.verify_selection(settings, "HIST-B")
    assert again["registry_unchanged"] and not again["identical"] and again["history_unchanged"] is False
    assert again["differences"][0].startswith("lịch sử kiểm tra của hệ thống")
    assert "8 → 9" in again["differences"][0]


def test_a_trigger_lets_a_surprise_campaign_or_the_lead_take_a_recently_visited_establishment(
        settings: Settings, history: dict[str, Any]) -> None:
    fined, other = history["fined"], sorted(history["visited"] - {history["fined"]})[0]
    fined_code, other_code = _tax_code(settings, fined), _tax_code(settings, other)

    create_campaign(settings, code="HIST-B", quota=20, period_start=B_START, period_end=B_END)
    selection.select_establishments(settings, "HIST-B")
    with pytest.raises(Refused) as refused:
        approval.change_selection(settings, "HIST-B", by="SNV-LEAD", add=[approval.Change(other_code, "Nhiều phản ánh")])
    other_visit = next(i.scheduled_on for i in _inspections(settings, "HIST-A") if i.establishment_id == other)
    assert refused.value.ids["errors"] == [
        f"add[0]: cơ sở {other_code} đã được kiểm tra trong đợt kiểm tra HIST-A ngày {other_visit:%d/%m/%Y}; "
        "theo Chỉ thị 20/CT-TTg chỉ kiểm tra lại khi có căn cứ (khiếu nại, tai nạn, chuyển đến) được ghi nhận"]

    assert record_trigger(settings, tax_code=fined_code, kind="complaint", reference="PA-88/2026",
                          received_on=date(2026, 8, 20), by="SNV-LEAD")
    assert approval.change_selection(settings, "HIST-B", by="SNV-LEAD",
                                     add=[approval.Change(fined_code, "Khiếu nại PA-88/2026")]) == {"added": 1, "removed": 0}
    added = next(s for s in _selected(settings, "HIST-B") if s.establishment_id == fined)
    assert added.kind == SelectionKind.LEAD_ADDED
    assert approve(settings, "HIST-B") == 21

    create_campaign(settings, code="HIST-C", quota=10, kind=CampaignKind.SURPRISE, period_start=B_START, period_end=B_END)
    selection.select_establishments(settings, "HIST-C")
    (taken,) = _selected(settings, "HIST-C")
    assert taken.establishment_id == fined and taken.kind == SelectionKind.TRIGGER


def test_the_past_violations_factor_counts_the_engines_sanctions_with_their_dates(
        settings: Settings, history: dict[str, Any]) -> None:
    fined = history["fined"]
    policy = policy_for(B_START)
    t = _table()
    with session_scope(settings) as session:  # registry says "never fined": only the engine's decision counts
        session.connection().execute(sa.update(t).where(t.c.id == fined).values(past_violations=0))
    create_campaign(settings, code="HIST-B", quota=10, period_start=B_START, period_end=B_END)
    with session_scope(settings) as session:
        campaign = _campaign(session, "HIST-B")
        rows = selection.rows_with_history(session, [fined], policy, campaign)
        assert rows[fined]["engine_sanctions"] == 1
        assert factor_contributions(rows[fined], policy, B_START)["past_violations"] == 6.0
        dates = selection.engine_sanction_dates(session, [fined], policy, campaign)
        assert dates == {fined: [date(2026, 3, 10)]}
        assert past_violations_detail_vi(0, dates[fined]) == "01 quyết định xử phạt của hệ thống (03/2026)"
        # the database's score and eligibility agree with the Python mirror over every establishment, history included
        sql = {r.id: (r.score, r.ok) for r in session.connection().execute(sa.select(
            t.c.id, score_expression(t, policy, B_START, campaign.id).label("score"),
            sa.case((eligible(t, policy, B_START, campaign.id), 1), else_=0).label("ok")))}
        mirror = selection.rows_with_history(session, list(sql), policy, campaign)
    for i, (score, ok) in sql.items():
        assert score == pytest.approx(sum(factor_contributions(mirror[i], policy, B_START).values()), abs=0.1), i
        assert bool(ok) is is_eligible(mirror[i], policy, B_START), i

    # outside the look-back (3 years before the start) the decision no longer counts
    later = date(2029, 9, 1)
    with session_scope(settings) as session:
        campaign = _campaign(session, "HIST-B")
        campaign.period_start = later
        assert selection.rows_with_history(session, [fined], policy, campaign)[fined]["engine_sanctions"] == 0


def test_a_fine_decided_through_the_stages_counts_and_is_explained_to_the_lead(settings: Settings) -> None:
    """The walked-through case (tests/cases.py): visit, findings approved, records, the official's decision."""
    from tests import cases  # the decision stages; imported here so the other tests do not depend on them

    tokens = create_scheduled_campaign(settings, code="HIST-A", establishments=400, quota=6)
    mine = team_inspections(settings)[cases.INSPECTOR]  # the inspections of the walked-through inspector's team
    by_id = {i.id: i for i in _inspections(settings, "HIST-A")}
    first, second = by_id[mine[0]], by_id[mine[1]]
    others = [i for i in by_id.values() if i.id not in (first.id, second.id)]
    cases.visit(settings, first.id, on=cases.d(9, 3), client_id="hist-walk-1")  # type: ignore[arg-type]
    cases.approve_and_draw_up(settings, first.id, cases.d(9, 3))  # type: ignore[arg-type]
    cases.decide(settings, first.id, cases.d(16, 3))  # type: ignore[arg-type]
    cases.visit(settings, second.id, on=cases.d(10, 3), client_id="hist-walk-2")  # type: ignore[arg-type]
    with session_scope(settings) as session:
        assert session.get(Inspection, first.id).status == InspectionStatus.SANCTIONED  # type: ignore[union-attr]
        assert session.get(Inspection, second.id).status == InspectionStatus.FINDINGS_SUBMITTED  # type: ignore[union-attr]
        session.connection().execute(sa.update(_table()).where(_table().c.id == first.establishment_id)
                                     .values(past_violations=1))

    create_campaign(settings, code="HIST-B", quota=400, period_start=B_START, period_end=B_END)
    selection.select_establishments(settings, "HIST-B")
    chosen = {s.establishment_id for s in _selected(settings, "HIST-B")}
    assert not chosen & {first.establishment_id, second.establishment_id}
    assert {i.establishment_id for i in others} <= chosen  # scheduled, never visited

    code = _tax_code(settings, first.establishment_id)
    record_trigger(settings, tax_code=code, kind="accident", reference="TNLĐ-3/2026", received_on=date(2026, 8, 1),
                   by="SNV-LEAD")
    create_campaign(settings, code="HIST-C", quota=5, kind=CampaignKind.SURPRISE, period_start=B_START, period_end=B_END)
    selection.select_establishments(settings, "HIST-C")
    (taken,) = _selected(settings, "HIST-C")
    assert taken.establishment_id == first.establishment_id
    assert taken.factors["past_violations"] == 12.0  # 1 in the registry (undated) + 1 decision of the engine

    with intake_http(settings) as http:
        answer = http.get("/api/campaigns/HIST-C/selection",
                          headers={"Authorization": f"Bearer {tokens['SNV-LEAD']}"}).json()
    (item,) = answer["establishments"]
    factor = next(f for f in item["factors"] if f["factor"] == "past_violations")
    assert factor["detail_vi"] == ("01 quyết định xử phạt của hệ thống (03/2026); "
                                   "01 lần bị xử phạt theo sổ đăng ký (không ghi ngày)")
    assert factor["detail_vi"] in item["reasons_vi"]
