"""The selection and scheduling stages over a real migrated database, called directly (no Prefect)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select

from models import AuditEvent, Campaign, CampaignStatus, Establishment, Inspection, Selection, Team, TeamMember
from services.rules.calendar import add_working_days, is_working_day
from services.db import session_scope
from services.errors import StageBlocked
from services.settings import Settings
from services.stages import scheduling, selection
from tests.factories import approve, count, create_campaign, create_world

START = date(2026, 3, 2)
END = date(2026, 5, 29)

# Enough risk on every factor to outrank anything the synthetic registry holds.
WORST: dict[str, Any] = {
    "workforce": 500, "hazardous_workers": 500, "working_condition_class_max": 6, "strict_equipment_count": 8,
    "fatal_accidents_3y": 2, "serious_accidents_3y": 3, "accidents_3y": 100, "accident_reports_late": 2,
    "monitoring_failing_ratio": 1.0, "osh_organisation_gaps": 4, "untrained_workers": 500,
    "vulnerable_workers": 4,
    "past_violations": 3, "open_complaints": 3, "last_health_exam_on": None, "last_disease_exam_on": None,
    "last_environment_monitoring_on": None, "sector_vsic": "05",
}


def make_worst(settings: Settings, establishment_ids: list[int], *, last_inspected_on: date | None) -> None:
    table = Establishment.__table__  # type: ignore[attr-defined]
    with session_scope(settings) as session:
        session.connection().execute(sa.update(table).where(table.c.id.in_(establishment_ids))
                                     .values(**WORST, last_inspected_on=last_inspected_on))


def snapshot(settings: Settings) -> dict[str, Any]:
    with session_scope(settings) as session:
        return {"selections": count(session, Selection), "teams": count(session, Team),
                "members": count(session, TeamMember), "inspections": count(session, Inspection),
                "audit": count(session, AuditEvent),
                "campaigns": [(c.code, c.status)
                              for c in session.exec(select(Campaign).order_by(Campaign.id))]}


def selections(settings: Settings, code: str) -> list[Selection]:
    with session_scope(settings) as session:
        return list(session.exec(select(Selection).join(Campaign, Selection.campaign_id == Campaign.id)
                                 .where(Campaign.code == code).order_by(Selection.rank)).all())


def test_selection_skips_establishments_inspected_within_a_year_and_explains_each_score(
        settings: Settings) -> None:
    create_world(settings, establishments=400)
    create_campaign(settings, code="SEL-01", quota=10)
    make_worst(settings, [11, 12, 13], last_inspected_on=START - timedelta(days=100))
    make_worst(settings, [14], last_inspected_on=START - timedelta(days=364))
    make_worst(settings, [21, 22, 23], last_inspected_on=START - timedelta(days=400))
    make_worst(settings, [24], last_inspected_on=None)

    result = selection.select_establishments(settings, "SEL-01")

    assert result.done == 10
    chosen = selections(settings, "SEL-01")
    ids = [s.establishment_id for s in chosen]
    assert not {11, 12, 13, 14} & set(ids)  # the riskiest of all, but inspected within 365 days
    assert set(ids[:4]) == {21, 22, 23, 24}  # the same risk, inspected longer ago or never
    assert [s.rank for s in chosen] == list(range(1, 11))
    assert [s.score for s in chosen] == sorted((s.score for s in chosen), reverse=True)
    for s in chosen:
        assert s.factors and round(sum(s.factors.values()), 2) == s.score
    assert chosen[0].factors["fatal_accidents"] == 60.0 and chosen[0].factors["working_condition"] == 15.0
    with session_scope(settings) as session:
        campaign = session.exec(select(Campaign).where(Campaign.code == "SEL-01")).one()
        assert campaign.status == CampaignStatus.SELECTED
        assert campaign.risk_policy_version == "2025.1"
        assert campaign.selection_seed is not None and campaign.registry_snapshot_sha256


def test_the_same_seed_on_the_same_registry_gives_the_same_list(settings: Settings) -> None:
    create_world(settings, establishments=400)
    create_campaign(settings, code="SEL-A", quota=15)
    selection.select_establishments(settings, "SEL-A")
    with session_scope(settings) as session:
        first = session.exec(select(Campaign).where(Campaign.code == "SEL-A")).one()
        seed, snapshot_sha = first.selection_seed, first.registry_snapshot_sha256
    create_campaign(settings, code="SEL-B", quota=15, selection_seed=seed)
    selection.select_establishments(settings, "SEL-B")
    a, b = selections(settings, "SEL-A"), selections(settings, "SEL-B")
    assert [(s.establishment_id, s.score) for s in a] == [(s.establishment_id, s.score) for s in b]
    with session_scope(settings) as session:
        second = session.exec(select(Campaign).where(Campaign.code == "SEL-B")).one()
        assert second.registry_snapshot_sha256 == snapshot_sha


def test_scheduling_puts_every_selected_establishment_on_a_team_day(settings: Settings) -> None:
    create_world(settings, establishments=400, teams=2)
    create_campaign(settings, code="SCH-01", quota=10, teams=2)
    selection.select_establishments(settings, "SCH-01")
    approve(settings, "SCH-01")
    result = scheduling.schedule_inspections(settings, "SCH-01")

    assert result.done == 10 and result.details["teams"] == 2
    first_day = add_working_days(START, 3)  # notice: 3 working days (procedure settings in force)
    with session_scope(settings) as session:
        inspections = session.exec(select(Inspection)).all()
        teams = session.exec(select(Team).order_by(Team.number)).all()
        selected = set(session.exec(select(Selection.establishment_id)).all())
    assert {i.establishment_id for i in inspections} == selected
    assert [t.name for t in teams] == ["Đoàn kiểm tra liên ngành số 1", "Đoàn kiểm tra liên ngành số 2"]
    for i in inspections:
        assert first_day <= i.scheduled_on <= END and is_working_day(i.scheduled_on)
        assert i.status == "scheduled"


def test_rerunning_selection_and_scheduling_changes_nothing(settings: Settings) -> None:
    create_world(settings, establishments=400, teams=2)
    create_campaign(settings, code="RE-01", quota=12, teams=2)
    selection.select_establishments(settings, "RE-01")
    approve(settings, "RE-01")
    scheduling.schedule_inspections(settings, "RE-01")
    before = snapshot(settings)
    assert before["selections"] == 12 and before["inspections"] == 12 and before["teams"] == 2

    again_selected = selection.select_establishments(settings, "RE-01")
    assert approve(settings, "RE-01") == 12
    again_scheduled = scheduling.schedule_inspections(settings, "RE-01")

    assert (again_selected.done, again_selected.already) == (0, 12)
    assert (again_scheduled.done, again_scheduled.already) == (0, 12)
    assert snapshot(settings) == before


def test_scheduling_refuses_when_there_are_too_few_inspectors_and_stores_nothing(settings: Settings) -> None:
    create_world(settings, establishments=400, teams=2)  # 2 Sở Nội vụ inspectors, 2 from Sở Y tế
    create_campaign(settings, code="FEW-01", quota=10, teams=3)
    selection.select_establishments(settings, "FEW-01")
    approve(settings, "FEW-01")
    before = snapshot(settings)

    with pytest.raises(StageBlocked) as blocked:
        scheduling.schedule_inspections(settings, "FEW-01")

    assert blocked.value.message == (
        "Không đủ người để thành lập 3 đoàn: cần 3 thanh tra viên của cơ quan chủ trì và 3 người của "
        "Sở Y tế, hiện có 2 và 2.")
    after = snapshot(settings)
    assert after == before
    assert after["teams"] == after["members"] == after["inspections"] == 0
    assert after["campaigns"] == [("FEW-01", CampaignStatus.APPROVED)]
