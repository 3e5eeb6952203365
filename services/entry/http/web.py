"""The inspectors' web form under ``/form``: server-rendered Vietnamese pages that work on a 360 px phone.

* ``/form/login`` — person code + API token; opens a server-side web session (``services.access``: a random id in
  an HttpOnly, SameSite=Strict cookie, only its hash stored, 12 hours) — the cookie is never the API token, and
  neither works in the other's place. ``POST /form/logout`` revokes the session's row, so the old cookie is dead.
* ``/form/`` — the inspector's inspections on a day (today in Vietnam unless ``?ngay=YYYY-MM-DD``).
* ``/form/inspections/{id}`` — the team's checklist. Its POST stores a findings version
  (``logic.submit_findings``, the photo declared as an attachment) and the photo (through the evidence store,
  then ``evidence.mark_received``) in one unit of work, so the version is complete when it commits.

Authorisation is the API's (``logic.get_inspection``). Each page has a fresh client submission id (uuid4): a
double tap or a re-POST of the same page is idempotent. Every POST made for a logged-in person carries a CSRF
token, an HMAC keyed by the web session's id over the page's client id (``web_form.csrf_token``); the login form
carries one keyed by a short-lived pre-login cookie. Every POST from another site (``Sec-Fetch-Site``, ``Origin``
or ``Referer``) is refused with 403 before its body is read. Wording lives in ``templates/web/``.
"""
from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import date
from functools import lru_cache
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from models import Campaign, Establishment, Inspection, InspectionStatus, Person, PersonRole
from models.base import id_of
from services.rules.calendar import today_in_vietnam
from services.errors import Conflict, EvidenceTooLarge, Forbidden, NotFound, Refused
from services import access
from services.intake import evidence, logic, returns
from services.intake.schemas import SubmissionReceipt
from services.entry.http.web_form import (FormRefused, ParsedForm, UploadedFile, build_submission, cross_site, csrf_ok,
                                      csrf_token, item_values, login_nonce_ok, new_login_nonce, parse_body, place_errors)
from services.settings import TEMPLATES_DIR, Settings

router = APIRouter(prefix="/form", tags=["web form"], include_in_schema=False)

COOKIE = "kiemtra_phien"  # the web session's random id (services.access.start_web_session)
LOGIN_COOKIE = "kiemtra_dang_nhap"  # the pre-login id the login form's CSRF token is keyed by
LOGIN_FORM_SECONDS = 15 * 60
LOGIN_MAX_BYTES = 16 * 1024
FORM_OVERHEAD_BYTES = 512 * 1024  # the checklist's text fields around the photo
# same-origin (not no-referrer): with no-referrer a browser sends "Origin: null" on our own form's POST
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                      "frame-ancestors 'none'; base-uri 'none'"}
GROUP_TITLES = {"labour": "Phần an toàn, vệ sinh lao động (Sở Nội vụ)", "health": "Phần y tế lao động (Sở Y tế)"}


@lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR / "web"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["ngay"] = lambda d: d.strftime("%d/%m/%Y")
    return env


def render(name: str, *, status: int = 200, token: str | None = None, person: Person | None = None,
           **context: Any) -> HTMLResponse:
    """A page; ``token`` is the web session's id from the cookie (what the logout form's CSRF token is keyed by)."""
    logout_csrf = csrf_token(token, "logout") if token else ""
    html = _templates().get_template(name).render(person=person, logout_csrf=logout_csrf, **context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def error_page(status: int, message: str, *, token: str | None = None, person: Person | None = None) -> HTMLResponse:
    heading = {403: "Không có quyền truy cập", 404: "Không tìm thấy", 413: "Tệp quá lớn"}.get(status, "Yêu cầu không hợp lệ")
    return render("error.html", status=status, token=token, person=person, heading=heading, message=message)


def to_login() -> RedirectResponse:
    return RedirectResponse("/form/login", status_code=303)


def _session(request: Request) -> Session:
    return Session(request.app.state.engine, expire_on_commit=False)


def _person(db: Session, session_id: str | None) -> Person | None:
    """The person of the cookie's web session, if it works now (never an API token's: those are another table)."""
    person = access.person_for_session(db, session_id) if session_id else None
    db.commit()  # end the look-up's transaction (on SQLite it holds the write lock)
    if person is not None:
        db.expunge(person)  # plain data from here on: a rollback later must not expire it
    return person


async def read_form(request: Request, *, max_bytes: int) -> ParsedForm:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise FormRefused(f"Dữ liệu gửi lên vượt quá {max_bytes:,} byte.", status=413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise FormRefused(f"Dữ liệu gửi lên vượt quá {max_bytes:,} byte.", status=413)
    return parse_body(request.headers.get("content-type"), bytes(body))


# --------------------------------------------------------------------------- log in, log out


def refused_cross_site(request: Request) -> HTMLResponse | None:
    """403 for a POST another site's page sent (checked before the body is read)."""
    why = cross_site(request.headers, str(request.url))
    if why is None:
        return None
    return error_page(403, f"Yêu cầu gửi từ một trang web khác ({why}) nên bị từ chối; hãy mở trang của hệ thống "
                           "và thử lại.")


# where a login may lead besides the day list: the offline field app (its shell sends a logged-out phone to log in)
NEXT_PAGES = frozenset({"/form/app/"})


def next_page(target: str | None) -> str:
    """``target`` when it is one of :data:`NEXT_PAGES` (never another site or any other path), else the day list."""
    return target if target in NEXT_PAGES else "/form/"


def login_form(request: Request, *, error: str = "", person_code: str = "", status: int = 200,
               next_path: str | None = None) -> HTMLResponse:
    """The login page with a fresh pre-login cookie and its CSRF token in a hidden field."""
    nonce = new_login_nonce(time.time())
    response = render("login.html", status=status, error=error, person_code=person_code,
                      login_csrf=csrf_token(nonce, "login"), next_path=next_page(next_path))
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=LOGIN_FORM_SECONDS, path="/form/login", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return login_form(request, next_path=next)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    if (refused := refused_cross_site(request)) is not None:
        return refused
    try:
        form = await read_form(request, max_bytes=LOGIN_MAX_BYTES)
    except FormRefused as exc:
        return error_page(exc.status, exc.message)
    if not login_nonce_ok(request.cookies.get(LOGIN_COOKIE, ""), form.get("csrf"), now=time.time(),
                          max_age_s=LOGIN_FORM_SECONDS):
        return error_page(403, "Trang đăng nhập đã quá hạn hoặc biểu mẫu không do hệ thống cấp (thiếu mã chống giả "
                               "mạo); hãy mở lại trang đăng nhập rồi đăng nhập.")
    code, token = form.get("person_code").strip().upper(), form.get("token").strip()
    session_id = await run_in_threadpool(_log_in, request, code, token)
    if session_id is None:
        return login_form(request, person_code=code, next_path=form.get("next"),
                          error="Mã cán bộ hoặc mã truy cập không đúng, hoặc mã truy cập đã hết hạn hay bị thu hồi.")
    response = RedirectResponse(next_page(form.get("next")), status_code=303)
    response.set_cookie(COOKIE, session_id, max_age=access.SESSION_HOURS * 3600, path="/form", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    response.delete_cookie(LOGIN_COOKIE, path="/form/login", httponly=True, samesite="strict")
    return response


def _log_in(request: Request, code: str, token: str) -> str | None:
    """A new web session when ``token`` is in force and is ``code``'s; None otherwise (nothing stored)."""
    with _session(request) as db:
        opened = access.log_in(db, code=code, token=token)
        if opened is None:
            db.rollback()
            return None
        db.commit()
    return opened[0]


@router.post("/logout")
async def logout(request: Request) -> Response:
    if (refused := refused_cross_site(request)) is not None:
        return refused
    session_id = request.cookies.get(COOKIE)
    try:
        form = await read_form(request, max_bytes=LOGIN_MAX_BYTES)
    except FormRefused as exc:
        return error_page(exc.status, exc.message)
    if session_id and not csrf_ok(session_id, "logout", form.get("csrf")):
        return error_page(403, "Yêu cầu đăng xuất không đến từ trang của hệ thống.")
    if session_id:
        await run_in_threadpool(_log_out, request, session_id)
    response = to_login()
    response.delete_cookie(COOKIE, path="/form", httponly=True, samesite="strict")
    return response


def _log_out(request: Request, session_id: str) -> None:
    """The session's row is revoked: the old cookie, replayed, finds nothing."""
    with _session(request) as db:
        access.end_web_session(db, session_id)
        db.commit()


# --------------------------------------------------------------------------- the day's inspections


@router.get("/", response_class=HTMLResponse)
def inspections_page(request: Request, ngay: str | None = None) -> Response:
    token = request.cookies.get(COOKIE)
    with _session(request) as db:
        person = _person(db, token)
        if person is None:
            return to_login()
        day, error = today_in_vietnam(), ""
        if ngay:
            try:
                day = date.fromisoformat(ngay)
            except ValueError:
                error = f"Ngày '{ngay}' không hợp lệ; đang hiển thị hôm nay."
        mine = logic.inspections_for(db, person)
        shown = [_summary(db, i) for i in mine if i.scheduled_on == day]
        upcoming = sorted(Counter(i.scheduled_on for i in mine if i.scheduled_on > day).items())[:5]
        db.commit()
    return render("inspections.html", token=token, person=person, day=day, error=error, inspections=shown,
                  upcoming=upcoming)


def _summary(db: Session, inspection: Inspection) -> dict[str, Any]:
    establishment = db.get(Establishment, inspection.establishment_id)
    campaign = db.get(Campaign, inspection.campaign_id)
    assert establishment is not None and campaign is not None
    return {"id": inspection.id, "establishment": establishment.name, "address": establishment.address,
            "tax_code": establishment.tax_code, "campaign": campaign.code, "scheduled_on": inspection.scheduled_on,
            "status": str(inspection.status), "team": logic.team_name(db, inspection.team_id),
            "returned": returns.latest_return(db, id_of(inspection))
            if inspection.status == InspectionStatus.FINDINGS_RETURNED else None}


# --------------------------------------------------------------------------- the checklist

# an id beyond the id column's range (32 bits on PostgreSQL) is refused before it reaches the database
InspectionId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/inspections/{inspection_id}", response_class=HTMLResponse)
def checklist_page(inspection_id: InspectionId, request: Request) -> Response:
    token = request.cookies.get(COOKIE)
    with _session(request) as db:
        person = _person(db, token)
        if person is None or token is None:
            return to_login()
        try:
            inspection = logic.get_inspection(db, person, inspection_id)
        except NotFound as exc:  # another team's inspection too: the same page as one that does not exist
            db.rollback()
            return error_page(404, exc.message, token=token, person=person)
        page = _page(db, person, inspection)
        latest = logic.latest_submission(db, inspection_id)
        payload = list(latest.payload) if latest else []
        db.commit()
    values = {f["item_code"]: {"result": str(f.get("result") or ""), "workers": _text(f.get("workers_affected")),
                               "devices": _text(f.get("devices_affected")), "note": f.get("note") or "",
                               "act_kind": "" if f.get("ongoing") is None else ("ongoing" if f["ongoing"] else "ended"),
                               "committed_on": f.get("committed_on") or ""}
              for f in payload}
    return _render_checklist(request, token, person, page, values=values)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _page(db: Session, person: Person, inspection: Inspection) -> dict[str, Any]:
    """What the checklist page shows, read while the session is open (plain data after)."""
    items = logic.checklist_for(db, inspection)
    latest = logic.latest_submission(db, id_of(inspection))
    blocked = ""
    if person.role != PersonRole.INSPECTOR:
        blocked = "Chỉ thành viên đoàn kiểm tra mới gửi được kết quả; anh/chị chỉ xem được bảng kiểm."
    elif inspection.status not in logic.EDITABLE:
        blocked = "Kết quả của cuộc kiểm tra này đã được duyệt; không thể sửa."
    groups = [{"title": GROUP_TITLES.get(agency, agency), "items": [i for i in items if i.agency == agency]}
              for agency in dict.fromkeys(i.agency for i in items)]
    return {"inspection": _summary(db, inspection), "groups": groups, "codes": [i.code for i in items],
            "texts": {i.code: i.text_vi for i in items}, "editing": latest is not None and latest.complete,
            "blocked": blocked}


def _render_checklist(request: Request, token: str, person: Person, page: dict[str, Any], *, values: dict[str, Any],
                      client_id: str | None = None, errors: list[str] | None = None,
                      per_item: dict[str, list[str]] | None = None, reason: str = "", photo_lost: bool = False,
                      status: int = 200) -> HTMLResponse:
    client_id = client_id or f"web-{uuid.uuid4()}"
    settings: Settings = request.app.state.settings
    return render("checklist.html", status=status, token=token, person=person, inspection=page["inspection"],
                  groups=page["groups"], editing=page["editing"], blocked=page["blocked"], values=values,
                  client_submission_id=client_id, csrf=csrf_token(token, client_id), errors=errors or [],
                  per_item=per_item or {}, reason=reason, photo_lost=photo_lost,
                  max_photo_mb=max(settings.evidence_max_bytes // (1024 * 1024), 1))


@router.post("/inspections/{inspection_id}", response_class=HTMLResponse)
async def submit_checklist(inspection_id: InspectionId, request: Request) -> Response:
    if (refused := refused_cross_site(request)) is not None:
        return refused
    settings: Settings = request.app.state.settings
    try:
        form = await read_form(request, max_bytes=settings.evidence_max_bytes + FORM_OVERHEAD_BYTES)
    except FormRefused as exc:
        return error_page(exc.status, exc.message)
    return await run_in_threadpool(_submit, request, inspection_id, form)


def _submit(request: Request, inspection_id: int, form: ParsedForm) -> Response:
    token, settings = request.cookies.get(COOKIE), request.app.state.settings
    client_id = form.get("client_submission_id")
    with _session(request) as db:
        person = _person(db, token)
        if person is None or token is None:
            return to_login()
        if not csrf_ok(token, client_id, form.get("csrf")):
            return error_page(403, "Biểu mẫu không hợp lệ hoặc đã hết hạn phiên đăng nhập; hãy mở lại bảng kiểm.",
                              token=token, person=person)
        try:
            page = _page(db, person, logic.get_inspection(db, person, inspection_id))
        except NotFound as exc:  # another team's inspection too: the same page as one that does not exist
            db.rollback()
            return error_page(404, exc.message, token=token, person=person)
        values, reason = item_values(form, page["codes"]), form.get("reason").strip()
        photo = next((f for f in form.files if f.field == "anh"), None)
        sent_codes = [code for code in page["codes"] if values[code]["result"]]
        try:
            _check_photo(settings, photo)
            body = build_submission(client_submission_id=client_id, reason=reason, values=values, photo=photo)
            receipt, created = logic.submit_findings(db, person, inspection_id, body, logic.EvidenceRules.from_settings(settings))
            if photo is not None:
                receipt = _store_photo(db, person, settings, receipt, photo)
            reread = db.get(Inspection, inspection_id, populate_existing=True)  # re-read: the status changed through Core
            assert reread is not None, "submit_findings found it"
            status = str(reread.status)
            db.commit()
        except (Forbidden, Refused, NotFound) as exc:
            db.rollback()
            if isinstance(exc, Forbidden):
                return error_page(403, exc.message, token=token, person=person)
            errors = exc.field_errors() or [exc.message]
            summary, per_item = place_errors(errors, sent_codes)
            for code in page["codes"]:
                if not values[code]["result"]:
                    per_item.setdefault(code, []).append("Chưa chọn kết quả cho mục này.")
            fresh = isinstance(exc, Conflict | NotFound)  # this client id is spent: the next try is a new one
            return _render_checklist(request, token, person, page, values=values, client_id=None if fresh else client_id,
                                     errors=summary, per_item=per_item, reason=reason, photo_lost=photo is not None,
                                     status=409 if isinstance(exc, Conflict) else 422)
    failed = [(code, page["texts"].get(code, "")) for code in receipt.failed_items]
    return render("receipt.html", status=201 if created else 200, token=token, person=person,
                  inspection=page["inspection"], receipt=receipt, created=created, failed=failed,
                  photos=1 if photo is not None else 0, inspection_status=status)


def _check_photo(settings: Settings, photo: UploadedFile | None) -> None:
    """Refuse before anything is stored: a type the store does not take, or a file over its limit."""
    if photo is None:
        return
    evidence.check_type(photo.content_type, declared=photo.content_type, allowed=settings.evidence_types)
    if len(photo.data) > settings.evidence_max_bytes:
        raise EvidenceTooLarge(f"Ảnh vượt quá dung lượng tối đa {settings.evidence_max_bytes:,} byte.",
                                        size=len(photo.data))


def _store_photo(db: Session, person: Person, settings: Settings, receipt: SubmissionReceipt,
                 photo: UploadedFile) -> SubmissionReceipt:
    """The evidence module's three upload steps, inside the submission's unit of work (the bytes are in memory)."""
    declared = evidence.find_declared(db, person, receipt.client_submission_id, photo.sha256)
    store = evidence.EvidenceStore.from_settings(settings)
    with store.writer(sha256=declared.sha256, size=declared.size, content_type=declared.content_type,
                      max_bytes=settings.evidence_max_bytes) as writer:
        writer.write(photo.data)
        writer.commit()
    evidence.mark_received(db, person, declared)
    submission = evidence.get_submission(db, person, receipt.client_submission_id)
    missing = sorted(a.sha256 for a in evidence.attachments_of(db, submission) if not a.received)
    return receipt.model_copy(update={"complete": submission.complete, "missing_attachments": missing})
