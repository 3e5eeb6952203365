"""An explanation moves the decision's time limit only when received within its window (form MBB01 item 10; Luật
XLVPHC Art.66 cl.1, Art.65 cl.1 c) — through the stage, the CLI and the console alike.

Dates worked out by hand: the visit is Wed 29/04/2026 (30/04–03/05 off); the record is drawn up Thu 07/05. The
hearing may be asked for within 02 working days (Fri 08, Mon 11/05), a written explanation sent within 05 (08, 11, 12,
13, Thu 14/05); the decision is due within 07 working days (… Mon 18/05), or 1 month where the violator explains in
time (Sun 07/06 → Mon 08/06). "Today" is pinned to Wed 20/05/2026.
"""
from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from models import AuditEvent, Deadline, DeadlineKind, DeadlineStatus
from services.db import session_scope
from services.errors import Refused
from services.settings import Settings, get_settings
from services.stages import deadline_changes, deadlines
from tests.cases import INSPECTOR, approve_and_draw_up, d, pin_today, visit
from tests.console_support import console_login, serving
from tests.factories import create_scheduled_campaign, team_inspections
from tests.integration.test_console_deadlines import post_action
from tests.integration.test_decision_time_bar import record, refused

TODAY = d(20, 5)
LEAD = "SNV-LEAD"
LATE_NOTE = ("Giải trình nhận ngày 15/05/2026 sau thời hạn giải trình (gửi văn bản giải trình trong 05 ngày làm việc kể "
             "từ ngày lập biên bản, đến hết ngày 14/05/2026 — Điều 61 Luật Xử lý vi phạm hành chính (sửa đổi, bổ sung "
             "năm 2020)): được lưu vào hồ sơ nhưng không kéo dài thời hạn ra quyết định xử phạt")


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(monkeypatch, TODAY)


@pytest.fixture
def world(settings: Settings) -> tuple[dict[str, str], int]:
    """One file whose act (12 workers without health checks) gives the right to explain; record of 07/05, swept."""
    tokens = create_scheduled_campaign(settings, code="GTR-01")
    inspection_id = team_inspections(settings)[INSPECTOR][0]
    visit(settings, inspection_id, on=d(29, 4), client_id="gtr01-0001",
          fails={"YT-01": {"workers_affected": 12, "note": "12 người lao động chưa được khám sức khỏe định kỳ."}})
    approve_and_draw_up(settings, inspection_id, d(7, 5))
    deadlines.sweep(settings, d(7, 5))
    return tokens, inspection_id


def row(settings: Settings, kind: DeadlineKind, inspection_id: int) -> Deadline:
    with session_scope(settings) as session:
        return session.exec(select(Deadline).where(Deadline.kind == kind,
                                                   Deadline.subject_key == f"inspection:{inspection_id}")).one()


def stored(settings: Settings) -> tuple[list[Any], list[Any]]:
    with session_scope(settings) as session:
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
        rows = session.exec(select(Deadline).order_by(col(Deadline.id))).all()
        return ([(e.action, e.entity_id, e.reason) for e in events], [(x.kind, x.status, x.due_on, x.explained) for x in rows])


def explanation_events(settings: Settings) -> list[dict[str, Any]]:
    with session_scope(settings) as session:
        return [{"actor": e.actor, "reason": e.reason, **e.data} for e in session.exec(
            select(AuditEvent).where(AuditEvent.action == "explanation_recorded").order_by(col(AuditEvent.id)))]


def test_in_time_the_limit_becomes_one_month(settings: Settings, world: tuple[dict[str, str], int]) -> None:
    _, inspection_id = world
    with session_scope(settings) as session:
        got = deadline_changes.receive_explanation(session, inspection_id, actor=LEAD, kind="written", on=d(14, 5),
                                                   reason="Văn bản giải trình của công ty")
        assert got.extended and got.decision.due_on == d(8, 6)
        assert got.note_vi.startswith("Giải trình nhận ngày 14/05/2026 trong thời hạn giải trình (gửi văn bản giải trình "
                                      "trong 05 ngày làm việc kể từ ngày lập biên bản, đến hết ngày 14/05/2026")
    (event,) = explanation_events(settings)
    assert (event["actor"], event["reason"], event["outcome"], event["received_on"], event["recorded_on"]) == (
        LEAD, "Văn bản giải trình của công ty", "extended", "2026-05-14", "2026-05-20")
    record(settings, inspection_id, d(20, 5))  # after the 07 working days, within the month


def test_late_it_is_kept_but_extends_nothing(settings: Settings, world: tuple[dict[str, str], int]) -> None:
    _, inspection_id = world
    with session_scope(settings) as session:
        got = deadline_changes.receive_explanation(session, inspection_id, actor=LEAD, kind="written", on=d(15, 5),
                                                   reason="Văn bản giải trình gửi muộn")
        assert (got.extended, got.note_vi, got.decision.due_on) == (False, LATE_NOTE, d(18, 5))
    decision = row(settings, DeadlineKind.SANCTION_DECISION, inspection_id)
    assert (decision.due_on, decision.explained, decision.status) == (d(18, 5), False, DeadlineStatus.OPEN)
    (event,) = explanation_events(settings)
    assert (event["outcome"], event["note_vi"], event["window_last_day"], event["reason"]) == (
        "not_extended", LATE_NOTE, "2026-05-14", "Văn bản giải trình gửi muộn")
    written = row(settings, DeadlineKind.EXPLAIN_WRITTEN, inspection_id)
    assert (written.status, written.met_on) == (DeadlineStatus.MET, d(14, 5))
    assert "thời hạn ra quyết định xử phạt đã hết ngày 18/05/2026" in refused(settings, inspection_id, d(19, 5))
    record(settings, inspection_id, d(18, 5))  # the last of the 07 working days is still open


def test_a_late_hearing_request_leaves_the_written_window_running(settings: Settings,
                                                                  world: tuple[dict[str, str], int]) -> None:
    _, inspection_id = world
    with session_scope(settings) as session:
        late = deadline_changes.receive_explanation(session, inspection_id, actor=LEAD, kind="hearing", on=d(12, 5),
                                                    reason="Đơn yêu cầu giải trình trực tiếp")
        assert not late.extended and "đến hết ngày 11/05/2026" in late.note_vi and late.decision.due_on == d(18, 5)
    assert row(settings, DeadlineKind.EXPLAIN_HEARING, inspection_id).status == DeadlineStatus.MET
    assert row(settings, DeadlineKind.EXPLAIN_WRITTEN, inspection_id).status == DeadlineStatus.OPEN
    with session_scope(settings) as session:
        in_time = deadline_changes.receive_explanation(session, inspection_id, actor=LEAD, kind="written", on=d(13, 5),
                                                       reason="Văn bản giải trình")
        assert in_time.extended and in_time.decision.due_on == d(8, 6)
    written = row(settings, DeadlineKind.EXPLAIN_WRITTEN, inspection_id)
    assert (written.status, written.met_on) == (DeadlineStatus.MET, d(13, 5))
    assert [e["outcome"] for e in explanation_events(settings)] == ["not_extended", "extended"]


@pytest.mark.parametrize(("on", "why"), [
    (d(6, 5), "on: ngày nhận giải trình 06/05/2026 trước ngày lập biên bản vi phạm hành chính 07/05/2026"),
    (d(21, 5), "on: ngày nhận giải trình 21/05/2026 sau ngày hôm nay 20/05/2026")])
def test_a_receipt_before_the_record_or_in_the_future_is_refused(settings: Settings, world: tuple[dict[str, str], int],
                                                                 on: Any, why: str) -> None:
    _, inspection_id = world
    before = stored(settings)
    with session_scope(settings) as session, pytest.raises(Refused) as caught:
        deadline_changes.receive_explanation(session, inspection_id, actor=LEAD, kind="written", on=on, reason="Văn bản")
    assert caught.value.ids["errors"] == [why]
    assert stored(settings) == before


def use_cli_on(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("KIEMTRA_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("KIEMTRA_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    return CliRunner()


def test_console_and_cli_say_and_store_the_same(settings: Settings, world: tuple[dict[str, str], int],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from services.entry.cli.app import app

    tokens, inspection_id = world
    decision = row(settings, DeadlineKind.SANCTION_DECISION, inspection_id).id or 0
    runner = use_cli_on(settings, monkeypatch)
    before = stored(settings)
    with serving(settings) as url, httpx.Client(timeout=30) as client:
        console_login(client, url, LEAD, tokens[LEAD])
        for on, why in (("2026-05-21", "sau ngày hôm nay 20/05/2026"), ("2026-05-06", "trước ngày lập biên bản")):
            future = post_action(client, url, decision, "explained", {"on": on, "kind": "written", "reason": "Văn bản"})
            assert future.status_code == 422 and why in future.text
            cli = runner.invoke(app, ["deadlines", "explained", str(inspection_id), "--kind", "written", "--on", on,
                                      "--reason", "Văn bản"])
            assert cli.exit_code == 1 and why in " ".join(cli.output.split())
        no_kind = post_action(client, url, decision, "explained", {"on": "2026-05-12", "reason": "Văn bản"})
        assert no_kind.status_code == 422 and "hearing" in no_kind.text
        assert stored(settings) == before  # every refusal: nothing stored
        late = post_action(client, url, decision, "explained",
                           {"on": "2026-05-15", "kind": "written", "reason": "Văn bản giải trình gửi muộn"})
        assert late.status_code == 303
        assert LATE_NOTE in client.get(f"{url}{late.headers['location']}").text
    cli = runner.invoke(app, ["deadlines", "explained", str(inspection_id), "--kind", "written", "--on", "2026-05-15",
                              "--reason", "Văn bản giải trình gửi muộn", "--by", LEAD])
    assert cli.exit_code == 0 and LATE_NOTE in " ".join(cli.output.split()), cli.output
    console_event, cli_event = explanation_events(settings)
    assert console_event == cli_event and console_event["outcome"] == "not_extended"
    assert row(settings, DeadlineKind.SANCTION_DECISION, inspection_id).due_on == d(18, 5)
