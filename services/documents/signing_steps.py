"""The document work of the NĐ 30/2020 issuing sequence (issue 17), bytes in, bytes out, no database: what
:mod:`services.documents.signed_issuing` does around its transactions, and what ``benchmarks/signing.py`` times.

1. :func:`certify_draft`: the competent person's certification signature (DocMDP: filling in forms only) between the
   title and name lines of the draft, the organisation's signature field reserved beside it in the same revision (a
   field added after a certification would not be "form filling").
2. :func:`person_signature_problem`: Art.32 cl.2(d): the organisation signs only what the competent person signed — the
   first signature intact, trusted, at least B-LT, and the signer's own (checked offline: a B-LT signature carries the
   revocation data it needs).
3. :func:`fill_and_seal`: the number and the place and date filled into the draft's fields, then the organisation's
   signature into its reserved field, the seal image overlapping the person's signature.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from asn1crypto import x509
from pyhanko_certvalidator import ValidationContext

from services.documents.signing import (Appearance, SignerKey, SigningError, find_signature_block, person_box, seal_box,
                                        sign_pdf, verify_pdf)
from services.documents.signing_fields import DATE_FIELD, NUMBER_FIELD, fill_fields

PERSON_FIELD = "ChuKyNguoiCoThamQuyen"
SEAL_FIELD = "ChuKyCoQuan"


def same_person(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return " ".join(unicodedata.normalize("NFC", s).casefold().split())
    return norm(a) == norm(b)


def certify_draft(draft: bytes, key: SignerKey, *, title: str, name: str, signature_png: bytes, tsa_url: str,
                  context: ValidationContext) -> bytes:
    """Step 1 (see the module). Raises :class:`SigningError` (the signature block not found included)."""
    try:
        block = find_signature_block(draft, title, name)
    except LookupError as exc:
        raise SigningError(str(exc)) from None
    person = person_box(block)
    return sign_pdf(draft, key, field=PERSON_FIELD, box=person, page=block.page, appearance=Appearance.person(signature_png),
                    timestamper_url=tsa_url, validation_context=context, certify=True,
                    reserve={SEAL_FIELD: seal_box(person)})


def person_signature_problem(signed: bytes, *, name: str, trust_roots: Iterable[x509.Certificate]) -> str | None:
    """Step 2: ``None`` when the competent person's signature holds, else why not (Vietnamese)."""
    result = verify_pdf(signed, trust_roots, allow_fetching=False)
    first = result.signatures[0] if result.signatures else None
    if first is None or not result.ok or not same_person(first.signer, name):
        return result.summary
    return None


def fill_and_seal(signed: bytes, *, number_text: str, date_text: str, title: str, name: str, seal_key: SignerKey,
                  seal_png: bytes, organisation: str, email: str, tsa_url: str, context: ValidationContext) -> bytes:
    """Step 3 (see the module). Raises :class:`SigningError`."""
    filled = fill_fields(signed, {NUMBER_FIELD: number_text, DATE_FIELD: date_text})
    block = find_signature_block(filled, title, name)
    return sign_pdf(filled, seal_key, field=SEAL_FIELD, box=seal_box(person_box(block)), page=block.page,
                    appearance=Appearance.seal(seal_png, organisation, email), timestamper_url=tsa_url,
                    validation_context=context, seal=True)


__all__ = ["PERSON_FIELD", "SEAL_FIELD", "certify_draft", "fill_and_seal", "person_signature_problem", "same_person"]
