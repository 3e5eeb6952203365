"""The competent person's digital signature over the API (NĐ 30/2020 Art.13–18, 32; issue 17): hash-only signing, the
key staying on the signer's own device (a USB token, a remote signing service).

* ``GET /api/signing`` — the caller's drafts not issued yet (waiting for the signature, or signed and waiting for the
  number and the organisation's signature), oldest first.
* ``GET /api/signing/{id}/draft`` — the draft as it was put to the signer (PDF, its SHA-256 checked), for the signer
  and the leads.
* ``POST /api/signing/{id}/prepare`` — step 1: the signer's certificate in, the bytes to sign (and their SHA-256) out.
* ``POST /api/signing/{id}/complete`` — step 2: the signature value in; the decision is numbered, sealed and issued
  at once when the organisation's key is configured (else it waits: ``kiemtra documents issue-signed``).
* ``POST /api/signing/{id}/refuse`` — the signer refuses, with a reason: nothing is issued.

A draft the caller may not see (not its signer, not a lead) gets exactly the answer of one that does not exist (404);
a lead, who may read every draft, is refused the signer's steps (403). The work runs in the server's worker threads
(these are plain ``def`` routes): signing asks the TSA and the CAs' OCSP/CRL services over the network.
"""
from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from models import Document, Person, PersonRole, SigningRequest, SigningState
from services.db import session_scope
from services.documents import signed_issuing as si
from services.entry.http.deps import PersonDep, mapped_errors
from services.errors import Forbidden, NotFound
from services.intake.schemas import error_responses
from services.settings import Settings
from services.issuing import signed_documents
from services.text_policy import check_text

router = APIRouter(prefix="/api/signing", tags=["signing"])
SigningId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the draft's number (``id`` in ``GET /api/signing``)")]
READ_ERRORS = error_responses(401, 404, 422, 500, 503)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 500, 503)
PEM_PATTERN = r"^[A-Za-z0-9+/=: \r\n-]*$"  # PEM: base64 lines between "-----BEGIN …-----" and "-----END …-----"


def _reason(value: str) -> str:
    text = check_text(value, multiline=True)
    if not text.strip():
        raise ValueError("phải ghi lý do từ chối ký")
    return text


class SigningOut(BaseModel):
    id: int
    title: str
    state: SigningState
    state_vi: str = Field(description="the state, in Vietnamese")
    drafted_on: date
    inspection_id: int | None
    last_error: str = Field(description="the last failed attempt, in Vietnamese (empty: none)")


class PrepareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    certificate_pem: str = Field(min_length=1, max_length=20_000, pattern=PEM_PATTERN,
                                 description="the signer's certificate (PEM); CA certificates may follow it")
    chain_pem: str = Field(default="", max_length=40_000, pattern=PEM_PATTERN, description="CA certificates (PEM)")


class PreparedOut(BaseModel):
    to_sign: str = Field(description="base64: the bytes the signer's key signs (PKCS#1 v1.5, SHA-256)")
    digest: str = Field(description="base64: their SHA-256, for a device that signs a digest")
    algorithm: str


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signature: str = Field(min_length=4, max_length=8_192, pattern=r"^[A-Za-z0-9+/]+={0,2}$",
                           description="base64: the signature value over ``to_sign``")


class SignedOut(BaseModel):
    state: SigningState
    state_vi: str
    number: str | None = Field(default=None, description="the issued document's number (once issued)")
    issued_on: date | None = None
    document_url: str | None = Field(default=None, description="the issued PDF in the console (leads and officials)")
    last_error: str = Field(default="", description="why it is not issued yet, in Vietnamese")


class RefuseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, AfterValidator(_reason)] = Field(min_length=1, max_length=1000)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _out(row: SigningRequest) -> SigningOut:
    return SigningOut(id=row.id or 0, title=row.title, state=row.state, state_vi=si.STATE_VI[row.state],
                      drafted_on=row.drafted_on, inspection_id=row.inspection_id, last_error=row.last_error)


def _visible(settings: Settings, person: Person, request_id: int, *, sign: bool = False) -> SigningRequest:
    """The draft, if the caller may see it (its signer, a lead); for ``sign``, only its signer may act on it."""
    with session_scope(settings) as session:
        row = session.get(SigningRequest, request_id)
        if row is not None:
            session.expunge(row)
    if row is None or (row.signer_code != person.code and person.role != PersonRole.LEAD):
        raise NotFound(f"Không tìm thấy dự thảo trình ký số {request_id}.", request_id=request_id)
    if sign and row.signer_code != person.code:
        raise Forbidden(f"Chỉ {row.signer_title.lower()} {row.signer_name} (mã {row.signer_code}) được ký hoặc từ chối ký "
                        f"dự thảo này.", request_id=request_id)
    return row


@router.get("", response_model=list[SigningOut], responses=error_responses(401, 422, 500, 503))
def awaiting(request: Request, person: PersonDep) -> list[SigningOut]:
    """The caller's drafts not issued yet: waiting for their signature, or signed and waiting for the number and seal."""
    return [_out(r) for r in signed_documents.waiting(_settings(request), signer_code=person.code)]


@router.get("/{request_id}/draft", response_class=Response, responses={
    200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
          "description": "the draft put to the signer (PDF)"}, **READ_ERRORS})
def draft(request_id: SigningId, request: Request, person: PersonDep) -> Response:
    settings = _settings(request)
    with mapped_errors():
        row = _visible(settings, person, request_id)
        data = si.read_checked(settings, row.draft_path, row.draft_sha256)
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="du-thao-{request_id}.pdf"'})


@router.post("/{request_id}/prepare", response_model=PreparedOut, responses=WRITE_ERRORS)
def prepare(request_id: SigningId, body: PrepareIn, request: Request, person: PersonDep) -> PreparedOut:
    """Hash-only signing, step 1: the draft prepared with the signer's certificate; sign ``to_sign`` with its key."""
    settings = _settings(request)
    with mapped_errors():
        _visible(settings, person, request_id, sign=True)
        prepared = signed_documents.prepare_remote_signature(settings, request_id, person_code=person.code,
                                                              certificate_pem=body.certificate_pem, chain_pem=body.chain_pem)
    return PreparedOut(**prepared)


@router.post("/{request_id}/complete", response_model=SignedOut, responses=WRITE_ERRORS)
def complete(request_id: SigningId, body: CompleteIn, request: Request, person: PersonDep) -> SignedOut:
    """Hash-only signing, step 2: the signature value put into the prepared draft, then the number, the date and the
    organisation's signature when they can be added now (``state``: ``issued``), else it waits (``signed``)."""
    settings = _settings(request)
    with mapped_errors():
        _visible(settings, person, request_id, sign=True)
        result = signed_documents.complete_remote_signature(settings, request_id, person_code=person.code,
                                                            signature_b64=body.signature)
    return signed_out(result)


def signed_out(result: SigningRequest | Document) -> SignedOut:
    if isinstance(result, Document):
        return SignedOut(state=SigningState.ISSUED, state_vi=si.STATE_VI[SigningState.ISSUED], number=result.number,
                         issued_on=result.issued_on, document_url=f"/console/documents/{result.id}")
    return SignedOut(state=result.state, state_vi=si.STATE_VI[result.state], last_error=result.last_error)


@router.post("/{request_id}/refuse", response_model=SigningOut, responses=WRITE_ERRORS)
def refuse(request_id: SigningId, body: RefuseIn, request: Request, person: PersonDep) -> SigningOut:
    """The signer refuses to sign (the reason is kept): nothing is issued; a new draft is needed."""
    settings = _settings(request)
    with mapped_errors():
        _visible(settings, person, request_id, sign=True)
        with session_scope(settings) as session:
            row = si.refuse(session, request_id, person_code=person.code, reason=body.reason)
            out = _out(row)
    return out
