"""``kiemtra documents verify``: the issued documents checked on demand (issue 17): each stored file against its recorded
SHA-256 and, when signed, its digital signatures against the configured trust roots (services.documents.verification),
each check stored (``DocumentVerification``). Exit status 1 when any document fails.

``kiemtra documents unused-numbers``: the numbers reserved but never issued (services.documents.numbering), exit
status 1 when there is one."""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from services.entry.cli.console import console, one_line, print_table, user_errors
from services.settings import get_settings

if TYPE_CHECKING:  # the verification's modules (pyHanko) load when the command runs, not when the CLI starts
    from services.documents.verification import DocumentCheck

documents_app = typer.Typer(help="Văn bản đã ban hành: kiểm tra tệp lưu trữ và chữ ký số.", no_args_is_help=True)
UNSIGNED = "chưa ký số"


def _hash_text(check: DocumentCheck) -> str:
    return "khớp" if check.hash_ok else "KHÔNG có tệp" if check.missing else "KHÔNG khớp"


def _signature_text(check: DocumentCheck) -> str:
    if check.missing:
        return "không kiểm tra được"
    if check.signatures is None:
        return UNSIGNED
    result = check.signatures
    who = ", ".join(s.signer for s in result.signatures)
    if result.ok:
        return f"{len(result.signatures)} chữ ký ({who}), PAdES {result.level}: hợp lệ"
    return f"{len(result.signatures)} chữ ký ({who}): KHÔNG hợp lệ"


@documents_app.command("verify")
def verify(campaign: Annotated[str | None, typer.Option(help="các văn bản của đợt kiểm tra có mã này",
                                                        callback=one_line)] = None,
           number: Annotated[str | None, typer.Option(help="văn bản có số, ký hiệu này, ví dụ 12/BB-KT",
                                                      callback=one_line)] = None,
           all_documents: Annotated[bool, typer.Option("--all", help="mọi văn bản đã ban hành")] = False,
           offline: Annotated[bool, typer.Option(help="không hỏi dịch vụ OCSP/CRL: chỉ dùng dữ liệu đã nhúng")] = False,
           ) -> None:
    """Kiểm tra văn bản đã ban hành: mã băm SHA-256 của tệp lưu trữ so với khi ban hành và, với văn bản đã ký số, chữ ký
    số (toàn vẹn, chuỗi chứng thư tới chứng thư gốc tin cậy KIEMTRA_SIGNING_TRUST_ROOTS, thu hồi, dấu thời gian). Mã
    thoát 1 khi có văn bản không đạt."""
    from services.db import migrate
    from services.documents.verification import record_checks, verify_documents
    from services.entry.http.console.decision_view import DOC_TYPE_VI
    from models import DocumentType

    if sum((campaign is not None, number is not None, all_documents)) != 1:
        raise typer.BadParameter("chọn đúng một trong --campaign, --number, --all")
    settings = get_settings()
    migrate(settings)
    with user_errors():
        checks = verify_documents(settings, campaign=campaign, number=number, allow_fetching=not offline)
    record_checks(settings, checks)
    if not checks:
        console.print("Không có văn bản nào đã ban hành phù hợp.")
        raise typer.Exit(1 if number is not None else 0)
    table = Table(title="Kiểm tra văn bản đã ban hành")
    for column in ("Số, ký hiệu", "Loại văn bản", "Mã băm SHA-256", "Chữ ký số", "Kết quả"):
        table.add_column(column)
    for check in checks:
        kind = DOC_TYPE_VI.get(DocumentType(check.doc_type), check.doc_type)
        table.add_row(escape(check.number), kind, _hash_text(check), escape(_signature_text(check)),
                      "đạt" if check.ok else "KHÔNG ĐẠT")
    print_table(table)
    failed = [c for c in checks if not c.ok]
    for check in failed:
        console.print(f"[bold red]Không đạt:[/] văn bản số {escape(check.number)} "
                      f"({DOC_TYPE_VI.get(DocumentType(check.doc_type), check.doc_type)}): "
                      f"{escape('; '.join(check.problems))}", soft_wrap=True)
    if any(c.signed for c in checks) and not settings.signing_trust_roots:
        console.print("Chưa cấu hình chứng thư gốc tin cậy (KIEMTRA_SIGNING_TRUST_ROOTS): không chữ ký nào được tin cậy.",
                      soft_wrap=True)
    console.print(f"Đã kiểm tra {len(checks)} văn bản: {len(checks) - len(failed)} đạt, {len(failed)} không đạt.")
    if failed:
        raise typer.Exit(1)


@documents_app.command("unused-numbers")
def unused_numbers(hours: Annotated[float, typer.Option(min=0, help="chỉ các số đã giữ từ ít nhất chừng này giờ")] = 1.0,
                   ) -> None:
    """Số văn bản đã giữ nhưng chưa ban hành (một lần chạy bị gián đoạn mà chưa chạy lại): mỗi số một dòng. Mã thoát 1
    khi có số như vậy."""
    from datetime import timedelta

    from services.db import migrate, session_scope
    from services.documents.numbering import reservation_line, unused_reservations

    settings = get_settings()
    migrate(settings)
    with session_scope(settings) as session:
        lines = [reservation_line(r) for r in unused_reservations(session, older_than=timedelta(hours=hours))]
    if not lines:
        console.print("Không có số nào đã giữ mà chưa ban hành.")
        return
    for line in lines:
        console.print(escape(line), soft_wrap=True)
    console.print(f"Có {len(lines)} số đã giữ mà chưa ban hành.")
    raise typer.Exit(1)
