"""Stage 2: form the inter-agency teams and put the selected establishments on their calendar."""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (Agency, AgencyKind, Campaign, CampaignStatus, ConflictOfInterest, Establishment, Inspection, Person,
                    PersonRole, Unavailability,
                    Selection, Team, TeamMember, TeamRole)
from services import audit
from services.rules.calendar import add_working_days, working_days
from services.db import session_scope
from services.errors import StageBlocked
from services.rules.procedure import procedure_for
from services.rules.schedule import TeamSpec, Visit, place_visits
from services.settings import Settings
from models.base import id_of, table_of
from services.stages.common import SYSTEM_ACTOR, StageResult, get_campaign

STAGE = "schedule-inspections"


def _inspectors_by_kind(session: Session, campaign: Campaign) -> dict[AgencyKind, list[Person]]:
    rows = session.exec(select(Person, Agency).join(Agency, col(Person.agency_id) == Agency.id)
                        .where(Person.role == PersonRole.INSPECTOR).order_by(Person.code)).all()
    members = set(campaign.member_agency_codes)
    out: dict[AgencyKind, list[Person]] = defaultdict(list)
    for person, agency in rows:
        if agency.id == campaign.lead_agency_id:
            out[AgencyKind.LABOUR].append(person)
        elif agency.code in members:
            out[AgencyKind(agency.kind)].append(person)
    return out


def form_teams(session: Session, campaign: Campaign, *, actor: str) -> list[Team]:
    """Each team: a head from the lead agency, a Sở Y tế member, and one member of another agency if any."""
    pool = _inspectors_by_kind(session, campaign)
    n = campaign.team_count
    if len(pool[AgencyKind.LABOUR]) < n or len(pool[AgencyKind.HEALTH]) < n:
        raise StageBlocked(
            f"Không đủ người để thành lập {n} đoàn: cần {n} thanh tra viên của cơ quan chủ trì và {n} người của "
            f"Sở Y tế, hiện có {len(pool[AgencyKind.LABOUR])} và {len(pool[AgencyKind.HEALTH])}.",
            campaign_id=campaign.id)
    teams = []
    for i in range(n):
        team = Team(campaign_id=id_of(campaign), number=i + 1, name=f"Đoàn kiểm tra liên ngành số {i + 1}")
        session.add(team)
        session.flush()
        roster = [(pool[AgencyKind.LABOUR][i], TeamRole.HEAD), (pool[AgencyKind.HEALTH][i], TeamRole.MEMBER)]
        if i < len(pool[AgencyKind.OTHER]):
            roster.append((pool[AgencyKind.OTHER][i], TeamRole.MEMBER))
        for person, role in roster:
            session.add(TeamMember(team_id=id_of(team), person_id=id_of(person), role=role))
        audit.record(session, actor=actor, action="team_formed", entity=team, reason=team.name,
                     data={"members": [p.code for p, _ in roster]})
        teams.append(team)
    return teams


def _by_establishment(pairs: Any) -> dict[int, frozenset[Any]]:
    out: dict[int, set[Any]] = defaultdict(set)
    for establishment_id, value in pairs:
        out[establishment_id].add(value)
    return {k: frozenset(v) for k, v in out.items()}


def _team_members(session: Session, teams: list[Team]) -> list[list[int]]:
    return [list(session.exec(select(TeamMember.person_id).where(TeamMember.team_id == t.id)).all()) for t in teams]


def _busy_days(session: Session, campaign: Campaign, person_ids: list[int]) -> frozenset[date]:
    """Days a member already visits establishments for another campaign: nobody is in two places at once."""
    rows = session.exec(select(col(Inspection.scheduled_on)).join(TeamMember, col(TeamMember.team_id) == Inspection.team_id)
                        .where(col(TeamMember.person_id).in_(person_ids), Inspection.campaign_id != campaign.id)).all()
    return frozenset(rows)


def scheduling_inputs(session: Session, campaign: Campaign, teams: list[Team], establishments: list[tuple[int, str, int]]
                      ) -> tuple[list[Visit], list[TeamSpec], dict[int, frozenset[Any]]]:
    """What the scheduler must respect, from the database: unavailable days, conflicts, members' other visits.

    ``establishments`` are (id, commune code, rank) triples.
    """
    ids = [e for e, _, _ in establishments]
    unavailable = _by_establishment(session.exec(select(col(Unavailability.establishment_id), col(Unavailability.day))
                                                 .where(col(Unavailability.establishment_id).in_(ids))).all())
    conflicts = _by_establishment(session.exec(select(col(ConflictOfInterest.establishment_id), col(ConflictOfInterest.person_id))
                                               .where(col(ConflictOfInterest.establishment_id).in_(ids))).all())
    visits = [Visit(e, commune, rank, unavailable.get(e, frozenset())) for e, commune, rank in establishments]
    specs = [TeamSpec(i, frozenset(members), _busy_days(session, campaign, members))
             for i, members in enumerate(_team_members(session, teams))]
    return visits, specs, conflicts


def schedule_inspections(settings: Settings, campaign_code: str, *, actor: str = SYSTEM_ACTOR) -> StageResult:
    result = StageResult(STAGE, campaign_code)
    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code, for_update=True)  # a second run waits, then finds it scheduled
        if campaign.status != CampaignStatus.APPROVED:
            result.already = len(session.exec(select(Inspection.id).where(Inspection.campaign_id == campaign.id)).all())
            return result
        procedure = procedure_for(campaign.period_start)
        teams = form_teams(session, campaign, actor=actor)
        first_day = add_working_days(campaign.period_start, procedure.notice_working_days)
        days = list(working_days(first_day, campaign.period_end))
        selected = session.exec(select(Selection, Establishment.commune_code)
                                .join(Establishment, col(Selection.establishment_id) == Establishment.id)
                                .where(Selection.campaign_id == campaign.id, col(Selection.removed).is_(False))).all()
        visits, specs, conflicts = scheduling_inputs(session, campaign, teams,
                                                     [(s.establishment_id, commune, s.rank) for s, commune in selected])
        placements = place_visits(visits, teams=specs, days=days, per_team_day=procedure.visits_per_team_day,
                                  conflicts=conflicts)
        if placements:
            session.connection().execute(sa.insert(table_of(Inspection)), [
                {"campaign_id": campaign.id, "establishment_id": p.establishment_id, "team_id": teams[p.team_index].id,
                 "scheduled_on": p.day, "status": "scheduled"} for p in placements])
        audit.transition(session, campaign, CampaignStatus.SCHEDULED, actor=actor,
                         reason=f"Lập lịch {len(placements)} cuộc kiểm tra cho {len(teams)} đoàn, "
                                f"thông báo trước {procedure.notice_working_days} ngày làm việc")
        result.done = len(placements)
        result.details = {"teams": len(teams), "team_days": len({(p.team_index, p.day) for p in placements}),
                          "first_visit": min((p.day for p in placements), default=None),
                          "last_visit": max((p.day for p in placements), default=None)}
    return result
