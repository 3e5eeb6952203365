"""The console's schedule (issue 15): each team's calendar with visit times, names and addresses; moving a visit with
the reschedule rules (Done-when 4: the same audit, visits, documents and notifications as the function the CLI calls,
on a copy of the same world); the rules' refusal; the decision, plans and notices downloadable; refusals; and one
Chromium walk over the selection and schedule pages at 390 and 1,280 px with axe-core."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from sqlmodel import col, select

from models import AuditEvent, Document, Establishment, Inspection, Notification
from services.db import session_scope
from services.entry.http.console.base import COOKIE
from services.entry.http.web import COOKIE as FORM_COOKIE
from services.settings import Settings
from services.stages import selection
from services.stages.rescheduling import reschedule_visit
from services.stages.schedule_docs import issue_schedule_documents
from tests.conftest import Worlds, make_settings
from tests.console_support import (at_width, axe_violations, browser, browser_login, console_login, csrf_of,  # noqa: F401
                                   no_horizontal_scroll, screenshot, serving, wait_loaded)
from tests.factories import create_campaign, create_scheduled_campaign

CODE = "SCH-01"
LIST_CODE = "SEL-02"
PAGE = f"/console/campaigns/{CODE}/schedule"
TODAY = date(2026, 3, 2)  # the campaign's first day: moves are counted from it (the notice period)


def schedule_world(settings: Settings) -> dict[str, str]:
    """A scheduled campaign with its decision, plans and notices issued, and a second campaign whose list waits for
    the lead (for the pages' browser walk); the people's tokens."""
    tokens = create_scheduled_campaign(settings, code=CODE, establishments=400, quota=10, teams=2)
    issue_schedule_documents(settings, CODE)
    create_campaign(settings, code=LIST_CODE, quota=20)
    selection.select_establishments(settings, LIST_CODE)
    return tokens


@pytest.fixture
def world(settings: Settings, worlds: Worlds, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setattr("services.stages.rescheduling.today_in_vietnam", lambda: TODAY)
    return worlds.copy(settings, schedule_world)


def _visits(settings: Settings) -> list[tuple[str, int, date, str]]:
    with session_scope(settings) as session:
        rows = session.exec(select(col(Establishment.tax_code), col(Inspection.team_id), col(Inspection.scheduled_on),
                                   col(Inspection.status))
                            .join(Inspection, col(Inspection.establishment_id) == Establishment.id)
                            .order_by(col(Inspection.id))).all()
    return [(t, team, day, str(status)) for t, team, day, status in rows]


def _state(settings: Settings, since: dict[str, int]) -> dict[str, Any]:
    """What a move leaves: new audit rows (without ids and times; logins left out), the visits, the new documents
    and the new notifications."""
    with session_scope(settings) as session:
        audit = [(a.actor, a.action, a.entity_type, a.entity_id, a.reason, a.data) for a in session.exec(
            select(AuditEvent).where(col(AuditEvent.id) > since["audit"]).order_by(col(AuditEvent.id)))
            if a.entity_type not in ("websession", "accesstoken") and "session" not in a.action]
        documents = [(str(d.doc_type), d.subject_key, d.revision, d.number, d.issued_on, d.supersedes_id, d.sha256)
                     for d in session.exec(select(Document).where(col(Document.id) > since["document"])
                                           .order_by(col(Document.id)))]
        notes = [(n.idempotency_key, n.kind, n.recipient_ref, n.subject, n.body) for n in session.exec(
            select(Notification).where(col(Notification.id) > since["notification"]).order_by(col(Notification.id)))]
    return {"audit": audit, "visits": _visits(settings), "documents": documents, "notifications": notes}


def _marks(settings: Settings) -> dict[str, int]:
    with session_scope(settings) as session:
        return {name: session.exec(select(model.id).order_by(col(model.id).desc())).first() or 0
                for name, model in (("audit", AuditEvent), ("document", Document), ("notification", Notification))}


def _move(client: httpx.Client, url: str, data: dict[str, str]) -> httpx.Response:
    page = client.get(f"{url}{PAGE}")
    return client.post(f"{url}{PAGE}/move", data={"csrf": csrf_of(page.text, -1), **data}, follow_redirects=False)


def test_each_team_s_calendar_shows_days_times_names_addresses_and_the_documents(settings: Settings,
                                                                                world: dict[str, str]) -> None:
    with session_scope(settings) as session:
        first = session.exec(select(Establishment, Inspection).join(Inspection, col(Inspection.establishment_id)
                                                                    == Establishment.id).order_by(col(Inspection.id))).first()
        assert first is not None
        e, inspection = first
        docs = session.exec(select(Document).order_by(col(Document.id))).all()
    with serving(settings) as url, httpx.Client(timeout=60) as client:
        console_login(client, url, "SNV-LEAD", world["SNV-LEAD"])
        page = client.get(f"{url}{PAGE}")
        pdf = client.get(f"{url}{PAGE}/van-ban/{docs[0].id}")
        with httpx.Client(timeout=60) as other:
            official = console_login(other, url, "SNV-GD", world["SNV-GD"]).get(f"{url}{PAGE}")
    assert page.status_code == 200
    html = page.text
    assert "Đoàn kiểm tra" in html and f"{inspection.scheduled_on:%d/%m/%Y}" in html and "08:00" in html
    assert e.name in html and e.address in html and "Đổi lịch cơ sở này" in html
    for doc in docs:
        assert doc.number in html and f"/van-ban/{doc.id}" in html
    assert {"Quyết định kiểm tra", "Kế hoạch tiến hành kiểm tra", "Thông báo kiểm tra"} <= set(re.findall(
        r"<td>(Quyết định kiểm tra|Kế hoạch tiến hành kiểm tra|Thông báo kiểm tra)", html))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    assert f"Quyết định kiểm tra số {docs[0].number.replace('/', '-')}.pdf" in unquote(pdf.headers["content-disposition"])
    assert official.status_code == 200 and e.name in official.text and "Đổi lịch cơ sở này" not in official.text


def test_moving_a_visit_leaves_what_the_cli_s_reschedule_leaves(
        settings: Settings, world: dict[str, str], worlds: Worlds, tmp_path: Path,
        new_database: Callable[[], str | None], migrated: Callable[[Settings], Settings]) -> None:
    cli_settings = migrated(make_settings(tmp_path / "cli-copy", database_url=new_database()))
    worlds.copy(cli_settings, schedule_world)
    target, _, old_day, _ = _visits(settings)[4]
    reason = "Cơ sở đề nghị lùi lịch do kiểm kê cuối quý"
    since = _marks(settings)
    assert since == _marks(cli_settings)
    with serving(settings) as url, httpx.Client(timeout=120) as client:
        console_login(client, url, "SNV-LEAD", world["SNV-LEAD"])
        moved = _move(client, url, {"tax_code": target, "reason": reason, "not_on": old_day.isoformat()})
        assert moved.status_code == 303 and target in unquote(moved.headers["location"])
        after = client.get(f"{url}{moved.headers['location']}")
    assert "Đã đổi lịch cơ sở" in after.text and "thay thế, lần 2" in after.text
    reschedule_visit(cli_settings, CODE, tax_code=target, reason=reason, by="SNV-LEAD", not_on=frozenset({old_day}))
    console, cli = _state(settings, since), _state(cli_settings, since)
    assert [a[:2] for a in console["audit"]][0] == ("SNV-LEAD", "visit_rescheduled")
    assert next(v for v in console["visits"] if v[0] == target)[2] != old_day
    assert console["documents"] and console == cli


def test_an_impossible_move_shows_the_rules_refusal_and_changes_nothing(settings: Settings, world: dict[str, str],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("services.stages.rescheduling.today_in_vietnam", lambda: date(2026, 5, 27))  # no day left
    target = _visits(settings)[0][0]
    since = _marks(settings)
    before = _state(settings, since)
    with serving(settings) as url, httpx.Client(timeout=60) as client:
        console_login(client, url, "SNV-LEAD", world["SNV-LEAD"])
        refused = _move(client, url, {"tax_code": target, "reason": "Cơ sở xin lùi lịch"})
    # the scheduling rules' own words (services.rules.schedule), on the console's error page
    assert refused.status_code == 409 and "Không thể xếp lịch cơ sở" in refused.text and "sang ngày khác" in refused.text
    assert _state(settings, since) == before


def test_refusals_inspector_official_logged_out_missing_reason_csrf(settings: Settings, world: dict[str, str]) -> None:
    target = _visits(settings)[0][0]
    since = _marks(settings)
    before = _state(settings, since)
    with session_scope(settings) as session:
        doc_id = session.exec(select(Document.id)).first()
    with serving(settings) as url:
        with httpx.Client(timeout=60) as anonymous:
            assert anonymous.get(f"{url}{PAGE}", follow_redirects=False).status_code == 303
            assert anonymous.get(f"{url}{PAGE}/van-ban/{doc_id}", follow_redirects=False).status_code == 303
            assert anonymous.post(f"{url}{PAGE}/move", data={"tax_code": target, "reason": "x"},
                                  follow_redirects=False).status_code == 303
        with httpx.Client(timeout=60) as inspector:
            console_login(inspector, url, "SNV-TT01", world["SNV-TT01"])
            inspector.cookies.set(COOKIE, inspector.cookies.get(FORM_COOKIE) or "")
            assert inspector.get(f"{url}{PAGE}").status_code == 403
            assert inspector.get(f"{url}{PAGE}/van-ban/{doc_id}").status_code == 403
        with httpx.Client(timeout=60) as official:
            console_login(official, url, "SNV-GD", world["SNV-GD"])
            page = official.get(f"{url}{PAGE}")
            refused = official.post(f"{url}{PAGE}/move", data={"csrf": csrf_of(page.text, -1), "tax_code": target,
                                                                 "reason": "không được"})
            assert refused.status_code == 403
        with httpx.Client(timeout=60) as lead:
            console_login(lead, url, "SNV-LEAD", world["SNV-LEAD"])
            blank = _move(lead, url, {"tax_code": target, "reason": " "})
            assert blank.status_code == 422 and "Phải ghi lý do đổi lịch" in blank.text
            bad_day = _move(lead, url, {"tax_code": target, "reason": "x", "not_on": "31/02"})
            assert bad_day.status_code == 422
            forged = lead.post(f"{url}{PAGE}/move", data={"csrf": "gia-mao", "tax_code": target, "reason": "x"})
            assert forged.status_code == 403
            assert lead.get(f"{url}{PAGE}/van-ban/999999").status_code == 404
            assert lead.get(f"{url}/console/campaigns/{LIST_CODE}/schedule/van-ban/{doc_id}").status_code == 404
    assert _state(settings, since) == before


def test_the_selection_and_schedule_pages_in_chromium_at_390_and_1280_px(settings: Settings, world: dict[str, str],
                                                                         browser: Any, tmp_path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    with serving(settings) as url:
        browser_login(browser, url, "SNV-LEAD", world["SNV-LEAD"])
        for width in (390, 1280):
            at_width(browser, width)
            for name, path in (("lua-chon", f"/console/campaigns/{LIST_CODE}/selection?q=cong+ty"), ("lich", PAGE)):
                browser.get(f"{url}{path}")
                wait_loaded(browser)
                assert browser.find_element(By.TAG_NAME, "h1").text
                for summary in browser.find_elements(By.CSS_SELECTOR, "details summary")[:2]:
                    summary.click()  # a factor breakdown / a move form opened, as the lead would
                no_horizontal_scroll(browser)
                screenshot(browser, tmp_path / f"{name}-{width}.png")
                assert axe_violations(browser) == [], (name, width)
