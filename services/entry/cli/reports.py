"""``kiemtra report …``: the province's annual OSH statistics, the campaign report and the periodic report."""
from __future__ import annotations

from typing import Annotated

import typer

from services.entry.cli.console import console, free_text, one_line, parse_date, user_errors
from services.errors import KiemtraError
from services.settings import get_settings

report_app = typer.Typer(help="Báo cáo: số liệu thống kê năm, báo cáo kết quả đợt kiểm tra, báo cáo định kỳ.",
                         no_args_is_help=True)
OUTCOME_VI = {"created": "đã ghi", "unchanged": "không đổi (đã có đúng số liệu này)", "changed": "đã sửa (có ghi lý do)"}


@report_app.command("stats")
def stats(province: Annotated[str, typer.Option(help="mã tỉnh, ví dụ 04")], year: Annotated[int, typer.Option()],
          indicator: Annotated[str, typer.Option(help="workers_covered | fatal_accidents | disease_examined | "
                                                      "establishments_monitored")],
          value: Annotated[int, typer.Option()],
          source: Annotated[str, typer.Option(help="văn bản, báo cáo nguồn", callback=one_line)],
          reason: Annotated[str, typer.Option(help="lý do khi sửa số liệu đã ghi", callback=free_text)] = "",
          by: Annotated[str, typer.Option(help="mã người nhập", callback=one_line)] = "SNV-LEAD") -> None:
    """Ghi một số liệu thống kê năm của tỉnh (nguồn của ba chỉ tiêu)."""
    from services.db import migrate, session_scope
    from services.reports.statistics import record_statistic

    settings = get_settings()
    migrate(settings)
    with user_errors():
        with session_scope(settings) as session:
            done = record_statistic(session, province_code=province, year=year, indicator=indicator, value=value,
                                    source=source, actor=by, reason=reason)
    console.print(f"{indicator} năm {year}: {OUTCOME_VI.get(done.outcome, done.outcome)}.")


@report_app.command("campaign")
def campaign(code: str, on: Annotated[str | None, typer.Option(help="ngày báo cáo YYYY-MM-DD (mặc định hôm nay)")] = None,
             by: Annotated[str, typer.Option(help="mã người lập", callback=one_line)] = "SNV-LEAD") -> None:
    """Ban hành báo cáo kết quả đợt kiểm tra (PDF có biểu đồ); lần sau trả lại báo cáo đã ban hành. Khi báo cáo được ký
    số: trình ký dự thảo và thoát với mã 2 cho đến khi báo cáo được ký và ban hành."""
    from models import SigningRequest
    from services.db import migrate
    from services.reports.campaign_report import issue_campaign_report
    from services.reports.signed_report import waiting_vi
    from services.rules.calendar import today_in_vietnam

    settings = get_settings()
    migrate(settings)
    with user_errors():
        doc = issue_campaign_report(settings, code, issued_on=parse_date(on) if on else today_in_vietnam(), actor=by)
    if isinstance(doc, SigningRequest):
        console.print(waiting_vi(doc))
        raise typer.Exit(2)
    console.print(f"Báo cáo số {doc.number}: {settings.documents_path / doc.path}")


@report_app.command("periodic")
def periodic(kind: Annotated[str | None, typer.Option(help="half_year | annual (mặc định theo ngày)")] = None,
             year: Annotated[int | None, typer.Option()] = None,
             today: Annotated[str | None, typer.Option(help="ngày ghi trên báo cáo YYYY-MM-DD")] = None,
             province: Annotated[str | None, typer.Option(help="mã tỉnh")] = None) -> None:
    """Chạy luồng periodic-report một lần (bình thường máy chủ Prefect tự chạy theo lịch báo cáo của tỉnh)."""
    from services.entry.cli.in_process import in_process_run
    from flows.periodic_report import periodic_report
    from services.db import migrate
    from services.runtime.server import ensure_server

    settings = get_settings()
    with user_errors():
        if kind not in (None, "half_year", "annual"):
            raise KiemtraError(f"Loại báo cáo không hợp lệ: {kind} (half_year hoặc annual).")
        day = parse_date(today) if today else None
        migrate(settings)
        ensure_server(settings)
        with in_process_run():
            out = periodic_report(kind, year, day, province)
    console.print(f"Báo cáo {out['kind']} năm {out['year']}: {out['pdf']} và {out['xlsx']}")
