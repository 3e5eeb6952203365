"""A campaign's schedule (``/console/campaigns/{code}/schedule``): each team's calendar, moving a visit, the documents.

* ``GET`` — every team's days with each visit's time, establishment and address (leads and officials read it),
  and the decision to inspect, the teams' plans and the notices with their numbers, dates and revisions.
* ``POST …/move`` — the lead moves one visit with a reason (and, if the establishment named one, a day it cannot
  receive the team) through :func:`services.stages.rescheduling.reschedule_visit`, the function ``kiemtra schedule
  move`` calls: the same rules, the same replacement notices and plans, the same audit; its Vietnamese refusal when
  no other day fits is the page's answer.
* ``GET …/van-ban/{id}`` — one of those documents (PDF), for leads and officials.
"""
from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from models import CampaignStatus, Document, PersonRole
from services.entry.http.console.base import ConsoleUser, console_user, db, read_post, render, require, see_other
from services.entry.http.console.schedule_view import (SCHEDULE_DOCUMENTS, calendar, document_filename,
                                                       schedule_documents)
from services.errors import NotFound, Refused
from services.stages.common import get_campaign
from services.stages.rescheduling import reschedule_visit

router = APIRouter(prefix="/console", include_in_schema=False)
Code = Annotated[str, PathParam(min_length=1, max_length=64)]
DocumentId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]
User = Annotated[ConsoleUser, Depends(console_user)]
READERS = (PersonRole.LEAD, PersonRole.OFFICIAL)


def page_url(code: str) -> str:
    return f"/console/campaigns/{quote(code, safe='')}/schedule"


def purpose(code: str) -> str:
    return f"schedule:{code}"


@router.get("/campaigns/{code}/schedule", response_class=HTMLResponse)
def schedule_page(request: Request, code: Code, user: User) -> HTMLResponse:
    require(user, *READERS)
    with db(request) as s:
        campaign = get_campaign(s, code)
        teams = calendar(s, campaign)
        documents = schedule_documents(s, campaign)
    may_move = (user.person.role in (PersonRole.LEAD, PersonRole.ADMIN)
                and campaign.status in (CampaignStatus.SCHEDULED, CampaignStatus.FIELDWORK))
    moved = request.query_params.get("doi", "")
    return render(request, user, "console/schedule.html", campaign=campaign, teams=teams, documents=documents,
                  may_move=may_move, page_url=page_url(code), purpose=purpose(code),
                  done=f"Đã đổi lịch cơ sở {moved}; thông báo và kế hoạch thay thế đã được ban hành." if moved else "")


def _not_on(text: str) -> frozenset[date]:
    if not text.strip():
        return frozenset()
    try:
        return frozenset({date.fromisoformat(text.strip())})
    except ValueError:
        raise Refused("Ngày cơ sở không thể tiếp đoàn không hợp lệ.",
                      errors=[f"Ngày không tiếp đoàn: '{text.strip()}' không phải là một ngày"]) from None


@router.post("/campaigns/{code}/schedule/move")
async def move(request: Request, code: Code, user: User) -> Response:
    require(user, PersonRole.LEAD)
    form = await read_post(request, user, purpose(code))
    tax_code, reason = form.get("tax_code").strip(), form.get("reason").strip()
    if not reason:
        raise Refused("Phải ghi lý do đổi lịch.", errors=["Lý do: phải ghi lý do đổi lịch"])
    moves = await run_in_threadpool(lambda: reschedule_visit(request.app.state.settings, code, tax_code=tax_code,
                                                             reason=reason, by=user.person.code,
                                                             not_on=_not_on(form.get("not_on"))))
    return see_other(f"{page_url(code)}?doi={quote(', '.join(m.tax_code for m in moves))}")


@router.get("/campaigns/{code}/schedule/van-ban/{document_id}")
def document(request: Request, code: Code, document_id: DocumentId, user: User) -> Response:
    """A decision, plan or notice of this campaign (its stored PDF)."""
    require(user, *READERS)
    with db(request) as s:
        campaign = get_campaign(s, code)
        row = s.get(Document, document_id)
    if row is None or row.campaign_id != campaign.id or row.doc_type not in SCHEDULE_DOCUMENTS:
        raise NotFound("Không có văn bản này trong lịch kiểm tra của đợt.", document_id=document_id)
    store = request.app.state.settings.documents_path.resolve()
    path = (store / row.path).resolve()
    if not path.is_relative_to(store) or not path.is_file():
        raise NotFound("Không tìm thấy tệp của văn bản này.", document_id=document_id)
    return FileResponse(path, media_type="application/pdf", filename=document_filename(row),
                        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
