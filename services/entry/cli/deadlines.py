"""``kiemtra deadlines …``: sweep the legal deadlines (as the daily flow does), list them with the ids the other
commands need (the deadline's number for ``met``, the inspection's for ``complex``/``explained``/``extend``), and the
lead's changes — ``met --receipt FILE`` stores the receipt as the console's deadlines board does
(:mod:`services.intake.deadline_receipts`)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import Session

from services.entry.cli.console import console, free_text, next_step, one_line, parse_date, print_table, user_errors
from models import Deadline, DeadlineKind
from services.stages import deadline_changes
from services.errors import KiemtraError
from services.settings import get_settings

deadlines_app = typer.Typer(help="Thời hạn pháp lý: quét hằng ngày (cảnh báo, báo quá hạn), xem danh sách.",
                            no_args_is_help=True)

KIND_VI = {"violation_record": "Lập biên bản vi phạm", "sanction_decision": "Ra quyết định xử phạt",
           "limitation": "Thời hiệu xử phạt", "comply": "Chấp hành quyết định", "remedial": "Khắc phục hậu quả",
           "explain_hearing": "Hạn yêu cầu giải trình trực tiếp (quyền của người vi phạm)",
           "explain_written": "Hạn gửi văn bản giải trình (quyền của người vi phạm)",
           "send_decision": "Gửi quyết định xử phạt", "national_report": "Cập nhật CSDL quốc gia về XLVPHC"}
STATUS_VI = {"open": "đang chạy", "met": "đã thực hiện", "cancelled": "không còn áp dụng"}


@deadlines_app.command("sweep")
def sweep(today: Annotated[str | None, typer.Option(help="quét như vào ngày YYYY-MM-DD (mặc định: hôm nay)")] = None) -> None:
    """Chạy luồng deadline-sweeper một lần (bình thường máy chủ Prefect tự chạy lúc 06:00 hằng ngày)."""
    from services.entry.cli.in_process import in_process_run
    from flows.deadline_sweeper import deadline_sweeper
    from services.db import migrate
    from services.runtime.server import ensure_server

    settings = get_settings()
    with user_errors():
        day = parse_date(today) if today else None
        migrate(settings)
        ensure_server(settings)
        with in_process_run():
            out = deadline_sweeper(day)
    console.print(f"Ngày {out['today']}: tạo {out['created']}, đã thực hiện {out['met']}, không còn áp dụng {out['cancelled']}, "
                  f"cảnh báo {out['warned']}, báo quá hạn {out['escalated']}.")
    for item in out["overdue"]:
        console.print(f"  Quá hạn: {item}")


@deadlines_app.command("list")
def list_deadlines(campaign: Annotated[str | None, typer.Option(help="mã đợt kiểm tra")] = None,
                   all_: Annotated[bool, typer.Option("--all", help="cả thời hạn đã đóng")] = False) -> None:
    """Các thời hạn theo ngày hết hạn: cột "Số" là số thời hạn mà `kiemtra deadlines met` cần; cột "Cuộc KT" là số cuộc
    kiểm tra mà `complex`, `explained`, `extend` cần."""
    from services.db import migrate, read_only_session, get_engine
    from services.rules.calendar import today_in_vietnam

    settings = get_settings()
    migrate(settings)
    with read_only_session(get_engine(settings)) as session:
        rows = _rows(session, campaign, all_)
    if not rows:
        console.print("Không có thời hạn nào" + (" đang chạy." if not all_ else "."))
        return
    today = today_in_vietnam()
    table = Table(title=f"Thời hạn pháp lý (ngày {today:%d/%m/%Y})")
    for column in ("Số", "Đợt", "Cuộc KT", "Cơ sở (MST)", "Việc", "Văn bản", "Hạn cuối", "Còn lại", "Trạng thái",
                   "Cảnh báo", "Báo quá hạn"):
        table.add_column(column, justify="right" if column in ("Số", "Cuộc KT") else "left")
    for d, code, name, tax_code, document in rows:
        table.add_row(str(d.id), code, str(d.inspection_id), f"{name} ({tax_code})", KIND_VI.get(d.kind, d.kind),
                      document, f"{d.due_on:%d/%m/%Y}", _left(d, today), STATUS_VI.get(d.status, d.status),
                      f"{d.warned_on:%d/%m/%Y}" if d.warned_on else "",
                      f"{d.escalated_on:%d/%m/%Y}" if d.escalated_on else "")
    print_table(table)
    next_step('xác nhận đã thực hiện (chấp hành, khắc phục, gửi quyết định): kiemtra deadlines met SỐ --on YYYY-MM-DD '
              '--reason "<căn cứ>" [--receipt bien-lai.pdf]',
              'vụ việc phức tạp, giải trình, gia hạn (theo cuộc kiểm tra): kiemtra deadlines complex|explained|extend '
              'CUỘC_KT --reason "<lý do>"')


def _rows(session: Session, campaign: str | None, all_: bool) -> list[tuple[Deadline, str, str, str, str]]:
    """The deadlines with their campaign's code, the establishment (name, tax code) and the file's latest document."""
    from sqlmodel import col, select

    from models import Campaign, DeadlineStatus, Document, DocumentType, Establishment, Inspection

    query = (select(Deadline, Campaign.code, Establishment.name, Establishment.tax_code)
             .join(Campaign, col(Campaign.id) == col(Deadline.campaign_id))
             .join(Inspection, col(Inspection.id) == col(Deadline.inspection_id))
             .join(Establishment, col(Establishment.id) == col(Inspection.establishment_id))
             .order_by(col(Deadline.due_on), col(Deadline.id)))
    if campaign:
        query = query.where(Campaign.code == campaign)
    if not all_:
        query = query.where(Deadline.status == DeadlineStatus.OPEN)
    found = session.exec(query).all()
    rank = {DocumentType.SANCTION_DECISION: "Quyết định xử phạt", DocumentType.VIOLATION_RECORD: "Biên bản vi phạm"}
    documents: dict[int, tuple[int, int, str]] = {}
    for doc in session.exec(select(Document).where(col(Document.inspection_id).in_({d.inspection_id for d, *_ in found}),
                                                   col(Document.doc_type).in_([str(k) for k in rank]))).all():
        assert doc.inspection_id is not None
        key = (2 if doc.doc_type == DocumentType.SANCTION_DECISION else 1, doc.revision)
        if doc.inspection_id not in documents or key > documents[doc.inspection_id][:2]:
            documents[doc.inspection_id] = (*key, f"{rank[DocumentType(doc.doc_type)]} số {doc.number}")
    return [(d, code, name, tax_code, documents.get(d.inspection_id, (0, 0, ""))[2]) for d, code, name, tax_code in found]


def _left(d: Deadline, today: date) -> str:
    """Calendar days to the due date ('còn 3 ngày', 'hết hạn hôm nay', 'quá hạn 2 ngày'); '' once closed."""
    if d.status != "open":
        return ""
    days = (d.due_on - today).days
    return "hết hạn hôm nay" if days == 0 else f"còn {days} ngày" if days > 0 else f"quá hạn {-days} ngày"


def _change(what: str, change: Callable[[Session], Deadline], notes: list[str] | None = None) -> None:
    """One change a person makes to a deadline, in its own transaction, with its Vietnamese refusal; ``notes``: lines
    the change adds (printed after its summary)."""
    from services.db import migrate, session_scope

    settings = get_settings()
    migrate(settings)
    with user_errors(), session_scope(settings) as session:
        deadline = change(session)
        line = (f"{what}: thời hạn số {deadline.id}, {KIND_VI.get(deadline.kind, deadline.kind)}, cuộc kiểm tra "
                f"{deadline.inspection_id}, hạn cuối {deadline.due_on:%d/%m/%Y} "
                f"({STATUS_VI.get(deadline.status, deadline.status)}).")
    for text in [line, *(notes or [])]:
        console.print(text, soft_wrap=True)
    next_step("xem các thời hạn còn chạy: kiemtra deadlines list")


Reason = Annotated[str, typer.Option(help="lý do, căn cứ (bắt buộc)", callback=free_text)]
By = Annotated[str, typer.Option(help="mã người thực hiện", callback=one_line)]


DeadlineId = Annotated[int, typer.Argument(help="số thời hạn: cột 'Số' của `kiemtra deadlines list`", show_default=False)]
InspectionId = Annotated[int, typer.Argument(help="số cuộc kiểm tra: cột 'Cuộc KT' của `kiemtra deadlines list`",
                                             show_default=False)]
ReceiptOption = Annotated[Path | None, typer.Option(
    help="tệp biên lai, chứng từ (PDF, JPEG, PNG): lưu vào kho chứng cứ theo SHA-256 và gắn vào thời hạn, như trên "
         "bảng điều khiển", exists=True, dir_okay=False, readable=True)]


@deadlines_app.command("met")
def met(deadline_id: DeadlineId, on: Annotated[str, typer.Option(help="ngày đã thực hiện YYYY-MM-DD")], reason: Reason,
        by: By = "SNV-LEAD",
        via: Annotated[str | None, typer.Option(
            help="gửi quyết định: direct (giao trực tiếp), post (bưu chính bảo đảm), electronic (điện tử), posting "
                 "(niêm yết); có thể ghi ngay trong --reason")] = None,
        receipt: ReceiptOption = None) -> None:
    """Xác nhận đã chấp hành quyết định, đã thực hiện biện pháp khắc phục (ghi căn cứ, kèm biên lai bằng --receipt) hoặc
    đã gửi quyết định xử phạt (ghi cách gửi: giao trực tiếp, bưu chính bảo đảm, điện tử, niêm yết — Điều 70). Số thời
    hạn: cột "Số" của `kiemtra deadlines list`."""
    from services.intake.deadline_receipts import ReceiptFile, mark_met_with_receipt

    settings = get_settings()
    stored: list[str] = []

    def change(s: Session) -> Deadline:
        upload = _receipt_file(receipt, settings.evidence_max_bytes) if receipt is not None else None
        deadline, kept = mark_met_with_receipt(s, settings, deadline_id, parse_date(on, "on"), actor=by, reason=reason,
                                               sent_by=via, receipt=ReceiptFile(*upload) if upload else None)
        if kept is not None:
            size = f"{kept.size:,}".replace(",", ".")
            stored.append(f"Biên lai: {kept.name} ({size} byte, SHA-256 {kept.sha256}), lưu trong kho chứng cứ.")
        return deadline
    _change("Đã xác nhận", change, stored)


def _receipt_file(path: Path, max_bytes: int) -> tuple[bytes, str, str]:
    """The file's bytes, name and type (from its extension; the store checks the content is of that type)."""
    import mimetypes

    if path.stat().st_size > max_bytes:
        limit = f"{max_bytes:,}".replace(",", ".")
        raise KiemtraError(f"--receipt: tệp {path.name} vượt quá dung lượng tối đa {limit} byte.")
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return path.read_bytes(), path.name, content_type


@deadlines_app.command("complex")
def complex_case(inspection_id: InspectionId, kind: Annotated[str, typer.Option(help="violation_record hoặc sanction_decision")],
                 reason: Reason, by: By = "SNV-LEAD") -> None:
    """Vụ việc phức tạp: 05 ngày làm việc để lập biên bản, 01 tháng để ra quyết định."""
    def change(s: Session) -> Deadline:
        if kind not in (DeadlineKind.VIOLATION_RECORD, DeadlineKind.SANCTION_DECISION):
            raise KiemtraError(f"Loại thời hạn không hợp lệ: kind {kind} (violation_record hoặc sanction_decision).")
        return deadline_changes.declare_complex(s, inspection_id, DeadlineKind(kind), actor=by, reason=reason)
    _change("Đã ghi nhận vụ việc phức tạp", change)


@deadlines_app.command("explained")
def explained(inspection_id: InspectionId, reason: Reason,
              kind: Annotated[str, typer.Option(help="hearing: văn bản yêu cầu được giải trình trực tiếp (02 ngày làm việc); "
                                                     "written: văn bản giải trình (05 ngày làm việc)")],
              by: By = "SNV-LEAD",
              on: Annotated[str | None, typer.Option(help="ngày nhận yêu cầu/văn bản giải trình YYYY-MM-DD "
                                                          "(mặc định: hôm nay)")] = None) -> None:
    """Cá nhân, tổ chức vi phạm gửi yêu cầu/văn bản giải trình: được lưu vào hồ sơ; nhận trong thời hạn giải trình thì
    thời hạn ra quyết định là 01 tháng, nhận sau thời hạn thì không kéo dài thời hạn."""
    notes: list[str] = []

    def change(s: Session) -> Deadline:
        received = deadline_changes.receive_explanation(s, inspection_id, actor=by, reason=reason, kind=kind,
                                                        on=parse_date(on, "on") if on else None)
        notes.append(received.note_vi)
        return received.decision
    _change("Đã ghi nhận giải trình", change, notes)


@deadlines_app.command("extend")
def extend(inspection_id: InspectionId, months: Annotated[int, typer.Option(help="số tháng gia hạn")], reason: Reason,
           by: By = "SNV-LEAD") -> None:
    """Gia hạn (một lần) thời hạn ra quyết định xử phạt của vụ việc đặc biệt phức tạp."""
    _change("Đã gia hạn", lambda s: deadline_changes.extend_decision(s, inspection_id, months, actor=by, reason=reason))
