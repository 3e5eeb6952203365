"""The console (issue 15): Vietnamese pages under ``/console`` for leads, officials and admins.

Each page group is a module with ``router = APIRouter(prefix="/console", include_in_schema=False)``; add it to
``ROUTERS`` below. :func:`install` adds the routers and the console's error handlers to the app.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from services.entry.http.console import auth, base, campaigns, inbox
from services.entry.http.console import decisions, documents
from services.entry.http.console import schedule, selection
from services.entry.http.console import deadlines, people
from services.entry.http.console import findings
from services.entry.http.console import signing
from services.entry.http.console.access_rules import check_visible

ROUTERS = [
    auth.router,
    inbox.router,
    campaigns.router,
    decisions.router,
    documents.router,
    selection.router,
    schedule.router,
    deadlines.router,
    people.router,
    findings.router,
    signing.router,
]

console_router = APIRouter()
for _router in ROUTERS:  # every page but login/logout: who may see the campaign, inspection, document, deadline
    console_router.include_router(_router, dependencies=[] if _router is auth.router else [Depends(check_visible)])


def install(app: FastAPI) -> None:
    """The console's pages and its handlers (refusals → the Vietnamese error page, a missing login → 303)."""
    app.include_router(console_router)
    base.install(app)
