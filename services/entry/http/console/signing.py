"""Drafts waiting for a digital signature (issue 17, NĐ 30/2020 Art.13–18, 32): ``/console/signing``.

* GET ``/console/signing`` — "Văn bản chờ ký số" (:mod:`.signing_view`): an official's drafts to sign and those signed
  that wait for the number and the seal; a lead's or an admin's list, read only; the drafts refused in the last 30 days.
* GET ``/console/signing/{id}/draft`` — the draft's PDF, inline, for its signer, leads and admins; a file changed
  after it was drafted is refused (:func:`services.documents.signed_issuing.read_checked`).
* POST ``/console/signing/{id}/sign`` — the signer types the passphrase of their PKCS#12 file
  (``<signing keys dir>/<code>.p12``; the signature image is ``<code>.png``): :func:`services.issuing.signed_documents.sign`
  signs, then numbers, seals and issues the document (in a worker thread: it talks to the TSA and the OCSP
  responder). The passphrase is used for this one signature: never stored, never logged, never shown again.
* POST ``/console/signing/batch`` — several drafts at once (:func:`services.issuing.signing_batch.sign_many`): the
  signer ticks their drafts (``chon_<id>``, at most 50) and types the passphrase once; a draft that is not theirs in the
  form refuses the whole request (403, nothing signed); a wrong passphrase stops it before the first signature. The
  page then lists each draft's outcome (``?ky_nhieu=<ids>``, read back from the database).
* POST ``/console/signing/{id}/refuse`` — the signer refuses, with a reason (required).
* POST ``/console/signing/{id}/redraft`` — a refused draft drawn again for its signer by the stage that drafted it
  (:func:`services.issuing.signed_documents.redraft`), by its signer or a lead.
"""
from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, select

from models import Document, PersonRole, SigningRequest, SigningState
from services.documents.signed_issuing import read_checked, refuse
from services.documents.signing import SigningError
from services.documents.signing_keys import SignerKey, SigningKeyError
from services.entry.http.console import signing_view as view
from services.entry.http.console.base import ConsoleUser, db, read_post, render, require, see_other, UserDep
from services.entry.http.console.documents import DOWNLOAD_HEADERS, PDF
from services.errors import Conflict, Forbidden, KiemtraError
from services.settings import Settings
from services.issuing import signed_documents
from services.issuing.signing_batch import MAX_BATCH, sign_many

router = APIRouter(prefix="/console", include_in_schema=False)
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1)]
TEMPLATE = "console/signing.html"
PAGE = "/console/signing"
PASSPHRASE, REASON = "mat_khau", "ly_do"
VIA = "bảng điều khiển"
BATCH_PURPOSE, CHOSEN = "signing:batch", "chon_"


def purpose(request_id: int) -> str:
    return f"signing:{request_id}"


def _page(request: Request, user: ConsoleUser, *, status: int = 200, errors: list[str] | None = None,
          notice: str = "", issued: Document | None = None, failed_id: int | None = None,
          batch: list[int] | None = None) -> HTMLResponse:
    with db(request) as session:
        page = view.signing_page(session, user.person)
        outcomes = view.batch_outcomes(session, user.person, batch or [])
        session.rollback()
    return render(request, user, TEMPLATE, status=status, page=page, errors=errors or [], notice=notice, issued=issued,
                  failed_id=failed_id, purpose=purpose, batch_purpose=BATCH_PURPOSE, outcomes=outcomes,
                  batch_failed=failed_id == 0)


def _outcome(request: Request, user: ConsoleUser, signed: int | None, refused: int | None,
             redrafted: int | None, drafted: int | None = None) -> tuple[str, Document | None]:
    """The notice after a POST, read back from the database (never from the query string's text)."""
    request_id = signed or refused or redrafted or drafted
    if request_id is None:
        return "", None
    with db(request) as session:
        row = session.get(SigningRequest, request_id)
        if row is None or not view.visible(session, user.person, row):
            return "", None
        doc = session.get(Document, row.document_id) if row.document_id is not None else None
        session.expunge_all()  # plain data from here on (a rollback would expire it)
        session.rollback()
    if signed and doc is not None:
        return f"Đã ký số và ban hành {row.title}: số {doc.number}, ngày {doc.issued_on:%d/%m/%Y}.", doc
    if signed and row.state == SigningState.SIGNED:
        return (f"Đã ký số {row.title}. Văn bản chờ văn thư cấp số, ghi ngày và ký số của cơ quan (đóng dấu) "
                f"rồi mới được ban hành.{' ' + row.last_error if row.last_error else ''}"), None
    if refused and row.state == SigningState.REFUSED:
        return f"Đã từ chối ký {row.title}. Không có văn bản nào được ban hành; thời hạn theo luật vẫn tiếp tục tính.", None
    if redrafted:
        return f"Đã soạn lại dự thảo {row.title} và trình ký lại.", None
    if drafted and row.state == SigningState.AWAITING_SIGNATURE:  # e.g. the campaign report, signed digitally
        return (f"Đã soạn {row.title} và trình {row.signer_title.lower()} {row.signer_name} ký số; văn bản được cấp số "
                "và ban hành khi đã ký."), None
    return "", None


@router.get("/signing", response_class=HTMLResponse)
def signing_page(request: Request, user: UserDep, da_ky: int | None = None, da_tu_choi: int | None = None,
                 da_soan_lai: int | None = None, ky_nhieu: str = "", trinh_ky: int | None = None) -> HTMLResponse:
    require(user, PersonRole.OFFICIAL, PersonRole.LEAD)
    notice, issued = _outcome(request, user, da_ky, da_tu_choi, da_soan_lai, trinh_ky)
    batch = [int(part) for part in ky_nhieu.split(",")[:MAX_BATCH] if part.isdigit() and len(part) < 10]
    return _page(request, user, notice=notice, issued=issued, batch=batch)


@router.get("/signing/{request_id}/draft")
def draft_pdf(request_id: RequestId, request: Request, user: UserDep) -> Response:
    require(user, PersonRole.OFFICIAL, PersonRole.LEAD)
    with db(request) as session:
        row = view.request_for(session, user.person, request_id)
        session.rollback()
    if user.person.role == PersonRole.OFFICIAL:
        view.signer_only(row, user.person)
    data = read_checked(request.app.state.settings, row.draft_path, row.draft_sha256)
    name = f"du-thao-{row.doc_type}-{request_id}-lan-{row.attempt}.pdf"
    return Response(data, media_type=PDF, headers={**DOWNLOAD_HEADERS, "Content-Disposition": f'inline; filename="{name}"'})


def _signer_request(request: Request, user: ConsoleUser, request_id: int) -> SigningRequest:
    """The draft, refused (403) unless the logged-in person is its signer."""
    with db(request) as session:
        row = view.request_for(session, user.person, request_id)
        session.rollback()
    view.signer_only(row, user.person)
    return row


def key_files(settings: Settings, person_code: str) -> tuple[FilePath, FilePath]:
    """The signer's PKCS#12 file and signature image, or a Conflict naming what is missing."""
    folder = settings.signing_keys_path
    if folder is None:
        raise Conflict("Máy chủ chưa cấu hình thư mục khóa ký số (KIEMTRA_SIGNING_KEYS_DIR): chưa ký được; "
                       "hãy báo quản trị hệ thống.", field=PASSPHRASE)
    p12, png = folder / f"{person_code}.p12", folder / f"{person_code}.png"
    missing = ([] if p12.is_file() else [f"tệp khóa ký số {p12.name}"]) + ([] if png.is_file() else [f"ảnh chữ ký {png.name}"])
    if missing:
        raise Conflict(f"Chưa có {' và '.join(missing)} của {person_code} trong thư mục khóa ký số của máy chủ: "
                       "chưa ký được; hãy báo quản trị hệ thống.", field=PASSPHRASE)
    return p12, png


@router.post("/signing/{request_id}/sign", response_class=HTMLResponse)
async def sign(request_id: RequestId, request: Request, user: UserDep) -> Response:
    require(user, PersonRole.OFFICIAL, PersonRole.LEAD)  # not visible: 404; visible, not the signer: 403
    row = _signer_request(request, user, request_id)
    form = await read_post(request, user, purpose(request_id))
    passphrase = form.fields.get(PASSPHRASE, "")
    settings: Settings = request.app.state.settings
    try:
        if not passphrase:
            raise Conflict("Mật khẩu khóa ký số: phải nhập mật khẩu của tệp khóa ký số.", field=PASSPHRASE)
        p12, png = key_files(settings, user.person.code)
        key = SignerKey.pkcs12(p12, passphrase, name=row.signer_name)
        await run_in_threadpool(signed_documents.sign, settings, request_id, person_code=user.person.code, key=key,
                                signature_png=png.read_bytes(), via=VIA)
    except KiemtraError as exc:
        return _page(request, user, status=422, errors=[exc.message], failed_id=request_id)
    except (SigningError, SigningKeyError) as exc:  # the văn thư's step failed after the signature (recorded)
        return _page(request, user, status=422, errors=[f"Chưa ban hành: {exc}"], failed_id=request_id)
    return see_other(f"{PAGE}?da_ky={request_id}")


def _chosen(request: Request, user: ConsoleUser, fields: dict[str, str]) -> list[int]:
    """The drafts ticked in the batch form, in the page's order; any that is not the person's own (or does not exist)
    refuses the request (403) before anything is signed."""
    ids = list(dict.fromkeys(int(name.removeprefix(CHOSEN)) for name, value in fields.items()
                             if name.startswith(CHOSEN) and name.removeprefix(CHOSEN).isdigit() and value
                             and len(name) < len(CHOSEN) + 10))
    with db(request) as session:
        rows = {r.id: r.signer_code for r in session.exec(select(SigningRequest).where(col(SigningRequest.id).in_(ids)))}
        session.rollback()
    others = [i for i in ids if rows.get(i) != user.person.code]
    if others:
        raise Forbidden(f"Chỉ được ký các dự thảo trình chính ông/bà ký; dự thảo số {', '.join(map(str, others))} không "
                        "phải của ông/bà: không văn bản nào được ký.", request_ids=others)
    return ids


@router.post("/signing/batch", response_class=HTMLResponse)
async def sign_batch(request: Request, user: UserDep) -> Response:
    require(user, PersonRole.OFFICIAL, PersonRole.LEAD)
    form = await read_post(request, user, BATCH_PURPOSE)
    ids = _chosen(request, user, form.fields)
    passphrase = form.fields.get(PASSPHRASE, "")
    settings: Settings = request.app.state.settings
    try:
        if not ids:
            raise Conflict("Chưa chọn văn bản nào: hãy đánh dấu các dự thảo cần ký.", field=CHOSEN)
        if len(ids) > MAX_BATCH:
            raise Conflict(f"Mỗi lần ký được tối đa {MAX_BATCH} văn bản (đã chọn {len(ids)}).", field=CHOSEN)
        if not passphrase:
            raise Conflict("Mật khẩu khóa ký số: phải nhập mật khẩu của tệp khóa ký số.", field=PASSPHRASE)
        p12, png = key_files(settings, user.person.code)
        key = SignerKey.pkcs12(p12, passphrase, name=user.person.full_name)
        await run_in_threadpool(sign_many, settings, ids, person_code=user.person.code, key=key,
                                signature_png=png.read_bytes(), via=VIA)
    except KiemtraError as exc:
        return _page(request, user, status=422, errors=[exc.message], failed_id=0)
    return see_other(f"{PAGE}?ky_nhieu={','.join(map(str, ids))}")


@router.post("/signing/{request_id}/refuse", response_class=HTMLResponse)
async def refuse_draft(request_id: RequestId, request: Request, user: UserDep) -> Response:
    require(user, PersonRole.OFFICIAL, PersonRole.LEAD)  # not visible: 404; visible, not the signer: 403
    _signer_request(request, user, request_id)
    form = await read_post(request, user, purpose(request_id))
    reason = form.fields.get(REASON, "").strip()
    if not reason:
        return _page(request, user, status=422, failed_id=request_id,
                     errors=["Lý do từ chối ký: phải ghi lý do từ chối ký dự thảo."])
    code = user.person.code
    try:
        await request.app.state.writer.run(lambda s: refuse(s, request_id, person_code=code, reason=reason))
    except KiemtraError as exc:
        return _page(request, user, status=422, errors=[exc.message], failed_id=request_id)
    return see_other(f"{PAGE}?da_tu_choi={request_id}")


@router.post("/signing/{request_id}/redraft", response_class=HTMLResponse)
async def redraft(request_id: RequestId, request: Request, user: UserDep) -> Response:
    require(user, PersonRole.OFFICIAL, PersonRole.LEAD)
    with db(request) as session:
        row = view.request_for(session, user.person, request_id)
        session.rollback()
    if not view.may_redraft(user.person, row):
        view.signer_only(row, user.person)
    await read_post(request, user, purpose(request_id))
    try:
        latest = await run_in_threadpool(signed_documents.redraft, request.app.state.settings, request_id,
                                         actor=user.person.code)
    except KiemtraError as exc:
        return _page(request, user, status=422, errors=[exc.message], failed_id=request_id)
    new_id = latest.id or request_id
    return see_other(f"{PAGE}?da_soan_lai={new_id}")
