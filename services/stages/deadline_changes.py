"""What people change on the legal deadlines (the sweep that creates and moves them: :mod:`services.stages.deadlines`).

- :func:`declare_complex`: a complex case (5 working days for the record, 1 month for the decision);
- :func:`receive_explanation` / :func:`record_explanation` (and :func:`explanation_received`): the violator's request
  for a hearing or written explanation, kept in the file; the decision's period becomes 1 month and the explanation
  periods close as met only when it was received within its window (the rule:
  :func:`services.rules.deadline_rules.explanation_effect`);
- :func:`extend_decision`: the one extension of the decision's 1-month period;
- :func:`mark_met`: compliance, a remedial measure or the sending of the decision, confirmed by a person.

Each change is audited; a refused one writes nothing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from models import Deadline, DeadlineKind, DeadlineStatus, Inspection
from models.base import utcnow
from services import audit
from services.errors import Conflict, Refused, NotFound
from services.rules.calendar import today_in_vietnam
from services.rules.fines import load_fine_table
from services.rules.deadline_rules import (EXPLANATION_KIND_VI, INFORMATIVE_KINDS, SEND_METHOD_VI, ExplanationKind,
                                           SendMethod, due_date, explanation_effect, procedure_for_period, send_method)
from services.stages.deadlines import gives_right_to_explain, set_status

__all__ = ["ExplanationReceived", "declare_complex", "explanation_received", "extend_decision", "mark_met",
           "receive_explanation", "record_explanation"]

log = logging.getLogger(__name__)


def _n(value: int) -> str:
    return f"{value:02d}"


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
        raise Refused("Thiếu lý do.", errors=["reason: phải ghi lý do thay đổi thời hạn"])
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
                                                  col(Deadline.explained).is_(True))).first() is not None


@dataclass(frozen=True)
class ExplanationReceived:
    """An explanation kept in the file: the decision's deadline, whether it was extended, and the Vietnamese answer."""
    decision: Deadline
    extended: bool
    note_vi: str


def _windows(session: Session, inspection_id: int, record_date: date) -> list[Deadline]:
    """The file's explanation windows: the stored rows, or (where the sweep has not made them yet and an act gives the
    right) the rows the sweep would make — never added to the session."""
    key = f"inspection:{inspection_id}"
    stored = list(session.exec(select(Deadline).where(
        col(Deadline.kind).in_([str(k) for k in sorted(INFORMATIVE_KINDS)]), Deadline.subject_key == key)).all())
    inspection = session.get(Inspection, inspection_id)
    assert inspection is not None
    if stored or not gives_right_to_explain(session, inspection, load_fine_table(), record_date):
        return stored
    computed = []
    for kind in sorted(INFORMATIVE_KINDS):
        due, basis = due_date(kind, record_date, procedure_for_period(record_date))
        computed.append(Deadline(kind=kind, subject_key=key, campaign_id=inspection.campaign_id, inspection_id=inspection_id,
                                 starts_on=record_date, due_on=due, basis_vi=basis))
    return computed


def receive_explanation(session: Session, inspection_id: int, *, actor: str, reason: str,
                        kind: ExplanationKind | str, on: date | None = None) -> ExplanationReceived:
    """The violator's request for a hearing or written explanation (``kind``), received on ``on`` (default today):
    kept in the file (an ``explanation_recorded`` audit event on the decision's deadline: who, when, why, what it
    did); received within its window it makes the decision's period 1 month and closes the open explanation periods
    as met; late, or where the file gives no right to explain, it extends nothing. A receipt date before the record
    or in the future is refused and nothing is written."""
    decision = _one(session, DeadlineKind.SANCTION_DECISION, inspection_id)
    received_on, today = on or today_in_vietnam(), today_in_vietnam()
    try:
        how = ExplanationKind(kind)
    except ValueError:
        how = None
    errors = [] if reason.strip() else ["reason: phải ghi lý do thay đổi thời hạn"]
    if how is None:
        errors.append("kind: ghi loại văn bản đã nhận: hearing (văn bản yêu cầu được giải trình trực tiếp) hoặc written "
                      "(văn bản giải trình)")
    effect = explanation_effect(how or ExplanationKind.WRITTEN, received_on, decision.starts_on, today,
                                _windows(session, inspection_id, decision.starts_on))
    errors.extend(effect.errors)
    if errors:
        log.warning("explanation refused: inspection %s, by %s, received %s: %s", inspection_id, actor, received_on, errors)
        titles = {"reason": "Thiếu lý do.", "kind": "Thiếu loại văn bản giải trình.", "on": "Ngày nhận giải trình không hợp lệ."}
        raise Refused(titles[errors[0].split(":")[0]], errors=errors)
    assert how is not None
    if effect.extends and not decision.explained:
        _recompute(session, decision, actor=actor, reason=reason, explained=True)
    audit.record(session, actor=actor, action="explanation_recorded", entity=decision, reason=reason.strip(),
                 data={"kind": str(how), "received_on": received_on.isoformat(), "recorded_on": today.isoformat(),
                       "outcome": "extended" if effect.extends else "not_extended", "note_vi": effect.note_vi,
                       "window_last_day": effect.window_last_day.isoformat() if effect.window_last_day else None,
                       "due_on": decision.due_on.isoformat()})
    _close_windows(session, inspection_id, actor=actor, received_on=received_on, extends=effect.extends,
                   text=f"{EXPLANATION_KIND_VI[how]}: {reason.strip()}")
    return ExplanationReceived(decision, effect.extends, effect.note_vi)


def _close_windows(session: Session, inspection_id: int, *, actor: str, received_on: date, extends: bool,
                   text: str) -> None:
    """In time, the right was exercised: every open explanation period closes as met on the day of receipt. Late, only
    the periods already passed close (on their last day), so that the other one still runs."""
    for deadline in session.exec(select(Deadline).where(
            col(Deadline.kind).in_([str(k) for k in sorted(INFORMATIVE_KINDS)]),
            Deadline.subject_key == f"inspection:{inspection_id}", Deadline.status == DeadlineStatus.OPEN)).all():
        if extends:
            set_status(session, deadline, DeadlineStatus.MET, actor=actor, met_on=max(received_on, deadline.starts_on),
                       reason=f"Đã ghi nhận giải trình của cá nhân, tổ chức vi phạm: {text}"[:500])
        elif received_on > deadline.due_on:
            set_status(session, deadline, DeadlineStatus.MET, actor=actor, met_on=deadline.due_on,
                       reason=(f"Đã hết thời hạn thực hiện quyền giải trình ngày {deadline.due_on:%d/%m/%Y}; giải trình "
                               f"nhận ngày {received_on:%d/%m/%Y} sau thời hạn: {text}")[:500])


def record_explanation(session: Session, inspection_id: int, *, actor: str, reason: str,
                       kind: ExplanationKind | str, on: date | None = None) -> Deadline:
    """:func:`receive_explanation`, returning the decision's deadline."""
    return receive_explanation(session, inspection_id, actor=actor, reason=reason, kind=kind, on=on).decision


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
        raise Refused("Gia hạn không hợp lệ.", errors=errors)
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
        raise Refused(titles[errors[0].split(":")[0]], errors=errors)
    set_status(session, deadline, DeadlineStatus.MET, actor=actor, met_on=on, reason=text[:500])
    return deadline
