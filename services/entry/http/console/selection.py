"""The lead's review of a proposed list (``/console/campaigns/{code}/selection``).

* ``GET`` — the list with each establishment's score, each factor's points (with units) and why it is on the list,
  sortable; the establishments removed, with who and why; a registry search (``?q=`` name or tax code, ``?xa=``
  commune) with an "add" form on each result. Leads and officials read it (as the selection API lets them).
* ``POST …/remove``, ``…/add``, ``…/approve`` — the lead's writes, through the very functions the selection API
  calls (:func:`services.stages.approval.change_selection`, :func:`~services.stages.approval.approve_selection`)
  with actor = the logged-in lead and the reason typed in the form, so the audit trail and the stored state are
  the API's.
* ``GET …/danh-sach.pdf`` and ``…/danh-sach.xlsx`` — the exported list, rendered in memory from the list as it
  stands now (:func:`services.stages.selection_docs.selection_file`: the bytes ``kiemtra selection export`` writes;
  a download writes nothing).
"""
from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from models import CampaignStatus, PersonRole
from services.entry.http.console.base import ConsoleUser, console_user, db, read_post, render, require, see_other
from services.entry.http.console.selection_view import SORTS, SearchQuery, search_registry, selection_list, sort_rows
from services.errors import NotFound, Refused
from services.stages import approval
from services.stages.common import get_campaign

router = APIRouter(prefix="/console", include_in_schema=False)
Code = Annotated[str, PathParam(min_length=1, max_length=64)]
User = Annotated[ConsoleUser, Depends(console_user)]
READERS = (PersonRole.LEAD, PersonRole.OFFICIAL)
DONE_VI = {"loai": "Đã loại cơ sở khỏi danh sách.", "them": "Đã bổ sung cơ sở vào danh sách.",
           "duyet": "Đã phê duyệt danh sách."}
DOWNLOADS = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def page_url(code: str) -> str:
    return f"/console/campaigns/{quote(code, safe='')}/selection"


def purpose(code: str) -> str:
    """The CSRF purpose of every form of the page."""
    return f"selection:{code}"


@router.get("/campaigns/{code}/selection", response_class=HTMLResponse)
def selection_page(request: Request, code: Code, user: User) -> HTMLResponse:
    require(user, *READERS)
    params = request.query_params
    sort = params.get("sap_xep", "diem")
    sort = sort if sort in SORTS else "diem"
    query = SearchQuery.from_params(params)
    with db(request) as s:
        campaign = get_campaign(s, code)
        view = selection_list(s, campaign)
        found, more = search_registry(s, campaign, query)
    may_change = user.person.role in (PersonRole.LEAD, PersonRole.ADMIN) and campaign.status == CampaignStatus.SELECTED
    kept = {"q": query.q, "xa": query.xa}
    sort_links = {key: f"{page_url(code)}?{urlencode({**{k: v for k, v in kept.items() if v}, 'sap_xep': key})}"
                  for key in SORTS}
    return render(request, user, "console/selection.html", campaign=campaign, view=view,
                  rows=sort_rows(view.active, sort), sort=sort, sorts=SORTS, sort_links=sort_links, query=query,
                  found=found, more=more, may_change=may_change, page_url=page_url(code), purpose=purpose(code),
                  done=DONE_VI.get(params.get("xong", ""), ""), status_vi=STATUS_VI.get(str(campaign.status), ""))


STATUS_VI = {"draft": "Chưa lập danh sách", "selected": "Danh sách đề xuất, chờ phê duyệt", "approved": "Đã phê duyệt",
             "scheduled": "Đã lập lịch", "fieldwork": "Đang kiểm tra", "closed": "Đã kết thúc"}


def _change(form_tax_code: str, reason: str, what: str) -> approval.Change:
    """The form's change, refused here only when the reason is blank (the stage refuses the rest)."""
    if not reason.strip():
        raise Refused(f"Phải ghi lý do {what}.", errors=[f"Lý do: phải ghi lý do {what}"])
    return approval.Change(form_tax_code.strip(), reason.strip())


async def _one_change(request: Request, code: str, user: ConsoleUser, *, adding: bool) -> Response:
    """One establishment removed from or added to the list, with its reason (the selection API's change)."""
    require(user, PersonRole.LEAD)
    form = await read_post(request, user, purpose(code))
    change = _change(form.get("tax_code"), form.get("reason"), "bổ sung cơ sở" if adding else "loại cơ sở khỏi danh sách")
    await run_in_threadpool(approval.change_selection, request.app.state.settings, code, by=user.person.code,
                            **{"add" if adding else "remove": [change]})
    return see_other(f"{page_url(code)}?xong={'them' if adding else 'loai'}")


@router.post("/campaigns/{code}/selection/remove")
async def remove(request: Request, code: Code, user: User) -> Response:
    return await _one_change(request, code, user, adding=False)


@router.post("/campaigns/{code}/selection/add")
async def add(request: Request, code: Code, user: User) -> Response:
    return await _one_change(request, code, user, adding=True)


@router.post("/campaigns/{code}/selection/approve")
async def approve(request: Request, code: Code, user: User) -> Response:
    require(user, PersonRole.LEAD)
    form = await read_post(request, user, purpose(code))
    if form.get("xac_nhan") != "co":
        raise Refused("Hãy đánh dấu ô xác nhận trước khi phê duyệt danh sách.",
                      errors=["Xác nhận: chưa đánh dấu ô «Tôi đã xem và phê duyệt danh sách này»"])
    await run_in_threadpool(approval.approve_selection, request.app.state.settings, code, by=user.person.code,
                            note=form.get("note").strip())
    return see_other(f"{page_url(code)}?xong=duyet")


def _export(request: Request, code: str, kind: Literal["pdf", "xlsx"]) -> bytes:
    from services.stages.selection_docs import selection_file

    return selection_file(request.app.state.settings, code, kind)  # an unknown campaign: NotFound, a 404


@router.get("/campaigns/{code}/selection/danh-sach.{kind}")
def download(request: Request, code: Code, kind: str, user: User) -> Response:
    """The list as PDF or XLSX, exported from the list as it stands (same bytes for the same list)."""
    require(user, *READERS)
    if kind not in DOWNLOADS:
        raise NotFound("Không có tệp này.")
    media_type = DOWNLOADS[kind]
    data = _export(request, code, "pdf" if kind == "pdf" else "xlsx")
    filename = quote(f"Danh sách cơ sở dự kiến kiểm tra - {code}.{kind}")
    return Response(data, media_type=media_type,
                    headers={"Content-Disposition": f"attachment; filename*=utf-8''{filename}",
                             "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
