"""``kiemtra history …``: decisions the engine did not issue, with their dates (repeat offences are judged from them)."""
from __future__ import annotations

from typing import Annotated

import typer

from services.entry.cli.console import console, one_line, parse_date as _date, user_errors
from services.settings import get_settings

history_app = typer.Typer(help="Quyết định xử phạt trước đây (không do hệ thống ban hành): căn cứ xác định tái phạm.",
                          no_args_is_help=True)


@history_app.command("add")
def add_prior(tax_code: Annotated[str, typer.Option(callback=one_line)],
              provision: Annotated[str, typer.Option(help="điều khoản đã áp dụng, ví dụ '12/2022/ND-CP Art.21 cl.2(b)'",
                                                     callback=one_line)],
              decision: Annotated[str, typer.Option(help="số, ký hiệu quyết định xử phạt", callback=one_line)],
              decided_on: Annotated[str, typer.Option(help="ngày quyết định YYYY-MM-DD")],
              source: Annotated[str, typer.Option(help="nguồn: hồ sơ giấy, sổ theo dõi, cơ quan cung cấp",
                                                  callback=one_line)],
              by: Annotated[str, typer.Option(help="mã người ghi nhận", callback=one_line)],
              complied_on: Annotated[str | None, typer.Option(help="ngày chấp hành xong YYYY-MM-DD")] = None,
              expired_on: Annotated[str | None, typer.Option(help="ngày hết thời hiệu thi hành YYYY-MM-DD")] = None,
              warning: Annotated[bool, typer.Option(help="hình thức cảnh cáo")] = False) -> None:
    """Ghi nhận một quyết định xử phạt trước đây của cơ sở (để xác định tái phạm theo ngày chấp hành)."""
    from services.db import migrate
    from services.stages.history import record_prior_sanction

    settings = get_settings()
    migrate(settings)
    with user_errors():
        created = record_prior_sanction(settings, tax_code=tax_code, provision_code=provision, decision_ref=decision,
                                        decided_on=_date(decided_on), by=by, source=source,
                                        complied_on=_date(complied_on) if complied_on else None,
                                        enforcement_expired_on=_date(expired_on) if expired_on else None,
                                        warning_only=warning)
    console.print("Đã ghi nhận quyết định." if created else "Quyết định này đã được ghi nhận trước đó.")
