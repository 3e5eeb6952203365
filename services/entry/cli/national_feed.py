"""``kiemtra national-feed …``: the decisions' messages to the national violations database (docs/national-feed.md):
whether the feed is on, the queue, and sending a dead message again."""
from __future__ import annotations

from typing import Annotated

import typer

from services.entry.cli.console import console, free_text, one_line, print_rows, user_errors
from services.settings import get_settings

national_feed_app = typer.Typer(help="Cơ sở dữ liệu quốc gia về xử lý vi phạm hành chính: hàng chờ, tin gửi lỗi, gửi lại.",
                                no_args_is_help=True)
STATUS_VI = {"pending": "chờ gửi", "sent": "đã nhận", "dead": "gửi lỗi"}
EVENT_VI = {"issued": "ban hành", "replaced": "thay thế", "annulled": "bị hủy", "executed": "đã thi hành"}


def feed_line() -> str:
    """Whether the feed sends, as one line (also printed by ``kiemtra campaign status``)."""
    from services.delivery.national_feed import feed_off_reason

    off = feed_off_reason(get_settings())
    return f"Gửi CSDL quốc gia: TẮT — {off}." if off else "Gửi CSDL quốc gia: BẬT."


@national_feed_app.command("list")
def list_messages(status: Annotated[str | None, typer.Option(help="chỉ tin ở trạng thái: pending, sent, dead")] = None) -> None:
    """Các tin gửi Cơ sở dữ liệu quốc gia (mỗi sự kiện của một quyết định xử phạt một tin)."""
    from services.db import migrate
    from services.delivery import national_feed
    from models import FeedStatus

    settings = get_settings()
    migrate(settings)
    with user_errors():
        if status is not None and status not in {s.value for s in FeedStatus}:
            raise typer.BadParameter("status: pending, sent hoặc dead")
        rows = national_feed.messages(settings, status=FeedStatus(status) if status else None)
    console.print(feed_line(), soft_wrap=True)
    if not rows:
        console.print("Không có tin nào.")
        return
    print_rows("Tin gửi Cơ sở dữ liệu quốc gia về xử lý vi phạm hành chính",
               ("Mã tin", "Sự kiện", "Quyết định", "Trạng thái", "Số lần thử", "Mã tiếp nhận", "Lỗi gần nhất"),
               ((str(r["id"]), EVENT_VI.get(r["event"], r["event"]), r["decision"], STATUS_VI.get(r["status"], r["status"]),
                 str(r["attempts"]), r["receiver_ref"], r["last_error"]) for r in rows))


@national_feed_app.command("retry")
def retry(message_id: Annotated[int, typer.Argument(help="số tin: cột 'Mã tin' của `kiemtra national-feed list`",
                                                    show_default=False)],
          reason: Annotated[str, typer.Option(help="vì sao gửi lại", callback=free_text)],
          by: Annotated[str, typer.Option(help="mã người thực hiện", callback=one_line)] = "SNV-LEAD") -> None:
    """Đưa một tin gửi lỗi về hàng chờ; luồng portal-delivery sẽ gửi lại."""
    from services.db import migrate
    from services.delivery import national_feed

    settings = get_settings()
    migrate(settings)
    with user_errors():
        national_feed.retry_dead(settings, message_id, actor=by, reason=reason)
    console.print(f"Tin số {message_id} đã được đưa lại hàng chờ gửi Cơ sở dữ liệu quốc gia.")
