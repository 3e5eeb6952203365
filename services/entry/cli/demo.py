"""``kiemtra demo``: a whole inter-agency campaign on the embedded database, with simulated field users.

The only module that imports :mod:`services.demo` (inside the command, so no other command loads it:
tests/unit/test_demo_room.py)."""
from __future__ import annotations

import os
import time
from typing import Annotated, Any

import typer

from services.entry.cli.console import console, print_table, user_errors
from services.entry.cli.runs import (prepare, print_documents, progress_bar, run_flow, stage_table, state_table,
                                     sweep_deadlines)
from services.settings import Settings


def demo(establishments: Annotated[int, typer.Option(help="số cơ sở trong sổ đăng ký giả lập")] = 20_000,
         quota: Annotated[int, typer.Option(help="số cơ sở kiểm tra")] = 40,
         teams: Annotated[int, typer.Option(help="số đoàn kiểm tra")] = 4,
         keep_server: Annotated[bool, typer.Option(help="để máy chủ Prefect chạy tiếp sau khi xong")] = False) -> None:
    """Chạy thử một đợt kiểm tra liên ngành hoàn chỉnh trên cơ sở dữ liệu nhúng (SQLite)."""
    from services import wiring
    from services.demo.seed import DemoPlan
    from services.runtime.client import quiet_unreachable_api
    from services.runtime.server import server_lost, stop_server

    outbox, settings = _outbox_and_settings()
    root = wiring.for_settings(settings)
    plan = DemoPlan(establishments=establishments, quota=quota, teams=teams)
    t0 = time.monotonic()
    with user_errors(), wiring.use(root):  # the flows run in this process read it (wiring.current())
        server = prepare(settings)
        quiet_unreachable_api()  # if the server goes away mid-run, server_lost below says so in one paragraph
        console.print(f"Prefect API: {server.api_url} (giao diện: {server.ui_url})")
        tokens = _seed(settings, plan)
        try:
            rows, final, after = _play(root, plan, tokens)
        except Exception as exc:  # noqa: BLE001 — said in one paragraph only when the Prefect server went away
            lost = None if isinstance(exc, typer.Exit) else server_lost(server)
            if lost is None:
                raise
            console.print(f"[bold red]Lỗi máy chủ Prefect:[/] {lost}")
            raise typer.Exit(1) from None
        finally:
            outbox.stop()
            if not keep_server and server.started_here:
                stop_server(settings)
        rows += final["stages"] + after
        print_table(stage_table(rows))
        print_table(state_table(final["state"]))
        print_documents(settings, plan.campaign_code)
        console.print(f"Thông báo đã gửi (hộp thư thử qua giao thức gateway): {len(outbox.messages())} tin tại {outbox.folder}")
        console.print(f"Kết quả xử phạt gửi cổng thông tin (bản thử, có chữ ký HMAC): {len(outbox.outcomes())} tin tại "
                      f"{outbox.folder / 'portal'}")
        if after[-1]["overdue"]:
            console.print(f"Thời hạn đã quá mà chưa thực hiện: {after[-1]['overdue']} (xem: kiemtra deadlines list).")
        console.print(f"Hoàn tất sau {time.monotonic() - t0:.1f} giây.")
        _print_console_logins(settings, tokens)


# who logs in to the console after the demo (and one inspector, for /form)
CONSOLE_LOGINS = (("SNV-LEAD", "người chủ trì (trưởng đoàn)"), ("SNV-GD", "người có thẩm quyền: Giám đốc Sở Nội vụ"),
                  ("UBND-CT", "người có thẩm quyền: Chủ tịch UBND tỉnh"), ("SNV-QT", "quản trị hệ thống"),
                  ("SNV-TT01", "thành viên đoàn (Phiếu kết quả kiểm tra, /form)"))


def _print_console_logins(settings: Settings, tokens: dict[str, str]) -> None:
    """Where the console is served (``kiemtra serve``) and the demo's logins: person code and demo token."""
    base = f"http://{settings.intake_host}:{settings.intake_port or 8088}"
    console.print(f"\nBảng điều khiển: chạy [bold]kiemtra serve[/] rồi mở {base}/console/ (phiếu kiểm tra: {base}/form/, "
                  f"ứng dụng làm việc ngoại tuyến trên điện thoại: {base}/form/app/)", soft_wrap=True)
    for code, who in CONSOLE_LOGINS:
        if code in tokens:
            console.print(f"  {code:<9} mã truy cập {tokens[code]}  — {who}", soft_wrap=True, highlight=False)


def _outbox_and_settings() -> tuple[Any, Settings]:
    """The demo's notifications go through the real gateway protocol to a local outbox (never a real gateway), and the
    publications to a local stand-in of the province portal (same protocol, signature checked). The settings the
    composition root is built from are the environment's with these three set (the environment is untouched)."""
    from services.clients.outbox import start_outbox

    portal_secret = os.environ.get("KIEMTRA_PORTAL_SECRET") or "demo-portal-secret"
    with user_errors():  # the stand-in holds KIEMTRA_PORTAL_ACCEPTED_KEYS, or the sender's own key id and secret
        signing = Settings(portal_secret=portal_secret)
        outbox = start_outbox(signing.data_dir / "outbox", portal_keys=signing.portal_receiver_keys,
                              portal_window_s=signing.portal_window_s)
    return outbox, Settings(portal_secret=portal_secret, gateway_url=outbox.url, portal_url=outbox.url)


def _seed(settings: Settings, plan: Any) -> dict[str, str]:
    """Agencies, people (their demo tokens are returned), the synthetic registry and the campaign; each an upsert."""
    from services.db import session_scope
    from services.demo import seed as demo_seed
    from services.stages.planning import ensure_campaign

    with session_scope(settings) as session:
        agencies = demo_seed.seed_agencies(session)
        tokens = demo_seed.seed_people(session, settings, agencies, teams=plan.teams, seed=plan.seed)
    with progress_bar() as progress, session_scope(settings) as session:
        task = progress.add_task("Tạo sổ đăng ký cơ sở giả lập", total=plan.establishments)
        added = demo_seed.seed_registry(session, n=plan.establishments, province_code=demo_seed.PROVINCE, seed=plan.seed,
                                       as_of=plan.period_start, progress=lambda k: progress.advance(task, k))
    console.print(f"Sổ đăng ký: thêm {added} cơ sở (tổng yêu cầu {plan.establishments}).")
    with session_scope(settings) as session:
        _, created = ensure_campaign(
            session, code=plan.campaign_code, title="Kiểm tra liên ngành về an toàn, vệ sinh lao động năm 2026",
            lead=agencies["SNV"], members=["SYT", "LDLD"], province_code=demo_seed.PROVINCE,
            period_start=plan.period_start, period_end=plan.period_end, quota=plan.quota, teams=plan.teams, actor="SNV-LEAD")
    console.print(f"Đợt kiểm tra {plan.campaign_code}: {'mới lập' if created else 'đã có, chạy tiếp'}.")
    return tokens


def _play(root: Any, plan: Any, tokens: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    """The campaign run by the flows, with the simulated users acting over the intake API between the runs; then the
    compliance recorded and the deadline sweep. Returns the stages so far, the last run and what came after it."""
    from services.demo import users as demo_users
    from services.entry.http.server import start_in_thread

    settings = root.settings
    rows: list[dict[str, Any]] = []
    intake = None
    try:
        rows += run_flow("run-campaign", plan.campaign_code)["stages"]
        intake = start_in_thread(settings)
        with root.intake_http(intake.url) as http:
            rows += _field_users(http, settings, plan, tokens)
        intake.stop()
        final = run_flow("run-campaign", plan.campaign_code)
        t = time.monotonic()
        paid = demo_users.simulate_compliance(settings, plan.campaign_code)
        after = [{"stage": "compliance", "done": paid, "seconds": time.monotonic() - t},
                 sweep_deadlines()]  # while the outbox is up: its warnings are delivered in the same run
    finally:
        if intake is not None:
            intake.stop()
    return rows, final, after


def _field_users(http: Any, settings: Settings, plan: Any, tokens: dict[str, str]) -> list[dict[str, Any]]:
    """The lead approves the list, the inspectors send their findings, the lead reviews them, the officials decide."""
    from services.demo import users as demo_users

    rows: list[dict[str, Any]] = []
    t = time.monotonic()
    approved = demo_users.simulate_lead_review(http, tokens["SNV-LEAD"], plan.campaign_code)
    rows.append({"stage": "lead-approval", "done": approved, "seconds": time.monotonic() - t})
    rows += run_flow("run-campaign", plan.campaign_code)["stages"]
    with progress_bar() as progress:
        task = progress.add_task("Thanh tra viên gửi kết quả qua API", total=plan.quota)
        t = time.monotonic()
        sent = demo_users.simulate_inspectors(settings, http, tokens, plan.campaign_code,
                                              progress=lambda k: progress.advance(task, k))
    rows.append({"stage": "findings-intake", "done": sent, "seconds": time.monotonic() - t})
    t = time.monotonic()
    reviewed = demo_users.simulate_findings_review(http, tokens["SNV-LEAD"], plan.campaign_code)
    rows.append({"stage": "findings-review", "done": reviewed, "seconds": time.monotonic() - t})
    rows += run_flow("run-campaign", plan.campaign_code)["stages"]
    t = time.monotonic()
    titles = {code: title for code, title in (("SNV-GD", "Giám đốc Sở Nội vụ"),
                                              ("UBND-CT", "Chủ tịch Ủy ban nhân dân tỉnh"))}
    decided = demo_users.simulate_officials(http, tokens, titles, plan.campaign_code)
    rows.append({"stage": "official-decisions", "done": decided, "seconds": time.monotonic() - t})
    return rows
