"""Flow ``select-establishments``: propose the campaign's establishments by risk."""
from __future__ import annotations

from typing import Any

from prefect import flow, task

from services.stages import selection
from services import wiring


@task(name="select-by-risk")
def select_by_risk(campaign_code: str) -> dict[str, Any]:
    return selection.select_establishments(wiring.current().settings, campaign_code).as_dict()


@flow(name="select-establishments", log_prints=False)
def select_establishments(campaign_code: str) -> dict[str, Any]:
    """Score the registry with the risk policy in force and store the proposed list (idempotent)."""
    return select_by_risk(campaign_code)
