"""Flow ``periodic-report``: the lead agency's half-year or annual report to UBND tỉnh and the Ministry.

Scheduled on the province's reporting calendar (prefect.yaml: 15 June and 15 December, Asia/Ho_Chi_Minh; DOMAIN.md
2.11): a run in the first half of the year prepares the half-year report, a run in the second half the annual
one (services/reports/periodic_report.py). It writes the PDF and the XLSX from the stored statistics and campaigns;
running it again on the same day rewrites the same bytes. ``kind`` and ``year`` override the calendar (a report
redone after a correction of the statistics), ``today`` is the date printed on it.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task

from services.rules.calendar import today_in_vietnam
from services.reports import periodic_report as report
from services import wiring


@task(name="write-periodic-report")
def write(kind: str, year: int, today: date, province_code: str | None) -> dict[str, Any]:
    pdf, xlsx = report.export_periodic_report(wiring.current().settings, kind=kind, year=year, issued_on=today,
                                             province_code=province_code)
    return {"kind": kind, "year": year, "pdf": str(pdf), "xlsx": str(xlsx)}


@flow(name="periodic-report")
def periodic_report(kind: str | None = None, year: int | None = None, today: date | None = None,
                    province_code: str | None = None) -> dict[str, Any]:
    """Half-year (until June) or annual (from July) report: the three OSH targets and the period's campaigns."""
    today = today or today_in_vietnam()
    due = report.period_due_on(today)
    return write(kind or due.kind, year or due.year, today, province_code)
