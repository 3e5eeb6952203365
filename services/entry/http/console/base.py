"""The console's foundation (issue 15): who is logged in, roles, rendering, checked POSTs, the error page.

The console (``/console``) is for leads, officials and admins; inspectors use ``/form``. It uses the same web
sessions as the form (:mod:`services.access`: a random id in an HttpOnly, SameSite=Strict cookie, its hash stored,
12 hours, ended by logout) under a cookie of its own, :data:`COOKIE`, scoped to ``/console`` — so logging out of
one does not log out of the other, and neither cookie is ever an API token.

* :func:`console_user` — the FastAPI dependency: no working session → 303 to ``/console/login?next=…``;
  an inspector → 403 (raised as :class:`LoginNeeded` / ``Forbidden`` and answered by :func:`install`'s handlers).
* :func:`require` — a role check (``PersonRole.ADMIN`` passes every check) raising ``Forbidden``.
* :func:`render` / :func:`error_page` — a page under ``templates/web/``, with ``user``, ``csrf`` and ``nav``.
* :func:`read_post` — a POST's body after refusing another site's request and a missing or wrong CSRF token.
* :func:`install` — turns ``services.errors`` refusals raised under ``/console`` into the Vietnamese error page.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from models import Person, PersonRole
from services import access
from services.entry.http.web import read_form
from services.entry.http.web_form import FormRefused, ParsedForm, cross_site, csrf_ok, csrf_token
from services.errors import Conflict, Forbidden, InvalidTransition, KiemtraError, NotFound, StageBlocked
from services.settings import TEMPLATES_DIR

COOKIE = "kiemtra_bang_dieu_khien"  # the console's web session id (services.access.start_web_session)
COOKIE_PATH = "/console"
PREFIX = "/console"
# As /form's, plus images and scripts from this app only (findings thumbnails, a vendored script if one earns it).
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
           "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; "
                                      "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"}
ROLE_VI = {PersonRole.LEAD: "Trưởng đoàn / Thanh tra Sở", PersonRole.OFFICIAL: "Người có thẩm quyền xử phạt",
           PersonRole.ADMIN: "Quản trị hệ thống", PersonRole.INSPECTOR: "Thành viên đoàn kiểm tra"}
STAFF = (PersonRole.LEAD, PersonRole.OFFICIAL)
# (href, label, roles that see it); ADMIN sees every entry.
NAV: tuple[tuple[str, str, tuple[PersonRole, ...]], ...] = (
    ("/console/", "Việc cần làm", STAFF),
    ("/console/campaigns", "Đợt kiểm tra", STAFF),
    ("/console/deadlines", "Hạn xử lý", STAFF),
    ("/console/documents", "Tài liệu", STAFF),
    ("/console/signing", "Văn bản chờ ký số", STAFF),
    ("/console/people", "Người và đoàn", ()),
)
HEADINGS = {400: "Yêu cầu không hợp lệ", 403: "Không có quyền", 404: "Không tìm thấy", 405: "Không được phép",
            409: "Không thực hiện được lúc này", 413: "Dữ liệu quá lớn", 422: "Dữ liệu chưa hợp lệ"}


@dataclass(frozen=True)
class ConsoleUser:
    person: Person  # detached plain data (code, full_name, role, agency_id, id)
    session_id: str  # the web session's id (the cookie's value)

    def csrf(self, purpose: str) -> str:
        """The anti-forgery token of one form (``purpose`` e.g. ``"selection:TEST-01"``), keyed by the session."""
        return csrf_token(self.session_id, f"console|{purpose}")

    @property
    def role_vi(self) -> str:
        return ROLE_VI.get(self.person.role, str(self.person.role))


class LoginNeeded(Exception):
    """No working console session: answered with a 303 to the login page (``next``: where to come back to)."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


# --------------------------------------------------------------------------- who is logged in


def db(request: Request) -> Session:
    """A new database session on the app's engine (the caller closes it, e.g. ``with db(request) as s:``)."""
    return Session(request.app.state.engine, expire_on_commit=False)


def person_of_session(request: Request, session_id: str) -> Person | None:
    """The person of a console session that works now, detached (plain data from here on)."""
    if not session_id:
        return None
    with db(request) as s:
        person = access.person_for_session(s, session_id)
        s.commit()  # end the look-up's transaction (on SQLite it holds the write lock)
        if person is not None:
            s.expunge(person)
    return person


def console_user(request: Request) -> ConsoleUser:
    """FastAPI dependency: the logged-in lead, official or admin (else 303 to the login page, or 403)."""
    session_id = request.cookies.get(COOKIE, "")
    person = person_of_session(request, session_id)
    if person is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginNeeded(target if request.method == "GET" else PREFIX + "/")
    if person.role == PersonRole.INSPECTOR:
        raise Forbidden("Bảng điều khiển dành cho trưởng đoàn, người có thẩm quyền và quản trị; thành viên đoàn "
                        "kiểm tra dùng trang Phiếu kết quả kiểm tra tại /form/.")
    return ConsoleUser(person=person, session_id=session_id)



UserDep = Annotated[ConsoleUser, Depends(console_user)]  # a handler parameter: `user: UserDep`

def require(user: ConsoleUser, *roles: PersonRole) -> None:
    """Refuses (``Forbidden`` → 403) unless the user has one of ``roles``; an admin passes every check."""
    if user.person.role == PersonRole.ADMIN or user.person.role in roles:
        return
    wanted = ", ".join(ROLE_VI.get(r, str(r)).lower() for r in roles) or "quản trị hệ thống"
    raise Forbidden(f"Việc này chỉ dành cho {wanted}; tài khoản {user.person.code} ({user.role_vi.lower()}) "
                    "không có quyền.", person_code=user.person.code)


def nav_for(user: ConsoleUser | None, path: str) -> list[dict[str, Any]]:
    """The menu entries the user's role sees, the current one marked."""
    if user is None:
        return []
    role = user.person.role
    out = []
    for href, label, roles in NAV:
        if role == PersonRole.ADMIN or role in roles:
            current = path == href if href == "/console/" else path.startswith(href)
            out.append({"href": href, "label": label, "current": current})
    return out


# --------------------------------------------------------------------------- pages


def gio(moment: datetime | None) -> str:
    """A moment as the lead reads it: Việt Nam's time (a naive moment is UTC, as the database keeps it)."""
    if moment is None:
        return ""
    from services.rules.calendar import VIETNAM

    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return f"{aware.astimezone(VIETNAM):%H:%M %d/%m/%Y}"


def _vnd(amount: int | None) -> str:
    return "" if amount is None else f"{amount:,}".replace(",", ".") + " đồng"


@lru_cache(maxsize=1)
def templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR / "web"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["ngay"] = lambda d: d.strftime("%d/%m/%Y") if d is not None else ""
    env.filters["gio"] = gio
    env.filters["vnd"] = _vnd
    env.filters["so"] = lambda n: f"{n:,}".replace(",", ".")
    return env


def _no_csrf(_purpose: str) -> str:
    return ""


def render(request: Request, user: ConsoleUser | None, template: str, *, status: int = 200,
           **context: Any) -> HTMLResponse:
    """``template`` (relative to templates/web/, e.g. ``console/inbox.html``) with ``user``, ``csrf`` and ``nav``."""
    csrf: Callable[[str], str] = user.csrf if user is not None else _no_csrf
    html = templates().get_template(template).render(
        request_path=request.url.path, user=user, csrf=csrf, nav=nav_for(user, request.url.path), **context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def error_page(request: Request, user: ConsoleUser | None, status: int, message: str,
               errors: list[str] | None = None) -> HTMLResponse:
    heading = HEADINGS.get(status, "Lỗi hệ thống" if status >= 500 else "Yêu cầu không hợp lệ")
    return render(request, user, "console/error.html", status=status, heading=heading, message=message,
                  errors=errors or [])


def see_other(url: str) -> RedirectResponse:
    """303 after a successful POST (POST/redirect/GET)."""
    return RedirectResponse(url, status_code=303)


# --------------------------------------------------------------------------- checked POSTs


read_body = read_form  # the body as a form, refused (413) past ``max_bytes`` before it is all read (as /form's)


def refuse_cross_site(request: Request) -> None:
    """``Forbidden`` for a POST another site's page sent (checked before the body is read)."""
    why = cross_site(request.headers, str(request.url))
    if why is not None:
        raise Forbidden(f"Yêu cầu gửi từ một trang web khác ({why}) nên bị từ chối; hãy mở trang của hệ thống và "
                        "thử lại.")


async def read_post(request: Request, user: ConsoleUser, purpose: str, *, max_bytes: int = 64 * 1024) -> ParsedForm:
    """The form of a POST made from our own page for ``purpose``: another site's request and a missing or wrong
    CSRF token are refused (403) before the body is used."""
    refuse_cross_site(request)
    form = await read_body(request, max_bytes=max_bytes)
    if not csrf_ok(user.session_id, f"console|{purpose}", form.get("csrf")):
        raise Forbidden("Biểu mẫu không do hệ thống cấp cho phiên đăng nhập này (thiếu hoặc sai mã chống giả mạo); "
                        "hãy mở lại trang rồi gửi lại.")
    return form


# --------------------------------------------------------------------------- refusals → the error page


def status_of(exc: KiemtraError) -> int:
    if isinstance(exc, FormRefused):
        return exc.status
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, (Conflict, InvalidTransition, StageBlocked)):
        return 409
    return 422


def _user_if_any(request: Request) -> ConsoleUser | None:
    session_id = request.cookies.get(COOKIE, "")
    try:
        person = person_of_session(request, session_id)
    except Exception:  # the error page must not fail on the look-up (e.g. the database is down)
        return None
    if person is None or person.role == PersonRole.INSPECTOR:
        return None
    return ConsoleUser(person=person, session_id=session_id)


def install(app: FastAPI) -> None:
    """Answers, under ``/console``, a refusal with the Vietnamese error page and a missing login with a 303;
    elsewhere the app's own handlers answer as before."""
    framework = app.exception_handlers.get(StarletteHTTPException)
    invalid = app.exception_handlers.get(RequestValidationError)

    @app.exception_handler(LoginNeeded)
    async def _login_needed(_request: Request, exc: LoginNeeded) -> Response:
        return see_other(f"{PREFIX}/login?next={quote(exc.next_path, safe='/')}")

    @app.exception_handler(KiemtraError)
    async def _refused(request: Request, exc: KiemtraError) -> Response:
        if not request.url.path.startswith(PREFIX):
            raise exc  # not the console's: the app's last-resort handler answers (services.entry.http.failures)
        user = await run_in_threadpool(_user_if_any, request)
        return error_page(request, user, status_of(exc), exc.message, exc.field_errors())

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if not request.url.path.startswith(PREFIX):
            assert invalid is not None
            answer = invalid(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        return error_page(request, await run_in_threadpool(_user_if_any, request), 422,
                          "Địa chỉ hoặc dữ liệu gửi lên không hợp lệ (ví dụ một số hay một ngày sai dạng).")

    @app.exception_handler(StarletteHTTPException)
    async def _framework(request: Request, exc: StarletteHTTPException) -> Response:
        if not request.url.path.startswith(PREFIX) or exc.status_code < 400:
            assert framework is not None
            answer = framework(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        message = {404: "Không có trang này trong bảng điều khiển.",
                   405: "Trang này không nhận cách gửi này."}.get(exc.status_code, "Yêu cầu không hợp lệ.")
        return error_page(request, await run_in_threadpool(_user_if_any, request), exc.status_code, message)
