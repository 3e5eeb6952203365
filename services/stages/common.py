"""What every stage shares: the result record and campaign look-up."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from models import Campaign
from services.errors import NotFound

SYSTEM_ACTOR = "system"


@dataclass
class StageResult:
    stage: str
    campaign_code: str
    done: int = 0  # units of work this run did
    already: int = 0  # units found already done (idempotent re-run)
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "campaign_code": self.campaign_code, "done": self.done,
                "already": self.already, **self.details}


def get_campaign(session: Session, code: str, *, for_update: bool = False) -> Campaign:
    """``for_update``: lock the row until the transaction ends, so a stage's state check holds on PostgreSQL too
    (SQLite's write transactions are serial already; ``FOR UPDATE`` is not emitted there)."""
    query = select(Campaign).where(Campaign.code == code)
    campaign = session.exec(query.with_for_update() if for_update else query).first()
    if campaign is None:
        raise NotFound(f"Không tìm thấy đợt kiểm tra có mã '{code}'.", campaign_code=code)
    return campaign


def per_inspection(stage: str, campaign_code: str, inspection_ids: Sequence[int],
                   step: Callable[[int], bool]) -> StageResult:
    """Run ``step`` for each inspection (each its own transaction); it returns True when it did the work."""
    result = StageResult(stage, campaign_code)
    for inspection_id in inspection_ids:
        if step(inspection_id):
            result.done += 1
        else:
            result.already += 1
    return result
