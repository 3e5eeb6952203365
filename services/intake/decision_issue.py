"""The sanction decision issued at once, after the official's amounts were recorded (issue 15).

``POST /api/inspections/{id}/decision`` and the console's decision screen record the amounts (one transaction,
:func:`services.intake.decisions.record_decision`), then call :func:`issue_now`: the campaign's ``decide-sanctions``
step for this one inspection (:func:`services.stages.sanctions.decide_for_inspection`, its own short transaction).
It is the stage's own step, so it is idempotent both ways: a stage run later finds the file ALREADY, and a retry of
the request finds the decision issued. Where the law does not allow the decision yet, the answer says why and from
which day; the stage (run by the sweeper or ``campaign run``) issues it then.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, col, select

from models import DocumentType, Inspection, SigningRequest, SigningState, Violation
from services.db import session_scope
from services.documents.issuing import latest_document
from services.documents.signed_issuing import current_request, issue_by
from services.errors import KiemtraError
from services.intake.decisions import explanation_window
from services.intake.schemas import DecisionIssue
from services.rules.calendar import today_in_vietnam
from services.settings import Settings
from services.stages import sanctions
from services.stages.decision_time_bar import time_bar_of_file

NOT_DECIDED_VI = "Chưa có mức phạt cho mọi hành vi của hồ sơ."


def issue_now(settings: Settings, inspection_id: int, *, actor: str) -> DecisionIssue:
    """Run the sanctions step for this inspection and say what it did (see the module's docstring)."""
    reason = ""
    try:
        sanctions.decide_for_inspection(settings, inspection_id, actor=actor)
    except (KiemtraError, ValueError) as exc:  # a refusal of the law or a document that cannot be drawn: the stage
        reason = getattr(exc, "message", None) or str(exc)  # retries it (and records the failure) on its next run
    with session_scope(settings) as session:
        return issue_state(session, inspection_id, reason)


def issue_state(session: Session, inspection_id: int, reason: str = "") -> DecisionIssue:
    """Where the file's decision stands (read only): issued, with its number, date and links, or waiting, with why."""
    key = f"inspection:{inspection_id}"
    decision = latest_document(session, doc_type=DocumentType.SANCTION_DECISION, subject_key=key)
    record = latest_document(session, doc_type=DocumentType.VIOLATION_RECORD, subject_key=key)
    record_url = f"/console/documents/{record.id}" if record is not None else None
    if decision is not None:
        return DecisionIssue(outcome="issued", number=decision.number, issued_on=decision.issued_on,
                             decision_url=f"/console/documents/{decision.id}", record_url=record_url)
    why, issuable_from = _why_waiting(session, inspection_id, reason)
    return DecisionIssue(outcome="waiting", record_url=record_url, waiting_reason=why, issuable_from=issuable_from)


def signing_vi(request: SigningRequest) -> str:
    """Where the decision's digital signature stands, for the official and the lead."""
    if request.state == SigningState.REFUSED:
        return f"{request.signer_name} đã từ chối ký dự thảo quyết định: {request.refusal_reason}. Cần soạn lại dự thảo."
    text = (f"Dự thảo quyết định chờ {request.signer_title.lower()} {request.signer_name} ký số (Văn bản chờ ký số)."
            if request.state == SigningState.AWAITING_SIGNATURE else
            f"{request.signer_name} đã ký số; quyết định chờ cấp số, ngày và chữ ký số của cơ quan, chậm nhất ngày "
            f"{issue_by(request):%d/%m/%Y} (Điều 18 Nghị định 30/2020/NĐ-CP: trong ngày ký hoặc ngày làm việc tiếp theo).")
    return f"{text} Lần thử gần nhất không thành: {request.last_error}" if request.last_error else text


def _why_waiting(session: Session, inspection_id: int, reason: str) -> tuple[str, date | None]:
    """The reason in Vietnamese, and the day from which the stage can issue the decision when it is a period."""
    inspection = session.get(Inspection, inspection_id)
    violations = list(session.exec(select(Violation).where(Violation.inspection_id == inspection_id)
                                   .order_by(col(Violation.id))).all())
    if inspection is None:
        return reason or f"Không tìm thấy cuộc kiểm tra số {inspection_id}.", None
    signing = current_request(session, doc_type=DocumentType.SANCTION_DECISION, subject_key=f"inspection:{inspection_id}")
    if signing is not None and signing.state != SigningState.ISSUED:
        return signing_vi(signing), None
    barred = time_bar_of_file(session, inspection, today_in_vietnam())  # Art.65 cl.1 c: it will never be issued
    if barred:
        return barred, None
    window = explanation_window(session, inspection, violations)
    if window is not None and window[0] >= today_in_vietnam():
        return (f"Cơ sở còn quyền gửi văn bản giải trình đến hết ngày {window[0]:%d/%m/%Y} ({window[1]}); "
                "quyết định xử phạt được ban hành sau ngày đó.", window[0] + timedelta(days=1))
    if any(v.final_amount is None for v in violations):
        return reason or NOT_DECIDED_VI, None
    return reason or f"Hồ sơ đang ở bước «{inspection.status}», chưa thể ban hành quyết định xử phạt.", None
