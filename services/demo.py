"""The demo province: agencies, people, a synthetic registry, a campaign, and simulated field users.

Every step is an upsert keyed by a natural code, so running the demo again adds nothing. The simulated
inspectors and officials talk to the engine only through the intake HTTP API, as real ones do.
"""
from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import Session, select

from models import AccessToken, Agency, AgencyKind, Campaign, Contact, Establishment, Person, PersonRole
from models.base import utcnow
from services import access, audit
from services.clients.intake import IntakeClient
from services.calendar import add_working_days
from services.db import session_scope, upsert_insert
from services.errors import KiemtraError
from services.intake.schemas import InspectionOut
from services.registry.generate import generate_people, generate_registry
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
    names = generate_people(len(roster), seed=seed)
    tokens = {}
    for (code, agency_code, title, role), name in zip(roster, names, strict=True):
        person = session.exec(select(Person).where(Person.code == code)).first()
        if person is None:
            person = Person(code=code, full_name=name["full_name"], agency_id=agencies[agency_code].id, title=title, role=role)
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
    table = Contact.__table__  # type: ignore[attr-defined]
    insert = upsert_insert(session, table).on_conflict_do_nothing(index_elements=["owner_kind", "owner_ref"])
    session.execute(insert, [{"owner_kind": k, "owner_ref": r, "email": e, "phone": p} for k, r, e, p in rows])


def seed_registry(session: Session, *, n: int, province_code: str, seed: int, as_of: date,
                  progress: Callable[[int], None] | None = None) -> int:
    """Insert the synthetic registry with SQLAlchemy Core, skipping tax codes already present. Returns rows added."""
    table = Establishment.__table__  # type: ignore[attr-defined]
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


def ensure_campaign(session: Session, *, code: str, title: str, lead: Agency, members: Iterable[str], province_code: str,
                    period_start: date, period_end: date, quota: int, teams: int, actor: str) -> tuple[Campaign, bool]:
    campaign = session.exec(select(Campaign).where(Campaign.code == code)).first()
    if campaign is not None:
        return campaign, False
    campaign = Campaign(
        code=code, title=title, lead_agency_id=lead.id, member_agency_codes=sorted(members), province_code=province_code,
        period_start=period_start, period_end=period_end, quota=quota, team_count=teams, created_by=actor,
        # the campaign's own legal basis: the laws, the decree in force when it starts, the directive on inspections
        # (a province's own plan, e.g. KH 664/KH-UBND of 2025, only where it is this campaign's basis)
        legal_basis=["Bộ luật Lao động ngày 20 tháng 11 năm 2019",
                     "Luật An toàn, vệ sinh lao động ngày 25 tháng 6 năm 2015",
                     ("Nghị định số 12/2022/NĐ-CP ngày 17 tháng 01 năm 2022" if period_start < date(2026, 9, 10)
                      else "Nghị định số 283/2026/NĐ-CP ngày 15 tháng 7 năm 2026")
                     + " của Chính phủ quy định xử phạt vi phạm hành chính trong lĩnh vực lao động, bảo hiểm xã hội, "
                       "người lao động Việt Nam đi làm việc ở nước ngoài theo hợp đồng",
                     "Chỉ thị số 20/CT-TTg ngày 17 tháng 5 năm 2017 của Thủ tướng Chính phủ về việc chấn chỉnh hoạt "
                     "động thanh tra, kiểm tra đối với doanh nghiệp"])
    session.add(campaign)
    session.flush()
    audit.record(session, actor=actor, action="campaign_created", entity=campaign, to_state="draft",
                 reason=f"Lập kế hoạch kiểm tra liên ngành {code}")
    return campaign, True


# --- simulated field users -------------------------------------------------------------------------

def _stale(last: date | None, on: date, days: int = 365) -> bool:
    return last is None or last < on - timedelta(days=days)


def observed_findings(inspection: InspectionOut, e: Establishment) -> list[dict[str, Any]]:
    """What an inspector would find, from the establishment's recorded condition (seeded per inspection)."""
    rng = random.Random(f"{inspection.id}:{e.tax_code}")
    on = inspection.scheduled_on
    fails: dict[str, tuple[bool, int]] = {
        "health_exam": (_stale(e.last_health_exam_on, on, 183 if e.hazardous_workers else 365), e.workforce),
        "occupational_disease": (e.hazardous_workers > 0 and _stale(e.last_disease_exam_on, on), e.hazardous_workers),
        "vulnerable_workers": (e.vulnerable_workers > 0, e.vulnerable_workers),
        "medical_unit": (e.osh_organisation_gaps >= 2, 0),
        "monitoring": (_stale(e.last_environment_monitoring_on, on), e.workforce),
        "training": (e.untrained_workers > 0, e.untrained_workers),
        "equipment": (e.strict_equipment_count > 0 and rng.random() < 0.35, e.strict_equipment_count),
        "accident_reporting": (e.accident_reports_late > 0, 0),
        "osh_organisation": (e.osh_organisation_gaps > 0, 0),
    }
    out = []
    for item in inspection.checklist:
        # a record gap the data shows is confirmed on site about half the time (papers turn up, or the
        # item covers only part of it); items the registry says nothing about fail rarely
        condition, count = fails.get(str(item.get("risk_factor", "")), (rng.random() < 0.12, max(1, e.workforce // 4)))
        failed = condition and rng.random() < 0.45
        f: dict[str, Any] = {"item_code": item["code"], "result": "fail" if failed else "pass", "note": ""}
        if failed and item["counts_workers"]:
            f["workers_affected"] = max(1, min(count, e.workforce) or 1)
        if failed and item["counts_devices"]:
            f["devices_affected"] = max(1, count)
        if failed:
            f["note"] = "Cơ sở chưa xuất trình được hồ sơ chứng minh."
        out.append(f)
    return out


def simulate_inspectors(settings: Settings, http: httpx.Client, tokens: dict[str, str], campaign_code: str,
                        progress: Callable[[int], None] | None = None) -> int:
    """Each team head submits the team's checklist for every visit still open. Returns submissions sent.

    No database session is held across HTTP calls: SQLite transactions take the write lock when they begin.
    """
    sent = 0
    for code, token in sorted(tokens.items()):
        if not code.startswith("SNV-TT"):
            continue
        client = IntakeClient(http, token=token)
        for inspection in client.inspections():
            if inspection.campaign_code != campaign_code or inspection.status != "scheduled":
                continue
            with session_scope(settings) as session:
                establishment = session.exec(select(Establishment).where(Establishment.tax_code == inspection.tax_code)).one()
            client.submit_findings(inspection.id, f"{campaign_code}-{inspection.id}-v1",
                                   observed_findings(inspection, establishment))
            sent += 1
            if progress:
                progress(1)
    return sent


def simulate_lead_review(http: httpx.Client, token: str, campaign_code: str) -> int:
    """The lead reads why each establishment was proposed, and approves the list as proposed."""
    client = IntakeClient(http, token=token)
    proposal = client.selection(campaign_code)
    if proposal["status"] != "selected":
        return 0
    unexplained = [e["tax_code"] for e in proposal["establishments"] if e["kind"] == "risk" and not e["factors"]]
    note = "Đồng ý danh sách đề xuất." if not unexplained else f"Lưu ý: {len(unexplained)} cơ sở không có yếu tố rủi ro."
    return client.approve_selection(campaign_code, note)


def simulate_findings_review(http: httpx.Client, token: str, campaign_code: str) -> int:
    """The lead reviews each submitted checklist: approves a complete one, returns one without a note on a failure."""
    client = IntakeClient(http, token=token)
    reviewed = 0
    for inspection in client.inspections():
        if inspection.campaign_code != campaign_code or inspection.status != "findings_submitted":
            continue
        client.review(inspection.id, "approve", "Đồng ý kết quả kiểm tra.")
        reviewed += 1
    return reviewed


def simulate_officials(http: httpx.Client, tokens: dict[str, str], titles: dict[str, str], campaign_code: str) -> int:
    """The competent official of each file adopts the engine's proposed amounts, six working days after the visit (once the
    violator's 5-working-day window to explain in writing has passed, within the 7 for the decision)."""
    clients = {titles[code]: IntakeClient(http, token=tokens[code]) for code in titles}
    decided = 0
    any_client = next(iter(clients.values()))
    for inspection in any_client.inspections():
        if inspection.campaign_code != campaign_code or inspection.status != "records_issued":
            continue
        signer = inspection.competent_signer
        if signer is None or signer not in clients or any(v.final_amount is not None for v in inspection.violations):
            continue
        clients[signer].decide(inspection.id, add_working_days(inspection.scheduled_on, 6),
                               {v.id: v.proposed_amount for v in inspection.violations})
        decided += 1
    return decided


def simulate_compliance(settings: Settings, campaign_code: str, *, share: float = 0.85) -> int:
    """Most sanctioned establishments pay within the 10 days, and carry out their remedial measures: the lead records
    each with its receipt (deterministic per establishment). The rest stay open, so the deadline sweep shows them."""
    from models import Campaign, Deadline, DeadlineKind, DeadlineStatus, Establishment, Inspection
    from services import deadlines

    deadlines.create_from_state(settings)
    done = 0
    with session_scope(settings) as session:
        rows = session.exec(select(Deadline, Establishment).join(Inspection, Inspection.id == Deadline.inspection_id)
                            .join(Establishment, Establishment.id == Inspection.establishment_id)
                            .join(Campaign, Campaign.id == Deadline.campaign_id)
                            .where(Campaign.code == campaign_code, Deadline.status == DeadlineStatus.OPEN,
                                   Deadline.kind.in_([DeadlineKind.SEND_DECISION, DeadlineKind.COMPLY,  # type: ignore[attr-defined]
                                                      DeadlineKind.REMEDIAL]))
                            .order_by(Deadline.id)).all()
        for deadline, establishment in rows:
            if deadline.kind == DeadlineKind.SEND_DECISION:  # handed over on the day it is issued (Art.70 cl.2 a)
                deadlines.mark_met(session, deadline.id, deadline.starts_on, actor="SNV-LEAD",
                                   reason="Giao trực tiếp cho người đại diện của cơ sở, có ký nhận")
                done += 1
                continue
            rng = random.Random(f"{establishment.tax_code}:{deadline.kind}")
            if rng.random() >= share:
                continue
            on = min(deadline.starts_on + timedelta(days=rng.randint(2, 9)), deadline.due_on)
            proof = (f"Biên lai thu tiền phạt số {rng.randint(1000, 9999):04d} ngày {on:%d/%m/%Y}"
                     if deadline.kind == DeadlineKind.COMPLY else f"Báo cáo khắc phục của cơ sở ngày {on:%d/%m/%Y}")
            deadlines.mark_met(session, deadline.id, on, actor="SNV-LEAD", reason=proof)
            done += 1
    return done
