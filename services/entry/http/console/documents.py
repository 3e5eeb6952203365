"""The documents library (issue 15): every issued document of a campaign, reports and Excel exports.

* ``/console/documents`` — the campaigns, each linking to its library.
* ``/console/campaigns/{code}/documents`` — every document issued for the campaign (number, date, type in
  Vietnamese, revision and what replaced it, the latest check of its stored file: "Chưa kiểm tra", "Khớp tệp, chưa ký
  số", "Chữ ký hợp lệ (PAdES B-LT)" or "KHÔNG hợp lệ: …"), the campaign report (issued here by a lead through the function the
  CLI's ``report campaign`` calls), the periodic reports and the Excel exports of findings, schedule, deadlines and
  decisions.
* ``/console/documents/{id}`` (PDF) and ``/console/documents/{id}/xlsx`` (a report's figures) — downloads for leads
  and officials only, the stored file's SHA-256 checked before a byte is sent, with a Vietnamese file name
  (``Content-Disposition`` with an ASCII fallback and RFC 5987 ``filename*``).
"""
from __future__ import annotations

import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path as FilePath
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from models import Campaign, Document, DocumentType, DocumentVerification, Establishment, Inspection, PersonRole
from services.documents.verification_store import UNCHECKED_VI, latest_verifications
from services.entry.http.console.access_rules import leads_a_campaign, visible_campaigns
from services.entry.http.console.base import db, read_post, render, require, see_other, UserDep
from services.entry.http.console.decision_view import DOC_TYPE_VI
from services.documents.storage import read_stored
from services.errors import Forbidden, NotFound
from services.reports import exports
from services.reports.campaign_report import issue_campaign_report, xlsx_path
from services.reports.periodic_report import ANNUAL, HALF_YEAR, export_periodic_report
from services.rules.calendar import VIETNAM, today_in_vietnam
from services.settings import Settings

router = APIRouter(prefix="/console", include_in_schema=False)
DocumentId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PDF, XLSX = "application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOWNLOAD_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox"}
PERIODIC_VI = {HALF_YEAR: "Báo cáo 6 tháng", ANNUAL: "Báo cáo năm"}
READERS = (PersonRole.LEAD, PersonRole.OFFICIAL)


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the Vietnamese name as RFC 5987 ``filename*`` (UTF-8, %-encoded)."""
    name = unicodedata.normalize("NFC", name).replace("/", "-").replace("\\", "-")
    plain = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    fallback = "".join(c for c in plain if c.isascii() and (c.isalnum() or c in " .-_()")) or "tai-lieu"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def download(data: bytes, media_type: str, name: str) -> Response:
    return Response(data, media_type=media_type,
                    headers={**DOWNLOAD_HEADERS, "Content-Disposition": content_disposition(name)})


def _campaign(session: Session, code: str) -> Campaign:
    campaign = session.exec(select(Campaign).where(Campaign.code == code)).first()
    if campaign is None:
        raise NotFound(f"Không có đợt kiểm tra mã {code}.")
    return campaign


def _document(session: Session, document_id: int) -> Document:
    doc = session.get(Document, document_id)
    if doc is None:
        raise NotFound("Không có văn bản này.")
    return doc


def _file_name(doc: Document) -> str:
    revision = f" (lần {doc.revision})" if doc.revision > 1 else ""
    return f"{DOC_TYPE_VI.get(DocumentType(doc.doc_type), 'Văn bản')} số {doc.number}{revision}"


# --------------------------------------------------------------------------- pages


@router.get("/documents", response_class=HTMLResponse)
def campaigns_index(request: Request, user: UserDep) -> HTMLResponse:
    require(user, *READERS)
    with db(request) as session:
        campaigns = visible_campaigns(session, user.person, session.exec(
            select(Campaign).order_by(col(Campaign.period_start).desc(), col(Campaign.code))).all())
    return render(request, user, "console/documents_index.html", campaigns=campaigns)


@dataclass(frozen=True)
class LibraryRow:
    doc: Document
    type_vi: str
    about: str  # the establishment, for a document of one inspection
    replaced_by: Document | None
    xlsx: bool  # a report, with its figures beside it
    verification: DocumentVerification | None  # the latest check of its stored file (None: never checked)

    @property
    def verification_vi(self) -> str:
        return self.verification.summary if self.verification is not None else UNCHECKED_VI

    @property
    def checked_on(self) -> date | None:
        return self.verification.checked_at.astimezone(VIETNAM).date() if self.verification is not None else None


def library_rows(session: Session, campaign: Campaign) -> list[LibraryRow]:
    """Every document of the campaign, in issuing order, with what it is about and what replaced it."""
    docs = session.exec(select(Document).where(Document.campaign_id == campaign.id)
                        .order_by(col(Document.issued_at), col(Document.id))).all()
    replaced_by = {d.supersedes_id: d for d in docs if d.supersedes_id is not None}
    checks = latest_verifications(session, [d.id for d in docs if d.id is not None])
    about = dict(session.exec(select(Inspection.id, Establishment.name)
                              .join(Establishment, col(Establishment.id) == Inspection.establishment_id)
                              .where(Inspection.campaign_id == campaign.id)).all())
    return [LibraryRow(doc=d, type_vi=DOC_TYPE_VI.get(DocumentType(d.doc_type), str(d.doc_type)),
                       about=about.get(d.inspection_id or 0, ""), replaced_by=replaced_by.get(d.id or 0),
                       xlsx=d.doc_type == DocumentType.REPORT, verification=checks.get(d.id or 0)) for d in docs]


@router.get("/campaigns/{code}/documents", response_class=HTMLResponse)
def library(code: str, request: Request, user: UserDep, issued: int = 0,
            loai: str = "") -> HTMLResponse:
    require(user, *READERS)
    with db(request) as session:
        campaign = _campaign(session, code)
        rows = library_rows(session, campaign)
    types = {str(r.doc.doc_type): r.type_vi for r in rows}
    shown = [r for r in rows if not loai or str(r.doc.doc_type) == loai]
    year = campaign.period_end.year
    periodic = [{"label": f"{PERIODIC_VI[kind]} {year}", "href": f"/console/reports/periodic/{kind}/{year}"}
                for kind in (HALF_YEAR, ANNUAL)]
    report = next((r for r in reversed(rows) if r.xlsx), None)
    return render(request, user, "console/documents.html", campaign=campaign, rows=shown, total=len(rows),
                  types=types, loai=loai, report=report,
                  periodic=periodic, exports=exports.EXPORTS, issued=bool(issued),
                  can_issue_report=user.person.role in (PersonRole.LEAD, PersonRole.ADMIN))


@router.post("/campaigns/{code}/report")
async def issue_report(code: str, request: Request, user: UserDep) -> Response:
    """The lead issues the campaign report (the CLI's ``report campaign``; issuing again returns the stored one)."""
    require(user, PersonRole.LEAD)
    await read_post(request, user, f"report:{code}")
    with db(request) as session:
        _campaign(session, code)
    settings: Settings = request.app.state.settings
    done = await run_in_threadpool(issue_campaign_report, settings, code, issued_on=today_in_vietnam(),
                                   actor=user.person.code)
    if not isinstance(done, Document):  # signed digitally: its draft waits for its signer ("Văn bản chờ ký số")
        return see_other(f"/console/signing?trinh_ky={done.id}")
    return see_other(f"/console/campaigns/{quote(code, safe='')}/documents?issued=1")


# --------------------------------------------------------------------------- downloads


@router.get("/documents/{document_id}")
def document_pdf(document_id: DocumentId, request: Request, user: UserDep) -> Response:
    require(user, *READERS)
    with db(request) as session:
        doc = _document(session, document_id)
    data = read_stored(request.app.state.settings.documents_path, doc.path, doc.sha256)
    return download(data, PDF, f"{_file_name(doc)}.pdf")


@router.get("/documents/{document_id}/xlsx")
def document_xlsx(document_id: DocumentId, request: Request, user: UserDep) -> Response:
    require(user, *READERS)
    with db(request) as session:
        doc = _document(session, document_id)
    if doc.doc_type != DocumentType.REPORT:
        raise NotFound("Văn bản này không có bảng số liệu Excel.")
    settings: Settings = request.app.state.settings
    relative = xlsx_path(settings, doc).relative_to(settings.documents_path).as_posix()
    return download(read_stored(settings.documents_path, relative, None), XLSX, f"{_file_name(doc)} - số liệu.xlsx")


@router.get("/campaigns/{code}/exports/{name}.xlsx")
def export_xlsx(code: str, name: str, request: Request, user: UserDep) -> Response:
    require(user, *READERS)
    if name not in exports.EXPORTS:
        raise NotFound("Không có danh sách này.")
    label, build = exports.EXPORTS[name]
    with db(request) as session:
        data = build(session, _campaign(session, code))
    return download(data, XLSX, f"{label} - {code}.xlsx")


@router.get("/reports/periodic/{kind}/{year}")
def periodic_report(kind: Literal["half_year", "annual"], year: Annotated[int, Path(ge=2000, le=2100)],
                    request: Request, user: UserDep, dang: str = "pdf") -> Response:
    """The periodic report as of today, rendered from the stored data (nothing written to the database)."""
    require(user, *READERS)
    with db(request) as session:
        if not leads_a_campaign(session, user.person):
            raise Forbidden("Báo cáo định kỳ là báo cáo của cơ quan chủ trì các đợt kiểm tra; cơ quan của tài khoản "
                            f"{user.person.code} không chủ trì đợt kiểm tra nào.", person_code=user.person.code)
    if dang not in ("pdf", "xlsx"):
        raise NotFound("Chỉ có bản PDF hoặc Excel.")
    with tempfile.TemporaryDirectory() as folder:
        pdf, xlsx = export_periodic_report(request.app.state.settings, kind=kind, year=year,
                                           issued_on=today_in_vietnam(), out_dir=FilePath(folder))
        data = (pdf if dang == "pdf" else xlsx).read_bytes()
    return download(data, PDF if dang == "pdf" else XLSX, f"{PERIODIC_VI[kind]} {year}.{dang}")
