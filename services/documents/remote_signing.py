"""Hash-only remote signing: the signer's private key never reaches the server (a USB token on the official's own
machine, a remote signing service). Two pure functions, bytes in and bytes out, around pyHanko's interrupted signing:

1. :func:`prepare_remote` writes the signature field, its appearance and a placeholder for the signature container into
   the document (``prepared_pdf``, for the caller to store), and gives the bytes the signer's key must sign
   (``to_sign``: the DER of the CMS signed attributes, which hold the document's SHA-256 digest and the signer's
   certificate) and their SHA-256 (``digest``, for devices that sign a pre-computed hash). Everything needed to finish is
   in ``state``, JSON-serialisable, so another process can finish.
2. :func:`finish_remote` checks the returned signature value against the signer's certificate first, then builds the
   CMS container with it and a signature timestamp from the TSA (PAdES B-T), writes it into the placeholder and adds
   the validation data of the signer's chain and of the TSA's (B-LT), as :func:`services.documents.signing.sign_pdf`.

The signature timestamp is requested at finish time (pyHanko's ``ExternalSigner.async_sign_prescribed_attributes``
with a timestamper, as its "Interrupted signing" guide does), so prepare reserves room for it in the placeholder.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
from types import MappingProxyType
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import algos, cms, x509
from cryptography import x509 as pyca_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers import constants
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument, PostSignInstructions, PreSignValidationStatus
from pyhanko.sign.timestamps.requests_client import HTTPTimeStamper
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from services.documents.signing import PERSON_REASON, TSA_TIMEOUT_S, SigningError
from services.documents.signing_look import Appearance, Box, LookStyle

__all__ = ["PreparedSignature", "finish_remote", "prepare_remote"]

STATE_VERSION = 1
MD_ALGORITHM = "sha256"
# room for the signature timestamp token added at finish (hex digits: twice its DER size); a token with the TSA's chain
# is a few kB, the placeholder must hold the largest a TSA may send
TIMESTAMP_RESERVE = 2 * 12 * 1024
WRONG_SIGNATURE = "chữ ký số gửi về không khớp với chứng thư của người ký"


@dataclass(frozen=True)
class PreparedSignature:
    """A document ready for a remote signature: store ``prepared_pdf`` and ``state``, send ``to_sign`` (or ``digest``)
    to the signer, then call :func:`finish_remote` with the signature value."""

    prepared_pdf: bytes
    to_sign: bytes
    digest: bytes
    state: dict[str, Any]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    return base64.b64decode(str(text), validate=True)


def _mechanism(cert: x509.Certificate) -> str:
    algorithm = cert.public_key.algorithm
    if algorithm == "rsa":
        return "sha256_rsa"  # RSASSA-PKCS1-v1_5 with SHA-256
    if algorithm == "ec":
        return "sha256_ecdsa"
    raise SigningError(f"không hỗ trợ loại khóa '{algorithm}' của chứng thư người ký (cần RSA hoặc ECDSA)")


def _signature_size(cert: x509.Certificate) -> int:
    """Bytes of a signature value by this certificate's key (for an ECDSA one: the largest DER encoding)."""
    bits = int(cert.public_key.bit_size)
    return (bits + 7) // 8 if cert.public_key.algorithm == "rsa" else 2 * ((bits + 7) // 8) + 9


def _external_signer(cert: x509.Certificate, chain: Sequence[x509.Certificate],
                     value: bytes | int) -> signers.ExternalSigner:
    return signers.ExternalSigner(
        signing_cert=cert, cert_registry=SimpleCertificateStore.from_certs(list(chain)), signature_value=value,
        signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": _mechanism(cert)}))


def _pdf_signer(cert: x509.Certificate, chain: Sequence[x509.Certificate], *, field: str, box: Box | None, page: int,
                appearance: Appearance | None, certify: bool, context: ValidationContext) -> signers.PdfSigner:
    meta = signers.PdfSignatureMetadata(
        field_name=field, subfilter=fields.SigSeedSubFilter.PADES, embed_validation_info=True, use_pades_lta=False,
        md_algorithm=MD_ALGORITHM, validation_context=context, reason=PERSON_REASON, certify=certify,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS)
    spec = fields.SigFieldSpec(field, on_page=page, box=box.as_tuple() if box is not None else None)
    style = LookStyle(look=appearance) if appearance is not None and box is not None else None
    return signers.PdfSigner(meta, _external_signer(cert, chain, _signature_size(cert)), stamp_style=style,
                             new_field_spec=spec)


async def _prepare(pdf: bytes, pdf_signer: signers.PdfSigner, context: ValidationContext, *, page: int,
                   reserve: Mapping[str, Box]) -> tuple[PreparedByteRangeDigest, bytes, bytes]:
    """pyHanko's ``digest_doc_for_signing``, with room in the placeholder for the timestamp added at finish (and the
    empty signature fields ``reserve`` created in the same revision, as :func:`services.documents.signing.sign_pdf`)."""
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        for name, where in reserve.items():
            fields.append_signature_field(writer, fields.SigFieldSpec(name, on_page=page, box=where.as_tuple()))
        session = pdf_signer.init_signing_session(writer)
        validation_info = await session.perform_presign_validation(writer)  # refuses a revoked or untrusted signer
        reserved = await session.estimate_signature_container_size(validation_info) + TIMESTAMP_RESERVE
        tbs = session.prepare_tbs_document(validation_info=validation_info, bytes_reserved=reserved)
        output = io.BytesIO()
        prepared, _ = tbs.digest_tbs_document(output=output)
        signed_attrs = await pdf_signer.signer.signed_attrs(
            prepared.document_digest, MD_ALGORITHM, attr_settings=PdfCMSSignedAttributes(), use_pades=True)
        return prepared, bytes(output.getvalue()), signed_attrs.dump()
    finally:
        await context.aclose()


def prepare_remote(pdf: bytes, signer_cert: x509.Certificate, chain: Sequence[x509.Certificate], *, field: str,
                   box: Box | None, page: int = 0, appearance: Appearance | None = None, certify: bool = False,
                   validation_context: ValidationContext,
                   reserve: Mapping[str, Box] = MappingProxyType({})) -> PreparedSignature:
    """``pdf`` with the field ``field`` (created on ``page``, 0-based, at ``box``; no box: invisible) holding a
    placeholder for a PAdES signature by ``signer_cert`` (``chain``: its CA certificates), what the signer must sign,
    and the state to finish with. ``certify``: a certification signature allowing form filling only (DocMDP).
    ``validation_context`` checks the signer's certificate first (a revoked one is refused). Raises
    :class:`SigningError`."""
    pdf_signer = _pdf_signer(signer_cert, chain, field=field, box=box, page=page, appearance=appearance,
                             certify=certify, context=validation_context)
    try:
        prepared, prepared_pdf, to_sign = asyncio.run(_prepare(pdf, pdf_signer, validation_context, page=page,
                                                                      reserve=reserve))
    except SigningError:
        raise
    except Exception as exc:  # pyHanko's errors (a revoked signer, a field taken, a damaged file) in one kind
        cause = f" ({type(exc.__cause__).__name__}: {str(exc.__cause__)[:300]})" if exc.__cause__ else ""
        raise SigningError(f"không chuẩn bị được văn bản để ký từ xa: {type(exc).__name__}: {exc}{cause}") from exc
    state = {
        "version": STATE_VERSION, "md_algorithm": MD_ALGORITHM, "mechanism": _mechanism(signer_cert),
        "field": field, "certify": certify, "document_digest": _b64(prepared.document_digest),
        "reserved_region_start": prepared.reserved_region_start, "reserved_region_end": prepared.reserved_region_end,
        "signed_attrs": _b64(to_sign), "signer_cert": _b64(signer_cert.dump()),
        "chain": [_b64(cert.dump()) for cert in chain],
        "prepared_pdf_sha256": hashlib.sha256(prepared_pdf).hexdigest(),
    }
    return PreparedSignature(prepared_pdf=prepared_pdf, to_sign=to_sign, digest=hashlib.sha256(to_sign).digest(),
                             state=state)


@dataclass(frozen=True)
class _State:
    prepared: PreparedByteRangeDigest
    signed_attrs: cms.CMSAttributes
    signer_cert: x509.Certificate
    chain: list[x509.Certificate]


def _load_state(prepared_pdf: bytes, state: Mapping[str, Any]) -> _State:
    """The state :func:`prepare_remote` gave, checked against the stored document."""
    try:
        if state["version"] != STATE_VERSION or state["md_algorithm"] != MD_ALGORITHM:
            raise ValueError("version")
        loaded = _State(
            prepared=PreparedByteRangeDigest(document_digest=_unb64(state["document_digest"]),
                                             reserved_region_start=int(state["reserved_region_start"]),
                                             reserved_region_end=int(state["reserved_region_end"])),
            signed_attrs=cms.CMSAttributes.load(_unb64(state["signed_attrs"])),
            signer_cert=x509.Certificate.load(_unb64(state["signer_cert"])),
            chain=[x509.Certificate.load(_unb64(cert)) for cert in state["chain"]])
        digests = [attr["values"][0].native for attr in loaded.signed_attrs if attr["type"].native == "message_digest"]
        expected_pdf = str(state["prepared_pdf_sha256"])
    except Exception as exc:
        raise SigningError(f"dữ liệu chuẩn bị ký từ xa không hợp lệ ({type(exc).__name__})") from None
    if hashlib.sha256(prepared_pdf).hexdigest() != expected_pdf:
        raise SigningError("văn bản gửi kèm không phải văn bản đã chuẩn bị để ký")
    if digests != [loaded.prepared.document_digest]:
        raise SigningError("dữ liệu chuẩn bị ký từ xa không khớp với văn bản")
    return loaded


def _check_signature(cert: x509.Certificate, to_sign: bytes, signature: bytes) -> None:
    """The signature value over ``to_sign`` (SHA-256) by the certificate's key, or :class:`SigningError`."""
    key = pyca_x509.load_der_x509_certificate(cert.dump()).public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, to_sign, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, to_sign, ec.ECDSA(hashes.SHA256()))
        else:
            raise InvalidSignature
    except (InvalidSignature, ValueError):
        raise SigningError(WRONG_SIGNATURE) from None


async def _validation_info(loaded: _State, timestamper: HTTPTimeStamper,
                           context: ValidationContext) -> PreSignValidationStatus:
    """What sign_pdf's pre-signing check collects: the signer's path (checked again now) and the TSA's, with the OCSP
    responses and CRLs fetched for them, for the document security store."""
    validator = CertificateValidator(loaded.signer_cert, intermediate_certs=loaded.chain, validation_context=context)
    signer_path = await validator.async_validate_usage(constants.DEFAULT_SIGNER_KEY_USAGE)
    ts_paths = [path async for path in timestamper.validation_paths(context)]
    return PreSignValidationStatus(signer_path=signer_path, validation_paths=[signer_path, *ts_paths],
                                   ts_validation_paths=ts_paths, ocsps_to_embed=context.ocsps,
                                   crls_to_embed=context.crls)


async def _finish(prepared_pdf: bytes, loaded: _State, signature: bytes, timestamper: HTTPTimeStamper,
                  context: ValidationContext) -> bytes:
    try:
        external = _external_signer(loaded.signer_cert, loaded.chain, signature)
        signature_cms = await external.async_sign_prescribed_attributes(
            MD_ALGORITHM, loaded.signed_attrs, timestamper=timestamper)  # the signature timestamp (B-T)
        info = await _validation_info(loaded, timestamper, context)
        output = io.BytesIO(prepared_pdf)
        await PdfTBSDocument.async_finish_signing(
            output, prepared_digest=loaded.prepared, signature_cms=signature_cms,
            post_sign_instr=PostSignInstructions(validation_info=info, strict=False), validation_context=context)
        return output.getvalue()
    finally:
        await context.aclose()


def finish_remote(prepared_pdf: bytes, state: Mapping[str, Any], signature: bytes, *, timestamper_url: str,
                  validation_context: ValidationContext) -> bytes:
    """The signed document: ``signature`` (the signer's signature value over ``to_sign``) checked against the signer's
    certificate first, then the CMS container with a signature timestamp written into ``prepared_pdf``'s placeholder,
    and the validation data added (PAdES B-LT). Raises :class:`SigningError` (nothing produced)."""
    loaded = _load_state(prepared_pdf, state)
    _check_signature(loaded.signer_cert, loaded.signed_attrs.dump(), signature)
    timestamper = HTTPTimeStamper(timestamper_url, timeout=TSA_TIMEOUT_S)
    try:
        return asyncio.run(_finish(prepared_pdf, loaded, signature, timestamper, validation_context))
    except Exception as exc:  # pyHanko's errors (a TSA down, a revoked signer, a container too large) in one kind
        cause = f" ({type(exc.__cause__).__name__}: {str(exc.__cause__)[:300]})" if exc.__cause__ else ""
        raise SigningError(f"không hoàn tất được chữ ký số từ xa: {type(exc).__name__}: {exc}{cause}") from exc
