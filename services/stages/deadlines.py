"""Legal deadlines: computed by the pure rules of :mod:`services.rules.deadline_rules` over the effective-dated
procedure and the working-day calendar, stored on ``Deadline`` rows, moved by :func:`sweep` (the
``deadline-sweeper`` flow, daily).

The periods and their legal bases are described in :mod:`services.rules.deadline_rules`; the procedure version
that governs a period is the one in force on the day the period starts (``Deadline.starts_on``: the visit for
the record and the limitation, the record for the decision and the explanations, the decision for sending it,
compliance and remedial measures), never the inspection's date as such.

Kinds and how they close:

* ``violation_record``, ``sanction_decision``, ``limitation``: met when the document they wait for is issued;
* ``national_report`` (created with the decision while the national feed is on, services/stages/national_report.py):
  met when the receiver acknowledged the decision's "issued" message;
* ``comply``, ``remedial``, ``send_decision``: met when a person confirms it
  (:func:`services.stages.deadline_changes.mark_met`; for sending, with the way it was sent, Art.70 cl.2); a decision
  the mail server accepted meets ``send_decision`` by itself (:mod:`services.stages.document_delivery`);
* ``explain_hearing``, ``explain_written`` (only where an act of the file gives the right to explain, Art.61):
  the violator's rights, not the authority's duty — never warned nor escalated; closed as met when the official
  records an explanation (:func:`services.stages.deadline_changes.record_explanation`) or, otherwise, by the
  first sweep after their last day.

The sweep is idempotent: rows are created once per (kind, subject); a warning and an escalation are
recorded once per deadline, each with its audit event and notifications keyed by the deadline.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (Campaign, Deadline, DeadlineKind, DeadlineStatus, DocumentType, Establishment, FeedEvent, FeedStatus,
                    Finding, FindingResult, Inspection, NationalFeedMessage, Person, PersonRole, Violation)
from models.base import utcnow
from services import audit
from services.delivery import notifications
from services.delivery.notifications import contact_of, reach
from services.rules.calendar import VIETNAM, today_in_vietnam
from services.db import session_scope
from services.rules.competence import required_signer
from services.documents.issuing import latest_document
from services.rules.deadline_rules import (INFORMATIVE_KINDS, ExplainAct, due_date, explanation_right, procedure_for_period,
                                           suspends, warning_day)
from services.rules.fines import FineTable, load_fine_table
from services.settings import Settings
from models.base import id_of

SWEEPER = "deadline-sweeper"

__all__ = ["SWEEPER", "SweepReport", "close_reported", "create_from_state", "ensure_deadline", "gives_right_to_explain",
           "set_status", "sweep"]


# --------------------------------------------------------------------------- the sweep


@dataclass
class SweepReport:
    today: date
    created: int = 0
    met: int = 0
    cancelled: int = 0
    warned: int = 0
    escalated: int = 0
    overdue: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"today": self.today.isoformat(), "created": self.created, "met": self.met, "cancelled": self.cancelled,
                "warned": self.warned, "escalated": self.escalated, "overdue": self.overdue}


def sweep(settings: Settings, today: date, *, actor: str = SWEEPER) -> SweepReport:
    """Bring every deadline up to ``today``: create what the state calls for, close what is met, warn, escalate."""
    report = SweepReport(today)
    with session_scope(settings) as session:
        if session.get_bind().dialect.name == "postgresql":  # one sweep at a time (SQLite's writers are serial already)
            session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('kiemtra:deadline-sweep'))"))
        _create_from_state(session, report)
        for deadline in session.exec(select(Deadline).where(Deadline.status == DeadlineStatus.OPEN)
                                     .order_by(col(Deadline.due_on), col(Deadline.id))).all():
            inspection = session.get(Inspection, deadline.inspection_id)
            assert inspection is not None
            if _close_if_done(session, deadline, inspection, report, actor):
                continue
            if DeadlineKind(deadline.kind) in INFORMATIVE_KINDS:  # the violator's right: closed once it has passed
                if today > deadline.due_on:
                    set_status(session, deadline, DeadlineStatus.MET, actor=actor, met_on=deadline.due_on,
                                reason=f"Đã hết thời hạn thực hiện quyền giải trình ngày {deadline.due_on:%d/%m/%Y}; "
                                       "chưa ghi nhận yêu cầu giải trình")
                    report.met += 1
                continue
            procedure = procedure_for_period(deadline.starts_on)
            if today > deadline.due_on:
                report.overdue.append(f"{deadline.kind}:{deadline.subject_key}")
                if deadline.escalated_on is None:
                    _escalate(session, deadline, today, actor)
                    report.escalated += 1
            elif deadline.warned_on is None and today >= warning_day(deadline, procedure):
                _warn(session, deadline, today, actor)
                report.warned += 1
    return report


def create_from_state(settings: Settings) -> int:
    """Only the first step of a sweep: the deadlines the stored state calls for (no warning, no escalation)."""
    report = SweepReport(today_in_vietnam())
    with session_scope(settings) as session:
        _create_from_state(session, report)
    return report.created


def _ensure(session: Session, report: SweepReport, *, kind: DeadlineKind, subject_key: str, inspection: Inspection,
            starts_on: date, violation: Violation | None = None, remedial_vi: str = "", province_code: str = "") -> None:
    if session.exec(select(Deadline.id).where(Deadline.kind == kind, Deadline.subject_key == subject_key)).first():
        return
    due, basis = due_date(kind, starts_on, procedure_for_period(starts_on), remedial_vi=remedial_vi,
                          province_code=province_code)
    deadline = Deadline(kind=kind, subject_key=subject_key, campaign_id=inspection.campaign_id, inspection_id=id_of(inspection),
                        violation_id=violation.id if violation else None, starts_on=starts_on, due_on=due, basis_vi=basis)
    session.add(deadline)
    session.flush()
    audit.record(session, actor=SWEEPER, action="deadline_set", entity=deadline, reason=basis,
                 data={"kind": str(kind), "starts_on": starts_on.isoformat(), "due_on": due.isoformat()})
    report.created += 1


def ensure_deadline(session: Session, *, kind: DeadlineKind, inspection: Inspection, starts_on: date,
                    province_code: str = "") -> Deadline:
    """The inspection's deadline of ``kind``, created now (as the sweep would) when the sweep has not made it yet."""
    key = f"inspection:{inspection.id}"
    _ensure(session, SweepReport(starts_on), kind=kind, subject_key=key, inspection=inspection, starts_on=starts_on,
            province_code=province_code)  # a per-province period (the national report)
    return session.exec(select(Deadline).where(Deadline.kind == kind, Deadline.subject_key == key)).one()


def _create_from_state(session: Session, report: SweepReport) -> None:
    # discovery: an inspection whose findings in force have a failed item (the visit is the day of discovery)
    failed = session.exec(select(Inspection).where(col(Inspection.id).in_(
        select(Finding.inspection_id).where(Finding.result == FindingResult.FAIL))).order_by(col(Inspection.id))).all()
    for inspection in failed:
        key = f"inspection:{inspection.id}"
        _ensure(session, report, kind=DeadlineKind.VIOLATION_RECORD, subject_key=key, inspection=inspection,
                starts_on=inspection.scheduled_on)
        _ensure(session, report, kind=DeadlineKind.LIMITATION, subject_key=key, inspection=inspection,
                starts_on=inspection.scheduled_on)
    # an issued violation record starts the decision's period; an issued decision the violator's
    with_violations = session.exec(select(Inspection).where(col(Inspection.id).in_(
        select(Violation.inspection_id))).order_by(col(Inspection.id))).all()
    table = None
    for inspection in with_violations:
        key = f"inspection:{inspection.id}"
        record = latest_document(session, doc_type=DocumentType.VIOLATION_RECORD, subject_key=key)
        if record is not None and record.issued_on is not None:
            _ensure(session, report, kind=DeadlineKind.SANCTION_DECISION, subject_key=key, inspection=inspection,
                    starts_on=record.issued_on)
            table = table or load_fine_table()
            if gives_right_to_explain(session, inspection, table, record.issued_on):
                for kind in (DeadlineKind.EXPLAIN_HEARING, DeadlineKind.EXPLAIN_WRITTEN):
                    _ensure(session, report, kind=kind, subject_key=key, inspection=inspection, starts_on=record.issued_on)
        decision = latest_document(session, doc_type=DocumentType.SANCTION_DECISION, subject_key=key)
        if decision is None or decision.issued_on is None:
            continue
        _ensure(session, report, kind=DeadlineKind.SEND_DECISION, subject_key=key, inspection=inspection,
                starts_on=decision.issued_on)
        _ensure(session, report, kind=DeadlineKind.COMPLY, subject_key=key, inspection=inspection, starts_on=decision.issued_on)
        table = table or load_fine_table()
        for v in session.exec(select(Violation).where(Violation.inspection_id == inspection.id)
                              .order_by(col(Violation.id))).all():
            measure = table.get(v.provision_code).remedial_measure if v.provision_code in table else ""
            if measure.strip():
                _ensure(session, report, kind=DeadlineKind.REMEDIAL, subject_key=f"violation:{v.id}", inspection=inspection,
                        starts_on=decision.issued_on, violation=v, remedial_vi=measure.strip())


def _suspension(table: FineTable, provision_code: str) -> bool:
    return provision_code in table and suspends(table.get(provision_code).additional_penalty)


def gives_right_to_explain(session: Session, inspection: Inspection, table: FineTable, record_date: date) -> bool:
    """Any act of the file, judged on its own fine range for this violator, gives the right to explain."""
    establishment = session.get(Establishment, inspection.establishment_id)
    assert establishment is not None
    organisation, procedure = establishment.is_organisation, procedure_for_period(record_date)
    acts = [ExplainAct(v.range_max, _suspension(table, v.provision_code))
            for v in session.exec(select(Violation).where(Violation.inspection_id == inspection.id)).all()]
    return any(explanation_right(a.range_max_vnd, organisation, procedure, suspension=a.suspension) for a in acts)


_WAITS_FOR = {DeadlineKind.VIOLATION_RECORD: DocumentType.VIOLATION_RECORD,
              DeadlineKind.SANCTION_DECISION: DocumentType.SANCTION_DECISION,
              DeadlineKind.LIMITATION: DocumentType.SANCTION_DECISION}


def _reported(session: Session, deadline: Deadline, report: SweepReport, actor: str) -> bool:
    """The national report: met when the receiver acknowledged the decision's "issued" message."""
    sent = session.exec(select(NationalFeedMessage).where(NationalFeedMessage.inspection_id == deadline.inspection_id,
                                                          NationalFeedMessage.event == FeedEvent.ISSUED,
                                                          NationalFeedMessage.status == FeedStatus.SENT)
                        .order_by(col(NationalFeedMessage.id))).first()
    if sent is None or sent.sent_at is None:
        return False
    set_status(session, deadline, DeadlineStatus.MET, actor=actor, met_on=sent.sent_at.astimezone(VIETNAM).date(),
               reason=f"Cơ sở dữ liệu quốc gia đã nhận quyết định (mã tiếp nhận {sent.receiver_ref})")
    report.met += 1
    return True


def close_reported(settings: Settings, *, actor: str = SWEEPER) -> int:
    """Close the national reports whose decision the receiver acknowledged (after a delivery run): how many."""
    report = SweepReport(today_in_vietnam())
    with session_scope(settings) as session:
        for deadline in session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.NATIONAL_REPORT,
                                                            Deadline.status == DeadlineStatus.OPEN)).all():
            _reported(session, deadline, report, actor)
    return report.met


def _close_if_done(session: Session, deadline: Deadline, inspection: Inspection, report: SweepReport, actor: str) -> bool:
    kind = DeadlineKind(deadline.kind)
    if kind is DeadlineKind.NATIONAL_REPORT:
        return _reported(session, deadline, report, actor)
    waits_for = _WAITS_FOR.get(kind)
    if waits_for is None:  # compliance and remedial measures are confirmed by a person (mark_met)
        return False
    document = latest_document(session, doc_type=waits_for, subject_key=f"inspection:{inspection.id}")
    if document is not None and document.issued_on is not None:
        set_status(session, deadline, DeadlineStatus.MET, actor=actor, met_on=document.issued_on,
                    reason=f"Đã ban hành {document.number} ngày {document.issued_on:%d/%m/%Y}")
        report.met += 1
        return True
    still_failed = session.exec(select(Finding.id).where(Finding.inspection_id == inspection.id,
                                                         Finding.result == FindingResult.FAIL)).first()
    if kind is not DeadlineKind.SANCTION_DECISION and still_failed is None:
        set_status(session, deadline, DeadlineStatus.CANCELLED, actor=actor,
                    reason="Kết quả kiểm tra đang có hiệu lực không còn nội dung vi phạm")
        report.cancelled += 1
        return True
    return False


def set_status(session: Session, deadline: Deadline, status: DeadlineStatus, *, actor: str, reason: str,
                met_on: date | None = None) -> None:
    audit.record(session, actor=actor, action="deadline_status", entity=deadline, reason=reason,
                 from_state=str(deadline.status), to_state=str(status))
    deadline.status, deadline.met_on, deadline.updated_at = status, met_on, utcnow()
    session.add(deadline)


_WHAT_VI = {DeadlineKind.VIOLATION_RECORD: "Lập biên bản vi phạm hành chính", DeadlineKind.SANCTION_DECISION:
            "Ra quyết định xử phạt", DeadlineKind.LIMITATION: "Thời hiệu xử phạt", DeadlineKind.COMPLY:
            "Chấp hành quyết định xử phạt", DeadlineKind.REMEDIAL: "Thực hiện biện pháp khắc phục hậu quả",
            DeadlineKind.EXPLAIN_HEARING: "Hạn yêu cầu giải trình trực tiếp (quyền của người vi phạm)",
            DeadlineKind.EXPLAIN_WRITTEN: "Hạn gửi văn bản giải trình (quyền của người vi phạm)",
            DeadlineKind.SEND_DECISION: "Gửi quyết định xử phạt để thi hành",
            DeadlineKind.NATIONAL_REPORT: "Cập nhật quyết định xử phạt vào Cơ sở dữ liệu quốc gia"}


def _describe(session: Session, deadline: Deadline) -> tuple[str, str]:
    """What is due, for whom, by when — as the lead reads it in a message (the establishment by name and tax
    code, the latest document of the file by number): (short subject, full text)."""
    campaign = session.get(Campaign, deadline.campaign_id)
    inspection = session.get(Inspection, deadline.inspection_id)
    assert campaign is not None and inspection is not None
    establishment = session.get(Establishment, inspection.establishment_id)
    assert establishment is not None
    what = _WHAT_VI[DeadlineKind(deadline.kind)]
    documents = [latest_document(session, doc_type=t, subject_key=f"inspection:{inspection.id}")
                 for t in (DocumentType.SANCTION_DECISION, DocumentType.VIOLATION_RECORD)]
    file = next((f" ({'quyết định' if d.doc_type == DocumentType.SANCTION_DECISION else 'biên bản'} số {d.number})"
                 for d in documents if d is not None), "")
    subject = f"{what}: {establishment.name}"
    text = (f"{what} — {establishment.name} (MST {establishment.tax_code}){file}, đợt {campaign.code}, kiểm tra ngày "
            f"{inspection.scheduled_on:%d/%m/%Y}. {deadline.basis_vi}. Hạn cuối: {deadline.due_on:%d/%m/%Y}.")
    return subject, text


def _recipients(session: Session, deadline: Deadline, *, escalate: bool) -> list[Person]:
    """Warnings go to the campaign's lead(s); an escalation also to the official competent for the file."""
    campaign = session.get(Campaign, deadline.campaign_id)
    assert campaign is not None
    people = list(session.exec(select(Person).where(Person.role == PersonRole.LEAD,
                                                    Person.agency_id == campaign.lead_agency_id).order_by(Person.code)).all())
    if escalate:
        inspection = session.get(Inspection, deadline.inspection_id)
        assert inspection is not None
        title = required_signer(session, inspection)
        if title is not None:
            people += session.exec(select(Person).where(Person.role == PersonRole.OFFICIAL, Person.title == title)
                                   .order_by(Person.code)).all()
    return people


def _notify(session: Session, deadline: Deadline, *, kind: str, escalate: bool, subject: str, body: str) -> None:
    for person in _recipients(session, deadline, escalate=escalate):
        reached = reach(contact_of(session, "person", person.code))
        if reached is None:
            continue
        channel, address = reached
        # one message per due date: a deadline moved by a person is warned (and escalated) again for its new date
        key = f"deadline:{deadline.id}:{deadline.due_on.isoformat()}:{kind}:{person.code}"
        notifications.enqueue(session, key=key, campaign_id=deadline.campaign_id,
                              inspection_id=deadline.inspection_id, kind=kind, recipient_kind="person",
                              recipient_ref=person.code, channel=channel, address=address or "", subject=subject, body=body)


def _warn(session: Session, deadline: Deadline, today: date, actor: str) -> None:
    what, text = _describe(session, deadline)
    deadline.warned_on, deadline.updated_at = today, utcnow()
    session.add(deadline)
    audit.record(session, actor=actor, action="deadline_warning", entity=deadline, reason=f"Sắp đến hạn: {text}",
                 data={"due_on": deadline.due_on.isoformat(), "on": today.isoformat()})
    _notify(session, deadline, kind="deadline_warning", escalate=False,
            subject=f"Sắp đến hạn ngày {deadline.due_on:%d/%m/%Y} — {what}"[:255], body=f"Sắp đến hạn. {text}")


def _escalate(session: Session, deadline: Deadline, today: date, actor: str) -> None:
    what, text = _describe(session, deadline)
    days = (today - deadline.due_on).days
    deadline.escalated_on, deadline.updated_at = today, utcnow()
    session.add(deadline)
    audit.record(session, actor=actor, action="deadline_escalated", entity=deadline, reason=f"Quá hạn {days} ngày: {text}",
                 data={"due_on": deadline.due_on.isoformat(), "on": today.isoformat()})
    _notify(session, deadline, kind="deadline_overdue", escalate=True,
            subject=f"Quá hạn từ ngày {deadline.due_on + timedelta(days=1):%d/%m/%Y} — {what}"[:255],
            body=f"Đã quá hạn {days} ngày, đề nghị xử lý ngay. {text}")
