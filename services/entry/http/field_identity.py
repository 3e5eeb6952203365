"""Who calls ``/form/api/*`` (the inspectors' offline field app, docs/field-offline.md): the ``/form`` web session's
cookie, never a bearer token, and the ``X-Kiemtra-Csrf`` header.

:func:`identify` is what both the body-limits middleware (POST/PUT: before any body byte is read) and the routes'
dependency (GET) ask. The checks, in order: a request from another site (``web_form.cross_site``) → 403; no web
session, or one that ended (logged out, expired, its token revoked) → 401; a missing or wrong CSRF header (the HMAC
``web_form.csrf_token(session_id, "api")``) → 403. ``GET /form/api/visits`` is the one request that needs no CSRF
header: it is a read that hands the token out (a shell cached before a new login still finds the new one there).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from http.cookies import CookieError, SimpleCookie
from typing import Any

from models import Person
from services.entry.http.web import COOKIE
from services.entry.http.web_form import cross_site, csrf_ok, csrf_token

CSRF_HEADER = "x-kiemtra-csrf"
CSRF_PURPOSE = "api"
PREFIX = "/form/api/"
NO_CSRF = frozenset({("GET", "/form/api/visits")})  # reads that hand the token out
SESSION_ENDED = "Phiên làm việc đã hết hạn. Hãy đăng nhập lại để gửi."
BAD_CSRF = "Yêu cầu thiếu mã chống giả mạo (X-Kiemtra-Csrf) hoặc mã không đúng; hãy tải lại ứng dụng."
CROSS_SITE = "Yêu cầu gửi từ một trang web khác ({why}) nên bị từ chối; hãy mở ứng dụng của hệ thống và thử lại."
NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class WebCaller:
    person: Person
    session_id: str
    session_expires_at: datetime

    @property
    def csrf(self) -> str:
        return csrf_token(self.session_id, CSRF_PURPOSE)


@dataclass(frozen=True)
class Refusal:
    status: int
    detail: str


def session_cookie(cookie_header: str) -> str:
    """The web session's id from a ``Cookie`` header ("" when absent or unreadable)."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header)
    except CookieError:
        return ""
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else ""


def identify(tokens: Any, headers: dict[str, str], *, method: str, path: str, own_url: str) -> WebCaller | Refusal:
    """The caller of a ``/form/api/`` request (``headers``: lower-case names) or why it is refused.

    ``tokens`` is the app's ``deps.TokenLookup`` (one index probe; a database error propagates and is answered as
    every database failure is)."""
    why = cross_site(headers, own_url)
    if why is not None:
        return Refusal(403, CROSS_SITE.format(why=why))
    session_id = session_cookie(headers.get("cookie", ""))
    found = tokens.web_session(session_id) if session_id else None
    if found is None:
        return Refusal(401, SESSION_ENDED)
    if (method, path) not in NO_CSRF and not csrf_ok(session_id, CSRF_PURPOSE, headers.get(CSRF_HEADER, "")):
        return Refusal(403, BAD_CSRF)
    person, expires_at = found
    return WebCaller(person=person, session_id=session_id, session_expires_at=expires_at)
