"""The risk policy compiled to SQL, so the database ranks a million establishments itself.

``score_expression`` is the same arithmetic as :func:`services.rules.risk.factor_contributions`
(tests compare both over generated registries); Python explains only the establishments selected.

The engine's own history is read from the ``inspection`` table by correlated subqueries on the establishment
(``ix_inspection_establishment_id``), never copied into the registry row: :func:`engine_last_visit` (the latest
visit before the start, for eligibility) and :func:`engine_sanctions` (sanction decisions within the
past-violations look-back, for the score). ``campaign_id`` leaves out the campaign's own inspections, so a
campaign's visits never change the re-derivation of its own list.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

from models.base import table_of
from models.inspection import Inspection, Violation
from models.establishment import MIX_MODULUS, MIX_MULTIPLIER
from services.rules.risk import SANCTIONED_STATUSES, VISITED_STATUSES, RiskPolicy, stale_cutoff


def _inspection() -> sa.Table:
    return table_of(Inspection)


def _violation() -> sa.Table:
    return table_of(Violation)


def visit_conditions(i: sa.FromClause, campaign_start: date, campaign_id: int | None,
                     statuses: tuple[str, ...] = VISITED_STATUSES) -> list[Any]:
    """An inspection of another campaign whose team was on site before ``campaign_start`` (a dated inspection)."""
    conditions = [i.c.status.in_(statuses), i.c.scheduled_on < campaign_start]
    if campaign_id is not None:
        conditions.append(i.c.campaign_id != campaign_id)
    return conditions


def sanction_conditions(i: sa.FromClause, policy: RiskPolicy, campaign_start: date, campaign_id: int | None) -> list[Any]:
    """A visit within the past-violations look-back that ended in a sanction decision (a fine decided)."""
    v = _violation()
    decided = sa.exists().where(v.c.inspection_id == i.c.id, v.c.final_amount.is_not(None))
    return [*visit_conditions(i, campaign_start, campaign_id, SANCTIONED_STATUSES),  # sanctioned ⊂ visited
            i.c.scheduled_on > policy.sanction_cutoff(campaign_start), decided]


def engine_last_visit(t: sa.Table, campaign_start: date, campaign_id: int | None = None) -> Any:
    """The establishment's latest engine visit before the start (NULL if none): max() over its inspections."""
    i = _inspection().alias("engine_visit")
    return (sa.select(sa.func.max(i.c.scheduled_on))
            .where(i.c.establishment_id == t.c.id, *visit_conditions(i, campaign_start, campaign_id))
            .scalar_subquery())


def engine_sanctions(t: sa.Table, policy: RiskPolicy, campaign_start: date, campaign_id: int | None = None) -> Any:
    """How many of the establishment's engine visits ended in a sanction decision within the look-back.

    The correlated count (through the index on establishment_id) runs only for establishments in the set of
    sanctioned ones, which the database builds once (SQLite: an ephemeral index; PostgreSQL: a hashed subplan):
    on a national registry that membership test is cheaper than a count for every row.
    """
    i = _inspection().alias("engine_sanction")
    count = (sa.select(sa.func.count())
             .where(i.c.establishment_id == t.c.id, *sanction_conditions(i, policy, campaign_start, campaign_id))
             .scalar_subquery())
    s = _inspection().alias("sanctioned")
    sanctioned = sa.select(s.c.establishment_id).where(*sanction_conditions(s, policy, campaign_start, campaign_id))
    return sa.case((t.c.id.in_(sanctioned), count), else_=0)


class least(GenericFunction[Any]):  # noqa: N801 (an SQL function's name)
    """The smaller of its arguments: ``least`` on PostgreSQL, the scalar ``min`` on SQLite."""

    inherit_cache = True


@compiles(least, "sqlite")
def _least_sqlite(element: least, compiler: Any, **kw: Any) -> str:
    return f"min({compiler.process(element.clauses, **kw)})"


def _capped(value: Any, spec: Mapping[str, Any]) -> Any:
    raw = value * float(spec["per_unit"])
    return sa.case((raw > float(spec["cap"]), float(spec["cap"])), else_=raw)


def _capped_once(value: Any, spec: Mapping[str, Any]) -> Any:
    """As :func:`_capped`, naming ``value`` once: a subquery in it is evaluated once per row, not twice."""
    return least(value * float(spec["per_unit"]), float(spec["cap"]))


def _stale(column: Any, cutoff: date) -> Any:
    return sa.or_(column.is_(None), column < cutoff)


def factor_expressions(t: sa.Table, policy: RiskPolicy, on: date, campaign_id: int | None = None, *,
                       history: bool = True) -> dict[str, Any]:
    """Each factor's points as SQL; ``history=False`` leaves the engine's sanctions out (benchmarks compare)."""
    f = policy.factors
    past = t.c.past_violations + engine_sanctions(t, policy, on, campaign_id) if history else t.c.past_violations
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
        "past_violations": _capped_once(past, f["past_violations"]),
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


def score_expression(t: sa.Table, policy: RiskPolicy, on: date, campaign_id: int | None = None, *,
                     history: bool = True) -> Any:
    """The total score of a campaign starting ``on`` (``campaign_id``: that campaign, whose own visits never count)."""
    parts = list(factor_expressions(t, policy, on, campaign_id, history=history).values())
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def eligible(t: sa.Table, policy: RiskPolicy, campaign_start: date, campaign_id: int | None = None) -> Any:
    """Chỉ thị 20/CT-TTg, as :func:`services.rules.risk.is_eligible`: the registry's last inspection by any agency
    and the engine's own visits (NOT EXISTS a visit in the window, through the index on establishment_id)."""
    cutoff = policy.eligibility_cutoff(campaign_start)
    i = _inspection().alias("recent_visit")
    recent_visit = sa.exists().where(i.c.establishment_id == t.c.id, i.c.scheduled_on > cutoff,
                                     *visit_conditions(i, campaign_start, campaign_id))
    return sa.and_(sa.or_(t.c.last_inspected_on.is_(None), t.c.last_inspected_on <= cutoff), ~recent_visit)


def seeded_order(t: sa.Table, seed: int) -> Any:
    """As :func:`services.registry.fingerprint.seeded_order`: a seeded pseudo-random order, exact in SQL."""
    return ((t.c.random_key + seed % MIX_MODULUS) * MIX_MULTIPLIER) % MIX_MODULUS
