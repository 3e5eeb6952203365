"""The demo's simulated field users: inspectors submitting checklists, the lead approving and reviewing, officials
deciding, establishments complying. They talk to the engine only through the intake HTTP API, as real ones do (the
compliance step, which has no API, records through the deadline stage as the lead would)."""
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
from sqlmodel import col, select

from models import Establishment
from models.base import id_of
from services.rules.calendar import add_working_days
from services.demo.intake_client import IntakeClient
from services.db import session_scope
from services.intake.schemas import InspectionOut
from services.settings import Settings


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
    from services.stages import deadlines
    from services.stages import deadline_changes

    deadlines.create_from_state(settings)
    done = 0
    with session_scope(settings) as session:
        rows = session.exec(select(Deadline, Establishment).join(Inspection, col(Inspection.id) == col(Deadline.inspection_id))
                            .join(Establishment, col(Establishment.id) == col(Inspection.establishment_id))
                            .join(Campaign, col(Campaign.id) == col(Deadline.campaign_id))
                            .where(Campaign.code == campaign_code, Deadline.status == DeadlineStatus.OPEN,
                                   col(Deadline.kind).in_([DeadlineKind.SEND_DECISION, DeadlineKind.COMPLY,
                                                           DeadlineKind.REMEDIAL]))
                            .order_by(col(Deadline.id))).all()
        for deadline, establishment in rows:
            if deadline.kind == DeadlineKind.SEND_DECISION:  # handed over on the day it is issued (Art.70 cl.2 a)
                deadline_changes.mark_met(session, id_of(deadline), deadline.starts_on, actor="SNV-LEAD",
                                   reason="Giao trực tiếp cho người đại diện của cơ sở, có ký nhận")
                done += 1
                continue
            rng = random.Random(f"{establishment.tax_code}:{deadline.kind}")
            if rng.random() >= share:
                continue
            on = min(deadline.starts_on + timedelta(days=rng.randint(2, 9)), deadline.due_on)
            proof = (f"Biên lai thu tiền phạt số {rng.randint(1000, 9999):04d} ngày {on:%d/%m/%Y}"
                     if deadline.kind == DeadlineKind.COMPLY else f"Báo cáo khắc phục của cơ sở ngày {on:%d/%m/%Y}")
            deadline_changes.mark_met(session, id_of(deadline), on, actor="SNV-LEAD", reason=proof)
            done += 1
    return done
