"""``kiemtra deliveries …``: the records and decisions sent to violators by e-mail, sending now, sending again."""
from __future__ import annotations

from typing import Annotated

import typer

from services.entry.cli.console import console, free_text, one_line, print_rows, user_errors
from services.settings import get_settings

deliveries_app = typer.Typer(help="Gửi biên bản, quyết định cho người vi phạm bằng thư điện tử: danh sách, gửi, gửi lại.",
                             no_args_is_help=True)


@deliveries_app.command("list")
def list_deliveries(status: Annotated[str | None, typer.Option(
                        help="chỉ các lượt ở trạng thái này: pending, sending, sent, failed, dead")] = None,
                    limit: Annotated[int, typer.Option(min=1)] = 100) -> None:
    """Các lượt gửi văn bản, mới nhất trước, với lỗi gần nhất."""
    from services.db import migrate
    from services.delivery.document_delivery import listing

    settings = get_settings()
    migrate(settings)
    rows = listing(settings, status=status, limit=limit)
    if not rows:
        console.print("Không có lượt gửi văn bản nào.")
        return
    print_rows("Gửi văn bản cho người vi phạm",
               ("Mã", "Trạng thái", "Văn bản", "Gửi tới", "Số lần thử", "Đã gửi lúc", "Lỗi gần nhất"),
               ((str(r["id"]), r["status"], r["document"], r["to"], str(r["attempts"]), r["sent_at"] or "", r["last_error"])
                for r in rows))


@deliveries_app.command("send")
def send() -> None:
    """Gửi ngay các văn bản đang chờ (luồng deadline-sweeper cũng gửi hằng ngày)."""
    from services.db import migrate
    from services.stages.document_delivery import deliver

    settings = get_settings()
    migrate(settings)
    with user_errors():
        result = deliver(settings).as_dict()
    console.print(result)


@deliveries_app.command("retry")
def retry(delivery_id: Annotated[int, typer.Argument(help="cột 'Mã' của `kiemtra deliveries list`", show_default=False)],
          reason: Annotated[str, typer.Option(help="vì sao gửi lại (với lượt không rõ kết quả: đã kiểm tra hộp thư)",
                                                      callback=free_text)],
          by: Annotated[str, typer.Option(help="mã người thực hiện", callback=one_line)] = "SNV-LEAD") -> None:
    """Đưa một lượt gửi lỗi (failed) hoặc dừng (dead) về hàng chờ; lần gửi sau dùng lại cùng Message-ID."""
    from services.db import migrate
    from services.delivery.document_delivery import retry as retry_delivery

    settings = get_settings()
    migrate(settings)
    with user_errors():
        retry_delivery(settings, delivery_id, actor=by, reason=reason)
    console.print(f"Lượt gửi số {delivery_id} đã được đưa lại hàng chờ.")
