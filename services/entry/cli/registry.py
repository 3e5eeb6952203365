"""``kiemtra registry …``: bring the province's registry of establishments in (file or registry API)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from services.entry.cli.console import one_line
from services.errors import KiemtraError, RegistryImportRejected
from services.settings import get_settings

if TYPE_CHECKING:  # the registry's modules load when a command runs, not when the CLI starts
    from services.registry.report import ImportResult

registry_app = typer.Typer(help="Sổ đăng ký cơ sở lao động: nhập từ tệp CSV/XLSX hoặc từ API.", no_args_is_help=True)
console = Console()


def _report(result: ImportResult) -> None:
    console.print(f"Đã đọc {result.rows} dòng: thêm {result.inserted}, cập nhật {result.updated}, "
                  f"không đổi {result.unchanged}, bị loại {result.rejected}.")
    if result.report.errors:
        console.print(result.report.to_table())


def _fail(exc: KiemtraError) -> typer.Exit:
    console.print(f"[bold red]Lỗi:[/] {exc.message}")
    report = getattr(exc, "report", None)
    if report is not None:
        console.print(report.to_table())
    return typer.Exit(1)


@registry_app.command("import")
def import_file(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="tệp .csv hoặc .xlsx")],
                by: Annotated[str, typer.Option(help="mã người nhập", callback=one_line)] = "SNV-LEAD",
                valid_only: Annotated[bool, typer.Option(help="chỉ nhập các dòng hợp lệ khi tệp có lỗi")] = False,
                errors_csv: Annotated[Path | None, typer.Option(help="ghi báo cáo lỗi ra tệp CSV")] = None) -> None:
    """Nhập sổ đăng ký; tệp có lỗi không được nhập (trừ khi --valid-only), nhập lại cùng tệp không thay đổi gì."""
    from services.db import migrate
    from services.registry.importer import import_registry

    settings = get_settings()
    migrate(settings)
    try:
        result = import_registry(settings, path, actor=by, valid_only=valid_only)
    except KiemtraError as exc:
        if errors_csv is not None and isinstance(exc, RegistryImportRejected):
            errors_csv.write_text(exc.report.to_csv(), encoding="utf-8")
        raise _fail(exc) from exc
    if errors_csv is not None and result.report.errors:
        errors_csv.write_text(result.report.to_csv(), encoding="utf-8")
    _report(result)


@registry_app.command("pull")
def pull(province: Annotated[str | None, typer.Option(help="mã tỉnh; bỏ trống: toàn quốc")] = None,
         by: Annotated[str, typer.Option(help="mã người nhập", callback=one_line)] = "SNV-LEAD",
         valid_only: Annotated[bool, typer.Option()] = False) -> None:
    """Lấy sổ đăng ký từ API (KIEMTRA_REGISTRY_API_URL), kiểm tra và nhập như một tệp."""
    from services import wiring
    from services.clients.registry_api import import_from_api
    from services.db import migrate

    settings = get_settings()
    if not settings.registry_api_url:
        console.print("[bold red]Lỗi:[/] chưa cấu hình địa chỉ API sổ đăng ký (KIEMTRA_REGISTRY_API_URL).")
        raise typer.Exit(1)
    migrate(settings)
    try:
        with wiring.for_settings(settings).registry_api() as client:
            result = import_from_api(settings, client, province, actor=by, valid_only=valid_only)
    except KiemtraError as exc:
        raise _fail(exc) from exc
    _report(result)
