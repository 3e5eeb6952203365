"""The campaign report (báo cáo kết quả kiểm tra) through the NĐ 30/2020 issuing sequence (issue 17), when ``report`` is
in ``KIEMTRA_SIGNING_DOCUMENTS``.

:func:`draft_report` puts the report, its figures computed on the day it is drawn up, to the person the template names
as its signer (:func:`report_signer`: the lead agency's lãnh đạo, ``PersonRole.LEAD``, the same person
:func:`services.reports.campaign_report.report_context` prints under the signature). Nothing is numbered or written
meanwhile; once signed, :mod:`services.issuing.signed_documents` numbers, dates, seals and issues it, then calls
:func:`after_issue`.

The XLSX beside the report must give the PDF's figures. The state goes on changing between the draft and the signature
(a fine paid, a remedial measure done): figures re-derived on the issuing day could disagree with the signed PDF. The
draft's context is therefore kept beside the draft (``…-aN.json``, tied to the draft by its SHA-256) and the XLSX is
written from it once the report is issued, with the report's number and issuing day: the very figures the signer signed.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from models import Campaign, Document, DocumentType, Person, PersonRole, SigningRequest
from models.base import id_of
from services.db import session_scope
from services.documents.signed_issuing import STATE_VI, Draft, current_request, request_signature
from services.documents.storage import write_atomic
from services.documents.xlsx import write_report_xlsx
from services.errors import Conflict
from services.settings import Settings

log = logging.getLogger(__name__)


def xlsx_path(settings: Settings, doc: Document) -> Path:
    """Where the report's figures are, beside its PDF."""
    return (settings.documents_path / doc.path).with_suffix(".xlsx")


def report_signer(session: Session, campaign: Campaign) -> Person | None:
    """Who signs the campaign's report: the lead agency's lãnh đạo (the first by code)."""
    return session.exec(select(Person).where(Person.role == PersonRole.LEAD, Person.agency_id == campaign.lead_agency_id)
                        .order_by(Person.code)).first()


def waiting_vi(request: SigningRequest) -> str:
    """What the flow and the CLI say of a report not issued yet."""
    return (f"Báo cáo kết quả kiểm tra chờ {request.signer_title.lower()} {request.signer_name} ký số "
            f"(dự thảo số {request.id}: {STATE_VI[request.state]}).")


def draft_report(session: Session, settings: Settings, campaign: Campaign, context: Mapping[str, Any], *, revision: int,
                 previous: Document | None, symbol: str, template: str, actor: str, redraft: bool = False) -> SigningRequest:
    """The report put to its signer (idempotent: the current draft is returned as it is, see ``request_signature``)."""
    signer = report_signer(session, campaign)
    if signer is None:
        raise Conflict(f"Chưa có lãnh đạo cơ quan chủ trì đợt kiểm tra {campaign.code} trong danh sách cán bộ để ký báo "
                       "cáo kết quả kiểm tra: không trình ký được.", campaign_code=campaign.code)
    subject, issuer = f"campaign:{campaign.id}", context["issuer"]
    before = current_request(session, doc_type=DocumentType.REPORT, subject_key=subject, revision=revision)
    request = request_signature(session, settings, Draft(
        doc_type=DocumentType.REPORT, subject_key=subject, revision=revision,
        supersedes_id=previous.id if previous else None, campaign_id=id_of(campaign), inspection_id=None,
        issuer_code=issuer["code"], issuer_name=issuer["name"], place=issuer["place"], symbol=symbol, template=template,
        title=f"Báo cáo kết quả kiểm tra{' (thay thế)' if previous else ''} — {campaign.code}",
        drafted_on=context["issued_on"], signer_code=signer.code, signer_name=signer.full_name,
        signer_title=str(context["signer"]["title"]).upper(), context=context), actor=actor, redraft=redraft)
    if before is None or before.id != request.id:  # drawn now: its figures kept for the XLSX
        write_atomic(_context_path(settings, request.draft_path), _dumps(request.draft_sha256, context))
    return request


def after_issue(settings: Settings, doc: Document) -> None:
    """What issuing the report does beyond the PDF: its XLSX, from the signed draft's figures (idempotent; a report
    issued unsigned has its XLSX written with it)."""
    target = xlsx_path(settings, doc)
    if target.exists():
        return
    with session_scope(settings) as session:
        request = current_request(session, doc_type=DocumentType.REPORT, subject_key=doc.subject_key, revision=doc.revision)
        if request is None or request.document_id != doc.id:
            return
        draft_path, draft_sha256 = request.draft_path, request.draft_sha256
    path = _context_path(settings, draft_path)
    stored = json.loads(path.read_text(encoding="utf-8"), object_hook=_decode) if path.is_file() else None
    if stored is None or stored.get("draft_sha256") != draft_sha256:
        log.error("report %s: the figures of its draft %s are missing or not the draft's; no XLSX written", doc.number,
                  draft_path)
        return
    write_report_xlsx({**stored["context"], "number": doc.number, "issued_on": doc.issued_on}, target)


def _context_path(settings: Settings, draft_path: str) -> Path:
    return (settings.documents_path / draft_path).with_suffix(".json")


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _decode(value: dict[str, Any]) -> Any:
    if value.keys() == {"$datetime"}:
        return datetime.fromisoformat(value["$datetime"])
    return date.fromisoformat(value["$date"]) if value.keys() == {"$date"} else value


def _dumps(draft_sha256: str, context: Mapping[str, Any]) -> bytes:
    return json.dumps({"draft_sha256": draft_sha256, "context": context}, default=_encode, ensure_ascii=False,
                      sort_keys=True).encode()


__all__ = ["after_issue", "draft_report", "report_signer", "waiting_vi", "xlsx_path"]
