"""The selection list as the lead files it: PDF (template ``danh_sach_co_so``) and XLSX, from the stored list.

The line under the title cites what the list goes with: the issued decision to inspect (its number and date),
else a plan among the campaign's legal basis, else who drew it up for which campaign: never a blank. The data
that lets anyone redo the selection (risk policy version, seed, the registry's fingerprint) is in the PDF's
closing annex page and the XLSX's "Căn cứ lập danh sách" sheet, not in the running text.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from sqlmodel import Session, col, select

from models import Campaign, CampaignKind, DocumentType, Establishment, Person, PersonRole, Selection
from services.db import session_scope
from services.documents import render_pdf
from services.documents.render import render_pdf_bytes
from services.documents.selection_list import KIND_VI, attachment_vi, plan_in_basis, policy_labels, reasons_vi, sector_vi
from services.documents.xlsx import selection_xlsx_bytes, write_selection_xlsx
from services.errors import StageBlocked
from services.registry.geo import commune_name
from services.documents.issuing import latest_document
from services.rules.risk import policy_version
from services.settings import Settings
from services.stages.common import get_campaign
from services.stages.records import issuer_of, province_committee
from services.documents.format import signer_of


def decision_cited(session: Session, campaign: Campaign) -> str:
    """'Quyết định số 3/QĐ-UBND ngày 20/02/2026 của Ủy ban nhân dân tỉnh Cao Bằng' once issued, else ''."""
    decision = latest_document(session, doc_type=DocumentType.INSPECTION_DECISION, subject_key=f"campaign:{campaign.id}")
    if decision is None:
        return ""
    on = decision.issued_on or campaign.decision_on or campaign.period_start
    return f"Quyết định số {decision.number} ngày {on:%d/%m/%Y} của {province_committee(session, campaign)['name']}"


def selection_context(session: Session, campaign: Campaign, *, issued_on: date) -> tuple[dict[str, Any], dict[str, str]]:
    if campaign.risk_policy_version is None:
        raise StageBlocked(f"Đợt kiểm tra {campaign.code} chưa có danh sách đề xuất.", campaign_code=campaign.code)
    policy = policy_version(campaign.risk_policy_version)
    labels = policy_labels(policy)
    rows = session.exec(select(Selection, Establishment).join(Establishment, col(Selection.establishment_id) == Establishment.id)
                        .where(Selection.campaign_id == campaign.id).order_by(col(Selection.rank))).all()
    active = [(s, e) for s, e in rows if not s.removed]
    lead = session.exec(select(Person).where(Person.role == PersonRole.LEAD, Person.agency_id == campaign.lead_agency_id)
                        .order_by(Person.code)).first()
    counts = {k: sum(1 for s, _ in active if s.kind == k) for k in KIND_VI}
    issuer = issuer_of(session, campaign)
    context = {
        "issuer": issuer, "number": "", "issued_on": issued_on,
        "attached_vi": attachment_vi(issuer["name"], campaign.title, decision_vi=decision_cited(session, campaign),
                                     plan_vi=plan_in_basis(campaign.legal_basis)),
        "campaign": {"code": campaign.code, "title": campaign.title, "period_start": campaign.period_start,
                     "period_end": campaign.period_end,
                     "kind_vi": "đột xuất" if campaign.kind == CampaignKind.SURPRISE else "theo kế hoạch"},
        "basis": {"policy_version": policy.version, "eligibility_rule_vi": policy.eligibility_rule_vi,
                  "seed": campaign.selection_seed, "registry_fingerprint": campaign.registry_snapshot_sha256 or "",
                  "registry_rows": campaign.registry_snapshot_rows or 0},
        "counts": {**counts, "removed": sum(1 for s, _ in rows if s.removed)},
        "rows": [{"rank": i + 1, "name": e.name, "tax_code": e.tax_code, "commune_vi": commune_name(e.commune_code),
                  "sector_vi": sector_vi(e.sector_vsic), "workforce": e.workforce,
                  "score": s.score, "reasons_vi": reasons_vi(s.factors, labels), "kind_vi": KIND_VI[str(s.kind)],
                  "factors": s.factors} for i, (s, e) in enumerate(active)],
        "removed": [{"name": e.name, "tax_code": e.tax_code, "reason_vi": s.change_reason, "changed_by": s.changed_by or ""}
                    for s, e in rows if s.removed],
        "signer": signer_of(lead.full_name if lead else "", lead.title if lead else "Người chủ trì"),
    }
    return context, labels


def export_selection(settings: Settings, campaign_code: str, *, out_dir: Path | None = None) -> tuple[Path, Path]:
    """Write the list as PDF and XLSX (same bytes for the same stored list); returns both paths."""
    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code)
        context, labels = selection_context(session, campaign, issued_on=campaign.period_start)
    folder = out_dir or settings.documents_path / "selection" / campaign_code
    pdf = render_pdf("danh_sach_co_so", context, folder / "danh-sach-co-so-du-kien-kiem-tra.pdf").path
    xlsx = write_selection_xlsx(context, folder / "danh-sach-co-so-du-kien-kiem-tra.xlsx", labels=labels)
    return pdf, xlsx


def selection_file(settings: Settings, campaign_code: str, kind: Literal["pdf", "xlsx"]) -> bytes:
    """The list as PDF or XLSX in memory, the bytes :func:`export_selection` writes (a download writes nothing)."""
    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code)
        context, labels = selection_context(session, campaign, issued_on=campaign.period_start)
    if kind == "pdf":
        return render_pdf_bytes("danh_sach_co_so", context)[0]
    return selection_xlsx_bytes(context, labels=labels)
