"""After scheduling: the decision to inspect (with the teams), each team's plan with its schedule, a notice
to each establishment, and the notifications to members and establishments.

Every document is issued in its own transaction and identified by (type, subject), so a re-run or a run
resumed after a crash issues what is missing and nothing twice; a notification is enqueued in the same
transaction as the document it announces, under a key derived from it.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from models import (Agency, Campaign, Document, DocumentType, Establishment, Inspection, Person, PersonRole, Team,
                    TeamMember)
from services.rules.calendar import working_days
from services.db import session_scope
from services.documents.issuing import find_document, issue_document
from services.documents.signed_issuing import Draft, request_signature, signing_enabled
from services.errors import Conflict
from services.documents.format import agency_vi, weekday_vi
from services.delivery.notifications import contact_of, enqueue, reach
from services.registry.geo import commune_name, province_area
from services.rules.procedure import Procedure, procedure_for
from services.settings import Settings
from models.base import id_of
from services.stages.common import SYSTEM_ACTOR, StageResult, get_campaign
from services.stages.records import decision_ref, province_committee, team_context
from services.stages.visits import visit_time

STAGE = "issue-schedule-documents"


def _campaign_ctx(campaign: Campaign, procedure: Procedure, count: int) -> dict[str, Any]:
    return {"code": campaign.code, "title": campaign.title, "legal_basis": campaign.legal_basis,
            "period_start": campaign.period_start, "period_end": campaign.period_end,
            "duration_working_days": len(list(working_days(campaign.period_start, campaign.period_end))),
            "area_vi": province_area(campaign.province_code), "content_vi": procedure.inspection_content_vi,
            "establishments_count": count}


def _contact(session: Session, kind: str, ref: str) -> tuple[str, str] | None:
    return reach(contact_of(session, kind, ref))


def _phone(session: Session, person_code: str) -> str:
    """The phone printed on plans and notices (whatever channel messages go through); empty prints a dotted line."""
    contact = contact_of(session, "person", person_code)
    return (contact.phone or "") if contact is not None else ""


def _decision_signer(session: Session, procedure: Procedure) -> Person | None:
    """The Chủ tịch who signs the decision to inspect, else a Phó Chủ tịch (who signs "KT. CHỦ TỊCH")."""
    head = procedure.decision_signer_title
    competence = next((s for s in procedure.competence if s.title == head or head in s.head_titles), None)
    deputies = tuple(competence.deputy_titles) if competence else ()
    for titles in ((head, *(competence.head_titles if competence else ())), deputies):
        if titles:
            person = session.exec(select(Person).where(Person.role == PersonRole.OFFICIAL, col(Person.title).in_(titles))
                                  .order_by(Person.code)).first()
            if person is not None:
                return person
    return None


def _signature(procedure: Procedure, person_title: str) -> dict[str, str]:
    """The signer's lines per NĐ 30/2020: {"title": "Chủ tịch"}, or {"title": "Phó Chủ tịch", "for_title": "Chủ tịch"}
    when a deputy signs for the head; never the body's name ("CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH" is the authority line
    under the title, not the signature)."""
    head = procedure.decision_signer_title
    competence = next((s for s in procedure.competence if s.title == head or head in s.head_titles), None)
    if competence is not None and competence.signature_vi:
        if person_title in competence.deputy_titles:
            return {"title": competence.deputy_signature_vi.capitalize(), "for_title": competence.signature_vi.capitalize()}
        return {"title": competence.signature_vi.capitalize()}
    return {"title": person_title.split(" Ủy ban")[0].split(" Sở")[0]}


def _lead(session: Session, campaign: Campaign) -> Agency:
    agency = session.get(Agency, campaign.lead_agency_id)
    assert agency is not None
    return agency


def _team_issuer(session: Session, campaign: Campaign, team_id: int) -> dict[str, str]:
    """A team's plan and notices: one issuer, the team (its header, its "…/KH-ĐKT" series, its head's signature),
    under the Ủy ban nhân dân tỉnh that formed it."""
    team = session.get(Team, team_id)
    assert team is not None
    lead = _lead(session, campaign)
    return {"parent_name": f"UBND {province_area(lead.province_code)}", "name": team.name,
            "code": f"DKT-{campaign.id}-{team.number}", "place": lead.place}


TEAM_DRAFTING_UNIT = "ĐKT"  # "Lưu: VT, ĐKT." on a team's documents


def issue_schedule_documents(settings: Settings, campaign_code: str, *, actor: str = SYSTEM_ACTOR,
                             redraft: bool = False) -> StageResult:
    """The stage (see the module); ``redraft``: draw a decision to inspect whose draft was refused again."""
    result = StageResult(STAGE, campaign_code)
    missing_contacts: list[str] = []
    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code)
        teams = session.exec(select(Team).where(Team.campaign_id == campaign.id).order_by(col(Team.number))).all()
        inspections = session.exec(select(Inspection).where(Inspection.campaign_id == campaign.id)
                                   .order_by(col(Inspection.scheduled_on), col(Inspection.id))).all()
        team_ids, inspection_ids = [id_of(t) for t in teams], [id_of(i) for i in inspections]
    if not teams:
        return result

    decision_number = _issue_decision(settings, campaign_code, actor, result, redraft=redraft)
    if decision_number is None:  # signed digitally: the plans and notices cite it once it is issued (signed_documents)
        result.waiting += 1
        result.details = {"decision": None, "decision_waiting_vi": "Quyết định kiểm tra chờ người có thẩm quyền ký số."}
        return result
    for team_id in team_ids:
        issue_plan(settings, campaign_code, team_id, decision_number, actor, result, missing_contacts)
    for inspection_id in inspection_ids:
        issue_notice(settings, campaign_code, inspection_id, decision_number, actor, result, missing_contacts)
    result.details = {"decision": decision_number, "missing_contacts": sorted(set(missing_contacts))[:20],
                      "missing_contacts_count": len(set(missing_contacts))}
    return result


def _replaces(previous: Document | None, reason: str) -> dict[str, Any]:
    if previous is None:
        return {}
    return {"replaces": {"number": previous.number, "issued_on": previous.issued_on or previous.issued_at.date(),
                         "reason": reason}}


def _tally(result: StageResult, created: bool) -> None:
    if created:
        result.done += 1
    else:
        result.already += 1


def _issue_decision(settings: Settings, campaign_code: str, actor: str, result: StageResult, *,
                    redraft: bool = False) -> str | None:
    """The decision to inspect issued (its reference for the plans and notices), or, where it is signed digitally,
    its draft put to the signer and ``None`` until it is issued."""
    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code)
        procedure = procedure_for(campaign.period_start)
        signer = _decision_signer(session, procedure)
        teams = session.exec(select(Team).where(Team.campaign_id == campaign.id).order_by(col(Team.number))).all()
        count = len(session.exec(select(Inspection.id).where(Inspection.campaign_id == campaign.id)).all())
        issued_on = campaign.decision_on or campaign.period_start
        lead = _lead(session, campaign)
        lead_name = agency_vi(lead.name)
        context = {
            "issuer": province_committee(session, campaign),
            "issued_on": issued_on, "campaign": _campaign_ctx(campaign, procedure, count),
            "teams": [{"name": t.name, "members": team_context(session, id_of(t))["members"]} for t in teams],
            "signer": {"full_name": signer.full_name if signer else "",
                       **_signature(procedure, signer.title if signer else procedure.decision_signer_title)},
            "plan_ref": f"Kế hoạch kiểm tra liên ngành {campaign.code}", "report_working_days": procedure.report_working_days,
            "drafting_unit": lead.code,
            **({"proposed_by": f"Giám đốc {lead_name}"} if lead_name.startswith("Sở ") else {})}
        created = find_document(session, doc_type=DocumentType.INSPECTION_DECISION, subject_key=f"campaign:{campaign.id}") is None
        if created and signing_enabled(settings, DocumentType.INSPECTION_DECISION):
            _draft_decision(session, settings, campaign, context, signer, actor, redraft=redraft)
            return None
        issue_document(session, settings, doc_type=DocumentType.INSPECTION_DECISION, subject_key=f"campaign:{campaign.id}",
                             issuer_code=context["issuer"]["code"], symbol=procedure.symbol("inspection_decision"),
                             year=issued_on.year, campaign_id=id_of(campaign), inspection_id=None, template="quyet_dinh_kiem_tra",
                             build_context=lambda number: {**context, "number": number}, actor=actor)
        _tally(result, created)
        return decision_ref(session, campaign)


def _draft_decision(session: Session, settings: Settings, campaign: Campaign, context: dict[str, Any],
                    signer: Person | None, actor: str, *, redraft: bool) -> None:
    """The decision to inspect put to its signer (NĐ 30/2020 Art.13–18): issued once signed, numbered and sealed."""
    if signer is None:
        raise Conflict("Chưa có người có thẩm quyền ký quyết định kiểm tra trong danh sách cán bộ: không trình ký được.",
                       campaign_code=campaign.code)
    issuer, procedure = context["issuer"], procedure_for(campaign.period_start)
    request_signature(session, settings, Draft(
        doc_type=DocumentType.INSPECTION_DECISION, subject_key=f"campaign:{campaign.id}", revision=1, supersedes_id=None,
        campaign_id=id_of(campaign), inspection_id=None, issuer_code=issuer["code"], issuer_name=issuer["name"],
        place=issuer["place"], symbol=procedure.symbol("inspection_decision"), template="quyet_dinh_kiem_tra",
        title=f"Quyết định kiểm tra liên ngành — {campaign.code}", drafted_on=context["issued_on"],
        signer_code=signer.code, signer_name=signer.full_name, signer_title=str(context["signer"]["title"]).upper(),
        context=context), actor=actor, redraft=redraft)


def issue_plan(settings: Settings, campaign_code: str, team_id: int, decision_ref: str, actor: str, result: StageResult,
                missing: list[str], replaces: Document | None = None, reason: str = "", changed_on: date | None = None) -> None:
    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code)
        procedure = procedure_for(campaign.period_start)
        team = team_context(session, team_id)
        rows = session.exec(select(Inspection, Establishment)
                            .join(Establishment, col(Inspection.establishment_id) == Establishment.id)
                            .where(Inspection.team_id == team_id)
                            .order_by(col(Inspection.scheduled_on), col(Inspection.id))).all()
        per_day: dict[date, int] = defaultdict(int)
        schedule = []
        for inspection, e in rows:
            slot = per_day[inspection.scheduled_on]
            per_day[inspection.scheduled_on] += 1
            schedule.append({"date": inspection.scheduled_on, "weekday_vi": weekday_vi(inspection.scheduled_on),
                             "time_vi": procedure.visit_times_vi[min(slot, len(procedure.visit_times_vi) - 1)],
                             "commune_vi": commune_name(e.commune_code), "establishment_name": e.name, "tax_code": e.tax_code,
                             "address": e.address})
        head_code = _head_code(session, team_id)
        team["head"] = {**team["head"], "phone": _phone(session, head_code)}
        issued_on = changed_on or campaign.decision_on or campaign.period_start
        context = {"issuer": _team_issuer(session, campaign, team_id), "issued_on": issued_on,
                   "campaign": _campaign_ctx(campaign, procedure, len(rows)), "decision_ref": decision_ref, "team": team,
                   "schedule": schedule, "signer": {"full_name": team["head"]["full_name"], "title": "Trưởng đoàn"},
                   "lead_agency": agency_vi(_lead(session, campaign).name), "drafting_unit": TEAM_DRAFTING_UNIT,
                   **_replaces(replaces, reason)}
        revision = replaces.revision + 1 if replaces else 1
        created = find_document(session, doc_type=DocumentType.INSPECTION_PLAN, subject_key=f"team:{team_id}",
                                revision=revision) is None
        doc = issue_document(session, settings, doc_type=DocumentType.INSPECTION_PLAN,
                             subject_key=f"team:{team_id}", revision=revision, supersedes_id=replaces.id if replaces else None,
                             issuer_code=context["issuer"]["code"], symbol=procedure.symbol("inspection_plan"),
                             year=issued_on.year, campaign_id=id_of(campaign), inspection_id=None, template="ke_hoach_kiem_tra",
                             build_context=lambda number: {**context, "number": number}, actor=actor)
        _tally(result, created)
        for member_code in _member_codes(session, team_id):
            contact = _contact(session, "person", member_code)
            if contact is None:
                missing.append(member_code)
                continue
            enqueue(session, key=f"doc:{doc.id}:person:{member_code}", campaign_id=id_of(campaign), inspection_id=None,
                    kind="reschedule" if replaces else "team_assignment", recipient_kind="person",
                    recipient_ref=member_code, channel=contact[0],
                    address=contact[1], subject=f"Phân công tham gia {team['name']} — {campaign.code}",
                    body=(f"Đồng chí được phân công tham gia {team['name']} theo {decision_ref}. Kế hoạch tiến hành kiểm tra "
                          f"số {doc.number}: {len(rows)} cơ sở, từ {schedule[0]['date']:%d/%m/%Y} đến "
                          f"{schedule[-1]['date']:%d/%m/%Y}." if schedule else f"Đồng chí được phân công tham gia {team['name']}."))


def _head_code(session: Session, team_id: int) -> str:
    from models import TeamRole
    return session.exec(select(Person.code).join(TeamMember, col(TeamMember.person_id) == Person.id)
                        .where(TeamMember.team_id == team_id, TeamMember.role == TeamRole.HEAD)).one()


def _member_codes(session: Session, team_id: int) -> list[str]:
    return list(session.exec(select(Person.code).join(TeamMember, col(TeamMember.person_id) == Person.id)
                             .where(TeamMember.team_id == team_id).order_by(col(TeamMember.id))).all())


def issue_notice(settings: Settings, campaign_code: str, inspection_id: int, decision_ref: str, actor: str,
                  result: StageResult, missing: list[str], replaces: Document | None = None, reason: str = "",
                  changed_on: date | None = None) -> None:
    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code)
        procedure = procedure_for(campaign.period_start)
        inspection = session.get(Inspection, inspection_id)
        assert inspection is not None
        e = session.get(Establishment, inspection.establishment_id)
        assert e is not None
        team = team_context(session, inspection.team_id)
        head_code = _head_code(session, inspection.team_id)
        time_vi = visit_time(session, inspection, procedure)
        issued_on = changed_on or campaign.decision_on or campaign.period_start
        context = {"issuer": _team_issuer(session, campaign, inspection.team_id), "issued_on": issued_on,
                   "campaign": _campaign_ctx(campaign, procedure, 1), "decision_ref": decision_ref,
                   "establishment": {"name": e.name, "tax_code": e.tax_code, "address": e.address,
                                     "legal_representative": e.legal_representative,
                                     "representative_title": e.representative_title},
                   "visit": {"date": inspection.scheduled_on, "weekday_vi": weekday_vi(inspection.scheduled_on),
                             "time_vi": time_vi, "team_name": team["name"],
                             "head": {**team["head"], "phone": _phone(session, head_code)}},
                   "documents_to_prepare": procedure.documents_to_prepare_vi,
                   "signer": {"full_name": team["head"]["full_name"], "title": "Trưởng đoàn"},
                   "drafting_unit": TEAM_DRAFTING_UNIT, **_replaces(replaces, reason)}
        revision = replaces.revision + 1 if replaces else 1
        created = find_document(session, doc_type=DocumentType.INSPECTION_NOTICE,
                                subject_key=f"inspection:{inspection_id}", revision=revision) is None
        doc = issue_document(session, settings, doc_type=DocumentType.INSPECTION_NOTICE,
                             subject_key=f"inspection:{inspection_id}", revision=revision,
                             supersedes_id=replaces.id if replaces else None,
                             issuer_code=context["issuer"]["code"], symbol=procedure.symbol("inspection_notice"),
                             year=issued_on.year, campaign_id=id_of(campaign), inspection_id=inspection_id,
                             template="thong_bao_kiem_tra", build_context=lambda number: {**context, "number": number},
                             actor=actor)
        _tally(result, created)
        contact = _contact(session, "establishment", e.tax_code)
        if contact is None:
            missing.append(e.tax_code)
            return
        enqueue(session, key=f"doc:{doc.id}:establishment:{e.tax_code}", campaign_id=id_of(campaign), inspection_id=inspection_id,
                kind="reschedule" if replaces else "inspection_notice", recipient_kind="establishment",
                recipient_ref=e.tax_code, channel=contact[0],
                address=contact[1], subject=f"Thông báo kiểm tra liên ngành về ATVSLĐ — số {doc.number}",
                body=(f"{team['name']} sẽ làm việc tại {e.name} vào {time_vi} {weekday_vi(inspection.scheduled_on)}, "
                      f"ngày {inspection.scheduled_on:%d/%m/%Y} theo {decision_ref}. Đề nghị người đại diện theo pháp luật "
                      f"có mặt và chuẩn bị hồ sơ theo Thông báo số {doc.number}."))
