"""Moving one visit: the scheduler moves only what must move; the establishment (and anyone else moved) gets a
new notice that replaces the old one, the affected teams a new plan, and everyone a notification."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from models import (Campaign, CampaignStatus, Establishment, Inspection, InspectionStatus, Person, PersonRole, Selection, Team,
                    Unavailability)
from services import audit
from services.rules.calendar import today_in_vietnam, add_working_days, working_days
from services.db import session_scope
from services.errors import Conflict, Forbidden, Refused, NotFound
from services.documents.issuing import latest_document
from services.rules.procedure import procedure_for
from services.rules.schedule import Placement, reschedule
from services.settings import Settings
from models.base import id_of, stored_id
from services.stages.common import StageResult, get_campaign
from services.stages.records import decision_ref
from services.stages.scheduling import scheduling_inputs


@dataclass(frozen=True)
class Move:
    tax_code: str
    from_day: date
    to_day: date
    from_team: int
    to_team: int


def reschedule_visit(settings: Settings, campaign_code: str, *, tax_code: str, reason: str, by: str,
                     not_on: frozenset[date] = frozenset(), changed_on: date | None = None) -> list[Move]:
    """Move an establishment's visit (never onto ``not_on`` days, which are recorded as unavailable)."""
    changed_on = changed_on or today_in_vietnam()
    with session_scope(settings) as session:
        lead = session.exec(select(Person).where(Person.code == by)).first()
        if lead is None or lead.role != PersonRole.LEAD:
            raise Forbidden(f"'{by}' không phải là người chủ trì đợt kiểm tra; chỉ người chủ trì được đổi lịch.", person_code=by)
        if not reason.strip():
            raise Refused("Không đổi được lịch.", errors=["reason: phải ghi lý do đổi lịch"])
        campaign = get_campaign(session, campaign_code, for_update=True)  # two moves at once: one after the other
        if campaign.status not in (CampaignStatus.SCHEDULED, CampaignStatus.FIELDWORK):
            raise Conflict(f"Đợt kiểm tra {campaign.code} chưa có lịch hoặc đã kết thúc.", campaign_code=campaign.code)
        est = _scheduled_establishment(session, campaign, tax_code)
        for day in not_on:
            if session.exec(select(Unavailability.id).where(Unavailability.establishment_id == est.id,
                                                            Unavailability.day == day)).first() is None:
                session.add(Unavailability(establishment_id=id_of(est), day=day, reason=reason.strip()))
        session.flush()
        procedure = procedure_for(campaign.period_start)
        teams = list(session.exec(select(Team).where(Team.campaign_id == campaign.id).order_by(col(Team.number))).all())
        position = {id_of(t): i for i, t in enumerate(teams)}
        rows = session.exec(select(Inspection, Establishment.commune_code, Selection.rank)
                            .join(Establishment, col(Inspection.establishment_id) == Establishment.id)
                            .join(Selection, (col(Selection.establishment_id) == Inspection.establishment_id)
                                  & (col(Selection.campaign_id) == Inspection.campaign_id))
                            .where(Inspection.campaign_id == campaign.id)).all()
        visits, specs, conflicts = scheduling_inputs(session, campaign, teams, [(i.establishment_id, c, r) for i, c, r in rows])
        current = [Placement(i.establishment_id, position[i.team_id], i.scheduled_on) for i, _, _ in rows]
        # reschedule() moves only placements on the given days: visits still ahead, after a fresh notice period
        first = add_working_days(changed_on, procedure.notice_working_days)
        days = [d for d in working_days(first, campaign.period_end)]
        new = reschedule(current, establishment_id=id_of(est), visits=visits, teams=specs,
                         days=days, per_team_day=procedure.visits_per_team_day,
                         conflicts=conflicts, not_on=not_on)
        by_est = {i.establishment_id: i for i, _, _ in rows}
        codes = dict(session.exec(select(Establishment.id, Establishment.tax_code)
                                  .where(col(Establishment.id).in_([p.establishment_id for p in new]))).all())
        moves = []
        for old, placed in zip(current, new, strict=True):
            if old == placed:
                continue
            ins = by_est[placed.establishment_id]
            if ins.status != InspectionStatus.SCHEDULED:
                raise Conflict(f"Đổi lịch sẽ phải dời cuộc kiểm tra đã tiến hành tại {codes[placed.establishment_id]}.",
                               tax_code=tax_code)
            ins.scheduled_on, ins.team_id = placed.day, id_of(teams[placed.team_index])
            session.add(ins)
            audit.record(session, actor=lead.code, action="visit_rescheduled", entity=ins, reason=reason.strip(),
                         data={"from": old.day.isoformat(), "to": placed.day.isoformat(),
                               "from_team": teams[old.team_index].number, "to_team": teams[placed.team_index].number})
            moves.append(Move(codes[placed.establishment_id], old.day, placed.day, id_of(teams[old.team_index]),
                              id_of(teams[placed.team_index])))
        if not moves:
            raise Refused("Không tìm được ngày khác phù hợp cho cơ sở này trong thời gian đợt kiểm tra.",
                              errors=[f"tax_code: {tax_code}"])
    _reissue(settings, campaign_code, moves, reason.strip(), lead.code, changed_on)
    return moves


def _scheduled_establishment(session: Session, campaign: Campaign, tax_code: str) -> Establishment:
    """The establishment whose visit is to move: it must be in the campaign's schedule and not yet inspected."""
    est = session.exec(select(Establishment).where(Establishment.tax_code == tax_code.strip())).first()
    inspection = None if est is None else session.exec(select(Inspection).where(
        Inspection.campaign_id == campaign.id, Inspection.establishment_id == est.id)).first()
    if est is None or inspection is None:
        raise NotFound(f"Cơ sở {tax_code} không có trong lịch kiểm tra của đợt {campaign.code}.", tax_code=tax_code)
    if inspection.status != InspectionStatus.SCHEDULED:
        raise Conflict(f"Cơ sở {tax_code} đã được kiểm tra; không thể đổi lịch.", tax_code=tax_code)
    return est


def _reissue(settings: Settings, campaign_code: str, moves: list[Move], reason: str, actor: str, changed_on: date) -> None:
    from models import DocumentType
    from services.stages import schedule_docs

    result = StageResult("reschedule", campaign_code)
    missing: list[str] = []
    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code)
        reference = decision_ref(session, campaign)
        ids = {m.tax_code: stored_id(session.exec(select(Inspection.id)
                                                  .join(Establishment, col(Inspection.establishment_id) == Establishment.id)
                                                  .where(Inspection.campaign_id == campaign.id,
                                                         Establishment.tax_code == m.tax_code)).one())
               for m in moves}
        notices = {i: latest_document(session, doc_type=DocumentType.INSPECTION_NOTICE, subject_key=f"inspection:{i}")
                   for i in ids.values()}
        teams = sorted({m.from_team for m in moves} | {m.to_team for m in moves})
        plans = {t: latest_document(session, doc_type=DocumentType.INSPECTION_PLAN, subject_key=f"team:{t}") for t in teams}
    for inspection_id, previous in notices.items():
        schedule_docs.issue_notice(settings, campaign_code, inspection_id, reference, actor, result, missing,
                                    replaces=previous, reason=reason, changed_on=changed_on)
    for team_id, previous in plans.items():
        schedule_docs.issue_plan(settings, campaign_code, team_id, reference, actor, result, missing,
                                  replaces=previous, reason=reason, changed_on=changed_on)
