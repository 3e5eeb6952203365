"""Declarations scheduling must respect: a person's conflict of interest, an establishment's unavailable day."""
from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from models import ConflictOfInterest, Establishment, Person, Unavailability
from services import audit
from services.db import session_scope
from services.errors import Refused
from services.settings import Settings
from models.base import id_of


def _establishment(session: Session, tax_code: str, errors: list[str]) -> Establishment | None:
    found = session.exec(select(Establishment).where(Establishment.tax_code == tax_code.strip())).first()
    if found is None:
        errors.append(f"tax_code: không có cơ sở mã số thuế {tax_code} trong sổ đăng ký")
    return found


def declare_conflict(settings: Settings, *, person_code: str, tax_code: str, reason: str, declared_on: date,
                     by: str) -> bool:
    """Record that a person may not inspect an establishment; returns False if already declared."""
    with session_scope(settings) as session:
        errors: list[str] = []
        person = session.exec(select(Person).where(Person.code == person_code)).first()
        if person is None:
            errors.append(f"person: không có người có mã {person_code}")
        est = _establishment(session, tax_code, errors)
        if not reason.strip():
            errors.append("reason: phải ghi nội dung xung đột lợi ích")
        if errors:
            raise Refused("Không ghi nhận được kê khai xung đột lợi ích.", errors=errors)
        assert person is not None and est is not None
        if session.exec(select(ConflictOfInterest.id).where(ConflictOfInterest.person_id == person.id,
                                                            ConflictOfInterest.establishment_id == est.id)).first():
            return False
        row = ConflictOfInterest(person_id=id_of(person), establishment_id=id_of(est), reason=reason.strip(), declared_on=declared_on)
        session.add(row)
        session.flush()
        audit.record(session, actor=by, action="conflict_declared", entity=row, reason=reason.strip(),
                     data={"person": person_code, "tax_code": tax_code})
        return True


def declare_unavailable(settings: Settings, *, tax_code: str, day: date, reason: str, by: str) -> bool:
    """Record a day an establishment cannot receive the team; returns False if already recorded."""
    with session_scope(settings) as session:
        errors: list[str] = []
        est = _establishment(session, tax_code, errors)
        if errors:
            raise Refused("Không ghi nhận được ngày cơ sở không thể tiếp đoàn.", errors=errors)
        assert est is not None
        if session.exec(select(Unavailability.id).where(Unavailability.establishment_id == est.id,
                                                        Unavailability.day == day)).first():
            return False
        row = Unavailability(establishment_id=id_of(est), day=day, reason=reason.strip())
        session.add(row)
        session.flush()
        audit.record(session, actor=by, action="unavailable_declared", entity=row, reason=reason.strip(),
                     data={"tax_code": tax_code, "day": day.isoformat()})
        return True
