"""Flow ``deadline-sweeper``: once a day, issue the digitally signed drafts still waiting for the văn thư's step
(services/issuing/signing_sweep.py), send the issued records and decisions by e-mail, then move every legal deadline
(create, close, warn, escalate).

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
from services.issuing import signing_sweep
from services.stages import document_delivery, notify
from services import wiring

@task(name="issue-signed-documents")
def issue_signed(today: date) -> dict[str, Any]:
    """Signed drafts not issued yet: the văn thư's step again; past their Art.18 day (NĐ 30/2020), escalated once."""
    return signing_sweep.sweep_signed(wiring.current().settings, today).as_dict()


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
    day = today or today_in_vietnam()
    signed = issue_signed(day)  # a decision issued now is delivered and its deadline met in this same run
    documents = deliver_documents()
    out = sweep(day)
    out["documents"], out["signed"] = documents, signed
    out["notifications"] = deliver()
    return out
