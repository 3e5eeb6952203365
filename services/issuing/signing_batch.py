"""Several drafts signed at once (issue 17): an official with many decisions waiting types their passphrase once.

:func:`sign_many` opens the key once before anything (a wrong passphrase, a missing file or token ends the batch at once
with one message, recorded on the first draft as :func:`services.issuing.signed_documents.sign` would record it:
nothing is signed, nothing issued), then signs each draft in the order given with
:func:`services.issuing.signed_documents.sign` — each numbered, sealed and issued in turn, so the numbers follow the
order without gaps. One draft's failure (the law refuses it, the TSA is down, it was signed meanwhile) is recorded on
that draft and the batch goes on. A PKCS#12 file is decrypted once per process (:mod:`services.documents.signing_keys`),
so the later signatures do not pay for the passphrase again.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from models import Document, SigningRequest, SigningState
from services.db import session_scope
from services.documents import signed_issuing as si
from services.documents.signing import SignerKey, SigningError, SigningKeyError
from services.errors import Conflict, KiemtraError
from services.settings import Settings
from services.issuing import signed_documents

MAX_BATCH = 50


@dataclass(frozen=True)
class SignOutcome:
    """What became of one draft of a batch: issued (its number and day), signed and waiting for the number and seal
    (``error`` says why), or not signed (``error``, Vietnamese)."""

    request_id: int
    title: str
    number: str = ""
    issued_on: date | None = None
    document_id: int | None = None
    error: str = ""

    @property
    def issued(self) -> bool:
        return self.document_id is not None


def _title(settings: Settings, request_id: int) -> str:
    with session_scope(settings) as session:
        row = session.get(SigningRequest, request_id)
        return row.title if row is not None else f"Dự thảo {request_id}"


def _key_opens(settings: Settings, first_id: int, person_code: str, key: SignerKey) -> None:
    """The key opened once before any draft: its failure ends the batch (recorded on the first draft when it is the
    person's own waiting draft)."""
    try:
        with key.open():
            pass
    except SigningKeyError as exc:
        with session_scope(settings) as session:
            row = session.get(SigningRequest, first_id, with_for_update=True)
            if row is not None and row.signer_code == person_code and row.state == SigningState.AWAITING_SIGNATURE:
                si.record_failure(session, row, actor=person_code, error=f"Không ký được: {exc}")
        raise Conflict(f"Không mở được khóa ký số: {exc}. Không văn bản nào được ký.", field="key") from None


def _one(settings: Settings, request_id: int, *, person_code: str, key: SignerKey, signature_png: bytes,
         via: str) -> SignOutcome:
    title = _title(settings, request_id)
    try:
        result = signed_documents.sign(settings, request_id, person_code=person_code, key=key,
                                       signature_png=signature_png, via=via)
    except KiemtraError as exc:
        return SignOutcome(request_id, title, error=exc.message)
    except SigningError as exc:  # the văn thư's step after the signature (recorded on the draft)
        return SignOutcome(request_id, title, error=f"Chưa ban hành: {exc}")
    if isinstance(result, Document):
        return SignOutcome(request_id, title, number=result.number, issued_on=result.issued_on, document_id=result.id)
    return SignOutcome(request_id, title, error=f"Đã ký, chưa cấp số và ký số cơ quan: {result.last_error}")


def sign_many(settings: Settings, request_ids: Sequence[int], *, person_code: str, key: SignerKey, signature_png: bytes,
              via: str) -> list[SignOutcome]:
    """Sign ``request_ids`` in order with one key (see the module); one outcome per draft, in the same order."""
    ids = list(dict.fromkeys(request_ids))  # each draft once, in the order given
    if not ids:
        raise Conflict("Chưa chọn văn bản nào để ký.", field="request_ids")
    if len(ids) > MAX_BATCH:
        raise Conflict(f"Mỗi lần ký được tối đa {MAX_BATCH} văn bản (đã chọn {len(ids)}): hãy chia thành nhiều lần ký.",
                       field="request_ids")
    _key_opens(settings, ids[0], person_code, key)
    return [_one(settings, request_id, person_code=person_code, key=key, signature_png=signature_png, via=via)
            for request_id in ids]


__all__ = ["MAX_BATCH", "SignOutcome", "sign_many"]
