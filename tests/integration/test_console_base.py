"""The console's foundation (issue 15): login and logout with web sessions, where ``next`` may lead, an inspector
sent to /form, every console page closed to a logged-out visitor, CSRF and cross-site refusals, role checks, and the
Vietnamese error pages."""
from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import select

from models import PersonRole, WebSession
from services.db import session_scope
from services.entry.http import console
from services.entry.http.console import auth, base
from services.entry.http.console.base import ConsoleUser, require
from services.settings import Settings
from tests.conftest import Worlds
from tests.console_support import console_login, csrf_of, serving
from tests.factories import create_world

LEAD, OFFICIAL, ADMIN, INSPECTOR = "SNV-LEAD", "SNV-GD", "SNV-QT", "SNV-TT01"


def small_world(settings: Settings) -> dict[str, str]:
    return create_world(settings, establishments=50)


@pytest.fixture
def served(settings: Settings, worlds: Worlds) -> Iterator[tuple[str, dict[str, str]]]:
    tokens = worlds.copy(settings, small_world)
    with serving(settings) as url:
        yield url, tokens


def client() -> httpx.Client:
    return httpx.Client(timeout=30)


def console_get_paths() -> list[str]:
    """Every GET page of every console module (``console.ROUTERS``), path parameters given made-up values."""
    out = []
    for route in (r for router in console.ROUTERS for r in router.routes):
        path = getattr(route, "path", "")
        if path.startswith("/console") and "GET" in getattr(route, "methods", set()) and path != "/console/login":
            out.append(re.sub(r"\{[^}]*\}", "1", path.replace("{code}", "KHONG-CO")))
    return out


def test_safe_next_keeps_only_console_paths() -> None:
    assert auth.safe_next("/console/campaigns?x=1") == "/console/campaigns?x=1"
    assert auth.safe_next("/console") == "/console"
    for bad in ("https://evil.example/console/", "//evil.example/console/", "/\\evil.example", "/form/", "",
                "/console/../api/inspections", "javascript:alert(1)", "/consolex", "/console/login?next=/x",
                "/console/\r\nSet-Cookie: a=b", "http:/console/"):
        assert auth.safe_next(bad) == "/console/", bad


def test_login_logout_and_next(served: tuple[str, dict[str, str]], settings: Settings) -> None:
    url, tokens = served
    with client() as http:
        page = http.get(f"{url}/console/", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/console/login?next=/console/"
        login = http.get(f"{url}/console/login?next=/console/campaigns")
        assert login.status_code == 200 and 'lang="vi"' in login.text
        assert 'name="next" value="/console/campaigns"' in login.text
        wrong = http.post(f"{url}/console/login", data={"csrf": csrf_of(login.text), "person_code": LEAD,
                                                        "token": tokens[OFFICIAL], "next": ""})
        assert wrong.status_code == 401 and "không đúng" in wrong.text
        again = http.get(f"{url}/console/login")
        done = http.post(f"{url}/console/login", data={"csrf": csrf_of(again.text), "person_code": LEAD.lower(),
                                                       "token": tokens[LEAD], "next": "/console/campaigns"},
                         follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/console/campaigns"
        cookie = done.headers["set-cookie"]
        assert f"{base.COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert "Path=/console" in cookie
        home = http.get(f"{url}/console/")
        assert home.status_code == 200 and LEAD in home.text and "Việc cần làm" in home.text
        assert "default-src 'none'" in home.headers["content-security-policy"]
        out = http.post(f"{url}/console/logout", data={"csrf": csrf_of(home.text, 0)}, follow_redirects=False)
        assert out.status_code == 303 and out.headers["location"] == "/console/login"
        stolen = http.cookies.get(base.COOKIE)
        assert stolen is None
    with session_scope(settings) as s:
        assert all(w.revoked_at is not None for w in s.exec(select(WebSession)).all())


def test_next_elsewhere_goes_home(served: tuple[str, dict[str, str]]) -> None:
    url, tokens = served
    for target in ("https://evil.example/", "//evil.example/console/", "/api/inspections"):
        with client() as http:
            page = http.get(f"{url}/console/login")
            done = http.post(f"{url}/console/login", data={"csrf": csrf_of(page.text), "person_code": LEAD,
                                                           "token": tokens[LEAD], "next": target}, follow_redirects=False)
            assert done.headers["location"] == "/console/", target


def test_a_replayed_cookie_after_logout_is_dead(served: tuple[str, dict[str, str]]) -> None:
    url, tokens = served
    with client() as http:
        console_login(http, url, LEAD, tokens[LEAD])
        session_id = http.cookies[base.COOKIE]
        home = http.get(f"{url}/console/")
        http.post(f"{url}/console/logout", data={"csrf": csrf_of(home.text, 0)})
    with client() as thief:
        thief.cookies.set(base.COOKIE, session_id)
        assert thief.get(f"{url}/console/", follow_redirects=False).status_code == 303


def test_an_inspector_is_sent_to_the_form(served: tuple[str, dict[str, str]]) -> None:
    url, tokens = served
    with client() as http:
        page = http.get(f"{url}/console/login")
        done = http.post(f"{url}/console/login", data={"csrf": csrf_of(page.text), "person_code": INSPECTOR,
                                                       "token": tokens[INSPECTOR], "next": "/console/"},
                         follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/form/"
        assert base.COOKIE not in http.cookies
        form = http.get(f"{url}/form/")
        assert form.status_code == 200 and INSPECTOR in form.text
        # a console cookie made from the inspector's session id opens nothing in the console either
        http.cookies.set(base.COOKIE, http.cookies["kiemtra_phien"])
        refused = http.get(f"{url}/console/")
        assert refused.status_code == 403 and "/form/" in refused.text


def test_every_console_page_needs_a_login(served: tuple[str, dict[str, str]], settings: Settings) -> None:
    url, _ = served
    paths = console_get_paths()
    assert "/console/" in paths and "/console/campaigns" in paths
    with client() as http:
        for path in paths:
            answer = http.get(f"{url}{path}", follow_redirects=False)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/console/login?next="), path
        for path in ("/console/campaigns/new",):
            answer = http.post(f"{url}{path}", data={"csrf": "x"}, follow_redirects=False)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/console/login"), path


def test_csrf_and_cross_site_are_refused(served: tuple[str, dict[str, str]]) -> None:
    url, tokens = served
    with client() as http:
        page = http.get(f"{url}/console/login")
        no_csrf = http.post(f"{url}/console/login", data={"person_code": LEAD, "token": tokens[LEAD]})
        assert no_csrf.status_code == 403 and "chống giả mạo" in no_csrf.text
        cross = http.post(f"{url}/console/login", headers={"Origin": "https://evil.example"},
                          data={"csrf": csrf_of(page.text), "person_code": LEAD, "token": tokens[LEAD]})
        assert cross.status_code == 403 and "trang web khác" in cross.text
        console_login(http, url, LEAD, tokens[LEAD])
        home = http.get(f"{url}/console/")
        forged = http.post(f"{url}/console/logout", data={"csrf": "0" * 64}, follow_redirects=False)
        assert forged.status_code == 403
        site = http.post(f"{url}/console/logout", headers={"Sec-Fetch-Site": "cross-site"},
                         data={"csrf": csrf_of(home.text, 0)}, follow_redirects=False)
        assert site.status_code == 403
        assert http.get(f"{url}/console/").status_code == 200  # still logged in


def test_unknown_console_page_is_a_vietnamese_404(served: tuple[str, dict[str, str]]) -> None:
    url, tokens = served
    with client() as http:
        console_login(http, url, OFFICIAL, tokens[OFFICIAL])
        missing = http.get(f"{url}/console/khong-co-trang-nay")
        assert missing.status_code == 404 and "Không tìm thấy" in missing.text and OFFICIAL in missing.text
        api = http.get(f"{url}/api/khong-co")
        assert api.status_code == 404 and api.headers["content-type"].startswith("application/json")
        bad = http.get(f"{url}/console/inspections/abc/findings")  # a path parameter that is not a number
        assert bad.status_code == 422 and "không hợp lệ" in bad.text and bad.headers["content-type"].startswith("text/html")
        api_bad = http.get(f"{url}/api/inspections/abc")
        assert api_bad.status_code in (401, 422) and api_bad.headers["content-type"].startswith("application/json")


def test_require_and_admin() -> None:
    from models import Person
    from services.errors import Forbidden

    def user(role: PersonRole) -> ConsoleUser:
        return ConsoleUser(person=Person(code="X", full_name="X", agency_id=1, title="", role=role), session_id="s")

    require(user(PersonRole.LEAD), PersonRole.LEAD)
    require(user(PersonRole.ADMIN), PersonRole.LEAD)
    require(user(PersonRole.ADMIN))
    with pytest.raises(Forbidden):
        require(user(PersonRole.OFFICIAL), PersonRole.LEAD)
    with pytest.raises(Forbidden):
        require(user(PersonRole.LEAD))
    assert [n["label"] for n in base.nav_for(user(PersonRole.ADMIN), "/console/")][-1] == "Người và đoàn"
    assert "Người và đoàn" not in [n["label"] for n in base.nav_for(user(PersonRole.LEAD), "/console/")]
    assert user(PersonRole.LEAD).csrf("a") != user(PersonRole.LEAD).csrf("b")


def test_admin_logs_in(served: tuple[str, dict[str, str]]) -> None:
    url, tokens = served
    with client() as http:
        console_login(http, url, ADMIN, tokens[ADMIN])
        home = http.get(f"{url}/console/")
        assert home.status_code == 200 and "Người và đoàn" in home.text


def test_kiemtra_serve_is_a_command() -> None:
    from typer.testing import CliRunner

    from services.entry.cli.app import app

    shown = CliRunner().invoke(app, ["serve", "--help"])
    assert shown.exit_code == 0 and "/console" in shown.output and "/form" in shown.output


def test_refusals_outside_the_console_are_answered_as_before(settings: Settings) -> None:
    """A refusal leaking from an API route is still the API's 500 JSON (the console's handler only answers under
    /console); under /console the same refusal is the Vietnamese page with its status."""
    import threading
    import time

    import uvicorn

    from services.entry.http.app import create_app
    from services.entry.http.server import bind_socket
    from services.errors import Conflict

    app = create_app(settings)

    @app.get("/api/thu-loi")
    def boom() -> None:
        raise Conflict("xung đột thử")

    @app.get("/console/thu-loi")
    def boom_console() -> None:
        raise Conflict("xung đột thử")

    sock = bind_socket("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    url = "http://127.0.0.1:%d" % sock.getsockname()[1]
    try:
        with client() as http:
            # uvicorn closes the connection after an unhandled exception: a pooled connection reused for the next
            # request could meet that close (a reset under load), so this one is not kept
            api = http.get(f"{url}/api/thu-loi", headers={"Connection": "close"})
            assert api.status_code == 500 and api.headers["content-type"].startswith("application/json")
            page = http.get(f"{url}/console/thu-loi")
            assert page.status_code == 409 and "xung đột thử" in page.text and 'lang="vi"' in page.text
    finally:
        server.should_exit = True
        thread.join(10)
        app.state.tokens.close()
