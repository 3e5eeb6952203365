"""Every console page, in Chromium at 390 px (a phone) and 1,280 px (a desktop), on one world where every page has
real content (issue 15, Done-when 3 and the Build list): a campaign through selection, schedule and its documents,
findings sent with a photo and waiting for review, records issued, one file decided and others waiting, deadlines
open and overdue, a second campaign whose list waits, a conflict of interest, people and tokens.

Each page is visited as the person it is for (the lead, an official, the admin; the login page logged out) and must
have: no serious or critical axe-core violation, no horizontal scroll, ``<html lang="vi">``, one ``<h1>``, every form
control labelled, a visible focus ring, NFC text, and no request to a host other than the app. A screenshot of each
(``$KIEMTRA_SCREENSHOTS`` when set, else the test's tmp dir). The console's GET routes are enumerated from the app:
a new page that this test does not visit fails it. File downloads are fetched and must not be HTML pages.
Then the keyboard: on a form page, Tab reaches every control in document order and the skip link leads to the main
content.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlmodel import col, select

from models import Deadline, DeadlineStatus, Establishment, InspectionStatus
from services.db import session_scope
from services.demo.intake_client import IntakeClient
from services.demo.users import simulate_inspectors
from services.entry.http import console
from services.rules.calendar import today_in_vietnam
from services.settings import Settings
from services.stages import deadlines as deadline_stage
from services.stages import records, sanctions, schedule_docs, selection
from services.stages.declarations import declare_conflict
from tests.conftest import Worlds
from tests.console_support import (at_width, axe_violations, browser, browser_login, follow,  # noqa: F401
                                   no_horizontal_scroll, screenshot, serving, wait_loaded)
from tests.cases import decide_on_last_day
from tests.factories import create_campaign, create_scheduled_campaign, intake_http, team_inspections
from tests.integration.test_console_findings import _answers, _submit, photo

pytestmark = pytest.mark.slow

CODE, LIST_CODE = "AX-01", "AX-02"
LEAD, OFFICIAL, ADMIN = "SNV-LEAD", "SNV-GD", "SNV-QT"


# --------------------------------------------------------------------------- the world


def _decide_one(settings: Settings) -> tuple[int, int]:
    """The Giám đốc Sở Nội vụ decides the first file within his competence; returns (decided, one still waiting)."""
    files = records.pending_inspection_ids(settings, CODE, InspectionStatus.RECORDS_ISSUED)
    decided, others = decide_on_last_day(settings, files, OFFICIAL)
    return decided, others[0]


def accessibility_world(settings: Settings) -> dict[str, Any]:
    tokens = create_scheduled_campaign(settings, code=CODE, establishments=1200, quota=24, teams=3)
    with_photo = team_inspections(settings)["SNV-TT01"][0]
    with intake_http(settings) as http:
        auth = {"Authorization": f"Bearer {tokens['SNV-TT01']}"}
        checklist = http.get(f"/api/inspections/{with_photo}", headers=auth).json()["checklist"]
        _submit(http, tokens["SNV-TT01"], with_photo, "ax-anh-000001", _answers(checklist, fail_first=True),
                image=photo((200, 40, 40)))
        simulate_inspectors(settings, http, tokens, CODE)
        lead = IntakeClient(http, token=tokens[LEAD])
        for inspection in lead.inspections():
            if inspection.campaign_code == CODE and inspection.status == "findings_submitted" and inspection.id != with_photo:
                lead.review(inspection.id, "approve", "Đồng ý kết quả kiểm tra.")
    schedule_docs.issue_schedule_documents(settings, CODE)
    records.issue_records(settings, CODE, records.pending_inspection_ids(settings, CODE, InspectionStatus.FINDINGS_APPROVED))
    decided, waiting = _decide_one(settings)
    sanctions.decide_sanctions(settings, CODE, [decided])
    deadline_stage.sweep(settings, today_in_vietnam())
    create_campaign(settings, code=LIST_CODE, quota=20)
    selection.select_establishments(settings, LIST_CODE)
    with session_scope(settings) as session:
        tax = session.exec(select(Establishment.tax_code).order_by(col(Establishment.id))).first()
        today = today_in_vietnam()
        opened = select(Deadline.id).where(Deadline.status == DeadlineStatus.OPEN).order_by(col(Deadline.id))
        overdue = session.exec(opened.where(col(Deadline.due_on) < today)).first()
        open_ = session.exec(opened.where(col(Deadline.due_on) >= today)).first()
    assert overdue is not None and open_ is not None and tax is not None
    declare_conflict(settings, person_code="SYT-CV01", tax_code=tax, reason="Vợ là kế toán trưởng của công ty",
                     declared_on=date(2026, 2, 10), by=LEAD)
    return {"tokens": tokens, "photo": with_photo, "decided": decided, "waiting": waiting, "overdue": overdue,
            "open": open_}


# --------------------------------------------------------------------------- the pages


def page_visits(w: dict[str, Any]) -> dict[str, list[tuple[str | None, str]]]:
    """Each console GET page (its route) → the (person, URL) visits that show it with content."""
    return {
        "/console/login": [(None, "/console/login")],
        "/console/": [(LEAD, "/console/"), (OFFICIAL, "/console/"), (ADMIN, "/console/")],
        "/console/campaigns": [(LEAD, "/console/campaigns")],
        "/console/campaigns/new": [(LEAD, "/console/campaigns/new")],
        "/console/campaigns/{code}": [(LEAD, f"/console/campaigns/{CODE}"), (LEAD, f"/console/campaigns/{LIST_CODE}")],
        "/console/campaigns/{code}/selection": [(LEAD, f"/console/campaigns/{LIST_CODE}/selection"),
                                                (LEAD, f"/console/campaigns/{CODE}/selection")],
        "/console/campaigns/{code}/schedule": [(LEAD, f"/console/campaigns/{CODE}/schedule")],
        "/console/campaigns/{code}/findings": [(LEAD, f"/console/campaigns/{CODE}/findings")],
        "/console/inspections/{inspection_id}/findings": [(LEAD, f"/console/inspections/{w['photo']}/findings")],
        "/console/inspections/{inspection_id}/decision": [(OFFICIAL, f"/console/inspections/{w['waiting']}/decision"),
                                                          (OFFICIAL, f"/console/inspections/{w['decided']}/decision")],
        "/console/deadlines": [(LEAD, "/console/deadlines")],
        "/console/deadlines/{deadline_id}": [(LEAD, f"/console/deadlines/{w['overdue']}"),
                                             (LEAD, f"/console/deadlines/{w['open']}")],
        "/console/documents": [(LEAD, "/console/documents")],
        "/console/campaigns/{code}/documents": [(LEAD, f"/console/campaigns/{CODE}/documents")],
        "/console/people": [(ADMIN, "/console/people")],
        "/console/signing": [(OFFICIAL, "/console/signing"), (LEAD, "/console/signing")],
    }


# file downloads: fetched from a link on a visited page when one is there; never an HTML page
DOWNLOADS = {"/console/deadlines/{deadline_id}/receipts/{sha256}", "/console/documents/{document_id}",
             "/console/documents/{document_id}/xlsx", "/console/campaigns/{code}/exports/{name}.xlsx",
             "/console/reports/periodic/{kind}/{year}", "/console/campaigns/{code}/selection/danh-sach.{kind}",
             "/console/evidence/{inspection_id}/{sha256}", "/console/evidence/{inspection_id}/{sha256}/nho",
             "/console/campaigns/{code}/schedule/van-ban/{document_id}",
             "/console/signing/{request_id}/draft"}


def console_get_routes() -> set[str]:
    """The console's GET routes (every page module's router, as ``console.install`` mounts them)."""
    return {r.path for router in console.ROUTERS for r in router.routes
            if isinstance(r, APIRoute) and r.path.startswith("/console") and "GET" in (r.methods or set())}


def route_pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")


@dataclass
class Site:
    settings: Settings
    url: str
    world: dict[str, Any]


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("console-screenshots")


@pytest.fixture
def site(settings: Settings, worlds: Worlds) -> Iterator[Site]:
    world = worlds.copy(settings, accessibility_world)
    with serving(settings) as url:
        yield Site(settings, url, world)


# --------------------------------------------------------------------------- what each page must have

PAGE_FACTS = """
const controls = [...document.querySelectorAll('input:not([type=hidden]), select, textarea')];
const unlabelled = controls.filter(c => !(c.labels && c.labels.length) && !c.getAttribute('aria-label')
    && !c.getAttribute('aria-labelledby') && !c.title).map(c => c.outerHTML.slice(0, 120));
const unnamedButtons = [...document.querySelectorAll('button')].filter(b => !b.textContent.trim()
    && !b.getAttribute('aria-label')).map(b => b.outerHTML.slice(0, 120));
return {lang: document.documentElement.lang, h1: document.querySelectorAll('h1').length,
        unlabelled: unlabelled.concat(unnamedButtons), text: document.title + '\\n' + document.body.innerText,
        resources: performance.getEntriesByType('resource').map(e => e.name),
        links: [...document.querySelectorAll('a[href]')].map(a => a.href)
            .concat([...document.querySelectorAll('img[src]')].map(i => i.src))};
"""

FOCUS_RING = """
const el = document.activeElement, s = getComputedStyle(el);
return [el.tagName + '#' + el.id + '.' + el.className, s.outlineStyle, parseFloat(s.outlineWidth), s.boxShadow];
"""


def check_page(driver: Any, base_url: str, where: str) -> dict[str, Any]:
    facts: dict[str, Any] = driver.execute_script(PAGE_FACTS)
    assert facts["lang"] == "vi", where
    assert facts["h1"] == 1, f"{where}: {facts['h1']} <h1>"
    assert facts["unlabelled"] == [], where
    assert unicodedata.is_normalized("NFC", facts["text"]), where
    assert unicodedata.is_normalized("NFC", driver.page_source), where
    app = urlsplit(base_url).netloc
    outside = [r for r in facts["resources"] if urlsplit(r).scheme in ("http", "https") and urlsplit(r).netloc != app]
    assert outside == [], f"{where}: requests outside the app: {outside}"
    no_horizontal_scroll(driver)
    assert axe_violations(driver) == [], where
    return facts


def check_focus_ring(driver: Any, where: str, stops: int = 6) -> None:
    """The first tab stops (the skip link, the header, the menu…) each show a focus ring."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    for _ in range(stops):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        element, style, width, shadow = driver.execute_script(FOCUS_RING)
        if element.startswith("BODY"):  # past the page's last stop
            break
        assert (style != "none" and width >= 2) or shadow != "none", f"{where}: no visible focus on {element}"


def fetch_downloads(driver: Any, links: list[str]) -> list[str]:
    """One link per download route (when a visited page has one), fetched with the browser's session: not HTML."""
    fetched = []
    patterns = {route: route_pattern(route) for route in DOWNLOADS}
    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    with httpx.Client(timeout=120, cookies=cookies) as http:
        for route, pattern in patterns.items():
            found = sorted(link for link in links if pattern.match(urlsplit(link).path))
            if not found:
                continue
            response = http.get(found[0])
            assert response.status_code == 200, (found[0], response.status_code)
            assert not response.headers["content-type"].startswith("text/html"), found[0]
            fetched.append(route)
    return fetched


# --------------------------------------------------------------------------- the tests


def test_every_console_get_route_is_visited_or_a_download() -> None:
    """A new console page fails here until the walk below visits it (or it is declared a file download)."""
    visited = set(page_visits({"photo": 1, "waiting": 1, "decided": 1, "overdue": 1, "open": 1}))
    assert console_get_routes() == visited | DOWNLOADS


@pytest.mark.parametrize("width", [390, 1280])
def test_every_console_page_at_width(browser: Any, site: Site, width: int, shots: Path) -> None:  # noqa: F811
    visits = page_visits(site.world)
    assert set(visits) | DOWNLOADS == console_get_routes()
    at_width(browser, width)
    fetched: set[str] = set()
    seen, who = 0, ""
    for pages in visits.values():
        for n, (person, path) in enumerate(pages):
            if person is None:
                browser.delete_all_cookies()
            elif who != person:
                browser_login(browser, site.url, person, site.world["tokens"][person])
            who = person or ""
            browser.get(f"{site.url}{path}")
            wait_loaded(browser)
            where = f"{path} as {person} at {width}px"
            assert "Đăng nhập bảng điều khiển" not in browser.page_source or person is None, where
            facts = check_page(browser, site.url, where)
            name = re.sub(r"[^a-z0-9]+", "-", f"{path.removeprefix('/console')}-{person or 'khach'}".lower()).strip("-")
            shot = screenshot(browser, shots / f"console-{name or 'trang-chu'}-{width}.png")
            assert shot.stat().st_size > 5_000
            if width == 1280 and n == 0:
                check_focus_ring(browser, where)
            if width == 1280:
                fetched |= set(fetch_downloads(browser, facts["links"]))
            seen += 1
    assert seen >= len(visits)
    if width == 1280:  # the library, the schedule, the findings and the selection link their files
        assert {"/console/documents/{document_id}", "/console/evidence/{inspection_id}/{sha256}/nho",
                "/console/campaigns/{code}/schedule/van-ban/{document_id}",
                "/console/campaigns/{code}/selection/danh-sach.{kind}"} <= fetched, fetched


@pytest.mark.parametrize("width", [390, 1280])
def test_pages_shown_after_an_action_or_a_refusal(browser: Any, site: Site, width: int, shots: Path) -> None:  # noqa: F811
    """The templates no GET route shows on its own: the error page (an unknown campaign) and the new token shown once
    with its QR code (the admin issues one in the browser)."""
    from selenium.webdriver.common.by import By

    at_width(browser, width)
    browser_login(browser, site.url, LEAD, site.world["tokens"][LEAD])
    browser.get(f"{site.url}/console/campaigns/KHONG-CO")
    wait_loaded(browser)
    assert "Không" in browser.find_element(By.ID, "loi").text
    check_page(browser, site.url, f"the error page at {width}px")
    screenshot(browser, shots / f"console-loi-khong-tim-thay-{width}.png")
    browser_login(browser, site.url, ADMIN, site.world["tokens"][ADMIN])
    browser.get(f"{site.url}/console/people")
    wait_loaded(browser)
    browser.find_element(By.ID, "mo-cap-SNV-TT01").click()
    browser.find_element(By.ID, "label-SNV-TT01").send_keys("Điện thoại công vụ")
    follow(browser, "cap-SNV-TT01")
    assert browser.find_element(By.ID, "ma-moi").get_attribute("value")
    check_page(browser, site.url, f"the new token at {width}px")
    screenshot(browser, shots / f"console-ma-truy-cap-moi-{width}.png")


def test_keyboard_on_a_form_page(browser: Any, site: Site) -> None:  # noqa: F811
    """On the create-campaign form, the skip link is the first stop and moves focus to the main content; from there
    Tab reaches every control of the form in document order."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    at_width(browser, 1280)
    browser_login(browser, site.url, LEAD, site.world["tokens"][LEAD])
    browser.get(f"{site.url}/console/campaigns/new")
    wait_loaded(browser)
    ActionChains(browser).send_keys(Keys.TAB).perform()
    skip = browser.switch_to.active_element
    assert skip.text == "Chuyển đến nội dung chính"
    skip.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "noi-dung"
    expected = browser.execute_script(
        "return [...document.querySelectorAll('main a[href], main input:not([type=hidden]), main select, "
        "main textarea, main button, main summary')].filter(e => !e.disabled && e.offsetParent !== null)"
        ".map(e => e.id || e.name || e.innerText)")
    reached = []
    for _ in range(len(expected) + 5):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        reached.append(browser.execute_script(
            "const e = document.activeElement; return e.closest('main') ? (e.id || e.name || e.innerText) : null"))
    reached = [r for n, r in enumerate(reached) if r is not None and (n == 0 or reached[n - 1] != r)]
    # radio groups: one tab stop per group (arrows move within it)
    assert reached == [e for e in expected if e in reached], reached  # in document order
    assert set(expected) - set(reached) <= set(radio_names(browser)), set(expected) - set(reached)


def radio_names(driver: Any) -> list[str]:
    return driver.execute_script(
        "const seen = {}; return [...document.querySelectorAll('main input[type=radio]')].filter(r => "
        "{ if (seen[r.name]) return true; seen[r.name] = 1; return false; }).map(r => r.id || r.name)")
