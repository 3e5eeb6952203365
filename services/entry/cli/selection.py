"""``kiemtra selection …`` and ``kiemtra trigger …``: the lead's review of a proposed list."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from services.entry.cli.console import (console, free_text, next_step, one_line, parse_date as _date, print_table,
                                       user_errors)
from services.errors import KiemtraError
from services.settings import get_settings

if TYPE_CHECKING:  # the stages load when a command runs, not when the CLI starts
    from services.stages.approval import Change

selection_app = typer.Typer(help="Danh sách cơ sở dự kiến kiểm tra: xem, kiểm chứng, sửa, duyệt, xuất.", no_args_is_help=True)
trigger_app = typer.Typer(help="Căn cứ kiểm tra đột xuất (khiếu nại, tai nạn, chuyển đến).", no_args_is_help=True)


def _changes(items: list[str], option: str) -> list[Change]:
    from services.stages.approval import Change

    out = []
    for item in items:
        tax_code, sep, reason = item.partition("=")
        if not sep:
            raise KiemtraError(f"{option} '{item}': cần dạng MÃ_SỐ_THUẾ=lý do")
        out.append(Change(tax_code.strip(), reason.strip()))
    return out


TOP = 20  # `selection show` without --all: the first rows of the list
Code = Annotated[str, typer.Argument(help="mã đợt kiểm tra", show_default=False)]


@selection_app.command("show")
def show(code: Code, as_json: Annotated[bool, typer.Option("--json")] = False,
         all_: Annotated[bool, typer.Option("--all", help="in cả danh sách (mặc định: các cơ sở đứng đầu)")] = False,
         top: Annotated[int, typer.Option(min=1, help="số cơ sở đứng đầu được in khi không có --all")] = TOP) -> None:
    """Danh sách đề xuất với điểm rủi ro và lý do của từng cơ sở (mặc định các cơ sở đứng đầu; --all: cả danh sách).
    Cột MST là mã `kiemtra selection change --remove "MST=lý do"` cần."""
    from services.db import migrate, session_scope
    from services.stages.common import get_campaign
    from services.stages.selection_docs import selection_context

    settings = get_settings()
    migrate(settings)
    with user_errors():
        with session_scope(settings) as session:
            campaign = get_campaign(session, code)
            context, _ = selection_context(session, campaign, issued_on=campaign.period_start)
            status = str(campaign.status)
    if as_json:
        sys.stdout.write(json.dumps(context, ensure_ascii=False, default=str) + "\n")
        return
    rows = context["rows"] if all_ else context["rows"][:top]
    table = Table(title=f"Danh sách đề xuất {code} — {len(context['rows'])} cơ sở; chính sách "
                        f"{context['basis']['policy_version']}, seed {context['basis']['seed']}, "
                        f"{context['basis']['registry_rows']} cơ sở trong phạm vi")
    for col in ("TT", "Tên cơ sở", "MST", "Xã", "Điểm", "Loại", "Lý do"):
        table.add_column(col, justify="right" if col in ("TT", "Điểm") else "left")
    for r in rows:
        table.add_row(str(r["rank"]), r["name"], r["tax_code"], r["commune_vi"], f"{r['score']:.2f}", r["kind_vi"],
                      r["reasons_vi"])
    print_table(table)
    if len(rows) < len(context["rows"]):
        console.print(f"Đã in {len(rows)}/{len(context['rows'])} cơ sở đứng đầu; cả danh sách: kiemtra selection show "
                      f"{code} --all (hoặc kiemtra selection export {code}).", soft_wrap=True)
    for r in context["removed"]:
        console.print(f"Đã loại: {r['name']} ({r['tax_code']}) — {r['reason_vi']} [{r['changed_by']}]", soft_wrap=True)
    if status == "selected":
        next_step(f'loại hoặc bổ sung: kiemtra selection change {code} --by SNV-LEAD --remove "MST=<lý do>" '
                  f'--add "MST=<lý do>"', f"duyệt: kiemtra selection approve {code} --by SNV-LEAD, rồi "
                  f"kiemtra campaign run {code}")


@selection_app.command("verify")
def verify(code: Code) -> None:
    """Tính lại danh sách từ phiên bản chính sách, seed và sổ đăng ký đã lưu; báo có trùng khớp không."""
    from services.db import migrate
    from services.stages.selection import verify_selection

    settings = get_settings()
    migrate(settings)
    with user_errors():
        result = verify_selection(settings, code)
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    if result["identical"] and result["registry_unchanged"]:
        console.print(f"Trùng khớp: {result['selected']} cơ sở, chính sách {result['policy']}, seed {result['seed']}.")
        return
    if not result["registry_unchanged"]:
        console.print("[yellow]Sổ đăng ký trong phạm vi đã thay đổi kể từ khi lập danh sách.[/]")
    if not result["identical"]:
        console.print("[bold red]Danh sách tính lại khác danh sách đã lưu.[/]")
        raise typer.Exit(1)


@selection_app.command("change")
def change(code: Code, by: Annotated[str, typer.Option(help="mã người chủ trì", callback=one_line)],
           add: Annotated[list[str] | None, typer.Option(
               help="MÃ_SỐ_THUẾ=lý do bổ sung (mã số thuế: tìm trong sổ đăng ký trên bảng điều khiển, trang danh sách "
                    "của đợt)", callback=one_line)] = None,
           remove: Annotated[list[str] | None, typer.Option(
               help="MÃ_SỐ_THUẾ=lý do loại (cột MST của `kiemtra selection show MÃ_ĐỢT --all`)",
               callback=one_line)] = None) -> None:
    """Bổ sung hoặc loại cơ sở (mỗi thay đổi phải có lý do) trước khi duyệt."""
    from services.db import migrate
    from services.stages.approval import change_selection

    settings = get_settings()
    migrate(settings)
    with user_errors():
        done = change_selection(settings, code, by=by, add=_changes(add or [], "--add"),
                                remove=_changes(remove or [], "--remove"))
    console.print(f"Đã bổ sung {done['added']}, loại {done['removed']} cơ sở.")
    next_step(f"xem lại: kiemtra selection show {code}; duyệt: kiemtra selection approve {code} --by {by}")


@selection_app.command("approve")
def approve(code: Code, by: Annotated[str, typer.Option(help="mã người chủ trì", callback=one_line)],
            note: Annotated[str, typer.Option(help="ghi chú khi duyệt", callback=free_text)] = "") -> None:
    """Duyệt danh sách; sau đó `kiemtra campaign run` lập đoàn và lịch."""
    from services.db import migrate
    from services.stages.approval import approve_selection

    settings = get_settings()
    migrate(settings)
    with user_errors():
        count = approve_selection(settings, code, by=by, note=note)
    console.print(f"Đã duyệt danh sách {count} cơ sở của đợt {code}.")
    next_step(f"lập đoàn, lịch và văn bản: kiemtra campaign run {code}")


@selection_app.command("export")
def export(code: Code, out: Annotated[Path | None, typer.Option(help="thư mục ghi tệp")] = None) -> None:
    """Xuất danh sách ra PDF và XLSX."""
    from services.db import migrate
    from services.stages.selection_docs import export_selection

    settings = get_settings()
    migrate(settings)
    with user_errors():
        pdf, xlsx = export_selection(settings, code, out_dir=out)
    console.print(f"PDF: {pdf}\nXLSX: {xlsx}")


@trigger_app.command("add")
def add_trigger(tax_code: Annotated[str, typer.Option(callback=one_line)],
                kind: Annotated[str, typer.Option(help="complaint|accident|referral")],
                reference: Annotated[str, typer.Option(help="số văn bản, số hồ sơ", callback=one_line)],
                received_on: Annotated[str, typer.Option(help="ngày nhận YYYY-MM-DD")],
                by: Annotated[str, typer.Option(help="mã người ghi nhận", callback=one_line)],
                note: Annotated[str, typer.Option(callback=free_text)] = "") -> None:
    """Ghi nhận căn cứ cho phép kiểm tra đột xuất một cơ sở."""
    from services.db import migrate
    from services.stages.triggers import record_trigger

    settings = get_settings()
    migrate(settings)
    with user_errors():
        created = record_trigger(settings, tax_code=tax_code, kind=kind, reference=reference,
                                 received_on=_date(received_on), by=by, note=note)
    console.print("Đã ghi nhận căn cứ." if created else "Căn cứ này đã được ghi nhận trước đó.")


