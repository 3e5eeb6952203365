"""The officials' decision screen (issue 15): ``/console/inspections/{id}/decision``.

GET (an official, or a lead who may only read): each act of the file with the provision applied, its range, the
proposal and its working, the circumstances to pick, the amount; who is competent and whether the logged-in official
is (an official without competence sees why and has no button to issue). POST: "Tính lại" shows the page again with
the proposal for the circumstances ticked (no write); "Quyết định" calls the very function the API's
``POST /api/inspections/{id}/decision`` calls (:func:`services.intake.decisions.record_decision`, through the app's
batch writer) with the logged-in official as the actor, then, as the API does, issues the decision at once where
the law allows (:func:`services.intake.decision_issue.issue_now`) and shows the file again: the decision's number,
date and PDF and the violation record one click away, or why it waits and from which day.
A refusal of the rules (an amount without its reason, outside the range…) shows the form again with the errors (422).
"""
from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from models import PersonRole
from services.entry.http.console import decision_view as view
from services.entry.http.console.base import ConsoleUser, db, read_post, render, require, see_other, UserDep
from services.errors import IntakeError
from services.intake import decisions
from services.intake.decision_issue import issue_now, issue_state
from services.rules.calendar import today_in_vietnam

router = APIRouter(prefix="/console", include_in_schema=False)
InspectionId = Annotated[int, Path(ge=1, le=2**31 - 1)]
TEMPLATE = "console/decision.html"
RECALCULATE, ISSUE = "tinh_lai", "quyet_dinh"


def purpose(inspection_id: int) -> str:
    return f"decision:{inspection_id}"


@router.get("/inspections/{inspection_id}/decision", response_class=HTMLResponse)
def decision_screen(inspection_id: InspectionId, request: Request, user: UserDep,
                    issued: int = 0) -> HTMLResponse:
    require(user, PersonRole.OFFICIAL, PersonRole.LEAD)
    with db(request) as session:
        page = view.decision_page(session, user.person, inspection_id, on=today_in_vietnam())
        issue = issue_state(session, inspection_id) if page.decided else None
    return render(request, user, TEMPLATE, page=page, errors=[], issued=bool(issued), recalculated=False, issue=issue,
                  purpose=purpose(inspection_id), today=today_in_vietnam())


@router.post("/inspections/{inspection_id}/decision", response_class=HTMLResponse)
async def decide(inspection_id: InspectionId, request: Request, user: UserDep) -> Response:
    require(user, PersonRole.OFFICIAL, PersonRole.LEAD)
    form = await read_post(request, user, purpose(inspection_id))
    fields = form.fields
    with db(request) as session:
        ids = list(view.violations_of(session, inspection_id))
    body, errors = view.decision_body(fields, ids)
    if fields.get("hanh_dong") == ISSUE and body is not None:
        person = user.person
        try:
            await request.app.state.writer.run(
                lambda s: decisions.record_decision(s, person, inspection_id, body))
        except IntakeError as exc:
            errors = exc.field_errors() or [exc.message]
        else:  # committed: the decision itself is issued at once where the law allows (as the API does)
            await run_in_threadpool(issue_now, request.app.state.settings, inspection_id, actor=person.code)
            return see_other(f"/console/inspections/{inspection_id}/decision?issued=1")
    return _again(request, user, inspection_id, fields, ids, errors)


def _again(request: Request, user: ConsoleUser, inspection_id: int, fields: dict[str, str], ids: list[int],
           errors: list[str]) -> HTMLResponse:
    """The form shown again with what was sent: the proposal for the circumstances ticked (an amount left at the
    previous proposal follows the new one) and the errors, if any (422)."""
    picked = view.picked_from(fields, ids)
    sent = {vid: fields.get(f"{view.AMOUNT}.{vid}", "") for vid in ids}
    on = body_date(fields) or today_in_vietnam()
    with db(request) as session:
        page = view.decision_page(session, user.person, inspection_id, on=on, picked=picked, amounts=sent,
                                  reasons={vid: fields.get(f"{view.REASON}.{vid}", "") for vid in ids})
    for act in page.acts:
        previous = view.parse_amount(fields.get(f"{view.PROPOSAL}.{act.id}", ""))
        if previous is not None and view.parse_amount(act.amount) == previous:
            act.amount = str(act.proposal)
    page.decided_on = on
    page.referral_reason = fields.get(view.REFERRAL, "")
    return render(request, user, TEMPLATE, status=422 if errors else 200, page=page, errors=errors, issued=False,
                  recalculated=not errors, issue=None, purpose=purpose(inspection_id), today=today_in_vietnam())


def body_date(fields: dict[str, str]) -> date | None:
    try:
        return date.fromisoformat(fields.get(view.DECIDED_ON, ""))
    except ValueError:
        return None
