"""``kiemtra token …`` through typer's CliRunner, on the test's migrated database: issue (shown once), list (never
shows a token), rotate, expire, revoke, and the refusals in Vietnamese."""
from __future__ import annotations

import re

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from services.entry.cli.app import app
from models import AccessToken, AuditEvent
from services import access
from services.db import session_scope
from services.settings import Settings
from tests.factories import create_world


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The CLI's settings come from the environment: the test's data dir (its database URL on PostgreSQL)."""
    create_world(settings, establishments=40, teams=1)
    monkeypatch.setenv("KIEMTRA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KIEMTRA_ENVIRONMENT", "test")
    return CliRunner()


def run(cli: CliRunner, *args: str) -> tuple[int, str]:
    result = cli.invoke(app, ["token", *args], terminal_width=200)
    return result.exit_code, result.output


def shown_token(output: str) -> str:
    """The token printed on its own line after the 'shown once' notice."""
    lines = output.strip().splitlines()
    assert "chỉ hiển thị MỘT LẦN" in output and re.fullmatch(r"[A-Za-z0-9_-]{43}", lines[-1]), output
    return lines[-1]


def person_of(settings: Settings, token: str) -> str | None:
    with session_scope(settings) as session:
        person = access.person_for_token(session, token)
        return person.code if person else None


def test_issue_list_rotate_expire_revoke(cli: CliRunner, settings: Settings) -> None:
    code, out = run(cli, "issue", "--person", "snv-tt01", "--by", "SNV-LEAD", "--days", "30", "--label", "điện thoại")
    assert code == 0, out
    first = shown_token(out)
    assert person_of(settings, first) == "SNV-TT01"
    with session_scope(settings) as session:
        row = session.exec(select(AccessToken).where(AccessToken.token_hash == access.hash_token(first))).one()
    assert row.label == "điện thoại" and row.created_by == "SNV-LEAD" and row.expires_at is not None

    code, out = run(cli, "list", "--person", "SNV-TT01")
    assert code == 0 and first not in out and access.hash_token(first) not in out
    assert "điện thoại" in out and "còn hiệu lực" in out

    code, out = run(cli, "rotate", "--person", "SNV-TT01", "--by", "SNV-LEAD")
    assert code == 0, out
    second = shown_token(out)
    assert "Đã thu hồi 2 mã cũ" in out  # the demo's token and the one issued above
    assert (person_of(settings, first), person_of(settings, second)) == (None, "SNV-TT01")

    with session_scope(settings) as session:
        second_id = session.exec(select(AccessToken.id).where(AccessToken.token_hash == access.hash_token(second))).one()
    code, out = run(cli, "expire", str(second_id), "--on", "2020-01-01", "--by", "SNV-LEAD")
    assert code == 0 and "01/01/2020" in out, out
    assert person_of(settings, second) is None
    code, out = run(cli, "list", "--person", "SNV-TT01")
    assert "đã hết hạn" in out and "đã thu hồi" in out

    code, out = run(cli, "issue", "--person", "SNV-TT01", "--by", "SNV-LEAD")
    third = shown_token(out)
    code, out = run(cli, "revoke", "--person", "SNV-TT01", "--by", "SNV-LEAD", "--reason", "Nghỉ hưu")
    assert code == 0 and "Đã thu hồi 2 mã truy cập" in out, out  # the third, and the expired second
    assert person_of(settings, third) is None
    with session_scope(settings) as session:
        actions = session.exec(select(AuditEvent.action).where(AuditEvent.entity_type == "accesstoken",
                                                               AuditEvent.actor == "SNV-LEAD")).all()
    assert {"token_issued", "token_rotated", "token_expiry_set", "token_revoked"} <= set(actions)


def test_refusals_are_in_vietnamese_and_change_nothing(cli: CliRunner, settings: Settings) -> None:
    code, out = run(cli, "issue", "--person", "SNV-TT01", "--by", "NOBODY")
    assert code == 1 and "--by: không có cán bộ mã 'NOBODY'" in out
    code, out = run(cli, "issue", "--person", "SNV-TT99", "--by", "SNV-LEAD")
    assert code == 1 and "--person: không có cán bộ mã 'SNV-TT99'" in out
    code, out = run(cli, "issue", "--person", "SNV-TT01", "--by", "SNV-LEAD", "--days", "0")
    assert code == 1 and "số ngày hiệu lực phải từ 1 trở lên" in out
    code, out = run(cli, "revoke", "--by", "SNV-LEAD", "--reason", "x")
    assert code == 1 and "đúng một trong hai" in out
    code, out = run(cli, "revoke", "999", "--by", "SNV-LEAD", "--reason", "x")
    assert code == 1 and "Không có mã truy cập số 999" in out
    code, out = run(cli, "revoke", "--person", "SNV-TT01", "--by", "SNV-LEAD", "--reason", "  ")
    assert code == 1 and "cần ghi lý do" in out
    code, out = run(cli, "expire", "1", "--on", "01/02/2027", "--by", "SNV-LEAD")
    assert code == 1 and "--on: 01/02/2027" in out
    with session_scope(settings) as session:
        rows = session.exec(select(AccessToken)).all()
    assert all(r.revoked_at is None and r.expires_at is None for r in rows)  # only the demo's tokens, untouched
    assert person_of(settings, "x") is None
