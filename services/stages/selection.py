"""Stage 1: select establishments by risk (DOMAIN.md section 2.2 and 5)."""
from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlmodel import select

from models import CampaignStatus, Establishment, Selection
from models.establishment import ESTABLISHMENT_COLUMNS
from services import audit
from services.db import session_scope
from services.rules.risk import is_eligible, policy_for, score_all, select_top, snapshot_sha256
from services.settings import Settings
from services.stages.common import SYSTEM_ACTOR, StageResult, get_campaign

STAGE = "select-establishments"


def default_seed(campaign_code: str) -> int:
    return int(hashlib.sha256(campaign_code.encode()).hexdigest()[:8], 16)


def select_establishments(settings: Settings, campaign_code: str, *, actor: str = SYSTEM_ACTOR) -> StageResult:
    result = StageResult(STAGE, campaign_code)
    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code)
        if campaign.status != CampaignStatus.DRAFT:
            result.already = len(session.exec(select(Selection.id).where(Selection.campaign_id == campaign.id)).all())
            return result
        policy = policy_for(campaign.period_start)
        seed = campaign.selection_seed if campaign.selection_seed is not None else default_seed(campaign.code)
        table = Establishment.__table__  # type: ignore[attr-defined]
        query = sa.select(table).where(table.c.province_code == campaign.province_code)
        if campaign.commune_codes:
            query = query.where(table.c.commune_code.in_(campaign.commune_codes))
        rows = session.connection().execute(query).mappings().all()
        eligible = [r for r in rows if is_eligible(r, policy, campaign.period_start)]
        chosen = select_top(score_all(eligible, policy, campaign.period_start, seed), campaign.quota)
        if chosen:
            session.connection().execute(sa.insert(Selection.__table__), [  # type: ignore[attr-defined]
                {"campaign_id": campaign.id, "establishment_id": s.establishment_id, "rank": i + 1,
                 "score": s.score, "factors": s.factors} for i, s in enumerate(chosen)])
        campaign.risk_policy_version = policy.version
        campaign.selection_seed = seed
        campaign.registry_snapshot_sha256 = snapshot_sha256(rows, ESTABLISHMENT_COLUMNS)
        audit.transition(session, campaign, CampaignStatus.SELECTED, actor=actor,
                         reason=f"Chọn {len(chosen)}/{len(eligible)} cơ sở đủ điều kiện theo chính sách rủi ro "
                                f"{policy.version} (seed {seed})")
        result.done = len(chosen)
        result.details = {"registry": len(rows), "eligible": len(eligible), "policy": policy.version, "seed": seed}
    return result
