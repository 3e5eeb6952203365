"""The deadlines board (``/console/deadlines``): the lead acts, officials read.

Every action calls the function the CLI's ``kiemtra deadlines …`` commands call
(:mod:`services.stages.deadline_changes`), with actor = the logged-in person and the reason from the form, so the
audit trail and the database state are the CLI's: ``met`` → ``mark_met`` (plus the receipt file, kept in the
evidence store by SHA-256 and named on the deadline: :mod:`services.intake.deadline_receipts`, as
``kiemtra deadlines met --receipt FILE`` does),
``explained`` → ``receive_explanation`` (the page then shows its answer in the CLI's words), ``complex`` →
``declare_complex``, ``extend`` → ``extend_decision`` (the rules refuse a second extension; the refusal is shown as the
console's error page).
"""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from models import Deadline, DeadlineKind, PersonRole
from services.entry.http.console import deadline_board
from services.entry.http.console.access_rules import InspectionFilter, visible_codes
from services.entry.http.console.base import ConsoleUser, console_user, db, read_post, render, require, see_other
from services.entry.http.web_form import ParsedForm, UploadedFile
from services.errors import NotFound, Refused
from services.intake import deadline_receipts
from services.intake.evidence import EvidenceStore
from services.rules.calendar import today_in_vietnam
from services.rules.deadline_rules import SEND_METHOD_VI, SendMethod
from services.settings import Settings
from services.stages import deadline_changes

router = APIRouter(prefix="/console", include_in_schema=False)
User = Annotated[ConsoleUser, Depends(console_user)]

READERS = (PersonRole.LEAD, PersonRole.OFFICIAL)
ACTORS = (PersonRole.LEAD,)
FORM_BYTES = 64 * 1024
DONE_VI = {"met": "Đã xác nhận thực hiện.", "complex": "Đã ghi nhận vụ việc phức tạp.",
           "explained": "Đã ghi nhận giải trình của người vi phạm.", "extend": "Đã gia hạn thời hạn ra quyết định."}
SEND_METHODS = [(str(m), SEND_METHOD_VI[m]) for m in SendMethod]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _purpose(deadline_id: int) -> str:
    return f"deadline:{deadline_id}"


# --------------------------------------------------------------------------- pages


@router.get("/deadlines", response_class=HTMLResponse)
def board_page(request: Request, user: User, dot: str = "") -> Response:
    """Open deadlines in three groups; ``dot``: one campaign's code."""
    require(user, *READERS)
    with db(request) as session:
        found = deadline_board.board(session, today_in_vietnam(), dot.strip())
        visible = InspectionFilter(session, user.person)  # only what the console's one rule lets the person see
        found.groups = [(key, title, [r for r in rows if visible(r.inspection_id)]) for key, title, rows in found.groups]
        found.campaigns = visible_codes(session, user.person)
    return render(request, user, "console/deadlines.html", board=found)


@router.get("/deadlines/{deadline_id}", response_class=HTMLResponse)
def deadline_page(request: Request, deadline_id: int, user: User) -> Response:
    require(user, *READERS)
    with db(request) as session:
        row = deadline_board.one(session, deadline_id, today_in_vietnam())
        if row is None:
            raise NotFound(f"Không tìm thấy thời hạn số {deadline_id}.")
        events = deadline_board.history(session, deadline_id)
        done = request.query_params.get("da", "")
        note = deadline_board.explanation_note(session, deadline_id) if done == "explained" else None
        receipts = deadline_receipts.receipts_of(session, deadline_id)
    can_act = user.person.role in (*ACTORS, PersonRole.ADMIN) and row.status_vi == "đang chạy"
    return render(request, user, "console/deadline.html", row=row, events=events, receipts=receipts, can_act=can_act,
                  today=today_in_vietnam(), send_methods=SEND_METHODS, met_by_a_person=deadline_board.MET_BY_A_PERSON,
                  DeadlineKind=DeadlineKind, purpose=_purpose(deadline_id), done=note or DONE_VI.get(done),
                  max_mb=_settings(request).evidence_max_bytes // (1024 * 1024))


@router.get("/deadlines/{deadline_id}/receipts/{sha256}")
def receipt_file(request: Request, deadline_id: int, sha256: str, user: User) -> Response:
    """A receipt named on this deadline (only to those who may read the board); any other hash is a 404."""
    require(user, *READERS)
    with db(request) as session:
        receipt = next((r for r in deadline_receipts.receipts_of(session, deadline_id) if r.sha256 == sha256), None)
    path = EvidenceStore.from_settings(_settings(request)).path_for(sha256) if receipt is not None else None
    if receipt is None or path is None or not path.is_file():
        raise NotFound("Không có biên lai này trong hồ sơ thời hạn.")
    return FileResponse(path, media_type=receipt.content_type, filename=receipt.name,
                        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                                 "Content-Security-Policy": "default-src 'none'; sandbox"})


# --------------------------------------------------------------------------- actions


def _date(text: str, field: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise Refused("Ngày không hợp lệ.", errors=[f"{field}: ngày '{text[:20]}' không hợp lệ (năm-tháng-ngày)"]) from exc


def _deadline(session: Any, deadline_id: int) -> Deadline:
    deadline = session.get(Deadline, deadline_id)
    if deadline is None:
        raise NotFound(f"Không tìm thấy thời hạn số {deadline_id}.", deadline_id=deadline_id)
    return deadline


def _mark_met(request: Request, user: ConsoleUser, deadline_id: int, form: ParsedForm) -> None:
    """``deadline_changes.mark_met`` (as ``kiemtra deadlines met``), then the receipt stored and named."""
    on = _date(form.get("on"), "on") or today_in_vietnam()
    reason, via = form.get("reason"), form.get("via").strip() or None
    upload: UploadedFile | None = next((f for f in form.files if f.field == "receipt" and f.data), None)
    receipt = (deadline_receipts.ReceiptFile(upload.data, upload.filename, upload.content_type)
               if upload is not None else None)
    with db(request) as session:
        deadline_receipts.mark_met_with_receipt(session, _settings(request), deadline_id, on, actor=user.person.code,
                                                reason=reason, sent_by=via, receipt=receipt)
        session.commit()


def _change(request: Request, user: ConsoleUser, deadline_id: int, action: str, form: ParsedForm) -> None:
    """The inspection's record/decision deadline changed by the CLI's functions."""
    actor, reason = user.person.code, form.get("reason")
    with db(request) as session:
        deadline = _deadline(session, deadline_id)
        inspection_id, kind = deadline.inspection_id, DeadlineKind(deadline.kind)
        if action == "complex":
            deadline_changes.declare_complex(session, inspection_id, kind, actor=actor, reason=reason)
        elif action == "explained":
            deadline_changes.receive_explanation(session, inspection_id, actor=actor, reason=reason,
                                                 kind=form.get("kind"), on=_date(form.get("on"), "on"))
        else:
            months = form.get("months").strip()
            if not months.isdigit():
                raise Refused("Gia hạn không hợp lệ.", errors=["months: ghi số tháng gia hạn (01)"])
            deadline_changes.extend_decision(session, inspection_id, int(months), actor=actor, reason=reason)
        session.commit()


@router.post("/deadlines/{deadline_id}/met")
async def mark_met(request: Request, deadline_id: int, user: User) -> Response:
    require(user, *ACTORS)
    form = await read_post(request, user, _purpose(deadline_id),
                           max_bytes=_settings(request).evidence_max_bytes + FORM_BYTES)
    await run_in_threadpool(_mark_met, request, user, deadline_id, form)
    return see_other(f"/console/deadlines/{deadline_id}?da=met")


@router.post("/deadlines/{deadline_id}/{action}")
async def change(request: Request, deadline_id: int, action: str, user: User) -> Response:
    if action not in ("complex", "explained", "extend"):
        raise NotFound("Không có thao tác này.")
    require(user, *ACTORS)
    form = await read_post(request, user, _purpose(deadline_id), max_bytes=FORM_BYTES)
    await run_in_threadpool(_change, request, user, deadline_id, action, form)
    return see_other(f"/console/deadlines/{deadline_id}?da={action}")
