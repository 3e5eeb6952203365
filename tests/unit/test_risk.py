"""Risk scoring and selection (services/rules/risk.py) against the 2025 policy, numbers worked by hand."""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.rules.risk import factor_contributions, is_eligible, past_violations_detail_vi, policy_for, score_all, select_top
from services.errors import RiskPolicyError
from services.settings import RULES_DIR

START = date(2026, 3, 2)  # campaign start, the date the factors are judged on


def create_row(**overrides: Any) -> dict[str, Any]:
    """A registry row of a small, compliant shop: every factor scores 0."""
    row: dict[str, Any] = {
        "id": 1, "tax_code": "0400000001", "sector_vsic": "46", "workforce": 5, "hazardous_workers": 0,
        "working_condition_class_max": 1, "strict_equipment_count": 0, "strict_work_workers": 0,
        "last_health_exam_on": START - timedelta(days=30), "last_disease_exam_on": START - timedelta(days=30),
        "last_environment_monitoring_on": START - timedelta(days=30), "monitoring_failing_ratio": 0.0,
        "fatal_accidents_3y": 0, "serious_accidents_3y": 0, "accidents_3y": 0, "accident_reports_late": 0,
        "osh_organisation_gaps": 0, "untrained_workers": 0, "vulnerable_workers": 0, "past_violations": 0,
        "last_inspected_on": None, "open_complaints": 0,
    }
    row.update(overrides)
    return row


def test_a_compliant_small_shop_scores_nothing() -> None:
    assert factor_contributions(create_row(), policy_for(START), START) == {}


def test_contributions_of_a_risky_sawmill_worked_by_hand() -> None:
    row = create_row(
        sector_vsic="16", workforce=200, hazardous_workers=50, working_condition_class_max=5,
        strict_equipment_count=3, fatal_accidents_3y=1, serious_accidents_3y=4, accidents_3y=12,
        accident_reports_late=1, monitoring_failing_ratio=0.25, osh_organisation_gaps=2, untrained_workers=30,
        vulnerable_workers=5, past_violations=1, open_complaints=0,
        last_health_exam_on=START - timedelta(days=200),  # > 6 months: late for a hazardous workplace
        last_disease_exam_on=START - timedelta(days=100),  # < 12 months: on time
        last_environment_monitoring_on=None)
    # risk_policy_2025.json, factor by factor:
    expected = {
        "fatal_accidents": 30.0,        # 1 × 30, cap 60
        "serious_accidents": 36.0,      # 4 × 12 = 48, capped at 36
        "accident_frequency": 4.0,      # 12 accidents / 200 workers / 3 years × 100 = 2.0 per 100 a year; × 2
        "late_accident_reports": 5.0,   # 1 × 5
        "hazardous_share": 5.0,         # 50 / 200 = 0.25 × 20
        "working_condition": 10.0,      # class V
        "strict_equipment": 6.0,        # 3 × 2
        "monitoring_failing": 2.5,      # 0.25 × 10
        "osh_organisation_gaps": 6.0,   # 2 × 3
        "untrained_share": 1.5,         # 30 / 200 = 0.15 × 10
        "vulnerable_workers": 8.0,      # 5 × 2 = 10, capped at 8
        "past_violations": 6.0,         # 1 × 6
        "health_exam_overdue": 10.0,    # 200 days > 6 months (hazardous workers)
        "monitoring_missing": 10.0,     # never monitored
        "high_risk_sector": 8.0,        # VSIC 16 (wood)
        "workforce_size": 6.0,          # 101–300 workers
    }  # no open complaints, disease exams on time: those factors are absent
    assert factor_contributions(row, policy_for(START), START) == expected
    (scored,) = score_all([row], policy_for(START), START, seed=1)
    assert scored.score == 154.0
    assert scored.factors == expected


def test_health_exam_deadline_is_twelve_months_without_hazardous_work_and_six_with() -> None:
    policy = policy_for(START)
    seven_months_ago = START - timedelta(days=213)
    calm = create_row(last_health_exam_on=seven_months_ago)
    hazardous = create_row(last_health_exam_on=seven_months_ago, hazardous_workers=1)
    assert "health_exam_overdue" not in factor_contributions(calm, policy, START)
    assert factor_contributions(hazardous, policy, START)["health_exam_overdue"] == 10.0


@pytest.mark.parametrize(("last_inspected_on", "eligible"), [
    (START - timedelta(days=100), False),
    (START - timedelta(days=364), False),
    (START - timedelta(days=400), True),
    (None, True),
])
def test_an_establishment_inspected_within_a_year_is_not_eligible(last_inspected_on: date | None,
                                                                   eligible: bool) -> None:
    assert is_eligible(create_row(last_inspected_on=last_inspected_on), policy_for(START), START) is eligible


@pytest.mark.parametrize(("registry", "engine", "eligible"), [
    (None, START - timedelta(days=180), False),  # the engine's own visit, six months ago
    (START - timedelta(days=400), START - timedelta(days=364), False),
    (START - timedelta(days=100), START - timedelta(days=500), False),
    (START - timedelta(days=400), START - timedelta(days=365), True),  # exactly the window: outside it
    (None, None, True),
])
def test_the_engines_own_visits_count_as_inspections(registry: date | None, engine: date | None, eligible: bool) -> None:
    row = create_row(last_inspected_on=registry, engine_last_visit_on=engine)
    assert is_eligible(row, policy_for(START), START) is eligible


def test_past_violations_add_the_engines_dated_sanctions_to_the_registrys_count() -> None:
    policy = policy_for(START)
    assert policy.sanction_window_days == 1095  # risk_policy_2025.json: 3 years, (config)
    assert policy.sanction_cutoff(START) == START - timedelta(days=1095)
    assert factor_contributions(create_row(engine_sanctions=1), policy, START) == {"past_violations": 6.0}
    assert factor_contributions(create_row(past_violations=1, engine_sanctions=1), policy, START) == {"past_violations": 12.0}
    assert factor_contributions(create_row(past_violations=2, engine_sanctions=2), policy, START) == {
        "past_violations": 18.0}  # 4 × 6 = 24, capped at 18
    assert past_violations_detail_vi(1, [date(2025, 11, 20), date(2026, 3, 10)]) == (
        "02 quyết định xử phạt của hệ thống (03/2026, 11/2025); 01 lần bị xử phạt theo sổ đăng ký (không ghi ngày)")
    assert past_violations_detail_vi(0, [date(2026, 3, 10)]) == "01 quyết định xử phạt của hệ thống (03/2026)"
    assert past_violations_detail_vi(3, []) == "03 lần bị xử phạt theo sổ đăng ký (không ghi ngày)"


def _tied_rows() -> list[dict[str, Any]]:
    """One clearly riskier establishment (id 1) and six with exactly the same score (ids 2–7)."""
    rows = [create_row(id=1, tax_code="0400000001", fatal_accidents_3y=1)]
    rows += [create_row(id=i, tax_code=f"04000000{i:02d}", past_violations=1) for i in range(2, 8)]
    return rows


def test_select_top_is_deterministic_for_a_seed_and_seeds_only_reorder_ties() -> None:
    policy, rows = policy_for(START), _tied_rows()
    orders = {}
    for seed in range(1, 6):
        first = [s.establishment_id for s in select_top(score_all(rows, policy, START, seed), 7)]
        shuffled = score_all(list(reversed(rows)), policy, START, seed)
        again = [s.establishment_id for s in select_top(shuffled, 7)]
        assert first == again  # same seed, same list, whatever the registry order
        assert first[0] == 1  # the higher score always comes first
        assert sorted(first[1:]) == [2, 3, 4, 5, 6, 7]
        orders[seed] = tuple(first)
    assert len(set(orders.values())) > 1  # the seed does reorder the ties


def test_select_top_respects_the_quota_and_orders_by_score() -> None:
    policy = policy_for(START)
    rows = _tied_rows() + [create_row(id=8, tax_code="0400000008")]  # scores 0
    chosen = select_top(score_all(rows, policy, START, seed=42), 3)
    assert len(chosen) == 3
    assert chosen[0].establishment_id == 1
    assert {s.establishment_id for s in chosen[1:]} <= {2, 3, 4, 5, 6, 7}
    assert [s.score for s in chosen] == sorted((s.score for s in chosen), reverse=True)


def _write_policy(folder: Path, version: str, effective_from: str) -> None:
    raw = json.loads((RULES_DIR / "risk_policy_2025.json").read_text(encoding="utf-8"))
    raw.update(version=version, effective_from=effective_from)
    (folder / f"risk_policy_{version}.json").write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")


def test_policy_for_picks_the_newest_policy_in_force_on_the_date(tmp_path: Path) -> None:
    _write_policy(tmp_path, "2025.1", "2025-01-01")
    _write_policy(tmp_path, "2026.1", "2026-07-01")
    assert policy_for(date(2025, 1, 1), tmp_path).version == "2025.1"
    assert policy_for(date(2026, 6, 30), tmp_path).version == "2025.1"
    assert policy_for(date(2026, 7, 1), tmp_path).version == "2026.1"
    assert policy_for(START).version == "2025.1"  # the shipped policy


def test_policy_for_refuses_a_date_before_the_first_policy() -> None:
    with pytest.raises(RiskPolicyError,
                       match="Không có chính sách đánh giá rủi ro nào có hiệu lực vào ngày 31/12/2024"):
        policy_for(date(2024, 12, 31))
