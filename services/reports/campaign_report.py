"""Báo cáo kết quả kiểm tra (DOMAIN.md 2.8): one campaign's report to the decision-maker, issued with a number.

Contents (template ``bao_cao_ket_qua_kiem_tra``), every figure computed from the stored rows:

- I. the objects and the process: the establishments selected, scheduled and inspected (by sector), the teams,
  the days of the visits, the minutes and violation records drawn up;
- II. the assessment: establishments with and without violations; the nature and degree of the violations (by
  provision with the act, by field of the agency that found them, the most frequent acts, repeat offences, by
  establishment); the causes and the responsibilities (standard wording naming what the data shows);
- III. the measures applied: fines proposed and decided, the sanction decisions and their compliance, the remedial
  measures ordered and done (``Deadline`` rows of kind ``comply`` and ``remedial``: due, met, open, overdue on the
  report's date);
- IV. the recommendations (computed from the open items, the most violated provisions, plus any given).

The figures agree with each other: the deadlines are created from the stored state first
(:func:`services.stages.deadlines.create_from_state`, in :func:`issue_campaign_report`), so every sanction decision
is counted once among those to comply with, and each is "đã chấp hành" exactly when its ``comply`` deadline is
met. An XLSX with the same figures (one sheet per table, :func:`services.documents.xlsx.write_report_xlsx`) is
written beside the PDF when the report is issued.

The report is a snapshot on its date: :func:`issue_campaign_report` issues revision 1 once (issuing again
returns the stored one, services.documents.issuing); a later state is reported by a new revision (``revision=2``).

The number's symbol is the procedure's ``document_symbols.report``; the procedure files have no such key yet,
so :data:`DEFAULT_SYMBOL` (``BC-ĐKT``: báo cáo of the đoàn kiểm tra, as KH-ĐKT and TB-ĐKT) is used meanwhile.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from models import (Agency, Campaign, CampaignKind, Deadline, DeadlineKind, DeadlineStatus, Document, DocumentType,
                    Establishment, Finding, Inspection, InspectionStatus, Person, PersonRole, Selection, Team, TeamMember,
                    Violation)
from services.stages import deadlines
from services.db import session_scope
from services.documents.selection_list import plan_in_basis, sector_vi
from services.documents.xlsx import write_report_xlsx
from services.documents.issuing import find_document, issue_document, latest_document
from services.rules.checklist import load_checklist
from services.rules.fines import load_fine_table, provision_vi
from services.rules.procedure import Procedure, procedure_for
from services.settings import Settings
from services.stages.common import get_campaign
from services.stages.records import issuer_of, province_committee
from services.text_collation import collation_key
from services.documents.format import signer_of

TEMPLATE = "bao_cao_ket_qua_kiem_tra"
DEFAULT_SYMBOL = "BC-ĐKT"
SYMBOL_KEY = "report"
ACTOR = "system"
VISITED = frozenset({InspectionStatus.FINDINGS_SUBMITTED, InspectionStatus.FINDINGS_RETURNED,
                     InspectionStatus.FINDINGS_APPROVED, InspectionStatus.RECORDS_ISSUED, InspectionStatus.SANCTIONED,
                     InspectionStatus.CLOSED})
AGENCY_KIND_VI = {"labour": "an toàn lao động", "health": "vệ sinh lao động, chăm sóc sức khỏe người lao động"}
REPEAT_CODES = frozenset({"tang_nang_tai_pham"})  # the circumstance catalog's repeat_window.code (tái phạm)
TOP_ACTS = 3
_CODE = re.compile(r"^12/2022/ND-CP Art\.(\d+) cl\.(\d+)(?:\(([a-zđ])\))?$")
_REF = re.compile(r"Art\.(\d+) cl\.(\d+)(?:\(([a-zđ])\))?")
_ACT = re.compile(r"(?:có hành vi|có một trong các hành vi(?: sau đây)?:?)\s+(.+?)(?:\s+theo một trong các mức.*)?\.?$", re.S)

def symbol_of(procedure: Procedure, key: str = SYMBOL_KEY, default: str = DEFAULT_SYMBOL) -> str:
    """The procedure's symbol for ``key``, or ``default`` while the procedure files lack it."""
    return str(procedure.raw.get("document_symbols", {}).get(key, default))


def provision_short(code: str) -> str:
    """'12/2022/ND-CP Art.22 cl.2' -> 'khoản 2 Điều 22'; '… Art.21 cl.2(b)' -> 'điểm b khoản 2 Điều 21'.

    A provision of another decree is cited with the decree ('khoản 3 Điều 33 Nghị định số 283/2026/NĐ-CP')."""
    match = _CODE.match(code)
    if not match:
        table = load_fine_table()
        return provision_vi(table.get(code)) if code in table else code
    article, clause, point = match.groups()
    return f"{f'điểm {point} ' if point else ''}khoản {clause} Điều {article}"


def _ref_vi(match: re.Match[str]) -> str:
    article, clause, point = match.groups()
    return f"{f'điểm {point} ' if point else ''}khoản {clause} Điều {article}"


def measure_vi(text: str) -> str:
    """'Art.22 cl.11: buộc trả khoản …' -> 'Buộc trả khoản … (khoản 11 Điều 22)'."""
    text = " ".join(text.split())
    head, sep, rest = text.partition(": ")
    if sep and _REF.search(head):
        where = _REF.sub(_ref_vi, head)
        if rest.endswith(")"):  # 'buộc trả … (chỉ với …)' -> 'Buộc trả … (chỉ với …; khoản 11 Điều 22)'
            return f"{rest[:1].upper()}{rest[1:-1]}; {where})"
        return f"{rest[:1].upper()}{rest[1:]} ({where})"
    return _REF.sub(_ref_vi, text[:1].upper() + text[1:])


def act_vi(description: str, limit: int = 400) -> str:
    """The act of a fine rule's description, for people: 'Không tổ chức khám sức khỏe định kỳ …'."""
    text = " ".join(description.split())
    match = _ACT.search(text)
    act = match.group(1) if match else text
    act = act.rstrip(" .;:")
    if len(act) > limit:
        act = act[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + " …"
    return act[:1].upper() + act[1:]


def subject_vi(title: str) -> str:
    """The subject line under "BÁO CÁO": 'Kết quả kiểm tra liên ngành …' from the campaign's title."""
    first = title.split(" ", 1)[0]
    if first in {"Kiểm", "Đợt", "Thanh"}:
        return f"Kết quả {title[:1].lower()}{title[1:]}"
    return f"Kết quả kiểm tra: {title}"


def _percent(part: int, whole: int) -> str:
    if not whole:
        return "0%"
    value = round(part * 1000 / whole) / 10
    return (f"{value:.1f}".rstrip("0").rstrip(".") + "%").replace(".", ",")


def _agency_names(session: Session, campaign: Campaign) -> dict[str, str]:
    """Agency kind ("labour", "health") -> the name of that agency of the campaign's province."""
    lead = session.get(Agency, campaign.lead_agency_id)
    assert lead is not None
    rows = session.exec(select(Agency).where(Agency.province_code == lead.province_code).order_by(Agency.id)).all()
    out: dict[str, str] = {}
    for agency in rows:
        out.setdefault(str(agency.kind), agency.name)
    return out


Row = tuple[Violation, Finding, Inspection]


def _violations(session: Session, campaign: Campaign) -> list[Row]:
    return list(session.exec(select(Violation, Finding, Inspection).join(Finding, Violation.finding_id == Finding.id)
                             .join(Inspection, Violation.inspection_id == Inspection.id)
                             .where(Inspection.campaign_id == campaign.id).order_by(Violation.id)).all())


def _by_provision(rows: Sequence[Row]) -> list[dict[str, Any]]:
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


def _by_agency(rows: Sequence[Row], names: dict[str, str]) -> list[dict[str, Any]]:
    counts: Counter[str] = Counter()
    places: dict[str, set[int]] = defaultdict(set)
    for _, finding, inspection in rows:
        item = load_checklist(inspection.scheduled_on).get(finding.item_code)
        counts[item.agency] += 1
        places[item.agency].add(inspection.establishment_id)
    return [{"label": names.get(kind) or AGENCY_KIND_VI.get(kind, kind), "area_vi": AGENCY_KIND_VI.get(kind, kind),
             "kind": kind, "count": n, "establishments": len(places[kind])}
            for kind, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _latest_decisions(session: Session, campaign: Campaign) -> dict[int, Document]:
    """Inspection id -> its sanction decision in force (the latest revision): each decision counted once."""
    out: dict[int, Document] = {}
    for doc in session.exec(select(Document).where(Document.campaign_id == campaign.id,
                                                   Document.doc_type == DocumentType.SANCTION_DECISION)
                            .order_by(Document.revision)).all():
        if doc.inspection_id is not None:
            out[doc.inspection_id] = doc
    return out


def _deadlines(session: Session, campaign: Campaign, kind: DeadlineKind) -> list[Deadline]:
    return list(session.exec(select(Deadline).where(Deadline.campaign_id == campaign.id, Deadline.kind == kind,
                                                    Deadline.status != DeadlineStatus.CANCELLED)
                             .order_by(Deadline.id)).all())


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


STATE_VI = {"met": "Đã chấp hành", "open": "Chưa chấp hành (trong hạn)", "overdue": "Quá hạn chưa chấp hành"}


def _remedies(session: Session, campaign: Campaign, decisions: dict[int, Document], rows: Sequence[Row],
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


def _teams(session: Session, campaign: Campaign) -> list[dict[str, Any]]:
    teams = session.exec(select(Team).where(Team.campaign_id == campaign.id).order_by(Team.number)).all()
    out = []
    for team in teams:
        members = session.exec(select(TeamMember).where(TeamMember.team_id == team.id)).all()
        inspections = session.exec(select(Inspection).where(Inspection.team_id == team.id)).all()
        visited = [i for i in inspections if InspectionStatus(i.status) in VISITED]
        out.append({"name": team.name, "members": len(members), "inspections": len(inspections), "visited": len(visited)})
    return out


def _count_docs(session: Session, campaign: Campaign, doc_type: DocumentType) -> int:
    keys = session.exec(select(Document.subject_key).where(Document.campaign_id == campaign.id,
                                                           Document.doc_type == doc_type)).all()
    return len(set(keys))


def _basis_vi(session: Session, campaign: Campaign) -> str:
    decision = latest_document(session, doc_type=DocumentType.INSPECTION_DECISION, subject_key=f"campaign:{campaign.id}")
    if decision is not None:
        on = decision.issued_on or campaign.decision_on or campaign.period_start
        return (f"Quyết định số {decision.number} ngày {on:%d/%m/%Y} của {province_committee(session, campaign)['name']} "
                "về việc kiểm tra liên ngành và thành lập đoàn kiểm tra")
    return plan_in_basis(campaign.legal_basis) or "kế hoạch kiểm tra liên ngành về an toàn, vệ sinh lao động"


def _repeats(rows: Sequence[Row]) -> dict[str, int]:
    repeated = [(v, i) for v, _, i in rows if REPEAT_CODES & set(v.aggravating or [])]
    return {"count": len(repeated), "establishments": len({i.establishment_id for _, i in repeated})}


def _some(*parts: tuple[int, str]) -> str:
    """'1 quyết định chưa chấp hành, 2 biện pháp …' leaving out the parts worth 0 ('' if none is left)."""
    return ", ".join(f"{n} {words}" for n, words in parts if n)


def causes_vi(violations: dict[str, Any]) -> list[str]:
    """The causes: standard wording, naming the provisions most violated and the fields (from the figures)."""
    if not violations["count"]:
        return ["Các cơ sở được kiểm tra đã thực hiện các quy định được kiểm tra; đoàn kiểm tra không phát hiện "
                "hành vi vi phạm."]
    top = violations["by_provision"][:TOP_ACTS]
    named = "; ".join(f"{r['label']} ({r['count']} hành vi)" for r in top)
    fields = "; ".join(f"{a['area_vi']} ({a['count']} hành vi tại {a['establishments']} cơ sở)"
                       for a in violations["by_agency"])
    out = [f"Người sử dụng lao động tại {violations['establishments']} cơ sở chưa quan tâm đúng mức, chưa bố trí đủ "
           f"nguồn lực cho công tác an toàn, vệ sinh lao động; vi phạm tập trung ở các quy định: {named}.",
           f"Công tác tự kiểm tra tại cơ sở chưa thường xuyên, nên các thiếu sót chưa được phát hiện, khắc phục kịp "
           f"thời, về: {fields}."]
    if violations["repeat"]["count"]:
        out.append(f"Có {violations['repeat']['count']} hành vi tái phạm tại {violations['repeat']['establishments']} "
                   "cơ sở: việc khắc phục sau lần xử phạt trước chưa triệt để.")
    return out


def responsibilities_vi(violations: dict[str, Any], remedies: dict[str, Any], fines: dict[str, Any]) -> list[str]:
    if not violations["count"]:
        return ["Người sử dụng lao động tiếp tục duy trì việc thực hiện các quy định về an toàn, vệ sinh lao động."]
    pending = _some((remedies["comply"]["open"], "quyết định chưa chấp hành"),
                    (remedies["remedial"]["open"], "biện pháp khắc phục chưa thực hiện"))
    out = [f"Người sử dụng lao động của {violations['establishments']} cơ sở có vi phạm (mục II.2.đ) chịu trách nhiệm "
           "về các hành vi vi phạm đã nêu; chấp hành quyết định xử phạt và thực hiện các biện pháp khắc phục hậu quả "
           f"đúng thời hạn{f' (còn {pending})' if pending else ''}."]
    if fines["undecided"]:
        out.append(f"Người có thẩm quyền xử phạt ban hành quyết định đối với {fines['undecided']} hành vi chưa có quyết "
                   "định trong thời hạn luật định.")
    out.append("Đoàn kiểm tra chịu trách nhiệm về kết quả kiểm tra; theo dõi, đôn đốc và kiểm tra việc chấp hành "
               "quyết định xử phạt, thực hiện biện pháp khắc phục hậu quả.")
    return out


def recommendations_vi(violations: dict[str, Any], remedies: dict[str, Any], fines: dict[str, Any],
                       extra: Sequence[str] = ()) -> list[str]:
    out: list[str] = []
    comply, remedial = remedies["comply"], remedies["remedial"]
    pending = _some((comply["open"], "quyết định xử phạt"), (remedial["open"], "biện pháp khắc phục hậu quả"))
    overdue = _some((comply["overdue"], "quyết định"), (remedial["overdue"], "biện pháp"))
    if pending:
        out.append(f"Đề nghị các cơ sở chưa chấp hành xong thực hiện ngay {pending.replace(', ', ' và ')} còn lại"
                   + (f"; đối với {overdue.replace(', ', ' và ')} đã quá hạn, đề nghị người có thẩm quyền áp dụng biện "
                      "pháp cưỡng chế theo quy định của Luật Xử lý vi phạm hành chính." if overdue else "."))
    if fines["undecided"]:
        out.append(f"Đề nghị người có thẩm quyền ban hành quyết định xử phạt đối với {fines['undecided']} hành vi còn "
                   "lại trong thời hạn luật định.")
    if violations["count"]:
        top = ", ".join(r["label"] for r in violations["by_provision"][:TOP_ACTS])
        out.append(f"Đề nghị các cơ quan chức năng tăng cường hướng dẫn, tuyên truyền và kiểm tra việc thực hiện các "
                   f"quy định bị vi phạm nhiều nhất trong đợt kiểm tra ({top} Nghị định số 12/2022/NĐ-CP) tại các cơ sở "
                   "cùng ngành, lĩnh vực.")
    else:
        out.append("Đề nghị tiếp tục kiểm tra theo mức độ rủi ro tại các cơ sở chưa được kiểm tra.")
    return [*out, *extra]


def visits_vi(days: Sequence[date]) -> str:
    """'ngày 22/04/2026' or 'từ ngày 09/03/2026 đến ngày 27/05/2026' ('' without a visit)."""
    if not days:
        return ""
    first, last = min(days), max(days)
    return f"ngày {first:%d/%m/%Y}" if first == last else f"từ ngày {first:%d/%m/%Y} đến ngày {last:%d/%m/%Y}"


def _sectors(visited: Sequence[Inspection], establishments: dict[Any, Establishment], violators: set[Any],
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


def _by_establishment(rows: Sequence[Row], decisions: dict[int, Document], establishments: dict[Any, Establishment],
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
    ids = {i.establishment_id for i in inspections}
    establishments = {e.id: e for e in session.exec(select(Establishment).where(
        Establishment.id.in_(ids)))} if ids else {}  # type: ignore[attr-defined]
    violators = {i.establishment_id for _, _, i in rows}
    lead = session.exec(select(Person).where(Person.role == PersonRole.LEAD, Person.agency_id == campaign.lead_agency_id)
                        .order_by(Person.code)).first()
    decisions = _latest_decisions(session, campaign)
    lead_agency = session.get(Agency, campaign.lead_agency_id)
    assert lead_agency is not None
    remedies = _remedies(session, campaign, decisions, rows, issued_on)

    sectors = _sectors(visited, establishments, violators, rows)
    by_establishment = _by_establishment(rows, decisions, establishments, remedies)

    violations = {"count": len(rows), "establishments": len(violators),
                  "by_provision": _by_provision(rows), "by_agency": _by_agency(rows, names),
                  "by_establishment": by_establishment, "repeat": _repeats(rows)}
    violations["top"] = violations["by_provision"][:TOP_ACTS]
    fines = {"proposed": sum(v.proposed_amount for v, _, _ in rows), "final": sum(v.final_amount or 0 for v in decided),
             "decided": len(decided), "undecided": len(rows) - len(decided),
             "proposed_of_decided": sum(v.proposed_amount for v in decided), "decisions": len(decisions)}
    days = sorted(i.scheduled_on for i in visited)
    return {
        "issuer": issuer_of(session, campaign), "issued_on": issued_on,
        "campaign": {"code": campaign.code, "title": campaign.title, "subject_vi": subject_vi(campaign.title),
                     "period_start": campaign.period_start, "period_end": campaign.period_end,
                     "basis_vi": _basis_vi(session, campaign),
                     "kind_vi": "đột xuất" if campaign.kind == CampaignKind.SURPRISE else "theo kế hoạch",
                     "agencies_vi": ", ".join([lead_agency.name, *(a.name for a in members)])},
        "overview": {"selected": len(selected), "scheduled": len(inspections), "inspected": len(visited),
                     "not_inspected": len(inspections) - len(visited), "teams": _teams(session, campaign),
                     "sectors": sorted(sectors.values(), key=lambda s: (-s["inspected"], collation_key(s["label"]))),
                     "visits_vi": visits_vi(days),
                     "minutes": _count_docs(session, campaign, DocumentType.MINUTES),
                     "records": _count_docs(session, campaign, DocumentType.VIOLATION_RECORD)},
        "assessment": {"with_violations": len(violators), "without_violations": len(visited) - len(violators),
                       "share_vi": _percent(len(violators), len(visited))},
        "violations": violations,
        "fines": fines,
        "remedies": {k: v for k, v in remedies.items() if k != "comply_states"},
        "causes": causes_vi(violations),
        "responsibilities": responsibilities_vi(violations, remedies, fines),
        "recommendations": recommendations_vi(violations, remedies, fines, recommendations or ()),
        "signer": signer_of(lead.full_name if lead else "", lead.title if lead else "Trưởng đoàn"),
    }


def xlsx_path(settings: Settings, doc: Document) -> Path:
    """Where the report's figures are, beside its PDF."""
    return (settings.documents_path / doc.path).with_suffix(".xlsx")


def issue_campaign_report(settings: Settings, campaign_code: str, *, issued_on: date, actor: str = ACTOR,
                          recommendations: Sequence[str] | None = None, revision: int = 1) -> Document:
    """Issue the campaign's report (once per revision; issuing again returns the stored one), with its XLSX.

    The deadlines the stored state calls for are created first, so the compliance the report gives covers every
    decision; the XLSX is written from the very context the PDF is rendered from.
    """
    deadlines.create_from_state(settings)
    built: dict[str, Any] = {}
    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code)
        assert campaign.id is not None
        context = report_context(session, campaign, issued_on=issued_on, recommendations=recommendations)
        previous = None
        if revision > 1:
            previous = find_document(session, doc_type=DocumentType.REPORT, subject_key=f"campaign:{campaign.id}",
                                     revision=revision - 1)

        def build(number: str) -> dict[str, Any]:
            built.update(context, number=number)
            return built

        doc = issue_document(session, settings, doc_type=DocumentType.REPORT, subject_key=f"campaign:{campaign.id}",
                             issuer_code=context["issuer"]["code"], symbol=symbol_of(procedure_for(issued_on)),
                             year=issued_on.year, campaign_id=campaign.id, inspection_id=None, template=TEMPLATE,
                             build_context=build, actor=actor,
                             revision=revision, supersedes_id=previous.id if previous else None)
        if built:  # issued now: its figures beside it (a stored report keeps the XLSX written with it)
            write_report_xlsx(built, xlsx_path(settings, doc))
        return doc


__all__ = ["DEFAULT_SYMBOL", "TEMPLATE", "act_vi", "issue_campaign_report", "measure_vi", "provision_short",
           "report_context", "subject_vi", "symbol_of", "xlsx_path"]
