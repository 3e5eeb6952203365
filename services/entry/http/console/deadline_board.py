"""What the deadlines board shows (read-only queries) and the receipts attached when a deadline is marked met.

* :func:`board`: the open deadlines of one campaign or all, grouped as overdue / warned / due later, each with the
  establishment, the inspection, the document it concerns, the rule (``basis_vi``), the due date and the days left
  (working days where the rule counts working days); a decision period or limitation that has passed with no decision
  shows as "Đã hết thời hạn ra quyết định xử phạt" (Luật XLVPHC Art.65 cl.1 c), with why;
* the receipts attached when a deadline is marked met live in :mod:`services.intake.deadline_receipts` (the same
  functions ``kiemtra deadlines met --receipt FILE`` calls).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from models import (AuditEvent, Campaign, Deadline, DeadlineKind, DeadlineStatus, Document, DocumentType, Establishment,
                    Inspection)
from services.intake.deadline_receipts import RECEIPT_ACTION
from services.rules.calendar import VIETNAM, working_days
from services.rules.deadline_rules import (INFORMATIVE_KINDS, TIME_BAR_KINDS, TIME_BAR_TITLE_VI, procedure_for_period,
                                           warning_day)
from services.stages.decision_time_bar import time_bar_of_file

WHAT_VI = {DeadlineKind.VIOLATION_RECORD: "Lập biên bản vi phạm hành chính",
           DeadlineKind.SANCTION_DECISION: "Ra quyết định xử phạt",
           DeadlineKind.LIMITATION: "Thời hiệu xử phạt",
           DeadlineKind.COMPLY: "Chấp hành quyết định xử phạt",
           DeadlineKind.REMEDIAL: "Thực hiện biện pháp khắc phục hậu quả",
           DeadlineKind.EXPLAIN_HEARING: "Yêu cầu giải trình trực tiếp (quyền của người vi phạm)",
           DeadlineKind.EXPLAIN_WRITTEN: "Gửi văn bản giải trình (quyền của người vi phạm)",
           DeadlineKind.SEND_DECISION: "Gửi quyết định xử phạt",
           DeadlineKind.NATIONAL_REPORT: "Cập nhật Cơ sở dữ liệu quốc gia về xử lý vi phạm hành chính"}
STATUS_VI = {DeadlineStatus.OPEN: "đang chạy", DeadlineStatus.MET: "đã thực hiện",
             DeadlineStatus.CANCELLED: "không còn áp dụng"}
GROUPS = (("overdue", "Quá hạn"), ("warned", "Sắp đến hạn (đã cảnh báo)"), ("later", "Còn thời gian"))
MET_BY_A_PERSON = (DeadlineKind.COMPLY, DeadlineKind.REMEDIAL, DeadlineKind.SEND_DECISION)
ACTION_VI = {"deadline_set": "Đặt thời hạn", "deadline_changed": "Thay đổi thời hạn", "deadline_status": "Đóng thời hạn",
             "deadline_warning": "Cảnh báo sắp đến hạn", "deadline_escalated": "Báo quá hạn",
             RECEIPT_ACTION: "Đính kèm biên lai, chứng từ", "explanation_recorded": "Ghi nhận giải trình"}
_DOC_VI = {DocumentType.SANCTION_DECISION: "Quyết định xử phạt", DocumentType.VIOLATION_RECORD: "Biên bản vi phạm"}


@dataclass
class Row:
    """One deadline as the board shows it (plain data, no session needed to read it)."""

    id: int
    kind: DeadlineKind
    what_vi: str
    status_vi: str
    campaign_code: str
    inspection_id: int
    visited_on: date
    establishment: str
    tax_code: str
    document: str
    basis_vi: str
    starts_on: date
    due_on: date
    left_vi: str
    group: str
    informative: bool
    complex_case: bool
    explained: bool
    extended_months: int
    barred_vi: str = ""  # the decision can no longer be issued (Luật XLVPHC Art.65 cl.1 c): why


@dataclass
class Board:
    today: date
    campaign: str
    campaigns: list[str]
    groups: list[tuple[str, str, list[Row]]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(len(rows) for _, _, rows in self.groups)


def counts_working_days(d: Deadline) -> bool:
    """Whether the rule of ``d`` counts working days (the 1-month decision period and day periods do not)."""
    kind = DeadlineKind(d.kind)
    if kind is DeadlineKind.SANCTION_DECISION:
        return not (d.complex_case or d.explained)
    return kind in (DeadlineKind.VIOLATION_RECORD, DeadlineKind.SEND_DECISION, *INFORMATIVE_KINDS)


def _working_days_between(after: date, last: date) -> int:
    """Working days after ``after`` up to ``last`` included."""
    return sum(1 for _ in working_days(after + timedelta(days=1), last))


def days_left_vi(d: Deadline, today: date) -> str:
    """'còn 3 ngày làm việc', 'hết hạn hôm nay', 'quá hạn 12 ngày' — in working days where the rule counts them."""
    working = counts_working_days(d)
    unit = "ngày làm việc" if working else "ngày"
    if d.due_on == today:
        return "hết hạn hôm nay"
    if d.due_on < today:
        late = f"quá hạn {(today - d.due_on).days} ngày"
        working_late = _working_days_between(d.due_on, today) if working else 0
        return f"{late} ({working_late} ngày làm việc)" if working_late else late
    left = _working_days_between(today, d.due_on) if working else (d.due_on - today).days
    return f"còn {left} {unit}"


def group_of(d: Deadline, today: date) -> str:
    if DeadlineKind(d.kind) in INFORMATIVE_KINDS:  # the violator's rights: never overdue, never warned
        return "later"
    if d.due_on < today:
        return "overdue"
    if d.warned_on is not None or today >= warning_day(d, procedure_for_period(d.starts_on)):
        return "warned"
    return "later"


def _documents(session: Session, inspection_ids: set[int]) -> dict[int, str]:
    """The latest document of each inspection's file (the decision, else the violation record), by number."""
    out: dict[int, tuple[int, int, str]] = {}
    rank = {DocumentType.SANCTION_DECISION: 2, DocumentType.VIOLATION_RECORD: 1}
    rows = session.exec(select(Document).where(col(Document.inspection_id).in_(inspection_ids),
                                               col(Document.doc_type).in_([str(t) for t in rank]))).all()
    for doc in rows:
        assert doc.inspection_id is not None
        key = (rank[DocumentType(doc.doc_type)], doc.revision)
        if doc.inspection_id not in out or key > out[doc.inspection_id][:2]:
            when = f" ngày {doc.issued_on:%d/%m/%Y}" if doc.issued_on else ""
            out[doc.inspection_id] = (*key, f"{_DOC_VI[DocumentType(doc.doc_type)]} số {doc.number}{when}")
    return {k: v[2] for k, v in out.items()}


def _rows(session: Session, query: Any, today: date) -> list[Row]:
    found = session.exec(query).all()
    documents = _documents(session, {d.inspection_id for d, *_ in found})
    rows = []
    for d, code, inspection, establishment in found:
        kind = DeadlineKind(d.kind)
        barred = barred_vi(session, d, inspection, today)
        rows.append(Row(
            id=d.id, kind=kind, what_vi=TIME_BAR_TITLE_VI if barred else WHAT_VI[kind],
            status_vi=STATUS_VI[DeadlineStatus(d.status)], campaign_code=code,
            inspection_id=d.inspection_id, visited_on=inspection.scheduled_on, establishment=establishment.name,
            tax_code=establishment.tax_code, document=documents.get(d.inspection_id, "Chưa có biên bản vi phạm"),
            basis_vi=d.basis_vi, starts_on=d.starts_on, due_on=d.due_on,
            left_vi=days_left_vi(d, today) if d.status == DeadlineStatus.OPEN else "", group=group_of(d, today),
            informative=kind in INFORMATIVE_KINDS, complex_case=d.complex_case, explained=d.explained,
            extended_months=d.extended_months, barred_vi=barred))
    return rows


def barred_vi(session: Session, d: Deadline, inspection: Inspection, today: date) -> str:
    """For an open decision period or limitation that has passed: why the file's decision can no longer be issued
    (Luật XLVPHC Art.65 cl.1 c), or "" (it still can: e.g. its amounts were decided in time)."""
    if DeadlineKind(d.kind) not in TIME_BAR_KINDS or d.status != DeadlineStatus.OPEN or d.due_on >= today:
        return ""
    return time_bar_of_file(session, inspection, today) or ""


def _joined() -> Any:
    return (select(Deadline, Campaign.code, Inspection, Establishment)
            .join(Campaign, col(Campaign.id) == col(Deadline.campaign_id))
            .join(Inspection, col(Inspection.id) == col(Deadline.inspection_id))
            .join(Establishment, col(Establishment.id) == col(Inspection.establishment_id)))


def board(session: Session, today: date, campaign_code: str = "") -> Board:
    """The open deadlines (of ``campaign_code``, or all), by due date, in their three groups."""
    query = _joined().where(Deadline.status == DeadlineStatus.OPEN)
    if campaign_code:
        query = query.where(Campaign.code == campaign_code)
    query = query.order_by(col(Deadline.due_on), col(Deadline.id))
    rows = _rows(session, query, today)
    codes = list(session.exec(select(Campaign.code).order_by(col(Campaign.code))).all())
    out = Board(today=today, campaign=campaign_code, campaigns=codes)
    out.groups = [(key, title, [r for r in rows if r.group == key]) for key, title in GROUPS]
    return out


def one(session: Session, deadline_id: int, today: date) -> Row | None:
    rows = _rows(session, _joined().where(col(Deadline.id) == deadline_id), today)
    return rows[0] if rows else None


@dataclass(frozen=True)
class Event:
    at: str
    actor: str
    what: str
    reason: str


def history(session: Session, deadline_id: int) -> list[Event]:
    """What happened to the deadline (its audit events), in Vietnamese, times in Việt Nam time."""
    return [Event(at=f"{e.at.astimezone(VIETNAM):%H:%M %d/%m/%Y}", actor=e.actor,
                  what=ACTION_VI.get(e.action, e.action) + (f" ({STATUS_VI[DeadlineStatus(e.to_state)]})"
                                                             if e.to_state in STATUS_VI else ""),
                  reason=e.reason + (f" — {e.data['note_vi']}" if e.action == "explanation_recorded" else ""))
            for e in _events(session, deadline_id)]


def explanation_note(session: Session, deadline_id: int) -> str | None:
    """The answer to the latest explanation recorded on the deadline (the CLI prints the same words)."""
    notes = [str(e.data.get("note_vi", "")) for e in _events(session, deadline_id) if e.action == "explanation_recorded"]
    return notes[-1] if notes else None


def _events(session: Session, deadline_id: int) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.entity_type == "deadline",
                                                      AuditEvent.entity_id == deadline_id)
                             .order_by(col(AuditEvent.at), col(AuditEvent.id))).all())
