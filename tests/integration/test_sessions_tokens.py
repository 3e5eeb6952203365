"""Server-side web sessions and managed API tokens (issue 13, points 5 and 7), over the real app on loopback.

The web form's cookie is a session id (its hash in ``websession``), never the API token; logout, a token's expiry,
revocation or rotation end what they should, on the form and on the API alike; a login from another site, or
without the login page's own CSRF token, is refused. Set-up: a province's people (``create_world``), no campaign.
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import select

from models import AccessToken, AuditEvent, Person, WebSession
from models.base import utcnow
from services import access
from services.db import alembic_config, get_engine, session_scope
from services.entry.http.deps import TokenLookup
from services.entry.http.server import start_in_thread
from services.entry.http.web_form import csrf_token
from services.settings import Settings
from tests.conftest import PostgresDatabases, make_settings
from tests.factories import create_token, create_world

COOKIE, LOGIN_COOKIE = "kiemtra_phien", "kiemtra_dang_nhap"


@dataclass
class Site:
    settings: Settings
    url: str
    tokens: dict[str, str]

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)  # type: ignore[arg-type]

    def api(self, token: str) -> int:
        with self.client() as http:
            return http.get("/api/inspections", headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.fixture
def site(settings: Settings) -> Iterator[Site]:
    tokens = create_world(settings, establishments=60, teams=2)
    server = start_in_thread(settings)
    try:
        yield Site(settings, server.url, tokens)
    finally:
        server.stop()


def hidden(html: str, name: str = "csrf") -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match is not None, html[:500]
    return match.group(1)


def log_in(http: httpx.Client, code: str, token: str, **headers: str) -> httpx.Response:
    """The login page, then its form posted back as a browser would (the pre-login cookie is in ``http``)."""
    page = http.get("/form/login")
    assert page.status_code == 200 and http.cookies.get(LOGIN_COOKIE)
    return http.post("/form/login", data={"csrf": hidden(page.text), "person_code": code, "token": token},
                     headers=headers)


def is_login_page(answer: httpx.Response) -> bool:
    return answer.status_code == 303 and answer.headers["location"] == "/form/login"


def test_the_cookie_is_a_session_that_logout_ends_and_never_a_token(site: Site) -> None:
    token = site.tokens["SNV-TT01"]
    with site.client() as browser:
        assert log_in(browser, "SNV-TT01", token).status_code == 303
        session_id = browser.cookies[COOKIE]
        assert session_id != token
        home = browser.get("/form/")
        assert home.status_code == 200 and "SNV-TT01" in home.text
        with session_scope(site.settings) as session:
            stored = session.exec(select(WebSession)).one()
        assert stored.session_hash == access.hash_token(session_id)  # only the hash is stored
        assert stored.expires_at - stored.created_at == timedelta(hours=12)

        # the session id as a bearer token: refused; the API token as the cookie: the login page
        assert site.api(session_id) == 401
        with site.client(cookies={COOKIE: token}) as forger:
            assert is_login_page(forger.get("/form/"))

        assert is_login_page(browser.post("/form/logout", data={"csrf": hidden(home.text)}))

    with session_scope(site.settings) as session:
        assert session.exec(select(WebSession)).one().revoked_at is not None
    with site.client(cookies={COOKIE: session_id}) as replay:  # the old cookie, kept by an attacker
        assert is_login_page(replay.get("/form/"))
    assert site.api(session_id) == 401
    assert site.api(token) == 200  # logging out of the form leaves the API token alone


def test_expired_and_revoked_tokens_are_refused_on_the_api_and_at_login(site: Site) -> None:
    expiring, expiring_id = create_token(site.settings, "SNV-TT02", days=30)
    revoked, revoked_id = create_token(site.settings, "SNV-TT02")
    assert site.api(expiring) == 200 and site.api(revoked) == 200
    browsers = [site.client(), site.client()]  # a web session opened with each token before it stops working
    for browser, token in zip(browsers, (expiring, revoked), strict=True):
        assert log_in(browser, "SNV-TT02", token).status_code == 303 and browser.get("/form/").status_code == 200
    with session_scope(site.settings) as session:
        access.expire(session, token_id=expiring_id, on=date.today() - timedelta(days=1), by="SNV-LEAD")
        access.revoke(session, token_id=revoked_id, by="SNV-LEAD", reason="Điện thoại bị mất")
    for browser in browsers:
        assert is_login_page(browser.get("/form/"))
        browser.close()
    for token in (expiring, revoked):
        assert site.api(token) == 401
        with site.client() as browser:
            answer = log_in(browser, "SNV-TT02", token)
            assert answer.status_code == 200 and "đã hết hạn hay bị thu hồi" in answer.text
            assert COOKIE not in browser.cookies
    assert site.api(site.tokens["SNV-TT02"]) == 200  # the person's other token still works


def test_rotation_refuses_the_old_token_and_ends_its_web_sessions(site: Site) -> None:
    old = site.tokens["SYT-CV01"]
    with site.client() as browser:
        assert log_in(browser, "SYT-CV01", old).status_code == 303
        assert browser.get("/form/").status_code == 200
        with session_scope(site.settings) as session:
            new, row, revoked = access.rotate(session, person=access.find_person(session, "SYT-CV01"), by="SNV-LEAD",
                                              days=90)
        assert [t.id for t in revoked] and row.id not in [t.id for t in revoked]
        assert (site.api(old), site.api(new)) == (401, 200)
        assert is_login_page(browser.get("/form/"))  # the session opened with the old token is over
        assert log_in(browser, "SYT-CV01", new).status_code == 303
        assert browser.get("/form/").status_code == 200


def test_a_web_session_past_its_expiry_shows_the_login_page(site: Site) -> None:
    with site.client() as browser:
        assert log_in(browser, "SNV-TT01", site.tokens["SNV-TT01"]).status_code == 303
        assert browser.get("/form/").status_code == 200
        with session_scope(site.settings) as session:
            web = session.exec(select(WebSession)).one()
            web.expires_at = utcnow() - timedelta(seconds=1)
            session.add(web)
        assert is_login_page(browser.get("/form/"))


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Origin": "null"},
                                     {"Sec-Fetch-Site": "cross-site"}, {"Referer": "http://evil.example/login"}],
                         ids=["origin", "null-origin", "sec-fetch-site", "referer"])
def test_a_login_from_another_site_is_refused(site: Site, headers: dict[str, str]) -> None:
    with site.client() as browser:
        answer = log_in(browser, "SNV-TT01", site.tokens["SNV-TT01"], **headers)
        assert answer.status_code == 403 and "trang web khác" in answer.text
        assert COOKIE not in browser.cookies
        # the same browser from the page itself: the server's own origin is accepted
        own = log_in(browser, "SNV-TT01", site.tokens["SNV-TT01"], Origin=site.url, **{"Sec-Fetch-Site": "same-origin"})
        assert own.status_code == 303
        home = browser.get("/form/")
        refused = browser.post("/form/logout", data={"csrf": hidden(home.text)}, headers=headers)
        assert refused.status_code == 403 and "trang web khác" in refused.text
        checklist = browser.post("/form/inspections/1", data={"client_submission_id": "web-x"}, headers=headers)
        assert checklist.status_code == 403 and "trang web khác" in checklist.text
        assert browser.get("/form/").status_code == 200  # a forged logout ended nothing
    with session_scope(site.settings) as session:
        assert session.exec(select(WebSession)).one().revoked_at is None


def test_a_login_without_the_login_pages_csrf_token_is_refused(site: Site) -> None:
    fields = {"person_code": "SNV-TT01", "token": site.tokens["SNV-TT01"]}
    with site.client() as browser:  # no login page, no pre-login cookie
        assert browser.post("/form/login", data={**fields, "csrf": "x" * 64}).status_code == 403
    with site.client() as browser:  # the page fetched, but the field left out or forged
        page = browser.get("/form/login")
        assert browser.post("/form/login", data=fields).status_code == 403
        forged = browser.post("/form/login", data={**fields, "csrf": csrf_token("another-nonce", "login")})
        assert forged.status_code == 403 and "mã chống giả mạo" in forged.text
        assert COOKIE not in browser.cookies
        assert browser.post("/form/login", data={**fields, "csrf": hidden(page.text)}).status_code == 303
    stale = f"{int(time.time()) - 16 * 60}.abcdefghijklmnop"  # a login page served 16 minutes ago
    with site.client(cookies={LOGIN_COOKIE: stale}) as browser:
        assert browser.post("/form/login", data={**fields, "csrf": csrf_token(stale, "login")}).status_code == 403
    with session_scope(site.settings) as session:
        assert len(session.exec(select(WebSession)).all()) == 1


def test_issue_rotate_expire_and_revoke_are_audited(site: Site) -> None:
    _, first = create_token(site.settings, "LDLD-CV01")
    with session_scope(site.settings) as session:
        person = access.find_person(session, "LDLD-CV01")
        _, rotated, _ = access.rotate(session, person=person, by="SNV-LEAD")
        access.expire(session, token_id=rotated.id, on=date(2027, 1, 1), by="SNV-LEAD")  # type: ignore[arg-type]
        access.revoke(session, person=person, by="SNV-LEAD", reason="Chuyển công tác")
        rows = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "accesstoken", AuditEvent.actor == "SNV-LEAD")
                            .order_by(AuditEvent.id)).all()
        expiry = session.get(AccessToken, rotated.id).expires_at  # type: ignore[union-attr]
    actions = [(e.action, e.entity_id) for e in rows]
    assert ("token_issued", first) in actions and ("token_rotated", rotated.id) in actions
    assert ("token_revoked", first) in actions and ("token_revoked", rotated.id) in actions
    assert ("token_expiry_set", rotated.id) in actions
    assert next(e for e in rows if e.action == "token_revoked" and e.entity_id == rotated.id).reason == "Chuyển công tác"
    assert expiry is not None and expiry.isoformat() == "2026-12-31T17:00:00+00:00"  # 00:00 in Việt Nam (UTC+7)
    assert site.api(site.tokens["LDLD-CV01"]) == 401  # the demo token was one of the person's: revoked as well


@pytest.fixture
def empty_database(postgres_databases: PostgresDatabases | None, tmp_path: Path) -> Iterator[Settings]:
    """Settings over a database with no schema at all (the migrations are run by the test)."""
    if postgres_databases is None:
        yield make_settings(tmp_path / "old")
        return
    url = postgres_databases.create(empty=True)
    try:
        yield make_settings(tmp_path / "old", database_url=url)
    finally:
        postgres_databases.drop(url)


def test_migration_0011_carries_an_existing_token_over(empty_database: Settings) -> None:
    settings, token = empty_database, "a-token-issued-before-0011"
    engine = get_engine(settings)
    with engine.connect() as conn:
        command.upgrade(alembic_config(settings, conn), "0010")
        conn.commit()
        conn.execute(sa.text("INSERT INTO agency (code, name, parent_name, kind, province_code, place) "
                             "VALUES ('SNV', 'SỞ NỘI VỤ', 'UBND TỈNH CAO BẰNG', 'labour', '04', 'Cao Bằng')"))
        conn.execute(sa.text("INSERT INTO person (code, full_name, agency_id, title, role, token_hash) VALUES "
                             "('SNV-TT09', 'Nông Văn A', (SELECT id FROM agency WHERE code = 'SNV'), 'Thanh tra viên', "
                             "'inspector', :digest), ('SNV-TT10', 'Bế Thị B', (SELECT id FROM agency WHERE code = 'SNV'), "
                             "'Thanh tra viên', 'inspector', NULL)"), {"digest": access.hash_token(token)})
        conn.commit()
        command.upgrade(alembic_config(settings, conn), "head")
        conn.commit()
        assert conn.execute(sa.text("SELECT count(*) FROM person WHERE token_hash IS NOT NULL")).scalar() == 0

    lookup = TokenLookup(engine)
    try:
        found = lookup.person(token)
    finally:
        lookup.close()
    assert found is not None and found.code == "SNV-TT09"
    with session_scope(settings) as session:
        rows = session.exec(select(AccessToken)).all()
        assert [(r.token_hash, r.expires_at, r.revoked_at) for r in rows] == [(access.hash_token(token), None, None)]
        assert access.person_for_token(session, token).code == "SNV-TT09"  # type: ignore[union-attr]

    with engine.connect() as conn:  # and back: 0010 finds the token on the person again
        command.downgrade(alembic_config(settings, conn), "0010")
        conn.commit()
        assert conn.execute(sa.text("SELECT code FROM person WHERE token_hash = :d"),
                            {"d": access.hash_token(token)}).scalar() == "SNV-TT09"
    engine.dispose()


def test_the_demo_stores_its_tokens_once_however_often_it_runs(settings: Settings) -> None:
    first = create_world(settings, establishments=20, teams=1)
    again = create_world(settings, establishments=20, teams=1)
    assert first == again
    with session_scope(settings) as session:
        rows = session.exec(select(AccessToken)).all()
        people = session.exec(select(Person)).all()
        issued = session.exec(select(AuditEvent).where(AuditEvent.action == "token_issued")).all()
    assert sorted(r.person_id for r in rows) == sorted(p.id for p in people)  # one row per person
    assert {r.token_hash for r in rows} == {access.hash_token(t) for t in first.values()}
    assert len(issued) == len(people)
