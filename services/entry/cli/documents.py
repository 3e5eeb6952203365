"""``kiemtra documents verify``: the issued documents checked on demand (issue 17): each stored file against its recorded
SHA-256 and, when signed, its digital signatures against the configured trust roots (services.documents.verification),
each check stored (``DocumentVerification``). Exit status 1 when any document fails.

``kiemtra documents unused-numbers``: the numbers reserved but never issued (services.documents.numbering), exit
status 1 when there is one.

Digital signatures (NĐ 30/2020 Art.13–18, 32; services.issuing.signed_documents): ``kiemtra documents
awaiting-signature`` lists the drafts not issued yet; ``sign`` is the competent person's signature (a PKCS#12 file, its
passphrase from ``KIEMTRA_SIGNING_PASSPHRASE`` or asked without echo, or the token of ``KIEMTRA_SIGNING_SIGNER_*``),
after which the document is numbered, sealed and issued when the organisation's key is configured; ``refuse-signing``
ends a draft with a reason; ``issue-signed`` retries the number and seal step. Exit status 1 on a refusal or failure, 2
when the signed draft still waits for its number and seal."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from services.entry.cli.console import console, free_text, next_step, one_line, print_rows, user_errors
from services.errors import KiemtraError
from services.settings import Settings, get_settings

if TYPE_CHECKING:  # the verification's modules (pyHanko) load when the command runs, not when the CLI starts
    from models import Document, SigningRequest
    from services.documents.signing_keys import SignerKey
    from services.documents.verification import DocumentCheck

documents_app = typer.Typer(help="Văn bản: ký số dự thảo, ban hành; kiểm tra tệp lưu trữ và chữ ký số.", no_args_is_help=True)
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
    print_rows("Kiểm tra văn bản đã ban hành", ("Số, ký hiệu", "Loại văn bản", "Mã băm SHA-256", "Chữ ký số", "Kết quả"),
               ((check.number, DOC_TYPE_VI.get(DocumentType(check.doc_type), check.doc_type), _hash_text(check),
                 _signature_text(check), "đạt" if check.ok else "KHÔNG ĐẠT") for check in checks))
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


# --------------------------------------------------------------------------- digital signatures (NĐ 30/2020, issue 17)

SigningId = Annotated[int, typer.Argument(help="số dự thảo: cột 'Số' của `kiemtra documents awaiting-signature`",
                                          show_default=False)]
SignerCode = Annotated[str, typer.Option(help="mã người có thẩm quyền ký", callback=one_line)]
PASSPHRASE_ENV = "KIEMTRA_SIGNING_PASSPHRASE"


@documents_app.command("awaiting-signature")
def awaiting_signature(by: Annotated[str | None, typer.Option(help="chỉ các dự thảo người có mã này phải ký",
                                                              callback=one_line)] = None) -> None:
    """Dự thảo văn bản chưa ban hành: chờ người có thẩm quyền ký số, hoặc đã ký và chờ cấp số, ký số cơ quan (lỗi gần
    nhất, nếu có, ở cột cuối)."""
    from services.db import migrate
    from services.documents.signed_issuing import STATE_VI
    from services.issuing.signed_documents import waiting

    settings = get_settings()
    migrate(settings)
    rows = waiting(settings, signer_code=by)
    if not rows:
        console.print("Không có dự thảo nào chờ ký số hoặc chờ ban hành.")
        return
    print_rows("Dự thảo chờ ký số, chờ ban hành", ("Số", "Văn bản", "Người ký", "Ngày soạn", "Trạng thái", "Lỗi gần nhất"),
               ((str(row.id), row.title, f"{row.signer_name} ({row.signer_code})", f"{row.drafted_on:%d/%m/%Y}",
                 STATE_VI[row.state], row.last_error) for row in rows))
    next_step("ký: kiemtra documents sign SỐ --by MÃ [--pkcs12 TỆP]",
              "từ chối ký: kiemtra documents refuse-signing SỐ --by MÃ --reason \"<lý do>\"")


def _signer_key(pkcs12: Path | None) -> SignerKey:
    """The key to sign with: the PKCS#12 file (its passphrase from the environment, else asked without echo), or the
    token or file configured by ``KIEMTRA_SIGNING_SIGNER_*``."""
    import os

    from services.documents.signing_keys import SignerKey, key_from_env

    if pkcs12 is None:
        return key_from_env("signer")
    passphrase = os.environ.get(PASSPHRASE_ENV)
    if passphrase is None:
        passphrase = typer.prompt(f"Mật khẩu tệp khóa {pkcs12.name}", hide_input=True, default="", show_default=False)
    return SignerKey.pkcs12(pkcs12, passphrase)


def _signature_image(settings: Settings, code: str, given: Path | None) -> bytes:
    folder = settings.signing_keys_path
    path = given or (folder / f"{code}.png" if folder is not None else None)
    if path is None or not path.is_file():
        raise KiemtraError(f"Không có ảnh chữ ký: dùng --signature-image hoặc đặt {code}.png trong KIEMTRA_SIGNING_KEYS_DIR.")
    return path.read_bytes()


def _issued_or_waiting(result: SigningRequest | Document) -> None:
    """What the signing led to: the document issued, or signed and waiting for the number and seal (exit status 2)."""
    from models import Document

    if isinstance(result, Document):
        console.print(f"Đã ban hành văn bản số {escape(result.number)}, ngày {result.issued_on:%d/%m/%Y} "
                      f"(tệp {escape(result.path)}).", soft_wrap=True)
        return
    console.print(f"Đã ký, chưa ban hành (chưa cấp số, chưa ký số cơ quan): {escape(result.last_error)}", soft_wrap=True)
    next_step(f"khi đã khắc phục: kiemtra documents issue-signed {result.id} --by MÃ")
    raise typer.Exit(2)


SigningIds = Annotated[list[int] | None, typer.Argument(help="số dự thảo (một hoặc nhiều): cột 'Số' của "
                                                        "`kiemtra documents awaiting-signature`", show_default=False)]


def _sign_many(settings: Settings, request_ids: list[int], by: str, key: SignerKey, png: bytes) -> None:
    """Several drafts with one key: one line per draft; exit status 1 when any was not issued."""
    from services.issuing.signing_batch import sign_many

    with user_errors():
        outcomes = sign_many(settings, request_ids, person_code=by, key=key, signature_png=png, via="dòng lệnh")
    for o in outcomes:
        if o.issued and o.issued_on is not None:
            console.print(f"{o.request_id}: đã ban hành số {escape(o.number)}, ngày {o.issued_on:%d/%m/%Y} — {escape(o.title)}",
                          soft_wrap=True)
        else:
            console.print(f"{o.request_id}: CHƯA ban hành — {escape(o.title)}: {escape(o.error)}", soft_wrap=True)
    failed = sum(1 for o in outcomes if not o.issued)
    console.print(f"Đã ban hành {len(outcomes) - failed}/{len(outcomes)} văn bản.")
    if failed:
        raise typer.Exit(1)


def _to_sign(settings: Settings, request_ids: list[int], every: bool, by: str) -> list[int]:
    """The drafts named, or with ``--all`` every draft waiting for ``by``'s signature (oldest first)."""
    from models import SigningState
    from services.issuing.signed_documents import waiting

    if every == bool(request_ids):
        raise KiemtraError("Hãy ghi số dự thảo cần ký, hoặc --all để ký mọi dự thảo đang chờ người này ký (không dùng cả hai).")
    if request_ids:
        return request_ids
    found = [r.id or 0 for r in waiting(settings, signer_code=by) if r.state == SigningState.AWAITING_SIGNATURE]
    if not found:
        raise KiemtraError(f"Không có dự thảo nào đang chờ {by} ký.")
    return found


def _signer_of_all(session: Any, ids: list[int], by: str) -> None:
    """Every draft named exists and is ``by``'s to sign, else nothing is signed."""
    from models import SigningRequest

    others = [i for i in ids if getattr(session.get(SigningRequest, i), "signer_code", None) != by]
    if others:
        raise KiemtraError(f"Dự thảo số {', '.join(map(str, others))} không có hoặc không phải do {by} ký: "
                           "không văn bản nào được ký.")


@documents_app.command("sign")
def sign(by: SignerCode, request_ids: SigningIds = None,
         pkcs12: Annotated[Path | None, typer.Option(help="tệp khóa PKCS#12 (.p12/.pfx) của người ký; mật khẩu lấy từ biến "
                                                          f"{PASSPHRASE_ENV} hoặc được hỏi (không hiện khi gõ). Không có: "
                                                          "thiết bị ký cấu hình bởi KIEMTRA_SIGNING_SIGNER_*",
                                                     exists=True, dir_okay=False, readable=True)] = None,
         signature_image: Annotated[Path | None, typer.Option(help="ảnh chữ ký (PNG); mặc định <MÃ>.png trong "
                                                                   "KIEMTRA_SIGNING_KEYS_DIR",
                                                              exists=True, dir_okay=False, readable=True)] = None,
         every: Annotated[bool, typer.Option("--all", help="ký mọi dự thảo đang chờ người có mã --by ký (tối đa 50)")] = False,
         ) -> None:
    """Người có thẩm quyền ký số dự thảo (một, nhiều số, hoặc --all: mật khẩu nhập một lần); văn bản được cấp số, ký số
    cơ quan và ban hành ngay khi đã cấu hình khóa của cơ quan. Ký một dự thảo: mã thoát 1 khi không ký được, 2 khi đã ký
    nhưng chưa ban hành; ký nhiều: mỗi dự thảo một dòng, mã thoát 1 khi có dự thảo chưa ban hành."""
    from services.db import migrate, session_scope
    from services.documents.signed_issuing import waiting_request
    from services.documents.signing_keys import SigningKeyError
    from services.issuing.signed_documents import sign as sign_request

    settings = get_settings()
    migrate(settings)
    with user_errors():
        ids = _to_sign(settings, list(request_ids or []), every, by)
        with session_scope(settings) as session:  # ``by`` signs them (and one draft waits): asked before any key
            if len(ids) == 1:
                waiting_request(session, ids[0], by)
            _signer_of_all(session, ids, by)
        try:
            key = _signer_key(pkcs12)
        except SigningKeyError as exc:
            raise KiemtraError(f"Không mở được khóa ký: {exc}.") from None
        png = _signature_image(settings, by, signature_image)
        if len(ids) > 1 or every:
            return _sign_many(settings, ids, by, key, png)
        request_id = ids[0]
        result = sign_request(settings, request_id, person_code=by, key=key, signature_png=png, via="dòng lệnh")
    _issued_or_waiting(result)


@documents_app.command("refuse-signing")
def refuse_signing(request_id: SigningId, by: SignerCode,
                   reason: Annotated[str, typer.Option(help="lý do từ chối ký (bắt buộc)", callback=free_text)]) -> None:
    """Người có thẩm quyền từ chối ký dự thảo (ghi lý do): không ban hành; thời hạn pháp lý vẫn chạy, phải soạn lại."""
    from services.db import migrate, session_scope
    from services.documents.signed_issuing import refuse

    settings = get_settings()
    migrate(settings)
    with user_errors(), session_scope(settings) as session:
        row = refuse(session, request_id, person_code=by, reason=reason)
        title = row.title
    console.print(f"Đã từ chối ký dự thảo số {request_id}: {escape(title)}.", soft_wrap=True)


@documents_app.command("issue-signed")
def issue_signed(request_id: SigningId, by: Annotated[str, typer.Option(help="mã người thực hiện (văn thư)",
                                                                        callback=one_line)]) -> None:
    """Cấp số, ghi ngày, ký số cơ quan và ban hành dự thảo đã được ký (chạy lại khi lần trước chưa làm được: chưa cấu hình
    khóa của cơ quan KIEMTRA_SIGNING_SEAL_*, dịch vụ dấu thời gian không trả lời…). Mã thoát 1 khi không ban hành được, 2
    khi vẫn phải chờ."""
    from services.db import migrate
    from services.issuing.signed_documents import issue

    settings = get_settings()
    migrate(settings)
    with user_errors():
        result = issue(settings, request_id, actor=by)
    _issued_or_waiting(result)
