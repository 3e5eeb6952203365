"""Legal deadlines: computed by the pure rules of :mod:`services.rules.deadline_rules` over the effective-dated
procedure and the working-day calendar, stored on ``Deadline`` rows, moved by :func:`sweep` (the
``deadline-sweeper`` flow, daily).

The periods and their legal bases are described in :mod:`services.rules.deadline_rules`; the procedure version
that governs a period is the one in force on the day the period starts (``Deadline.starts_on``: the visit for
the record and the limitation, the record for the decision and the explanations, the decision for sending it,
compliance and remedial measures), never the inspection's date as such.

Kinds and how they close:

* ``violation_record``, ``sanction_decision``, ``limitation``: met when the document they wait for is issued;
* ``comply``, ``remedial``, ``send_decision``: met when a person confirms it (:func:`mark_met`; for sending, with
  the way it was sent, Art.70 cl.2);
* ``explain_hearing``, ``explain_written`` (only where an act of the file gives the right to explain, Art.61):
  the violator's rights, not the authority's duty — never warned nor escalated; closed as met when the official
  records an explanation (:func:`record_explanation`) or, otherwise, by the first sweep after their last day.

The sweep is idempotent: rows are created once per (kind, subject); a warning and an escalation are
recorded once per deadline, each with its audit event and notifications keyed by the deadline.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from models import (Campaign, Deadline, DeadlineKind, DeadlineStatus, DocumentType, Establishment, Finding, FindingResult,
                    Inspection, Person, PersonRole, Violation)
from models.base import utcnow
from services import audit, notifications
from services.notifications import contact_of, reach
from services.calendar import today_in_vietnam
from services.db import session_scope
from services.errors import Conflict, IntakeError, NotFound
from services.intake.logic import is_organisation, required_signer
from services.issuing import latest_document
from services.rules.deadline_rules import (INFORMATIVE_KINDS, SEND_METHOD_VI, ExplainAct, SendMethod, add_months,
                                           due_date, explanation_right, nth_working_day_after, on_or_after_working_day,
                                           procedure_for_period, send_method, suspends, working_days_before)
from services.rules.fines import FineTable, load_fine_table
from services.rules.procedure import Procedure
from services.settings import Settings

SWEEPER = "deadline-sweeper"

__all__ = ["SWEEPER", "SweepReport", "add_months", "create_from_state", "declare_complex", "due_date", "extend_decision",
           "mark_met", "nth_working_day_after", "on_or_after_working_day", "record_explanation", "sweep", "warning_day",
           "working_days_before"]


def _n(value: int) -> str:
    return f"{value:02d}"


def warning_day(deadline: Deadline, procedure: Procedure) -> date:
    return working_days_before(deadline.due_on, procedure.deadline_warning_working_days)


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
                                     .order_by(Deadline.due_on, Deadline.id)).all():
            inspection = session.get(Inspection, deadline.inspection_id)
            assert inspection is not None
            if _close_if_done(session, deadline, inspection, report, actor):
                continue
            if DeadlineKind(deadline.kind) in INFORMATIVE_KINDS:  # the violator's right: closed once it has passed
                if today > deadline.due_on:
                    _set_status(session, deadline, DeadlineStatus.MET, actor=actor, met_on=deadline.due_on,
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
            starts_on: date, violation: Violation | None = None, remedial_vi: str = "") -> None:
    if session.exec(select(Deadline.id).where(Deadline.kind == kind, Deadline.subject_key == subject_key)).first():
        return
    due, basis = due_date(kind, starts_on, procedure_for_period(starts_on), remedial_vi=remedial_vi)
    deadline = Deadline(kind=kind, subject_key=subject_key, campaign_id=inspection.campaign_id, inspection_id=inspection.id,
                        violation_id=violation.id if violation else None, starts_on=starts_on, due_on=due, basis_vi=basis)
    session.add(deadline)
    session.flush()
    audit.record(session, actor=SWEEPER, action="deadline_set", entity=deadline, reason=basis,
                 data={"kind": str(kind), "starts_on": starts_on.isoformat(), "due_on": due.isoformat()})
    report.created += 1


def _create_from_state(session: Session, report: SweepReport) -> None:
    # discovery: an inspection whose findings in force have a failed item (the visit is the day of discovery)
    failed = session.exec(select(Inspection).where(Inspection.id.in_(  # type: ignore[union-attr]
        select(Finding.inspection_id).where(Finding.result == FindingResult.FAIL))).order_by(Inspection.id)).all()
    for inspection in failed:
        key = f"inspection:{inspection.id}"
        _ensure(session, report, kind=DeadlineKind.VIOLATION_RECORD, subject_key=key, inspection=inspection,
                starts_on=inspection.scheduled_on)
        _ensure(session, report, kind=DeadlineKind.LIMITATION, subject_key=key, inspection=inspection,
                starts_on=inspection.scheduled_on)
    # an issued violation record starts the decision's period; an issued decision the violator's
    with_violations = session.exec(select(Inspection).where(Inspection.id.in_(  # type: ignore[union-attr]
        select(Violation.inspection_id))).order_by(Inspection.id)).all()
    table = None
    for inspection in with_violations:
        key = f"inspection:{inspection.id}"
        record = latest_document(session, doc_type=DocumentType.VIOLATION_RECORD, subject_key=key)
        if record is not None and record.issued_on is not None:
            _ensure(session, report, kind=DeadlineKind.SANCTION_DECISION, subject_key=key, inspection=inspection,
                    starts_on=record.issued_on)
            table = table or load_fine_table()
            if _gives_right_to_explain(session, inspection, table, record.issued_on):
                for kind in (DeadlineKind.EXPLAIN_HEARING, DeadlineKind.EXPLAIN_WRITTEN):
                    _ensure(session, report, kind=kind, subject_key=key, inspection=inspection, starts_on=record.issued_on)
        decision = latest_document(session, doc_type=DocumentType.SANCTION_DECISION, subject_key=key)
        if decision is None or decision.issued_on is None:
            continue
        _ensure(session, report, kind=DeadlineKind.SEND_DECISION, subject_key=key, inspection=inspection,
                starts_on=decision.issued_on)
        _ensure(session, report, kind=DeadlineKind.COMPLY, subject_key=key, inspection=inspection, starts_on=decision.issued_on)
        table = table or load_fine_table()
        for v in session.exec(select(Violation).where(Violation.inspection_id == inspection.id).order_by(Violation.id)).all():
            measure = table.get(v.provision_code).remedial_measure if v.provision_code in table else ""
            if measure.strip():
                _ensure(session, report, kind=DeadlineKind.REMEDIAL, subject_key=f"violation:{v.id}", inspection=inspection,
                        starts_on=decision.issued_on, violation=v, remedial_vi=measure.strip())


def _suspension(table: FineTable, provision_code: str) -> bool:
    return provision_code in table and suspends(table.get(provision_code).additional_penalty)


def _gives_right_to_explain(session: Session, inspection: Inspection, table: FineTable, record_date: date) -> bool:
    """Any act of the file, judged on its own fine range for this violator, gives the right to explain."""
    establishment = session.get(Establishment, inspection.establishment_id)
    assert establishment is not None
    organisation, procedure = is_organisation(establishment), procedure_for_period(record_date)
    acts = [ExplainAct(v.range_max, _suspension(table, v.provision_code))
            for v in session.exec(select(Violation).where(Violation.inspection_id == inspection.id)).all()]
    return any(explanation_right(a.range_max_vnd, organisation, procedure, suspension=a.suspension) for a in acts)


_WAITS_FOR = {DeadlineKind.VIOLATION_RECORD: DocumentType.VIOLATION_RECORD,
              DeadlineKind.SANCTION_DECISION: DocumentType.SANCTION_DECISION,
              DeadlineKind.LIMITATION: DocumentType.SANCTION_DECISION}


def _close_if_done(session: Session, deadline: Deadline, inspection: Inspection, report: SweepReport, actor: str) -> bool:
    kind = DeadlineKind(deadline.kind)
    waits_for = _WAITS_FOR.get(kind)
    if waits_for is None:  # compliance and remedial measures are confirmed by a person (mark_met)
        return False
    document = latest_document(session, doc_type=waits_for, subject_key=f"inspection:{inspection.id}")
    if document is not None and document.issued_on is not None:
        _set_status(session, deadline, DeadlineStatus.MET, actor=actor, met_on=document.issued_on,
                    reason=f"Đã ban hành {document.number} ngày {document.issued_on:%d/%m/%Y}")
        report.met += 1
        return True
    still_failed = session.exec(select(Finding.id).where(Finding.inspection_id == inspection.id,
                                                         Finding.result == FindingResult.FAIL)).first()
    if kind is not DeadlineKind.SANCTION_DECISION and still_failed is None:
        _set_status(session, deadline, DeadlineStatus.CANCELLED, actor=actor,
                    reason="Kết quả kiểm tra đang có hiệu lực không còn nội dung vi phạm")
        report.cancelled += 1
        return True
    return False


def _set_status(session: Session, deadline: Deadline, status: DeadlineStatus, *, actor: str, reason: str,
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
            DeadlineKind.SEND_DECISION: "Gửi quyết định xử phạt để thi hành"}


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


# --------------------------------------------------------------------------- what people change


def _one(session: Session, kind: DeadlineKind, inspection_id: int) -> Deadline:
    deadline = session.exec(select(Deadline).where(Deadline.kind == kind,
                                                   Deadline.subject_key == f"inspection:{inspection_id}")).first()
    if deadline is None:
        raise NotFound(f"Cuộc kiểm tra {inspection_id} chưa có thời hạn loại '{kind}'.", inspection_id=inspection_id)
    if deadline.status != DeadlineStatus.OPEN:
        raise Conflict(f"Thời hạn '{kind}' của cuộc kiểm tra {inspection_id} đã đóng ({deadline.status}).",
                       inspection_id=inspection_id)
    return deadline


def _recompute(session: Session, deadline: Deadline, *, actor: str, reason: str, **changes: Any) -> Deadline:
    if not reason.strip():
        raise IntakeError("Thiếu lý do.", errors=["reason: phải ghi lý do thay đổi thời hạn"])
    inspection = session.get(Inspection, deadline.inspection_id)
    assert inspection is not None
    before = deadline.due_on
    for name, value in changes.items():
        setattr(deadline, name, value)
    deadline.due_on, deadline.basis_vi = due_date(
        DeadlineKind(deadline.kind), deadline.starts_on, procedure_for_period(deadline.starts_on),
        complex_case=deadline.complex_case, explained=deadline.explained, extended_months=deadline.extended_months)
    if deadline.due_on != before:  # a new due date deserves its own warning, and its own escalation if missed
        deadline.warned_on = deadline.escalated_on = None
    deadline.updated_at = utcnow()
    session.add(deadline)
    audit.record(session, actor=actor, action="deadline_changed", entity=deadline, reason=reason.strip(),
                 data={"due_before": before.isoformat(), "due_after": deadline.due_on.isoformat(),
                       **{k: v for k, v in changes.items()}})
    return deadline


def declare_complex(session: Session, inspection_id: int, kind: DeadlineKind, *, actor: str, reason: str) -> Deadline:
    """The case is complex: 5 working days for the record, 1 month for the decision."""
    if kind not in (DeadlineKind.VIOLATION_RECORD, DeadlineKind.SANCTION_DECISION):
        raise Conflict(f"Không áp dụng 'vụ việc phức tạp' cho thời hạn '{kind}'.", inspection_id=inspection_id)
    return _recompute(session, _one(session, kind, inspection_id), actor=actor, reason=reason, complex_case=True)


def explanation_received(session: Session, inspection_id: int) -> bool:
    """The official recorded the violator's explanation (the decision's period became 1 month)."""
    return session.exec(select(Deadline.id).where(Deadline.kind == DeadlineKind.SANCTION_DECISION,
                                                  Deadline.subject_key == f"inspection:{inspection_id}",
                                                  Deadline.explained.is_(True))).first() is not None  # type: ignore[attr-defined]


def record_explanation(session: Session, inspection_id: int, *, actor: str, reason: str,
                       on: date | None = None) -> Deadline:
    """The violator asked to explain (a hearing or in writing): the decision's period becomes 1 month, and the
    violator's explanation periods still open are closed as met (the right was exercised) on ``on`` — the day the
    request or the explanation was received, default today. Returns the decision's deadline."""
    decision = _recompute(session, _one(session, DeadlineKind.SANCTION_DECISION, inspection_id), actor=actor,
                          reason=reason, explained=True)
    on = on or today_in_vietnam()
    for deadline in session.exec(select(Deadline).where(
            Deadline.kind.in_([str(k) for k in sorted(INFORMATIVE_KINDS)]),  # type: ignore[attr-defined]
            Deadline.subject_key == f"inspection:{inspection_id}", Deadline.status == DeadlineStatus.OPEN)).all():
        _set_status(session, deadline, DeadlineStatus.MET, actor=actor, met_on=max(on, deadline.starts_on),
                    reason=f"Đã ghi nhận giải trình của cá nhân, tổ chức vi phạm: {reason.strip()}")
    return decision


def extend_decision(session: Session, inspection_id: int, months: int, *, actor: str, reason: str,
                    on: date | None = None) -> Deadline:
    """The one extension of the decision's period, at most the configured months: only of the 1-month period (an
    especially complex case, or one the violator explained) and only before it runs out (``on``: the day the
    extension is decided, default today)."""
    deadline = _one(session, DeadlineKind.SANCTION_DECISION, inspection_id)
    on = on or today_in_vietnam()
    inspection = session.get(Inspection, inspection_id)
    assert inspection is not None
    allowed = procedure_for_period(deadline.starts_on).decision_extension_months_max
    if deadline.extended_months:
        raise Conflict(f"Thời hạn ra quyết định của cuộc kiểm tra {inspection_id} đã được gia hạn một lần.",
                       inspection_id=inspection_id)
    errors = []
    if not 1 <= months <= allowed:
        errors.append(f"months: chỉ được gia hạn từ 01 đến {_n(allowed)} tháng")
    if not (deadline.complex_case or deadline.explained):
        errors.append("months: chỉ gia hạn thời hạn 01 tháng (vụ việc phức tạp hoặc có giải trình), "
                      "không gia hạn thời hạn 07 ngày làm việc")
    if on > deadline.due_on:
        errors.append(f"on: thời hạn đã hết ngày {deadline.due_on:%d/%m/%Y}; không thể gia hạn sau khi hết hạn")
    if errors:
        raise IntakeError("Gia hạn không hợp lệ.", errors=errors)
    return _recompute(session, deadline, actor=actor, reason=reason, extended_months=months)


_CONFIRMED_BY_A_PERSON = (DeadlineKind.COMPLY, DeadlineKind.REMEDIAL, DeadlineKind.SEND_DECISION)


def mark_met(session: Session, deadline_id: int, on: date, *, actor: str, reason: str,
             sent_by: SendMethod | str | None = None) -> Deadline:
    """A person confirms compliance, a remedial measure or the sending of the decision (with the evidence named in
    ``reason``). For sending (Art.70 cl.2), the way it was sent is ``sent_by`` (a :class:`SendMethod` or its
    value) or, when not given, named in ``reason`` ("giao trực tiếp", "bưu chính bảo đảm", "điện tử", "niêm yết");
    the recorded reason starts with it."""
    deadline = session.get(Deadline, deadline_id)
    if deadline is None:
        raise NotFound(f"Không tìm thấy thời hạn số {deadline_id}.", deadline_id=deadline_id)
    if deadline.status != DeadlineStatus.OPEN:
        raise Conflict(f"Thời hạn số {deadline_id} đã đóng ({deadline.status}).", deadline_id=deadline_id)
    kind = DeadlineKind(deadline.kind)
    if kind in INFORMATIVE_KINDS:
        raise Conflict("Thời hạn giải trình là quyền của người vi phạm: tự đóng khi hết hạn hoặc khi ghi nhận giải trình "
                       "(kiemtra deadlines explained).", deadline_id=deadline_id)
    if kind not in _CONFIRMED_BY_A_PERSON:
        raise Conflict("Thời hạn này tự đóng khi văn bản tương ứng được ban hành.", deadline_id=deadline_id)
    errors = []
    if not reason.strip():
        errors.append("reason: phải ghi căn cứ xác nhận đã thực hiện")
    if on < deadline.starts_on:
        errors.append(f"on: ngày thực hiện {on:%d/%m/%Y} trước ngày bắt đầu thời hạn")
    text = reason.strip()
    if kind is DeadlineKind.SEND_DECISION:
        method = send_method(str(sent_by)) if sent_by is not None else send_method(reason)
        if method is None:
            errors.append("sent_by: phải ghi một cách gửi quyết định: giao trực tiếp, bưu chính bảo đảm, điện tử hoặc "
                          "niêm yết (khoản 2 Điều 70 Luật Xử lý vi phạm hành chính)")
        else:
            text = f"Đã gửi quyết định xử phạt ngày {on:%d/%m/%Y}: {SEND_METHOD_VI[method]} — {text}"
    if errors:
        titles = {"reason": "Thiếu căn cứ.", "on": "Ngày không hợp lệ.", "sent_by": "Thiếu cách gửi quyết định."}
        raise IntakeError(titles[errors[0].split(":")[0]], errors=errors)
    _set_status(session, deadline, DeadlineStatus.MET, actor=actor, met_on=on, reason=text[:500])
    return deadline
