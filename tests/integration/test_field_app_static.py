"""The offline field app's shell, service worker, manifest and static files (docs/field-offline.md,
services/entry/http/field_app.py), over HTTP without a browser: the shell needs a /form session, every answer's
Content-Security-Policy allows this origin only, the manifest and its icons, the service worker's type, scope and
cache headers, the static allow-list, and the shell's CSRF token working with /form/api. The app in Chromium is
tests/integration/test_field_offline.py."""
from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from PIL import Image

from services import access
from services.db import session_scope
from services.entry.http.field_app import FIELD_DIR, STATIC
from services.entry.http.server import start_in_thread
from services.settings import Settings
from tests.conftest import Worlds
from tests.factories import create_scheduled_campaign

CAMPAIGN = "FIELD-APP-01"
SAFE_CSP = {"default-src": "'none'", "script-src": "'self'", "connect-src": "'self'", "img-src": "'self' blob: data:",
            "worker-src": "'self'", "manifest-src": "'self'", "style-src": "'self'"}


@dataclass
class Site:
    url: str
    http: httpx.Client
    sid: str  # SNV-TT01's /form web session
    token: str  # SNV-TT01's API token (for logging in through the form)


@pytest.fixture
def site(settings: Settings, worlds: Worlds) -> Iterator[Site]:
    tokens = worlds.copy(settings, create_scheduled_campaign, code=CAMPAIGN)
    with session_scope(settings) as db:
        row = access.token_row(db, tokens["SNV-TT01"])
        assert row is not None
        sid = access.start_web_session(db, token=row)
    server = start_in_thread(settings)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield Site(server.url, http, sid, tokens["SNV-TT01"])
    finally:
        server.stop()


def csp(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (p.strip() for p in policy.split(";")) if part}


def cookie(sid: str) -> dict[str, str]:
    return {"Cookie": f"kiemtra_phien={sid}"}


def test_the_shell_needs_a_session_and_carries_the_tokens(site: Site) -> None:
    for headers in ({}, cookie("not-a-session")):
        refused = site.http.get("/form/app/", headers=headers, follow_redirects=False)
        assert refused.status_code == 303 and refused.headers["location"].startswith("/form/login")

    shell = site.http.get("/form/app/", headers=cookie(site.sid))
    assert shell.status_code == 200 and shell.headers["content-type"].startswith("text/html")
    assert shell.headers["cache-control"] == "no-store"
    html = shell.text
    assert '<html lang="vi">' in html and html.count("<h1") == 1
    assert '<meta name="viewport"' in html and '<link rel="manifest" href="/form/manifest.webmanifest">' in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None, "an inline script"
    assert "style=" not in html and "<style" not in html
    assert csp(shell).items() >= SAFE_CSP.items()
    for surface in ('id="storage-status"', 'id="network-status"', 'id="visits"', 'id="outbox"', 'id="sync-now"',
                    'id="logout"'):
        assert surface in html

    token = re.search(r'<meta name="kiemtra-csrf" content="([0-9a-f]{64})">', html)
    assert token is not None
    api = site.http.get("/form/api/visits", headers={**cookie(site.sid), "X-Kiemtra-Csrf": token.group(1)})
    assert api.status_code == 200 and api.json()["csrf"] == token.group(1)
    # the shell's token is what a write needs: an upload for an unknown submission is refused after identity
    # (404), while without the header it is refused before (403)
    status = "/form/api/submissions/unknown-submission-1"
    assert site.http.get(status, headers={**cookie(site.sid), "X-Kiemtra-Csrf": token.group(1)}).status_code == 404
    assert site.http.get(status, headers=cookie(site.sid)).status_code == 403


def test_the_manifest_names_the_app_and_its_icons(site: Site) -> None:
    answer = site.http.get("/form/manifest.webmanifest")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(answer.content.decode("utf-8"))
    assert manifest["name"] == "Kiểm tra ATVSLĐ — hiện trường" and manifest["short_name"]
    assert (manifest["start_url"], manifest["scope"], manifest["display"], manifest["lang"]) == (
        "/form/app/", "/form/", "standalone", "vi")
    assert manifest["theme_color"].startswith("#") and manifest["background_color"].startswith("#")
    pngs = [i for i in manifest["icons"] if i["type"] == "image/png"]
    assert {(i["sizes"], i["purpose"]) for i in pngs} >= {("192x192", "any"), ("512x512", "any"),
                                                         ("192x192", "maskable"), ("512x512", "maskable")}
    for icon in pngs:
        png = site.http.get(icon["src"])
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        with Image.open(io.BytesIO(png.content)) as image:
            assert image.format == "PNG" and f"{image.width}x{image.height}" == icon["sizes"]


def test_the_service_worker_is_served_for_the_form_scope_and_never_cached(site: Site) -> None:
    sw = site.http.get("/form/sw.js")
    assert sw.status_code == 200 and sw.headers["content-type"].split(";")[0] == "text/javascript"
    assert sw.headers["cache-control"] == "no-cache" and sw.headers["service-worker-allowed"] == "/form/"
    assert "__KIEMTRA_FIELD_VERSION__" not in sw.text
    version = re.search(r'const VERSION = "([0-9a-f]{16})"', sw.text)
    assert version is not None and "kiemtra-field-${VERSION}" in sw.text
    assert '"/form/api/"' in sw.text  # the API is left to the network
    assert csp(sw).items() >= SAFE_CSP.items()


def test_only_the_listed_static_files_are_served(site: Site) -> None:
    for name, media_type in STATIC.items():
        answer = site.http.get(f"/form/static/{name}")
        assert answer.status_code == 200, name
        assert answer.headers["content-type"].split(";")[0] == media_type
        assert answer.content == (FIELD_DIR / name).read_bytes()
        assert answer.headers["x-content-type-options"] == "nosniff"
    for name in ("app.html", "sw.js", "missing.js", "..%2Fbase.html", "%2e%2e%2fweb%2fbase.html", "APP.JS",
                 "app.js.map", "icon-192.png.bak"):
        assert site.http.get(f"/form/static/{name}").status_code == 404, name
    assert site.http.get("/form/static/../web/base.html").status_code == 404


def test_the_web_form_links_to_the_app(site: Site) -> None:
    page = site.http.get("/form/", headers=cookie(site.sid))
    assert page.status_code == 200
    assert '<a class="btn secondary" id="mo-ung-dung" href="/form/app/">Mở ứng dụng làm việc ngoại tuyến</a>' in page.text


def _log_in(site: Site, next_path: str | None) -> httpx.Response:
    page = site.http.get("/form/login", params={"next": next_path} if next_path is not None else None)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    shown = re.search(r'name="next" value="([^"]*)"', page.text)
    assert csrf and shown
    return site.http.post("/form/login", data={"csrf": csrf.group(1), "next": shown.group(1), "person_code": "SNV-TT01",
                                               "token": site.token}, headers={"Origin": site.url})


def test_a_phone_sent_to_log_in_by_the_app_comes_back_to_the_app_and_nowhere_else(site: Site) -> None:
    """The shell sends a logged-out phone to /form/login?next=/form/app/: after the login it is back in the app; any
    other target (another site, another path) leads to the day list."""
    shell = site.http.get("/form/app/")
    assert shell.status_code == 303 and shell.headers["location"] == "/form/login?next=/form/app/"
    assert _log_in(site, "/form/app/").headers["location"] == "/form/app/"
    for target in ("https://ke-xau.example/", "//ke-xau.example/form/app/", "/form/app/../login", "/console/", None):
        site.http.cookies.clear()
        answer = _log_in(site, target)
        assert answer.status_code == 303 and answer.headers["location"] == "/form/", target
