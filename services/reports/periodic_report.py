"""The periodic report (DOMAIN.md 2.11): half-year and annual, from the lead agency to UBND tỉnh and the Ministry.

It gives the province's three OSH targets (services/reports/kpi.py) with met / not met, and the inspection
campaigns of the period (campaigns, establishments inspected, violations, sanction decisions and fines), as a
PDF (template ``bao_cao_dinh_ky``, with a chart) and an XLSX with the same figures.

Reporting calendar (``reporting`` of the targets file, (config)): the half-year report is due 15 June, the
annual one 15 December; the figures run from 15 December of the year before to 14 June / 14 December.
The KPIs of an annual report are those of its year against the year before; a half-year report has no
half-year statistics, so it gives the last complete year (``year − 1`` against ``year − 2``).

The document goes out unnumbered (``Số: ……/BC-SNV``: the office numbers it when the lead signs): the
``document`` table requires a campaign, and a periodic report covers several. The symbol is the procedure's
``document_symbols.periodic_report`` when present, else :data:`DEFAULT_SYMBOL`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from models import Agency, AgencyKind, Campaign, Document, DocumentType, Inspection, Person, PersonRole, Violation
from services.db import session_scope
from services.documents import render_pdf
from services.documents.charts import fixed_vi
from services.errors import StageBlocked
from services.registry.geo import province_area
from services.reports.campaign_figures import VISITED
from services.reports.campaign_report import symbol_of
from services.reports.kpi import KpiResult, KpiStatus, compute_kpis, targets_for_year
from services.reports.periodic_xlsx import write_periodic_xlsx
from services.reports.statistics import figures_for, sources_for
from services.rules.procedure import procedure_for
from services.settings import Settings
from services.documents.format import signer_of

TEMPLATE = "bao_cao_dinh_ky"
DEFAULT_SYMBOL = "BC-SNV"
SYMBOL_KEY = "periodic_report"
HALF_YEAR, ANNUAL = "half_year", "annual"


@dataclass(frozen=True)
class Period:
    kind: str
    year: int
    start: date
    end: date
    due: date

    @property
    def kpi_year(self) -> int:
        return self.year if self.kind == ANNUAL else self.year - 1

    @property
    def label_vi(self) -> str:
        return f"6 tháng đầu năm {self.year}" if self.kind == HALF_YEAR else f"năm {self.year}"

    @property
    def slug(self) -> str:
        return f"6-thang-{self.year}" if self.kind == HALF_YEAR else f"nam-{self.year}"


def _month_day(year: int, text: str) -> date:
    month, day = (int(part) for part in text.split("-"))
    return date(year, month, day)


def period_for(kind: str, year: int) -> Period:
    """The period and due date of a report, from the reporting calendar in force at the end of ``year``."""
    if kind not in (HALF_YEAR, ANNUAL):
        raise ValueError(f"kind must be {HALF_YEAR!r} or {ANNUAL!r}, got {kind!r}")
    cal = targets_for_year(year).reporting
    start = _month_day(year - 1, cal["period_starts_previous_year"])
    end = _month_day(year, cal["half_year_period_ends" if kind == HALF_YEAR else "annual_period_ends"])
    due = _month_day(year, cal["half_year_due" if kind == HALF_YEAR else "annual_due"])
    return Period(kind, year, start, end, due)


def period_due_on(today: date) -> Period:
    """The report a run on ``today`` prepares: the half-year one until June, the annual one from July."""
    return period_for(HALF_YEAR if today.month <= 6 else ANNUAL, today.year)


def _lead_agency(session: Session, province_code: str | None) -> Agency:
    query = select(Agency).where(Agency.kind == AgencyKind.LABOUR)
    if province_code is not None:
        query = query.where(Agency.province_code == province_code)
    agencies = session.exec(query.order_by(col(Agency.id))).all()
    if len(agencies) != 1:
        raise StageBlocked(f"Cần đúng một cơ quan chủ trì (lao động) {'của tỉnh ' + province_code if province_code else ''}"
                           f" để lập báo cáo định kỳ, có {len(agencies)}.", province_code=province_code or "")
    return agencies[0]


def _signed(value: Any, places: int = 1) -> str:
    text = fixed_vi(float(value), places)
    return text if text.startswith("-") or value == 0 else f"+{text}"


def kpi_row(r: KpiResult) -> dict[str, Any]:
    def shown(v: Any) -> str:
        d = r.shown(v)
        return "-" if d is None else fixed_vi(float(d), 2 if r.is_rate else 0)

    target_vi = f"{'Giảm' if r.target_percent < 0 else 'Tăng'} ít nhất {abs(r.target_percent)}%"
    return {"key": r.key, "label_vi": r.label_vi, "short_vi": r.short_vi, "previous_vi": shown(r.previous),
            "current_vi": shown(r.current), "previous_value": None if r.previous is None else float(r.shown(r.previous) or 0),
            "current_value": None if r.current is None else float(r.shown(r.current) or 0),
            "change_vi": "-" if r.change_percent is None else _signed(r.change_percent) + "%",
            "change_value": None if r.change_percent is None else float(r.change_percent),
            "target_percent": r.target_percent, "target_vi": target_vi, "status": str(r.status), "status_vi": r.status_vi,
            "note_vi": r.note_vi or "-", "status_note": r.note_vi}


def _campaigns(session: Session, agency: Agency, period: Period) -> dict[str, Any]:
    campaigns = session.exec(select(Campaign).where(Campaign.province_code == agency.province_code,
                                                    Campaign.period_start <= period.end,
                                                    Campaign.period_end >= period.start).order_by(col(Campaign.period_start),
                                                                                                  col(Campaign.code))).all()
    rows: list[dict[str, Any]] = []
    totals = {"inspected": 0, "violations": 0, "establishments": 0, "decided": 0, "fines_final": 0, "decisions": 0}
    for c in campaigns:
        inspections = [i for i in session.exec(select(Inspection).where(Inspection.campaign_id == c.id))
                       if i.status in VISITED and period.start <= i.scheduled_on <= period.end]
        ids = {i.id for i in inspections}
        violations = [v for v in session.exec(select(Violation).where(col(Violation.inspection_id).in_(ids)))] if ids else []
        decided = [v for v in violations if v.final_amount is not None and v.decided_on is not None
                   and period.start <= v.decided_on <= period.end]
        decisions = session.exec(select(Document).where(Document.campaign_id == c.id,
                                                        Document.doc_type == DocumentType.SANCTION_DECISION,
                                                        Document.revision == 1)).all()
        counts = {"inspected": len(inspections), "violations": len(violations),
                  "establishments": len({v.inspection_id for v in violations}), "decided": len(decided),
                  "fines_final": sum(v.final_amount or 0 for v in decided),
                  "decisions": sum(1 for d in decisions if d.issued_on and period.start <= d.issued_on <= period.end)}
        rows.append({"code": c.code, "title": c.title, "period_start": c.period_start, "period_end": c.period_end, **counts})
        for key in totals:
            totals[key] += counts[key]
    return {"count": len(rows), "rows": rows, **totals}


def report_context(session: Session, period: Period, *, issued_on: date, province_code: str | None = None) -> dict[str, Any]:
    agency = _lead_agency(session, province_code)
    targets = targets_for_year(period.kpi_year)
    years = (period.kpi_year - 1, period.kpi_year)
    results = compute_kpis(figures_for(session, province_code=agency.province_code, years=years), period.kpi_year, targets)
    lead = session.exec(select(Person).where(Person.role == PersonRole.LEAD, Person.agency_id == agency.id)
                        .order_by(Person.code)).first()
    symbol = symbol_of(procedure_for(issued_on), SYMBOL_KEY, DEFAULT_SYMBOL)
    return {
        "issuer": {"parent_name": agency.parent_name, "name": agency.name, "code": agency.code, "place": agency.place},
        "number": f"……/{symbol}", "issued_on": issued_on,
        "province_vi": province_area(agency.province_code),
        "period": {"kind": period.kind, "year": period.year, "label_vi": period.label_vi, "start": period.start,
                   "end": period.end, "due": period.due},
        "kpi": {"year": period.kpi_year, "previous_year": period.kpi_year - 1, "version": targets.version,
                "source": targets.source, "rows": [kpi_row(r) for r in results],
                "met": sum(1 for r in results if r.status == KpiStatus.MET),
                "not_met": sum(1 for r in results if r.status == KpiStatus.NOT_MET),
                "no_data": sum(1 for r in results if r.status == KpiStatus.NO_DATA),
                "statistics_sources_vi": "; ".join(sources_for(session, province_code=agency.province_code, years=years))},
        "campaigns": _campaigns(session, agency, period),
        "signer": signer_of(lead.full_name if lead else "", lead.title if lead else "Giám đốc Sở"),
    }


def export_periodic_report(settings: Settings, *, kind: str, year: int, issued_on: date, province_code: str | None = None,
                           out_dir: Path | None = None) -> tuple[Path, Path]:
    """Write the report as PDF and XLSX (same bytes for the same stored data and date); returns both paths."""
    period = period_for(kind, year)
    with session_scope(settings) as session:
        context = report_context(session, period, issued_on=issued_on, province_code=province_code)
    folder = out_dir or settings.documents_path / "reports" / context["issuer"]["code"] / str(year)
    name = f"bao-cao-dinh-ky-{period.slug}"
    pdf = render_pdf(TEMPLATE, context, folder / f"{name}.pdf").path
    xlsx = write_periodic_xlsx(context, folder / f"{name}.xlsx")
    return pdf, xlsx


__all__ = ["ANNUAL", "DEFAULT_SYMBOL", "HALF_YEAR", "Period", "export_periodic_report", "kpi_row", "period_due_on",
           "period_for", "report_context"]
