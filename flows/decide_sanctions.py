"""Flow ``decide-sanctions``: issue the quyết định xử phạt where the competent official set the amounts."""
from __future__ import annotations

from typing import Any

from prefect import flow, task

from flows._batches import batches, merge
from services.stages import sanctions
from services.stages.common import get_campaign
from services.db import session_scope
from services import wiring


@task(name="find-decided-files")
def find_decided(campaign_code: str) -> list[int]:
    with session_scope(wiring.current().settings) as session:
        campaign_id = get_campaign(session, campaign_code).id
    assert campaign_id is not None
    return sanctions.ready_inspection_ids(wiring.current().settings, campaign_id)


@task(name="issue-decisions-batch")
def issue_batch(campaign_code: str, inspection_ids: list[int]) -> dict[str, Any]:
    return sanctions.decide_sanctions(wiring.current().settings, campaign_code, inspection_ids).as_dict()


@flow(name="decide-sanctions")
def decide_sanctions(campaign_code: str) -> dict[str, Any]:
    """Files still waiting for the official's amounts are left for a later run."""
    ids = find_decided(campaign_code)
    return merge("decide-sanctions", campaign_code,
                 [issue_batch(campaign_code, batch) for batch in batches(ids, wiring.current().settings.batch_size)])
