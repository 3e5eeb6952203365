"""Flow ``schedule-inspections``: form the inter-agency teams, place the visits on working days, issue the
decision to inspect, the teams' plans and the notices, and notify members and establishments."""
from __future__ import annotations

from typing import Any

from prefect import flow, task

from services.db import session_scope
from services.stages import notify, schedule_docs, scheduling
from services.stages.common import get_campaign
from services import wiring


@task(name="form-teams-and-schedule")
def form_teams_and_schedule(campaign_code: str) -> dict[str, Any]:
    return scheduling.schedule_inspections(wiring.current().settings, campaign_code).as_dict()


@task(name="issue-decision-plans-notices")
def issue_documents(campaign_code: str) -> dict[str, Any]:
    return schedule_docs.issue_schedule_documents(wiring.current().settings, campaign_code).as_dict()


@task(name="deliver-notifications", retries=2, retry_delay_seconds=5)
def deliver_notifications(campaign_code: str) -> dict[str, Any]:
    root = wiring.current()
    with session_scope(root.settings) as session:
        campaign_id = get_campaign(session, campaign_code).id
    return notify.deliver(root.settings, campaign_code, campaign_id, wiring=root).as_dict()


@flow(name="schedule-inspections")
def schedule_inspections(campaign_code: str) -> dict[str, Any]:
    """Teams (head from the lead agency, a Sở Y tế member), a visit per approved establishment, the documents
    and notifications (each step idempotent: a re-run completes what is missing)."""
    placed = form_teams_and_schedule(campaign_code)
    documents = issue_documents(campaign_code)
    sent = deliver_notifications(campaign_code)
    return {**placed, "documents": documents["done"] + documents["already"], "notifications_sent": sent["done"],
            "missing_contacts": documents.get("missing_contacts_count", 0)}
