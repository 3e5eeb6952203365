"""What every ``kiemtra`` command shares: the console, tables printed whole (:func:`print_table`), the hint of the next
step (:func:`next_step`), refusals printed in Vietnamese, dates typed by people, and the text policy on every free-text
option (:func:`one_line`, :func:`free_text`: ``typer.Option(callback=...)``)."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from services.errors import KiemtraError, PrefectServerError
from services.text_policy import check_text
from services.errors import TextRefused

console = Console()
WIDEST = 240  # off a terminal, a table is printed at its natural width up to this many columns (then it folds)


def print_table(table: Table) -> None:
    """Print a table whole: every column folds what does not fit (never "…"); off a terminal (a pipe, a file, a
    test) the table is printed at its natural width up to :data:`WIDEST` columns, so a row stays on one line for grep
    unless a long text (a list's reasons) folds inside its cell."""
    for column in table.columns:
        column.overflow = "fold"
    if console.is_terminal:
        console.print(table)
        return
    natural = Measurement.get(console, console.options.update_width(WIDEST), table).maximum
    Console(file=console.file, width=max(console.width, natural), color_system=None, highlight=False).print(table)


def print_rows(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """A table of plain texts printed whole (:func:`print_table`); every cell escaped, so a stored text (an error, a
    name) is never read as rich markup."""
    table = Table(title=escape(title))
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    print_table(table)


def next_step(*steps: str) -> None:
    """The hint of what to do next ("Tiếp theo: …"), one line per step."""
    for step in steps:
        console.print(f"[bold]Tiếp theo:[/] {escape(step)}", soft_wrap=True)


def fail(exc: KiemtraError) -> typer.Exit:
    """Print a refusal with each of its field errors; the command then exits with status 1."""
    console.print(f"[bold red]Lỗi:[/] {exc.message}")
    for line in exc.field_errors():
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


def _policed(param: typer.CallbackParam, value: Any, *, multiline: bool) -> Any:
    """The option's text (each item of a repeated option) through the text policy every boundary shares (NFC, line
    breaks normalised, invisible characters removed); a refused character ends the command before anything is stored,
    the message naming the option."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [_policed(param, item, multiline=multiline) for item in value]
    try:
        return check_text(value, multiline=multiline)
    except TextRefused as exc:
        option = param.opts[0] if param.opts else (param.name or "")
        console.print(f"[bold red]Lỗi:[/] {escape(f'{option}: {exc}')}")
        raise typer.Exit(1) from exc


def one_line(param: typer.CallbackParam, value: Any) -> Any:
    """Callback of a one-line text option (a title, a reference, a code): a line break becomes a space."""
    return _policed(param, value, multiline=False)


def free_text(param: typer.CallbackParam, value: Any) -> Any:
    """Callback of a free-text option (a reason, a note): line breaks are kept, as "\\n"."""
    return _policed(param, value, multiline=True)
