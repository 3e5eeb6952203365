"""What the schedule page shows: each team's visits day by day (with the visit's time), and the schedule's documents.

Reads only. A visit's time is its place among its team's visits that day, in inspection id order, as the notices and
plans print it (:func:`services.stages.visits.visit_time`, here for every visit at once).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from models import Campaign, Document, DocumentType, Establishment, Inspection, InspectionStatus, Team
from models.base import id_of
from services.documents.format import weekday_vi
from services.registry.geo import commune_name
from services.rules.procedure import procedure_for

SCHEDULE_DOCUMENTS = (DocumentType.INSPECTION_DECISION, DocumentType.INSPECTION_PLAN, DocumentType.INSPECTION_NOTICE)
DOCUMENT_VI = {DocumentType.INSPECTION_DECISION: "Quyết định kiểm tra", DocumentType.INSPECTION_PLAN: "Kế hoạch tiến hành kiểm tra",
               DocumentType.INSPECTION_NOTICE: "Thông báo kiểm tra"}
STATUS_VI = {"scheduled": "Đã lên lịch", "findings_submitted": "Đã gửi kết quả", "findings_returned": "Trả lại để sửa",
             "findings_approved": "Kết quả đã duyệt", "records_issued": "Đã lập biên bản", "sanctioned": "Đã xử phạt",
             "closed": "Đã kết thúc"}


@dataclass(frozen=True)
class Visit:
    inspection_id: int
    time_vi: str
    tax_code: str
    name: str
    address: str
    commune_vi: str
    status: str
    status_vi: str

    @property
    def movable(self) -> bool:
        return self.status == InspectionStatus.SCHEDULED


@dataclass
class Day:
    day: date
    weekday_vi: str
    visits: list[Visit] = field(default_factory=list)


@dataclass
class TeamCalendar:
    number: int
    name: str
    days: list[Day] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(d.visits) for d in self.days)


def calendar(db: Session, campaign: Campaign) -> list[TeamCalendar]:
    """Every team of the campaign (in number order), its days in order, each day's visits in time order."""
    times = procedure_for(campaign.period_start).visit_times_vi
    teams = {id_of(t): TeamCalendar(t.number, t.name) for t in
             db.exec(select(Team).where(Team.campaign_id == campaign.id).order_by(col(Team.number))).all()}
    rows = db.exec(select(Inspection, Establishment).join(Establishment, col(Inspection.establishment_id) == Establishment.id)
                   .where(Inspection.campaign_id == campaign.id)
                   .order_by(col(Inspection.team_id), col(Inspection.scheduled_on), col(Inspection.id))).all()
    by_day: dict[tuple[int, date], Day] = {}
    slots: dict[tuple[int, date], int] = defaultdict(int)
    for inspection, e in rows:
        key = (inspection.team_id, inspection.scheduled_on)
        if key not in by_day:
            by_day[key] = Day(inspection.scheduled_on, weekday_vi(inspection.scheduled_on))
            teams[inspection.team_id].days.append(by_day[key])
        slot = slots[key]
        slots[key] += 1
        by_day[key].visits.append(Visit(id_of(inspection), str(times[min(slot, len(times) - 1)]), e.tax_code, e.name,
                                        e.address, commune_name(e.commune_code), str(inspection.status),
                                        STATUS_VI.get(str(inspection.status), str(inspection.status))))
    for team in teams.values():
        team.days.sort(key=lambda d: d.day)
    return list(teams.values())


@dataclass(frozen=True)
class DocumentRow:
    id: int
    kind: str
    kind_vi: str
    number: str
    issued_on: date | None
    revision: int
    about_vi: str  # the team of a plan, the establishment of a notice
    replaced: bool  # a later revision replaces it


def schedule_documents(db: Session, campaign: Campaign) -> list[DocumentRow]:
    """The decision to inspect, the teams' plans and the notices, each revision, in that order."""
    docs = db.exec(select(Document).where(Document.campaign_id == campaign.id, col(Document.doc_type).in_(SCHEDULE_DOCUMENTS))
                   .order_by(col(Document.id))).all()
    teams = {f"team:{id_of(t)}": t.name for t in db.exec(select(Team).where(Team.campaign_id == campaign.id)).all()}
    names = dict(db.exec(select(Inspection.id, Establishment.name)
                         .join(Establishment, col(Inspection.establishment_id) == Establishment.id)
                         .where(Inspection.campaign_id == campaign.id)).all())
    replaced = {d.supersedes_id for d in docs if d.supersedes_id is not None}
    order = {kind: i for i, kind in enumerate(SCHEDULE_DOCUMENTS)}
    rows = [DocumentRow(id_of(d), str(d.doc_type), DOCUMENT_VI[DocumentType(d.doc_type)], d.number,
                        d.issued_on or d.issued_at.date(), d.revision,
                        teams.get(d.subject_key, "") or (names.get(d.inspection_id, "") if d.inspection_id else ""),
                        id_of(d) in replaced) for d in docs]
    return sorted(rows, key=lambda r: (order[DocumentType(r.kind)], r.about_vi, r.revision))


def document_filename(row: Document) -> str:
    """'Thông báo kiểm tra số 12-TB-ĐKT.pdf' (a slash cannot be in a file name)."""
    kind = DOCUMENT_VI.get(DocumentType(row.doc_type), "Văn bản")
    revision = f" (lần {row.revision})" if row.revision > 1 else ""
    return f"{kind} số {row.number.replace('/', '-')}{revision}.pdf"
