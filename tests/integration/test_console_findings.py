"""The lead's findings review in the console (issue 15): the campaign's list, one inspection's versions side by side
with photo thumbnails served only to those allowed, approve / return with a comment (the same service function as
``POST /api/inspections/{id}/review``: Done-when 4 compares the audit rows and state), the comment reaching the
inspectors in /form and by notification, and the pages in Chromium at 390 and 1,280 px with axe-core."""
from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlmodel import col, select

from models import (Agency, AgencyKind, AuditEvent, FindingReview, Inspection, Notification, Person, PersonRole, Team,
                    TeamMember)
from services.db import session_scope
from services.entry.http.console import base
from services.settings import Settings
from tests.conftest import Worlds, make_settings
from tests.console_support import (at_width, axe_violations, browser, browser_login, console_login,  # noqa: F401
                                   csrf_of, follow, no_horizontal_scroll, screenshot, serving, wait_loaded)
from tests.factories import create_scheduled_campaign, create_token, intake_http, team_inspections

pytestmark = pytest.mark.slow

CODE = "KQ-01"
LEAD, OFFICIAL, OUTSIDER = "SNV-LEAD", "SNV-GD", "SXD-GD"
COMMENT = "Ảnh bình chữa cháy bị mờ; chụp lại và ghi rõ số người chưa được huấn luyện."


# --------------------------------------------------------------------------- the world


def photo(colour: tuple[int, int, int], size: tuple[int, int] = (800, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG", quality=85)
    return out.getvalue()


def _submit(http: httpx.Client, token: str, inspection_id: int, client_id: str, findings: list[dict[str, Any]], *,
            image: bytes | None = None, reason: str = "") -> str:
    """A findings version over the API, and its photo (when given); returns the photo's SHA-256 ("" without)."""
    auth = {"Authorization": f"Bearer {token}"}
    sha = hashlib.sha256(image).hexdigest() if image else ""
    attachments = [{"name": f"anh-{client_id}.jpg", "sha256": sha, "size": len(image), "content_type": "image/jpeg"}] if image else []
    sent = http.post(f"/api/inspections/{inspection_id}/findings", headers=auth, json={
        "client_submission_id": client_id, "findings": findings, "attachments": attachments, "reason": reason})
    assert sent.status_code == 201, sent.text
    if image:
        put = http.put(f"/api/submissions/{client_id}/attachments/{sha}", content=image,
                       headers={**auth, "Content-Type": "image/jpeg"})
        assert put.status_code == 201, put.text
    return sha


def _answers(checklist: list[dict[str, Any]], *, fail_first: bool) -> list[dict[str, Any]]:
    out = []
    for n, item in enumerate(checklist):
        f: dict[str, Any] = {"item_code": item["code"], "result": "pass", "note": ""}
        if fail_first and n == 0:
            f.update(result="fail", note="Chưa xuất trình sổ theo dõi huấn luyện.")
            if item["counts_workers"]:
                f["workers_affected"] = 3
            if item["counts_devices"]:
                f["devices_affected"] = 1
        out.append(f)
    return out


def findings_world(settings: Settings) -> dict[str, Any]:
    """A scheduled campaign, an official of an agency outside it, and findings sent over the API: inspection ``a``
    (team 1) returned once then sent again with a change and a new photo (two versions), ``b`` (team 1) sent once
    without a photo, ``c`` (the other team) sent once with a photo. None reviewed since."""
    tokens = create_scheduled_campaign(settings, code=CODE, establishments=400, quota=6, teams=2)
    with session_scope(settings) as session:
        agency = Agency(code="SXD", name="SỞ XÂY DỰNG", parent_name="UBND TỈNH CAO BẰNG", kind=AgencyKind.OTHER,
                        province_code="04", place="Cao Bằng")
        session.add(agency)
        session.flush()
        assert agency.id is not None
        session.add(Person(code=OUTSIDER, full_name="Hoàng Văn Xây", agency_id=agency.id, title="Giám đốc Sở Xây dựng",
                           role=PersonRole.OFFICIAL))
    tokens[OUTSIDER] = create_token(settings, OUTSIDER)[0]
    teams = team_inspections(settings)
    a, b = teams["SNV-TT01"][:2]
    other = next(code for code, ids in sorted(teams.items()) if a not in ids)
    c = teams[other][0]
    tt01 = tokens["SNV-TT01"]
    with intake_http(settings) as http:
        checklist = http.get(f"/api/inspections/{a}", headers={"Authorization": f"Bearer {tt01}"}).json()["checklist"]
        old_photo = _submit(http, tt01, a, f"ket-qua-{a}-v1", _answers(checklist, fail_first=False), image=photo((200, 40, 40)))
        returned = http.post(f"/api/inspections/{a}/review", headers={"Authorization": f"Bearer {tokens[LEAD]}"},
                             json={"decision": "return", "comment": "Mục đầu tiên cần kiểm tra lại."})
        assert returned.status_code == 201, returned.text
        new_photo = _submit(http, tt01, a, f"ket-qua-{a}-v2", _answers(checklist, fail_first=True), image=photo((40, 40, 200)),
                            reason="Kiểm tra lại mục đầu tiên theo ý kiến trưởng đoàn")
        b_list = http.get(f"/api/inspections/{b}", headers={"Authorization": f"Bearer {tt01}"}).json()["checklist"]
        _submit(http, tt01, b, f"ket-qua-{b}-v1", _answers(b_list, fail_first=False))
        c_list = http.get(f"/api/inspections/{c}", headers={"Authorization": f"Bearer {tokens[other]}"}).json()["checklist"]
        c_photo = _submit(http, tokens[other], c, f"ket-qua-{c}-v1", _answers(c_list, fail_first=False), image=photo((0, 120, 0)))
    return {"tokens": tokens, "a": a, "b": b, "c": c, "other_inspector": other, "old_photo": old_photo,
            "new_photo": new_photo, "c_photo": c_photo, "first_item": checklist[0]}


@dataclass
class Site:
    settings: Settings
    url: str
    world: dict[str, Any]

    @property
    def tokens(self) -> dict[str, str]:
        return self.world["tokens"]

    @contextmanager
    def client(self, person: str | None = LEAD) -> Iterator[httpx.Client]:
        """A client, logged in at the console as ``person`` (None: logged out)."""
        with httpx.Client(timeout=30) as http:
            yield console_login(http, self.url, person, self.tokens[person]) if person else http


@pytest.fixture
def site(settings: Settings, worlds: Worlds) -> Iterator[Site]:
    world = worlds.copy(settings, findings_world)
    with serving(settings) as url:
        yield Site(settings, url, world)


def state(settings: Settings) -> dict[str, Any]:
    with session_scope(settings) as session:
        return {"statuses": dict(session.exec(select(Inspection.id, Inspection.status)).all()),
                "reviews": sorted(session.exec(select(FindingReview.submission_id, FindingReview.decision,
                                                      FindingReview.comment, FindingReview.reviewed_by_id)).all()),
                "notifications": sorted((n.idempotency_key, n.kind, n.recipient_ref, n.channel, n.address, n.subject,
                                         n.body, str(n.status)) for n in session.exec(select(Notification)).all())}


def post_review(http: httpx.Client, site: Site, inspection_id: int, choice: str, comment: str = "",
                **extra: str) -> httpx.Response:
    page = http.get(f"{site.url}/console/inspections/{inspection_id}/findings")
    assert page.status_code == 200, page.text
    form = {"csrf": csrf_of(page.text, -1), "phien_ban": extra.pop("phien_ban", _version(page.text)),
            "quyet_dinh": choice, "y_kien": comment, **extra}
    return http.post(f"{site.url}/console/inspections/{inspection_id}/findings", data=form, follow_redirects=False)


def _version(html: str) -> str:
    marker = 'name="phien_ban" value="'
    return html.split(marker, 1)[1].split('"', 1)[0]


# --------------------------------------------------------------------------- the list and the page


def test_the_list_filters_by_status_and_team(site: Site) -> None:
    a, b, c = site.world["a"], site.world["b"], site.world["c"]
    path = f"{site.url}/console/campaigns/{CODE}/findings"
    with site.client() as http:
        page = http.get(path)
        assert page.status_code == 200 and 'lang="vi"' in page.text
        for i in (a, b, c):
            assert f'href="/console/inspections/{i}/findings"' in page.text
        assert "Chờ duyệt: 3" in page.text and "Đã trả lại: 0" in page.text
        returned = http.get(path, params={"trang_thai": "tra-lai"})
        assert "khong-co" in returned.text and f"/console/inspections/{a}/findings" not in returned.text
        with session_scope(site.settings) as session:
            number = session.exec(select(Team.number).join(Inspection, col(Inspection.team_id) == col(Team.id))
                                  .where(Inspection.id == c)).one()
        team = http.get(path, params={"doan": str(number), "trang_thai": "cho-duyet"})
        assert f"/console/inspections/{c}/findings" in team.text
        assert f"/console/inspections/{a}/findings" not in team.text and f"/console/inspections/{b}/findings" not in team.text
        assert http.get(f"{site.url}/console/campaigns/KHONG-CO/findings").status_code == 404
    with site.client(OFFICIAL) as http:  # the review is the lead's
        assert http.get(path).status_code == 403
        assert http.get(f"{site.url}/console/inspections/{a}/findings").status_code == 403
    with site.client(None) as http:
        gone = http.get(path, follow_redirects=False)
        assert gone.status_code == 303 and gone.headers["location"].startswith("/console/login?next=")


def test_the_page_shows_both_versions_and_the_photo_thumbnails(site: Site) -> None:
    a, item = site.world["a"], site.world["first_item"]
    with site.client() as http:
        page = http.get(f"{site.url}/console/inspections/{a}/findings")
        assert page.status_code == 200
        text = page.text
        assert "Phiên bản 2 (mới nhất)" in text and "Phiên bản 1 (trước đó)" in text
        assert item["text_vi"] in text and "Chưa xuất trình sổ theo dõi huấn luyện." in text
        assert "1 mục thay đổi" in text and f'id="muc-{item["code"]}" class="changed"' in text
        assert "Kiểm tra lại mục đầu tiên theo ý kiến trưởng đoàn" in text  # the edit's reason
        assert "Mục đầu tiên cần kiểm tra lại." in text  # the earlier return's comment
        for sha in (site.world["new_photo"], site.world["old_photo"]):
            assert f'src="/console/evidence/{a}/{sha}/nho"' in text
        small = http.get(f"{site.url}/console/evidence/{a}/{site.world['new_photo']}/nho")
        assert small.status_code == 200 and small.headers["content-type"] == "image/jpeg"
        assert "no-store" in small.headers["cache-control"] and small.headers["x-content-type-options"] == "nosniff"
        with Image.open(io.BytesIO(small.content)) as shrunk:
            assert max(shrunk.size) == 320
        full = http.get(f"{site.url}/console/evidence/{a}/{site.world['new_photo']}")
        assert full.status_code == 200 and hashlib.sha256(full.content).hexdigest() == site.world["new_photo"]
        # another inspection's photo is not this inspection's: the same answer as one that does not exist
        assert http.get(f"{site.url}/console/evidence/{a}/{site.world['c_photo']}/nho").status_code == 404
        assert http.get(f"{site.url}/console/evidence/{a}/{'0' * 64}").status_code == 404
        assert http.get(f"{site.url}/console/evidence/{a}/..%2F..%2Fkiemtra.db").status_code == 404


def test_the_photo_is_refused_to_anyone_not_allowed(site: Site) -> None:
    a, sha = site.world["a"], site.world["new_photo"]
    photo_path = f"/console/evidence/{a}/{sha}/nho"
    with site.client(OFFICIAL) as http:  # an official of the campaign's lead agency may see it (the decision screen)
        assert http.get(site.url + photo_path).status_code == 200
    with site.client(OUTSIDER) as http:  # an official of an agency outside the campaign: as if it did not exist
        refused = http.get(site.url + photo_path)
        assert refused.status_code == 404 and "image" not in refused.headers["content-type"]
    with site.client(None) as http:  # logged out: to the login page
        gone = http.get(site.url + photo_path, follow_redirects=False)
        assert gone.status_code == 303 and gone.headers["location"] == f"/console/login?next={photo_path}"
    other = site.world["other_inspector"]
    with httpx.Client(timeout=30) as http:  # another team's inspector: logging in here gives a /form session only
        console_login(http, site.url, other, site.tokens[other])
        assert http.get(site.url + photo_path, follow_redirects=False).status_code == 303
        form_session = next(c.value or "" for c in http.cookies.jar if c.path == "/form")
    with httpx.Client(timeout=30, cookies={base.COOKIE: form_session}) as http:  # and that session sent to the console
        refused = http.get(site.url + photo_path)
        assert refused.status_code == 403 and "image" not in refused.headers["content-type"]


# --------------------------------------------------------------------------- approve, return


def test_the_lead_approves(site: Site) -> None:
    a = site.world["a"]
    messages = state(site.settings)["notifications"]  # (the world's earlier return of version 1 queued some)
    with site.client() as http:
        done = post_review(http, site, a, "duyet")
        assert done.status_code == 303 and done.headers["location"] == f"/console/inspections/{a}/findings?da=duyet"
        page = http.get(site.url + done.headers["location"])
        assert "Đã duyệt kết quả kiểm tra." in page.text and "Kết quả đã được duyệt" in page.text
        assert 'id="duyet-ket-qua"' not in page.text  # nothing left to decide
    with session_scope(site.settings) as session:
        assert session.get(Inspection, a).status == "findings_approved"  # type: ignore[union-attr]
        event = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "inspection", AuditEvent.entity_id == a)
                             .order_by(col(AuditEvent.id).desc())).first()
        assert event is not None and event.actor == LEAD and event.to_state == "findings_approved"
    assert state(site.settings)["notifications"] == messages  # an approval tells nobody


def test_a_return_needs_a_comment_and_reaches_the_inspectors(site: Site) -> None:
    b = site.world["b"]
    before = state(site.settings)
    with site.client() as http:
        empty = post_review(http, site, b, "tra-lai", "   ")
        assert empty.status_code == 422 and "phải ghi ý kiến khi trả lại" in empty.text and 'id="loi"' in empty.text
        assert state(site.settings) == before
        done = post_review(http, site, b, "tra-lai", COMMENT)
        assert done.status_code == 303
        page = http.get(site.url + done.headers["location"])
        assert "Đã trả lại kết quả" in page.text and COMMENT in page.text
        assert "Thông báo cho đoàn:" in page.text and "SNV-TT01 (thư điện tử, chờ gửi)" in page.text
    after = state(site.settings)
    assert after["statuses"][b] == "findings_returned"
    with session_scope(site.settings) as session:
        team = set(session.exec(select(Person.code).join(TeamMember, col(TeamMember.person_id) == col(Person.id))
                                .join(Inspection, col(Inspection.team_id) == col(TeamMember.team_id))
                                .where(Inspection.id == b, col(Person.role) == PersonRole.INSPECTOR)).all())
        notes = session.exec(select(Notification).where(Notification.kind == "findings_returned",
                                                        Notification.inspection_id == b)).all()
    assert team and {n.recipient_ref for n in notes} == team  # every inspector of the team (each has a contact)
    assert all(COMMENT in n.body and n.status == "pending" for n in notes)
    # the inspector sees it in /form: on the day's list and on the checklist
    with httpx.Client(base_url=site.url, timeout=30) as form:
        login = form.get("/form/login")
        signed = form.post("/form/login", data={"csrf": csrf_of(login.text), "person_code": "SNV-TT01",
                                                "token": site.tokens["SNV-TT01"]}, follow_redirects=False)
        assert signed.status_code == 303
        with session_scope(site.settings) as session:
            day = session.get(Inspection, b).scheduled_on  # type: ignore[union-attr]
        listing = form.get("/form/", params={"ngay": day.isoformat()})
        assert f'id="tra-lai-{b}"' in listing.text and COMMENT in listing.text
        lead_name = session_name(site.settings, LEAD)
        assert lead_name in listing.text
        checklist = form.get(f"/form/inspections/{b}")
        assert 'id="tra-lai"' in checklist.text and COMMENT in checklist.text and lead_name in checklist.text


def session_name(settings: Settings, code: str) -> str:
    with session_scope(settings) as session:
        return session.exec(select(Person.full_name).where(Person.code == code)).one()


def test_a_second_post_changes_nothing_and_csrf_is_required(site: Site) -> None:
    b, a = site.world["b"], site.world["a"]
    with site.client() as http:
        page = http.get(f"{site.url}/console/inspections/{b}/findings")
        url = f"{site.url}/console/inspections/{b}/findings"
        form = {"phien_ban": "1", "quyet_dinh": "tra-lai", "y_kien": COMMENT}
        before = state(site.settings)
        assert http.post(url, data=form).status_code == 403  # no token
        other = http.get(f"{site.url}/console/inspections/{a}/findings")
        assert http.post(url, data={**form, "csrf": csrf_of(other.text, -1)}).status_code == 403  # another form's
        cross = http.post(url, data={**form, "csrf": csrf_of(page.text, -1)}, headers={"Origin": "https://evil.example"})
        assert cross.status_code == 403
        assert state(site.settings) == before
        stale = http.post(url, data={**form, "csrf": csrf_of(page.text, -1), "phien_ban": "7"}, follow_redirects=False)
        assert stale.status_code == 409 and state(site.settings) == before
        first = http.post(url, data={**form, "csrf": csrf_of(page.text, -1)}, follow_redirects=False)
        assert first.status_code == 303
        once = state(site.settings)
        again = http.post(url, data={**form, "csrf": csrf_of(page.text, -1)}, follow_redirects=False)
        assert again.status_code == 303 and state(site.settings) == once  # the same review: nothing new, no new message
        other_choice = http.post(url, data={**form, "quyet_dinh": "duyet", "csrf": csrf_of(page.text, -1)},
                                 follow_redirects=False)
        assert other_choice.status_code == 409 and state(site.settings) == once


# --------------------------------------------------------------------------- Done-when 4: the console = the API


def audit_rows(settings: Settings, after: int) -> list[tuple[Any, ...]]:
    with session_scope(settings) as session:
        rows = session.exec(select(AuditEvent).where(col(AuditEvent.id) > after).order_by(col(AuditEvent.id))).all()
        return [(r.actor, r.action, r.entity_type, r.entity_id, r.from_state, r.to_state, r.reason, r.data) for r in rows]


def last_audit_id(settings: Settings) -> int:
    with session_scope(settings) as session:
        return max((i or 0 for i in session.exec(select(AuditEvent.id)).all()), default=0)


def test_console_review_leaves_what_the_api_leaves(tmp_path: Path, worlds: Worlds, new_database: Any,
                                                   migrated: Any) -> None:
    by_api, by_console = (migrated(make_settings(tmp_path / name, database_url=new_database()))
                          for name in ("api", "console"))
    world = worlds.copy(by_api, findings_world)
    assert worlds.copy(by_console, findings_world) == world
    a, b, lead = world["a"], world["b"], world["tokens"][LEAD]
    with serving(by_api) as url, httpx.Client(base_url=url, timeout=30) as http:
        start_api = last_audit_id(by_api)
        for inspection_id, body in ((a, {"decision": "approve", "comment": ""}), (b, {"decision": "return", "comment": COMMENT})):
            sent = http.post(f"/api/inspections/{inspection_id}/review", json=body, headers={"Authorization": f"Bearer {lead}"})
            assert sent.status_code == 201, sent.text
    with serving(by_console) as url:
        site = Site(by_console, url, world)
        with site.client() as http:
            start_console = last_audit_id(by_console)  # after the login (a console session is not the API's)
            assert post_review(http, site, a, "duyet").status_code == 303
            assert post_review(http, site, b, "tra-lai", COMMENT).status_code == 303
    api_rows, console_rows = audit_rows(by_api, start_api), audit_rows(by_console, start_console)
    assert api_rows and api_rows == console_rows
    assert state(by_api) == state(by_console)
    assert state(by_api)["statuses"][a] == "findings_approved" and state(by_api)["notifications"]


# --------------------------------------------------------------------------- in Chromium


def test_the_review_pages_in_chromium(site: Site, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    a, b = site.world["a"], site.world["b"]
    driver = browser
    browser_login(driver, site.url, LEAD, site.tokens[LEAD])
    for width in (390, 1280):
        at_width(driver, width)
        for name, path in (("list", f"/console/campaigns/{CODE}/findings"), ("inspection", f"/console/inspections/{a}/findings")):
            driver.get(site.url + path)
            wait_loaded(driver)
            no_horizontal_scroll(driver)
            assert axe_violations(driver) == [], (name, width)
            screenshot(driver, tmp_path / f"findings-{name}-{width}.png")
        shown = driver.execute_script(
            "return Array.from(document.querySelectorAll('ul.photos img')).map(i => [i.complete, i.naturalWidth])")
        assert shown and all(done and natural == 320 for done, natural in shown)
    # return b with a comment, typed in the browser
    at_width(driver, 390)
    driver.get(f"{site.url}/console/inspections/{b}/findings")
    wait_loaded(driver)
    follow(driver, "tra-lai")  # no comment: the page again, with the error
    assert "phải ghi ý kiến" in driver.find_element(By.ID, "loi").text
    assert axe_violations(driver) == []
    driver.find_element(By.ID, "y_kien").send_keys(COMMENT)
    follow(driver, "tra-lai")
    assert "Đã trả lại" in driver.find_element(By.ID, "da-luu").text
    assert axe_violations(driver) == []
    screenshot(driver, tmp_path / "findings-returned-390.png")
    # the inspector, on a phone, sees the lead's comment on the day's list and on the checklist
    with session_scope(site.settings) as session:
        day = session.get(Inspection, b).scheduled_on  # type: ignore[union-attr]
    driver.get(f"{site.url}/form/login")
    wait_loaded(driver)
    driver.find_element(By.ID, "person_code").send_keys("SNV-TT01")
    driver.find_element(By.ID, "token").send_keys(site.tokens["SNV-TT01"])
    follow(driver, "dang-nhap")
    driver.get(f"{site.url}/form/?ngay={day.isoformat()}")
    wait_loaded(driver)
    assert COMMENT in driver.find_element(By.ID, f"tra-lai-{b}").text
    no_horizontal_scroll(driver)
    screenshot(driver, tmp_path / "form-day-returned-390.png")
    driver.get(f"{site.url}/form/inspections/{b}")
    wait_loaded(driver)
    note = driver.find_element(By.ID, "tra-lai").text
    assert COMMENT in note and session_name(site.settings, LEAD) in note
    no_horizontal_scroll(driver)
    screenshot(driver, tmp_path / "form-checklist-returned-390.png")
