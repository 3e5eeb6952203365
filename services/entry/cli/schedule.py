"""``kiemtra schedule …``: what the schedule must respect, and moving one visit."""
from __future__ import annotations

from typing import Annotated

import typer

from services.entry.cli.console import console, free_text, one_line, parse_date, user_errors
from services.rules.calendar import today_in_vietnam
from services.settings import get_settings

schedule_app = typer.Typer(help="Lịch kiểm tra: xung đột lợi ích, ngày cơ sở bận, đổi lịch một cuộc kiểm tra.",
                           no_args_is_help=True)


@schedule_app.command("conflict")
def conflict(person: Annotated[str, typer.Option(help="mã người kê khai", callback=one_line)],
             tax_code: Annotated[str, typer.Option(callback=one_line)],
             reason: Annotated[str, typer.Option(help="nội dung xung đột lợi ích", callback=free_text)],
             by: Annotated[str, typer.Option(help="mã người ghi nhận", callback=one_line)] = "SNV-LEAD") -> None:
    """Ghi nhận kê khai xung đột lợi ích: người này không tham gia đoàn kiểm tra cơ sở đó."""
    from services.db import migrate
    from services.stages.declarations import declare_conflict

    settings = get_settings()
    migrate(settings)
    with user_errors():
        created = declare_conflict(settings, person_code=person, tax_code=tax_code, reason=reason,
                                   declared_on=today_in_vietnam(), by=by)
    console.print("Đã ghi nhận." if created else "Đã có kê khai này.")


@schedule_app.command("unavailable")
def unavailable(tax_code: Annotated[str, typer.Option(callback=one_line)], day: Annotated[str, typer.Option(help="YYYY-MM-DD")],
                reason: Annotated[str, typer.Option(callback=free_text)] = "",
                by: Annotated[str, typer.Option(callback=one_line)] = "SNV-LEAD") -> None:
    """Ghi nhận ngày cơ sở không thể tiếp đoàn kiểm tra."""
    from services.db import migrate
    from services.stages.declarations import declare_unavailable

    settings = get_settings()
    migrate(settings)
    with user_errors():
        created = declare_unavailable(settings, tax_code=tax_code, day=parse_date(day), reason=reason, by=by)
    console.print("Đã ghi nhận." if created else "Ngày này đã được ghi nhận.")


@schedule_app.command("move")
def move(code: Annotated[str, typer.Argument(help="mã đợt kiểm tra", show_default=False)],
         tax_code: Annotated[str, typer.Option(help="mã số thuế của cơ sở (cột MST của `kiemtra selection show MÃ_ĐỢT --all`)",
                                               callback=one_line)],
         reason: Annotated[str, typer.Option(help="lý do đổi lịch", callback=free_text)],
         by: Annotated[str, typer.Option(help="mã người chủ trì", callback=one_line)],
         not_on: Annotated[list[str] | None, typer.Option(help="ngày cơ sở không thể tiếp đoàn (YYYY-MM-DD)")] = None) -> None:
    """Đổi lịch một cuộc kiểm tra: chỉ dời những gì buộc phải dời; thông báo và kế hoạch mới thay thế bản cũ."""
    from services.db import migrate
    from services.stages.rescheduling import reschedule_visit

    settings = get_settings()
    migrate(settings)
    with user_errors():
        moves = reschedule_visit(settings, code, tax_code=tax_code, reason=reason, by=by,
                                 not_on=frozenset(parse_date(d) for d in not_on or []))
    for m in moves:
        console.print(f"{m.tax_code}: {m.from_day:%d/%m/%Y} → {m.to_day:%d/%m/%Y}")
    console.print("Đã ban hành thông báo và kế hoạch thay thế; chạy `kiemtra campaign run` để gửi thông báo.")
