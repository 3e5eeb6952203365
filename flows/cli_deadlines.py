"""``kiemtra deadlines …``: sweep the legal deadlines (as the daily flow does) and list them."""
from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from flows._cli import console, parse_date, user_errors
from services.settings import get_settings

deadlines_app = typer.Typer(help="Thời hạn pháp lý: quét hằng ngày (cảnh báo, báo quá hạn), xem danh sách.",
                            no_args_is_help=True)

KIND_VI = {"violation_record": "Lập biên bản vi phạm", "sanction_decision": "Ra quyết định xử phạt",
           "limitation": "Thời hiệu xử phạt", "comply": "Chấp hành quyết định", "remedial": "Khắc phục hậu quả"}
STATUS_VI = {"open": "đang chạy", "met": "đã thực hiện", "cancelled": "không còn áp dụng"}


@deadlines_app.command("sweep")
def sweep(today: Annotated[str | None, typer.Option(help="quét như vào ngày YYYY-MM-DD (mặc định: hôm nay)")] = None) -> None:
    """Chạy luồng deadline-sweeper một lần (bình thường máy chủ Prefect tự chạy lúc 06:00 hằng ngày)."""
    from flows._local import in_process_run
    from flows.deadline_sweeper import deadline_sweeper
    from services.db import migrate
    from services.prefect_server import ensure_server

    settings = get_settings()
    with user_errors():
        day = parse_date(today) if today else None
        migrate(settings)
        ensure_server(settings)
        with in_process_run():
            out = deadline_sweeper(day)
    console.print(f"Ngày {out['today']}: tạo {out['created']}, đã thực hiện {out['met']}, không còn áp dụng {out['cancelled']}, "
                  f"cảnh báo {out['warned']}, báo quá hạn {out['escalated']}.")
    for item in out["overdue"]:
        console.print(f"  Quá hạn: {item}")


@deadlines_app.command("list")
def list_deadlines(campaign: Annotated[str | None, typer.Option(help="mã đợt kiểm tra")] = None,
                   all_: Annotated[bool, typer.Option("--all", help="cả thời hạn đã đóng")] = False) -> None:
    """Các thời hạn theo ngày hết hạn."""
    from sqlmodel import select

    from models import Campaign, Deadline, DeadlineStatus
    from services.db import migrate, read_only_session, get_engine

    settings = get_settings()
    migrate(settings)
    with read_only_session(get_engine(settings)) as session:
        query = (select(Deadline, Campaign.code).join(Campaign, Campaign.id == Deadline.campaign_id)
                 .order_by(Deadline.due_on, Deadline.id))
        if campaign:
            query = query.where(Campaign.code == campaign)
        if not all_:
            query = query.where(Deadline.status == DeadlineStatus.OPEN)
        rows = session.exec(query).all()
    table = Table(title="Thời hạn pháp lý")
    for column in ("Đợt", "Cuộc KT", "Việc", "Bắt đầu", "Hạn cuối", "Trạng thái", "Cảnh báo", "Báo quá hạn"):
        table.add_column(column)
    for d, code in rows:
        table.add_row(code, str(d.inspection_id), KIND_VI.get(d.kind, d.kind), f"{d.starts_on:%d/%m/%Y}", f"{d.due_on:%d/%m/%Y}",
                      STATUS_VI.get(d.status, d.status), f"{d.warned_on:%d/%m/%Y}" if d.warned_on else "",
                      f"{d.escalated_on:%d/%m/%Y}" if d.escalated_on else "")
    console.print(table)
