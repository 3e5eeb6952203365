"""The competent official's decision on a file's fines, taken by the intake API (``POST …/decision``).

The checks are the rules' (:mod:`services.rules.competence`: who may decide, which amounts, circumstances and
reasons); this module adds what needs the stored file: the violator's right to explain not cut short, no decision
after its time limit or the limitation (Luật XLVPHC Art.65 cl.1 c: 422 on ``decided_on``, nothing stored), an amount set
once (the same decision sent again is answered as before, another one is a conflict), and the audit event.
"""
from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from models import DocumentType, Establishment, Inspection, InspectionStatus, Person, PersonRole, Violation
from models.base import id_of
from services import audit
from services.documents.issuing import latest_document
from services.errors import Conflict, Forbidden, IntakeError
from services.intake.logic import find_inspection
from services.intake.schemas import DecisionIn, DecisionReceipt
from services.rules.calendar import today_in_vietnam
from services.rules.competence import (amount_errors, circumstance_errors, ensure_competent, missing_amounts,
                                       referral_errors)
from services.rules.deadline_rules import ExplainAct, explanation_rights, suspends
from services.rules.fines import load_fine_table
from services.rules.procedure import procedure_for
from services.stages.deadline_changes import explanation_received
from services.stages.decision_time_bar import time_bar


def explanation_window(session: Session, inspection: Inspection, violations: list[Violation]) -> tuple[date, str] | None:
    """The written explanation's last day and its basis, where the record gave the violator the right to explain
    (Luật XLVPHC Art.61) and no explanation was received; None otherwise."""
    record = latest_document(session, doc_type=DocumentType.VIOLATION_RECORD, subject_key=f"inspection:{inspection.id}")
    if record is None or record.issued_on is None or explanation_received(session, id_of(inspection)):
        return None
    establishment = session.get(Establishment, inspection.establishment_id)
    assert establishment is not None
    table = load_fine_table()
    acts = [ExplainAct(v.range_max, suspends(table.get(v.provision_code).additional_penalty)) for v in violations]
    rights = explanation_rights(record.issued_on, acts, establishment.is_organisation, procedure_for(record.issued_on),
                                decider="người có thẩm quyền")
    return None if rights is None else (rights.written_last_day, rights.basis_vi)


def _explanation_window_errors(session: Session, inspection: Inspection, violations: list[Violation], on: date) -> list[str]:
    """A decision may not cut the violator's right to explain short (Luật XLVPHC Art.61): where the record gave the
    right, not before the written explanation's last day has passed, unless the explanation was received."""
    window = explanation_window(session, inspection, violations)
    if window is None or on > window[0]:
        return []
    establishment = session.get(Establishment, inspection.establishment_id)
    assert establishment is not None
    return [f"decided_on: {establishment.name} còn quyền gửi văn bản giải trình đến hết ngày "
            f"{window[0]:%d/%m/%Y} ({window[1]}); chỉ ra quyết định sau ngày đó, hoặc khi đã nhận "
            "giải trình (kiemtra deadlines explained)"]


def record_decision(session: Session, person: Person, inspection_id: int, body: DecisionIn) -> tuple[DecisionReceipt, bool]:
    """The competent official sets the final amount of each act (within its range) with the circumstances found and,
    for an amount other than the proposal they give, the reason."""
    if person.role != PersonRole.OFFICIAL:
        raise Forbidden("Chỉ người có thẩm quyền xử phạt mới được quyết định mức phạt.", person_id=person.id)
    inspection = find_inspection(session, inspection_id)
    violations = {id_of(v): v for v in session.exec(select(Violation).where(Violation.inspection_id == inspection_id)).all()}
    already = bool(violations) and all(v.final_amount is not None for v in violations.values())
    if not violations or not already and inspection.status != InspectionStatus.RECORDS_ISSUED:
        raise Conflict(f"Cuộc kiểm tra {inspection_id} chưa có biên bản vi phạm hành chính để quyết định xử phạt.",
                       inspection_id=inspection_id)
    authority = ensure_competent(session, person, inspection, on=body.decided_on)
    errors = missing_amounts(violations, body.amounts)
    errors += referral_errors(authority, body.referral_reason)
    if body.decided_on < inspection.scheduled_on:
        errors.append(f"decided_on: ngày quyết định {body.decided_on:%d/%m/%Y} trước ngày lập biên bản vi phạm "
                      f"{inspection.scheduled_on:%d/%m/%Y}")
    if body.decided_on > today_in_vietnam():
        errors.append(f"decided_on: ngày quyết định {body.decided_on:%d/%m/%Y} chưa đến")
    errors += amount_errors(violations, body.amounts)
    errors += _explanation_window_errors(session, inspection, list(violations.values()), body.decided_on)
    barred = time_bar(session, inspection, body.decided_on)  # Art.65 cl.1 c: first, it is the one that matters
    if barred:
        errors.insert(0, f"decided_on: {barred}")
    picked_errors, chosen = circumstance_errors(violations, circumstances=body.circumstances, reasons=body.reasons,
                                                amounts=body.amounts, on=body.decided_on)
    errors += picked_errors
    if errors:
        raise IntakeError("Quyết định không hợp lệ.", errors=errors)
    if already:
        same = all(v.final_amount == body.amounts[vid] and v.decided_on == body.decided_on and v.decided_by_id == person.id
                   and (v.mitigating, v.aggravating, v.amount_reason) == (chosen[vid][0], chosen[vid][1], chosen[vid][3])
                   for vid, v in violations.items())
        if not same:
            raise Conflict(f"Cuộc kiểm tra {inspection_id} đã có quyết định mức phạt khác.", inspection_id=inspection_id)
    else:
        for vid, v in violations.items():
            mitigating, aggravating, proposal, reason = chosen[vid]
            v.final_amount, v.decided_by_id, v.decided_on = body.amounts[vid], person.id, body.decided_on
            v.mitigating, v.aggravating, v.decided_proposal, v.amount_reason = mitigating, aggravating, proposal, reason
            session.add(v)
        audit.record(session, actor=person.code, action="fine_decided", entity=inspection,
                     reason=f"Quyết định mức phạt ngày {body.decided_on:%d/%m/%Y}",
                     data={"acts": {str(k): {"amount": a, "proposal": chosen[k][2], "mitigating": chosen[k][0],
                                             "aggravating": chosen[k][1], "reason": chosen[k][3]}
                                    for k, a in body.amounts.items()},
                           "competent": authority.needed.title, "referral_reason": body.referral_reason.strip()})
    total = sum(body.amounts.values())
    return DecisionReceipt(inspection_id=inspection_id, decided_by=person.full_name, decided_on=body.decided_on,
                           total_vnd=total), not already
