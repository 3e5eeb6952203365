"""An establishment's sanction history as the law counts it: the engine's own decisions (which act, when decided,
when complied with) and the decisions imported with their dates (``PriorSanction``) — never a bare counter.

Repeat offences (tái phạm, Luật XLVPHC Art.10 cl.1 b) are derived from it by :mod:`services.rules.circumstances`.
"""
from __future__ import annotations

import unicodedata
from datetime import date

from sqlmodel import Session, col, select

from models import (Deadline, DeadlineKind, DeadlineStatus, DocumentType, Establishment, Inspection, PriorSanction,
                    Violation)
from services import audit
from services.rules.calendar import today_in_vietnam
from services.db import session_scope
from services.errors import Refused
from services.documents.issuing import latest_document
from services.rules.circumstances import PriorSanction as Prior
from services.rules.decrees import act_key
from services.rules.fines import load_fine_table
from services.settings import Settings
from models.base import id_of


def sanction_history(session: Session, establishment_id: int, *, excluding_inspection: int | None = None) -> list[Prior]:
    """Every dated sanction of the establishment: the engine's decisions in force, then the imported ones."""
    out: list[Prior] = []
    inspections = session.exec(select(Inspection).where(Inspection.establishment_id == establishment_id)
                               .order_by(col(Inspection.scheduled_on), col(Inspection.id))).all()
    for inspection in inspections:
        if inspection.id == excluding_inspection:
            continue
        key = f"inspection:{inspection.id}"
        decision = latest_document(session, doc_type=DocumentType.SANCTION_DECISION, subject_key=key)
        if decision is None or decision.issued_on is None:
            continue
        comply = session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.COMPLY, Deadline.subject_key == key)).first()
        complied_on = comply.met_on if comply is not None and comply.status == DeadlineStatus.MET else None
        for v in session.exec(select(Violation).where(Violation.inspection_id == inspection.id,
                                                      col(Violation.final_amount).is_not(None))
                              .order_by(col(Violation.id))).all():
            out.append(Prior(act_key=v.act_key or act_key(v.provision_code), decision_ref=decision.number,
                             decided_on=decision.issued_on, complied_on=complied_on, enforcement_expired_on=None,
                             warning_only=False, source="engine"))
    for row in session.exec(select(PriorSanction).where(PriorSanction.establishment_id == establishment_id)
                            .order_by(col(PriorSanction.decided_on), col(PriorSanction.id))).all():
        out.append(Prior(act_key=row.act_key, decision_ref=row.decision_ref, decided_on=row.decided_on,
                         complied_on=row.complied_on, enforcement_expired_on=row.enforcement_expired_on,
                         warning_only=row.warning_only, source="import"))
    return out


def decided_before(history: list[Prior], day: date) -> list[Prior]:
    return [p for p in history if p.decided_on < day]


def record_prior_sanction(settings: Settings, *, tax_code: str, provision_code: str, decision_ref: str, decided_on: date,
                          by: str, source: str, complied_on: date | None = None,
                          enforcement_expired_on: date | None = None, warning_only: bool = False) -> bool:
    """Store a decision the engine did not issue (a paper file, another agency's register), with its dates, once.

    Returns False when the same decision and act are already stored. Every field is checked and refused in Vietnamese,
    naming the field; nothing is written when anything is wrong.
    """
    errors = []
    table = load_fine_table()
    code = unicodedata.normalize("NFC", provision_code.strip())
    if code not in table:
        errors.append(f"provision_code: không có điều khoản xử phạt mã '{provision_code}' trong bảng mức phạt "
                      "(dạng '12/2022/ND-CP Art.21 cl.2(b)' hoặc '283/2026/ND-CP Art.32 cl.2(b)')")
    if not decision_ref.strip():
        errors.append("decision_ref: phải ghi số, ký hiệu quyết định xử phạt")
    if not source.strip():
        errors.append("source: phải ghi nguồn (hồ sơ giấy, sổ theo dõi, cơ quan cung cấp)")
    if decided_on > today_in_vietnam():
        errors.append(f"decided_on: ngày quyết định {decided_on:%d/%m/%Y} chưa đến")
    for name, day in (("complied_on", complied_on), ("enforcement_expired_on", enforcement_expired_on)):
        if day is not None and day < decided_on:
            errors.append(f"{name}: ngày {day:%d/%m/%Y} trước ngày quyết định {decided_on:%d/%m/%Y}")
    with session_scope(settings) as session:
        establishment = session.exec(select(Establishment).where(Establishment.tax_code == tax_code.strip())).first()
        if establishment is None:
            errors.append(f"tax_code: không có cơ sở mã số thuế {tax_code} trong sổ đăng ký")
        if errors:
            raise Refused("Không ghi nhận được quyết định xử phạt trước đây.", errors=errors)
        assert establishment is not None
        key = act_key(code)
        exists = session.exec(select(PriorSanction.id).where(PriorSanction.establishment_id == establishment.id,
                                                             PriorSanction.decision_ref == decision_ref.strip(),
                                                             PriorSanction.act_key == key)).first()
        if exists is not None:
            return False
        row = PriorSanction(establishment_id=id_of(establishment), act_key=key, provision_code=code,
                            decision_ref=decision_ref.strip(), decided_on=decided_on, complied_on=complied_on,
                            enforcement_expired_on=enforcement_expired_on, warning_only=warning_only,
                            source=source.strip(), recorded_by=by)
        session.add(row)
        session.flush()
        audit.record(session, actor=by, action="prior_sanction_recorded", entity=row,
                     reason=f"Quyết định {decision_ref.strip()} ngày {decided_on:%d/%m/%Y} ({source.strip()})",
                     data={"tax_code": tax_code, "provision_code": code})
        return True
