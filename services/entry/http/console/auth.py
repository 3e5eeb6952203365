"""Logging in and out of the console (``/console/login``, ``/console/logout``).

The same web sessions as ``/form`` (:mod:`services.access`), under the console's own cookie (``base.COOKIE``, path
``/console``, HttpOnly, SameSite=Strict). The login form carries a CSRF token keyed by a short-lived pre-login cookie;
a POST from another site is refused before its body is read. An inspector who logs in here is given a ``/form``
session instead and sent to ``/form/``. After login the browser goes to ``next`` only when it is a path of the
console (never another site: see :func:`safe_next`).
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from models import PersonRole
from services import access
from services.entry.http import web
from services.entry.http.console.base import (COOKIE, COOKIE_PATH, PREFIX, db, person_of_session,
                                              read_body, refuse_cross_site, render, see_other)
from services.entry.http.web_form import csrf_ok, csrf_token, login_nonce_ok, new_login_nonce
from services.errors import Forbidden

router = APIRouter(prefix="/console", include_in_schema=False)

LOGIN_COOKIE = "kiemtra_dang_nhap_bdk"  # the pre-login id the console's login form's CSRF token is keyed by
LOGIN_PATH = "/console/login"
LOGIN_FORM_SECONDS = 15 * 60
LOGIN_MAX_BYTES = 16 * 1024
HOME = "/console/"


def safe_next(target: str) -> str:
    """``target`` when it is a local console path (``/console`` or below, no scheme, host or backslash), else home."""
    if not target or any(c in target for c in "\\\r\n\t") or not target.startswith("/") or target.startswith("//"):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return HOME
    if parts.path != PREFIX and not parts.path.startswith(PREFIX + "/"):
        return HOME
    if parts.path.startswith(LOGIN_PATH) or "/../" in parts.path + "/" or "/./" in parts.path + "/":
        return HOME
    return target


def login_form(request: Request, *, next_path: str = "", error: str = "", person_code: str = "",
               status: int = 200) -> HTMLResponse:
    """The login page with a fresh pre-login cookie and its CSRF token in a hidden field."""
    nonce = new_login_nonce(time.time())
    response = render(request, None, "console/login.html", status=status, error=error, person_code=person_code,
                      next_path=safe_next(next_path), login_csrf=csrf_token(nonce, "login"))
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=LOGIN_FORM_SECONDS, path=LOGIN_PATH, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "") -> Response:  # noqa: A002 - the query parameter's name
    if person_of_session(request, request.cookies.get(COOKIE, "")) is not None:
        return see_other(safe_next(next))
    return login_form(request, next_path=next)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    refuse_cross_site(request)
    form = await read_body(request, max_bytes=LOGIN_MAX_BYTES)
    if not login_nonce_ok(request.cookies.get(LOGIN_COOKIE, ""), form.get("csrf"), now=time.time(),
                          max_age_s=LOGIN_FORM_SECONDS):
        raise Forbidden("Trang đăng nhập đã quá hạn hoặc biểu mẫu không do hệ thống cấp (thiếu mã chống giả mạo); "
                        "hãy mở lại trang đăng nhập rồi đăng nhập.")
    code, token = form.get("person_code").strip().upper(), form.get("token").strip()
    opened = await run_in_threadpool(_log_in, request, code, token)
    if opened is None:
        return login_form(request, next_path=form.get("next"), person_code=code, status=401,
                          error="Mã cán bộ hoặc mã truy cập không đúng, hoặc mã truy cập đã hết hạn hay bị thu hồi.")
    session_id, role = opened
    secure = request.url.scheme == "https"
    if role == PersonRole.INSPECTOR:  # inspectors work in /form: the session is the form's, not the console's
        response = see_other("/form/")
        response.set_cookie(web.COOKIE, session_id, max_age=access.SESSION_HOURS * 3600, path="/form",
                            httponly=True, samesite="strict", secure=secure)
    else:
        response = see_other(safe_next(form.get("next")))
        response.set_cookie(COOKIE, session_id, max_age=access.SESSION_HOURS * 3600, path=COOKIE_PATH,
                            httponly=True, samesite="strict", secure=secure)
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN_PATH, httponly=True, samesite="strict")
    return response


def _log_in(request: Request, code: str, token: str) -> tuple[str, PersonRole] | None:
    """A new web session when ``token`` is in force and is ``code``'s (its id and the person's role); else None."""
    with db(request) as s:
        opened = access.log_in(s, code=code, token=token)
        if opened is None:
            s.rollback()
            return None
        session_id, person = opened
        role = PersonRole(person.role)
        s.commit()
    return session_id, role


@router.post("/logout")
async def logout(request: Request) -> Response:
    refuse_cross_site(request)
    session_id = request.cookies.get(COOKIE, "")
    form = await read_body(request, max_bytes=LOGIN_MAX_BYTES)
    if session_id and not csrf_ok(session_id, "console|logout", form.get("csrf")):
        raise Forbidden("Yêu cầu đăng xuất không đến từ trang của hệ thống.")
    if session_id:
        await run_in_threadpool(_log_out, request, session_id)
    response = see_other(LOGIN_PATH)
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    return response


def _log_out(request: Request, session_id: str) -> None:
    with db(request) as s:
        access.end_web_session(s, session_id)
        s.commit()

