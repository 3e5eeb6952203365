"""The province's three OSH targets, year over year (DOMAIN.md section 6): pure computation, no I/O but the
targets file.

The targets are effective-dated rule data (``services/rules/data/kpi_targets_*.json``; the version in force on
the 31 December of the year reported is used). Each target compares one year with the year before:

- ``fatal_accident_rate``: fatal occupational accidents per 100,000 workers covered; must fall by at least 4%;
- ``disease_examined``: workers exposed to hazards examined for occupational disease; must rise by at least 5%;
- ``establishments_monitored``: establishments with hazards whose workplace environment is monitored; +5%.

Arithmetic and rounding (what the report prints is what is judged):

- a rate is ``numerator × 100,000 / denominator``, exact (``Fraction``); it is shown rounded half-up to 2 places;
- the change is ``(current − previous) / previous × 100``, computed from the exact values (never from the
  rounded rates), then rounded half-up (away from zero) to ``percent_places`` (1) decimal place;
- the target is met when the *rounded* change is ≤ −4.0 (a decrease target) or ≥ +5.0 (an increase target), so
  a report never prints "−4,0%" next to "không đạt";
- no data: a figure of either year missing, a denominator of 0 (no workers covered), or a previous value of 0
  (a change from nothing is not a percentage) — the status is ``no_data`` with the reason in ``note_vi``.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from services.errors import KpiTargetsError
from services.settings import RULES_DIR

# year -> indicator (models.statistics.StatIndicator value) -> value
Figures = Mapping[int, Mapping[str, int]]


class KpiStatus(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    NO_DATA = "no_data"


STATUS_VI = {KpiStatus.MET: "Đạt", KpiStatus.NOT_MET: "Không đạt", KpiStatus.NO_DATA: "Chưa đủ số liệu"}


@dataclass(frozen=True)
class Target:
    key: str
    label_vi: str
    short_vi: str
    numerator: str
    denominator: str | None  # None: the indicator is the count itself
    direction: str  # "decrease" | "increase"
    percent: int  # the size of the change required, positive

    @property
    def signed_percent(self) -> int:
        return -self.percent if self.direction == "decrease" else self.percent


@dataclass(frozen=True)
class KpiTargets:
    version: str
    effective_from: date
    source: str
    rate_per_workers: int
    percent_places: int
    targets: tuple[Target, ...]
    reporting: Mapping[str, str]
    source_file: str = ""


@dataclass(frozen=True)
class KpiResult:
    key: str
    label_vi: str
    short_vi: str
    year: int
    previous_year: int
    previous: Fraction | None  # exact
    current: Fraction | None
    change_percent: Decimal | None  # rounded (see the module docstring)
    target_percent: int  # signed: −4 means "down by at least 4%"
    status: KpiStatus
    note_vi: str = ""
    is_rate: bool = False

    def shown(self, value: Fraction | None) -> Decimal | None:
        """A value as printed: a rate to 2 places, a count as a whole number."""
        return None if value is None else _round(value, 2 if self.is_rate else 0)

    @property
    def status_vi(self) -> str:
        return STATUS_VI[self.status]


def _round(value: Fraction, places: int) -> Decimal:
    """Half-up, away from zero, from the exact fraction (no float on the way)."""
    scaled = abs(value) * 10**places
    whole = int(scaled)
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    sign = -1 if value < 0 else 1
    return (Decimal(sign * whole).scaleb(-places)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _value(figures: Figures, year: int, target: Target, per: int) -> tuple[Fraction | None, str]:
    row = figures.get(year, {})
    numerator = row.get(target.numerator)
    if numerator is None:
        return None, f"thiếu số liệu {target.numerator} năm {year}"
    if target.denominator is None:
        return Fraction(numerator), ""
    denominator = row.get(target.denominator)
    if denominator is None:
        return None, f"thiếu số liệu {target.denominator} năm {year}"
    if denominator == 0:
        return None, f"số lao động thuộc phạm vi thống kê năm {year} bằng 0"
    return Fraction(numerator * per, denominator), ""


def evaluate(target: Target, figures: Figures, year: int, *, per: int = 100_000, places: int = 1) -> KpiResult:
    """One target for ``year`` against ``year − 1``."""
    previous, why_prev = _value(figures, year - 1, target, per)
    current, why_cur = _value(figures, year, target, per)
    result = partial(KpiResult, key=target.key, label_vi=target.label_vi, short_vi=target.short_vi, year=year,
                     previous_year=year - 1, previous=previous, current=current, target_percent=target.signed_percent,
                     is_rate=target.denominator is not None)
    if previous is None or current is None:
        return result(change_percent=None, status=KpiStatus.NO_DATA,
                      note_vi="; ".join(w for w in (why_prev, why_cur) if w))
    if previous == 0:
        return result(change_percent=None, status=KpiStatus.NO_DATA,
                      note_vi=f"giá trị năm {year - 1} bằng 0: không tính được tỷ lệ thay đổi")
    change = _round((current - previous) / previous * 100, places)
    met = change <= target.signed_percent if target.direction == "decrease" else change >= target.signed_percent
    return result(change_percent=change, status=KpiStatus.MET if met else KpiStatus.NOT_MET)


def compute_kpis(figures: Figures, year: int, targets: KpiTargets) -> list[KpiResult]:
    """Every target of ``targets`` for ``year`` against the year before, in the file's order."""
    return [evaluate(t, figures, year, per=targets.rate_per_workers, places=targets.percent_places)
            for t in targets.targets]


# --- the targets file ----------------------------------------------------------------------------------

def _fail(path: Path, key: str, problem: str) -> KpiTargetsError:
    return KpiTargetsError(f"Tệp chỉ tiêu {path.name}: khóa {key!r} {problem}.", file=str(path), key=key)


def _parse_target(path: Path, i: int, raw: Any) -> Target:
    where = f"targets[{i}]"
    if not isinstance(raw, Mapping):
        raise _fail(path, where, "phải là một đối tượng")
    for key in ("key", "label_vi", "short_vi", "numerator"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise _fail(path, f"{where}.{key}", "thiếu hoặc rỗng")
    if raw.get("direction") not in ("decrease", "increase"):
        raise _fail(path, f"{where}.direction", f"phải là 'decrease' hoặc 'increase', nhận {raw.get('direction')!r}")
    percent = raw.get("percent")
    if not isinstance(percent, int) or isinstance(percent, bool) or not 0 < percent <= 100:
        raise _fail(path, f"{where}.percent", f"phải là số nguyên từ 1 đến 100, nhận {percent!r}")
    denominator = raw.get("denominator")
    if denominator is not None and not isinstance(denominator, str):
        raise _fail(path, f"{where}.denominator", "phải là chuỗi hoặc null")
    return Target(raw["key"], raw["label_vi"], raw["short_vi"], raw["numerator"], denominator, raw["direction"], percent)


def parse_targets(raw: Any, path: Path) -> KpiTargets:
    if not isinstance(raw, Mapping):
        raise _fail(path, "(gốc)", "phải là một đối tượng JSON")
    for key in ("version", "effective_from", "source", "targets", "reporting"):
        if key not in raw:
            raise _fail(path, key, "bị thiếu")
    try:
        effective_from = date.fromisoformat(str(raw["effective_from"]))
    except ValueError:
        raise _fail(path, "effective_from", f"phải là ngày dạng YYYY-MM-DD, nhận {raw['effective_from']!r}") from None
    if not isinstance(raw["targets"], list) or not raw["targets"]:
        raise _fail(path, "targets", "phải là danh sách khác rỗng")
    targets = tuple(_parse_target(path, i, t) for i, t in enumerate(raw["targets"]))
    return KpiTargets(str(raw["version"]), effective_from, str(raw["source"]), int(raw.get("rate_per_workers", 100_000)),
                      int(raw.get("percent_places", 1)), targets, dict(raw["reporting"]), path.name)


@lru_cache(maxsize=4)
def _load_all(folder: Path) -> tuple[KpiTargets, ...]:
    versions = []
    for path in sorted(folder.glob("kpi_targets_*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise KpiTargetsError(f"Tệp chỉ tiêu {path.name}: không phải JSON hợp lệ ({exc}).", file=str(path)) from exc
        versions.append(parse_targets(raw, path))
    return tuple(sorted(versions, key=lambda v: v.effective_from))


def targets_for(on: date, folder: Path = RULES_DIR) -> KpiTargets:
    """The targets in force on ``on`` (for a year's KPIs: its 31 December)."""
    in_force = [v for v in _load_all(folder) if v.effective_from <= on]
    if not in_force:
        raise KpiTargetsError(f"Không có chỉ tiêu ATVSLĐ nào có hiệu lực vào ngày {on:%d/%m/%Y}.", on=on.isoformat())
    return in_force[-1]


def targets_for_year(year: int, folder: Path = RULES_DIR) -> KpiTargets:
    return targets_for(date(year, 12, 31), folder)


__all__ = ["Figures", "KpiResult", "KpiStatus", "KpiTargets", "KpiTargetsError", "STATUS_VI", "Target", "compute_kpis",
           "evaluate", "parse_targets", "targets_for", "targets_for_year"]
