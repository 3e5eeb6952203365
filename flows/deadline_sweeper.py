"""Flow ``deadline-sweeper``: once a day, send the issued records and decisions by e-mail, then move every legal
deadline (create, close, warn, escalate).

Short and idempotent over the stored state (services/stages/deadlines.py): it never waits for a due date, it is
simply run again tomorrow (the deployment in prefect.yaml has a daily schedule). ``today`` is a parameter so
a case can be walked through time; by default it is the date in Việt Nam.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task

from services.stages import deadlines
from services.rules.calendar import today_in_vietnam
from services.stages import document_delivery, notify
from services import wiring

@task(name="sweep-deadlines")
def sweep(today: date) -> dict[str, Any]:
    return deadlines.sweep(wiring.current().settings, today).as_dict()


@task(name="deliver-deadline-notifications")
def deliver() -> dict[str, Any]:
    """Send the warnings and escalations now (through the gateway, each once), not at the next campaign run."""
    root = wiring.current()
    return notify.deliver(root.settings, "*", wiring=root).as_dict()


@task(name="deliver-documents")
def deliver_documents() -> dict[str, Any]:
    """Send the issued records and decisions to the violators by e-mail (each once); a decision sent meets its
    sending deadline, so this runs before the sweep warns about it."""
    return document_delivery.deliver(wiring.current().settings).as_dict()


@flow(name="deadline-sweeper")
def deadline_sweeper(today: date | None = None) -> dict[str, Any]:
    """Deadlines of every campaign: warnings before the due date, escalations after it (each once)."""
    documents = deliver_documents()
    out = sweep(today or today_in_vietnam())
    out["documents"] = documents
    out["notifications"] = deliver()
    return out
