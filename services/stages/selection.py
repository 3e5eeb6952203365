"""Stage 1: propose the establishments a campaign visits (DOMAIN.md sections 2.2 and 5).

The database ranks the registry with the risk policy compiled to SQL (``services.rules.risk_sql``);
Python explains only the establishments chosen (each factor's points). A planned campaign takes the
highest scores among establishments not inspected within the policy's window (Chỉ thị 20/CT-TTg),
within optional per-commune and per-sector caps, plus a seeded random control sample of lower-risk
ones; a surprise (đột xuất) campaign takes only establishments with a recorded trigger. The policy
version, the seed and a fingerprint of the registry rows are stored, so :func:`verify_selection`
re-derives the same list.

"Inspected within the window" and "past violations" also read the engine's own history (visits and sanction
decisions of other campaigns before the start, ``services.rules.risk_sql``), from the same database. Its
fingerprint (the visits that matter on the day of selection) is kept in the audit event
``selection_history`` of the campaign, so a verification that differs can say the history changed.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (AuditEvent, Campaign, CampaignKind, CampaignStatus, Establishment, Inspection, InspectionTrigger, Selection,
                    SelectionKind)
from services import audit
from services.db import session_scope
from services.errors import StageBlocked
from services.rules.risk import RiskPolicy, factor_contributions, policy_for, policy_version
from services.registry.fingerprint import random_key
from services.registry.fingerprint import seeded_order as seeded_order_value
from services.rules.risk_sql import (engine_last_visit, engine_sanctions, eligible, sanction_conditions, score_expression,
                                     seeded_order, visit_conditions)
from services.settings import Settings
from models.base import table_of
from services.stages.common import SYSTEM_ACTOR, StageResult, get_campaign

STAGE = "select-establishments"
ID_CHUNK = 900
HISTORY_EVENT = "selection_history"


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
    return table_of(Establishment)


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


def _inspections() -> sa.Table:
    return table_of(Inspection)


def history_fingerprint(session: Session, campaign: Campaign, policy: RiskPolicy) -> Fingerprint:
    """What the selection read of the engine's history for establishments in scope, in one aggregate: the other
    campaigns' visits before the start inside the eligibility window, and their sanction decisions inside the
    past-violations look-back (counts and sums of inspection ids; eligibility and the factor depend on nothing else)."""
    i, t = _inspections(), _table()
    start = campaign.period_start
    window = i.c.scheduled_on > policy.eligibility_cutoff(start)
    sanction = sa.and_(*sanction_conditions(i, policy, start, campaign.id))

    def total(condition: Any, value: Any) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)

    query = (sa.select(total(sa.or_(window, sanction), 1), total(window, 1), total(window, i.c.id), total(sanction, 1),
                       total(sanction, i.c.id))
             .where(*visit_conditions(i, start, campaign.id),
                    i.c.scheduled_on > min(policy.eligibility_cutoff(start), policy.sanction_cutoff(start))))
    if scope(t, campaign):
        query = query.where(i.c.establishment_id.in_(sa.select(t.c.id).where(*scope(t, campaign))))
    rows, *sums = (int(v) for v in session.connection().execute(query).one())
    return Fingerprint(rows, hashlib.sha256(":".join(map(str, sums)).encode()).hexdigest())


def _stored_history(session: Session, campaign: Campaign) -> Fingerprint | None:
    event = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "campaign", AuditEvent.entity_id == campaign.id,
                                                  AuditEvent.action == HISTORY_EVENT)
                         .order_by(col(AuditEvent.id).desc())).first()
    if event is None or "sha256" not in event.data:
        return None  # a list made before the engine history counted
    return Fingerprint(int(event.data["rows"]), str(event.data["sha256"]))


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
    score = score_expression(t, policy, campaign.period_start, campaign.id).label("score")
    query = (sa.select(t.c.id, t.c.random_key, t.c.commune_code, t.c.sector_vsic, score)
             .where(*scope(t, campaign), eligible(t, policy, campaign.period_start, campaign.id)))
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
    base = sa.select(t.c.id).where(*scope(t, campaign), eligible(t, policy, campaign.period_start, campaign.id))
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
    triggered = sa.select(col(InspectionTrigger.establishment_id)).where(
        col(InspectionTrigger.received_on) >= since, col(InspectionTrigger.received_on) <= campaign.period_end)
    score = score_expression(t, policy, campaign.period_start, campaign.id).label("score")
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


def rows_with_history(session: Session, ids: Sequence[int], policy: RiskPolicy, campaign: Campaign) -> dict[int, Any]:
    """Registry rows with the engine history the Python mirror needs (``engine_last_visit_on``, ``engine_sanctions``),
    computed by the same SQL as the ranking."""
    t = _table()
    start = campaign.period_start
    history = [engine_last_visit(t, start, campaign.id).label("engine_last_visit_on"),
               engine_sanctions(t, policy, start, campaign.id).label("engine_sanctions")]
    out: dict[int, Any] = {}
    for offset in range(0, len(ids), ID_CHUNK):
        chunk = ids[offset:offset + ID_CHUNK]
        out.update({r["id"]: r for r in session.connection().execute(
            sa.select(t, *history).where(t.c.id.in_(chunk))).mappings()})
    return out


def _scores(session: Session, ids: Sequence[int], policy: RiskPolicy, campaign: Campaign) -> dict[int, float]:
    rows = rows_with_history(session, ids, policy, campaign)
    return {i: sum(factor_contributions(rows[i], policy, campaign.period_start).values()) for i in ids}


def explain(session: Session, ids: Sequence[int], policy: RiskPolicy, campaign: Campaign) -> dict[int, dict[str, float]]:
    rows = rows_with_history(session, ids, policy, campaign)
    return {i: factor_contributions(rows[i], policy, campaign.period_start) for i in ids}


def engine_sanction_dates(session: Session, ids: Sequence[int], policy: RiskPolicy,
                          campaign: Campaign) -> dict[int, list[date]]:
    """The visit dates of the engine's sanction decisions counted as past violations, newest first, by establishment."""
    i = _inspections()
    out: dict[int, list[date]] = {}
    for offset in range(0, len(ids), ID_CHUNK):
        chunk = ids[offset:offset + ID_CHUNK]
        for r in session.connection().execute(
                sa.select(i.c.establishment_id, i.c.scheduled_on)
                .where(i.c.establishment_id.in_(chunk), *sanction_conditions(i, policy, campaign.period_start, campaign.id))
                .order_by(i.c.scheduled_on.desc(), i.c.id)):
            out.setdefault(r.establishment_id, []).append(r.scheduled_on)
    return out


def recent_engine_visit(session: Session, establishment_id: int, policy: RiskPolicy,
                        campaign: Campaign) -> tuple[str, date] | None:
    """The latest visit of another campaign within the Chỉ thị 20 window before the start: (campaign code, date)."""
    i = _inspections()
    c = table_of(Campaign)
    start = campaign.period_start
    row = session.connection().execute(
        sa.select(c.c.code, i.c.scheduled_on).join(c, c.c.id == i.c.campaign_id)
        .where(i.c.establishment_id == establishment_id, i.c.scheduled_on > policy.eligibility_cutoff(start),
               *visit_conditions(i, start, campaign.id))
        .order_by(i.c.scheduled_on.desc(), i.c.id.desc()).limit(1)).first()
    return None if row is None else (row.code, row.scheduled_on)


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
        session.connection().execute(sa.insert(table_of(Selection)), [
            # the score shown is the sum of the contributions shown (each rounded to 2 decimals)
            {"campaign_id": campaign.id, "establishment_id": p.establishment_id, "rank": i + 1,
             "score": round(sum(factors[p.establishment_id].values()), 2),
             "factors": factors[p.establishment_id], "kind": p.kind.value, "removed": False, "change_reason": ""}
            for i, p in enumerate(picks)])
        fp = fingerprint(session, campaign)
        history = history_fingerprint(session, campaign, policy)
        campaign.risk_policy_version, campaign.selection_seed = policy.version, seed
        campaign.registry_snapshot_sha256, campaign.registry_snapshot_rows = fp.sha256, fp.rows
        kinds = Counter(p.kind.value for p in picks)
        audit.transition(session, campaign, CampaignStatus.SELECTED, actor=actor,
                         reason=f"Đề xuất {len(picks)} cơ sở theo chính sách rủi ro {policy.version} (seed {seed}), "
                                f"chờ phê duyệt", )
        audit.record(session, actor=actor, action=HISTORY_EVENT, entity=campaign,
                     reason=f"Lịch sử kiểm tra của hệ thống được dùng khi lập danh sách: {history.rows} lần kiểm tra",
                     data={"rows": history.rows, "sha256": history.sha256})
        result.done = len(picks)
        result.details = {"registry": fp.rows, "history": history.rows, "policy": policy.version, "seed": seed,
                          "kinds": dict(kinds)}
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
                              .order_by(col(Selection.rank))).all()
        again = derive(session, campaign, policy, campaign.selection_seed)
        fp = fingerprint(session, campaign)
        stored_history = _stored_history(session, campaign)
        history = history_fingerprint(session, campaign, policy)
    history_unchanged = None if stored_history is None else history.sha256 == stored_history.sha256
    stored_list = [(s.establishment_id, str(s.kind)) for s in stored]
    derived_list = [(p.establishment_id, p.kind.value) for p in again]
    differences = [f"hạng {i + 1}: đã lưu {a}, tính lại {b}"
                   for i, (a, b) in enumerate(zip(stored_list, derived_list, strict=False)) if a != b]
    if len(stored_list) != len(derived_list):
        differences.append(f"số cơ sở: đã lưu {len(stored_list)}, tính lại {len(derived_list)}")
    identical = not differences
    if not identical and history_unchanged is False:  # say why first: the engine's own history moved
        differences.insert(0, "lịch sử kiểm tra của hệ thống (lần kiểm tra, quyết định xử phạt trước ngày bắt đầu đợt) "
                              f"đã thay đổi kể từ khi lập danh sách: {stored_history.rows if stored_history else 0} "
                              f"→ {history.rows} bản ghi")
    return {"campaign_code": campaign_code, "policy": policy.version, "seed": campaign.selection_seed,
            "identical": identical, "registry_unchanged": fp.sha256 == campaign.registry_snapshot_sha256,
            "registry_rows": fp.rows, "stored_registry_rows": campaign.registry_snapshot_rows,
            "history_unchanged": history_unchanged, "history_rows": history.rows,
            "stored_history_rows": None if stored_history is None else stored_history.rows,
            "selected": len(stored_list), "differences": differences[:20]}
