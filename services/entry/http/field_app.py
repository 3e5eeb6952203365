"""The inspectors' offline field app (issue 16, docs/field-offline.md): its shell, service worker, manifest and
static files. The app itself is plain JavaScript under ``templates/web/field/`` (no build chain); the data it
reads and writes goes through ``/form/api/*`` (:mod:`services.entry.http.field_api`).

* ``GET /form/app/`` — the shell, for a logged-in web session (the ``/form`` cookie); 303 to the login page
  without one (offline, the service worker answers with the cached shell). It carries the session's ``api`` CSRF
  token (``X-Kiemtra-Csrf``) and its ``logout`` one in ``<meta>`` tags.
* ``GET /form/sw.js`` — the service worker (scope ``/form/``), ``no-cache``; its cache name is a digest of the
  static files, so a change to any of them installs a new worker that precaches the new files.
* ``GET /form/manifest.webmanifest`` and ``GET /form/static/{name}`` for a fixed allow-list of files.

Every answer's Content-Security-Policy allows this origin only, and no inline script or style.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from services.entry.http.web import COOKIE, _person, _session, _templates
from services.entry.http.web_form import csrf_token
from services.settings import TEMPLATES_DIR

router = APIRouter(prefix="/form", tags=["field app"], include_in_schema=False)

FIELD_DIR = TEMPLATES_DIR / "web" / "field"
CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' blob: data:; worker-src 'self'; "
       "manifest-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Content-Security-Policy": CSP}
# name → media type: nothing else under templates/web/field/ is served (app.html is rendered, sw.js has its route)
STATIC = {"app.js": "text/javascript", "store.js": "text/javascript", "outbox.js": "text/javascript",
          "photos.js": "text/javascript", "app.css": "text/css", "icon-192.png": "image/png",
          "icon-512.png": "image/png", "icon.svg": "image/svg+xml"}
APP_NAME = "Kiểm tra ATVSLĐ — hiện trường"
THEME = "#0b4f8a"
VERSION_MARK = "__KIEMTRA_FIELD_VERSION__"
LOGIN = "/form/login?next=/form/app/"


@lru_cache(maxsize=1)
def field_version() -> str:
    """A digest of the shell's template and the static files: the service worker's cache name changes with them."""
    digest = hashlib.sha256()
    for name in ["app.html", "sw.js", *sorted(STATIC)]:
        digest.update(name.encode() + b"\0" + (FIELD_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


@router.get("/app/", response_class=HTMLResponse)
def shell(request: Request) -> Response:
    token = request.cookies.get(COOKIE)
    with _session(request) as db:
        person = _person(db, token)
    if person is None or token is None:
        return RedirectResponse(LOGIN, status_code=303, headers={"Cache-Control": "no-store"})
    html = _templates().get_template("field/app.html").render(
        person=person, api_csrf=csrf_token(token, "api"), logout_csrf=csrf_token(token, "logout"),
        version=field_version())
    return HTMLResponse(html, headers={**HEADERS, "Cache-Control": "no-store"})


@router.get("/sw.js")
def service_worker() -> Response:
    script = (FIELD_DIR / "sw.js").read_text(encoding="utf-8").replace(VERSION_MARK, field_version())
    return Response(script, media_type="text/javascript",
                    headers={**HEADERS, "Cache-Control": "no-cache", "Service-Worker-Allowed": "/form/"})


@router.get("/manifest.webmanifest")
def manifest() -> Response:
    icons = [{"src": f"/form/static/icon-{size}.png", "sizes": f"{size}x{size}", "type": "image/png",
              "purpose": purpose} for size in (192, 512) for purpose in ("any", "maskable")]
    icons.append({"src": "/form/static/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"})
    body = {"name": APP_NAME, "short_name": "Kiểm tra HT", "description": "Ghi kết quả kiểm tra tại hiện trường, "
            "cả khi không có mạng; gửi khi có mạng trở lại.", "id": "/form/app/", "start_url": "/form/app/",
            "scope": "/form/", "display": "standalone", "lang": "vi", "dir": "ltr", "orientation": "portrait",
            "theme_color": THEME, "background_color": "#f3f5f7", "icons": icons}
    return JSONResponse(body, media_type="application/manifest+json", headers={**HEADERS, "Cache-Control": "no-cache"})


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    media_type = STATIC.get(name)
    if media_type is None:
        return Response("Không tìm thấy.", status_code=404, media_type="text/plain; charset=utf-8", headers=HEADERS)
    charset = "; charset=utf-8" if media_type.startswith("text/") or media_type.endswith("+xml") else ""
    return Response((FIELD_DIR / name).read_bytes(), media_type=media_type + charset,
                    headers={**HEADERS, "Cache-Control": "no-cache"})
