"""The lead's findings review in the console.

* ``GET /console/campaigns/{code}/findings`` — the campaign's inspections with findings sent, by status and team.
* ``GET /console/inspections/{id}/findings`` — each version's answers per checklist item (the latest beside the
  previous, changes marked), notes, photos as thumbnails, the reviews; the review form while it waits for one.
* ``POST /console/inspections/{id}/findings`` — approve, or return with a comment: the same
  ``logic.review_findings`` the API's ``POST /api/inspections/{id}/review`` runs, through the same batch writer,
  with the logged-in lead as the actor (the same audit rows and state; a return also queues the message to the
  team's inspectors there, ``services.intake.returns``).
* ``GET /console/evidence/{id}/{sha256}`` and ``…/nho`` — a photo (or its thumbnail) of one of the inspection's
  versions, only to those :func:`findings_data.may_see` lets see the inspection; never a public URL.
"""
from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from models import PersonRole
from services.entry.http.console import findings_data as data
from services.entry.http.console.base import ConsoleUser, console_user, db, read_post, render, require, see_other
from services.entry.http.console.thumbnails import thumbnail
from services.entry.http.deps import message_vi
from services.errors import Conflict, IntakeError, NotFound
from services.intake import evidence, logic
from services.intake.schemas import ReviewIn

router = APIRouter(prefix="/console", include_in_schema=False)

InspectionId = Annotated[int, Path(ge=1, le=2**31 - 1)]
User = Annotated[ConsoleUser, Depends(console_user)]
CampaignCode = Annotated[str, Path(min_length=1, max_length=64)]
SHA256 = re.compile(r"^[0-9a-f]{64}$")
DECISIONS: dict[str, Literal["approve", "return"]] = {"duyet": "approve", "tra-lai": "return"}
DONE = {"duyet": "Đã duyệt kết quả kiểm tra.",
        "tra-lai": "Đã trả lại kết quả. Đoàn thấy ý kiến trên Phiếu kết quả kiểm tra (/form) và nhận thông báo ở lượt "
                   "gửi tiếp theo."}
FILE_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                "Content-Security-Policy": "default-src 'none'; sandbox", "Cross-Origin-Resource-Policy": "same-origin"}


def review_purpose(inspection_id: int) -> str:
    """The CSRF purpose of one inspection's review form."""
    return f"findings-review:{inspection_id}"


# --------------------------------------------------------------------------- the campaign's list


@router.get("/campaigns/{code}/findings", response_class=HTMLResponse)
def campaign_findings(code: CampaignCode, request: Request, user: User, trang_thai: str = "",
                      doan: str = "") -> HTMLResponse:
    require(user, PersonRole.LEAD)
    with db(request) as s:
        found = data.campaign_findings(s, code, status=trang_thai, team=doan)
        s.rollback()  # a read: end it (on SQLite it holds the write lock)
    return render(request, user, "console/findings_list.html", data=found, filters=data.STATUS_FILTERS,
                  status_filter=trang_thai if trang_thai in data.STATUS_FILTERS else "",
                  team_filter=doan if any(str(n) == doan for n, _ in found.teams) else "")


# --------------------------------------------------------------------------- one inspection


@router.get("/inspections/{inspection_id}/findings", response_class=HTMLResponse)
def inspection_findings(inspection_id: InspectionId, request: Request, user: User, da: str = "") -> HTMLResponse:
    require(user, PersonRole.LEAD)
    return _page(request, user, inspection_id, done=DONE.get(da, ""))


def _page(request: Request, user: ConsoleUser, inspection_id: int, *, done: str = "", errors: list[str] | None = None,
          decision: str = "", comment: str = "", status: int = 200) -> HTMLResponse:
    with db(request) as s:
        found = data.inspection_findings(s, inspection_id)
        s.rollback()
    return render(request, user, "console/findings_review.html", status=status, data=found, done=done,
                  errors=errors or [], decision=decision, comment=comment, purpose=review_purpose(inspection_id))


@router.post("/inspections/{inspection_id}/findings", response_class=HTMLResponse)
async def review(inspection_id: InspectionId, request: Request, user: User) -> Response:
    """Approve or return: ``logic.review_findings`` through the batch writer, as the API's review route does."""
    require(user, PersonRole.LEAD)
    form = await read_post(request, user, review_purpose(inspection_id))
    choice, comment = form.get("quyet_dinh"), form.get("y_kien")
    if choice not in DECISIONS:
        return await run_in_threadpool(_page, request, user, inspection_id, comment=comment, status=422,
                                       errors=["Hãy chọn Duyệt hoặc Trả lại."])
    try:
        body = ReviewIn(decision=DECISIONS[choice], comment=comment)
    except ValidationError as exc:
        errors = [f"Ý kiến: {message_vi(e)}" for e in exc.errors()]
        return await run_in_threadpool(_page, request, user, inspection_id, errors=errors, decision=choice,
                                       comment=comment, status=422)
    await run_in_threadpool(_same_version, request, inspection_id, form.get("phien_ban"))
    person = user.person
    try:
        await request.app.state.writer.run(lambda s: logic.review_findings(s, person, inspection_id, body))
    except IntakeError as exc:  # e.g. a return without a comment: the page again, with what was typed
        errors = [_field_vi(line) for line in exc.field_errors()] or [exc.message]
        return await run_in_threadpool(_page, request, user, inspection_id, errors=errors, decision=choice,
                                       comment=comment, status=422)
    return see_other(f"/console/inspections/{inspection_id}/findings?da={choice}")


def _field_vi(line: str) -> str:
    """The service's "comment: …" line as the page names the field."""
    return "Ý kiến: " + line.removeprefix("comment: ") if line.startswith("comment: ") else line


def _same_version(request: Request, inspection_id: int, shown: str) -> None:
    """The lead decides on the version the page showed: a version sent since is refused (409), not reviewed unseen."""
    with db(request) as s:
        logic.find_inspection(s, inspection_id)
        latest = logic.latest_submission(s, inspection_id)
        version = latest.version if latest is not None else None
        s.rollback()
    if version is not None and shown and shown != str(version):
        raise Conflict(f"Đoàn kiểm tra đã gửi phiên bản {version} sau khi trang được mở (trang hiển thị phiên bản "
                       f"{shown}); hãy mở lại trang, xem phiên bản mới rồi quyết định.", inspection_id=inspection_id)


# --------------------------------------------------------------------------- photos


@router.get("/evidence/{inspection_id}/{sha256}")
def evidence_file(inspection_id: InspectionId, sha256: str, request: Request,
                  user: User) -> Response:
    return _evidence(request, user, inspection_id, sha256, small=False)


@router.get("/evidence/{inspection_id}/{sha256}/nho")
def evidence_thumbnail(inspection_id: InspectionId, sha256: str, request: Request,
                       user: User) -> Response:
    return _evidence(request, user, inspection_id, sha256, small=True)


def _evidence(request: Request, user: ConsoleUser, inspection_id: int, sha256: str, *, small: bool) -> Response:
    """The file, after the same look-up for an inspection that does not exist and one the user may not see (404)."""
    with db(request) as s:
        data.visible_inspection(s, user.person, inspection_id)
        if not SHA256.fullmatch(sha256):
            raise NotFound("Không tìm thấy tệp đính kèm này của cuộc kiểm tra.", inspection_id=inspection_id)
        attachment = data.evidence_of(s, inspection_id, sha256)
        content_type, name = attachment.content_type, attachment.name
        s.rollback()  # a read: end it (on SQLite it holds the write lock)
    path = evidence.EvidenceStore.from_settings(request.app.state.settings).path_for(sha256)
    if not path.is_file():
        raise NotFound("Tệp đính kèm đã được ghi nhận nhưng không còn trong kho lưu trữ.", inspection_id=inspection_id)
    image = content_type in data.IMAGE_TYPES
    if small and image and (shrunk := thumbnail(path, sha256)) is not None:
        return Response(shrunk, media_type="image/jpeg", headers=FILE_HEADERS)
    return FileResponse(path, media_type=content_type, headers=FILE_HEADERS, filename=name,
                        content_disposition_type="inline" if image else "attachment")
