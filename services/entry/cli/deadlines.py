"""``kiemtra deadlines …``: sweep the legal deadlines (as the daily flow does) and list them."""
from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import Session

from services.entry.cli.console import console, free_text, one_line, parse_date, user_errors
from models import Deadline, DeadlineKind
from services.stages import deadline_changes
from services.errors import KiemtraError
from services.settings import get_settings

deadlines_app = typer.Typer(help="Thời hạn pháp lý: quét hằng ngày (cảnh báo, báo quá hạn), xem danh sách.",
                            no_args_is_help=True)

KIND_VI = {"violation_record": "Lập biên bản vi phạm", "sanction_decision": "Ra quyết định xử phạt",
           "limitation": "Thời hiệu xử phạt", "comply": "Chấp hành quyết định", "remedial": "Khắc phục hậu quả",
           "explain_hearing": "Hạn yêu cầu giải trình trực tiếp (quyền của người vi phạm)",
           "explain_written": "Hạn gửi văn bản giải trình (quyền của người vi phạm)",
           "send_decision": "Gửi quyết định xử phạt"}
STATUS_VI = {"open": "đang chạy", "met": "đã thực hiện", "cancelled": "không còn áp dụng"}


@deadlines_app.command("sweep")
def sweep(today: Annotated[str | None, typer.Option(help="quét như vào ngày YYYY-MM-DD (mặc định: hôm nay)")] = None) -> None:
    """Chạy luồng deadline-sweeper một lần (bình thường máy chủ Prefect tự chạy lúc 06:00 hằng ngày)."""
    from services.entry.cli.in_process import in_process_run
    from flows.deadline_sweeper import deadline_sweeper
    from services.db import migrate
    from services.runtime.server import ensure_server

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
    from sqlmodel import col, select

    from models import Campaign, Deadline, DeadlineStatus
    from services.db import migrate, read_only_session, get_engine

    settings = get_settings()
    migrate(settings)
    with read_only_session(get_engine(settings)) as session:
        query = (select(Deadline, Campaign.code).join(Campaign, col(Campaign.id) == col(Deadline.campaign_id))
                 .order_by(col(Deadline.due_on), col(Deadline.id)))
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


def _change(what: str, change: Callable[[Session], Deadline]) -> None:
    """One change a person makes to a deadline, in its own transaction, with its Vietnamese refusal."""
    from services.db import migrate, session_scope

    settings = get_settings()
    migrate(settings)
    with user_errors(), session_scope(settings) as session:
        deadline = change(session)
        line = (f"{what}: {KIND_VI.get(deadline.kind, deadline.kind)}, cuộc kiểm tra {deadline.inspection_id}, "
                f"hạn cuối {deadline.due_on:%d/%m/%Y} ({STATUS_VI.get(deadline.status, deadline.status)}).")
    console.print(line)


Reason = Annotated[str, typer.Option(help="lý do, căn cứ (bắt buộc)", callback=free_text)]
By = Annotated[str, typer.Option(help="mã người thực hiện", callback=one_line)]


@deadlines_app.command("met")
def met(deadline_id: int, on: Annotated[str, typer.Option(help="ngày đã thực hiện YYYY-MM-DD")], reason: Reason,
        by: By = "SNV-LEAD",
        via: Annotated[str | None, typer.Option(
            help="gửi quyết định: direct (giao trực tiếp), post (bưu chính bảo đảm), electronic (điện tử), posting "
                 "(niêm yết); có thể ghi ngay trong --reason")] = None) -> None:
    """Xác nhận đã chấp hành quyết định, đã thực hiện biện pháp khắc phục (ghi căn cứ, ví dụ biên lai) hoặc đã gửi
    quyết định xử phạt (ghi cách gửi: giao trực tiếp, bưu chính bảo đảm, điện tử, niêm yết — Điều 70)."""
    _change("Đã xác nhận", lambda s: deadline_changes.mark_met(s, deadline_id, parse_date(on, "on"), actor=by, reason=reason,
                                                        sent_by=via))


@deadlines_app.command("complex")
def complex_case(inspection_id: int, kind: Annotated[str, typer.Option(help="violation_record hoặc sanction_decision")],
                 reason: Reason, by: By = "SNV-LEAD") -> None:
    """Vụ việc phức tạp: 05 ngày làm việc để lập biên bản, 01 tháng để ra quyết định."""
    def change(s: Session) -> Deadline:
        if kind not in (DeadlineKind.VIOLATION_RECORD, DeadlineKind.SANCTION_DECISION):
            raise KiemtraError(f"Loại thời hạn không hợp lệ: kind {kind} (violation_record hoặc sanction_decision).")
        return deadline_changes.declare_complex(s, inspection_id, DeadlineKind(kind), actor=by, reason=reason)
    _change("Đã ghi nhận vụ việc phức tạp", change)


@deadlines_app.command("explained")
def explained(inspection_id: int, reason: Reason, by: By = "SNV-LEAD",
              on: Annotated[str | None, typer.Option(help="ngày nhận yêu cầu/văn bản giải trình YYYY-MM-DD "
                                                          "(mặc định: hôm nay)")] = None) -> None:
    """Cá nhân, tổ chức vi phạm đề nghị giải trình: thời hạn ra quyết định 01 tháng; các thời hạn giải trình đóng."""
    _change("Đã ghi nhận giải trình", lambda s: deadline_changes.record_explanation(
        s, inspection_id, actor=by, reason=reason, on=parse_date(on, "on") if on else None))


@deadlines_app.command("extend")
def extend(inspection_id: int, months: Annotated[int, typer.Option(help="số tháng gia hạn")], reason: Reason,
           by: By = "SNV-LEAD") -> None:
    """Gia hạn (một lần) thời hạn ra quyết định xử phạt của vụ việc đặc biệt phức tạp."""
    _change("Đã gia hạn", lambda s: deadline_changes.extend_decision(s, inspection_id, months, actor=by, reason=reason))
