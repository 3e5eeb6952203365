"""Flow ``run-campaign``: drive a campaign through whatever stages its stored state allows.

It never waits: stages that have nothing to do are not started, and what the campaign waits for
(inspectors' findings, officials' decisions) is reported. Re-run it at any time.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from prefect import flow, task

from flows.decide_sanctions import decide_sanctions
from flows.issue_records import issue_records
from flows.publish_outcomes import publish_outcomes
from flows.schedule_inspections import deliver_notifications, schedule_inspections
from flows.select_establishments import select_establishments
from flows.stage_parts import run_in_parts
from services.stages import publishing, status
from services import wiring


@task(name="read-campaign-state")
def read_state(campaign_code: str) -> dict[str, Any]:
    return status.campaign_status(wiring.current().settings, campaign_code)


@task(name="close-campaign-if-done")
def close_if_done(campaign_code: str) -> bool:
    return publishing.close_campaign_if_done(wiring.current().settings, campaign_code)


def _timed(stage_flow: Callable[[str], dict[str, Any]], campaign_code: str) -> dict[str, Any]:
    start = time.monotonic()
    result = dict(stage_flow(campaign_code))
    result["seconds"] = round(time.monotonic() - start, 3)
    return result


def _in_parts(stage: str, parts: int, whole: Callable[[str], dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    """The stage as one subflow, or with ``parts`` > 0 as that many flow runs of the ``stage-part`` deployment, which
    the process workers share (flows/stage_parts.py)."""
    return whole if parts <= 0 else (lambda code: run_in_parts(stage, code, parts))


@flow(name="run-campaign")
def run_campaign(campaign_code: str, parts: int = 0) -> dict[str, Any]:
    """Runs, as subflows, only the stages the stored state allows; returns them and the campaign's state. With
    ``parts``, records and decisions are issued by the workers in that many parts each."""
    stages: list[dict[str, Any]] = []
    state = read_state(campaign_code)
    if state["status"] == "draft":
        stages.append(_timed(select_establishments, campaign_code))
        state = read_state(campaign_code)
    if state["status"] == "approved" or state["notices_missing"]:  # "selected" waits for the lead's approval
        stages.append(_timed(schedule_inspections, campaign_code))
        state = read_state(campaign_code)
    if state["inspections"]["findings_approved"]:
        stages.append(_timed(_in_parts("issue-records", parts, issue_records), campaign_code))
        state = read_state(campaign_code)
    if state["ready_for_decision"]:
        stages.append(_timed(_in_parts("decide-sanctions", parts, decide_sanctions), campaign_code))
        state = read_state(campaign_code)
    if state["inspections"]["sanctioned"]:
        stages.append(_timed(publish_outcomes, campaign_code))
    elif state["status"] == "fieldwork":
        close_if_done(campaign_code)
    if read_state(campaign_code)["notifications_pending"] and wiring.current().settings.gateway_url:
        deliver_notifications(campaign_code)
    return {"stages": stages, "state": read_state(campaign_code)}
