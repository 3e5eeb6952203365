"""Stage 5: publish final sanction outcomes to the public register (de-identified, never twice).

A publication row is unique per (channel, decision), written in the same transaction as the
inspection's closing, so a re-run never publishes twice. The register's open-data files (JSON, CSV and
a Vietnamese HTML page) are rebuilt from the stored publications after each run.
"""
from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlmodel import select

from models import (CampaignStatus, Document, DocumentType, Establishment, Inspection, InspectionStatus,
                    Publication, Violation)
from models.base import utcnow
from services import audit
from services.db import session_scope
from services.documents.storage import write_atomic
from services.intake.logic import is_organisation
from services.issuing import find_document
from services.rules.fines import load_fine_table, provision_vi
from services.rules.procedure import procedure_for
from services.settings import Settings
from services.stages.common import SYSTEM_ACTOR, StageResult, get_campaign, per_inspection

STAGE = "publish-outcomes"
CSV_COLUMNS = ("so_quyet_dinh", "ngay_quyet_dinh", "co_quan_ban_hanh", "ten_co_so", "ma_so_thue", "ma_tinh", "ma_xa",
               "hanh_vi", "tong_tien_phat_vnd")
WITHHELD_VI = "Cá nhân kinh doanh (thông tin cá nhân được bảo vệ theo Nghị định 13/2023/NĐ-CP)"


def outcome_payload(decision: Document, establishment: Establishment, violations: Sequence[Violation]) -> dict[str, Any]:
    """What the public sees: no inspector, complainant or victim, and no individual's personal data."""
    table = load_fine_table()
    organisation = is_organisation(establishment)
    return {
        "so_quyet_dinh": decision.number, "ngay_quyet_dinh": min(v.decided_on for v in violations if v.decided_on).isoformat(),
        "co_quan_ban_hanh": decision.issuer_code,
        "ten_co_so": establishment.name if organisation else WITHHELD_VI,
        "ma_so_thue": establishment.tax_code if organisation else "",
        "ma_tinh": establishment.province_code, "ma_xa": establishment.commune_code,
        "hanh_vi": [{"can_cu": provision_vi(table.get(v.provision_code)), "so_tien_vnd": v.final_amount} for v in violations],
        "tong_tien_phat_vnd": sum(v.final_amount or 0 for v in violations),
    }


def publish_for_inspection(settings: Settings, inspection_id: int, *, actor: str = SYSTEM_ACTOR) -> str:
    with session_scope(settings) as session:
        inspection = session.get(Inspection, inspection_id)
        if inspection is None or inspection.status != InspectionStatus.SANCTIONED:
            return "already"
        decision = find_document(session, doc_type=DocumentType.SANCTION_DECISION, subject_key=f"inspection:{inspection_id}")
        establishment = session.get(Establishment, inspection.establishment_id)
        assert decision is not None and establishment is not None
        channel = procedure_for(inspection.scheduled_on).publication["channel"]
        subject = f"decision:{decision.id}"
        exists = session.exec(select(Publication.id).where(Publication.channel == channel,
                                                           Publication.subject_key == subject)).first()
        if exists is None:
            violations = session.exec(select(Violation).where(Violation.inspection_id == inspection_id).order_by(Violation.id)).all()
            session.add(Publication(channel=channel, subject_key=subject, document_id=decision.id,
                                    campaign_id=inspection.campaign_id, published_at=utcnow(),
                                    payload=outcome_payload(decision, establishment, violations)))
        audit.transition(session, inspection, InspectionStatus.CLOSED, actor=actor,
                         reason=f"Công khai kết quả xử phạt {decision.number}")
        return "published"


def close_campaign_if_done(settings: Settings, campaign_code: str, *, actor: str = SYSTEM_ACTOR) -> bool:
    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code)
        if campaign.status != CampaignStatus.FIELDWORK:
            return campaign.status == CampaignStatus.CLOSED
        open_ = session.exec(select(Inspection.id).where(Inspection.campaign_id == campaign.id,
                                                         Inspection.status != InspectionStatus.CLOSED)).first()
        if open_ is not None:
            return False
        audit.transition(session, campaign, CampaignStatus.CLOSED, actor=actor,
                         reason="Mọi cuộc kiểm tra đã kết thúc và kết quả xử phạt đã công khai")
        return True


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _atomic_write(path: Path, text: str) -> None:
    write_atomic(path, text.encode("utf-8"))


def write_register(settings: Settings) -> Path:
    """Rebuild the public register's open data (JSON, CSV) and its Vietnamese page from the stored publications."""
    with session_scope(settings) as session:
        pubs = session.exec(select(Publication).order_by(Publication.id)).all()
        rows = [{**p.payload, "ngay_cong_khai": p.published_at.date().isoformat()} for p in pubs]
    folder = settings.documents_path / "public"
    _atomic_write(folder / "register.json", json.dumps(rows, ensure_ascii=False, indent=1))
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        acts = "; ".join(f"{a['can_cu']}: {_money(a['so_tien_vnd'])} đồng" for a in r["hanh_vi"])
        writer.writerow([r["so_quyet_dinh"], r["ngay_quyet_dinh"], r["co_quan_ban_hanh"], r["ten_co_so"], r["ma_so_thue"],
                         r["ma_tinh"], r["ma_xa"], acts, r["tong_tien_phat_vnd"]])
    _atomic_write(folder / "register.csv", buf.getvalue())
    body = "\n".join(
        f"<tr><td>{html.escape(r['so_quyet_dinh'])}</td><td>{r['ngay_quyet_dinh']}</td><td>{html.escape(r['ten_co_so'])}</td>"
        f"<td>{r['ma_so_thue']}</td><td>{r['ma_xa']}</td>"
        f"<td>{'<br>'.join(html.escape(a['can_cu']) for a in r['hanh_vi'])}</td>"
        f"<td style='text-align:right'>{_money(r['tong_tien_phat_vnd'])}</td></tr>" for r in rows)
    page = ("<!doctype html><html lang='vi'><head><meta charset='utf-8'><title>Công khai kết quả xử phạt vi phạm "
            "hành chính về ATVSLĐ</title></head><body><h1>Công khai kết quả xử phạt vi phạm hành chính về an toàn, "
            "vệ sinh lao động</h1><table border='1' cellpadding='4'><thead><tr><th>Số quyết định</th><th>Ngày</th>"
            "<th>Cơ sở</th><th>Mã số thuế</th><th>Mã xã</th><th>Căn cứ xử phạt</th><th>Tổng tiền phạt (đồng)</th></tr>"
            f"</thead><tbody>\n{body}\n</tbody></table></body></html>\n")
    _atomic_write(folder / "index.html", page)
    return folder


def publish_outcomes(settings: Settings, campaign_code: str, inspection_ids: Sequence[int], *,
                     actor: str = SYSTEM_ACTOR) -> StageResult:
    result = per_inspection(STAGE, campaign_code, inspection_ids,
                            lambda i: publish_for_inspection(settings, i, actor=actor) == "published")
    result.details["register"] = str(write_register(settings))
    result.details["campaign_closed"] = close_campaign_if_done(settings, campaign_code, actor=actor)
    return result


__all__ = ["publish_outcomes", "write_register", "close_campaign_if_done"]
