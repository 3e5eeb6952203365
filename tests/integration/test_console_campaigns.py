"""The console's campaign pages: the list, creating a campaign through the page (the same database state and audit
trail as ``ensure_campaign``, the CLI's function, on a copy of the same world), the form's refusals, the dashboard
(stages, counts per team and per commune, what each inspection waits for), and the run button (the run-campaign
flow in this process, as ``kiemtra campaign run``; here with the real flow against the session's Prefect server)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from models import Agency, AuditEvent, Campaign, Inspection
from services.db import session_scope
from services.entry.http.console.campaign_forms import parse_vn_date
from services.entry.http.console.runner import CampaignRuns
from services.settings import Settings
from services.stages.planning import ensure_campaign
from tests.cases import visit
from tests.conftest import Worlds, make_settings
from tests.console_support import console_login, csrf_of, serving
from tests.factories import create_scheduled_campaign, create_world, team_inspections

FORM = {"title": "Kiểm tra liên ngành về an toàn, vệ sinh lao động năm 2027", "code": "KT-2027",
        "start": "01/03/2027", "end": "30/06/2027", "quota": "12", "teams": "2", "member.SYT": "1",
        "plan_number": "115/KH-UBND", "plan_date": "15/01/2027"}


def small_world(settings: Settings) -> dict[str, str]:
    return create_world(settings, establishments=60)


def dashboard_world(settings: Settings) -> dict[str, Any]:
    tokens = create_scheduled_campaign(settings, code="DASH-01", quota=6, teams=2)
    first = team_inspections(settings)["SNV-TT01"][0]
    visit(settings, first, on=date(2026, 4, 20), client_id="dash-00001", inspector="SNV-TT01")
    return {"tokens": tokens, "submitted": first}


@pytest.fixture
def served(settings: Settings, worlds: Worlds) -> Iterator[tuple[str, dict[str, str]]]:
    tokens = worlds.copy(settings, small_world)
    with serving(settings) as url:
        yield url, tokens


def rows(settings: Settings) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    with session_scope(settings) as s:
        campaign = s.exec(select(Campaign)).one()
        data = {name: getattr(campaign, name) for name in Campaign.model_fields if name not in ("id", "created_at")}
        events = [(e.actor, e.action, e.entity_type, e.entity_id, e.from_state, e.to_state, e.reason, e.data)
                  for e in s.exec(select(AuditEvent).where(AuditEvent.action == "campaign_created")
                                  .order_by(col(AuditEvent.id))).all()]
    return data, events


def test_dates_the_vietnamese_way() -> None:
    assert parse_vn_date("02/03/2026") == date(2026, 3, 2) == parse_vn_date("2/3/2026") == parse_vn_date("2026-03-02")
    assert parse_vn_date("31/02/2026") is None and parse_vn_date("03-2026") is None and parse_vn_date("") is None


def test_create_through_the_page_is_the_cli_function(served: tuple[str, dict[str, str]], settings: Settings,
                                                      worlds: Worlds, tmp_path: Path, migrated: Any,
                                                      new_database: Any) -> None:
    url, tokens = served
    with httpx.Client(timeout=30) as http:
        console_login(http, url, "SNV-LEAD", tokens["SNV-LEAD"])
        page = http.get(f"{url}/console/campaigns/new")
        assert page.status_code == 200 and "SỞ Y TẾ" in page.text
        done = http.post(f"{url}/console/campaigns/new", data={**FORM, "csrf": csrf_of(page.text, -1)},
                         follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/console/campaigns/KT-2027?moi=1"
        board = http.get(f"{url}/console/campaigns/KT-2027?moi=1")
        assert board.status_code == 200 and "Đã lập đợt kiểm tra KT-2027" in board.text
        assert "115/KH-UBND" in board.text and "15/01/2027" in board.text
        listed = http.get(f"{url}/console/campaigns")
        assert "KT-2027" in listed.text and FORM["title"] in listed.text
        again = http.post(f"{url}/console/campaigns/new", data={**FORM, "csrf": csrf_of(page.text, -1)})
        assert again.status_code == 409 and "Đã có đợt kiểm tra mã KT-2027" in again.text
    by_page = rows(settings)

    # a second copy of the same world, where the CLI's function creates the same campaign
    other = migrated(make_settings(tmp_path / "cli" / "data", database_url=new_database()))
    worlds.copy(other, small_world)
    with session_scope(other) as s:
        lead = s.exec(select(Agency).where(Agency.code == "SNV")).one()
        ensure_campaign(s, code="KT-2027", title=FORM["title"], lead=lead, members=["SYT"],
                        province_code=lead.province_code, period_start=date(2027, 3, 1), period_end=date(2027, 6, 30),
                        quota=12, teams=2, actor="SNV-LEAD", plan_number="115/KH-UBND", plan_on=date(2027, 1, 15))
    assert rows(other) == by_page
    data, events = by_page
    assert data["plan_number"] == "115/KH-UBND" and data["plan_on"] == date(2027, 1, 15)
    assert data["legal_basis"][0] == "Kế hoạch số 115/KH-UBND ngày 15/01/2027"
    assert events[0][0] == "SNV-LEAD" and data["created_by"] == "SNV-LEAD"


def test_the_form_says_what_is_wrong(served: tuple[str, dict[str, str]], settings: Settings) -> None:
    url, tokens = served
    with httpx.Client(timeout=30) as http:
        console_login(http, url, "SNV-LEAD", tokens["SNV-LEAD"])
        page = http.get(f"{url}/console/campaigns/new")
        bad = {**FORM, "start": "2027/03/01", "end": "28/02/2027", "quota": "0", "code": "kt 2027",
               "plan_number": "", "csrf": csrf_of(page.text, -1)}
        refused = http.post(f"{url}/console/campaigns/new", data=bad)
        assert refused.status_code == 422
        for text in ("dd/mm/yyyy", "Số cơ sở kiểm tra phải là số nguyên", "mã đợt gồm", "số kế hoạch",
                     'aria-invalid="true"', 'value="28/02/2027"'):
            assert text in refused.text, text
        forged = http.post(f"{url}/console/campaigns/new", data={**FORM, "csrf": "x"})
        assert forged.status_code == 403
    with session_scope(settings) as s:
        assert s.exec(select(Campaign)).all() == []


def test_an_official_may_not_create_or_run(served: tuple[str, dict[str, str]], settings: Settings) -> None:
    url, tokens = served
    with httpx.Client(timeout=30) as http:
        console_login(http, url, "SNV-GD", tokens["SNV-GD"])
        assert http.get(f"{url}/console/campaigns").status_code == 200
        page = http.get(f"{url}/console/campaigns/new")
        assert page.status_code == 403 and "không có quyền" in page.text
        home = http.get(f"{url}/console/")
        posted = http.post(f"{url}/console/campaigns/new", data={**FORM, "csrf": csrf_of(home.text, 0)})
        assert posted.status_code == 403
        ran = http.post(f"{url}/console/campaigns/KT-2027/run", data={"csrf": csrf_of(home.text, 0)})
        assert ran.status_code == 404  # no such campaign: the access rule (access_rules.check_visible) answers first
        assert http.get(f"{url}/console/campaigns/KHONG-CO").status_code == 404


@pytest.fixture
def dash(settings: Settings, worlds: Worlds) -> Iterator[tuple[str, dict[str, Any], Any]]:
    world = worlds.copy(settings, dashboard_world)
    from services.entry.http.server import start_in_thread

    server = start_in_thread(settings)
    try:
        yield server.url, world, server.app
    finally:
        server.stop()


def test_the_dashboard(dash: tuple[str, dict[str, Any], Any], settings: Settings) -> None:
    url, world, _ = dash
    with httpx.Client(timeout=30) as http:
        console_login(http, url, "SNV-LEAD", world["tokens"]["SNV-LEAD"])
        page = http.get(f"{url}/console/campaigns/DASH-01")
        assert page.status_code == 200
        for text in ("Theo đoàn kiểm tra", "Theo xã, phường", "Đoàn kiểm tra liên ngành số 1", "chờ duyệt kết quả",
                     "trưởng đoàn duyệt hoặc trả lại kết quả", "kết quả kiểm tra của đoàn", "Xã ",
                     f"/console/inspections/{world['submitted']}/findings", "Chạy các bước tiếp theo",
                     "trưởng đoàn duyệt kết quả kiểm tra của 1 cơ sở"):
            assert text in page.text, text
        only = http.get(f"{url}/console/campaigns/DASH-01?trang_thai=findings_submitted")
        assert only.text.count("href=\"/console/inspections/") == 1 and "1 cuộc kiểm tra — chờ duyệt kết quả" in only.text
    with session_scope(settings) as s:
        assert len(s.exec(select(Inspection)).all()) == 6


def test_the_run_button(dash: tuple[str, dict[str, Any], Any], settings: Settings) -> None:
    """The button starts a run in the background (here a stand-in runner; the real one is the run-campaign flow,
    tested by test_the_run_button_runs_the_flow) and the dashboard shows it running, then its outcome."""
    url, world, app = dash
    import threading

    gate = threading.Event()

    def runner(_settings: Settings, code: str) -> dict[str, Any]:
        gate.wait(30)
        return {"stages": [{"stage": "issue-records", "done": 0, "already": 0}], "state": {"waiting_for": ["việc thử"]}}

    app.state.campaign_runs = CampaignRuns(settings, runner)
    with httpx.Client(timeout=30) as http:
        console_login(http, url, "SNV-LEAD", world["tokens"]["SNV-LEAD"])
        page = http.get(f"{url}/console/campaigns/DASH-01")
        started = http.post(f"{url}/console/campaigns/DASH-01/run", data={"csrf": csrf_of(page.text, -1)},
                            follow_redirects=False)
        assert started.status_code == 303
        running = http.get(f"{url}/console/campaigns/DASH-01")
        assert "Đang chạy" in running.text and 'http-equiv="refresh"' in running.text
        twice = http.post(f"{url}/console/campaigns/DASH-01/run", data={"csrf": csrf_of(page.text, -1)})
        assert twice.status_code == 409
        gate.set()
        app.state.campaign_runs.wait("DASH-01")
        done = http.get(f"{url}/console/campaigns/DASH-01")
        assert "Lần chạy gần nhất xong" in done.text and "Ban hành biên bản" in done.text
    with session_scope(settings) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "campaign_run_requested")).all()
        assert [(e.actor, e.entity_type) for e in events] == [("SNV-LEAD", "campaign")]


def test_the_run_button_runs_the_flow(dash: tuple[str, dict[str, Any], Any], settings: Settings,
                                      prefect_server: Any) -> None:
    """The real runner: the run-campaign flow in this process (as ``kiemtra campaign run``)."""
    url, world, app = dash
    with httpx.Client(timeout=30) as http:
        console_login(http, url, "SNV-LEAD", world["tokens"]["SNV-LEAD"])
        page = http.get(f"{url}/console/campaigns/DASH-01")
        http.post(f"{url}/console/campaigns/DASH-01/run", data={"csrf": csrf_of(page.text, -1)})
        record = app.state.campaign_runs.wait("DASH-01", timeout=300)
        assert record is not None and record.state == "done", record
        done = http.get(f"{url}/console/campaigns/DASH-01")
        assert "Lần chạy gần nhất xong" in done.text
        assert "trưởng đoàn duyệt kết quả kiểm tra của 1 cơ sở" in done.text
