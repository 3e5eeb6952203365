"""The console's inbox (``/console/``, "Việc cần làm"): what waits for the logged-in person, by role
(:mod:`services.entry.http.console.inbox_queries`). A GET only: nothing is written."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.entry.http.console.base import db, render, UserDep
from services.entry.http.console.inbox_queries import inbox_for
from services.rules.calendar import today_in_vietnam

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def inbox_page(request: Request, user: UserDep) -> HTMLResponse:
    today = today_in_vietnam()
    with db(request) as s:
        sections = inbox_for(s, user.person, today)
    waiting = sum(len(section.items) for section in sections)
    return render(request, user, "console/inbox.html", sections=sections, today=today, waiting=waiting)
