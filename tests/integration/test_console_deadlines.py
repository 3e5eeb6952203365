"""The console's deadlines board (issue 15): grouping and content, the lead's actions with their reasons (mark met
with a receipt, complexity, the violator's explanation, the one extension), refusals, and Done-when 4 (a console POST
leaves the audit rows and state that ``kiemtra deadlines …`` leaves), over HTTP with a logged-in console session.

The world's dates are relative to today (Việt Nam): one inspection's record is 20 working days late (overdue), one was
visited today (its record warned), one's record was drawn up yesterday (the decision's 07 working days run), one was
decided 4 working days ago (compliance, sending the decision and a remedial measure are open).
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from models import AuditEvent, Deadline, DeadlineKind, DeadlineStatus, Person, PersonRole
from services.db import session_scope
from services.rules.calendar import today_in_vietnam
from services.settings import Settings, get_settings
from services.stages import deadlines as deadline_stage
from tests.cases import INSPECTOR, approve_and_draw_up, decide, visit, working_before
from tests.conftest import Worlds, make_settings
from tests.console_support import (at_width, axe_violations, browser, browser_login, console_login,  # noqa: F401
                                   csrf_of, follow, no_horizontal_scroll, screenshot, serving)
from tests.factories import create_scheduled_campaign, team_inspections

CODE = "HAN-C"
LEAD = "SNV-LEAD"
ADMIN = "SNV-QT"
PDF = b"%PDF-1.4\n% bien lai thu tien phat\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
FAILS = {"YT-01": {"workers_affected": 12, "note": "12 người lao động chưa được khám sức khỏe định kỳ."}}


def deadline_world(settings: Settings) -> dict[str, Any]:
    """A scheduled campaign whose four first inspections of one team stand at the four points above, swept today."""
    tokens = create_scheduled_campaign(settings, code=CODE)
    today = today_in_vietnam()
    a, b, c, d = team_inspections(settings)[INSPECTOR][:4]
    visit(settings, c, on=working_before(today, 20), client_id="world-c-0001", fails=FAILS)
    visit(settings, b, on=today, client_id="world-b-0001", fails=FAILS)
    visit(settings, d, on=working_before(today, 2), client_id="world-d-0001", fails=FAILS)
    approve_and_draw_up(settings, d, working_before(today, 1))
    visit(settings, a, on=working_before(today, 12), client_id="world-a-0001", fails=FAILS)
    approve_and_draw_up(settings, a, working_before(today, 11))
    decide(settings, a, working_before(today, 4))
    deadline_stage.sweep(settings, today)
    return {"tokens": tokens, "inspections": {"decided": a, "today": b, "late": c, "recorded": d}}


@pytest.fixture
def world(settings: Settings, worlds: Worlds) -> dict[str, Any]:
    return worlds.copy(settings, deadline_world)


def deadline_id(settings: Settings, inspection_id: int, kind: DeadlineKind) -> int:
    with session_scope(settings) as session:
        found = session.exec(select(Deadline.id).where(Deadline.inspection_id == inspection_id,
                                                       Deadline.kind == kind)).one()
    assert found is not None
    return found


def official_code(settings: Settings) -> str:
    with session_scope(settings) as session:
        return session.exec(select(Person.code).where(Person.role == PersonRole.OFFICIAL).order_by(Person.code)).first() or ""


def section(html: str, key: str) -> str:
    """The part of the board under one group's heading."""
    start = html.index(f'id="nhom-{key}"')
    end = html.find('id="nhom-', start + 10)
    return html[start:end if end > 0 else len(html)]


def post_action(client: httpx.Client, url: str, deadline: int, action: str, data: dict[str, str],
                files: dict[str, Any] | None = None) -> httpx.Response:
    page = client.get(f"{url}/console/deadlines/{deadline}")
    assert page.status_code == 200, page.text[:300]
    return client.post(f"{url}/console/deadlines/{deadline}/{action}", data={"csrf": csrf_of(page.text, -1), **data},
                       files=files, follow_redirects=False)


def test_board_groups_content_and_filter(settings: Settings, world: dict[str, Any]) -> None:
    ins = world["inspections"]
    with serving(settings) as url, httpx.Client(timeout=30) as client:
        console_login(client, url, LEAD, world["tokens"][LEAD])
        page = client.get(f"{url}/console/deadlines")
        assert page.status_code == 200
        html = page.text
        overdue, warned, later = section(html, "overdue"), section(html, "warned"), section(html, "later")
        late = deadline_id(settings, ins["late"], DeadlineKind.VIOLATION_RECORD)
        assert f"/console/deadlines/{late}\"" in overdue and "quá hạn" in overdue
        assert f"Cuộc kiểm tra số {ins['late']}" in overdue
        today_record = deadline_id(settings, ins["today"], DeadlineKind.VIOLATION_RECORD)
        assert f"/console/deadlines/{today_record}\"" in warned and "ngày làm việc" in warned
        comply = deadline_id(settings, ins["decided"], DeadlineKind.COMPLY)
        assert f"/console/deadlines/{comply}\"" in later and "Quyết định xử phạt số" in later
        assert "Lập biên bản vi phạm hành chính trong 02 ngày làm việc" in html  # the rule (basis_vi)
        assert re.search(r'<td data-label="Hạn cuối">\d\d/\d\d/\d{4}</td>', html)  # due dates as dd/mm/yyyy
        with session_scope(settings) as session:
            due = session.get(Deadline, late)
            assert due is not None
            assert f"{due.due_on:%d/%m/%Y}" in overdue
        assert "MST " in html
        assert client.get(f"{url}/console/deadlines", params={"dot": CODE}).text.count("/console/deadlines/") == \
            html.count("/console/deadlines/")
        other = client.get(f"{url}/console/deadlines", params={"dot": "KHAC-01"}).text
        assert "/console/deadlines/" not in other.replace('href="/console/deadlines"', "")
        # an official reads the board and a deadline, and sees no form
        with httpx.Client(timeout=30) as official:
            code = official_code(settings)
            from tests.factories import create_token
            console_login(official, url, code, create_token(settings, code)[0])
            assert official.get(f"{url}/console/deadlines").status_code == 200
            detail = official.get(f"{url}/console/deadlines/{comply}")
            assert detail.status_code == 200 and "/met\"" not in detail.text


def test_mark_met_with_receipt_stored_once(settings: Settings, world: dict[str, Any]) -> None:
    ins = world["inspections"]
    comply = deadline_id(settings, ins["decided"], DeadlineKind.COMPLY)
    remedial = deadline_id(settings, ins["decided"], DeadlineKind.REMEDIAL)
    digest = hashlib.sha256(PDF).hexdigest()
    with serving(settings) as url, httpx.Client(timeout=30) as client:
        console_login(client, url, LEAD, world["tokens"][LEAD])
        missing = post_action(client, url, comply, "met", {"on": today_in_vietnam().isoformat(), "reason": " "},
                              files={"receipt": ("bien-lai.pdf", PDF, "application/pdf")})
        assert missing.status_code == 422 and "căn cứ" in missing.text
        assert not list(settings.evidence_path.rglob(digest))  # refused: nothing stored
        wrong = post_action(client, url, comply, "met", {"reason": "Biên lai"},
                            files={"receipt": ("bien-lai.exe", b"MZ\x90\x00", "application/x-msdownload")})
        assert wrong.status_code == 415 or wrong.status_code == 422
        fake = post_action(client, url, comply, "met", {"reason": "Biên lai"},
                           files={"receipt": ("bien-lai.pdf", b"<html></html>", "application/pdf")})
        assert fake.status_code in (415, 422) and "application/pdf" in fake.text  # not a PDF: refused, not met
        for deadline in (comply, remedial):
            done = post_action(client, url, deadline, "met", {"on": today_in_vietnam().isoformat(),
                                                              "reason": "Biên lai thu tiền phạt số 0012345"},
                               files={"receipt": ("biên-lai.pdf", PDF, "application/pdf")})
            assert done.status_code == 303, done.text[:500]
            shown = client.get(f"{url}{done.headers['location']}").text
            assert "Đã xác nhận thực hiện" in shown and digest in shown and "biên-lai.pdf" in shown
            download = client.get(f"{url}/console/deadlines/{deadline}/receipts/{digest}")
            assert download.status_code == 200 and download.content == PDF
            assert download.headers["content-type"].startswith("application/pdf")
        assert [p.name for p in settings.evidence_path.rglob("*") if p.is_file()] == [digest]  # stored once
        assert client.get(f"{url}/console/deadlines/{comply}/receipts/{'0' * 64}").status_code == 404
        assert client.get(f"{url}/console/deadlines/{late_id(settings, world)}/receipts/{digest}").status_code == 404
        with httpx.Client(timeout=30) as stranger:  # logged out: to the login page, no file
            refused = stranger.get(f"{url}/console/deadlines/{comply}/receipts/{digest}", follow_redirects=False)
            assert refused.status_code == 303 and "/console/login" in refused.headers["location"]
        assert "/met\"" not in client.get(f"{url}/console/deadlines/{comply}").text  # closed: no form any more
    with session_scope(settings) as session:
        for deadline in (comply, remedial):
            row = session.get(Deadline, deadline)
            assert row is not None and row.status == DeadlineStatus.MET and row.met_on == today_in_vietnam()
        receipts = session.exec(select(AuditEvent).where(AuditEvent.action == "deadline_receipt")).all()
        assert {(e.entity_id, e.actor, e.data["sha256"]) for e in receipts} == {(comply, LEAD, digest),
                                                                                (remedial, LEAD, digest)}


def late_id(settings: Settings, world: dict[str, Any]) -> int:
    return deadline_id(settings, world["inspections"]["late"], DeadlineKind.VIOLATION_RECORD)


def test_complex_then_one_extension_only(settings: Settings, world: dict[str, Any]) -> None:
    decision = deadline_id(settings, world["inspections"]["recorded"], DeadlineKind.SANCTION_DECISION)
    with serving(settings) as url, httpx.Client(timeout=30) as client:
        console_login(client, url, LEAD, world["tokens"][LEAD])
        early = post_action(client, url, decision, "extend", {"months": "1", "reason": "Đặc biệt phức tạp"})
        assert early.status_code == 422 and "không gia hạn thời hạn 07 ngày làm việc" in early.text
        no_reason = post_action(client, url, decision, "complex", {"reason": ""})
        assert no_reason.status_code == 422 and "lý do" in no_reason.text
        assert post_action(client, url, decision, "complex", {"reason": "Cần giám định thiết bị"}).status_code == 303
        assert post_action(client, url, decision, "extend", {"months": "1", "reason": "Đặc biệt phức tạp"}).status_code == 303
        page = client.get(f"{url}/console/deadlines/{decision}").text
        assert "Đã gia hạn 01 tháng" in page and "/extend\"" not in page  # no form for a second one
        second = post_action(client, url, decision, "extend", {"months": "1", "reason": "Lần hai"})
        assert second.status_code == 409
        assert "đã được gia hạn một lần" in second.text and 'lang="vi"' in second.text
    with session_scope(settings) as session:
        row = session.get(Deadline, decision)
        assert row is not None and row.complex_case and row.extended_months == 1


def test_refusals_roles_csrf_and_cross_site(settings: Settings, world: dict[str, Any]) -> None:
    comply = deadline_id(settings, world["inspections"]["decided"], DeadlineKind.COMPLY)
    data = {"on": today_in_vietnam().isoformat(), "reason": "Biên lai"}
    with serving(settings) as url:
        with httpx.Client(timeout=30) as client:
            console_login(client, url, LEAD, world["tokens"][LEAD])
            assert client.post(f"{url}/console/deadlines/{comply}/met", data=data).status_code == 403  # no csrf
            wrong = client.get(f"{url}/console/deadlines/{late_id(settings, world)}").text  # another form's token
            assert client.post(f"{url}/console/deadlines/{comply}/met",
                               data={**data, "csrf": csrf_of(wrong, -1)}).status_code == 403
            token = csrf_of(client.get(f"{url}/console/deadlines/{comply}").text, -1)
            cross = client.post(f"{url}/console/deadlines/{comply}/met", data={**data, "csrf": token},
                                headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
            assert cross.status_code == 403
        with httpx.Client(timeout=30) as official:
            code = official_code(settings)
            from tests.factories import create_token
            console_login(official, url, code, create_token(settings, code)[0])
            token = csrf_of(official.get(f"{url}/console/deadlines/{comply}").text, -1)
            for action in ("met", "complex", "explained", "extend"):
                refused = official.post(f"{url}/console/deadlines/{comply}/{action}", data={**data, "csrf": token})
                assert refused.status_code == 403, action
        with httpx.Client(timeout=30) as stranger:
            out = stranger.post(f"{url}/console/deadlines/{comply}/met", data=data, follow_redirects=False)
            assert out.status_code == 303 and "/console/login" in out.headers["location"]
            assert stranger.get(f"{url}/console/deadlines", follow_redirects=False).status_code == 303
        with httpx.Client(timeout=30) as inspector:  # an inspector's login goes to /form; the console stays shut
            console_login(inspector, url, INSPECTOR, world["tokens"][INSPECTOR])
            assert inspector.get(f"{url}/console/deadlines", follow_redirects=False).status_code == 303
    with session_scope(settings) as session:
        row = session.get(Deadline, comply)
        assert row is not None and row.status == DeadlineStatus.OPEN


# --------------------------------------------------------------------------- Done-when 4


def trail(settings: Settings) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The audit rows about deadlines and the deadlines, without ids and timestamps."""
    with session_scope(settings) as session:
        events = [(e.actor, e.action, e.entity_type, e.entity_id, e.from_state, e.to_state, e.reason, e.data)
                  for e in session.exec(select(AuditEvent).where(AuditEvent.entity_type == "deadline")
                                        .order_by(col(AuditEvent.id))).all()]
        rows = [tuple(str(getattr(d, k)) for k in Deadline.model_fields if k not in ("created_at", "updated_at"))
                for d in session.exec(select(Deadline).order_by(col(Deadline.id))).all()]
    return events, rows


@pytest.fixture
def second_copy(tmp_path: Path, new_database: Callable[[], str | None], migrated: Callable[[Settings], Settings],
                worlds: Worlds, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Another copy of the same world, which the CLI (``get_settings()`` from the environment) works on."""
    other = migrated(make_settings(tmp_path / "cli" / "data", database_url=new_database()))
    worlds.copy(other, deadline_world)
    monkeypatch.setenv("KIEMTRA_DATA_DIR", str(other.data_dir))
    if other.database_url:
        monkeypatch.setenv("KIEMTRA_DATABASE_URL", other.database_url)
    get_settings.cache_clear()
    return other


def test_console_posts_leave_the_clis_trail(settings: Settings, world: dict[str, Any], second_copy: Settings,
                                            tmp_path: Path) -> None:
    from services.entry.cli.app import app

    receipt = tmp_path / "bien-lai.pdf"  # the console's upload and `--receipt`: the same file, the same audit rows
    receipt.write_bytes(PDF)

    ins = world["inspections"]
    comply = deadline_id(settings, ins["decided"], DeadlineKind.COMPLY)
    send = deadline_id(settings, ins["decided"], DeadlineKind.SEND_DECISION)
    decision = deadline_id(settings, ins["recorded"], DeadlineKind.SANCTION_DECISION)
    today = today_in_vietnam().isoformat()
    steps = [  # (console action, deadline, form; the same through the CLI)
        ("met", comply, {"on": today, "reason": "Biên lai thu tiền phạt số 77"},
         ["deadlines", "met", str(comply), "--on", today, "--reason", "Biên lai thu tiền phạt số 77", "--by", LEAD,
          "--receipt", str(receipt)]),
        ("met", send, {"on": today, "reason": "Có ký nhận", "via": "post"},
         ["deadlines", "met", str(send), "--on", today, "--reason", "Có ký nhận", "--via", "post", "--by", LEAD]),
        ("explained", decision, {"on": today, "kind": "written", "reason": "Công ty gửi văn bản giải trình"},
         ["deadlines", "explained", str(ins["recorded"]), "--on", today, "--kind", "written", "--reason",
          "Công ty gửi văn bản giải trình", "--by", LEAD]),
        ("extend", decision, {"months": "1", "reason": "Cần thêm thời gian xác minh"},
         ["deadlines", "extend", str(ins["recorded"]), "--months", "1", "--reason", "Cần thêm thời gian xác minh",
          "--by", LEAD]),
    ]
    assert trail(settings) == trail(second_copy)
    with serving(settings) as url, httpx.Client(timeout=30) as client:
        console_login(client, url, LEAD, world["tokens"][LEAD])
        for action, deadline, form, _ in steps:
            files = {"receipt": ("bien-lai.pdf", PDF, "application/pdf")} if deadline == comply else None
            assert post_action(client, url, deadline, action, form, files).status_code == 303, action
    runner = CliRunner()
    for _, _, _, argv in steps:
        result = runner.invoke(app, argv)
        assert result.exit_code == 0, result.output
    console_events, console_rows = trail(settings)
    cli_events, cli_rows = trail(second_copy)
    assert console_rows == cli_rows
    assert console_events == cli_events
    assert len([e for e in console_events if e[0] == LEAD]) >= 6
    assert [e[3] for e in cli_events if e[1] == "deadline_receipt"] == [comply]
    assert hashlib.sha256(PDF).hexdigest() in {p.name for p in second_copy.evidence_path.rglob("*")}


# --------------------------------------------------------------------------- Chromium


def test_pages_in_chromium(settings: Settings, world: dict[str, Any], browser: Any, tmp_path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    comply = deadline_id(settings, world["inspections"]["decided"], DeadlineKind.COMPLY)
    with serving(settings) as url:
        browser_login(browser, url, ADMIN, world["tokens"][ADMIN])
        for width in (390, 1280):
            at_width(browser, width)
            for name, path in (("bang-han", "/console/deadlines"), ("han", f"/console/deadlines/{comply}"),
                               ("nguoi", "/console/people")):
                browser.get(f"{url}{path}")
                assert "Không có quyền" not in browser.page_source
                no_horizontal_scroll(browser)
                screenshot(browser, tmp_path / f"{name}-{width}.png")
                assert axe_violations(browser) == [], (path, width)
            browser.find_element(By.ID, f"mo-cap-{INSPECTOR}").click()  # issue a token: shown once, with its QR code
            follow(browser, f"cap-{INSPECTOR}")
            assert "MỘT LẦN" in browser.page_source and "<svg" in browser.page_source
            no_horizontal_scroll(browser)
            screenshot(browser, tmp_path / f"ma-moi-{width}.png")
            assert axe_violations(browser) == [], ("token", width)
