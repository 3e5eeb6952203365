"""``kiemtra portal …``: what the province portal has not taken, and sending it again."""
from __future__ import annotations

from typing import Annotated

import typer

from services.entry.cli.console import console, free_text, one_line, print_rows, user_errors
from services.settings import get_settings

portal_app = typer.Typer(help="Cổng thông tin điện tử của tỉnh: tin gửi lỗi, gửi lại.", no_args_is_help=True)


@portal_app.command("dead")
def dead() -> None:
    """Các tin công khai mà cổng thông tin chưa nhận (hết số lần thử hoặc bị từ chối)."""
    from services.delivery import portal
    from services.db import migrate

    settings = get_settings()
    migrate(settings)
    rows = portal.dead_messages(settings)
    if not rows:
        console.print("Không có tin gửi lỗi.")
        return
    print_rows("Tin gửi cổng thông tin bị lỗi", ("Mã tin", "Loại", "Quyết định", "Số lần thử", "Lỗi gần nhất"),
               ((str(r["id"]), r["event"], str(r["decision"]), str(r["attempts"]), r["last_error"]) for r in rows))


@portal_app.command("retry")
def retry(message_id: Annotated[int, typer.Argument(help="số tin: cột 'Mã tin' của `kiemtra portal dead`",
                                            show_default=False)],
          reason: Annotated[str, typer.Option(help="vì sao gửi lại", callback=free_text)],
          by: Annotated[str, typer.Option(help="mã người thực hiện", callback=one_line)] = "SNV-LEAD") -> None:
    """Đưa một tin gửi lỗi về hàng chờ; luồng portal-delivery sẽ gửi lại."""
    from services.delivery import portal
    from services.db import migrate

    settings = get_settings()
    migrate(settings)
    with user_errors():
        portal.retry_dead(settings, message_id, actor=by, reason=reason)
    console.print(f"Tin số {message_id} đã được đưa lại hàng chờ gửi.")
