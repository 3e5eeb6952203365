"""What every stage shares: the result record and kinds, and the campaign look-up (typed access to stored rows —
``id_of``, ``stored_id``, ``table_of`` — lives in models/base.py)."""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlmodel import Session, select

from models import Campaign, Inspection
from services import audit
from services.db import session_scope
from services.errors import KiemtraError, NotFound
from services.settings import Settings

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "system"


class Outcome(StrEnum):
    """What one inspection's step did (records, sanctions, publishing): a string, so JSON and logs read the same."""
    ISSUED = "issued"  # the document was issued now
    PUBLISHED = "published"  # the outcome was published now (or the inspection closed on its publication)
    ALREADY = "already"  # found done: an idempotent re-run, or the inspection moved on
    WAITING = "waiting"  # not yet: its inputs or its date are still to come
    ANNULLED = "annulled"  # the decision was annulled: the file closes unpublished


@dataclass
class StageResult:
    stage: str
    campaign_code: str
    done: int = 0  # units of work this run did
    already: int = 0  # units found already done (idempotent re-run)
    failed: list[int] = field(default_factory=list)  # inspections whose step failed (recorded on each, the rest went on)
    details: dict[str, Any] = field(default_factory=dict)
    waiting: int = 0  # units not ready yet (Outcome.WAITING: their inputs or their date are still to come)
    outcomes: dict[str, int] = field(default_factory=dict)  # per-inspection steps: how many ended with each Outcome

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "campaign_code": self.campaign_code, "done": self.done,
                "already": self.already, **({"waiting": self.waiting} if self.waiting else {}),
                **({"outcomes": dict(sorted(self.outcomes.items()))} if self.outcomes else {}),
                **({"failed": self.failed} if self.failed else {}), **self.details}


def get_campaign(session: Session, code: str, *, for_update: bool = False) -> Campaign:
    """``for_update``: lock the row until the transaction ends, so a stage's state check holds on PostgreSQL too
    (SQLite's write transactions are serial already; ``FOR UPDATE`` is not emitted there)."""
    query = select(Campaign).where(Campaign.code == code)
    campaign = session.exec(query.with_for_update() if for_update else query).first()
    if campaign is None:
        raise NotFound(f"Không tìm thấy đợt kiểm tra có mã '{code}'.", campaign_code=code)
    return campaign


DID_WORK = frozenset({Outcome.ISSUED, Outcome.PUBLISHED})


def per_inspection(stage: str, campaign_code: str, inspection_ids: Sequence[int], step: Callable[[int], bool | Outcome],
                   *, settings: Settings) -> StageResult:
    """Run ``step`` for each inspection (each its own transaction); it returns True (or ``Outcome.ISSUED`` /
    ``PUBLISHED``) when it did the work. An :class:`Outcome` is also counted in ``outcomes``, and ``WAITING`` goes to
    ``waiting`` rather than ``already``. One that fails is recorded (:func:`record_failure`) and skipped: the others go
    on, a later run retries it."""
    result = StageResult(stage, campaign_code)
    for inspection_id in inspection_ids:
        try:
            did = step(inspection_id)
        except (KiemtraError, ValueError) as exc:  # a domain refusal or a document that cannot be drawn
            record_failure(settings, stage, inspection_id, exc)
            result.failed.append(inspection_id)
            continue
        if isinstance(did, Outcome):
            result.outcomes[did.value] = result.outcomes.get(did.value, 0) + 1
            if did is Outcome.WAITING:
                result.waiting += 1
                continue
            did = did in DID_WORK
        if did:
            result.done += 1
        else:
            result.already += 1
    return result


def record_failure(settings: Settings, stage: str, inspection_id: int, error: Exception) -> None:
    """The inspection's failure, recorded (stage, error, time) in its own transaction so the others go on; the lead
    sees it in ``campaign status`` until a later run completes the inspection."""
    message = getattr(error, "message", None) or str(error)
    log.warning("stage %s failed on inspection %s: %s", stage, inspection_id, message)
    with session_scope(settings) as session:
        inspection = session.get(Inspection, inspection_id)
        if inspection is not None:
            audit.record(session, actor=SYSTEM_ACTOR, action="stage_failed", entity=inspection,
                         reason=f"{stage}: {message}"[:1000], data={"stage": stage, "error": type(error).__name__})
