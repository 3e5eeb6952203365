"""The campaign report's figures (:mod:`services.reports.campaign_report`), computed from the stored rows: the
violations by provision, by field and by establishment, repeat offences, the sanction decisions in force, the
compliance and remedial deadlines on the report's date, the teams, the sectors visited, the documents drawn up."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from models import (Agency, Campaign, Deadline, DeadlineKind, DeadlineStatus, Document, DocumentType, Establishment,
                    Finding, Inspection, InspectionStatus, Team, TeamMember, Violation)
from services.documents.issuing import latest_document
from services.documents.selection_list import plan_in_basis, sector_vi
from services.reports.report_wording import STATE_VI, act_vi, measure_vi, provision_short
from services.rules.checklist import load_checklist
from services.rules.fines import load_fine_table
from services.stages.records import province_committee
from services.text_collation import collation_key

VISITED = frozenset({InspectionStatus.FINDINGS_SUBMITTED, InspectionStatus.FINDINGS_RETURNED,
                     InspectionStatus.FINDINGS_APPROVED, InspectionStatus.RECORDS_ISSUED, InspectionStatus.SANCTIONED,
                     InspectionStatus.CLOSED})
AGENCY_KIND_VI = {"labour": "an toàn lao động", "health": "vệ sinh lao động, chăm sóc sức khỏe người lao động"}
REPEAT_CODES = frozenset({"tang_nang_tai_pham"})  # the circumstance catalog's repeat_window.code (tái phạm)


def agency_names(session: Session, campaign: Campaign) -> dict[str, str]:
    """Agency kind ("labour", "health") -> the name of that agency of the campaign's province."""
    lead = session.get(Agency, campaign.lead_agency_id)
    assert lead is not None
    rows = session.exec(select(Agency).where(Agency.province_code == lead.province_code).order_by(col(Agency.id))).all()
    out: dict[str, str] = {}
    for agency in rows:
        out.setdefault(str(agency.kind), agency.name)
    return out


Row = tuple[Violation, Finding, Inspection]


def violation_rows(session: Session, campaign: Campaign) -> list[Row]:
    return list(session.exec(select(Violation, Finding, Inspection).join(Finding, col(Violation.finding_id) == col(Finding.id))
                             .join(Inspection, col(Violation.inspection_id) == col(Inspection.id))
                             .where(Inspection.campaign_id == campaign.id).order_by(col(Violation.id))).all())


def by_provision(rows: Sequence[Row]) -> list[dict[str, Any]]:
    table = load_fine_table()
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        groups[row[0].provision_code].append(row)
    out = []
    for code, group in groups.items():
        vs = [v for v, _, _ in group]
        item = load_checklist(group[0][2].scheduled_on).get(group[0][1].item_code)
        act = item.act_vi or (act_vi(table.get(code).description_vi) if code in table else "")
        out.append({"code": code, "label": provision_short(code), "act_vi": act, "count": len(vs),
                    "establishments": len({i.establishment_id for _, _, i in group}),
                    "proposed": sum(v.proposed_amount for v in vs), "final": sum(v.final_amount or 0 for v in vs)})
    return sorted(out, key=lambda r: (-r["count"], collation_key(r["label"])))


def by_agency(rows: Sequence[Row], names: dict[str, str]) -> list[dict[str, Any]]:
    counts: Counter[str] = Counter()
    places: dict[str, set[int]] = defaultdict(set)
    for _, finding, inspection in rows:
        item = load_checklist(inspection.scheduled_on).get(finding.item_code)
        counts[item.agency] += 1
        places[item.agency].add(inspection.establishment_id)
    return [{"label": names.get(kind) or AGENCY_KIND_VI.get(kind, kind), "area_vi": AGENCY_KIND_VI.get(kind, kind),
             "kind": kind, "count": n, "establishments": len(places[kind])}
            for kind, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def latest_decisions(session: Session, campaign: Campaign) -> dict[int, Document]:
    """Inspection id -> its sanction decision in force (the latest revision): each decision counted once."""
    out: dict[int, Document] = {}
    for doc in session.exec(select(Document).where(Document.campaign_id == campaign.id,
                                                   Document.doc_type == DocumentType.SANCTION_DECISION)
                            .order_by(col(Document.revision))).all():
        if doc.inspection_id is not None:
            out[doc.inspection_id] = doc
    return out


def _deadlines(session: Session, campaign: Campaign, kind: DeadlineKind) -> list[Deadline]:
    return list(session.exec(select(Deadline).where(Deadline.campaign_id == campaign.id, Deadline.kind == kind,
                                                    Deadline.status != DeadlineStatus.CANCELLED)
                             .order_by(col(Deadline.id))).all())


def _state(deadline: Deadline | None, on: date) -> str:
    """'met', 'overdue' (open and past due on ``on``) or 'open' (no deadline row yet: open)."""
    if deadline is not None and deadline.status == DeadlineStatus.MET:
        return "met"
    if deadline is not None and deadline.due_on < on:
        return "overdue"
    return "open"


def _tally(states: Sequence[str]) -> dict[str, int]:
    return {"due": len(states), "met": states.count("met"), "open": len(states) - states.count("met"),
            "overdue": states.count("overdue")}


def remedy_figures(session: Session, campaign: Campaign, decisions: dict[int, Document], rows: Sequence[Row],
              on: date) -> dict[str, Any]:
    comply = {d.inspection_id: d for d in _deadlines(session, campaign, DeadlineKind.COMPLY)}
    comply_states = {inspection_id: _state(comply.get(inspection_id), on) for inspection_id in decisions}
    remedial = _deadlines(session, campaign, DeadlineKind.REMEDIAL)
    table = load_fine_table()
    codes = {v.id: v.provision_code for v, _, _ in rows}
    measures: dict[str, list[str]] = defaultdict(list)
    for d in remedial:
        code = codes.get(d.violation_id or -1, "")
        text = table.get(code).remedial_measure if code in table else d.basis_vi
        measures[measure_vi(text) if text.strip() else "Biện pháp khắc phục hậu quả"].append(_state(d, on))
    remedial_tally = _tally([_state(d, on) for d in remedial])
    comply_tally = _tally(list(comply_states.values()))
    return {
        "remedial": remedial_tally, "comply": comply_tally, "comply_states": comply_states,
        "rows": [{"label": "Chấp hành quyết định xử phạt (nộp phạt)", **comply_tally},
                 {"label": "Biện pháp khắc phục hậu quả", **remedial_tally}],
        "measures": [{"measure_vi": text, **_tally(states)}
                     for text, states in sorted(measures.items(), key=lambda kv: (-len(kv[1]), collation_key(kv[0])))],
    }


def team_rows(session: Session, campaign: Campaign) -> list[dict[str, Any]]:
    teams = session.exec(select(Team).where(Team.campaign_id == campaign.id).order_by(col(Team.number))).all()
    out = []
    for team in teams:
        members = session.exec(select(TeamMember).where(TeamMember.team_id == team.id)).all()
        inspections = session.exec(select(Inspection).where(Inspection.team_id == team.id)).all()
        visited = [i for i in inspections if InspectionStatus(i.status) in VISITED]
        out.append({"name": team.name, "members": len(members), "inspections": len(inspections), "visited": len(visited)})
    return out


def count_docs(session: Session, campaign: Campaign, doc_type: DocumentType) -> int:
    keys = session.exec(select(Document.subject_key).where(Document.campaign_id == campaign.id,
                                                           Document.doc_type == doc_type)).all()
    return len(set(keys))


def basis_vi(session: Session, campaign: Campaign) -> str:
    decision = latest_document(session, doc_type=DocumentType.INSPECTION_DECISION, subject_key=f"campaign:{campaign.id}")
    if decision is not None:
        on = decision.issued_on or campaign.decision_on or campaign.period_start
        return (f"Quyết định số {decision.number} ngày {on:%d/%m/%Y} của {province_committee(session, campaign)['name']} "
                "về việc kiểm tra liên ngành và thành lập đoàn kiểm tra")
    return plan_in_basis(campaign.legal_basis) or "kế hoạch kiểm tra liên ngành về an toàn, vệ sinh lao động"


def repeats(rows: Sequence[Row]) -> dict[str, int]:
    repeated = [(v, i) for v, _, i in rows if REPEAT_CODES & set(v.aggravating or [])]
    return {"count": len(repeated), "establishments": len({i.establishment_id for _, i in repeated})}


def sector_rows(visited: Sequence[Inspection], establishments: dict[Any, Establishment], violators: set[Any],
             rows: Sequence[Row]) -> dict[str, dict[str, Any]]:
    """The visited inspections by sector: how many inspected, with violators, and the violations found."""
    sectors: dict[str, dict[str, Any]] = {}
    for inspection in sorted(visited, key=lambda i: i.id or 0):
        name = sector_vi(establishments[inspection.establishment_id].sector_vsic)
        entry = sectors.setdefault(name, {"label": name, "inspected": 0, "violators": 0, "violations": 0})
        entry["inspected"] += 1
        entry["violators"] += inspection.establishment_id in violators
        entry["violations"] += sum(1 for _, _, i in rows if i.id == inspection.id)
    return sectors


def establishment_rows(rows: Sequence[Row], decisions: dict[int, Document], establishments: dict[Any, Establishment],
                      remedies: dict[str, Any]) -> list[dict[str, Any]]:
    """The violations by inspected establishment (most first): fines, the decision and its compliance."""
    by_inspection: dict[int, list[Violation]] = defaultdict(list)
    for v, _, i in rows:
        assert i.id is not None
        by_inspection[i.id].append(v)
    by_establishment = []
    for inspection_id, vs in sorted(by_inspection.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        inspection = next(i for _, _, i in rows if i.id == inspection_id)
        decision = decisions.get(inspection_id)
        final = [v.final_amount for v in vs if v.final_amount is not None]
        by_establishment.append({
            "name": establishments[inspection.establishment_id].name, "count": len(vs),
            "proposed": sum(v.proposed_amount for v in vs), "final": sum(final) if final else None,
            "decision_vi": decision.number if decision else "Chưa có quyết định",
            "comply_vi": STATE_VI[remedies["comply_states"][inspection_id]] if decision else "-"})
    return by_establishment
