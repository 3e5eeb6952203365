"""The demo province's data: agencies, people with their demo tokens, a synthetic registry with contacts.

Every step is an upsert keyed by a natural code, so running the demo again adds nothing. The campaign itself is opened
by :func:`services.stages.planning.ensure_campaign`; the simulated users are in :mod:`services.demo.users`.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from models import AccessToken, Agency, AgencyKind, Contact, Establishment, Person, PersonRole
from models.base import id_of, table_of, utcnow
from services import access, audit
from services.db import upsert_insert
from services.errors import KiemtraError
from services.demo.registry import generate_people, generate_registry
from services.registry.fingerprint import with_derived
from services.registry.geo import load_units
from services.settings import Settings

PROVINCE = "04"  # Cao Bằng
INSERT_BATCH = 5000


@dataclass(frozen=True)
class DemoPlan:
    campaign_code: str = "CB-2026-ATVSLD-01"
    establishments: int = 20_000
    quota: int = 40
    teams: int = 4
    period_start: date = date(2026, 3, 2)
    period_end: date = date(2026, 5, 29)
    seed: int = 2026


def seed_agencies(session: Session, province_code: str = PROVINCE) -> dict[str, Agency]:
    province = load_units().province(province_code)
    parent = f"UBND {province.full_name.upper()}"
    wanted = [("SNV", "SỞ NỘI VỤ", AgencyKind.LABOUR), ("SYT", "SỞ Y TẾ", AgencyKind.HEALTH),
              ("LDLD", "LIÊN ĐOÀN LAO ĐỘNG TỈNH", AgencyKind.OTHER), ("UBND", "ỦY BAN NHÂN DÂN TỈNH", AgencyKind.OTHER)]
    out = {}
    for code, name, kind in wanted:
        agency = session.exec(select(Agency).where(Agency.code == code)).first()
        if agency is None:
            agency = Agency(code=code, name=name, parent_name=parent, kind=kind, province_code=province_code,
                            place=province.name)
            session.add(agency)
            session.flush()
        out[code] = agency
    return out


def demo_token(settings: Settings, person_code: str) -> str:
    """The demo's API token of a person: derived from the development-only demo secret, so re-running the
    demo needs no new tokens. Refused outside development and test."""
    if settings.environment not in ("development", "test"):
        raise KiemtraError("Mã truy cập thử nghiệm chỉ dùng trong môi trường phát triển.", person_code=person_code)
    secret = settings.demo_token_secret.get_secret_value().encode()
    return hmac.new(secret, person_code.encode(), hashlib.sha256).hexdigest()[:32]


def seed_people(session: Session, settings: Settings, agencies: dict[str, Agency], *, teams: int,
                seed: int) -> dict[str, str]:
    """Inspectors per agency and the two signing officials; returns their demo API tokens by person code.

    Only token hashes are stored, as ``accesstoken`` rows; issuing one is audited and happens once per person.
    """
    roster: list[tuple[str, str, str, PersonRole]] = []
    for i in range(teams):
        roster.append((f"SNV-TT{i + 1:02d}", "SNV", "Thanh tra viên", PersonRole.INSPECTOR))
        roster.append((f"SYT-CV{i + 1:02d}", "SYT", "Chuyên viên Phòng Nghiệp vụ Y", PersonRole.INSPECTOR))
    for i in range(max(teams // 2, 1)):
        roster.append((f"LDLD-CV{i + 1:02d}", "LDLD", "Chuyên viên Ban Chính sách pháp luật", PersonRole.INSPECTOR))
    roster.append(("SNV-GD", "SNV", "Giám đốc Sở Nội vụ", PersonRole.OFFICIAL))
    roster.append(("UBND-CT", "UBND", "Chủ tịch Ủy ban nhân dân tỉnh", PersonRole.OFFICIAL))
    roster.append(("SNV-LEAD", "SNV", "Phó Giám đốc Sở", PersonRole.LEAD))
    roster.append(("SNV-QT", "SNV", "Quản trị hệ thống", PersonRole.ADMIN))  # the console's people and tokens
    names = generate_people(len(roster), seed=seed)
    tokens = {}
    for (code, agency_code, title, role), name in zip(roster, names, strict=True):
        person = session.exec(select(Person).where(Person.code == code)).first()
        if person is None:
            person = Person(code=code, full_name=name["full_name"], agency_id=id_of(agencies[agency_code]), title=title, role=role)
            session.add(person)
            session.flush()
            audit.record(session, actor="demo", action="person_created", entity=person, reason=f"{title} ({agency_code})")
        tokens[code] = _demo_access(session, settings, person)
    seed_contacts(session, [("person", code, f"{code.lower()}@demo.kiemtra.invalid", _demo_phone(code))
                            for code, *_ in roster])
    return tokens


def _demo_access(session: Session, settings: Settings, person: Person) -> str:
    """The person's demo token, stored as one ``accesstoken`` row the first time (a re-run finds it). A demo token
    revoked or expired since is not brought back: the demo says so instead of working with a refused token."""
    token = demo_token(settings, person.code)
    row = session.exec(select(AccessToken).where(AccessToken.token_hash == access.hash_token(token))).first()
    if row is None:
        access.record_token(session, person=person, token=token, by="demo", label="Mã truy cập thử nghiệm")
    elif row.state(utcnow()) != "active":
        raise KiemtraError(f"Mã truy cập thử nghiệm của {person.code} đã bị thu hồi hoặc hết hạn; hãy tạo lại dữ liệu "
                           "thử nghiệm (xóa thư mục dữ liệu) rồi chạy lại.", person_code=person.code)
    return token


def _demo_phone(ref: str) -> str:
    return "09" + str(int(hashlib.sha256(ref.encode()).hexdigest()[:12], 16))[-8:]


def seed_contacts(session: Session, rows: list[tuple[str, str, str | None, str | None]]) -> None:
    """Contacts (kind, ref, e-mail, phone) for the demo, on the reserved .invalid domain; existing ones are kept."""
    if not rows:
        return
    table = table_of(Contact)
    insert = upsert_insert(session, table).on_conflict_do_nothing(index_elements=["owner_kind", "owner_ref"])
    session.execute(insert, [{"owner_kind": k, "owner_ref": r, "email": e, "phone": p} for k, r, e, p in rows])


def seed_registry(session: Session, *, n: int, province_code: str, seed: int, as_of: date,
                  progress: Callable[[int], None] | None = None) -> int:
    """Insert the synthetic registry with SQLAlchemy Core, skipping tax codes already present. Returns rows added."""
    table = table_of(Establishment)
    insert = upsert_insert(session, table).on_conflict_do_nothing(index_elements=["tax_code"])
    before = session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    batch: list[dict[str, Any]] = []
    for row in generate_registry(n, province_codes=[province_code], seed=seed, as_of=as_of):
        batch.append(with_derived(row))
        if len(batch) == INSERT_BATCH:
            session.execute(insert, batch)
            _establishment_contacts(session, batch)
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        session.execute(insert, batch)
        _establishment_contacts(session, batch)
        if progress:
            progress(len(batch))
    return int(session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() - before)


def _establishment_contacts(session: Session, batch: list[dict[str, Any]]) -> None:
    seed_contacts(session, [("establishment", r["tax_code"], f"atvsld.{r['tax_code']}@demo.kiemtra.invalid",
                             _demo_phone(r["tax_code"])) for r in batch])
