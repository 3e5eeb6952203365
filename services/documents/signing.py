"""Digitally signed documents (issue 17): PAdES signatures made and checked with pyHanko, bytes in, bytes out.

:func:`sign_pdf` adds one signature to a PDF at PAdES baseline B-LT: a CAdES-detached signature (SHA-256), a signature
timestamp from a TSA (RFC 3161 over HTTP), and the validation data of the signer's chain and of the TSA's (certificates,
OCSP responses, CRLs) in the document security store, so the signature can still be checked when the CA's services are
gone. The competent person signs first; the organisation's signature (the seal, ``seal=True``) is a second signature
added over the first, as NĐ 30/2020 Art.32 has the văn thư do. Where each shows on the page:
:mod:`services.documents.signing_look`; checking: :mod:`services.documents.signing_check`; keys:
:mod:`services.documents.signing_keys`.

Nothing here touches the database: a caller renders (or loads) the document, releases its locks, signs, then stores the
bytes. pyHanko runs its own event loop (``asyncio.run``): call from synchronous code or a worker thread.
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from asn1crypto import x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.requests_client import HTTPTimeStamper
from pyhanko_certvalidator import ValidationContext

from services.documents.signing_certs import load_certificates
from services.documents.signing_check import Verification, verify_pdf
from services.documents.signing_keys import SignerKey, SigningKeyError, key_from_env
from services.documents.signing_look import (Appearance, Box, SignatureBlock, attachment_box, find_signature_block,
                                             iso_time, person_box, seal_box)
from services.documents.signing_look import LookStyle

__all__ = [
    "Appearance", "Box", "SignatureBlock", "SignerKey", "SigningError", "SigningKeyError", "Verification",
    "attachment_box", "find_signature_block", "iso_time", "key_from_env", "load_certificates", "person_box",
    "seal_box", "sign_pdf", "validation_context", "verify_pdf",
]

PERSON_REASON = "Ký ban hành văn bản"
SEAL_REASON = "Chữ ký số của cơ quan, tổ chức (Nghị định 30/2020/NĐ-CP, Điều 32)"
TSA_TIMEOUT_S = 10


class SigningError(RuntimeError):
    """A signature that could not be made: the document stays unsigned (and unissued). The message is Vietnamese."""


def validation_context(trust_roots: Iterable[x509.Certificate], *, allow_fetching: bool = True,
                       other_certs: Iterable[x509.Certificate] = ()) -> ValidationContext:
    """A context that trusts only ``trust_roots`` and refuses a certificate whose revocation status is unknown."""
    return ValidationContext(trust_roots=list(trust_roots), other_certs=list(other_certs),
                             allow_fetching=allow_fetching, revocation_mode="hard-fail")


def sign_pdf(pdf: bytes, signer: SignerKey, *, field: str, box: Box | None, page: int = 0,
             appearance: Appearance | None = None, timestamper_url: str, validation_context: ValidationContext,
             seal: bool = False, certify: bool = False, reserve: Mapping[str, Box] = MappingProxyType({})) -> bytes:
    """``pdf`` with one more signature, in the field ``field`` (created on ``page``, 0-based, at ``box``; no box: an
    invisible signature), at PAdES B-LT. ``validation_context`` must reach the signer's OCSP/CRL services (it checks the
    signer's certificate before signing and collects what is embedded). ``certify``: a certification signature (the
    document's first) allowing later form filling and signatures only (DocMDP level 2), for the person who signs before
    the number and date are filled in (:mod:`services.documents.signing_fields`). ``reserve``: empty signature fields
    (name: box, on ``page``) created in the same revision, for the signatures to come after a certification: a
    visible signature field added after it is not form filling (ISO 32000 DocMDP P=2, as pyHanko checks), signing a
    field that was already there is. Raises :class:`SigningError`."""
    meta = signers.PdfSignatureMetadata(
        field_name=field, subfilter=fields.SigSeedSubFilter.PADES, embed_validation_info=True, use_pades_lta=False,
        md_algorithm="sha256", validation_context=validation_context, name=signer.name or None,
        reason=SEAL_REASON if seal else PERSON_REASON, certify=certify,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS)
    spec = fields.SigFieldSpec(field, on_page=page, box=box.as_tuple() if box is not None else None)
    style = LookStyle(look=appearance) if appearance is not None and box is not None else None
    timestamper = HTTPTimeStamper(timestamper_url, timeout=TSA_TIMEOUT_S)
    try:
        with signer.open() as key:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
            for name, where in reserve.items():
                fields.append_signature_field(writer, fields.SigFieldSpec(name, on_page=page, box=where.as_tuple()))
            pdf_signer = signers.PdfSigner(meta, key, timestamper=timestamper, stamp_style=style, new_field_spec=spec)
            signed = pdf_signer.sign_pdf(writer)
    except SigningKeyError as exc:
        raise SigningError(str(exc)) from None
    except Exception as exc:  # pyHanko's errors (a revoked signer, a TSA down, a field taken) in one kind
        cause = f" ({type(exc.__cause__).__name__}: {str(exc.__cause__)[:300]})" if exc.__cause__ else ""
        raise SigningError(f"không ký được văn bản ({'dấu cơ quan' if seal else 'người có thẩm quyền'}): "
                           f"{type(exc).__name__}: {exc}{cause}") from exc
    return bytes(signed.getvalue())
