"""The console's people and teams page (issue 15): agencies, people, teams per campaign, conflicts of interest and
tokens; a token issued by the admin is shown once (with its QR code) and works as a login, a revoked one does not;
leads read, officials, inspectors and visitors are refused; Done-when 4 against ``kiemtra token issue|revoke``."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from models import AccessToken, AuditEvent, Person, PersonRole
from services.db import session_scope
from services.settings import Settings, get_settings
from services.stages.declarations import declare_conflict
from tests.conftest import Worlds, make_settings
from tests.console_support import console_login, csrf_of, serving
from tests.factories import create_scheduled_campaign

CODE = "NGUOI-01"
ADMIN = "SNV-QT"
LEAD = "SNV-LEAD"
INSPECTOR = "SNV-TT01"
_TOKEN = re.compile(r'id="ma-moi" class="code" value="([^"]+)"')


def people_world(settings: Settings) -> dict[str, Any]:
    tokens = create_scheduled_campaign(settings, code=CODE)
    with session_scope(settings) as session:
        from models import Establishment
        tax_code = session.exec(select(Establishment.tax_code).order_by(col(Establishment.id))).first()
        official = session.exec(select(Person.code).where(Person.role == PersonRole.OFFICIAL)
                                .order_by(Person.code)).first()
    assert tax_code is not None and official is not None
    declare_conflict(settings, person_code="SYT-CV01", tax_code=tax_code, reason="Vợ là kế toán trưởng của công ty",
                     declared_on=date(2026, 2, 10), by="SNV-LEAD")
    return {"tokens": tokens, "tax_code": tax_code, "official": official}


@pytest.fixture
def world(settings: Settings, worlds: Worlds) -> dict[str, Any]:
    return worlds.copy(settings, people_world)


def issue_form(client: httpx.Client, url: str, person: str) -> dict[str, str]:
    """The hidden fields of the issue form for ``person`` as the people page shows it."""
    page = client.get(f"{url}/console/people").text
    form = re.search(rf'action="/console/people/{person}/tokens">\s*<input type="hidden" name="csrf" value="([^"]+)">'
                     rf'\s*<input type="hidden" name="sau" value="(\d+)">', page)
    assert form is not None
    return {"csrf": form.group(1), "sau": form.group(2)}


def issue(client: httpx.Client, url: str, person: str, **fields: str) -> httpx.Response:
    return client.post(f"{url}/console/people/{person}/tokens", data={**issue_form(client, url, person), **fields})


def revoke(client: httpx.Client, url: str, token_id: int, reason: str) -> httpx.Response:
    page = client.get(f"{url}/console/people").text
    token = re.search(rf'action="/console/tokens/{token_id}/revoke">\s*<input type="hidden" name="csrf" value="([^"]+)"',
                      page)
    assert token is not None
    return client.post(f"{url}/console/tokens/{token_id}/revoke", data={"csrf": token.group(1), "reason": reason},
                       follow_redirects=False)


def test_people_page_content(settings: Settings, world: dict[str, Any]) -> None:
    with serving(settings) as url, httpx.Client(timeout=30) as admin, httpx.Client(timeout=30) as lead:
        console_login(admin, url, ADMIN, world["tokens"][ADMIN])
        html = admin.get(f"{url}/console/people").text
        with session_scope(settings) as session:
            people = session.exec(select(Person)).all()
            assert people
            for person in people:
                assert f'id="nguoi-{person.code}"' in html and person.full_name in html
        assert "SỞ Y TẾ" in html and "Quản trị hệ thống" in html
        assert "Đoàn 1" in html and f"Trưởng đoàn: Nguyễn Văn Sơn ({INSPECTOR})" in html  # teams of the campaign
        assert "Vợ là kế toán trưởng của công ty" in html and world["tax_code"] in html  # a conflict of interest
        assert "còn hiệu lực" in html and "Cấp mã truy cập" in html and "Thu hồi" in html
        assert re.search(r'<td data-label="Điện thoại">0\d{9}</td>', html)  # phones
        console_login(lead, url, LEAD, world["tokens"][LEAD])
        read = lead.get(f"{url}/console/people")
        assert read.status_code == 200 and "Cấp mã truy cập" not in read.text and "Bạn chỉ xem" in read.text


def test_token_shown_once_works_then_revoked(settings: Settings, world: dict[str, Any]) -> None:
    official = world["official"]
    with serving(settings) as url, httpx.Client(timeout=30) as admin:
        console_login(admin, url, ADMIN, world["tokens"][ADMIN])
        issued = issue(admin, url, official, label="máy tính bảng", days="30")
        assert issued.status_code == 200, issued.text[:500]
        found = _TOKEN.search(issued.text)
        assert found is not None
        token = found.group(1)
        assert "MỘT LẦN" in issued.text and "<svg" in issued.text and issued.headers["cache-control"] == "no-store"
        with session_scope(settings) as session:
            row = session.exec(select(AccessToken).order_by(col(AccessToken.id).desc())).first()
            assert row is not None and row.created_by == ADMIN and row.label == "máy tính bảng"
            token_id = row.id
            assert token_id is not None
            stored = session.exec(select(AuditEvent).where(AuditEvent.action == "token_issued",
                                                           AuditEvent.entity_id == token_id)).one()
            assert token not in repr(stored.data) and token not in stored.reason
        assert token not in admin.get(f"{url}/console/people").text  # never again
        assert "đã thu hồi" not in admin.get(f"{url}/console/people").text
        with httpx.Client(timeout=30) as phone:  # it works as a login
            console_login(phone, url, official, token)
            assert phone.get(f"{url}/console/deadlines", follow_redirects=False).status_code == 200
            missing = revoke(admin, url, token_id, " ")
            assert missing.status_code == 422 and "lý do" in missing.text
            assert phone.get(f"{url}/console/deadlines", follow_redirects=False).status_code == 200
            done = revoke(admin, url, token_id, "Mất máy tính bảng")
            assert done.status_code == 303
            assert phone.get(f"{url}/console/deadlines", follow_redirects=False).status_code == 303  # session ended
        assert "đã thu hồi" in admin.get(f"{url}/console/people").text
        with httpx.Client(timeout=30) as again:
            page = again.get(f"{url}/console/login")
            refused = again.post(f"{url}/console/login", data={"csrf": csrf_of(page.text), "person_code": official,
                                                               "token": token}, follow_redirects=False)
            assert refused.status_code == 401


def test_refusals_for_everyone_but_the_admin(settings: Settings, world: dict[str, Any]) -> None:
    with serving(settings) as url:
        with httpx.Client(timeout=30) as admin:
            console_login(admin, url, ADMIN, world["tokens"][ADMIN])
            page = admin.get(f"{url}/console/people").text
            assert admin.post(f"{url}/console/people/{INSPECTOR}/tokens", data={"label": "x"}).status_code == 403  # no csrf
            good = re.search(rf'action="/console/people/{INSPECTOR}/tokens">\s*<input type="hidden" name="csrf" '
                             r'value="([^"]+)"', page)
            assert good is not None
            cross = admin.post(f"{url}/console/people/{INSPECTOR}/tokens", data={"csrf": good.group(1)},
                               headers={"Origin": "https://evil.example"})
            assert cross.status_code == 403
            other = admin.post(f"{url}/console/people/{LEAD}/tokens", data={"csrf": good.group(1)})  # another form's
            assert other.status_code == 403
        with httpx.Client(timeout=30) as lead:
            console_login(lead, url, LEAD, world["tokens"][LEAD])
            token = csrf_of(lead.get(f"{url}/console/people").text)
            assert lead.post(f"{url}/console/people/{INSPECTOR}/tokens", data={"csrf": token}).status_code == 403
            assert lead.post(f"{url}/console/tokens/1/revoke", data={"csrf": token, "reason": "x"}).status_code == 403
        with httpx.Client(timeout=30) as official:
            console_login(official, url, world["official"], world["tokens"][world["official"]])
            assert official.get(f"{url}/console/people").status_code == 403
            token = csrf_of(official.get(f"{url}/console/deadlines").text)
            assert official.post(f"{url}/console/people/{INSPECTOR}/tokens", data={"csrf": token}).status_code == 403
        with httpx.Client(timeout=30) as inspector:  # logged in to /form only: the console asks for a login
            console_login(inspector, url, INSPECTOR, world["tokens"][INSPECTOR])
            assert inspector.get(f"{url}/console/people", follow_redirects=False).status_code == 303
            out = inspector.post(f"{url}/console/tokens/1/revoke", data={"reason": "x"}, follow_redirects=False)
            assert out.status_code == 303 and "/console/login" in out.headers["location"]
        with httpx.Client(timeout=30) as stranger:
            assert stranger.get(f"{url}/console/people", follow_redirects=False).status_code == 303
            assert stranger.post(f"{url}/console/people/{INSPECTOR}/tokens", follow_redirects=False).status_code == 303
    with session_scope(settings) as session:  # nothing issued nor revoked
        assert not session.exec(select(AuditEvent).where(col(AuditEvent.actor).in_([LEAD, world["official"], INSPECTOR]),
                                                         col(AuditEvent.action).like("token_%"))).all()
        assert all(t.revoked_at is None for t in session.exec(select(AccessToken)).all())


# --------------------------------------------------------------------------- Done-when 4


def trail(settings: Settings) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Token audit rows and tokens, without ids, timestamps and the (random) hashes."""
    with session_scope(settings) as session:
        events = [(e.actor, e.action, e.entity_type, e.entity_id, e.reason, e.data)
                  for e in session.exec(select(AuditEvent).where(col(AuditEvent.action).like("token_%"))
                                        .order_by(col(AuditEvent.id))).all()]
        tokens = [(t.id, t.person_id, t.label, t.created_by, t.expires_at is None, t.revoked_at is None, t.revoked_by,
                   t.revoke_reason) for t in session.exec(select(AccessToken).order_by(col(AccessToken.id))).all()]
    return events, tokens


@pytest.fixture
def second_copy(tmp_path: Path, new_database: Callable[[], str | None], migrated: Callable[[Settings], Settings],
                worlds: Worlds, monkeypatch: pytest.MonkeyPatch) -> Settings:
    other = migrated(make_settings(tmp_path / "cli" / "data", database_url=new_database()))
    worlds.copy(other, people_world)
    monkeypatch.setenv("KIEMTRA_DATA_DIR", str(other.data_dir))
    if other.database_url:
        monkeypatch.setenv("KIEMTRA_DATABASE_URL", other.database_url)
    get_settings.cache_clear()
    return other


def test_console_tokens_leave_the_clis_trail(settings: Settings, world: dict[str, Any], second_copy: Settings) -> None:
    from services.entry.cli.app import app

    assert trail(settings) == trail(second_copy)
    with serving(settings) as url, httpx.Client(timeout=30) as admin:
        console_login(admin, url, ADMIN, world["tokens"][ADMIN])
        assert issue(admin, url, INSPECTOR, label="điện thoại công vụ").status_code == 200
        new_id = trail(settings)[1][-1][0]
        assert revoke(admin, url, new_id, "Đổi điện thoại").status_code == 303
    runner = CliRunner()
    for argv in (["token", "issue", "--person", INSPECTOR, "--by", ADMIN, "--label", "điện thoại công vụ"],
                 ["token", "revoke", str(new_id), "--by", ADMIN, "--reason", "Đổi điện thoại"]):
        result = runner.invoke(app, argv)
        assert result.exit_code == 0, result.output
    assert trail(settings) == trail(second_copy)


def test_reloading_the_issued_page_does_not_issue_a_second_token(settings: Settings, world: dict[str, Any]) -> None:
    """A reload of the answer page sends the same form again: refused (409, in Vietnamese), the first token the only
    one; a form shown after it issues the next."""
    official = world["official"]

    def count() -> int:
        with session_scope(settings) as session:
            person = session.exec(select(Person).where(Person.code == official)).one()
            return len(session.exec(select(AccessToken).where(AccessToken.person_id == person.id)).all())

    with serving(settings) as url, httpx.Client(timeout=30) as admin:
        console_login(admin, url, ADMIN, world["tokens"][ADMIN])
        before = count()
        form = {**issue_form(admin, url, official), "label": "điện thoại"}
        first = admin.post(f"{url}/console/people/{official}/tokens", data=form)
        assert first.status_code == 200 and _TOKEN.search(first.text)
        reload = admin.post(f"{url}/console/people/{official}/tokens", data=form)
        assert reload.status_code == 409 and "đã cấp mã truy cập số" in reload.text
        assert _TOKEN.search(reload.text) is None and count() == before + 1
        assert issue(admin, url, official, label="máy dự phòng").status_code == 200 and count() == before + 2
