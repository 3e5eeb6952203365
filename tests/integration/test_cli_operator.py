"""The CLI as an operator uses it (issue 15, "the CLI stays for operators"): the ids a command needs shown where it
needs them, tables that do not cut a name with "…", a compact ``selection show``, the hint of the next step, and
``deadlines met --receipt FILE`` storing the receipt as the console's deadlines board does."""
from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from models import AuditEvent, Deadline, DeadlineKind, DeadlineStatus, Establishment, Inspection, Selection
from services.db import session_scope
from services.rules.calendar import today_in_vietnam
from services.settings import Settings, get_settings
from services.stages import deadlines as deadline_stage
from tests.cases import INSPECTOR, approve_and_draw_up, decide, visit, working_before
from tests.conftest import Worlds
from tests.factories import create_campaign, create_scheduled_campaign, create_world, team_inspections

CODE = "CLI-01"
PDF = b"%PDF-1.4\n% bien lai\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
FAILS = {"YT-01": {"workers_affected": 12, "note": "12 người lao động chưa được khám sức khỏe định kỳ."}}


def decided_world(settings: Settings) -> dict[str, Any]:
    """A scheduled campaign with one inspection decided 4 working days ago (compliance and sending are open)."""
    create_scheduled_campaign(settings, code=CODE)
    today = today_in_vietnam()
    first = team_inspections(settings)[INSPECTOR][0]
    visit(settings, first, on=working_before(today, 12), client_id="cli-a-0001", fails=FAILS)
    approve_and_draw_up(settings, first, working_before(today, 11))
    decide(settings, first, working_before(today, 4))
    deadline_stage.sweep(settings, today)
    return {"inspection": first}


def proposed_world(settings: Settings) -> None:
    """A campaign whose list is proposed, waiting for the lead's approval."""
    from services.stages import selection

    create_world(settings, establishments=400, teams=2)
    create_campaign(settings, code=CODE, quota=10, teams=2)
    selection.select_establishments(settings, CODE)


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("KIEMTRA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KIEMTRA_ENVIRONMENT", "test")
    get_settings.cache_clear()
    return CliRunner()


def run(cli: CliRunner, *argv: str, code: int = 0) -> str:
    from services.entry.cli.app import app

    result = cli.invoke(app, list(argv))
    assert result.exit_code == code, result.output
    assert unicodedata.is_normalized("NFC", result.output)
    return result.output


def flat(text: str) -> str:
    """Help text without its box and its line breaks (rich wraps it at the terminal's width)."""
    return " ".join(text.replace("│", " ").split())


def the_deadline(settings: Settings, inspection_id: int, kind: DeadlineKind) -> Deadline:
    with session_scope(settings) as session:
        return session.exec(select(Deadline).where(Deadline.inspection_id == inspection_id, Deadline.kind == kind)).one()


def establishment_of(settings: Settings, inspection_id: int) -> Establishment:
    with session_scope(settings) as session:
        inspection = session.get(Inspection, inspection_id)
        assert inspection is not None
        found = session.get(Establishment, inspection.establishment_id)
        assert found is not None
        return found


def test_deadlines_list_shows_the_ids_the_other_commands_need_whole(settings: Settings, worlds: Worlds,
                                                                    cli: CliRunner) -> None:
    world = worlds.copy(settings, decided_world)
    comply = the_deadline(settings, world["inspection"], DeadlineKind.COMPLY)
    place = establishment_of(settings, world["inspection"])
    out = run(cli, "deadlines", "list", "--campaign", CODE)
    assert "…" not in out and "Số" in out and "Cuộc KT" in out
    row = next(line for line in out.splitlines() if "Chấp hành quyết định" in line)  # one row per line, not folded
    assert f" {comply.id} " in row and f" {world['inspection']} " in row
    assert f"{place.name} ({place.tax_code})" in row
    assert "Quyết định xử phạt số" in row and "còn " in row
    assert "Tiếp theo:" in out and "kiemtra deadlines met SỐ" in out and "--receipt" in out
    help_met = flat(run(cli, "deadlines", "met", "--help"))
    assert "cột 'Số' của `kiemtra deadlines list`" in help_met and "--receipt" in help_met
    help_extend = flat(run(cli, "deadlines", "extend", "--help"))
    assert "cột 'Cuộc KT' của `kiemtra deadlines list`" in help_extend


def test_met_with_a_receipt_stores_it_as_the_console_does(settings: Settings, worlds: Worlds, cli: CliRunner,
                                                         tmp_path: Path) -> None:
    world = worlds.copy(settings, decided_world)
    comply = the_deadline(settings, world["inspection"], DeadlineKind.COMPLY)
    today = today_in_vietnam().isoformat()
    exe = tmp_path / "bien-lai.exe"
    exe.write_bytes(b"MZ\x90\x00")
    fake = tmp_path / "bien-lai-gia.pdf"
    fake.write_bytes(b"<html></html>")
    for bad in (exe, fake):
        refused = run(cli, "deadlines", "met", str(comply.id), "--on", today, "--reason", "Biên lai số 77",
                      "--receipt", str(bad), code=1)
        assert "Lỗi:" in refused
    assert the_deadline(settings, world["inspection"], DeadlineKind.COMPLY).status == DeadlineStatus.OPEN
    receipt = tmp_path / "biên-lai.pdf"
    receipt.write_bytes(PDF)
    out = run(cli, "deadlines", "met", str(comply.id), "--on", today, "--reason", "Biên lai số 77", "--receipt",
              str(receipt))
    digest = hashlib.sha256(PDF).hexdigest()
    assert f"thời hạn số {comply.id}" in out and "(đã thực hiện)" in out and digest in out
    assert "Tiếp theo:" in out
    with session_scope(settings) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "deadline",
                                                       AuditEvent.entity_id == comply.id)
                              .order_by(col(AuditEvent.id))).all()
    assert [e.action for e in events][-2:] == ["deadline_status", "deadline_receipt"]
    assert events[-1].data == {"sha256": digest, "size": len(PDF), "content_type": "application/pdf",
                               "name": "biên-lai.pdf"} and events[-1].actor == "SNV-LEAD"
    assert (settings.evidence_path / digest[:2] / digest[2:4] / digest).read_bytes() == PDF


def test_selection_show_is_compact_by_default_and_whole_with_all(settings: Settings, worlds: Worlds,
                                                                 cli: CliRunner) -> None:
    worlds.copy(settings, proposed_world)
    with session_scope(settings) as session:
        names = list(session.exec(select(Establishment.name, Establishment.tax_code)
                                  .join(Selection, col(Selection.establishment_id) == Establishment.id)
                                  .order_by(col(Selection.rank))).all())
    short = run(cli, "selection", "show", CODE, "--top", "3")
    assert "…" not in short and f"Đã in 3/{len(names)}" in short and f"kiemtra selection show {CODE} --all" in short
    assert all(tax in short for _, tax in names[:3]) and not any(tax in short for _, tax in names[3:])
    whole = run(cli, "selection", "show", CODE, "--all")
    assert "…" not in whole and "Đã in" not in whole
    lines = whole.splitlines()
    for name, tax in names:  # each establishment on one line, its name whole
        assert any(name in line and tax in line for line in lines), name
    assert "Tiếp theo:" in whole and f"kiemtra selection approve {CODE}" in whole
    assert "cột MST" in flat(run(cli, "selection", "change", "--help"))


def test_campaign_status_says_what_comes_next(settings: Settings, worlds: Worlds, cli: CliRunner) -> None:
    worlds.copy(settings, proposed_world)
    out = run(cli, "campaign", "status", CODE)
    assert "…" not in out and "Đang chờ: người chủ trì phê duyệt danh sách" in out
    assert "Tiếp theo:" in out and f"kiemtra selection approve {CODE} --by SNV-LEAD" in out
    assert f"/console/campaigns/{CODE}/selection" in out


def test_campaign_status_in_fieldwork_points_to_the_deadlines(settings: Settings, worlds: Worlds, cli: CliRunner) -> None:
    worlds.copy(settings, decided_world)
    out = run(cli, "campaign", "status", CODE)
    assert "Tiếp theo:" in out and f"kiemtra deadlines list --campaign {CODE}" in out
    assert "thanh tra viên gửi kết quả kiểm tra qua phiếu /form/" in out
