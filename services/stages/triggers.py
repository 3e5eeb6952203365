"""Recording the reasons that allow an unplanned (đột xuất) inspection (Chỉ thị 20/CT-TTg)."""
from __future__ import annotations

from datetime import date

from sqlmodel import select

from models import Establishment, InspectionTrigger, TriggerKind
from services import audit
from services.rules.calendar import today_in_vietnam
from services.db import session_scope
from services.errors import Refused
from services.settings import Settings
from models.base import id_of

KIND_VI = {"complaint": "khiếu nại, phản ánh", "accident": "tai nạn lao động", "referral": "chuyển đến / dấu hiệu vi phạm"}


def record_trigger(settings: Settings, *, tax_code: str, kind: str, reference: str, received_on: date, by: str,
                   note: str = "") -> bool:
    """Store a trigger once (unique per establishment, kind and reference). Returns False if already stored."""
    errors = []
    if kind not in KIND_VI:
        errors.append(f"kind: '{kind}' không hợp lệ; dùng một trong: " + ", ".join(f"{k} ({v})" for k, v in KIND_VI.items()))
    if not reference.strip():
        errors.append("reference: phải ghi số văn bản hoặc số hồ sơ")
    if received_on > today_in_vietnam():
        errors.append(f"received_on: ngày {received_on:%d/%m/%Y} chưa đến")
    with session_scope(settings) as session:
        establishment = session.exec(select(Establishment).where(Establishment.tax_code == tax_code.strip())).first()
        if establishment is None:
            errors.append(f"tax_code: không có cơ sở mã số thuế {tax_code} trong sổ đăng ký")
        if errors:
            raise Refused("Không ghi nhận được căn cứ kiểm tra đột xuất.", errors=errors)
        assert establishment is not None
        exists = session.exec(select(InspectionTrigger.id).where(
            InspectionTrigger.establishment_id == establishment.id, InspectionTrigger.kind == kind,
            InspectionTrigger.reference == reference.strip())).first()
        if exists is not None:
            return False
        trigger = InspectionTrigger(establishment_id=id_of(establishment), kind=TriggerKind(kind), reference=reference.strip(),
                                    received_on=received_on, note=note, recorded_by=by)
        session.add(trigger)
        session.flush()
        audit.record(session, actor=by, action="trigger_recorded", entity=trigger,
                     reason=f"{KIND_VI[kind]} {reference} ngày {received_on:%d/%m/%Y}", data={"tax_code": tax_code})
        return True
