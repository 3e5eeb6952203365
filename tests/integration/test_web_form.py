"""The inspectors' web form in a real browser: headless Chromium (Debian's) driven by Selenium, against the
real app served on loopback, phone-sized (360 px wide).

Set-up as in ``test_intake_api``: a synthetic province, a campaign, selection and scheduling run directly.
"""
from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlmodel import select

from models import Attachment, Establishment, Finding, Inspection, Person, Submission, TeamMember
from services.db import session_scope
from services.entry.http.server import start_in_thread
from services.settings import Settings
from services.stages import scheduling, selection
from tests.factories import approve, create_campaign, create_world

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass
class Site:
    settings: Settings
    url: str
    tokens: dict[str, str]
    team_inspections: dict[str, list[int]]


@pytest.fixture
def site(settings: Settings) -> Iterator[Site]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium chromium-driver)")
    tokens = create_world(settings, establishments=400, teams=2)
    create_campaign(settings, code="WEB-01", quota=10, teams=2)
    selection.select_establishments(settings, "WEB-01")
    approve(settings, "WEB-01")
    scheduling.schedule_inspections(settings, "WEB-01")
    with session_scope(settings) as session:
        rows = session.exec(select(Person.code, Inspection.id).join(TeamMember, TeamMember.person_id == Person.id)
                            .join(Inspection, Inspection.team_id == TeamMember.team_id)
                            .order_by(Inspection.scheduled_on, Inspection.id)).all()
    team_inspections: dict[str, list[int]] = {}
    for code, inspection_id in rows:
        team_inspections.setdefault(code, []).append(inspection_id)
    server = start_in_thread(settings)
    try:
        yield Site(settings, server.url, tokens, team_inspections)
    finally:
        server.stop()


@pytest.fixture
def open_browser(tmp_path: Path) -> Iterator[object]:
    drivers: list[WebDriver] = []

    def _open(name: str) -> WebDriver:
        options = Options()
        options.binary_location = str(CHROMIUM)
        for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / f'chromium-{name}'}"]:
            options.add_argument(flag)
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": 360, "height": 780, "pixelRatio": 1.0}})
        driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
        drivers.append(driver)
        return driver

    yield _open
    for driver in drivers:
        driver.quit()


def tiny_png() -> bytes:
    """An 8×8 orange PNG, made here."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xff\x80\x00" * 8 for _ in range(8))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def wait_for(driver: WebDriver, element_id: str) -> None:
    WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, element_id)))


def log_in(driver: WebDriver, site: Site, code: str, token: str) -> None:
    driver.get(f"{site.url}/form/login")
    driver.find_element(By.ID, "person_code").send_keys(code)
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "dang-nhap").click()


def text(driver: WebDriver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def full_page_screenshot(driver: WebDriver, path: Path) -> None:
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})  # type: ignore[attr-defined]
    path.write_bytes(base64.b64decode(shot["data"]))


def test_an_inspector_fills_the_checklist_on_a_phone_with_a_photo(site: Site, open_browser, tmp_path: Path) -> None:
    inspection_id = site.team_inspections["SNV-TT01"][0]  # the team's first visit
    with session_scope(site.settings) as session:
        inspection = session.get(Inspection, inspection_id)
        assert inspection is not None
        establishment = session.get(Establishment, inspection.establishment_id)
        assert establishment is not None
        visit_day, establishment_name = inspection.scheduled_on, establishment.name

    driver = open_browser("tt01")
    # a wrong token: the login page again, with the error, and no session cookie
    log_in(driver, site, "SNV-TT01", "not-the-token")
    wait_for(driver, "loi")
    assert "Mã cán bộ hoặc mã truy cập không đúng" in text(driver)
    assert driver.find_element(By.ID, "person_code").get_attribute("value") == "SNV-TT01"
    assert driver.get_cookie("kiemtra_phien") is None

    log_in(driver, site, "SNV-TT01", site.tokens["SNV-TT01"])
    wait_for(driver, "chon-ngay")
    cookie = driver.get_cookie("kiemtra_phien")
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    # choose the day of the first visit with the date picker
    driver.execute_script("arguments[0].value = arguments[1]", driver.find_element(By.ID, "ngay"), visit_day.isoformat())
    driver.find_element(By.ID, "xem").click()
    wait_for(driver, "danh-sach")
    assert f"Lịch kiểm tra ngày {visit_day:%d/%m/%Y}" in text(driver)
    listed = driver.find_element(By.CSS_SELECTOR, f"li.inspection[data-id='{inspection_id}']")
    assert establishment_name in listed.text and "Đã lên lịch, chưa có kết quả" in listed.text
    listed.find_element(By.LINK_TEXT, "Mở bảng kiểm").click()
    wait_for(driver, "bang-kiem")

    codes = [e.get_attribute("id").removeprefix("muc-") for e in driver.find_elements(By.CSS_SELECTOR, "fieldset.item")]
    assert "LD-01" in codes and "YT-01" in codes  # labour and health items: the team has a Sở Y tế member
    for code in codes:
        driver.find_element(By.CSS_SELECTOR, f"#muc-{code} label.choice.{'fail' if code == 'YT-01' else 'pass'}").click()
    driver.find_element(By.ID, "note-YT-01").send_keys("Chưa khám sức khỏe định kỳ năm 2025.")
    photo = tmp_path / "anh-hien-truong.png"
    photo.write_bytes(tiny_png())
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    driver.find_element(By.ID, "anh").send_keys(str(photo))
    client_id = driver.find_element(By.NAME, "client_submission_id").get_attribute("value")

    # a failed per-worker item without its count: the logic's error next to the item, the answers kept
    driver.find_element(By.ID, "gui").click()
    wait_for(driver, "loi")
    assert "Mục YT-01 (số người lao động)" in driver.find_element(By.ID, "loi").text
    assert "hãy chọn lại ảnh" in driver.find_element(By.ID, "loi").text
    assert "số người lao động bị ảnh hưởng" in driver.find_element(By.CSS_SELECTOR, "#muc-YT-01 .field-error").text
    assert driver.find_element(By.CSS_SELECTOR, "#muc-YT-01 input[value=fail]").is_selected()
    assert driver.find_element(By.CSS_SELECTOR, "#muc-LD-01 input[value=pass]").is_selected()
    assert driver.find_element(By.ID, "note-YT-01").get_attribute("value") == "Chưa khám sức khỏe định kỳ năm 2025."
    assert driver.find_element(By.NAME, "client_submission_id").get_attribute("value") == client_id
    assert not (site.settings.evidence_path / digest[:2] / digest[2:4] / digest).exists()

    driver.find_element(By.ID, "workers-YT-01").send_keys("12")
    driver.find_element(By.ID, "anh").send_keys(str(photo))
    full_page_screenshot(driver, tmp_path / "bang-kiem-da-dien.png")
    csrf = driver.find_element(By.CSS_SELECTOR, "#bang-kiem input[name=csrf]").get_attribute("value")
    driver.find_element(By.ID, "gui").click()
    wait_for(driver, "xac-nhan")
    full_page_screenshot(driver, tmp_path / "xac-nhan.png")
    page = text(driver)
    assert "Đã nhận kết quả kiểm tra" in page and "(phiên bản 1)" in page
    assert "YT-01" in driver.find_element(By.ID, "muc-khong-dat").text
    assert driver.find_element(By.ID, "anh-nhan").text == "Đã nhận 1 ảnh"
    assert driver.find_element(By.ID, "trang-thai").text == "Đã gửi kết quả, chờ trưởng đoàn duyệt"

    with session_scope(site.settings) as session:
        assert session.get(Inspection, inspection_id).status == "findings_submitted"  # type: ignore[union-attr]
        findings = {f.item_code: f for f in session.exec(select(Finding).where(Finding.inspection_id == inspection_id))}
        submissions = session.exec(select(Submission).where(Submission.inspection_id == inspection_id)).all()
        attachment = session.exec(select(Attachment).where(Attachment.submission_id == submissions[0].id)).one()
    assert sorted(findings) == sorted(codes)
    assert {c for c, f in findings.items() if f.result == "fail"} == {"YT-01"}
    assert findings["YT-01"].workers_affected == 12 and findings["YT-01"].note == "Chưa khám sức khỏe định kỳ năm 2025."
    assert [(s.client_submission_id, s.version, s.complete) for s in submissions] == [(client_id, 1, True)]
    assert (attachment.sha256, attachment.size, attachment.content_type, attachment.name, attachment.received) == (
        digest, len(tiny_png()), "image/png", "anh-hien-truong.png", True)
    assert (site.settings.evidence_path / digest[:2] / digest[2:4] / digest).read_bytes() == tiny_png()

    # the same page posted again (a double tap, a resend): the same receipt, nothing new stored
    session_cookie = {"kiemtra_phien": driver.get_cookie("kiemtra_phien")["value"]}
    fields = {"client_submission_id": client_id, "csrf": csrf, "workers.YT-01": "12",
              "note.YT-01": "Chưa khám sức khỏe định kỳ năm 2025.",
              **{f"result.{c}": ("fail" if c == "YT-01" else "pass") for c in codes}}
    with httpx.Client(base_url=site.url, cookies=session_cookie) as http:
        again = http.post(f"/form/inspections/{inspection_id}", data=fields,
                          files={"anh": ("anh-hien-truong.png", tiny_png(), "image/png")})
        forged = http.post(f"/form/inspections/{inspection_id}", data={**fields, "csrf": "0" * 64})
    assert again.status_code == 200 and "lần gửi lại không tạo thêm phiên bản" in again.text
    assert forged.status_code == 403
    with session_scope(site.settings) as session:
        assert len(session.exec(select(Submission)).all()) == 1

    # another team's inspector, in another browser session: the page of an inspection that does not exist
    other = open_browser("tt02")
    log_in(other, site, "SNV-TT02", site.tokens["SNV-TT02"])
    wait_for(other, "chon-ngay")
    other.get(f"{site.url}/form/inspections/{inspection_id}")
    wait_for(other, "loi")
    assert "Không tìm thấy" in text(other)
    assert f"Không tìm thấy cuộc kiểm tra số {inspection_id}." in text(other)
    other_cookie = {"kiemtra_phien": other.get_cookie("kiemtra_phien")["value"]}
    with httpx.Client(base_url=site.url, cookies=other_cookie) as http:
        assert http.get(f"/form/inspections/{inspection_id}").status_code == 404
