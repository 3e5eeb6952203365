"""Risk scoring and selection: pure functions over a versioned policy file.

A policy is chosen by the campaign's start date (the newest ``effective_from`` not after it). Each
score keeps every factor's contribution, so the lead can see and defend why an establishment is on
the list. Ties are broken by a seeded hash, so the same inputs always give the same list.

The engine's own history counts besides the registry (both read from the same database, never copied into the
registry row, which a re-import would overwrite): a *visit* is an inspection of any other campaign whose team was
on site (:data:`VISITED_STATUSES`), dated by its ``scheduled_on``, before the campaign's start; an *engine
sanction* is such a visit in :data:`SANCTIONED_STATUSES` with a decided violation (``final_amount`` set). A row
given to these functions may carry ``engine_last_visit_on`` (the latest visit before the start) and
``engine_sanctions`` (sanctions within the past-violations look-back); both default to none.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from models.inspection import InspectionStatus
from services.settings import RULES_DIR
from services.errors import RiskPolicyError

# the team was on site: findings submitted (or further along); ``scheduled`` is not a visit
VISITED_STATUSES: tuple[str, ...] = tuple(s.value for s in InspectionStatus if s != InspectionStatus.SCHEDULED)
# a sanction decision was issued (``closed`` follows ``sanctioned``; a closed visit without a decided fine is not one)
SANCTIONED_STATUSES: tuple[str, ...] = (InspectionStatus.SANCTIONED.value, InspectionStatus.CLOSED.value)
DEFAULT_SANCTION_WINDOW_DAYS = 1095


@dataclass(frozen=True)
class RiskPolicy:
    version: str
    effective_from: date
    window_days: int
    eligibility_rule_vi: str
    factors: Mapping[str, Mapping[str, Any]]
    control_share: float = 0.0
    trigger_window_days: int = 365

    def label_vi(self, factor: str) -> str:
        return str(self.factors[factor]["label_vi"])

    @property
    def sanction_window_days(self) -> int:
        """How far back the engine's own sanction decisions count as past violations (the factor's ``window_days``)."""
        return int(self.factors["past_violations"].get("window_days", DEFAULT_SANCTION_WINDOW_DAYS))

    def eligibility_cutoff(self, campaign_start: date) -> date:
        """An inspection on or before this day is outside the Chỉ thị 20 window of a campaign starting then."""
        return campaign_start - timedelta(days=self.window_days)

    def sanction_cutoff(self, campaign_start: date) -> date:
        """An engine sanction (dated by its visit) counts when its visit is after this day and before the start."""
        return campaign_start - timedelta(days=self.sanction_window_days)


@dataclass(frozen=True)
class Scored:
    establishment_id: int
    score: float
    factors: dict[str, float]
    tie_break: str


@lru_cache(maxsize=4)
def _load_all(folder: Path) -> tuple[RiskPolicy, ...]:
    policies = []
    for path in sorted(folder.glob("risk_policy_*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        try:
            policies.append(RiskPolicy(
                version=raw["version"], effective_from=date.fromisoformat(raw["effective_from"]),
                window_days=int(raw["eligibility"]["reinspection_window_days"]),
                eligibility_rule_vi=raw["eligibility"]["rule_vi"], factors=raw["factors"],
                control_share=float(raw.get("control_sample", {}).get("share", 0.0)),
                trigger_window_days=int(raw["eligibility"].get("trigger_window_days", 365))))
        except (KeyError, ValueError, TypeError) as exc:
            raise RiskPolicyError(f"{path.name}: {exc!r}") from exc
    return tuple(sorted(policies, key=lambda p: p.effective_from))


def policy_for(on: date, folder: Path = RULES_DIR) -> RiskPolicy:
    in_force = [p for p in _load_all(folder) if p.effective_from <= on]
    if not in_force:
        raise RiskPolicyError(f"Không có chính sách đánh giá rủi ro nào có hiệu lực vào ngày {on:%d/%m/%Y}.")
    return in_force[-1]


def policy_version(version: str, folder: Path = RULES_DIR) -> RiskPolicy:
    for p in _load_all(folder):
        if p.version == version:
            return p
    raise RiskPolicyError(f"Không tìm thấy chính sách đánh giá rủi ro phiên bản {version}.")


def _per_unit(spec: Mapping[str, Any], value: float) -> float:
    return min(float(spec["per_unit"]) * value, float(spec["cap"]))


def stale_cutoff(on: date, months: int) -> date:
    """A date older than this is more than ``months`` months before ``on`` (30.44 days a month)."""
    return on - timedelta(days=round(months * 30.44))


def _stale(last: date | None, on: date, months: int) -> bool:
    return last is None or last < stale_cutoff(on, months)


def factor_contributions(row: Mapping[str, Any], policy: RiskPolicy, on: date) -> dict[str, float]:
    """Each factor's points for one establishment (only non-zero factors are kept)."""
    f = policy.factors
    workforce = max(int(row["workforce"]), 1)
    hazardous = int(row["hazardous_workers"])
    out: dict[str, float] = {
        "fatal_accidents": _per_unit(f["fatal_accidents"], row["fatal_accidents_3y"]),
        "serious_accidents": _per_unit(f["serious_accidents"], row["serious_accidents_3y"]),
        "accident_frequency": _per_unit(f["accident_frequency"], 100.0 * row["accidents_3y"] / workforce / 3),
        "late_accident_reports": _per_unit(f["late_accident_reports"], row["accident_reports_late"]),
        "hazardous_share": _per_unit(f["hazardous_share"], hazardous / workforce),
        "working_condition": float(f["working_condition"]["by_class"].get(str(row["working_condition_class_max"]), 0)),
        "strict_equipment": _per_unit(f["strict_equipment"], row["strict_equipment_count"]),
        "monitoring_failing": _per_unit(f["monitoring_failing"], row["monitoring_failing_ratio"]),
        "osh_organisation_gaps": _per_unit(f["osh_organisation_gaps"], row["osh_organisation_gaps"]),
        "untrained_share": _per_unit(f["untrained_share"], row["untrained_workers"] / workforce),
        "vulnerable_workers": _per_unit(f["vulnerable_workers"], row["vulnerable_workers"]),
        # the registry's (undated) count plus the engine's own sanction decisions within the look-back
        "past_violations": _per_unit(f["past_violations"], row["past_violations"] + int(row.get("engine_sanctions") or 0)),
        "open_complaints": _per_unit(f["open_complaints"], row["open_complaints"]),
    }
    exam = f["health_exam_overdue"]
    months = exam["months_hazardous"] if hazardous > 0 else exam["months"]
    out["health_exam_overdue"] = float(exam["points"]) if _stale(row["last_health_exam_on"], on, months) else 0.0
    if hazardous > 0 and _stale(row["last_disease_exam_on"], on, f["disease_exam_missing"]["months"]):
        out["disease_exam_missing"] = float(f["disease_exam_missing"]["points"])
    mon = f["monitoring_missing"]
    out["monitoring_missing"] = float(mon["points"]) if _stale(row["last_environment_monitoring_on"], on, mon["months"]) else 0.0
    if row["sector_vsic"] in f["high_risk_sector"]["sectors"]:
        out["high_risk_sector"] = float(f["high_risk_sector"]["points"])
    out["workforce_size"] = float(max(pts for low, pts in f["workforce_size"]["bands"] if row["workforce"] >= low or low == 1))
    return {k: round(v, 2) for k, v in out.items() if v}


def is_eligible(row: Mapping[str, Any], policy: RiskPolicy, campaign_start: date) -> bool:
    """Chỉ thị 20/CT-TTg: not inspected within the policy's window before the start, neither by any agency as the
    registry says (``last_inspected_on``) nor by the engine's own visits (``engine_last_visit_on``)."""
    cutoff = policy.eligibility_cutoff(campaign_start)
    return all(last is None or last <= cutoff
               for last in (row["last_inspected_on"], row.get("engine_last_visit_on")))


def past_violations_detail_vi(registry_count: int, sanction_dates: Sequence[date]) -> str:
    """Where the past-violations points come from, for the lead: '02 quyết định xử phạt của hệ thống (03/2026,
    11/2025); 01 lần bị xử phạt theo sổ đăng ký (không ghi ngày)'. Dates are the visits', newest first."""
    parts = []
    if sanction_dates:
        months = ", ".join(f"{d:%m/%Y}" for d in sorted(sanction_dates, reverse=True))
        parts.append(f"{len(sanction_dates):02d} quyết định xử phạt của hệ thống ({months})")
    if registry_count:
        parts.append(f"{registry_count:02d} lần bị xử phạt theo sổ đăng ký (không ghi ngày)")
    return "; ".join(parts)


def _tie_break(seed: int, tax_code: str) -> str:
    return hashlib.sha256(f"{seed}:{tax_code}".encode()).hexdigest()


def score_all(rows: Iterable[Mapping[str, Any]], policy: RiskPolicy, on: date, seed: int) -> list[Scored]:
    scored = []
    for row in rows:
        factors = factor_contributions(row, policy, on)
        scored.append(Scored(row["id"], round(sum(factors.values()), 2), factors, _tie_break(seed, row["tax_code"])))
    return scored


def select_top(scored: Sequence[Scored], quota: int) -> list[Scored]:
    """Highest score first; equal scores in a seeded random order (as OSHA's targeting does)."""
    return sorted(scored, key=lambda s: (-s.score, s.tie_break))[:quota]


def snapshot_sha256(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A hash of the registry rows the selection saw, in tax-code order, to prove reproducibility."""
    digest = hashlib.sha256()
    for row in sorted(rows, key=lambda r: r["tax_code"]):
        digest.update(json.dumps([str(row[c]) for c in columns], ensure_ascii=False).encode())
    return digest.hexdigest()
