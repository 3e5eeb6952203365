"""Flow ``schedule-inspections``: form the inter-agency teams and place the visits on working days."""
from __future__ import annotations

from typing import Any

from prefect import flow, task

from flows._settings import settings
from services.stages import scheduling


@task(name="form-teams-and-schedule")
def form_teams_and_schedule(campaign_code: str) -> dict[str, Any]:
    return scheduling.schedule_inspections(settings(), campaign_code).as_dict()


@flow(name="schedule-inspections")
def schedule_inspections(campaign_code: str) -> dict[str, Any]:
    """Teams (head from the lead agency, a Sở Y tế member) and a visit per selected establishment (idempotent)."""
    return form_teams_and_schedule(campaign_code)
