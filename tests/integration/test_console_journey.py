"""Done-when 1 of issue 15: the lead's whole journey in Chromium, pages only (no CLI, no JSON).

Log in → create a campaign → run the selection (the dashboard's button: the run-campaign flow against the session's
Prefect server) → remove one establishment with a reason, add one found by registry search → approve → run → the
schedule → the inspectors submit (one visit through /form on a phone with a photo and a failed item; the others
through the intake API's demo client, to keep it short) → the lead reviews the findings with the photo → returns them
with a comment → the inspector sees the comment in /form and corrects → the lead approves → run (the records) → an
official decides with a circumstance and a reason (the decision is issued at once) and downloads it → the deadlines
sweeper runs (as the scheduled job does) → the lead marks the payment deadline met with a receipt → the campaign
report. The campaign lies in the past (September–October of this year's calendar before today), so every legal period
before the decision has run when the official decides today.

Every step is photographed at 390 px and 1,280 px (``$KIEMTRA_SCREENSHOTS`` selects the folder; else the test's
tmp dir).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from models import (Deadline, DeadlineKind, DeadlineStatus, Document, DocumentType, Establishment, Inspection, InspectionStatus,
                    Violation)
from services.db import session_scope
from services.demo.intake_client import IntakeClient
from services.documents.issuing import latest_document
from services.entry.http.server import start_in_thread
from services.rules.calendar import today_in_vietnam
from services.rules.deadline_rules import nth_working_day_after
from services.settings import Settings
from services.stages import deadlines as deadline_stage
from tests.cases import competent_official, pin_today
from tests.conftest import Worlds
from tests.console_support import (at_width, browser, browser_login, follow, no_horizontal_scroll,  # noqa: F401
                                   screenshot, wait_loaded)
from tests.factories import create_world, team_inspections
from tests.integration.test_web_form import tiny_png
from tests.pdf_support import raw_text_of

pytestmark = pytest.mark.slow

CODE = "HT-2026"
LEAD = "SNV-LEAD"
INSPECTOR = "SNV-TT01"
COMMENT = "Ghi rõ số người lao động chưa được khám sức khỏe định kỳ."
REASON = "Cơ sở đã khắc phục ngay trong buổi kiểm tra."
RECEIPT = b"%PDF-1.4\n% bien lai thu tien phat\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def journey_world(settings: Settings) -> dict[str, str]:
    return create_world(settings, establishments=80)


@dataclass
class Journey:
    settings: Settings
    url: str
    app: Any
    driver: Any
    tokens: dict[str, str]
    shots: Path
    step: int = 0
    taken: list[Path] = field(default_factory=list)

    def shoot(self, name: str) -> None:
        """The current page at a phone's and a desktop's width (no horizontal scroll at either)."""
        self.step += 1
        for width in (390, 1280):
            at_width(self.driver, width)
            no_horizontal_scroll(self.driver)
            # a phone's viewport widens to fit a page that overflows (then no_horizontal_scroll sees no scroll)
            wide = self.driver.execute_script("return Math.max(window.innerWidth, document.documentElement.scrollWidth)")
            assert wide <= width, f"{self.driver.current_url} is {wide} px wide at {width} px"
            self.taken.append(screenshot(self.driver, self.shots / f"{self.step:02d}-{name}-{width}.png"))

    def open(self, path: str, name: str) -> None:
        self.driver.get(f"{self.url}{path}")
        wait_loaded(self.driver)
        self.shoot(name)

    def submit(self, element: Any) -> None:
        """Submit the form ``element`` belongs to (as its button would), and wait for the next page."""
        from selenium.webdriver.support import expected_conditions as EC
        from selenium.webdriver.support.ui import WebDriverWait

        from selenium.webdriver.common.by import By

        old = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.execute_script("(arguments[0].form || arguments[0]).requestSubmit()", element)
        WebDriverWait(self.driver, 60).until(EC.staleness_of(old))
        wait_loaded(self.driver)

    def by_id(self, element_id: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.ID, element_id)

    def css(self, selector: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def text(self) -> str:
        return str(self.css("body").text)

    def run(self, name: str) -> None:
        """The dashboard's run button; the page refreshes itself until the outcome, shown after the run."""
        self.open(f"/console/campaigns/{CODE}", f"{name}-truoc")
        follow(self.driver, "chay-tiep")
        record = self.app.state.campaign_runs.wait(CODE, timeout=300)
        assert record is not None and record.state == "done", record
        self.open(f"/console/campaigns/{CODE}", name)
        assert "Lần chạy gần nhất xong" in self.text()

    def http(self) -> httpx.Client:
        """A client carrying the browser's cookies (to read what a download link gives)."""
        cookies = {c["name"]: c["value"] for c in self.driver.get_cookies()}
        return httpx.Client(base_url=self.url, cookies=cookies, timeout=60)


@pytest.fixture
def journey(settings: Settings, worlds: Worlds, browser: Any, prefect_server: Any,  # noqa: F811
            tmp_path: Path) -> Iterator[Journey]:
    tokens = worlds.copy(settings, journey_world)
    server = start_in_thread(settings)
    (tmp_path / "anh-chup").mkdir()
    try:
        yield Journey(settings, server.url, server.app, browser, tokens, tmp_path / "anh-chup")
    finally:
        server.stop()


def period() -> tuple[date, date, date]:
    """Start, end and the plan's date: two months that ended at least a month before today."""
    end = today_in_vietnam().replace(day=1) - timedelta(days=32)
    start = (end - timedelta(days=45)).replace(day=1)
    return start, end, start - timedelta(days=14)


def create_campaign(j: Journey) -> None:
    browser_login(j.driver, j.url, LEAD, j.tokens[LEAD])
    j.shoot("hop-thu")
    j.open("/console/campaigns/new", "lap-dot")
    start, end, plan_on = period()
    for element_id, value in (("title", "Kiểm tra an toàn, vệ sinh lao động — hành trình thử"), ("code", CODE),
                              ("start", f"{start:%d/%m/%Y}"), ("end", f"{end:%d/%m/%Y}"), ("quota", "4"),
                              ("teams", "1"), ("plan_number", "99/KH-UBND"), ("plan_date", f"{plan_on:%d/%m/%Y}")):
        j.by_id(element_id).clear()
        j.by_id(element_id).send_keys(value)
    j.driver.execute_script("arguments[0].checked = true", j.by_id("member-SYT"))
    j.shoot("lap-dot-da-dien")
    follow(j.driver, "lap-dot")
    assert f"Đã lập đợt kiểm tra {CODE}" in j.text()
    j.shoot("dot-moi")


def change_and_approve(j: Journey) -> None:
    page = f"/console/campaigns/{CODE}/selection"
    j.open(page, "danh-sach-de-xuat")
    removed = j.css("input[id^='loai-']")
    removed_tax = removed.get_attribute("id").removeprefix("loai-")
    removed.send_keys("Cơ sở đã giải thể theo thông báo của cơ quan thuế.")
    j.submit(removed)
    j.shoot("da-loai")
    assert f"loai-{removed_tax}" not in j.driver.page_source
    listed = j.driver.page_source
    with session_scope(j.settings) as session:
        candidates = session.exec(select(Establishment.tax_code, Establishment.name)
                                  .order_by(col(Establishment.id))).all()
    tax, name = next((t, n) for t, n in candidates if f"loai-{t}" not in listed and t != removed_tax)
    j.by_id("q").send_keys(tax)
    j.submit(j.by_id("q"))
    j.shoot("tim-co-so")
    added = j.by_id(f"them-{tax}")
    added.send_keys("Có phản ánh của người lao động về tai nạn lao động.")
    j.submit(added)
    j.shoot("da-them")
    assert f"loai-{tax}" in j.driver.page_source and name in j.text()
    j.driver.execute_script("arguments[0].checked = true", j.by_id("xac_nhan"))
    j.submit(j.by_id("xac_nhan"))
    j.shoot("da-duyet-danh-sach")


def inspections(settings: Settings) -> list[int]:
    with session_scope(settings) as session:
        return [i for i in session.exec(select(Inspection.id).order_by(col(Inspection.id))).all() if i is not None]


def fill_checklist(j: Journey, inspection_id: int, workers: str, photo: Path) -> None:
    """The inspector's checklist in /form: every item passes but the first health (else first) item."""
    from selenium.webdriver.common.by import By

    j.open(f"/form/inspections/{inspection_id}", "bang-kiem")
    codes = [e.get_attribute("id").removeprefix("muc-") for e in j.driver.find_elements(By.CSS_SELECTOR, "fieldset.item")]
    failed = "YT-01" if "YT-01" in codes else codes[0]
    for code in codes:
        j.css(f"#muc-{code} label.choice.{'fail' if code == failed else 'pass'}").click()
    for kind in ("workers", "devices"):
        found = j.driver.find_elements(By.ID, f"{kind}-{failed}")
        if found:
            found[0].clear()
            found[0].send_keys(workers)
    j.by_id(f"note-{failed}").clear()
    j.by_id(f"note-{failed}").send_keys(f"{workers} người lao động chưa được khám sức khỏe định kỳ.")
    j.by_id("anh").send_keys(str(photo))
    reason = j.driver.find_elements(By.ID, "reason")  # a correction after the lead returned the findings
    if reason:
        reason[0].send_keys("Sửa theo ý kiến của trưởng đoàn: ghi rõ số người lao động.")
    j.shoot("bang-kiem-da-dien")
    old = j.css("html")
    j.by_id("gui").click()
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(j.driver, 60).until(EC.staleness_of(old))
    wait_loaded(j.driver)
    assert j.driver.find_elements(By.ID, "xac-nhan"), j.text()
    j.shoot("da-gui")


def inspectors_submit(j: Journey, by_form: int, photo: Path) -> None:
    """One visit through /form with a photo; the others through the intake API (all pass), then approved there."""
    with httpx.Client(base_url=j.url, timeout=60) as http:
        for inspection_id in inspections(j.settings):
            if inspection_id == by_form:
                continue
            client = IntakeClient(http, token=j.tokens[INSPECTOR])
            checklist = client.inspection(inspection_id).checklist
            client.submit_findings(inspection_id, f"journey-{inspection_id}",
                                   [{"item_code": i["code"] if isinstance(i, dict) else i.code, "result": "pass"}
                                    for i in checklist])
    j.driver.delete_all_cookies()
    j.driver.get(f"{j.url}/form/login")
    j.by_id("person_code").send_keys(INSPECTOR)
    j.by_id("token").send_keys(j.tokens[INSPECTOR])
    follow(j.driver, "dang-nhap")
    fill_checklist(j, by_form, "12", photo)


def review_return_correct_approve(j: Journey, inspection_id: int, photo: Path) -> None:
    browser_login(j.driver, j.url, LEAD, j.tokens[LEAD])
    j.open(f"/console/inspections/{inspection_id}/findings", "ket-qua-co-anh")
    from selenium.webdriver.common.by import By

    images = j.driver.find_elements(By.CSS_SELECTOR, "main img")
    assert images and all(j.driver.execute_script("return arguments[0].naturalWidth > 0", i) for i in images)
    j.by_id("y_kien").send_keys(COMMENT)
    follow(j.driver, "tra-lai")
    j.shoot("da-tra-lai")
    j.driver.delete_all_cookies()
    j.driver.get(f"{j.url}/form/login")
    j.by_id("person_code").send_keys(INSPECTOR)
    j.by_id("token").send_keys(j.tokens[INSPECTOR])
    follow(j.driver, "dang-nhap")
    j.open(f"/form/inspections/{inspection_id}", "nguoi-kiem-tra-thay-y-kien")
    assert COMMENT in j.by_id("tra-lai").text
    fill_checklist(j, inspection_id, "15", photo)
    browser_login(j.driver, j.url, LEAD, j.tokens[LEAD])
    j.open(f"/console/inspections/{inspection_id}/findings", "ket-qua-da-sua")
    follow(j.driver, "duyet")
    j.shoot("da-duyet-ket-qua")
    with session_scope(j.settings) as session:
        assert session.get(Inspection, inspection_id).status == InspectionStatus.FINDINGS_APPROVED  # type: ignore[union-attr]
    with httpx.Client(base_url=j.url, timeout=60) as http:  # the other files: the lead approves them (the API)
        lead = IntakeClient(http, token=j.tokens[LEAD])
        for other in inspections(j.settings):
            if other != inspection_id:
                lead.review(other, "approve")


def decision_day(j: Journey, inspection_id: int) -> date:
    """The 6th working day after the file's violation record: after the violator's 05 working days to explain, within
    the 07 the law gives to decide (Luật XLVPHC Art.66 cl.1) — a decision months later is refused (Art.65 cl.1 c)."""
    with session_scope(j.settings) as session:
        record = latest_document(session, doc_type=DocumentType.VIOLATION_RECORD, subject_key=f"inspection:{inspection_id}")
        assert record is not None and record.issued_on is not None
        return nth_working_day_after(record.issued_on, 6)


def official_decides(j: Journey, inspection_id: int) -> None:
    with session_scope(j.settings) as session:
        official = competent_official(session, inspection_id).code
        first = session.exec(select(Violation).where(Violation.inspection_id == inspection_id)
                             .order_by(col(Violation.id))).first()
        assert first is not None
        vid, low = first.id, first.range_min
        name = session.get(Establishment, session.get(Inspection, inspection_id).establishment_id).name  # type: ignore[union-attr]
    browser_login(j.driver, j.url, official, j.tokens[official])
    j.open(f"/console/inspections/{inspection_id}/decision", "quyet-dinh")
    j.driver.execute_script("arguments[0].checked = true", j.css(f"input[name^='giam_nhe.{vid}.']"))
    j.by_id(f"so-tien-{vid}").clear()
    j.by_id(f"so-tien-{vid}").send_keys(f"{low:,}".replace(",", "."))
    j.by_id(f"ly-do-{vid}").send_keys(REASON)
    j.shoot("quyet-dinh-da-dien")
    follow(j.driver, "nut-quyet-dinh")
    j.shoot("da-quyet-dinh")
    link = j.by_id("tai-quyet-dinh").get_attribute("href")
    with j.http() as http:
        pdf = http.get(link)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    saved = j.shots / "quyet-dinh-xu-phat.pdf"
    saved.write_bytes(pdf.content)
    assert name in raw_text_of(saved)


def payment_met(j: Journey, inspection_id: int) -> None:
    deadline_stage.sweep(j.settings, today_in_vietnam())  # the scheduled sweeper (not the lead)
    with session_scope(j.settings) as session:
        comply = session.exec(select(Deadline.id).where(Deadline.inspection_id == inspection_id,
                                                        Deadline.kind == DeadlineKind.COMPLY)).one()
    browser_login(j.driver, j.url, LEAD, j.tokens[LEAD])
    j.open("/console/deadlines", "bang-thoi-han")
    j.open(f"/console/deadlines/{comply}", "thoi-han-nop-phat")
    receipt = j.shots / "bien-lai.pdf"
    receipt.write_bytes(RECEIPT)
    j.by_id("met-reason").send_keys("Cơ sở đã nộp tiền phạt vào Kho bạc Nhà nước; có biên lai kèm theo.")
    j.by_id("met-receipt").send_keys(str(receipt))
    j.submit(j.by_id("met-reason"))
    j.shoot("da-nop-phat")
    with session_scope(j.settings) as session:
        assert session.get(Deadline, comply).status == DeadlineStatus.MET  # type: ignore[union-attr]


def campaign_report(j: Journey) -> None:
    j.open(f"/console/campaigns/{CODE}/documents", "tai-lieu")
    j.submit(j.css(f"form[action='/console/campaigns/{CODE}/report'] button"))
    j.shoot("bao-cao")
    with session_scope(j.settings) as session:
        report = session.exec(select(Document).where(Document.doc_type == DocumentType.REPORT)).one()
    link = j.css(f"a[href='/console/documents/{report.id}']").get_attribute("href")
    with j.http() as http:
        assert http.get(link).content.startswith(b"%PDF")


def test_the_leads_whole_journey_in_pages(journey: Journey, tmp_path: Path) -> None:
    j = journey
    photo = tmp_path / "anh-hien-truong.png"
    photo.write_bytes(tiny_png())
    create_campaign(j)
    j.run("da-chon-co-so")
    change_and_approve(j)
    j.run("da-lap-lich")
    j.open(f"/console/campaigns/{CODE}/schedule", "lich-kiem-tra")
    assert len(inspections(j.settings)) == 4
    by_form = team_inspections(j.settings)[INSPECTOR][0]
    inspectors_submit(j, by_form, photo)
    review_return_correct_approve(j, by_form, photo)
    browser_login(j.driver, j.url, LEAD, j.tokens[LEAD])
    j.run("da-lap-bien-ban")
    with pytest.MonkeyPatch.context() as clock:  # the campaign lies in the past: the official decides in time
        pin_today(clock, decision_day(j, by_form))
        official_decides(j, by_form)
    payment_met(j, by_form)
    campaign_report(j)
    assert len(j.taken) >= 40
