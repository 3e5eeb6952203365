"""What the campaign commands and the demo share: preparing the database and the Prefect server, running the
run-campaign flow in this process, the tables they print (what each stage did — issued, found already done, waiting,
failed — the campaign's state, documents) and the hint of the next step (:func:`next_steps`)."""
from __future__ import annotations

import time
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.entry.cli.console import console, next_step, print_table
from services.settings import Settings

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


def prepare(settings: Settings, *, server: bool = True) -> Any:
    from services.db import migrate
    from services.runtime.server import ensure_server

    with console.status("Cập nhật cơ sở dữ liệu (migrations)…"):
        migrate(settings)
    if not server:
        return None
    with console.status("Khởi động hoặc dùng lại máy chủ Prefect cục bộ…"):
        return ensure_server(settings)


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True)


OUTCOME_VI = {"issued": "ban hành", "published": "công khai", "already": "đã có từ trước", "waiting": "chờ",
              "annulled": "quyết định bị hủy, không công khai"}


def stage_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Các bước của đợt kiểm tra (lần chạy này)")
    for col in ("Bước", "Luồng (flow)", "Đã làm lần này", "Đã có từ trước", "Đang chờ", "Lỗi", "Kết quả",
                "Thời gian (s)"):
        table.add_column(col, justify="right" if col in ("Đã làm lần này", "Đã có từ trước", "Đang chờ", "Lỗi",
                                                         "Thời gian (s)") else "left", overflow="fold")
    if not rows:
        table.add_row("Không có bước nào chạy được (xem 'Đang chờ' bên dưới)", "", "", "", "", "", "", "")
    for r in rows:
        table.add_row(STAGE_VI.get(r["stage"], r["stage"]), r["stage"], str(r.get("done", 0)), str(r.get("already", 0)),
                      str(r.get("waiting", 0)), str(len(r.get("failed", []))), stage_outcome_vi(r),
                      f"{r.get('seconds', 0):.1f}")
    return table


def stage_outcome_vi(r: dict[str, Any]) -> str:
    """What one stage did, in a line: its outcomes per inspection and what it reports (teams, documents…)."""
    parts = [f"{OUTCOME_VI.get(k, k)} {v}" for k, v in r.get("outcomes", {}).items() if v]
    if r["stage"] == "select-establishments" and r.get("done"):
        parts.append(f"đề xuất {r['done']} cơ sở từ {r.get('registry', 0)} cơ sở trong sổ đăng ký "
                     f"(chính sách {r.get('policy', '')}, seed {r.get('seed', '')})")
    if r["stage"] == "schedule-inspections":
        if r.get("teams"):
            parts.append(f"{r['teams']} đoàn, lịch từ {_day(r.get('first_visit'))} đến {_day(r.get('last_visit'))}")
        parts.append(f"{r.get('documents', 0)} văn bản, {r.get('notifications_sent', 0)} thông báo đã gửi")
        if r.get("missing_contacts"):
            parts.append(f"{r['missing_contacts']} cơ sở thiếu địa chỉ liên hệ")
    if r.get("campaign_closed"):
        parts.append("đợt kiểm tra đã kết thúc" + (f", báo cáo số {r['report']}" if r.get("report") else ""))
    if r.get("overdue"):
        parts.append(f"{r['overdue']} thời hạn đã quá")
    if r.get("failed"):
        parts.append("lỗi ở cuộc kiểm tra " + ", ".join(str(i) for i in r["failed"]))
    return "; ".join(parts)


def _day(value: Any) -> str:
    """A date (or its ISO text, as a flow's result carries it) as dd/mm/yyyy."""
    from datetime import date

    if isinstance(value, str) and value:
        value = date.fromisoformat(value[:10])
    return f"{value:%d/%m/%Y}" if isinstance(value, date) else "?"


def state_table(state: dict[str, Any]) -> Table:
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


def run_flow(name: str, campaign_code: str) -> dict[str, Any]:
    from services.entry.cli.in_process import in_process_run
    from flows.run_campaign import run_campaign

    start = time.monotonic()
    with console.status(f"Đang chạy luồng {name} cho {campaign_code}…"), in_process_run():
        out = run_campaign(campaign_code)
    out["seconds"] = time.monotonic() - start
    return out


def print_run(out: dict[str, Any]) -> None:
    print_table(stage_table(out["stages"]))
    print_state(out["state"])


def print_state(state: dict[str, Any]) -> None:
    """The campaign's state, what it waits for, and the next step."""
    print_table(state_table(state))
    for waiting in state["waiting_for"]:
        console.print(f"Đang chờ: {waiting}", soft_wrap=True)
    feed = state.get("national_feed")
    if feed:  # the national violations database (docs/national-feed.md)
        counts = f"{feed['pending']} chờ gửi, {feed['sent']} đã nhận, {feed['dead']} gửi lỗi"
        console.print(f"Gửi CSDL quốc gia: {'TẮT — ' + feed['off'] if feed['off'] else 'BẬT'} ({counts}).", soft_wrap=True)
    next_step(*next_steps(state))


def next_steps(state: dict[str, Any]) -> list[str]:
    """What the operator does next, given the campaign's state (commands with this campaign's code filled in)."""
    code, status, counts = state["code"], state["status"], state["inspections"]
    run = f"kiemtra campaign run {code}"
    steps = []
    if state.get("failures"):
        steps.append(f"sửa lỗi ở {len(state['failures'])} cuộc kiểm tra (xem 'Đang chờ') rồi chạy lại: {run}")
    if status == "draft":
        steps.append(f"{run} (chọn cơ sở theo rủi ro)")
    elif status == "selected":
        steps += [f"xem danh sách đề xuất: kiemtra selection show {code} (cả danh sách: --all)",
                  f'loại hoặc bổ sung cơ sở: kiemtra selection change {code} --by SNV-LEAD --remove "MST=<lý do>"',
                  f"duyệt: kiemtra selection approve {code} --by SNV-LEAD (hoặc trên bảng điều khiển: "
                  f"/console/campaigns/{code}/selection), rồi {run}"]
    elif status == "approved":
        steps.append(f"{run} (lập đoàn, lịch và văn bản)")
    elif status == "closed":
        steps += [f"báo cáo kết quả: kiemtra report campaign {code}",
                  f"thời hạn còn chạy: kiemtra deadlines list --campaign {code}"]
    else:
        if state.get("notices_missing") or counts.get("findings_approved") or state.get("ready_for_decision") \
                or counts.get("sanctioned"):
            steps.append(f"chạy tiếp các bước đến lượt: {run}")
        if counts.get("scheduled") or counts.get("findings_returned"):
            steps.append("thanh tra viên gửi kết quả kiểm tra qua phiếu /form/")
        if counts.get("findings_submitted"):
            steps.append(f"trưởng đoàn duyệt kết quả: /console/campaigns/{code}/findings, rồi {run}")
        if counts.get("records_issued", 0) > state.get("ready_for_decision", 0):
            steps.append(f"người có thẩm quyền quyết định mức phạt: /console/campaigns/{code}/findings, rồi {run}")
        if counts.get("records_issued") or counts.get("sanctioned"):
            steps.append(f"theo dõi thời hạn: kiemtra deadlines list --campaign {code}")
    return steps or [f"xem trạng thái: kiemtra campaign status {code}"]


def sweep_deadlines() -> dict[str, Any]:
    """The daily deadline sweep, once, as of today (the demo's visits are in the past: what is still open shows)."""
    from services.entry.cli.in_process import in_process_run
    from flows.deadline_sweeper import deadline_sweeper

    start = time.monotonic()
    with console.status("Đang chạy luồng deadline-sweeper…"), in_process_run():
        out = deadline_sweeper()
    return {"stage": "deadline-sweeper", "done": out["warned"] + out["escalated"], "seconds": time.monotonic() - start,
            "overdue": len(out["overdue"])}


def print_documents(settings: Settings, campaign_code: str) -> None:
    from sqlmodel import col, select

    from models import Document
    from services.db import session_scope
    from services.stages.common import get_campaign

    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code)
        docs = session.exec(select(Document).where(Document.campaign_id == campaign.id).order_by(col(Document.id))).all()
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
