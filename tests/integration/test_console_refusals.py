"""Issue 15, Done-when 2: an inspector, an official (and a lead) of another agency and a logged-out visitor are
refused on every console page and action that is not theirs.

The routes are enumerated from the app's router (every FastAPI route under ``/console`` but login/logout): a route
added without being placed in :data:`KINDS` fails :func:`test_every_console_route_is_covered`. The world: a
scheduled campaign (TEST-01: Sở Nội vụ leads, Sở Y tế and the Liên đoàn Lao động are members) with its documents and
a deadline; Sở Công Thương (SCT), an agency of the province outside the campaign, with an official and a lead; the
Chủ tịch UBND tỉnh (UBND, not a member, competent for no file yet: no violation is recorded). After every refused
POST the audit trail has not grown.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlmodel import col, select

from models import (AccessToken, Agency, AgencyKind, AuditEvent, Campaign, Deadline, DeadlineKind, Document,
                    DocumentType, Inspection, Person, PersonRole, SigningRequest, Violation)
from models.base import id_of
from services.db import session_scope
from services.entry.http import web
from services.entry.http.app import create_app
from services.entry.http.console import access_rules, base
from services.settings import Settings
from tests.conftest import Worlds
from tests.console_support import (at_width, axe_violations, browser, browser_login, csrf_of,  # noqa: F401
                                   screenshot, serving, wait_loaded)
from tests.factories import count, create_scheduled_campaign, create_token

CODE = "TEST-01"
LEAD, ADMIN, INSPECTOR, CHAIR = "SNV-LEAD", "SNV-QT", "SNV-TT01", "UBND-CT"
OTHER_OFFICIAL, OTHER_LEAD = "SCT-GD", "SCT-LEAD"
FAKE_SHA = "ab" * 32

# What each console route is about; the matrix's expectations follow from it.
SCOPED, LIST, LEAD_ONLY, ADMIN_ONLY, REPORT = "scoped", "list", "lead-only", "admin-only", "report"
OWN = "own"  # the person's own items named in the form (signing at once: only the signer's drafts, else 403)
KINDS: dict[tuple[str, str], str] = {
    ("GET", "/console/"): LIST,
    ("GET", "/console/campaigns"): LIST,
    ("GET", "/console/campaigns/new"): LEAD_ONLY,
    ("POST", "/console/campaigns/new"): LEAD_ONLY,
    ("GET", "/console/campaigns/{code}"): SCOPED,
    ("POST", "/console/campaigns/{code}/run"): SCOPED,
    ("GET", "/console/inspections/{inspection_id}/decision"): SCOPED,
    ("POST", "/console/inspections/{inspection_id}/decision"): SCOPED,
    ("GET", "/console/documents"): LIST,
    ("GET", "/console/campaigns/{code}/documents"): SCOPED,
    ("POST", "/console/campaigns/{code}/report"): SCOPED,
    ("GET", "/console/documents/{document_id}"): SCOPED,
    ("GET", "/console/documents/{document_id}/xlsx"): SCOPED,
    ("GET", "/console/campaigns/{code}/exports/{name}.xlsx"): SCOPED,
    ("GET", "/console/reports/periodic/{kind}/{year}"): REPORT,
    ("GET", "/console/campaigns/{code}/selection"): SCOPED,
    ("POST", "/console/campaigns/{code}/selection/remove"): SCOPED,
    ("POST", "/console/campaigns/{code}/selection/add"): SCOPED,
    ("POST", "/console/campaigns/{code}/selection/approve"): SCOPED,
    ("GET", "/console/campaigns/{code}/selection/danh-sach.{kind}"): SCOPED,
    ("GET", "/console/campaigns/{code}/schedule"): SCOPED,
    ("POST", "/console/campaigns/{code}/schedule/move"): SCOPED,
    ("GET", "/console/campaigns/{code}/schedule/van-ban/{document_id}"): SCOPED,
    ("GET", "/console/deadlines"): LIST,
    ("GET", "/console/deadlines/{deadline_id}"): SCOPED,
    ("GET", "/console/deadlines/{deadline_id}/receipts/{sha256}"): SCOPED,
    ("POST", "/console/deadlines/{deadline_id}/met"): SCOPED,
    ("POST", "/console/deadlines/{deadline_id}/{action}"): SCOPED,
    ("GET", "/console/signing"): LIST,
    ("GET", "/console/signing/{request_id}/draft"): SCOPED,
    ("POST", "/console/signing/{request_id}/sign"): SCOPED,
    ("POST", "/console/signing/batch"): OWN,
    ("POST", "/console/signing/{request_id}/refuse"): SCOPED,
    ("POST", "/console/signing/{request_id}/redraft"): SCOPED,
    ("GET", "/console/people"): ADMIN_ONLY,  # leads read it too; officials never
    ("POST", "/console/people/{code}/tokens"): ADMIN_ONLY,
    ("POST", "/console/tokens/{token_id}/revoke"): ADMIN_ONLY,
    ("GET", "/console/campaigns/{code}/findings"): SCOPED,
    ("GET", "/console/inspections/{inspection_id}/findings"): SCOPED,
    ("POST", "/console/inspections/{inspection_id}/findings"): SCOPED,
    ("GET", "/console/evidence/{inspection_id}/{sha256}"): SCOPED,
    ("GET", "/console/evidence/{inspection_id}/{sha256}/nho"): SCOPED,
}
NOT_THEIRS = ("/console/login", "/console/logout")  # the way in and out, for everyone


def console_routes(settings: Settings) -> list[tuple[str, str]]:
    """(method, path template) of every console route of the app, as the app routes them."""
    def walk(routes: list[Any]) -> Iterator[APIRoute]:
        for route in routes:
            if isinstance(route, APIRoute):
                yield route
            elif hasattr(route, "original_router"):  # FastAPI's included router
                yield from walk(route.original_router.routes)
            elif hasattr(route, "routes"):
                yield from walk(route.routes)

    app = create_app(settings)
    out = {(method, route.path) for route in walk(app.routes) for method in route.methods or ()
           if route.path.startswith("/console") and route.path not in NOT_THEIRS and method != "HEAD"}
    return sorted(out)


# --------------------------------------------------------------------------- the world


def refusals_world(settings: Settings) -> dict[str, Any]:
    from services.stages.schedule_docs import issue_schedule_documents

    tokens = create_scheduled_campaign(settings, code=CODE, establishments=120, quota=4, teams=2)
    issue_schedule_documents(settings, CODE)
    with session_scope(settings) as s:
        snv = s.exec(select(Agency).where(Agency.code == "SNV")).one()
        sct = Agency(code="SCT", name="SỞ CÔNG THƯƠNG", parent_name=snv.parent_name, kind=AgencyKind.OTHER,
                     province_code=snv.province_code, place=snv.place)
        s.add(sct)
        s.flush()
        s.add(Person(code=OTHER_OFFICIAL, full_name="Trần Văn Công", agency_id=id_of(sct), title="Giám đốc Sở Công Thương",
                     role=PersonRole.OFFICIAL))
        s.add(Person(code=OTHER_LEAD, full_name="Lê Thị Thương", agency_id=id_of(sct), title="Phó Giám đốc Sở Công Thương",
                     role=PersonRole.LEAD))
        campaign = s.exec(select(Campaign).where(Campaign.code == CODE)).one()
        inspection = s.exec(select(Inspection).where(Inspection.campaign_id == campaign.id)
                            .order_by(col(Inspection.id))).first()
        assert inspection is not None and inspection.id is not None
        deadline = Deadline(kind=DeadlineKind.VIOLATION_RECORD, subject_key=f"inspection:{inspection.id}",
                            campaign_id=id_of(campaign), inspection_id=inspection.id, starts_on=date(2026, 4, 1),
                            due_on=date(2026, 4, 2), basis_vi="Điều 58 Luật Xử lý vi phạm hành chính: 24 giờ")
        s.add(deadline)
        s.flush()
        document = s.exec(select(Document).where(Document.campaign_id == campaign.id).order_by(col(Document.id))).first()
        assert document is not None
        draft = _draft_to_sign(campaign, inspection)
        s.add(draft)
        s.flush()
        ids = {"inspection_id": inspection.id, "deadline_id": deadline.id, "document_id": document.id,
               "request_id": draft.id}
    for code in (OTHER_OFFICIAL, OTHER_LEAD):
        tokens[code] = create_token(settings, code)[0]
    with session_scope(settings) as s:
        ids["token_id"] = s.exec(select(AccessToken.id).order_by(col(AccessToken.id))).first()
    return {"tokens": tokens, "ids": ids}


def _draft_to_sign(campaign: Campaign, inspection: Inspection) -> SigningRequest:
    """A sanction decision's draft waiting for Sở Nội vụ's Giám đốc (the signing pages' subject)."""
    return SigningRequest(doc_type=DocumentType.SANCTION_DECISION, subject_key=f"inspection:{inspection.id}",
                          campaign_id=id_of(campaign), inspection_id=inspection.id, issuer_code="SNV",
                          issuer_name="Sở Nội vụ", place="Cao Bằng", symbol="QĐ-XPHC", template="quyet_dinh_xu_phat",
                          template_version="mqd02-2026.4", title="Quyết định xử phạt — thử", drafted_on=date(2026, 4, 2),
                          signer_code="SNV-GD", signer_name="Bế Thanh Tịnh", signer_title="GIÁM ĐỐC",
                          draft_path="drafts/thu.pdf", draft_sha256="0" * 64, requested_by=LEAD)


@dataclass
class World:
    url: str
    settings: Settings
    tokens: dict[str, str]
    ids: dict[str, int]

    def fill(self, path: str) -> str:
        """The route's path with the world's real ids and codes."""
        values = {"code": CODE, "inspection_id": self.ids["inspection_id"], "document_id": self.ids["document_id"],
                  "deadline_id": self.ids["deadline_id"], "token_id": self.ids["token_id"], "sha256": FAKE_SHA,
                  "request_id": self.ids["request_id"],
                  "name": "lich-kiem-tra", "kind": "pdf", "year": 2026, "action": "complex"}
        if path.startswith("/console/people/"):
            values["code"] = INSPECTOR
        if path.startswith("/console/reports/periodic/"):
            values["kind"] = "annual"
        filled = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)
        assert "{" not in filled, path
        return filled

    def audit_rows(self) -> int:
        with session_scope(self.settings) as s:
            return count(s, AuditEvent)


@pytest.fixture
def world(settings: Settings, worlds: Worlds) -> Iterator[World]:
    built = worlds.copy(settings, refusals_world)
    with serving(settings) as url:
        yield World(url, settings, built["tokens"], built["ids"])


@contextmanager
def logged_in(w: World, person_code: str) -> Iterator[httpx.Client]:
    """A client with the person's console session (its cookie set as the login page sets it)."""
    with httpx.Client(timeout=60, base_url=w.url) as http:
        page = http.get("/console/login")
        done = http.post("/console/login", data={"csrf": csrf_of(page.text), "person_code": person_code,
                                                 "token": w.tokens[person_code], "next": ""}, follow_redirects=False)
        assert done.status_code == 303, done.text[:300]
        yield http


def send(http: httpx.Client, w: World, method: str, path: str) -> httpx.Response:
    """One request as a browser on our own page would send it (same origin; a form field, a CSRF token that is
    not this session's)."""
    target = w.fill(path)
    if method == "GET":
        return http.get(target, follow_redirects=False)
    return http.post(target, data={"csrf": "x" * 64, "reason": "thử", "tax_code": "0100000000"},
                     headers={"Origin": w.url, "Sec-Fetch-Site": "same-origin"}, follow_redirects=False)


def refused_post(http: httpx.Client, w: World, path: str, statuses: tuple[int, ...]) -> httpx.Response:
    """A POST refused with one of ``statuses`` and nothing written (the audit trail has not grown)."""
    before = w.audit_rows()
    answer = send(http, w, "POST", path)
    assert answer.status_code in statuses, (path, answer.status_code, answer.text[:300])
    assert w.audit_rows() == before, f"{path}: a refused POST wrote to the audit trail"
    return answer


# --------------------------------------------------------------------------- the matrix


def test_every_console_route_is_covered(settings: Settings) -> None:
    routes = console_routes(settings)
    missing = [r for r in routes if r not in KINDS]
    assert not missing, f"console routes without an expectation in KINDS (add them, and their refusal): {missing}"
    assert not [r for r in KINDS if r not in routes], "KINDS names a route the app no longer has"


def test_a_logged_out_visitor_is_sent_to_the_login(world: World) -> None:
    with httpx.Client(timeout=60, base_url=world.url) as http:
        for method, path in console_routes(world.settings):
            if method == "GET":
                answer = send(http, world, method, path)
                assert answer.status_code == 303, (path, answer.status_code)
                assert answer.headers["location"].startswith("/console/login?next=/console"), path
            else:
                answer = refused_post(http, world, path, (303, 403))
                if answer.status_code == 303:
                    assert answer.headers["location"].startswith("/console/login"), path


def test_an_inspector_is_sent_to_the_form_and_refused_everywhere(world: World) -> None:
    with httpx.Client(timeout=60, base_url=world.url) as http:
        page = http.get("/console/login")
        done = http.post("/console/login", data={"csrf": csrf_of(page.text), "person_code": INSPECTOR,
                                                 "token": world.tokens[INSPECTOR], "next": "/console/"},
                         follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/form/"
        form_session = http.cookies.get(web.COOKIE)
        assert form_session and base.COOKIE not in http.cookies
        for method, path in console_routes(world.settings):  # the /form cookie is not sent to /console
            answer = send(http, world, method, path) if method == "GET" else refused_post(http, world, path, (303, 403))
            assert answer.status_code in (303, 403), (path, answer.status_code)
    with httpx.Client(timeout=60, base_url=world.url) as http:  # the form's session presented as the console's
        http.cookies.set(base.COOKIE, form_session)
        for method, path in console_routes(world.settings):
            answer = send(http, world, method, path) if method == "GET" else refused_post(http, world, path, (403,))
            assert answer.status_code == 403, (path, answer.status_code)
            assert "/form/" in answer.text and 'lang="vi"' in answer.text, path


def expected_for(kind: str, person: str, method: str) -> tuple[int, ...]:
    """What another agency's official or lead gets on a route of ``kind``."""
    lead = person == OTHER_LEAD
    if kind == SCOPED:
        return (404,)
    if kind in (ADMIN_ONLY, LEAD_ONLY):  # a lead reads the people page and creates campaigns of their own agency
        return (200,) if lead and method == "GET" else (403,)
    if kind in (REPORT, OWN):
        return (403,)  # the periodic report is the leading agency's; the batch signing is the signer's own
    return (200,)  # a list: shown, without the campaign (checked by the caller)


@pytest.mark.parametrize("person", [OTHER_OFFICIAL, OTHER_LEAD, CHAIR])
def test_another_agency_sees_nothing_of_the_campaign(world: World, person: str) -> None:
    """404 on every page and action of the campaign, its inspections, documents and deadlines (as for ids that
    do not exist); 403 on the admin's and lead's pages that are not theirs; the lists without the campaign."""
    with logged_in(world, person) as http:
        for method, path in console_routes(world.settings):
            kind = KINDS[(method, path)]
            wanted = expected_for(kind, person, method)
            if method == "POST":  # (a lead's own new campaign: refused here by the CSRF check, 403)
                refused_post(http, world, path, wanted)
                continue
            answer = send(http, world, method, path)
            assert answer.status_code in wanted, (person, path, answer.status_code, answer.text[:300])
            if kind == LIST:
                assert CODE not in answer.text, (person, path, "the list shows the campaign")
            if answer.status_code >= 400:
                assert 'lang="vi"' in answer.text and 'href="/console/"' in answer.text, path
        unknown = http.get("/console/inspections/999999/findings")
        hidden = http.get(world.fill("/console/inspections/{inspection_id}/findings"))
        assert unknown.status_code == hidden.status_code == 404
        assert hidden.text.replace(f"số {world.ids['inspection_id']}.", "số N.") == unknown.text.replace("số 999999.", "số N.")


def test_a_lead_is_refused_the_admins_actions(world: World) -> None:
    with logged_in(world, LEAD) as http:
        for method, path in console_routes(world.settings):
            if KINDS[(method, path)] == ADMIN_ONLY and method == "POST":
                answer = refused_post(http, world, path, (403,))
                assert "quản trị hệ thống" in answer.text, path
        assert http.get("/console/people").status_code == 200  # leads read the people page


def test_a_lead_of_a_member_agency_sees_the_campaign_but_does_not_steer_it(world: World) -> None:
    """Sở Y tế is a member of the SNV-led campaign: its lead reads the pages and every lead's write is a 403 that
    names the leading agency's role, with nothing written."""
    with session_scope(world.settings) as s:
        syt = s.exec(select(Agency).where(Agency.code == "SYT")).one()
        s.add(Person(code="SYT-LEAD", full_name="Hoàng Thị Y", agency_id=id_of(syt), title="Phó Giám đốc Sở Y tế",
                     role=PersonRole.LEAD))
    world.tokens["SYT-LEAD"] = create_token(world.settings, "SYT-LEAD")[0]
    with logged_in(world, "SYT-LEAD") as http:
        assert http.get(world.fill("/console/campaigns/{code}")).status_code == 200
        posts = [path for (method, path), kind in KINDS.items() if method == "POST" and kind == SCOPED
                 and not path.endswith("/decision")  # the decision is the officials' (a lead gets the role's 403)
                 and not path.startswith("/console/signing/")]  # signing is the signer's (tests/…/test_console_signing.py)
        assert len(posts) >= 8
        for path in posts:
            answer = refused_post(http, world, path, (403,))
            assert "cơ quan chủ trì" in answer.text, path


def test_the_campaigns_own_people_see_it(world: World) -> None:
    """The rule lets the campaign's agencies through (the lead, an official of a member agency) and the admin."""
    with session_scope(world.settings) as s:
        syt = s.exec(select(Agency).where(Agency.code == "SYT")).one()
        s.add(Person(code="SYT-GD", full_name="Phạm Văn Y", agency_id=id_of(syt), title="Giám đốc Sở Y tế",
                     role=PersonRole.OFFICIAL))
    world.tokens["SYT-GD"] = create_token(world.settings, "SYT-GD")[0]
    pages = ["/console/campaigns/{code}", "/console/campaigns/{code}/schedule", "/console/deadlines/{deadline_id}",
             "/console/documents/{document_id}", "/console/inspections/{inspection_id}/decision"]
    for person in (LEAD, ADMIN, "SYT-GD"):
        with logged_in(world, person) as http:
            for path in pages:
                assert http.get(world.fill(path)).status_code == 200, (person, path)
            assert CODE in http.get("/console/campaigns").text, person


def test_the_rule_is_one_function(settings: Settings, worlds: Worlds) -> None:
    """The findings' ``may_see`` and the inbox follow the same rule (no second one)."""
    from services.entry.http.console import findings_data, inbox_queries

    worlds.copy(settings, refusals_world)
    with session_scope(settings) as s:
        people = {p.code: p for p in s.exec(select(Person)).all()}
        inspection = s.exec(select(Inspection).order_by(col(Inspection.id))).first()
        assert inspection is not None
        for person in people.values():
            assert findings_data.may_see(s, person, inspection) == access_rules.inspection_visible(s, person, inspection)
        assert not access_rules.inspection_visible(s, people[INSPECTOR], inspection)
        assert [c.code for c in inbox_queries._campaigns_of(s, people[OTHER_LEAD])] == []
        assert [c.code for c in inbox_queries._campaigns_of(s, people[LEAD])] == [CODE]


# --------------------------------------------------------------------------- in Chromium


def test_refusal_pages_in_chromium(world: World, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    """The three visitors on a few pages: the login for the logged-out, the Vietnamese refusal (with a way back)
    for the inspector and the other agency's official; axe finds nothing serious on the refusal pages."""
    from selenium.webdriver.common.by import By

    page = world.fill("/console/campaigns/{code}/schedule")
    decision = world.fill("/console/inspections/{inspection_id}/decision")
    at_width(browser, 1280)
    browser.delete_all_cookies()
    browser.get(f"{world.url}{page}")
    wait_loaded(browser)
    assert "/console/login" in browser.current_url and browser.find_element(By.ID, "person_code")

    assert axe_violations(browser) == []

    browser_login(browser, world.url, INSPECTOR, world.tokens[INSPECTOR])
    assert browser.current_url.endswith("/form/")
    form_session = browser.get_cookie(web.COOKIE)["value"]
    for width in (390, 1280):
        at_width(browser, width)
        browser.get(f"{world.url}{page}")  # no console session: the login again
        wait_loaded(browser)
        assert "/console/login" in browser.current_url
    browser.add_cookie({"name": base.COOKIE, "value": form_session, "path": "/console"})  # the form's, replayed
    for width in (390, 1280):
        at_width(browser, width)
        browser.get(f"{world.url}{decision}")
        wait_loaded(browser)
        main = browser.find_element(By.ID, "noi-dung").text
        assert "Không có quyền" in main and "/form/" in main, main
        assert browser.find_elements(By.CSS_SELECTOR, "main a[href='/console/login']"), "no way back"
        assert axe_violations(browser) == []
        screenshot(browser, tmp_path / f"tu-choi-thanh-vien-doan-{width}.png")

    browser_login(browser, world.url, OTHER_OFFICIAL, world.tokens[OTHER_OFFICIAL])
    for width in (390, 1280):
        at_width(browser, width)
        for target in (page, decision, "/console/people"):
            browser.get(f"{world.url}{target}")
            wait_loaded(browser)
            main = browser.find_element(By.ID, "noi-dung").text
            assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
            assert ("Không tìm thấy" in main) if target != "/console/people" else ("Không có quyền" in main), main
            assert CODE not in browser.page_source or target == page  # the code typed in the address only
            assert browser.find_elements(By.CSS_SELECTOR, "main a[href='/console/']"), "no way back"
            assert axe_violations(browser) == [], target
        screenshot(browser, tmp_path / f"tu-choi-{width}.png")


def test_the_chair_sees_the_files_to_decide_and_nothing_else(settings: Settings, worlds: Worlds) -> None:
    """The Chủ tịch UBND tỉnh (UBND: not one of the campaign's agencies) sees the files they are competent to decide
    — the inbox's items, their decision screen and documents — and nothing else of the campaign."""
    from tests.integration.test_console_decisions import CAMPAIGN, decision_world

    tokens = worlds.copy(settings, decision_world)
    with session_scope(settings) as s:
        files = {i.id: i for i in s.exec(select(Inspection)).all()}
        decidable = {i for i in files if s.exec(select(Violation.id).where(Violation.inspection_id == i)).first()}
        docs = s.exec(select(Document)).all()
        of_file = next(d.id for d in docs if d.inspection_id in decidable)
        not_theirs = [f"/console/documents/{d.id}" for d in docs if d.inspection_id not in decidable][:1]
    quiet = [f"/console/inspections/{i}/decision" for i in files if i not in decidable][:1]  # no violation
    with serving(settings) as url, httpx.Client(timeout=60, base_url=url) as http:
        page = http.get("/console/login")
        http.post("/console/login", data={"csrf": csrf_of(page.text), "person_code": CHAIR, "token": tokens[CHAIR]})
        listed = {int(n) for n in re.findall(r'href="/console/inspections/(\d+)/decision"', http.get("/console/").text)}
        assert listed and listed <= decidable
        for inspection_id in listed:
            assert http.get(f"/console/inspections/{inspection_id}/decision").status_code == 200
        assert http.get(f"/console/documents/{of_file}").status_code == 200
        for hidden in (*quiet, *not_theirs,
                       f"/console/campaigns/{CAMPAIGN}", f"/console/campaigns/{CAMPAIGN}/schedule"):
            assert http.get(hidden).status_code == 404, hidden
        assert CAMPAIGN not in http.get("/console/campaigns").text
