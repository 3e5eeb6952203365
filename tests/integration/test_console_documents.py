"""The documents library (issue 15): ``/console/campaigns/{code}/documents``, role-checked downloads, reports and
Excel exports, over HTTP and in Chromium.

World (built once, copied per test): a campaign with its schedule documents, records, one file decided by the
Giám đốc Sở Nội vụ (through the decision service) and its sanction decision issued.
"""
from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from openpyxl import load_workbook
from sqlmodel import col, select

from models import AuditEvent, Document, DocumentType, Finding, InspectionStatus
from services.db import session_scope
from services.entry.http.console.base import COOKIE
from services.entry.http.console.decision_view import DOC_TYPE_VI
from services.entry.http.console.documents import content_disposition
from services.entry.http.web import COOKIE as FORM_COOKIE
from services.rules.calendar import today_in_vietnam
from services.reports.campaign_report import issue_campaign_report
from services.settings import Settings
from services.stages import records, sanctions, schedule_docs
from tests.conftest import Worlds, make_settings
from tests.console_support import (at_width, axe_violations, browser, browser_login, console_login,  # noqa: F401
                                   csrf_of, no_horizontal_scroll, screenshot, serving)
from tests.cases import decide_on_last_day
from tests.factories import campaign_with_approved_findings

CAMPAIGN = "DEC-01"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def library_world(settings: Settings) -> dict[str, str]:
    tokens = campaign_with_approved_findings(settings, code=CAMPAIGN)
    schedule_docs.issue_schedule_documents(settings, CAMPAIGN)
    records.issue_records(settings, CAMPAIGN, records.pending_inspection_ids(settings, CAMPAIGN,
                                                                             InspectionStatus.FINDINGS_APPROVED))
    files = records.pending_inspection_ids(settings, CAMPAIGN, InspectionStatus.RECORDS_ISSUED)
    decided, _ = decide_on_last_day(settings, files, "SNV-GD")
    sanctions.decide_sanctions(settings, CAMPAIGN, [decided])
    return tokens


@dataclass
class Library:
    settings: Settings
    url: str
    tokens: dict[str, str]
    clients: list[httpx.Client]

    def login(self, code: str) -> httpx.Client:
        client = httpx.Client(timeout=120)
        self.clients.append(client)
        return console_login(client, self.url, code, self.tokens[code])


@pytest.fixture
def library(settings: Settings, worlds: Worlds) -> Iterator[Library]:
    tokens = worlds.copy(settings, library_world)
    with serving(settings) as url:
        lib = Library(settings, url, tokens, [])
        try:
            yield lib
        finally:
            for client in lib.clients:
                client.close()


def documents(settings: Settings) -> list[Document]:
    with session_scope(settings) as session:
        return list(session.exec(select(Document).order_by(col(Document.id))).all())


def filename_of(response: httpx.Response) -> str:
    header = response.headers["content-disposition"]
    assert header.startswith("attachment; filename=\"")
    encoded = header.split("filename*=UTF-8''", 1)[1]
    return unquote(encoded, encoding="utf-8", errors="strict")


def test_the_library_lists_every_issued_document_of_the_campaign(library: Library) -> None:
    client = library.login("SNV-LEAD")
    page = client.get(f"{library.url}/console/campaigns/{CAMPAIGN}/documents")
    assert page.status_code == 200, page.text
    docs = documents(library.settings)
    kinds = {DocumentType(d.doc_type) for d in docs}
    assert {DocumentType.INSPECTION_DECISION, DocumentType.VIOLATION_RECORD, DocumentType.SANCTION_DECISION} <= kinds
    for d in docs:
        assert f"<td>{d.number}</td>" in page.text
        assert f'href="/console/documents/{d.id}"' in page.text
    assert all(DOC_TYPE_VI[k] in page.text for k in kinds)
    assert f"Văn bản đã ban hành ({len(docs)})" in page.text
    for name in ("ket-qua-kiem-tra", "lich-kiem-tra", "thoi-han", "quyet-dinh-xu-phat"):
        assert f"/console/campaigns/{CAMPAIGN}/exports/{name}.xlsx" in page.text
    decisions = client.get(f"{library.url}/console/campaigns/{CAMPAIGN}/documents", params={"loai": "sanction_decision"})
    numbers = [d.number for d in docs if d.doc_type == DocumentType.SANCTION_DECISION]
    assert decisions.status_code == 200 and decisions.text.count("<td>") == 6 * len(numbers)
    assert all(f"<td>{n}</td>" in decisions.text for n in numbers)
    index = client.get(f"{library.url}/console/documents")
    assert index.status_code == 200 and f"/console/campaigns/{CAMPAIGN}/documents" in index.text


def test_a_download_is_the_stored_file_with_a_vietnamese_name(library: Library) -> None:
    client = library.login("SNV-GD")  # an official reads the library too
    seen: set[str] = set()
    for d in documents(library.settings):
        if d.doc_type in seen:
            continue
        seen.add(d.doc_type)
        response = client.get(f"{library.url}/console/documents/{d.id}")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        assert hashlib.sha256(response.content).hexdigest() == d.sha256
        assert (library.settings.documents_path / d.path).read_bytes() == response.content
        name = filename_of(response)
        assert name == unicodedata.normalize("NFC", f"{DOC_TYPE_VI[DocumentType(d.doc_type)]} số "
                                                    f"{d.number.replace('/', '-')}.pdf")
        assert response.headers["content-disposition"].split('"')[1].isascii()
    assert len(seen) >= 5
    missing = client.get(f"{library.url}/console/documents/999999")
    assert missing.status_code == 404


def test_content_disposition_encodes_the_vietnamese_name_per_rfc_5987() -> None:
    header = content_disposition("Quyết định xử phạt số 01/QĐ-XPHC.pdf")
    assert header == ("attachment; filename=\"Quyet dinh xu phat so 01-QD-XPHC.pdf\"; filename*=UTF-8''"
                      "Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%20x%E1%BB%AD%20ph%E1%BA%A1t%20s%E1%BB%91%2001-Q%C4%90-XPHC.pdf")
    assert '"' not in content_disposition('a"b\r\n.pdf').split('filename="')[1].split('"')[0]


def test_the_lead_issues_the_campaign_report_and_downloads_it_as_pdf_and_xlsx(library: Library) -> None:
    client = library.login("SNV-LEAD")
    page = client.get(f"{library.url}/console/campaigns/{CAMPAIGN}/documents")
    issued = client.post(f"{library.url}/console/campaigns/{CAMPAIGN}/report", data={"csrf": csrf_of(page.text, -1)},
                         follow_redirects=False)
    assert issued.status_code == 303, issued.text
    (report,) = [d for d in documents(library.settings) if d.doc_type == DocumentType.REPORT]
    again = client.get(f"{library.url}{issued.headers['location']}")
    assert 'id="da-ban-hanh-bao-cao"' in again.text and f"/console/documents/{report.id}/xlsx" in again.text
    pdf = client.get(f"{library.url}/console/documents/{report.id}")
    assert pdf.status_code == 200 and hashlib.sha256(pdf.content).hexdigest() == report.sha256
    xlsx = client.get(f"{library.url}/console/documents/{report.id}/xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["content-type"] == XLSX
    beside = (library.settings.documents_path / report.path).with_suffix(".xlsx")
    assert xlsx.content == beside.read_bytes()
    assert filename_of(xlsx).startswith("Báo cáo kết quả kiểm tra số ")
    official = library.login("SNV-GD")  # only a lead issues it
    page = official.get(f"{library.url}/console/campaigns/{CAMPAIGN}/documents")
    refused = official.post(f"{library.url}/console/campaigns/{CAMPAIGN}/report", data={"csrf": csrf_of(page.text, -1)})
    assert refused.status_code == 403


def stored(settings: Settings) -> dict[str, list[Any]]:
    """What a write leaves: documents and the audit trail (web sessions and logins aside, ids and times aside)."""
    with session_scope(settings) as session:
        docs = [(d.doc_type, d.number, d.revision, d.subject_key, d.issuer_code, d.issued_by, d.sha256)
                for d in session.exec(select(Document).order_by(col(Document.id)))]
        audit = [(a.actor, a.action, a.entity_type, a.from_state, a.to_state, a.reason, a.data)
                 for a in session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
                 if not a.action.startswith(("web_session", "login", "token"))]
    return {"documents": docs, "audit": audit}


def test_the_console_report_is_the_clis(settings: Settings, worlds: Worlds, tmp_path: Path,
                                        new_database: Callable[[], str | None],
                                        migrated: Callable[[Settings], Settings]) -> None:
    """Done-when 4 for the report: the lead's POST on one copy of the world, ``kiemtra report campaign``'s function
    (``issue_campaign_report``, the same day, the same person) on another leave the same documents and trail."""
    other = migrated(make_settings(tmp_path / "cli", database_url=new_database()))
    tokens = worlds.copy(settings, library_world)
    worlds.copy(other, library_world)
    assert stored(settings) == stored(other)
    with serving(settings) as url, httpx.Client(timeout=120) as client:
        console_login(client, url, "SNV-LEAD", tokens["SNV-LEAD"])
        page = client.get(f"{url}/console/campaigns/{CAMPAIGN}/documents")
        issued = client.post(f"{url}/console/campaigns/{CAMPAIGN}/report", data={"csrf": csrf_of(page.text, -1)},
                             follow_redirects=False)
        assert issued.status_code == 303, issued.text
    issue_campaign_report(other, CAMPAIGN, issued_on=today_in_vietnam(), actor="SNV-LEAD")
    assert stored(settings) == stored(other)
    assert [d[0] for d in stored(settings)["documents"]].count(DocumentType.REPORT) == 1


def test_periodic_reports_as_pdf_and_xlsx(library: Library) -> None:
    client = library.login("SNV-LEAD")
    year = today_in_vietnam().year
    pdf = client.get(f"{library.url}/console/reports/periodic/annual/{year}", params={"dang": "pdf"})
    assert pdf.status_code == 200, pdf.text[:500]
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    xlsx = client.get(f"{library.url}/console/reports/periodic/half_year/{year}", params={"dang": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.headers["content-type"] == XLSX
    assert filename_of(xlsx) == f"Báo cáo 6 tháng {year}.xlsx"
    assert client.get(f"{library.url}/console/reports/periodic/weekly/{year}").status_code == 422


def test_the_excel_exports_hold_the_lists_and_never_a_formula(library: Library) -> None:
    with session_scope(library.settings) as session:
        finding = session.exec(select(Finding).order_by(col(Finding.id))).first()
        assert finding is not None
        finding.note = "=HYPERLINK(\"http://evil.example\",\"bấm\")"
        session.add(finding)
    client = library.login("SNV-LEAD")
    sizes = {}
    for name in ("ket-qua-kiem-tra", "lich-kiem-tra", "thoi-han", "quyet-dinh-xu-phat"):
        response = client.get(f"{library.url}/console/campaigns/{CAMPAIGN}/exports/{name}.xlsx")
        assert response.status_code == 200, response.text[:300]
        assert response.headers["content-type"] == XLSX
        sheet = load_workbook(BytesIO(response.content)).active
        assert sheet is not None
        sizes[name] = sheet.max_row - 3
        cells = [c for row in sheet.iter_rows() for c in row]
        assert not [c for c in cells if c.data_type == "f"], name
    assert sizes["lich-kiem-tra"] == 24 and sizes["ket-qua-kiem-tra"] > 24 and sizes["quyet-dinh-xu-phat"] > 0
    findings = load_workbook(BytesIO(client.get(
        f"{library.url}/console/campaigns/{CAMPAIGN}/exports/ket-qua-kiem-tra.xlsx").content)).active
    assert findings is not None
    planted = [c for row in findings.iter_rows() for c in row if str(c.value).startswith("=HYPERLINK")]
    assert planted and all(c.data_type == "s" and c.quotePrefix for c in planted)
    assert client.get(f"{library.url}/console/campaigns/{CAMPAIGN}/exports/khac.xlsx").status_code == 404
    assert client.get(f"{library.url}/console/campaigns/KHONG-CO/documents").status_code == 404


def test_a_logged_out_visitor_and_an_inspector_are_refused(library: Library) -> None:
    doc = documents(library.settings)[0]
    paths = [f"/console/campaigns/{CAMPAIGN}/documents", f"/console/documents/{doc.id}", "/console/documents",
             f"/console/campaigns/{CAMPAIGN}/exports/lich-kiem-tra.xlsx", "/console/reports/periodic/annual/2026"]
    with httpx.Client(timeout=60) as anonymous:
        for path in paths:
            response = anonymous.get(f"{library.url}{path}", follow_redirects=False)
            assert response.status_code == 303 and response.headers["location"].startswith("/console/login?next="), path
            assert b"%PDF" not in response.content
        refused = anonymous.post(f"{library.url}/console/campaigns/{CAMPAIGN}/report", follow_redirects=False)
        assert refused.status_code in (303, 403)
    inspector = library.login("SNV-TT01")  # logged in at the console, an inspector gets the form's cookie only
    assert inspector.cookies.get(FORM_COOKIE) and not inspector.cookies.get(COOKIE)
    session_id = inspector.cookies.get(FORM_COOKIE) or ""
    with httpx.Client(timeout=60, cookies={COOKIE: session_id}) as borrowed:  # the form's session used at the console
        for path in paths:
            response = borrowed.get(f"{library.url}{path}", follow_redirects=False)
            assert response.status_code == 403, path
            assert b"%PDF" not in response.content and "Không có quyền" in response.text


def test_the_library_in_chromium_at_phone_and_desktop_widths(library: Library, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    browser_login(browser, library.url, "SNV-LEAD", library.tokens["SNV-LEAD"])
    for width in (390, 1280):
        at_width(browser, width)
        browser.get(f"{library.url}/console/campaigns/{CAMPAIGN}/documents")
        assert "Văn bản đã ban hành" in browser.page_source
        no_horizontal_scroll(browser)
        screenshot(browser, tmp_path / f"tai-lieu-{width}.png")
        assert axe_violations(browser) == []
