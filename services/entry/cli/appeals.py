"""``kiemtra appeal …``: complaints and lawsuits against a sanction decision (only final decisions are public)."""
from __future__ import annotations

from typing import Annotated

import typer

from services.entry.cli.console import console, one_line, parse_date, user_errors
from services.errors import KiemtraError
from services.settings import get_settings

appeal_app = typer.Typer(help="Khiếu nại, khởi kiện quyết định xử phạt: giữ hoặc rút công khai cho đến khi giải quyết xong.",
                         no_args_is_help=True)


DECISION_HELP = "số quyết định xử phạt, ví dụ 12/QĐ-XPHC (cột 'Văn bản' của `kiemtra deadlines list --all`)"


@appeal_app.command("lodge")
def lodge(decision: Annotated[str, typer.Option(help=DECISION_HELP, callback=one_line)],
          kind: Annotated[str, typer.Option(help="complaint (khiếu nại) hoặc lawsuit (khởi kiện)")],
          reference: Annotated[str, typer.Option(help="số đơn hoặc số thụ lý (không ghi tên người)", callback=one_line)],
          on: Annotated[str, typer.Option(help="ngày thụ lý YYYY-MM-DD")],
          by: Annotated[str, typer.Option(help="mã người ghi nhận", callback=one_line)] = "SNV-LEAD") -> None:
    """Ghi nhận khiếu nại, khởi kiện: quyết định chưa công khai (hoặc được rút khỏi sổ công khai)."""
    from services.db import migrate
    from services.stages.appeals import lodge_appeal

    settings = get_settings()
    migrate(settings)
    with user_errors():
        lodge_appeal(settings, decision, kind=kind, reference=reference, lodged_on=parse_date(on), actor=by)
    console.print(f"Đã ghi nhận; quyết định {decision} không được công khai cho đến khi giải quyết xong.")


@appeal_app.command("resolve")
def resolve(decision: Annotated[str, typer.Option(help=DECISION_HELP, callback=one_line)],
            outcome: Annotated[str, typer.Option(help="giu-nguyen hoặc huy")],
            reference: Annotated[str, typer.Option(help="số quyết định giải quyết hoặc bản án", callback=one_line)],
            on: Annotated[str, typer.Option(help="ngày giải quyết YYYY-MM-DD")],
            by: Annotated[str, typer.Option(help="mã người ghi nhận", callback=one_line)] = "SNV-LEAD") -> None:
    """Ghi nhận kết quả: giữ nguyên (công khai) hoặc hủy (không công khai)."""
    from services.db import migrate
    from services.stages.appeals import resolve_appeal

    settings = get_settings()
    migrate(settings)
    with user_errors():
        if outcome not in ("giu-nguyen", "huy"):
            raise KiemtraError(f"Kết quả không hợp lệ: {outcome} (giu-nguyen hoặc huy).")
        resolve_appeal(settings, decision, upheld=outcome == "giu-nguyen", resolved_on=parse_date(on), resolution_ref=reference,
                       actor=by)
    console.print("Đã ghi nhận kết quả giải quyết.")
