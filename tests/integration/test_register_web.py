"""The public register (services.register): outcomes walked through the real stages (findings, review, record,
decision, publication) for several establishments in different communes, then the static page, JSON and CSV.

* without a browser: the page's table (parsed), the JSON and the CSV hold the same rows and values in the same
  order; the CSV starts with a UTF-8 BOM; decisions older than the retention period leave all three.
* in headless Chromium (``file://``, phone-sized): a search by tax code leaves only that row visible, a search by
  commune only that commune's rows, a shared URL (``index.html?xa=…``) opens filtered, and what is visible equals
  the CSV's and the JSON's rows for the same query.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from models import Establishment, Inspection, Publication
from services import register
from services.db import session_scope
from services.registry.geo import commune_name
from services.settings import Settings
from services.stages import publishing
from tests.factories import create_scheduled_campaign, team_inspections
from tests.cases import approve_and_draw_up, decide, visit

VISIT = date(2026, 4, 29)
DECISION_DAYS = (date(2026, 5, 18), date(2026, 5, 19), date(2026, 5, 20), date(2026, 5, 21), date(2026, 5, 22))
TODAY = date(2026, 6, 1)


def sanction_and_publish(settings: Settings, inspection_id: int, person_code: str, decided_on: date, n: int) -> None:
    """Visit on 29/04/2026, one failed item, record the same day, the decision on ``decided_on``, published."""
    visit(settings, inspection_id, on=VISIT, client_id=f"register-{n:04d}", inspector=person_code)
    approve_and_draw_up(settings, inspection_id, VISIT)
    decide(settings, inspection_id, decided_on)
    assert publishing.publish_for_inspection(settings, inspection_id) == "published"


def published_register(settings: Settings, *, code: str = "REG-01", count: int = 5) -> list[int]:
    """``count`` inspections of one team sanctioned on different days and published (establishments in at least
    two communes)."""
    create_scheduled_campaign(settings, code=code, quota=12)
    ids = team_inspections(settings)["SNV-TT01"][:count]
    for n, inspection_id in enumerate(ids):
        sanction_and_publish(settings, inspection_id, "SNV-TT01", DECISION_DAYS[n % len(DECISION_DAYS)], n)
    return ids


class TableParser(HTMLParser):
    """The register table's body rows: each row's ``data-value``s (the open-data values) and its visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self.texts: list[list[str]] = []
        self.in_body = False
        self.cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tbody":
            self.in_body = True
        elif self.in_body and tag == "tr":
            self.rows.append({})
            self.texts.append([])
        elif self.in_body and tag in ("td", "th") and a.get("data-key"):
            self.rows[-1][a["data-key"] or ""] = a.get("data-value") or ""
            self.texts[-1].append("")
            self.cell = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self.in_body = False
        elif tag == self.cell:
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell:
            self.texts[-1][-1] += data


def page_rows(folder: Path) -> TableParser:
    parser = TableParser()
    parser.feed((folder / "index.html").read_text(encoding="utf-8"))
    return parser


def csv_rows(folder: Path) -> list[dict[str, str]]:
    raw = (folder / "register.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "the CSV starts with a UTF-8 BOM (Excel)"
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def json_rows(folder: Path) -> list[dict[str, str]]:
    return [{k: str(v) for k, v in r.items()} for r in json.loads((folder / "register.json").read_text(encoding="utf-8"))]


def test_page_json_and_csv_hold_the_same_rows_and_old_decisions_leave_all_three(settings: Settings) -> None:
    published_register(settings)
    folder = register.write_register(settings, today=TODAY)
    page = page_rows(folder)
    assert len(page.rows) == 5
    assert page.rows == csv_rows(folder) == json_rows(folder)
    assert list(page.rows[0]) == list(register.KEYS) == list(csv_rows(folder)[0])
    with session_scope(settings) as session:
        numbers = [p.payload["so_quyet_dinh"] for p in session.exec(select(Publication).order_by(Publication.id))]
    assert [r["so_quyet_dinh"] for r in page.rows] == numbers  # publication order
    for row, texts in zip(page.rows, page.texts, strict=True):
        assert row["ten_xa"] == commune_name(row["ma_xa"]) and row["ten_xa"] != row["ma_xa"]  # the name, and the code
        assert texts[1].strip() == date.fromisoformat(row["ngay_quyet_dinh"]).strftime("%d/%m/%Y")
        money = texts[list(register.KEYS).index("tong_tien_phat_vnd")].strip()
        assert money == f"{int(row['tong_tien_phat_vnd']):,}".replace(",", ".")
    assert len({r["ma_xa"] for r in page.rows}) >= 2

    # 36 months (the default) after 20/05/2026: the decisions of 18 and 19 May are gone from page, JSON and CSV
    assert register.retention_months(date(2029, 5, 20)) == 36
    folder = register.write_register(settings, today=date(2029, 5, 20))
    kept = page_rows(folder).rows
    assert [r["ngay_quyet_dinh"] for r in kept] == ["2026-05-20", "2026-05-21", "2026-05-22"]
    assert kept == csv_rows(folder) == json_rows(folder)
    folder = register.write_register(settings, today=date(2029, 7, 1))
    assert page_rows(folder).rows == csv_rows(folder) == json_rows(folder) == []


def test_retention_cutoff_counts_calendar_months() -> None:
    assert register.retention_cutoff(date(2029, 5, 20), 36) == date(2026, 5, 20)
    assert register.retention_cutoff(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert register.retention_cutoff(date(2026, 1, 15), 13) == date(2024, 12, 15)


def test_a_household_business_is_never_named_on_the_register(settings: Settings) -> None:
    ids = published_register(settings, count=2)
    with session_scope(settings) as session:  # the second establishment becomes a household business
        inspection = session.get(Inspection, ids[1])
        establishment = session.get(Establishment, inspection.establishment_id)
        establishment.ownership = "ho_kinh_doanh"
        session.add(establishment)
        household_name, household_tax = establishment.name, establishment.tax_code
    folder = register.write_register(settings, today=TODAY)
    rows = page_rows(folder).rows
    assert rows[1]["ten_co_so"] == register.WITHHELD_VI == publishing.WITHHELD_VI and rows[1]["ma_so_thue"] == ""
    for name in ("index.html", "register.json", "register.csv"):
        text = (folder / name).read_text(encoding="utf-8")
        assert household_name not in text and household_tax not in text


# --------------------------------------------------------------------------- in a browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VISIBLE_ROWS = """
return Array.from(document.querySelectorAll('#so-cong-khai tbody tr')).filter(tr => !tr.hidden && tr.offsetParent !== null)
  .map(tr => Object.fromEntries(Array.from(tr.querySelectorAll('[data-key]')).map(c => [c.dataset.key, c.dataset.value])));
"""


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium'}"]:
        options.add_argument(flag)
    options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": 360, "height": 780, "pixelRatio": 1.0}})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.slow
def test_the_static_page_searches_by_tax_code_and_commune_like_the_open_data(settings: Settings, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    published_register(settings)
    folder = register.write_register(settings, today=TODAY)
    everything = csv_rows(folder)
    assert everything == json_rows(folder)
    url = (folder / "index.html").as_uri()

    browser.get(url)
    assert browser.execute_script(VISIBLE_ROWS) == everything
    for field in ("ten", "mst", "xa", "tu", "den", "can_cu"):  # every input has its label
        assert browser.find_element(By.CSS_SELECTOR, f"label[for='{field}']").text.strip()

    # by tax code: only that row
    target = next(r for r in everything if r["ma_so_thue"])
    browser.find_element(By.ID, "mst").send_keys(target["ma_so_thue"])
    assert browser.execute_script(VISIBLE_ROWS) == [target]
    assert "Hiển thị 1 trên 5" in browser.find_element(By.ID, "so-ket-qua").text

    # by commune (the select shows the commune's name and code): only that commune's rows, as in the CSV/JSON
    browser.get(url)
    commune = everything[-1]["ma_xa"]
    select = Select(browser.find_element(By.ID, "xa"))
    select.select_by_value(commune)
    assert f"{commune_name(commune)} ({commune})" == select.first_selected_option.text
    expected = [r for r in everything if r["ma_xa"] == commune]
    assert browser.execute_script(VISIBLE_ROWS) == expected == [r for r in json_rows(folder) if r["ma_xa"] == commune]
    assert len(expected) < len(everything)

    # a shared link opens filtered; dates from/to and the legal provision filter too
    browser.get(f"{url}?xa={commune}")
    assert browser.execute_script(VISIBLE_ROWS) == expected
    assert browser.find_element(By.ID, "xa").get_attribute("value") == commune
    browser.get(f"{url}?mst={target['ma_so_thue']}")
    assert browser.execute_script(VISIBLE_ROWS) == [target]
    browser.get(f"{url}?tu=2026-05-19&den=2026-05-21")
    assert browser.execute_script(VISIBLE_ROWS) == [r for r in everything if "2026-05-19" <= r["ngay_quyet_dinh"] <= "2026-05-21"]
    provision = everything[0]["hanh_vi"].rsplit(":", 1)[0]
    browser.get(url)
    browser.find_element(By.ID, "can_cu").send_keys(provision)
    assert browser.execute_script(VISIBLE_ROWS) == [r for r in everything if provision in r["hanh_vi"]]
    browser.get(f"{url}?mst=0000000000")
    assert browser.execute_script(VISIBLE_ROWS) == []
    assert browser.find_element(By.ID, "khong-co").is_displayed()
