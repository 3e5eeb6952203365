"""The risk policy compiled to SQL, so the database ranks a million establishments itself.

``score_expression`` is the same arithmetic as :func:`services.rules.risk.factor_contributions`
(tests compare both over generated registries); Python explains only the establishments selected.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from services.registry.fingerprint import MIX_MODULUS, MIX_MULTIPLIER
from services.rules.risk import RiskPolicy, stale_cutoff


def _capped(value: Any, spec: dict[str, Any]) -> Any:
    raw = value * float(spec["per_unit"])
    return sa.case((raw > float(spec["cap"]), float(spec["cap"])), else_=raw)


def _stale(column: Any, cutoff: date) -> Any:
    return sa.or_(column.is_(None), column < cutoff)


def factor_expressions(t: sa.Table, policy: RiskPolicy, on: date) -> dict[str, Any]:
    f = policy.factors
    workforce = sa.case((t.c.workforce < 1, 1.0), else_=sa.cast(t.c.workforce, sa.Float))
    hazardous = t.c.hazardous_workers
    exam = f["health_exam_overdue"]
    classes = f["working_condition"]["by_class"]
    bands = sorted(f["workforce_size"]["bands"], key=lambda b: -b[0])
    return {
        "fatal_accidents": _capped(t.c.fatal_accidents_3y, f["fatal_accidents"]),
        "serious_accidents": _capped(t.c.serious_accidents_3y, f["serious_accidents"]),
        "accident_frequency": _capped(100.0 * t.c.accidents_3y / workforce / 3, f["accident_frequency"]),
        "late_accident_reports": _capped(t.c.accident_reports_late, f["late_accident_reports"]),
        "hazardous_share": _capped(hazardous / workforce, f["hazardous_share"]),
        "working_condition": sa.case(*[(t.c.working_condition_class_max == int(k), float(v)) for k, v in classes.items()],
                                     else_=0.0),
        "strict_equipment": _capped(t.c.strict_equipment_count, f["strict_equipment"]),
        "monitoring_failing": _capped(t.c.monitoring_failing_ratio, f["monitoring_failing"]),
        "osh_organisation_gaps": _capped(t.c.osh_organisation_gaps, f["osh_organisation_gaps"]),
        "untrained_share": _capped(t.c.untrained_workers / workforce, f["untrained_share"]),
        "vulnerable_workers": _capped(t.c.vulnerable_workers, f["vulnerable_workers"]),
        "past_violations": _capped(t.c.past_violations, f["past_violations"]),
        "open_complaints": _capped(t.c.open_complaints, f["open_complaints"]),
        "health_exam_overdue": sa.case(
            (sa.and_(hazardous > 0, _stale(t.c.last_health_exam_on, stale_cutoff(on, exam["months_hazardous"]))),
             float(exam["points"])),
            (sa.and_(hazardous <= 0, _stale(t.c.last_health_exam_on, stale_cutoff(on, exam["months"]))),
             float(exam["points"])), else_=0.0),
        "disease_exam_missing": sa.case(
            (sa.and_(hazardous > 0, _stale(t.c.last_disease_exam_on,
                                           stale_cutoff(on, f["disease_exam_missing"]["months"]))),
             float(f["disease_exam_missing"]["points"])), else_=0.0),
        "monitoring_missing": sa.case(
            (_stale(t.c.last_environment_monitoring_on, stale_cutoff(on, f["monitoring_missing"]["months"])),
             float(f["monitoring_missing"]["points"])), else_=0.0),
        "high_risk_sector": sa.case((t.c.sector_vsic.in_(f["high_risk_sector"]["sectors"]),
                                     float(f["high_risk_sector"]["points"])), else_=0.0),
        "workforce_size": sa.case(*[(t.c.workforce >= low, float(pts)) for low, pts in bands if low > 1],
                                  else_=float(next(p for low, p in bands if low <= 1))),
    }


def score_expression(t: sa.Table, policy: RiskPolicy, on: date) -> Any:
    parts = list(factor_expressions(t, policy, on).values())
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def eligible(t: sa.Table, policy: RiskPolicy, campaign_start: date) -> Any:
    """Chỉ thị 20/CT-TTg, as :func:`services.rules.risk.is_eligible`."""
    return sa.or_(t.c.last_inspected_on.is_(None),
                  t.c.last_inspected_on <= campaign_start - timedelta(days=policy.window_days))


def seeded_order(t: sa.Table, seed: int) -> Any:
    """As :func:`services.registry.fingerprint.seeded_order`: a seeded pseudo-random order, exact in SQL."""
    return ((t.c.random_key + seed % MIX_MODULUS) * MIX_MULTIPLIER) % MIX_MODULUS
