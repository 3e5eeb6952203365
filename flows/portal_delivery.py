"""Flow ``portal-delivery``: send the publications that are due to the province portal and the decisions' events due
to the national violations database (docs/national-feed.md), retrying with backoff, and rebuild the public register
(entries past their retention period leave it even when nothing else happens).

Short and idempotent over the stored state (services/delivery/portal.py, services/publishing/register.py); scheduled every 15 minutes
in prefect.yaml.
"""
from __future__ import annotations

from typing import Any

from prefect import flow, task

from services.stages import national_report, portal_delivery as portal_stage
from services.publishing.register import write_register
from services import wiring


@task(name="deliver-to-portal")
def deliver() -> dict[str, Any]:
    root = wiring.current()
    return portal_stage.deliver(root.settings, wiring=root).as_dict()


@task(name="deliver-to-national-feed")
def deliver_national_feed() -> dict[str, Any]:
    """Decisions' events to the national violations database (services/stages/national_report.py)."""
    root = wiring.current()
    return national_report.deliver(root.settings, wiring=root).as_dict()


@task(name="rebuild-register")
def rebuild_register() -> str:
    return str(write_register(wiring.current().settings))


@flow(name="portal-delivery")
def portal_delivery() -> dict[str, Any]:
    """Publications, amendments and withdrawals that are due, each once; dead letters wait for the lead."""
    out = deliver()
    out["national_feed"] = deliver_national_feed()
    out["register"] = rebuild_register()
    return out
