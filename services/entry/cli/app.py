"""``kiemtra``: the command line of the inspection engine (the only module allowed to print)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from datetime import date
from typing import Annotated

import typer

from services.entry.cli.console import console, one_line, user_errors
from services.entry.cli.appeals import appeal_app
from services.entry.cli.demo import demo
from services.entry.cli.deadlines import deadlines_app
from services.entry.cli.deliveries import deliveries_app
from services.entry.cli.documents import documents_app
from services.entry.cli.history import history_app
from services.entry.cli.portal import portal_app
from services.entry.cli.national_feed import national_feed_app
from services.entry.cli.registry import registry_app
from services.entry.cli.runs import prepare, print_run, print_state, run_flow
from services.entry.cli.reports import report_app
from services.entry.cli.schedule import schedule_app
from services.entry.cli.selection import selection_app, trigger_app
from services.entry.cli.tokens import token_app
from services.errors import KiemtraError
from services.settings import get_settings

app = typer.Typer(help="Kiểm tra liên ngành ATVSLĐ: chạy đợt kiểm tra từ đầu đến cuối.", no_args_is_help=True)
campaign_app = typer.Typer(help="Đợt kiểm tra: tạo, chạy tiếp, xem trạng thái.", no_args_is_help=True)
server_app = typer.Typer(help="Máy chủ Prefect cục bộ (khởi động, dừng theo PID).", no_args_is_help=True)
app.add_typer(campaign_app, name="campaign")
app.add_typer(server_app, name="server")
app.add_typer(selection_app, name="selection")
app.add_typer(trigger_app, name="trigger")
app.add_typer(registry_app, name="registry")
app.add_typer(schedule_app, name="schedule")
app.add_typer(deadlines_app, name="deadlines")
app.add_typer(deliveries_app, name="deliveries")
app.add_typer(documents_app, name="documents")
app.add_typer(history_app, name="history")
app.add_typer(portal_app, name="portal")
app.add_typer(national_feed_app, name="national-feed")
app.add_typer(appeal_app, name="appeal")
app.add_typer(report_app, name="report")
app.add_typer(token_app, name="token")


@app.callback()
def _configure() -> None:
    # Prefect's per-task INFO lines would bury the progress and the summary; the run history is on the server.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


app.command()(demo)  # services/entry/cli/demo.py


@campaign_app.command("start")
def campaign_start(code: Annotated[str, typer.Option(help="mã đợt kiểm tra, duy nhất", callback=one_line)],
                   title: Annotated[str, typer.Option(help="tên đợt kiểm tra", callback=one_line)],
                   start: Annotated[str, typer.Option(help="ngày bắt đầu YYYY-MM-DD")],
                   end: Annotated[str, typer.Option(help="ngày kết thúc YYYY-MM-DD")],
                   quota: Annotated[int, typer.Option(min=1)] = 40, teams: Annotated[int, typer.Option(min=1)] = 4,
                   lead: Annotated[str, typer.Option(help="mã cơ quan chủ trì", callback=one_line)] = "SNV",
                   members: Annotated[str, typer.Option(help="mã cơ quan phối hợp, cách nhau bởi dấu phẩy",
                                                        callback=one_line)] = "SYT,LDLD",
                   by: Annotated[str, typer.Option(help="mã người lập", callback=one_line)] = "SNV-LEAD",
                   plan_number: Annotated[str, typer.Option(help="số kế hoạch là căn cứ, ví dụ 664/KH-UBND",
                                                            callback=one_line)] = "",
                   plan_date: Annotated[str, typer.Option(help="ngày ký kế hoạch YYYY-MM-DD")] = "") -> None:
    """Lập đợt kiểm tra mới và chạy các bước đầu (chọn cơ sở, lập lịch)."""
    from sqlmodel import select

    from models import Agency
    from services.db import session_scope
    from services.stages.planning import ensure_campaign

    settings = get_settings()
    with user_errors():
        try:
            period = (date.fromisoformat(start), date.fromisoformat(end))
            plan_on = date.fromisoformat(plan_date) if plan_date else None
        except ValueError as exc:
            raise KiemtraError(f"Ngày không hợp lệ (cần dạng YYYY-MM-DD): {exc}") from exc
        if period[0] > period[1]:
            raise KiemtraError("Ngày bắt đầu phải trước ngày kết thúc.")
        prepare(settings)
        with session_scope(settings) as session:
            agency = session.exec(select(Agency).where(Agency.code == lead)).first()
            if agency is None:
                raise KiemtraError(f"Không có cơ quan chủ trì mã '{lead}'. Hãy nạp danh mục cơ quan trước (kiemtra demo).")
            _, created = ensure_campaign(session, code=code, title=title, lead=agency,
                                         members=[m.strip() for m in members.split(",") if m.strip()],
                                         province_code=agency.province_code, period_start=period[0],
                                         period_end=period[1], quota=quota, teams=teams, actor=by,
                                         plan_number=plan_number, plan_on=plan_on)
        if not created:
            console.print(f"Đợt kiểm tra {code} đã có; chạy tiếp theo trạng thái đã lưu.")
        print_run(run_flow("run-campaign", code))


@campaign_app.command("run")
def campaign_run(code: Annotated[str, typer.Argument(help="mã đợt kiểm tra (đặt khi `kiemtra campaign start --code`)",
                                                    show_default=False)]) -> None:
    """Chạy tiếp đợt kiểm tra qua mọi bước mà trạng thái đã lưu cho phép; in việc từng bước đã làm (ban hành, đã có từ
    trước, đang chờ, lỗi) và bước tiếp theo."""
    settings = get_settings()
    with user_errors():
        prepare(settings)
        print_run(run_flow("run-campaign", code))


@campaign_app.command("status")
def campaign_status(code: Annotated[str, typer.Argument(help="mã đợt kiểm tra", show_default=False)],
                    as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Xem trạng thái đợt kiểm tra (không chạy gì), điều đang chờ và bước tiếp theo."""
    from services.stages.status import campaign_status as status

    settings = get_settings()
    with user_errors():
        prepare(settings, server=False)
        state = status(settings, code)
        if as_json:
            sys.stdout.write(json.dumps(state, ensure_ascii=False, default=str) + "\n")
            return
        print_state(state)


@app.command("migrate")
def migrate_cmd() -> None:
    """Tạo hoặc nâng cấp lược đồ cơ sở dữ liệu."""
    prepare(get_settings(), server=False)
    console.print("Cơ sở dữ liệu đã ở phiên bản mới nhất.")


@app.command("intake")
def intake_serve() -> None:
    """Chạy API tiếp nhận kết quả kiểm tra (uvicorn)."""
    from services.entry.http.server import serve_forever

    settings = get_settings()
    prepare(settings, server=False)
    serve_forever(settings)


@app.command("serve")
def serve() -> None:
    """Chạy máy chủ web: API tiếp nhận (/api), phiếu kiểm tra (/form), bảng điều khiển (/console), sổ công khai
    (/cong-khai)."""
    from services.entry.http.server import serve_forever

    settings = get_settings()
    prepare(settings, server=False)
    base = f"http://{settings.intake_host}:{settings.intake_port or 8088}"
    console.print(f"Bảng điều khiển: {base}/console/ · Phiếu kiểm tra: {base}/form/ · Sổ công khai: {base}/cong-khai · "
                  f"API: {base}/api/health", soft_wrap=True)
    serve_forever(settings)


@server_app.command("start")
def server_start() -> None:
    """Khởi động (hoặc dùng lại) máy chủ Prefect cục bộ."""
    from services.runtime.server import ensure_server

    server = ensure_server(get_settings())
    console.print(f"Prefect API: {server.api_url} (PID {server.pid})")


@server_app.command("deploy")
def server_deploy() -> None:
    """Tạo work pool và đăng ký mọi deployment trong prefect.yaml (prefect --no-prompt deploy --all)."""
    import subprocess

    from services.runtime.server import ensure_server, ensure_work_pool
    from services.runtime.client import prefect_client_env
    from services.settings import PROJECT_ROOT

    with user_errors():
        server = ensure_server(get_settings())
        ensure_work_pool()
        prefect = str(Path(sys.executable).with_name("prefect"))
        done = subprocess.run([prefect, "--no-prompt", "deploy", "--all"], cwd=PROJECT_ROOT,
                              env={**os.environ, **prefect_client_env(server), "PWD": str(PROJECT_ROOT)}, check=False)
        if done.returncode != 0:
            console.print(f"[bold red]prefect deploy thất bại (mã {done.returncode}).[/]")
            raise typer.Exit(done.returncode)
        console.print(f"Đã đăng ký các deployment trên {server.api_url}. Chạy worker: "
                      f"PREFECT_API_URL={server.api_url} prefect worker start --pool kiemtra-process")


@server_app.command("stop")
def server_stop() -> None:
    """Dừng máy chủ Prefect do kiemtra khởi động."""
    from services.runtime.server import stop_server

    console.print("Đã dừng." if stop_server(get_settings()) else "Không có máy chủ nào do kiemtra khởi động.")


@server_app.command("status")
def server_status_cmd() -> None:
    """Trạng thái máy chủ Prefect cục bộ."""
    from services.runtime.server import server_status

    sys.stdout.write(json.dumps(server_status(get_settings()).as_dict(), ensure_ascii=False, default=str) + "\n")


def main() -> None:  # pragma: no cover
    app()


__all__ = ["app", "main"]
