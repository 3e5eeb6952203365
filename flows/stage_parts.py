"""Flow ``stage-part`` and its dispatcher: a stage's inspections shared by the process workers.

The expensive per-inspection stages (records, proposals and decisions: a PDF each) can be split into ``parts`` parts,
each submitted as a flow run of the ``stage-part`` deployment (``run_deployment``) that whichever process worker is
free picks up; :func:`run_in_parts` waits for them all. Each inspection is still its own transaction and document
numbers are reserved in short transactions (services/documents/numbering.py), so the parts do not wait for one another
on an issuer's number series: N workers make the documents about N times as fast, cores permitting. A part that fails
leaves its inspections for a later run, as a batch does.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, cast

from prefect import flow

from models import InspectionStatus
from services import wiring
from services.db import session_scope
from services.stages import records, sanctions
from services.stages.common import get_campaign
from services.settings import Settings

PART_DEPLOYMENT = "stage-part/stage-part"
POLL_S = 0.5
FINAL_TIMEOUT_S = 6 * 3600.0


def _records(settings: Settings, code: str, ids: Sequence[int]) -> dict[str, Any]:
    return records.issue_records(settings, code, ids).as_dict()


def _decisions(settings: Settings, code: str, ids: Sequence[int]) -> dict[str, Any]:
    return sanctions.decide_sanctions(settings, code, ids).as_dict()


STAGES: dict[str, Callable[[Settings, str, Sequence[int]], dict[str, Any]]] = {
    "issue-records": _records, "decide-sanctions": _decisions}


@flow(name="stage-part")
def stage_part(stage: str, campaign_code: str, inspection_ids: list[int]) -> dict[str, Any]:
    """One part of a stage (``issue-records`` or ``decide-sanctions``) for the given inspections."""
    return STAGES[stage](wiring.current().settings, campaign_code, inspection_ids)


def pending_ids(stage: str, campaign_code: str) -> list[int]:
    settings = wiring.current().settings
    if stage == "issue-records":
        return records.pending_inspection_ids(settings, campaign_code, InspectionStatus.FINDINGS_APPROVED)
    with session_scope(settings) as session:
        campaign_id = get_campaign(session, campaign_code).id
    assert campaign_id is not None
    return sanctions.ready_inspection_ids(settings, campaign_id)


def split(ids: Sequence[int], parts: int) -> list[list[int]]:
    """Round robin, so that the parts carry alike work (inspections of a team are consecutive ids)."""
    return [chunk for chunk in (list(ids[i::max(parts, 1)]) for i in range(max(parts, 1))) if chunk]


def _wait_final(run_ids: list[Any]) -> list[Any]:
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + FINAL_TIMEOUT_S
    with get_client(sync_client=True) as client:
        while True:
            runs = [client.read_flow_run(run_id) for run_id in run_ids]
            if all(r.state is not None and r.state.is_final() for r in runs):
                return runs
            if time.monotonic() > deadline:
                raise TimeoutError(f"stage parts not finished after {FINAL_TIMEOUT_S:.0f} s: {run_ids}")
            time.sleep(POLL_S)


def run_in_parts(stage: str, campaign_code: str, parts: int) -> dict[str, Any]:
    """Submit the stage's pending inspections as ``parts`` flow runs of the ``stage-part`` deployment; wait for all."""
    from prefect.deployments import run_deployment

    ids = pending_ids(stage, campaign_code)
    submitted = [cast(Any, run_deployment)(PART_DEPLOYMENT, timeout=0, parameters={
        "stage": stage, "campaign_code": campaign_code, "inspection_ids": chunk}) for chunk in split(ids, parts)]
    runs = _wait_final([run.id for run in submitted])
    failed = [str(r.id) for r in runs if r.state is None or not r.state.is_completed()]
    if failed:
        raise RuntimeError(f"{stage}: {len(failed)} of {len(runs)} parts did not complete: {failed}")
    return {"stage": stage, "campaign_code": campaign_code, "inspections": len(ids), "parts": len(runs),
            "flow_runs": [str(r.id) for r in runs]}
