"""Stage 3: from submitted findings to violations, biên bản kiểm tra and biên bản vi phạm hành chính.

One transaction per inspection: violations, document numbers, files and the status change commit
together, so a run killed half-way resumes where it stopped and ends with the same records.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, TypedDict

from sqlmodel import Session, col, select

from models import (Agency, Campaign, DocumentType, Establishment, Finding, FindingResult, Inspection, InspectionStatus,
                    Person, Team, TeamMember, TeamRole, Violation)
from services import audit
from services.db import session_scope
from services.delivery import document_delivery
from services.documents.issuing import issue_document, latest_document
from services.rules.checklist import Checklist, load_checklist
from services.errors import StageBlocked
from services.documents.acts import act_line, counts_vi, violation_line
from services.rules.circumstances import derive_repeat, describe_circumstances, load_circumstances
from services.rules.decrees import act_key, decree_of
from services.rules.fines import load_fine_table, vnd
from services.rules.deadline_rules import ExplainAct, explanation_rights, suspends
from services.rules.procedure import Procedure, competent_signer
from services.rules.sanctions import issuing_body, plan_act
from services.errors import NotSanctioned
from services.stages.history import decided_before, sanction_history
from services.registry.geo import province_area
from services.registry.sectors import sector_name
from services.rules.procedure import procedure_for
from services.stages.visits import visit_time
from services.settings import Settings
from services.text_policy import printable
from models.base import id_of, stored_ids
from services.stages.common import SYSTEM_ACTOR, Outcome, StageResult, get_campaign, per_inspection

STAGE = "issue-records"
_RESULT_VI = {FindingResult.PASS: "Đạt", FindingResult.FAIL: "Không đạt", FindingResult.NOT_APPLICABLE: "Không áp dụng"}
_ROLE_VI = {TeamRole.HEAD: "Trưởng đoàn", TeamRole.DEPUTY: "Phó Trưởng đoàn", TeamRole.MEMBER: "Thành viên"}


def pending_inspection_ids(settings: Settings, campaign_code: str, status: InspectionStatus) -> list[int]:
    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code)
        return stored_ids(session.exec(select(Inspection.id).where(Inspection.campaign_id == campaign.id,
                                                                   Inspection.status == status).order_by(col(Inspection.id))).all())


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
    rows = session.exec(select(TeamMember, Person, Agency).join(Person, col(TeamMember.person_id) == Person.id)
                        .join(Agency, col(Person.agency_id) == Agency.id).where(TeamMember.team_id == team_id)
                        .order_by(col(TeamMember.id))).all()
    members = [{"full_name": p.full_name, "title": p.title, "agency": a.name, "role_vi": _ROLE_VI[TeamRole(m.role)]}
               for m, p, a in rows]
    head = next(({"full_name": p.full_name, "title": p.title, "agency": a.name} for m, p, a in rows
                 if m.role == TeamRole.HEAD), members[0])
    return {"name": team.name, "head": head, "members": members}


def establishment_context(e: Establishment) -> dict[str, Any]:
    """The violator as documents name it: an organisation, or a household business fined as an individual (NĐ
    283/2026 Art.7 cl.3) whose owner is named."""
    organisation = e.is_organisation
    return {"organisation": organisation, "individual": not organisation,
            "kind_vi": "tổ chức" if organisation else "hộ kinh doanh (xử phạt như đối với cá nhân)",
            "tax_code_label_vi": "Mã số doanh nghiệp" if organisation else "Mã số thuế của hộ kinh doanh",
            "signer_label_vi": "Đại diện tổ chức vi phạm" if organisation else "Chủ hộ kinh doanh vi phạm",
            "violator_vi": "đại diện tổ chức vi phạm" if organisation else "chủ hộ kinh doanh vi phạm",
            "violator_short_vi": "tổ chức vi phạm" if organisation else "hộ kinh doanh vi phạm",
            "representative_role_vi": "người đại diện của tổ chức" if organisation else "chủ hộ kinh doanh",
            "name": printable(e.name, multiline=False), "tax_code": e.tax_code,
            "address": printable(e.address, multiline=False),
            "legal_representative": printable(e.legal_representative, multiline=False),
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
    """The acts as documents print them: the provision of the decree applied, the amount, the named circumstances."""
    table = load_fine_table()
    catalog = None
    out = []
    for v in violations:
        rule = table.get(v.provision_code)
        if catalog is None:
            catalog = load_circumstances(v.decided_on or date.today())
        line = violation_line(v, rule, amount=getattr(v, amount_attr))
        out.append({"description": line["act_vi"], "provision_vi": line["provision_vi"], "amount": line["amount"],
                    "decree_vi": decree_of(v.provision_code).number_vi, "amount_basis_vi": " ".join(v.reasoning),
                    "circumstances_vi": _circumstances_vi(v, catalog),
                    "aggravating_vi": _named(v.aggravating, v, catalog), "mitigating_vi": _named(v.mitigating, v, catalog),
                    "amount_reason": v.amount_reason or "",
                    "committed_vi": ("hành vi đang thực hiện tại thời điểm phát hiện" if v.ongoing else
                                     f"hành vi đã kết thúc ngày {v.committed_on:%d/%m/%Y}" if v.committed_on else
                                     "hành vi đã kết thúc trước thời điểm phát hiện"),
                    "remedial_vi": rule.remedial_measure or ""})
    return out


def _circumstances_vi(v: Violation, catalog: Any) -> str:
    """The circumstances named with their legal points, then the basis of any the engine derived (the earlier
    decision of a repeat offence), as sentences: "Tình tiết tăng nặng: tái phạm (…). Tái phạm: …"."""
    text = describe_circumstances([*v.mitigating, *v.aggravating], catalog)
    text = text[0].upper() + text[1:]
    basis = " ".join(d["text_vi"].rstrip(".") + "." for d in v.derived)
    return f"{text}. {basis}".rstrip(". ") if basis else text


def _named(codes: Sequence[str], v: Violation, catalog: Any) -> str:
    """One kind of circumstances of an act, named with their points, and the basis of a derived one: "" for none."""
    if not codes:
        return ""
    text = ", ".join(f"{catalog.get(c).short_vi} ({catalog.citation_vi(c)})" for c in codes)
    basis = [d["text_vi"].rstrip(".") for d in v.derived if d["code"] in codes]
    return f"{text} — {'; '.join(basis)}" if basis else text


def _violations_for(session: Session, inspection: Inspection, establishment: Establishment,
                    findings: Sequence[Finding]) -> list[Violation]:
    """One violation per sanctioned act: failed items that fall under the same provision (of the decree that applies
    to them, NĐ 283/2026 Art.67) are one act, counted once with the largest number of workers or devices any of them
    reported. A repeat offence (tái phạm) derived from the establishment's dated history is an aggravating
    circumstance of the proposal from the start."""
    existing = {v.finding_id: v for v in session.exec(select(Violation).where(Violation.inspection_id == inspection.id)).all()}
    checklist = load_checklist(inspection.scheduled_on)
    organisation = establishment.is_organisation
    acts: dict[str, list[tuple[Finding, Any]]] = {}
    for f in findings:
        if f.result == FindingResult.FAIL:
            item = checklist.get(f.item_code)
            try:
                planned = plan_act(item, discovered_on=inspection.scheduled_on, committed_on=f.committed_on,
                                   ongoing=f.ongoing, organisation=organisation, workers=f.workers_affected or 1,
                                   devices=f.devices_affected or 1)
            except NotSanctioned as exc:  # recorded in the minutes' findings; no violation, said why (audit)
                audit.record(session, actor=SYSTEM_ACTOR, action="act_not_sanctioned", entity=inspection,
                             reason=exc.message, data={"item_code": f.item_code})
                continue
            acts.setdefault(item.provision_for(planned.decree.key), []).append((f, item))
    history = sanction_history(session, id_of(establishment), excluding_inspection=inspection.id)
    circumstances = load_circumstances(inspection.scheduled_on)
    out = []
    for group in acts.values():
        first, item = group[0]
        if first.id in existing:
            out.append(existing[first.id])
            continue
        workers = max((f.workers_affected or 0 for f, _ in group), default=0) if item.counts_workers else None
        devices = max((f.devices_affected or 0 for f, _ in group), default=0) if item.counts_devices else None
        committed = min((f.committed_on for f, _ in group if f.committed_on), default=None)
        planned = plan_act(item, discovered_on=inspection.scheduled_on, committed_on=committed, ongoing=first.ongoing,
                           organisation=organisation, workers=workers, devices=devices)
        key = act_key(planned.provision_code)
        repeat = derive_repeat(key, committed or inspection.scheduled_on, decided_before(history, inspection.scheduled_on),
                               circumstances)
        derived = [repeat] if repeat is not None else []
        if derived:
            planned = plan_act(item, discovered_on=inspection.scheduled_on, committed_on=committed, ongoing=first.ongoing,
                               organisation=organisation, workers=workers, devices=devices, aggravating=len(derived))
        rule = load_fine_table().get(planned.provision_code)
        act = act_line(rule, item, workers=workers, devices=devices,
                       notes=[printable(f.note, multiline=False) for f, _ in group])
        v = Violation(inspection_id=id_of(inspection), finding_id=id_of(first), provision_code=planned.proposal.code,
                      decree=planned.decree.key, act_key=key, committed_on=committed, ongoing=planned.ongoing,
                      act_vi=act, workers=workers, devices=devices,
                      proposed_amount=planned.proposal.amount, range_min=planned.proposal.range_min,
                      range_max=planned.proposal.range_max, reasoning=list(planned.proposal.reasoning_vi),
                      aggravating=[d.code for d in derived],
                      derived=[{"code": d.code, "text_vi": d.sentence_vi} for d in derived])
        session.add(v)
        out.append(v)
    session.flush()
    return out


def record_drafter(session: Session, team_id: int, procedure: Procedure) -> dict[str, str]:
    """The team member who draws up the violation record: one the procedure in force lets draw it up (NĐ 283/2026
    Art.54 cl.2: công chức, viên chức Sở Nội vụ), the head first."""
    rows = session.exec(select(TeamMember, Person, Agency).join(Person, col(TeamMember.person_id) == Person.id)
                        .join(Agency, col(Person.agency_id) == Agency.id).where(TeamMember.team_id == team_id)
                        .order_by(col(TeamMember.id))).all()
    allowed = set(procedure.record_drafter_agency_kinds)
    competent = [(m, p, a) for m, p, a in rows if str(a.kind) in allowed]
    if not competent:
        raise StageBlocked(f"Đoàn kiểm tra không có thành viên có thẩm quyền lập biên bản vi phạm hành chính "
                           f"({procedure.record_drafter_source}).", team_id=team_id)
    m, p, a = min(competent, key=lambda r: (r[0].role != TeamRole.HEAD, r[0].id))
    return {"full_name": p.full_name, "title": p.title, "agency": a.name, "role_vi": _ROLE_VI[TeamRole(m.role)]}


def file_decider(session: Session, campaign: Campaign, violations: Sequence[Violation], establishment: Establishment,
                 procedure: Procedure) -> dict[str, Any]:
    """The body and title competent for the file under ``procedure`` (the lowest competent title)."""
    agency = session.get(Agency, campaign.lead_agency_id)
    assert agency is not None
    signer = competent_signer([v.range_max for v in violations], organisation=establishment.is_organisation,
                              procedure=procedure)
    return issuing_body(signer, area_vi=province_area(agency.province_code), labour_department_vi=procedure.labour_department_vi,
                        department_code=agency.code, province_code=agency.province_code, place=agency.place,
                          department_parent_vi=agency.parent_name)


def competence_vi(violations: Sequence[Violation], establishment: Establishment, procedure: Procedure,
                  decider: dict[str, Any]) -> str:
    """Why the file goes to that title: each act's range maximum against the routable titles' ceilings (per act,
    organisations ×2, Luật XLVPHC Art.52 as amended), under the procedure in force on the record's day."""
    organisation = establishment.is_organisation
    worst = max(v.range_max for v in violations)
    ceilings = "; ".join(f"{s.title} đến {vnd(s.ceiling_vnd(organisation=organisation))} mỗi hành vi ({s.source})"
                         for s in sorted(procedure.signers, key=lambda s: s.ceiling_individual_vnd))
    whom = "tổ chức (gấp 02 lần cá nhân)" if organisation else "cá nhân"
    return (f"mức phạt tối đa cao nhất của các hành vi trong hồ sơ là {vnd(worst)}; thẩm quyền phạt tiền đối với {whom}: "
            f"{ceilings}. Hồ sơ thuộc thẩm quyền của {decider['decider_vi']}.")


def explanation_context(record_on: date, violations: Sequence[Violation], establishment: Establishment,
                        procedure: Procedure, decider: dict[str, Any]) -> dict[str, Any]:
    """The violator's right to explain as the record prints it (Luật XLVPHC Art.61): only where an act's range
    reaches the threshold; addressed to the official competent to decide."""
    table = load_fine_table()
    acts = [ExplainAct(v.range_max, suspension=suspends(table.get(v.provision_code).additional_penalty)) for v in violations]
    rights = explanation_rights(record_on, acts, establishment.is_organisation, procedure, decider=decider["decider_vi"],
                                violator_vi=establishment.name)
    return {"explanation_vi": rights.sentence_vi if rights is not None else
            "Hành vi vi phạm không thuộc trường hợp được giải trình theo khoản 1 Điều 61 Luật Xử lý vi phạm hành chính."}


def _minutes_context(session: Session, inspection: Inspection, campaign: Campaign, establishment: Establishment,
                     issuer: dict[str, str], procedure: Procedure, start: str, checklist: Checklist,
                     findings: Sequence[Finding], violations: Sequence[Violation]) -> dict[str, Any]:
    """The context every record of the inspection shares: issuer, campaign, team, establishment, visit, findings, acts."""
    return {"issuer": issuer, "issued_on": inspection.scheduled_on, "campaign": campaign_context(session, campaign),
            "team": team_context(session, inspection.team_id), "establishment": establishment_context(establishment),
            "inspection": {"date": inspection.scheduled_on, "start_time": start,
                           "end_time": f"{int(start[:2]) + procedure.visit_hours:02d}{start[2:]}",
                           "place": establishment.address},
            "findings": [{"item_code": f.item_code, "item_text": checklist.get(f.item_code).text_vi,
                          "result_vi": _RESULT_VI[FindingResult(f.result)], "workers_affected": f.workers_affected,
                          "counts_vi": counts_vi(f.workers_affected, f.devices_affected), "note": printable(f.note)}
                         for f in findings],
            "violations": violations_context(violations),
            "total_amount": sum(v.proposed_amount for v in violations)}


class _Issuing(TypedDict):
    """What an inspection's documents share when issued (``issue_document``'s keywords)."""
    issuer_code: str
    year: int
    campaign_id: int
    inspection_id: int | None
    actor: str


def issue_for_inspection(settings: Settings, inspection_id: int, *, actor: str = SYSTEM_ACTOR,
                         drawn_up_on: date | None = None) -> Outcome:
    """Issue the records of one inspection in one transaction. Returns what happened.

    The minutes are dated the day of the visit (drawn up on site). The violation record is dated ``drawn_up_on`` when
    it was drawn up later (the law allows 2 working days, 5 if complex; the deadline sweeper escalates a late one); by
    default it too was drawn up on site, the day of discovery. The record's e-mail delivery is queued with it."""
    with session_scope(settings) as session:
        inspection = session.get(Inspection, inspection_id, with_for_update=True)  # concurrent runs: one at a time
        if inspection is None or inspection.status != InspectionStatus.FINDINGS_APPROVED:
            return Outcome.ALREADY
        campaign = session.get(Campaign, inspection.campaign_id)
        establishment = session.get(Establishment, inspection.establishment_id)
        assert campaign is not None and establishment is not None
        findings = session.exec(select(Finding).where(Finding.inspection_id == inspection_id).order_by(Finding.item_code)).all()
        violations = _violations_for(session, inspection, establishment, findings)
        procedure = procedure_for(inspection.scheduled_on)
        start = visit_time(session, inspection, procedure)
        checklist = load_checklist(inspection.scheduled_on)
        issuer = issuer_of(session, campaign)
        base = _minutes_context(session, inspection, campaign, establishment, issuer, procedure, start, checklist, findings,
                                violations)
        year = inspection.scheduled_on.year
        common = _Issuing(issuer_code=issuer["code"], year=year, campaign_id=id_of(campaign), inspection_id=inspection.id,
                          actor=actor)
        minutes = issue_document(session, settings, doc_type=DocumentType.MINUTES, subject_key=f"inspection:{inspection.id}",
                                 symbol=procedure.symbol("minutes"), template="bien_ban_kiem_tra",
                                 build_context=lambda number: {**base, "number": number}, **common)
        if violations:
            record_on = max(drawn_up_on or inspection.scheduled_on, inspection.scheduled_on)
            on_record = procedure_for(record_on)  # who draws up, who decides, the rights: the rules of the record's day
            decider = file_decider(session, campaign, violations, establishment, on_record)
            on_site = record_on == inspection.scheduled_on  # drawn up during the visit: its times are the visit's
            record_ctx = {**base, "issued_on": record_on, "minutes_ref": f"Biên bản kiểm tra số {minutes.number}",
                          **({"record_time": base["inspection"]["start_time"],
                              "record_end_time": base["inspection"]["end_time"]} if on_site else {}),
                          "discovered_on": inspection.scheduled_on,
                          "drafter": record_drafter(session, inspection.team_id, on_record),
                          "decider_vi": decider["decider_vi"],
                          **explanation_context(record_on, violations, establishment, on_record, decider)}
            record = issue_document(session, settings, doc_type=DocumentType.VIOLATION_RECORD,
                                    subject_key=f"inspection:{inspection.id}", symbol=procedure.symbol("violation_record"),
                                    template="bien_ban_vi_pham", build_context=lambda number: {**record_ctx, "number": number},
                                    **common)
            document_delivery.enqueue_document(session, settings, record)  # e-mailed to the violator, this transaction
            proposal_ctx = {**record_ctx, "violation_record_ref": f"Biên bản vi phạm hành chính số {record.number} lập "
                                                                  f"ngày {record_on:%d/%m/%Y}",
                            "violations": [{**line, "working": list(v.reasoning)}
                                           for line, v in zip(record_ctx["violations"], violations, strict=True)],
                            "competence_vi": competence_vi(violations, establishment, on_record, decider)}
            issue_document(session, settings, doc_type=DocumentType.PROPOSAL, subject_key=f"inspection:{inspection.id}",
                           symbol=procedure.symbol("proposal"), template="to_trinh_xu_phat",
                           build_context=lambda number: {**proposal_ctx, "number": number}, **common)
        audit.transition(session, inspection, InspectionStatus.RECORDS_ISSUED, actor=actor,
                         reason=f"Ban hành biên bản kiểm tra {minutes.number}"
                                + (f" và biên bản vi phạm ({len(violations)} hành vi)" if violations else ""))
        if not violations:
            audit.transition(session, inspection, InspectionStatus.CLOSED, actor=actor,
                             reason="Không phát hiện vi phạm")
        return Outcome.ISSUED


def issue_records(settings: Settings, campaign_code: str, inspection_ids: Sequence[int], *,
                  actor: str = SYSTEM_ACTOR) -> StageResult:
    return per_inspection(STAGE, campaign_code, inspection_ids,
                          lambda i: issue_for_inspection(settings, i, actor=actor), settings=settings)
