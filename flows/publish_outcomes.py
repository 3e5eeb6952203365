"""Flow ``publish-outcomes``: put final sanction outcomes on the public register, once each."""
from __future__ import annotations

from typing import Any

from prefect import flow, task

from flows._settings import settings
from models import InspectionStatus
from flows.portal_delivery import deliver as deliver_to_portal
from services.stages import publishing, records


@task(name="find-sanctioned-inspections")
def find_sanctioned(campaign_code: str) -> list[int]:
    return records.pending_inspection_ids(settings(), campaign_code, InspectionStatus.SANCTIONED)


@task(name="publish-and-rebuild-register")
def publish(campaign_code: str, inspection_ids: list[int]) -> dict[str, Any]:
    return publishing.publish_outcomes(settings(), campaign_code, inspection_ids).as_dict()


@flow(name="publish-outcomes")
def publish_outcomes(campaign_code: str) -> dict[str, Any]:
    """De-identified outcomes; the register's JSON, CSV and page are rebuilt from the stored publications; what is
    due goes to the province portal (the portal-delivery flow retries the rest on its schedule)."""
    out = publish(campaign_code, find_sanctioned(campaign_code))
    out["portal"] = deliver_to_portal()
    return out
