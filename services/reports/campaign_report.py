"""Báo cáo kết quả kiểm tra (DOMAIN.md 2.8): one campaign's report to the decision-maker, issued with a number.

Contents (template ``bao_cao_ket_qua_kiem_tra``): the overview (objects, establishments inspected, teams and
agencies), violations by provision and by agency (tables and bar charts), fines proposed and final, remedial
measures and compliance with the decisions (``Deadline`` rows of kind ``remedial`` and ``comply``: due, met,
open, overdue on the report's date), and the recommendations.

The report is a snapshot on its date: :func:`issue_campaign_report` issues revision 1 once (issuing again
returns the stored one, services.issuing); a later state is reported by a new revision (``revision=2``).

The number's symbol is the procedure's ``document_symbols.report``; the procedure files have no such key yet,
so :data:`DEFAULT_SYMBOL` (``BC-ĐKT``: báo cáo of the đoàn kiểm tra, as KH-ĐKT and TB-ĐKT) is used meanwhile.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlmodel import Session, select

from models import (Agency, Campaign, CampaignKind, Deadline, DeadlineKind, DeadlineStatus, Document, DocumentType,
                    Establishment, Finding, Inspection, InspectionStatus, Person, PersonRole, Selection, Team, TeamMember,
                    Violation)
from services.db import session_scope
from services.issuing import find_document, issue_document
from services.rules.checklist import load_checklist
from services.rules.procedure import Procedure, procedure_for
from services.settings import Settings
from services.stages.common import get_campaign
from services.stages.records import decision_ref, issuer_of

TEMPLATE = "bao_cao_ket_qua_kiem_tra"
DEFAULT_SYMBOL = "BC-ĐKT"
SYMBOL_KEY = "report"
ACTOR = "system"
VISITED = frozenset({InspectionStatus.FINDINGS_SUBMITTED, InspectionStatus.FINDINGS_RETURNED,
                     InspectionStatus.FINDINGS_APPROVED, InspectionStatus.RECORDS_ISSUED, InspectionStatus.SANCTIONED,
                     InspectionStatus.CLOSED})
AGENCY_KIND_VI = {"labour": "an toàn lao động", "health": "vệ sinh lao động, chăm sóc sức khỏe người lao động"}
_CODE = re.compile(r"^12/2022/ND-CP Art\.(\d+) cl\.(\d+)(?:\(([a-zđ])\))?$")

DEFAULT_RECOMMENDATIONS = (
    "Đề nghị các cơ sở có vi phạm thực hiện đầy đủ các biện pháp khắc phục hậu quả và quyết định xử phạt đúng thời hạn; "
    "đoàn kiểm tra tiếp tục theo dõi, kiểm tra việc khắc phục.",
    "Đề nghị cơ quan có thẩm quyền tiếp tục tăng cường kiểm tra việc khám phát hiện bệnh nghề nghiệp và quan trắc môi "
    "trường lao động tại các cơ sở có yếu tố có hại.",
)


def symbol_of(procedure: Procedure, key: str = SYMBOL_KEY, default: str = DEFAULT_SYMBOL) -> str:
    """The procedure's symbol for ``key``, or ``default`` while the procedure files lack it."""
    return str(procedure.raw.get("document_symbols", {}).get(key, default))


def provision_short(code: str) -> str:
    """'12/2022/ND-CP Art.22 cl.2' -> 'khoản 2 Điều 22'; '… Art.21 cl.2(b)' -> 'điểm b khoản 2 Điều 21'."""
    match = _CODE.match(code)
    if not match:
        return code
    article, clause, point = match.groups()
    return f"{f'điểm {point} ' if point else ''}khoản {clause} Điều {article}"


def _agency_names(session: Session, campaign: Campaign) -> dict[str, str]:
    """Agency kind ("labour", "health") -> the name of that agency of the campaign's province."""
    lead = session.get(Agency, campaign.lead_agency_id)
    assert lead is not None
    rows = session.exec(select(Agency).where(Agency.province_code == lead.province_code).order_by(Agency.id)).all()
    out: dict[str, str] = {}
    for agency in rows:
        out.setdefault(str(agency.kind), agency.name)
    return out


def _violations(session: Session, campaign: Campaign) -> list[tuple[Violation, Finding, Inspection]]:
    return list(session.exec(select(Violation, Finding, Inspection).join(Finding, Violation.finding_id == Finding.id)
                             .join(Inspection, Violation.inspection_id == Inspection.id)
                             .where(Inspection.campaign_id == campaign.id).order_by(Violation.id)).all())


def _by_provision(rows: Sequence[tuple[Violation, Finding, Inspection]]) -> list[dict[str, Any]]:
    groups: dict[str, list[Violation]] = defaultdict(list)
    for v, _, _ in rows:
        groups[v.provision_code].append(v)
    out = [{"code": code, "label": provision_short(code), "count": len(vs),
            "proposed": sum(v.proposed_amount for v in vs), "final": sum(v.final_amount or 0 for v in vs)}
           for code, vs in groups.items()]
    return sorted(out, key=lambda r: (-r["count"], r["label"]))


def _by_agency(rows: Sequence[tuple[Violation, Finding, Inspection]], names: dict[str, str]) -> list[dict[str, Any]]:
    counts: Counter[str] = Counter()
    for _, finding, inspection in rows:
        item = load_checklist(inspection.scheduled_on).get(finding.item_code)
        counts[item.agency] += 1
    return [{"label": names.get(kind) or AGENCY_KIND_VI.get(kind, kind), "area_vi": AGENCY_KIND_VI.get(kind, kind), "count": n}
            for kind, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _remedies(session: Session, campaign: Campaign, on: date) -> dict[str, Any]:
    rows = session.exec(select(Deadline).where(Deadline.campaign_id == campaign.id,
                                               Deadline.kind.in_([DeadlineKind.REMEDIAL, DeadlineKind.COMPLY]),  # type: ignore[attr-defined]
                                               Deadline.status != DeadlineStatus.CANCELLED)).all()

    def tally(kind: DeadlineKind) -> dict[str, int]:
        mine = [d for d in rows if d.kind == kind]
        return {"due": len(mine), "met": sum(1 for d in mine if d.status == DeadlineStatus.MET),
                "open": sum(1 for d in mine if d.status == DeadlineStatus.OPEN),
                "overdue": sum(1 for d in mine if d.status == DeadlineStatus.OPEN and d.due_on < on)}

    return {"remedial": tally(DeadlineKind.REMEDIAL), "comply": tally(DeadlineKind.COMPLY)}


def _teams(session: Session, campaign: Campaign) -> list[dict[str, Any]]:
    teams = session.exec(select(Team).where(Team.campaign_id == campaign.id).order_by(Team.number)).all()
    out = []
    for team in teams:
        members = session.exec(select(TeamMember).where(TeamMember.team_id == team.id)).all()
        inspections = session.exec(select(Inspection).where(Inspection.team_id == team.id)).all()
        out.append({"name": team.name, "members": len(members), "inspections": len(inspections)})
    return out


def report_context(session: Session, campaign: Campaign, *, issued_on: date,
                   recommendations: Sequence[str] | None = None) -> dict[str, Any]:
    """Everything the template prints (without ``number``)."""
    inspections = session.exec(select(Inspection).where(Inspection.campaign_id == campaign.id)).all()
    visited = [i for i in inspections if InspectionStatus(i.status) in VISITED]
    selected = session.exec(select(Selection).where(Selection.campaign_id == campaign.id,
                                                    Selection.removed == False)).all()  # noqa: E712
    names = _agency_names(session, campaign)
    members = session.exec(select(Agency).where(Agency.code.in_(campaign.member_agency_codes))  # type: ignore[attr-defined]
                           .order_by(Agency.id)).all()
    rows = _violations(session, campaign)
    decided = [v for v, _, _ in rows if v.final_amount is not None]
    violators = {i.establishment_id for _, _, i in rows}
    establishment_names = {e.id: e.name for e in session.exec(select(Establishment).where(
        Establishment.id.in_(violators)))} if violators else {}  # type: ignore[attr-defined]
    lead = session.exec(select(Person).where(Person.role == PersonRole.LEAD, Person.agency_id == campaign.lead_agency_id)
                        .order_by(Person.code)).first()
    decisions = session.exec(select(Document).where(Document.campaign_id == campaign.id,
                                                    Document.doc_type == DocumentType.SANCTION_DECISION)).all()
    lead_agency = session.get(Agency, campaign.lead_agency_id)
    assert lead_agency is not None
    return {
        "issuer": issuer_of(session, campaign), "issued_on": issued_on,
        "campaign": {"code": campaign.code, "title": campaign.title, "period_start": campaign.period_start,
                     "period_end": campaign.period_end, "decision_ref": decision_ref(session, campaign),
                     "kind_vi": "đột xuất" if campaign.kind == CampaignKind.SURPRISE else "theo kế hoạch",
                     "agencies_vi": ", ".join([lead_agency.name, *(a.name for a in members)])},
        "overview": {"selected": len(selected), "scheduled": len(inspections), "inspected": len(visited),
                     "not_inspected": len(inspections) - len(visited), "teams": _teams(session, campaign)},
        "violations": {"count": len(rows), "establishments": len(violators),
                       "establishments_vi": sorted(establishment_names.values()),
                       "by_provision": _by_provision(rows), "by_agency": _by_agency(rows, names)},
        "fines": {"proposed": sum(v.proposed_amount for v, _, _ in rows), "final": sum(v.final_amount or 0 for v in decided),
                  "decided": len(decided), "undecided": len(rows) - len(decided),
                  "proposed_of_decided": sum(v.proposed_amount for v in decided), "decisions": len(decisions)},
        "remedies": _remedies(session, campaign, issued_on),
        "recommendations": list(recommendations if recommendations is not None else DEFAULT_RECOMMENDATIONS),
        "signer": {"full_name": lead.full_name if lead else "", "title": lead.title if lead else "Trưởng đoàn"},
    }


def issue_campaign_report(settings: Settings, campaign_code: str, *, issued_on: date, actor: str = ACTOR,
                          recommendations: Sequence[str] | None = None, revision: int = 1) -> Document:
    """Issue the campaign's report (once per revision; issuing again returns the stored one)."""
    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code)
        assert campaign.id is not None
        context = report_context(session, campaign, issued_on=issued_on, recommendations=recommendations)
        previous = None
        if revision > 1:
            previous = find_document(session, doc_type=DocumentType.REPORT, subject_key=f"campaign:{campaign.id}",
                                     revision=revision - 1)
        return issue_document(session, settings, doc_type=DocumentType.REPORT, subject_key=f"campaign:{campaign.id}",
                              issuer_code=context["issuer"]["code"], symbol=symbol_of(procedure_for(issued_on)),
                              year=issued_on.year, campaign_id=campaign.id, inspection_id=None, template=TEMPLATE,
                              build_context=lambda number: {**context, "number": number}, actor=actor,
                              revision=revision, supersedes_id=previous.id if previous else None)


__all__ = ["DEFAULT_SYMBOL", "TEMPLATE", "issue_campaign_report", "provision_short", "report_context", "symbol_of"]
