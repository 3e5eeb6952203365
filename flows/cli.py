"""``kiemtra``: the command line of the inspection engine (the only module allowed to print)."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from datetime import date
from typing import Annotated, Any

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from flows._cli import console, one_line, user_errors
from flows.cli_appeals import appeal_app
from flows.cli_deadlines import deadlines_app
from flows.cli_history import history_app
from flows.cli_portal import portal_app
from flows.cli_registry import registry_app
from flows.cli_reports import report_app
from flows.cli_schedule import schedule_app
from flows.cli_selection import selection_app, trigger_app
from flows.cli_tokens import token_app
from services.errors import KiemtraError
from services.settings import Settings, get_settings

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
app.add_typer(history_app, name="history")
app.add_typer(portal_app, name="portal")
app.add_typer(appeal_app, name="appeal")
app.add_typer(report_app, name="report")
app.add_typer(token_app, name="token")


@app.callback()
def _configure() -> None:
    # Prefect's per-task INFO lines would bury the progress and the summary; the run history is on the server.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

STAGE_VI = {"select-establishments": "Chọn cơ sở theo rủi ro", "schedule-inspections": "Lập đoàn và lịch kiểm tra",
            "lead-approval": "Người chủ trì duyệt danh sách (HTTP)",
            "findings-intake": "Tiếp nhận kết quả (HTTP)",
            "findings-review": "Trưởng đoàn duyệt kết quả (HTTP)", "issue-records": "Ban hành biên bản",
            "official-decisions": "Người có thẩm quyền quyết định (HTTP)", "decide-sanctions": "Ban hành quyết định xử phạt",
            "publish-outcomes": "Công khai kết quả xử phạt", "compliance": "Người chủ trì ghi nhận đã nộp phạt, đã khắc phục",
            "deadline-sweeper": "Quét thời hạn pháp lý (cảnh báo, báo quá hạn)"}


CAMPAIGN_STATUS_VI = {"draft": "mới lập", "selected": "đã đề xuất danh sách", "approved": "đã duyệt danh sách",
                      "scheduled": "đã lập lịch", "fieldwork": "đang kiểm tra", "closed": "đã kết thúc"}
INSPECTION_STATUS_VI = {"scheduled": "đã lên lịch", "findings_submitted": "chờ duyệt kết quả",
                        "findings_returned": "kết quả bị trả lại", "findings_approved": "kết quả đã duyệt",
                        "records_issued": "đã lập biên bản", "sanctioned": "đã ra quyết định xử phạt", "closed": "đã kết thúc"}
DOCUMENT_VI = {"inspection_decision": "quyết định kiểm tra", "inspection_plan": "kế hoạch kiểm tra",
               "inspection_notice": "thông báo kiểm tra", "minutes": "biên bản kiểm tra",
               "violation_record": "biên bản vi phạm hành chính", "proposal": "tờ trình đề nghị xử phạt",
               "sanction_decision": "quyết định xử phạt",
               "report": "báo cáo kết quả kiểm tra", "periodic_report": "báo cáo định kỳ"}


def _prepare(settings: Settings, *, server: bool = True) -> Any:
    from services.db import migrate
    from services.prefect_server import ensure_server

    with console.status("Cập nhật cơ sở dữ liệu (migrations)…"):
        migrate(settings)
    if not server:
        return None
    with console.status("Khởi động hoặc dùng lại máy chủ Prefect cục bộ…"):
        return ensure_server(settings)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True)


def _stage_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Các bước của đợt kiểm tra")
    for col in ("Bước", "Luồng (flow)", "Đã làm lần này", "Đã có từ trước", "Thời gian (s)"):
        table.add_column(col, justify="right" if col[0] in "ĐT" else "left")
    for r in rows:
        table.add_row(STAGE_VI.get(r["stage"], r["stage"]), r["stage"], str(r.get("done", 0)), str(r.get("already", 0)),
                      f"{r.get('seconds', 0):.1f}")
    return table


def _state_table(state: dict[str, Any]) -> Table:
    table = Table(title=f"Đợt kiểm tra {state['code']} — trạng thái: "
                        f"{CAMPAIGN_STATUS_VI.get(state['status'], state['status'])}")
    table.add_column("Chỉ tiêu")
    table.add_column("Số lượng", justify="right")
    rows = [("Cơ sở được chọn", state["selected"]), ("Đoàn kiểm tra", state["teams"])]
    rows += [(f"Cuộc kiểm tra: {INSPECTION_STATUS_VI.get(k, k)}", v) for k, v in state["inspections"].items()]
    rows += [(f"Văn bản: {DOCUMENT_VI.get(k, k)}", v) for k, v in sorted(state["documents"].items())]
    rows += [("Hành vi vi phạm", state["violations"]), ("Tiền phạt đề xuất (đồng)", f"{state['proposed_vnd']:,}".replace(",", ".")),
             ("Tiền phạt quyết định (đồng)", f"{state['final_vnd']:,}".replace(",", ".")),
             ("Kết quả đã công khai", state["publications"])]
    for label, value in rows:
        table.add_row(label, str(value))
    return table


def _run_flow(name: str, campaign_code: str) -> dict[str, Any]:
    from flows._local import in_process_run
    from flows.run_campaign import run_campaign

    start = time.monotonic()
    with console.status(f"Đang chạy luồng {name} cho {campaign_code}…"), in_process_run():
        out = run_campaign(campaign_code)
    out["seconds"] = time.monotonic() - start
    return out


def _print_run(out: dict[str, Any]) -> None:
    console.print(_stage_table(out["stages"]))
    console.print(_state_table(out["state"]))
    for waiting in out["state"]["waiting_for"]:
        console.print(f"Đang chờ: {waiting}")


@app.command()
def demo(establishments: Annotated[int, typer.Option(help="số cơ sở trong sổ đăng ký giả lập")] = 20_000,
         quota: Annotated[int, typer.Option(help="số cơ sở kiểm tra")] = 40,
         teams: Annotated[int, typer.Option(help="số đoàn kiểm tra")] = 4,
         keep_server: Annotated[bool, typer.Option(help="để máy chủ Prefect chạy tiếp sau khi xong")] = False) -> None:
    """Chạy thử một đợt kiểm tra liên ngành hoàn chỉnh trên cơ sở dữ liệu nhúng (SQLite)."""
    from services import demo as demo_mod
    from services.db import session_scope
    from services.intake.server import start_in_thread
    from services.prefect_server import quiet_unreachable_api, server_lost, stop_server

    from services.clients.outbox import start_outbox

    # The demo's notifications go through the real gateway protocol to a local outbox (never a real gateway).
    # ... and the publications to a local stand-in of the province portal (same protocol, signature checked).
    os.environ["KIEMTRA_PORTAL_SECRET"] = os.environ.get("KIEMTRA_PORTAL_SECRET") or "demo-portal-secret"
    get_settings.cache_clear()
    with user_errors():  # the stand-in holds KIEMTRA_PORTAL_ACCEPTED_KEYS, or the sender's own key id and secret
        outbox = start_outbox(get_settings().data_dir / "outbox", portal_keys=get_settings().portal_receiver_keys,
                              portal_window_s=get_settings().portal_window_s)
    os.environ["KIEMTRA_GATEWAY_URL"] = outbox.url
    os.environ["KIEMTRA_PORTAL_URL"] = outbox.url
    get_settings.cache_clear()
    settings = get_settings()
    plan = demo_mod.DemoPlan(establishments=establishments, quota=quota, teams=teams)
    t0 = time.monotonic()
    with user_errors():
        server = _prepare(settings)
        quiet_unreachable_api()  # if the server goes away mid-run, server_lost below says so in one paragraph
        console.print(f"Prefect API: {server.api_url} (giao diện: {server.ui_url})")
        with session_scope(settings) as session:
            agencies = demo_mod.seed_agencies(session)
            tokens = demo_mod.seed_people(session, settings, agencies, teams=teams, seed=plan.seed)
        with _progress() as progress, session_scope(settings) as session:
            task = progress.add_task("Tạo sổ đăng ký cơ sở giả lập", total=establishments)
            added = demo_mod.seed_registry(session, n=establishments, province_code=demo_mod.PROVINCE, seed=plan.seed,
                                           as_of=plan.period_start, progress=lambda k: progress.advance(task, k))
        console.print(f"Sổ đăng ký: thêm {added} cơ sở (tổng yêu cầu {establishments}).")
        with session_scope(settings) as session:
            _, created = demo_mod.ensure_campaign(
                session, code=plan.campaign_code, title="Kiểm tra liên ngành về an toàn, vệ sinh lao động năm 2026",
                lead=agencies["SNV"], members=["SYT", "LDLD"], province_code=demo_mod.PROVINCE,
                period_start=plan.period_start, period_end=plan.period_end, quota=quota, teams=teams, actor="SNV-LEAD")
        console.print(f"Đợt kiểm tra {plan.campaign_code}: {'mới lập' if created else 'đã có, chạy tiếp'}.")
        rows: list[dict[str, Any]] = []
        intake = None
        try:
            rows += _run_flow("run-campaign", plan.campaign_code)["stages"]
            intake = start_in_thread(settings)
            with httpx.Client(base_url=intake.url, timeout=30) as http:
                t = time.monotonic()
                approved = demo_mod.simulate_lead_review(http, tokens["SNV-LEAD"], plan.campaign_code)
                rows.append({"stage": "lead-approval", "done": approved, "seconds": time.monotonic() - t})
                rows += _run_flow("run-campaign", plan.campaign_code)["stages"]
                with _progress() as progress:
                    task = progress.add_task("Thanh tra viên gửi kết quả qua API", total=quota)
                    t = time.monotonic()
                    sent = demo_mod.simulate_inspectors(settings, http, tokens, plan.campaign_code,
                                                        progress=lambda k: progress.advance(task, k))
                rows.append({"stage": "findings-intake", "done": sent, "seconds": time.monotonic() - t})
                t = time.monotonic()
                reviewed = demo_mod.simulate_findings_review(http, tokens["SNV-LEAD"], plan.campaign_code)
                rows.append({"stage": "findings-review", "done": reviewed, "seconds": time.monotonic() - t})
                rows += _run_flow("run-campaign", plan.campaign_code)["stages"]
                t = time.monotonic()
                titles = {code: title for code, title in (("SNV-GD", "Giám đốc Sở Nội vụ"),
                                                          ("UBND-CT", "Chủ tịch Ủy ban nhân dân tỉnh"))}
                decided = demo_mod.simulate_officials(http, tokens, titles, plan.campaign_code)
                rows.append({"stage": "official-decisions", "done": decided, "seconds": time.monotonic() - t})
            intake.stop()
            final = _run_flow("run-campaign", plan.campaign_code)
            t = time.monotonic()
            paid = demo_mod.simulate_compliance(settings, plan.campaign_code)
            after = [{"stage": "compliance", "done": paid, "seconds": time.monotonic() - t},
                     _sweep_deadlines()]  # while the outbox is up: its warnings are delivered in the same run
        except Exception as exc:  # noqa: BLE001 — said in one paragraph only when the Prefect server went away
            lost = None if isinstance(exc, typer.Exit) else server_lost(server)
            if lost is None:
                raise
            console.print(f"[bold red]Lỗi máy chủ Prefect:[/] {lost}")
            raise typer.Exit(1) from None
        finally:
            outbox.stop()
            if intake is not None:
                intake.stop()
            if not keep_server and server.started_here:
                stop_server(settings)
        rows += final["stages"] + after
        console.print(_stage_table(rows))
        console.print(_state_table(final["state"]))
        _print_documents(settings, plan.campaign_code)
        console.print(f"Thông báo đã gửi (hộp thư thử qua giao thức gateway): {len(outbox.messages())} tin tại {outbox.folder}")
        console.print(f"Kết quả xử phạt gửi cổng thông tin (bản thử, có chữ ký HMAC): {len(outbox.outcomes())} tin tại "
                      f"{outbox.folder / 'portal'}")
        if after[-1]["overdue"]:
            console.print(f"Thời hạn đã quá mà chưa thực hiện: {after[-1]['overdue']} (xem: kiemtra deadlines list).")
        console.print(f"Hoàn tất sau {time.monotonic() - t0:.1f} giây.")


def _sweep_deadlines() -> dict[str, Any]:
    """The daily deadline sweep, once, as of today (the demo's visits are in the past: what is still open shows)."""
    from flows._local import in_process_run
    from flows.deadline_sweeper import deadline_sweeper

    start = time.monotonic()
    with console.status("Đang chạy luồng deadline-sweeper…"), in_process_run():
        out = deadline_sweeper()
    return {"stage": "deadline-sweeper", "done": out["warned"] + out["escalated"], "seconds": time.monotonic() - start,
            "overdue": len(out["overdue"])}


def _print_documents(settings: Settings, campaign_code: str) -> None:
    from sqlmodel import select

    from models import Document
    from services.db import session_scope
    from services.stages.common import get_campaign

    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code)
        docs = session.exec(select(Document).where(Document.campaign_id == campaign.id).order_by(Document.id)).all()
    console.print(f"\nVăn bản ({len(docs)}) lưu tại: [bold]{settings.documents_path}[/]")
    for kind in ("inspection_decision", "inspection_plan", "inspection_notice", "minutes", "violation_record",
                 "sanction_decision"):
        example = next((d for d in docs if d.doc_type == kind), None)
        if example:
            console.print(f"  ví dụ {DOCUMENT_VI.get(kind, kind)}: {settings.documents_path / example.path}  (số {example.number})")
    from services.stages.selection_docs import export_selection

    pdf, xlsx = export_selection(settings, campaign_code)
    console.print(f"Danh sách cơ sở (điểm rủi ro, lý do): {pdf} và {xlsx.name}")
    console.print(f"Sổ công khai: {settings.documents_path / 'public' / 'index.html'} (và register.json, register.csv)")


@campaign_app.command("start")
def campaign_start(code: Annotated[str, typer.Option(help="mã đợt kiểm tra, duy nhất", callback=one_line)],
                   title: Annotated[str, typer.Option(help="tên đợt kiểm tra", callback=one_line)],
                   start: Annotated[str, typer.Option(help="ngày bắt đầu YYYY-MM-DD")],
                   end: Annotated[str, typer.Option(help="ngày kết thúc YYYY-MM-DD")],
                   quota: Annotated[int, typer.Option(min=1)] = 40, teams: Annotated[int, typer.Option(min=1)] = 4,
                   lead: Annotated[str, typer.Option(help="mã cơ quan chủ trì", callback=one_line)] = "SNV",
                   members: Annotated[str, typer.Option(help="mã cơ quan phối hợp, cách nhau bởi dấu phẩy",
                                                        callback=one_line)] = "SYT,LDLD",
                   by: Annotated[str, typer.Option(help="mã người lập", callback=one_line)] = "SNV-LEAD") -> None:
    """Lập đợt kiểm tra mới và chạy các bước đầu (chọn cơ sở, lập lịch)."""
    from sqlmodel import select

    from models import Agency
    from services.db import session_scope
    from services.demo import ensure_campaign

    settings = get_settings()
    with user_errors():
        try:
            period = (date.fromisoformat(start), date.fromisoformat(end))
        except ValueError as exc:
            raise KiemtraError(f"Ngày không hợp lệ (cần dạng YYYY-MM-DD): {exc}") from exc
        if period[0] > period[1]:
            raise KiemtraError("Ngày bắt đầu phải trước ngày kết thúc.")
        _prepare(settings)
        with session_scope(settings) as session:
            agency = session.exec(select(Agency).where(Agency.code == lead)).first()
            if agency is None:
                raise KiemtraError(f"Không có cơ quan chủ trì mã '{lead}'. Hãy nạp danh mục cơ quan trước (kiemtra demo).")
            _, created = ensure_campaign(session, code=code, title=title, lead=agency,
                                         members=[m.strip() for m in members.split(",") if m.strip()],
                                         province_code=agency.province_code, period_start=period[0],
                                         period_end=period[1], quota=quota, teams=teams, actor=by)
        if not created:
            console.print(f"Đợt kiểm tra {code} đã có; chạy tiếp theo trạng thái đã lưu.")
        _print_run(_run_flow("run-campaign", code))


@campaign_app.command("run")
def campaign_run(code: str) -> None:
    """Chạy tiếp đợt kiểm tra qua mọi bước mà trạng thái đã lưu cho phép."""
    settings = get_settings()
    with user_errors():
        _prepare(settings)
        _print_run(_run_flow("run-campaign", code))


@campaign_app.command("status")
def campaign_status(code: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Xem trạng thái đợt kiểm tra (không chạy gì)."""
    from services.stages.status import campaign_status as status

    settings = get_settings()
    with user_errors():
        _prepare(settings, server=False)
        state = status(settings, code)
        if as_json:
            sys.stdout.write(json.dumps(state, ensure_ascii=False, default=str) + "\n")
            return
        console.print(_state_table(state))
        for w in state["waiting_for"]:
            console.print(f"Đang chờ: {w}")


@app.command("migrate")
def migrate_cmd() -> None:
    """Tạo hoặc nâng cấp lược đồ cơ sở dữ liệu."""
    _prepare(get_settings(), server=False)
    console.print("Cơ sở dữ liệu đã ở phiên bản mới nhất.")


@app.command("intake")
def intake_serve() -> None:
    """Chạy API tiếp nhận kết quả kiểm tra (uvicorn)."""
    from services.intake.server import serve_forever

    settings = get_settings()
    _prepare(settings, server=False)
    serve_forever(settings)


@server_app.command("start")
def server_start() -> None:
    """Khởi động (hoặc dùng lại) máy chủ Prefect cục bộ."""
    from services.prefect_server import ensure_server

    server = ensure_server(get_settings())
    console.print(f"Prefect API: {server.api_url} (PID {server.pid})")


@server_app.command("deploy")
def server_deploy() -> None:
    """Tạo work pool và đăng ký mọi deployment trong prefect.yaml (prefect --no-prompt deploy --all)."""
    import subprocess

    from services.prefect_server import ensure_server, ensure_work_pool, prefect_client_env
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
    from services.prefect_server import stop_server

    console.print("Đã dừng." if stop_server(get_settings()) else "Không có máy chủ nào do kiemtra khởi động.")


@server_app.command("status")
def server_status_cmd() -> None:
    """Trạng thái máy chủ Prefect cục bộ."""
    from services.prefect_server import server_status

    sys.stdout.write(json.dumps(server_status(get_settings()).as_dict(), ensure_ascii=False, default=str) + "\n")


def main() -> None:  # pragma: no cover
    app()


__all__ = ["app", "main"]
