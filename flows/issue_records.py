"""Flow ``issue-records``: biên bản kiểm tra and biên bản vi phạm hành chính for submitted findings."""
from __future__ import annotations

from typing import Any

from prefect import flow, task

from flows._batches import batches, merge
from models import InspectionStatus
from services.stages import records
from services import wiring


@task(name="find-approved-inspections")
def find_submitted(campaign_code: str) -> list[int]:
    return records.pending_inspection_ids(wiring.current().settings, campaign_code, InspectionStatus.FINDINGS_APPROVED)


@task(name="issue-records-batch")
def issue_batch(campaign_code: str, inspection_ids: list[int]) -> dict[str, Any]:
    return records.issue_records(wiring.current().settings, campaign_code, inspection_ids).as_dict()


@flow(name="issue-records")
def issue_records(campaign_code: str) -> dict[str, Any]:
    """One transaction per inspection: safe to re-run or resume after a crash."""
    ids = find_submitted(campaign_code)
    return merge("issue-records", campaign_code,
                 [issue_batch(campaign_code, batch) for batch in batches(ids, wiring.current().settings.batch_size)])
