"""The public register (services.publishing.register, served by services/entry/http/register_web.py): outcomes walked through the
real stages (findings, review, record, decision, publication) for establishments in different communes, then the
files in ``documents/public/`` and the pages served at ``/cong-khai``.

* without a browser: the file page (parsed), the JSON and the CSV hold the same rows and values in the same order
  (newest decision first); the CSV starts with a UTF-8 BOM; the files are 0644 in a 0755 folder; decisions older
  than the retention period leave all three; the issuer is named, never coded; no code columns; a household
  business is never named; the served JSON/CSV equal the files and filter like the page; a leaked name stops the
  served register (503) as it stops the files; Vietnamese collation, issuer names, lenient query parsing and paging.
* in headless Chromium at 390 px (phone) and 1,280 px: no horizontal scroll; on every row the establishment's name,
  the issuer's name and the fine are displayed inside the viewport; page 1 + page 2 equal register.csv and
  register.json row for row; "Trang sau" moves to page 2; a search by name (with or without diacritics) and by tax
  code through the form (no JavaScript on the page) finds the rows the open data finds; no internal code in the
  page's text. Screenshots at both widths go to ``$KIEMTRA_SCREENSHOTS`` when set (else the test's tmp dir).
"""
from __future__ import annotations

import csv
import io
import json
import re
import stat
from collections.abc import Iterator
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlmodel import select

from models import Agency, Establishment, Inspection, Ownership, Publication
from services.publishing import query, register
from services.db import session_scope
from services.entry.http.server import start_in_thread
from services.settings import Settings
from services.stages import publishing, triggers
from services.stages.common import Outcome
from tests.cases import approve_and_draw_up, complex_case, decide, visit
from tests.console_support import at_width, browser, follow, no_horizontal_scroll, screenshot  # noqa: F401 (a fixture)
from tests.conftest import Worlds
from tests.factories import create_scheduled_campaign, team_inspections

VISIT = date(2026, 4, 29)
DECISION_DAYS = (date(2026, 5, 18), date(2026, 5, 19), date(2026, 5, 20), date(2026, 5, 21), date(2026, 5, 22))
TODAY = date(2026, 6, 1)
INSPECTORS = ("SNV-TT01", "SNV-TT02")  # the heads of the demo world's two teams
ISSUER = "Sở Nội vụ tỉnh Cao Bằng"
CODES = ("UBND-04", "SNV-TTr", "SNV")  # internal codes the public must never read


def sanction_and_publish(settings: Settings, inspection_id: int, person_code: str, decided_on: date, n: int) -> None:
    """Visit on 29/04/2026, one failed item, record the same day, the case declared complex (1 month to decide, to
    Fri 29/05: the decisions of 18–22/05 are within it), the decision on ``decided_on``, published."""
    visit(settings, inspection_id, on=VISIT, client_id=f"register-{n:04d}", inspector=person_code)
    approve_and_draw_up(settings, inspection_id, VISIT)
    complex_case(settings, inspection_id)
    decide(settings, inspection_id, decided_on)
    assert publishing.publish_for_inspection(settings, inspection_id) == Outcome.PUBLISHED


def published_register(settings: Settings, *, code: str = "REG-01", count: int = 5) -> list[int]:
    """``count`` inspections (of the first team, then the second's) sanctioned on different days and published
    (establishments in several communes; some are household businesses)."""
    create_scheduled_campaign(settings, code=code, quota=max(12, count))
    teams = team_inspections(settings)
    cases = [(i, person) for person in INSPECTORS for i in teams[person]][:count]
    assert len(cases) == count
    for n, (inspection_id, person) in enumerate(cases):
        sanction_and_publish(settings, inspection_id, person, DECISION_DAYS[n % len(DECISION_DAYS)], n)
    return [i for i, _ in cases]


class TableParser(HTMLParser):
    """The register table's body rows: each row's fields (``data-key`` → ``data-value``, the open-data values)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self.in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tbody":
            self.in_body = True
        elif self.in_body and tag == "tr":
            self.rows.append({})
        elif self.in_body and a.get("data-key"):
            key = a["data-key"] or ""
            assert key not in self.rows[-1], f"{key} twice in a row"
            self.rows[-1][key] = a.get("data-value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self.in_body = False


def html_rows(text: str) -> list[dict[str, str]]:
    parser = TableParser()
    parser.feed(text)
    return parser.rows


def page_rows(folder: Path) -> list[dict[str, str]]:
    return html_rows((folder / "index.html").read_text(encoding="utf-8"))


def parse_csv(raw: bytes) -> list[dict[str, str]]:
    assert raw.startswith(b"\xef\xbb\xbf"), "the CSV starts with a UTF-8 BOM (Excel)"
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def parse_json(text: str) -> list[dict[str, str]]:
    return [{k: str(v) for k, v in r.items()} for r in json.loads(text)]


def csv_rows(folder: Path) -> list[dict[str, str]]:
    return parse_csv((folder / "register.csv").read_bytes())


def json_rows(folder: Path) -> list[dict[str, str]]:
    return parse_json((folder / "register.json").read_text(encoding="utf-8"))


def newest_first(rows: list[dict[str, str]]) -> bool:
    return [r["ngay_quyet_dinh"] for r in rows] == sorted((r["ngay_quyet_dinh"] for r in rows), reverse=True)


def test_files_hold_the_same_rows_with_names_not_codes_and_old_decisions_leave_all_three(settings: Settings) -> None:
    published_register(settings)
    folder = register.write_register(settings, today=TODAY)
    rows = page_rows(folder)
    assert len(rows) == 5
    assert rows == csv_rows(folder) == json_rows(folder)
    assert set(rows[0]) == set(register.KEYS) and list(csv_rows(folder)[0]) == list(register.KEYS)  # every field, once
    assert newest_first(rows)
    with session_scope(settings) as session:
        numbers = {p.payload["so_quyet_dinh"] for p in session.exec(select(Publication))}
    assert {r["so_quyet_dinh"] for r in rows} == numbers
    assert not {"ma_tinh", "ma_xa"} & set(register.KEYS)  # names only
    for row in rows:
        assert row["co_quan_ban_hanh"] == ISSUER
        assert row["ten_tinh"] == "Tỉnh Cao Bằng" and row["ten_xa"].startswith(("Xã ", "Phường "))
    assert len({r["ten_xa"] for r in rows}) >= 2
    page = (folder / "index.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", " ", page)
    for code in CODES:
        assert code not in text and f'"{code}"' not in page
    assert "91/2025/QH15" in page and "13/2023" not in page  # every decision is of 2026: only the law in force

    # readable by a web server
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    for name in ("index.html", "register.json", "register.csv"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o644, name
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temp file left

    # 36 months (the default) after 20/05/2026: the decisions of 18 and 19 May are gone from page, JSON and CSV
    assert register.retention_months(date(2029, 5, 20)) == 36
    folder = register.write_register(settings, today=date(2029, 5, 20))
    kept = page_rows(folder)
    assert [r["ngay_quyet_dinh"] for r in kept] == ["2026-05-22", "2026-05-21", "2026-05-20"]
    assert kept == csv_rows(folder) == json_rows(folder)
    folder = register.write_register(settings, today=date(2029, 7, 1))
    assert page_rows(folder) == csv_rows(folder) == json_rows(folder) == []


def test_retention_cutoff_counts_calendar_months() -> None:
    assert register.retention_cutoff(date(2029, 5, 20), 36) == date(2026, 5, 20)
    assert register.retention_cutoff(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert register.retention_cutoff(date(2026, 1, 15), 13) == date(2024, 12, 15)


def test_a_household_business_is_never_named_on_the_register(settings: Settings) -> None:
    ids = published_register(settings, count=2)
    with session_scope(settings) as session:  # the second establishment becomes a household business
        inspection = session.get(Inspection, ids[1])
        establishment = session.get(Establishment, inspection.establishment_id)
        establishment.ownership = Ownership.HOUSEHOLD
        session.add(establishment)
        household_name, household_tax = establishment.name, establishment.tax_code
        number = session.exec(select(Publication).order_by(Publication.id)).all()[1].payload["so_quyet_dinh"]
    folder = register.write_register(settings, today=TODAY)
    [row] = [r for r in page_rows(folder) if r["so_quyet_dinh"] == number]
    assert row["ten_co_so"] == register.WITHHELD_VI == publishing.WITHHELD_VI and row["ma_so_thue"] == ""
    for name in ("index.html", "register.json", "register.csv"):
        text = (folder / name).read_text(encoding="utf-8")
        assert household_name not in text and household_tax not in text


# --------------------------------------------------------------------------- pure helpers


def test_vietnamese_collation_orders_letters_then_tones() -> None:
    words = ["Đức", "Dũng", "Ân", "Ăn", "An", "Bình", "ạ", "à", "a", "á", "ả", "ã", "Ê", "E", "Ư", "U", "V", "Ơ", "Ô", "O"]
    assert sorted(words, key=query.collation_key) == [
        "a", "à", "ả", "ã", "á", "ạ", "An", "Ăn", "Ân", "Bình", "Dũng", "Đức", "E", "Ê", "O", "Ô", "Ơ", "U", "Ư", "V"]
    communes = ["Xã Đông Khê", "Xã Đình Phong", "Xã Dân Chủ", "Phường Thục Phán", "Xã Yên Thổ", "Xã Cô Ba", "Xã Cần Yên"]
    assert sorted(communes, key=query.collation_key) == [
        "Phường Thục Phán", "Xã Cần Yên", "Xã Cô Ba", "Xã Dân Chủ", "Xã Đình Phong", "Xã Đông Khê", "Xã Yên Thổ"]
    assert sorted(["Lô 10", "Lô 9", "Lô 2"], key=query.collation_key) == ["Lô 2", "Lô 9", "Lô 10"]
    assert query.collation_key("Công  ty") == query.collation_key("Công ty")


def test_the_issuer_is_named_from_its_code_the_lead_agency_and_the_day() -> None:
    lead = Agency(code="SNV", name="Sở Nội vụ", parent_name="UBND TỈNH CAO BẰNG", kind="labour", province_code="04",
                  place="Cao Bằng")
    health = Agency(code="SYT", name="Sở Y tế", parent_name="UBND TỈNH CAO BẰNG", kind="health", province_code="04",
                    place="Cao Bằng")
    on = date(2026, 5, 18)
    assert register.issuer_name("SNV", lead=lead, decided_on=on) == "Sở Nội vụ tỉnh Cao Bằng"
    assert register.issuer_name("UBND-04", lead=lead, decided_on=on) == "Ủy ban nhân dân tỉnh Cao Bằng"
    assert register.issuer_name("SNV-TTr", lead=lead, decided_on=on) == "Thanh tra Sở Nội vụ tỉnh Cao Bằng"
    assert (register.issuer_name("SNV", lead=lead, decided_on=date(2024, 11, 5))
            == "Sở Lao động - Thương binh và Xã hội tỉnh Cao Bằng")  # the department's name on the decision's day
    assert register.issuer_name("SYT", lead=lead, decided_on=on, agencies={"SYT": health}) == "Sở Y tế tỉnh Cao Bằng"
    assert register.issuer_name("UBND-04", lead=None, decided_on=on) == "Ủy ban nhân dân tỉnh Cao Bằng"
    assert register.issuer_name("XYZ-9", lead=lead, decided_on=on) == register.UNKNOWN_ISSUER_VI  # never a code


def test_the_query_is_lenient_and_pages_hold_twenty_rows() -> None:
    q = query.RegisterQuery.from_params({"q": "  Công   ty ", "trang": "abc", "tu": "2026-13-01", "den": "2026-05-20",
                                            "sap_xep": "bogus", "xa": "x" * 500})
    assert (q.q, q.trang, q.tu, q.den, q.sap_xep, len(q.xa)) == ("Công ty", 1, "", "2026-05-20", "moi_nhat", 200)
    assert query.RegisterQuery.from_params({"trang": "3"}).trang == 3
    assert query.RegisterQuery.from_params({"trang": "-2"}).trang == 1
    assert q.params(trang=2) == urlencode({"q": "Công ty", "xa": "x" * 200, "den": "2026-05-20", "trang": "2"})
    rows = [{"n": n} for n in range(45)]
    page = query.paginate(rows, 2)
    assert (len(page.rows), page.count, page.first, page.rows[0]) == (20, 3, 21, {"n": 20})
    assert query.paginate(rows, 99).number == 3 and len(query.paginate(rows, 99).rows) == 5
    assert query.paginate([], 1).count == 1
    assert query.paginate([{}] * 200, 5).links == (1, 2, 3, 4, 5, 6, 7, 0, 10)


# --------------------------------------------------------------------------- served by the intake app

DECISIONS = 26  # two pages of 20


@pytest.fixture
def served(settings: Settings, worlds: Worlds) -> Iterator[str]:
    """26 published decisions of two teams (built once per session, copied) and the intake app serving them; yields
    its base URL."""
    worlds.copy(settings, published_register, count=DECISIONS)
    server = start_in_thread(settings)
    try:
        yield server.url
    finally:
        server.stop()


def fetch(url: str, path: str, **params: str) -> httpx.Response:
    response = httpx.get(f"{url}{path}", params=params, timeout=30)
    assert response.status_code == 200, (path, response.status_code)
    return response


def test_the_served_open_data_equals_the_files_and_filters_like_the_page(settings: Settings, served: str) -> None:
    folder = register.write_register(settings)  # today, as the served register
    files = csv_rows(folder)
    assert len(files) == DECISIONS and files == json_rows(folder)
    page = fetch(served, "/cong-khai")
    assert page.headers["content-type"].startswith("text/html") and "script-src" not in page.headers["content-security-policy"]
    data_json = parse_json(fetch(served, "/cong-khai/register.json").text)
    data_csv = fetch(served, "/cong-khai/register.csv")
    assert data_csv.headers["content-type"].startswith("text/csv") and "attachment" in data_csv.headers["content-disposition"]
    assert parse_csv(data_csv.content) == data_json == files
    page_2 = fetch(served, "/cong-khai/", trang="2")
    assert html_rows(page.text) + html_rows(page_2.text) == files  # row for row, 20 + 6
    assert len(html_rows(page.text)) == query.PAGE_SIZE
    assert html_rows(fetch(served, "/cong-khai", trang="99").text) == files[20:]  # past the end: the last page

    # a query: the page's rows are the open data's for the same query
    target = next(r for r in files if r["ma_so_thue"])
    for params in ({"q": target["ma_so_thue"]}, {"xa": target["ten_xa"]}, {"q": "cong ty", "sap_xep": "ten"},
                   {"tu": "2026-05-19", "den": "2026-05-20", "sap_xep": "cu_nhat"}):
        shown = html_rows(fetch(served, "/cong-khai", **params).text)
        assert shown == parse_json(fetch(served, "/cong-khai/register.json", **params).text)
        assert shown == parse_csv(fetch(served, "/cong-khai/register.csv", **params).content)
        assert shown and len(shown) < len(files)
    by_name = html_rows(fetch(served, "/cong-khai", q="cong ty", sap_xep="ten").text)
    names = [r["ten_co_so"] for r in by_name]
    assert names == sorted(names, key=query.collation_key) and all(n.startswith("Công ty") for n in names)
    assert html_rows(fetch(served, "/cong-khai", q=target["ma_so_thue"]).text) == [target]


def test_a_leaked_name_stops_the_served_register(settings: Settings, served: str) -> None:
    victim = "Lê Thị Hoa"
    with session_scope(settings) as session:
        tax = session.exec(select(Establishment.tax_code).where(Establishment.ownership != Ownership.HOUSEHOLD)).first()
    assert triggers.record_trigger(settings, tax_code=tax, kind="accident", reference="TNLĐ-2026-099",
                                   received_on=date(2026, 3, 9), by="SNV-LEAD", note=f"Nạn nhân {victim} bị thương.")
    assert fetch(served, "/cong-khai").status_code == 200  # the victim's name is protected, and nowhere yet
    with session_scope(settings) as session:  # it slips into a publication
        pub = session.exec(select(Publication).order_by(Publication.id)).first()
        pub.payload = {**pub.payload, "ten_co_so": f"Công ty TNHH Minh Phát (nạn nhân {victim})"}
        session.add(pub)
    for path in ("/cong-khai", "/cong-khai/register.json", "/cong-khai/register.csv"):
        response = httpx.get(f"{served}{path}", params={"trang": "2"}, timeout=30)
        assert response.status_code == 503 and victim not in response.text, path


# --------------------------------------------------------------------------- in a browser

ROWS = """
return Array.from(document.querySelectorAll('#so-cong-khai tbody tr'))
  .map(tr => Object.fromEntries(Array.from(tr.querySelectorAll('[data-key]')).map(c => [c.dataset.key, c.dataset.value])));
"""
# per row: each of the fields the public must read, displayed (non-empty box, not hidden) inside the viewport's width
ROW_FIELDS = ("ten_co_so", "co_quan_ban_hanh", "tong_tien_phat_vnd", "so_quyet_dinh", "ngay_quyet_dinh", "hanh_vi")
VISIBILITY = """
const keys = arguments[0], vw = window.innerWidth;
return Array.from(document.querySelectorAll('#so-cong-khai tbody tr')).map(tr => Object.fromEntries(keys.map(k => {
  const e = tr.querySelector(`[data-key="${k}"]`);
  if (!e) return [k, 'missing'];
  const r = e.getBoundingClientRect(), s = getComputedStyle(e);
  const ok = r.width > 0 && r.height > 0 && s.visibility === 'visible' && s.display !== 'none' && r.left >= 0 && r.right <= vw;
  return [k, ok ? e.innerText.replace(/\\s+/g, ' ').trim() : `hidden ${r.left}-${r.right} of ${vw}`];
})));
"""


def every_row_readable(driver: Any, expected: list[dict[str, str]]) -> None:
    seen = driver.execute_script(VISIBILITY, list(ROW_FIELDS))
    assert len(seen) == len(expected)
    for fields, row in zip(seen, expected, strict=True):
        assert fields["ten_co_so"] == row["ten_co_so"], fields
        assert fields["co_quan_ban_hanh"] == row["co_quan_ban_hanh"] == ISSUER, fields
        assert fields["tong_tien_phat_vnd"] == f"{int(row['tong_tien_phat_vnd']):,} đồng".replace(",", "."), fields
        assert fields["so_quyet_dinh"] == row["so_quyet_dinh"], fields
        assert fields["ngay_quyet_dinh"] == date.fromisoformat(row["ngay_quyet_dinh"]).strftime("%d/%m/%Y"), fields
        assert not fields["hanh_vi"].startswith("hidden"), fields


@pytest.mark.slow
@pytest.mark.parametrize("width", [390, 1280])
def test_the_served_page_fits_shows_every_row_searches_and_pages(settings: Settings, served: str, browser: Any,  # noqa: F811
                                                                 width: int, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    everything = parse_csv(fetch(served, "/cong-khai/register.csv").content)
    assert everything == parse_json(fetch(served, "/cong-khai/register.json").text) and len(everything) == DECISIONS
    at_width(browser, width)
    browser.get(f"{served}/cong-khai")
    assert browser.execute_script("return document.documentElement.lang") == "vi"
    assert browser.execute_script("return window.innerWidth") == width
    no_horizontal_scroll(browser)
    first = browser.execute_script(ROWS)
    assert first == everything[:20]
    every_row_readable(browser, first)
    body = browser.find_element(By.TAG_NAME, "body").text
    for code in CODES:
        assert code not in body, code
    assert "Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15" in body
    for field in ("q", "xa", "can_cu", "tu", "den", "sap_xep"):  # every input has its label
        assert browser.find_element(By.CSS_SELECTOR, f"label[for='{field}']").text.strip()
    assert [h.tag_name for h in browser.find_elements(By.CSS_SELECTOR, "h1")] == ["h1"]
    shot = screenshot(browser, tmp_path / f"register-{width}.png")
    assert shot.stat().st_size > 10_000

    # paging: "Trang sau" shows the other rows
    follow(browser, "trang-sau")
    assert "trang=2" in browser.current_url
    second = browser.execute_script(ROWS)
    assert second == everything[20:] and first + second == everything
    no_horizontal_scroll(browser)
    every_row_readable(browser, second)
    assert browser.find_element(By.CSS_SELECTOR, "nav.trang a[aria-current='page']").text == "2"
    screenshot(browser, tmp_path / f"register-{width}-trang-2.png")
    follow(browser, "trang-truoc")
    assert browser.execute_script(ROWS) == first

    # search by name (an establishment of page 2; typed with and without its diacritics) and by tax code
    target = next(r for r in everything[20:] if r["ma_so_thue"])
    expected = [r for r in everything if query.fold(target["ten_co_so"]) in query.fold(r["ten_co_so"])]
    for typed in (target["ten_co_so"], query.fold(target["ten_co_so"])):
        browser.get(f"{served}/cong-khai")
        browser.find_element(By.ID, "q").send_keys(typed)
        follow(browser, "tim")
        assert browser.execute_script(ROWS) == expected and target in expected
        no_horizontal_scroll(browser)
        every_row_readable(browser, expected)
        assert browser.find_element(By.ID, "q").get_attribute("value") == typed  # the form keeps the query
    browser.get(f"{served}/cong-khai")
    browser.find_element(By.ID, "q").send_keys(target["ma_so_thue"])
    follow(browser, "tim")
    assert browser.execute_script(ROWS) == [target]
    assert "Tìm thấy 1 trong 26 quyết định" in browser.find_element(By.ID, "so-ket-qua").text
    csv_link = browser.find_element(By.ID, "tai-csv").get_attribute("href")
    assert parse_csv(httpx.get(csv_link, timeout=30).content) == [target]  # the open data for the same query
    follow(browser, "xoa-loc")
    assert browser.execute_script(ROWS) == first
