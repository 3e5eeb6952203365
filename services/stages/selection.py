"""Stage 1: propose the establishments a campaign visits (DOMAIN.md sections 2.2 and 5).

The database ranks the registry with the risk policy compiled to SQL (``services.rules.risk_sql``);
Python explains only the establishments chosen (each factor's points). A planned campaign takes the
highest scores among establishments not inspected within the policy's window (Chỉ thị 20/CT-TTg),
within optional per-commune and per-sector caps, plus a seeded random control sample of lower-risk
ones; a surprise (đột xuất) campaign takes only establishments with a recorded trigger. The policy
version, the seed and a fingerprint of the registry rows are stored, so :func:`verify_selection`
re-derives the same list.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from models import Campaign, CampaignKind, CampaignStatus, Establishment, InspectionTrigger, Selection, SelectionKind
from services import audit
from services.db import session_scope
from services.errors import StageBlocked
from services.rules.risk import RiskPolicy, factor_contributions, policy_for, policy_version
from services.registry.fingerprint import random_key
from services.registry.fingerprint import seeded_order as seeded_order_value
from services.rules.risk_sql import eligible, score_expression, seeded_order
from services.settings import Settings
from services.stages.common import SYSTEM_ACTOR, StageResult, get_campaign

STAGE = "select-establishments"
ID_CHUNK = 900


@dataclass(frozen=True)
class Pick:
    establishment_id: int
    kind: SelectionKind
    score: float


@dataclass(frozen=True)
class Fingerprint:
    rows: int
    sha256: str


def default_seed(campaign_code: str) -> int:
    return int(hashlib.sha256(campaign_code.encode()).hexdigest()[:8], 16)


def _table() -> sa.Table:
    return Establishment.__table__  # type: ignore[attr-defined,no-any-return]


def scope(t: sa.Table, campaign: Campaign) -> list[Any]:
    conditions: list[Any] = []
    if campaign.province_code:
        conditions.append(t.c.province_code == campaign.province_code)
    if campaign.commune_codes:
        conditions.append(t.c.commune_code.in_(campaign.commune_codes))
    if campaign.sector_codes:
        conditions.append(t.c.sector_vsic.in_(campaign.sector_codes))
    return conditions


def fingerprint(session: Session, campaign: Campaign) -> Fingerprint:
    """Count and checksum of the registry rows in the campaign's scope (order-independent, in SQL)."""
    t = _table()
    rows, total = session.connection().execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(t.c.row_checksum), 0)).where(*scope(t, campaign))).one()
    return Fingerprint(int(rows), hashlib.sha256(f"{rows}:{total}".encode()).hexdigest())


def control_size(quota: int, policy: RiskPolicy) -> int:
    return int(quota * policy.control_share) if quota >= 20 else 0


def _risk_picks(session: Session, campaign: Campaign, policy: RiskPolicy, seed: int, wanted: int) -> list[Pick]:
    """Highest scores first; equal scores in the seeded order.

    The database sorts by score alone (the cheap top-N sort) and returns a margin of extra rows; the
    seeded tie-break is applied here. When the margin still ends on the boundary's score (a large tie),
    the query is repeated with the tie-break inside SQL, so the result is always exactly the ordering
    ``score DESC, seeded_order``.
    """
    t = _table()
    score = score_expression(t, policy, campaign.period_start).label("score")
    query = (sa.select(t.c.id, t.c.random_key, t.c.commune_code, t.c.sector_vsic, score)
             .where(*scope(t, campaign), eligible(t, policy, campaign.period_start)))
    conn = session.connection()
    if campaign.per_commune_max is None and campaign.per_sector_max is None:
        margin = max(64, wanted // 10)
        rows = conn.execute(query.order_by(score.desc()).limit(wanted + margin)).all()
        exact = len(rows) < wanted + margin or rows[-1].score < rows[min(wanted, len(rows)) - 1].score
        if not exact:
            rows = conn.execute(query.order_by(score.desc(), seeded_order(t, seed)).limit(wanted)).all()
        rows = sorted(rows, key=lambda r: (-r.score, seeded_order_value(r.random_key, seed)))[:wanted]
        return [Pick(r.id, SelectionKind.RISK, r.score) for r in rows]
    picks: list[Pick] = []
    per_commune: Counter[str] = Counter()
    per_sector: Counter[str] = Counter()
    # stream this statement only (Connection.execution_options would change the session's connection for good), and
    # close the cursor when the caps are met before the end (on PostgreSQL it is a server-side cursor)
    result = conn.execute(query.order_by(score.desc(), seeded_order(t, seed)), execution_options={"stream_results": True})
    try:
        for r in result:
            if campaign.per_commune_max is not None and per_commune[r.commune_code] >= campaign.per_commune_max:
                continue
            if campaign.per_sector_max is not None and per_sector[r.sector_vsic] >= campaign.per_sector_max:
                continue
            per_commune[r.commune_code] += 1
            per_sector[r.sector_vsic] += 1
            picks.append(Pick(r.id, SelectionKind.RISK, r.score))
            if len(picks) == wanted:
                break
    finally:
        result.close()
    return picks


def _control_picks(session: Session, campaign: Campaign, policy: RiskPolicy, seed: int, wanted: int,
                   taken: set[int]) -> list[Pick]:
    """A seeded random sample of the eligible establishments the risk ranking did not take.

    ``random_key`` is a uniform hash of the tax code; the seed picks a starting point on it and the sample
    is the next establishments in key order (wrapping around), read through the key's index.
    """
    if wanted <= 0:
        return []
    t = _table()
    start = random_key(f"control-sample:{seed}")  # a uniform starting point on the key for this seed
    base = sa.select(t.c.id).where(*scope(t, campaign), eligible(t, policy, campaign.period_start))
    limit = wanted + len(taken)
    ids = list(session.connection().execute(
        base.where(t.c.random_key >= start).order_by(t.c.random_key, t.c.id).limit(limit)).scalars())
    if len(ids) < limit:
        ids += session.connection().execute(
            base.where(t.c.random_key < start).order_by(t.c.random_key, t.c.id).limit(limit - len(ids))).scalars().all()
    chosen = [i for i in ids if i not in taken][:wanted]
    scores = _scores(session, chosen, policy, campaign)
    return [Pick(i, SelectionKind.CONTROL, scores[i]) for i in chosen]


def _trigger_picks(session: Session, campaign: Campaign, policy: RiskPolicy, seed: int) -> list[Pick]:
    """Đột xuất: only establishments with a complaint, accident or referral recorded in the window."""
    t = _table()
    since = campaign.period_start - timedelta(days=policy.trigger_window_days)
    triggered = sa.select(InspectionTrigger.establishment_id).where(  # type: ignore[call-overload]
        InspectionTrigger.received_on >= since, InspectionTrigger.received_on <= campaign.period_end)
    score = score_expression(t, policy, campaign.period_start).label("score")
    rows = session.connection().execute(
        sa.select(t.c.id, score).where(*scope(t, campaign), t.c.id.in_(triggered))
        .order_by(score.desc(), seeded_order(t, seed)).limit(campaign.quota))
    return [Pick(r.id, SelectionKind.TRIGGER, r.score) for r in rows]


def derive(session: Session, campaign: Campaign, policy: RiskPolicy, seed: int) -> list[Pick]:
    """The engine's proposal for a campaign, in rank order (a pure function of policy, seed and registry)."""
    if campaign.kind == CampaignKind.SURPRISE:
        return _trigger_picks(session, campaign, policy, seed)
    control = control_size(campaign.quota, policy)
    risk = _risk_picks(session, campaign, policy, seed, campaign.quota - control)
    return risk + _control_picks(session, campaign, policy, seed, control, {p.establishment_id for p in risk})


def _rows_by_id(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    t = _table()
    out: dict[int, Any] = {}
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start:start + ID_CHUNK]
        out.update({r["id"]: r for r in session.connection().execute(sa.select(t).where(t.c.id.in_(chunk))).mappings()})
    return out


def _scores(session: Session, ids: Sequence[int], policy: RiskPolicy, campaign: Campaign) -> dict[int, float]:
    rows = _rows_by_id(session, ids)
    return {i: sum(factor_contributions(rows[i], policy, campaign.period_start).values()) for i in ids}


def explain(session: Session, ids: Sequence[int], policy: RiskPolicy, campaign: Campaign) -> dict[int, dict[str, float]]:
    rows = _rows_by_id(session, ids)
    return {i: factor_contributions(rows[i], policy, campaign.period_start) for i in ids}


def select_establishments(settings: Settings, campaign_code: str, *, actor: str = SYSTEM_ACTOR) -> StageResult:
    result = StageResult(STAGE, campaign_code)
    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code, for_update=True)  # a second run waits, then finds it selected
        if campaign.status != CampaignStatus.DRAFT:
            result.already = len(session.exec(select(Selection.id).where(Selection.campaign_id == campaign.id)).all())
            return result
        policy = policy_for(campaign.period_start)
        seed = campaign.selection_seed if campaign.selection_seed is not None else default_seed(campaign.code)
        picks = derive(session, campaign, policy, seed)
        if not picks:
            raise StageBlocked(f"Không có cơ sở nào đủ điều kiện cho đợt kiểm tra {campaign.code} "
                               f"(phạm vi, thời hạn theo Chỉ thị 20/CT-TTg hoặc căn cứ kiểm tra đột xuất).",
                               campaign_code=campaign.code)
        factors = explain(session, [p.establishment_id for p in picks], policy, campaign)
        session.connection().execute(sa.insert(Selection.__table__), [  # type: ignore[attr-defined]
            # the score shown is the sum of the contributions shown (each rounded to 2 decimals)
            {"campaign_id": campaign.id, "establishment_id": p.establishment_id, "rank": i + 1,
             "score": round(sum(factors[p.establishment_id].values()), 2),
             "factors": factors[p.establishment_id], "kind": p.kind.value, "removed": False, "change_reason": ""}
            for i, p in enumerate(picks)])
        fp = fingerprint(session, campaign)
        campaign.risk_policy_version, campaign.selection_seed = policy.version, seed
        campaign.registry_snapshot_sha256, campaign.registry_snapshot_rows = fp.sha256, fp.rows
        kinds = Counter(p.kind.value for p in picks)
        audit.transition(session, campaign, CampaignStatus.SELECTED, actor=actor,
                         reason=f"Đề xuất {len(picks)} cơ sở theo chính sách rủi ro {policy.version} (seed {seed}), "
                                f"chờ phê duyệt", )
        result.done = len(picks)
        result.details = {"registry": fp.rows, "policy": policy.version, "seed": seed, "kinds": dict(kinds)}
    return result


def verify_selection(settings: Settings, campaign_code: str) -> dict[str, Any]:
    """Re-derive a stored proposal from its policy version, seed and the registry; say if it is identical."""
    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code)
        if campaign.risk_policy_version is None or campaign.selection_seed is None:
            raise StageBlocked(f"Đợt kiểm tra {campaign.code} chưa có danh sách đề xuất để kiểm chứng.",
                               campaign_code=campaign.code)
        policy = policy_version(campaign.risk_policy_version)
        stored = session.exec(select(Selection).where(Selection.campaign_id == campaign.id,
                                                      Selection.kind != SelectionKind.LEAD_ADDED)
                              .order_by(Selection.rank)).all()
        again = derive(session, campaign, policy, campaign.selection_seed)
        fp = fingerprint(session, campaign)
    stored_list = [(s.establishment_id, str(s.kind)) for s in stored]
    derived_list = [(p.establishment_id, p.kind.value) for p in again]
    differences = [f"hạng {i + 1}: đã lưu {a}, tính lại {b}"
                   for i, (a, b) in enumerate(zip(stored_list, derived_list, strict=False)) if a != b]
    if len(stored_list) != len(derived_list):
        differences.append(f"số cơ sở: đã lưu {len(stored_list)}, tính lại {len(derived_list)}")
    return {"campaign_code": campaign_code, "policy": policy.version, "seed": campaign.selection_seed,
            "identical": not differences, "registry_unchanged": fp.sha256 == campaign.registry_snapshot_sha256,
            "registry_rows": fp.rows, "stored_registry_rows": campaign.registry_snapshot_rows,
            "selected": len(stored_list), "differences": differences[:20]}
