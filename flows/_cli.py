"""What every ``kiemtra`` command shares: the console, refusals printed in Vietnamese, dates typed by people."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import typer
from rich.console import Console

from services.errors import KiemtraError
from services.prefect_server import PrefectServerError

console = Console()


def fail(exc: KiemtraError) -> typer.Exit:
    """Print a refusal with each of its field errors; the command then exits with status 1."""
    console.print(f"[bold red]Lỗi:[/] {exc.message}")
    for line in exc.ids.get("errors", []) or []:  # type: ignore[union-attr]
        console.print(f"  - {line}")
    return typer.Exit(1)


@contextmanager
def user_errors() -> Iterator[None]:
    """Our own errors end the command with their Vietnamese message (anything else is a bug and shows as one)."""
    try:
        yield
    except PrefectServerError as exc:
        console.print(f"[bold red]Lỗi máy chủ Prefect:[/] {exc}")
        raise typer.Exit(1) from exc
    except KiemtraError as exc:
        raise fail(exc) from exc


def parse_date(text: str, field: str = "") -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        where = f"{field}: " if field else ""
        raise KiemtraError(f"Ngày không hợp lệ (cần dạng YYYY-MM-DD): {where}{text}") from exc
