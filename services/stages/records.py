"""Stage 3: from submitted findings to violations, biên bản kiểm tra and biên bản vi phạm hành chính.

One transaction per inspection: violations, document numbers, files and the status change commit
together, so a run killed half-way resumes where it stopped and ends with the same records.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlmodel import Session, select

from models import (Agency, Campaign, DocumentType, Establishment, Finding, FindingResult, Inspection, InspectionStatus,
                    Person, Team, TeamMember, TeamRole, Violation)
from services import audit
from services.db import session_scope
from services.intake.logic import is_organisation
from services.issuing import issue_document, latest_document
from services.rules.checklist import load_checklist
from services.rules.fines import load_fine_table, propose_fine, provision_vi
from services.registry.geo import province_area
from services.registry.sectors import sector_name
from services.rules.procedure import procedure_for
from services.stages.visits import visit_time
from services.settings import Settings
from services.stages.common import SYSTEM_ACTOR, StageResult, get_campaign, per_inspection

STAGE = "issue-records"
_RESULT_VI = {FindingResult.PASS: "Đạt", FindingResult.FAIL: "Không đạt", FindingResult.NOT_APPLICABLE: "Không áp dụng"}
_ROLE_VI = {TeamRole.HEAD: "Trưởng đoàn", TeamRole.DEPUTY: "Phó Trưởng đoàn", TeamRole.MEMBER: "Thành viên"}


def pending_inspection_ids(settings: Settings, campaign_code: str, status: InspectionStatus) -> list[int]:
    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code)
        return list(session.exec(select(Inspection.id).where(Inspection.campaign_id == campaign.id,
                                                             Inspection.status == status).order_by(Inspection.id)).all())


def issuer_of(session: Session, campaign: Campaign) -> dict[str, str]:
    agency = session.get(Agency, campaign.lead_agency_id)
    assert agency is not None
    return {"parent_name": agency.parent_name, "name": agency.name, "code": agency.code, "place": agency.place}


def province_committee(session: Session, campaign: Campaign) -> dict[str, str]:
    """The provincial People's Committee as issuer (decisions its Chủ tịch signs)."""
    agency = session.get(Agency, campaign.lead_agency_id)
    assert agency is not None
    return {"parent_name": "", "name": f"Ủy ban nhân dân {province_area(agency.province_code)}",
            "code": f"UBND-{agency.province_code}", "place": agency.place}


def team_context(session: Session, team_id: int) -> dict[str, Any]:
    team = session.get(Team, team_id)
    assert team is not None
    rows = session.exec(select(TeamMember, Person, Agency).join(Person, TeamMember.person_id == Person.id)
                        .join(Agency, Person.agency_id == Agency.id).where(TeamMember.team_id == team_id)
                        .order_by(TeamMember.id)).all()
    members = [{"full_name": p.full_name, "title": p.title, "agency": a.name, "role_vi": _ROLE_VI[TeamRole(m.role)]}
               for m, p, a in rows]
    head = next(({"full_name": p.full_name, "title": p.title, "agency": a.name} for m, p, a in rows
                 if m.role == TeamRole.HEAD), members[0])
    return {"name": team.name, "head": head, "members": members}


def establishment_context(e: Establishment) -> dict[str, Any]:
    return {"name": e.name, "tax_code": e.tax_code, "address": e.address, "legal_representative": e.legal_representative,
            "representative_title": e.representative_title, "sector_vi": sector_name(e.sector_vsic),
            "workforce": e.workforce}


def decision_ref(session: Session, campaign: Campaign) -> str:
    """How documents cite the decision to inspect: its number and date once issued, else the plan."""
    decision = latest_document(session, doc_type=DocumentType.INSPECTION_DECISION, subject_key=f"campaign:{campaign.id}")
    if decision is None:
        return f"Kế hoạch kiểm tra liên ngành {campaign.code}"
    return f"Quyết định số {decision.number} ngày {(decision.issued_on or campaign.period_start):%d/%m/%Y}"


def campaign_context(session: Session, c: Campaign) -> dict[str, Any]:
    return {"code": c.code, "title": c.title, "legal_basis": c.legal_basis, "decision_ref": decision_ref(session, c)}


def violations_context(violations: Sequence[Violation], amount_attr: str = "proposed_amount") -> list[dict[str, Any]]:
    table = load_fine_table()
    out = []
    for v in violations:
        rule = table.get(v.provision_code)
        out.append({"description": rule.description_vi, "provision_vi": provision_vi(rule),
                    "amount": getattr(v, amount_attr), "amount_basis_vi": " ".join(v.reasoning),
                    "remedial_vi": rule.remedial_measure or ""})
    return out


def _violations_for(session: Session, inspection: Inspection, establishment: Establishment,
                    findings: Sequence[Finding]) -> list[Violation]:
    """One violation per sanctioned act: failed items that fall under the same clause are one act, counted
    once with the largest number of workers or devices any of them reported."""
    existing = {v.finding_id: v for v in session.exec(select(Violation).where(Violation.inspection_id == inspection.id)).all()}
    checklist, table = load_checklist(inspection.scheduled_on), load_fine_table()
    acts: dict[str, list[Finding]] = {}
    for f in findings:
        if f.result == FindingResult.FAIL:
            acts.setdefault(checklist.get(f.item_code).provision, []).append(f)
    out = []
    for provision, group in acts.items():
        first = group[0]
        if first.id in existing:
            out.append(existing[first.id])
            continue
        items = [checklist.get(f.item_code) for f in group]
        workers = max((f.workers_affected or 0 for f in group), default=0) if any(i.counts_workers for i in items) else None
        devices = max((f.devices_affected or 0 for f in group), default=0) if any(i.counts_devices for i in items) else None
        proposal = propose_fine(table.get(provision), organisation=is_organisation(establishment), workers=workers,
                                devices=devices, aggravating=1 if establishment.past_violations > 0 else 0)
        v = Violation(inspection_id=inspection.id, finding_id=first.id, provision_code=proposal.code,
                      proposed_amount=proposal.amount, range_min=proposal.range_min, range_max=proposal.range_max,
                      reasoning=list(proposal.reasoning_vi))
        session.add(v)
        out.append(v)
    session.flush()
    return out


def issue_for_inspection(settings: Settings, inspection_id: int, *, actor: str = SYSTEM_ACTOR,
                         drawn_up_on: date | None = None) -> str:
    """Issue the records of one inspection in one transaction. Returns what happened.

    The minutes are dated the day of the visit (drawn up on site). The violation record is dated
    ``drawn_up_on`` when it was drawn up later (the law allows 2 working days, 5 if complex; the deadline
    sweeper escalates a late one); by default it too was drawn up on site, the day of discovery.
    """
    with session_scope(settings) as session:
        inspection = session.get(Inspection, inspection_id, with_for_update=True)  # concurrent runs: one at a time
        if inspection is None or inspection.status != InspectionStatus.FINDINGS_APPROVED:
            return "already"
        campaign = session.get(Campaign, inspection.campaign_id)
        establishment = session.get(Establishment, inspection.establishment_id)
        assert campaign is not None and establishment is not None
        findings = session.exec(select(Finding).where(Finding.inspection_id == inspection_id).order_by(Finding.item_code)).all()
        violations = _violations_for(session, inspection, establishment, findings)
        procedure = procedure_for(inspection.scheduled_on)
        start = visit_time(session, inspection, procedure)
        checklist = load_checklist(inspection.scheduled_on)
        issuer = issuer_of(session, campaign)
        base = {"issuer": issuer, "issued_on": inspection.scheduled_on, "campaign": campaign_context(session, campaign),
                "team": team_context(session, inspection.team_id), "establishment": establishment_context(establishment),
                "inspection": {"date": inspection.scheduled_on, "start_time": start,
                               "end_time": f"{int(start[:2]) + procedure.visit_hours:02d}{start[2:]}",
                               "place": establishment.address},
                "findings": [{"item_code": f.item_code, "item_text": checklist.get(f.item_code).text_vi,
                              "result_vi": _RESULT_VI[FindingResult(f.result)], "workers_affected": f.workers_affected,
                              "note": f.note} for f in findings],
                "violations": violations_context(violations),
                "total_amount": sum(v.proposed_amount for v in violations)}
        year = inspection.scheduled_on.year
        common = {"issuer_code": issuer["code"], "year": year, "campaign_id": campaign.id, "inspection_id": inspection.id,
                  "actor": actor}
        minutes = issue_document(session, settings, doc_type=DocumentType.MINUTES, subject_key=f"inspection:{inspection.id}",
                                 symbol=procedure.symbol("minutes"), template="bien_ban_kiem_tra",
                                 build_context=lambda number: {**base, "number": number}, **common)
        if violations:
            record_ctx = {**base, "issued_on": max(drawn_up_on or inspection.scheduled_on, inspection.scheduled_on),
                          "minutes_ref": f"Biên bản kiểm tra số {minutes.number}",
                          "discovered_on": inspection.scheduled_on,
                          "explain_deadline_vi": f"{procedure.explain_working_days:02d} ngày làm việc",
                          "explain_place": f"{issuer['name']} {issuer['parent_name'].removeprefix('UBND ')}".strip()}
            issue_document(session, settings, doc_type=DocumentType.VIOLATION_RECORD,
                           subject_key=f"inspection:{inspection.id}", symbol=procedure.symbol("violation_record"),
                           template="bien_ban_vi_pham", build_context=lambda number: {**record_ctx, "number": number},
                           **common)
        audit.transition(session, inspection, InspectionStatus.RECORDS_ISSUED, actor=actor,
                         reason=f"Ban hành biên bản kiểm tra {minutes.number}"
                                + (f" và biên bản vi phạm ({len(violations)} hành vi)" if violations else ""))
        if not violations:
            audit.transition(session, inspection, InspectionStatus.CLOSED, actor=actor,
                             reason="Không phát hiện vi phạm")
        return "issued"


def issue_records(settings: Settings, campaign_code: str, inspection_ids: Sequence[int], *,
                  actor: str = SYSTEM_ACTOR) -> StageResult:
    return per_inspection(STAGE, campaign_code, inspection_ids,
                          lambda i: issue_for_inspection(settings, i, actor=actor) == "issued")
