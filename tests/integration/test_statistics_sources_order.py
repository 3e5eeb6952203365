"""The periodic report's list of statistics sources is in Vietnamese order (numbers by value)."""
from __future__ import annotations

from models import StatIndicator
from services.db import session_scope
from services.reports.statistics import record_statistic, sources_for
from services.settings import Settings


def test_sources_are_listed_in_vietnamese_order(settings: Settings) -> None:
    sources = {StatIndicator.WORKERS_COVERED: "Thông báo 5/TB-BHXH", StatIndicator.FATAL_ACCIDENTS: "Báo cáo 12/BC-SNV",
               StatIndicator.DISEASE_EXAMINED: "Đề án 3/ĐA-UBND", StatIndicator.ESTABLISHMENTS_MONITORED: "Báo cáo 9/BC-SYT"}
    with session_scope(settings) as session:
        for indicator, source in sources.items():
            record_statistic(session, province_code="04", year=2025, indicator=indicator, value=1, source=source,
                             actor="SNV-LEAD")
    with session_scope(settings) as session:
        listed = sources_for(session, province_code="04", years=[2025])
    # Python's own order would give "Báo cáo 12…" before "Báo cáo 9…" and put "Đề án" after "Thông báo"
    assert listed == ["Báo cáo 9/BC-SYT", "Báo cáo 12/BC-SNV", "Đề án 3/ĐA-UBND", "Thông báo 5/TB-BHXH"]
