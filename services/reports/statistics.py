"""Recording the province's annual OSH statistics (models.statistics.AnnualStatistic).

:func:`record_statistic` is idempotent: the same value again changes nothing; another value is refused unless a
reason is given, and the change is audited (who, old and new value, source, reason). The caller owns the
transaction.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from models import AnnualStatistic, StatIndicator
from models.base import utcnow
from services import audit
from services.rules.calendar import today_in_vietnam
from services.errors import Conflict, Refused
from services.reports.kpi import Figures
from services.text_collation import collation_key


@dataclass(frozen=True)
class Recorded:
    row: AnnualStatistic
    outcome: str  # "created" | "unchanged" | "changed"


def record_statistic(session: Session, *, province_code: str, year: int, indicator: StatIndicator | str, value: int,
                     source: str, actor: str, reason: str = "") -> Recorded:
    errors = []
    if str(indicator) not in {i.value for i in StatIndicator}:
        errors.append(f"indicator: '{indicator}' không phải chỉ tiêu thống kê ({', '.join(i.value for i in StatIndicator)})")
    if not (len(province_code) == 2 and province_code.isdigit()):
        errors.append(f"province_code: '{province_code}' không phải mã tỉnh (2 chữ số, ví dụ 04)")
    if not 2000 <= year <= today_in_vietnam().year:
        errors.append(f"year: năm {year} không hợp lệ (từ 2000 đến năm nay)")
    if value < 0:
        errors.append(f"value: số liệu không được âm ({value})")
    if not source.strip():
        errors.append("source: phải ghi văn bản, báo cáo nguồn của số liệu")
    if errors:
        raise Refused("Số liệu thống kê không hợp lệ.", errors=errors)
    indicator = StatIndicator(indicator)
    row = session.exec(select(AnnualStatistic).where(AnnualStatistic.province_code == province_code,
                                                     AnnualStatistic.year == year,
                                                     AnnualStatistic.indicator == indicator)).first()
    if row is None:
        row = AnnualStatistic(province_code=province_code, year=year, indicator=indicator, value=value, source=source,
                              entered_by=actor)
        session.add(row)
        session.flush()
        audit.record(session, actor=actor, action="statistic_recorded", entity=row, reason=reason or source,
                     data={"province_code": province_code, "year": year, "indicator": str(indicator), "value": value})
        return Recorded(row, "created")
    if row.value == value and row.source == source:
        return Recorded(row, "unchanged")
    if not reason.strip():
        raise Conflict(f"Số liệu {indicator} năm {year} của tỉnh {province_code} đã có ({row.value}, nguồn: {row.source}); "
                       f"muốn sửa thành {value} phải nêu lý do.", statistic_id=row.id, stored=row.value, given=value)
    old = {"value": row.value, "source": row.source, "entered_by": row.entered_by}
    row.value, row.source, row.entered_by, row.updated_at = value, source, actor, utcnow()
    session.add(row)
    audit.record(session, actor=actor, action="statistic_changed", entity=row, reason=reason,
                 data={"old": old, "new": {"value": value, "source": source}, "year": year, "indicator": str(indicator)})
    return Recorded(row, "changed")


def figures_for(session: Session, *, province_code: str, years: Iterable[int]) -> Figures:
    """year -> indicator -> value, for :func:`services.reports.kpi.compute_kpis`."""
    wanted = list(years)
    out: dict[int, dict[str, int]] = {year: {} for year in wanted}
    rows = session.exec(select(AnnualStatistic).where(AnnualStatistic.province_code == province_code,
                                                      col(AnnualStatistic.year).in_(wanted)))
    for row in rows:
        out[row.year][str(row.indicator)] = row.value
    return out


def sources_for(session: Session, *, province_code: str, years: Iterable[int]) -> list[str]:
    """The distinct sources of the figures, for the report's footnote (in Vietnamese order, numbers by value)."""
    rows = session.exec(select(AnnualStatistic.source).where(AnnualStatistic.province_code == province_code,
                                                             col(AnnualStatistic.year).in_(list(years))))
    return sorted(set(rows), key=collation_key)
