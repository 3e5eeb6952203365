"""Hash-only remote signing (services/documents/remote_signing.py): the server prepares the document and the bytes to
sign, the signer's key signs them elsewhere (here: ``cryptography`` with the test PKI's key, outside the server code),
and the server finishes at PAdES B-LT. The state goes through JSON as it would to another process."""
from __future__ import annotations

import hashlib
import io
import json
import unicodedata
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from pyhanko.pdf_utils.reader import PdfFileReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from tests.pki_support import TestPki, pki, signature_png  # noqa: F401 (a fixture)

from services.documents.remote_signing import PreparedSignature, finish_remote, prepare_remote
from services.documents.signing import Appearance, Box, SigningError, validation_context, verify_pdf

pytestmark = pytest.mark.slow
FIELD = "ChuKyNguoiCoThamQuyen"
BOX = Box(320, 120, 480, 190)


def _document() -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.drawString(72, 760, "Quyet dinh so 7/QD-XPHC")
    canvas.drawString(360, 220, "GIAM DOC")
    canvas.drawString(360, 100, "Be Thanh Tinh")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _key(pki: TestPki, label: str) -> rsa.RSAPrivateKey:  # noqa: F811
    key = serialization.load_pem_private_key(pki.private_key_pem(label), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _prepare(pki: TestPki, *, certify: bool = False) -> tuple[bytes, dict[str, object], PreparedSignature]:  # noqa: F811
    prepared = prepare_remote(_document(), pki.cert("giam-doc"), [pki.cert("interm")], field=FIELD, box=BOX,
                              appearance=Appearance.person(signature_png()), certify=certify,
                              validation_context=validation_context([pki.root]))
    state = json.loads(json.dumps(prepared.state))  # stored, then read back in another process
    return prepared.prepared_pdf, state, prepared


def _sign_data(key: rsa.RSAPrivateKey, prepared: PreparedSignature) -> bytes:
    return key.sign(prepared.to_sign, padding.PKCS1v15(), hashes.SHA256())


def _sign_digest(key: rsa.RSAPrivateKey, prepared: PreparedSignature) -> bytes:
    return key.sign(prepared.digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))


@pytest.mark.parametrize("sign", [_sign_data, _sign_digest], ids=["to_sign", "digest"])
def test_remote_signature_validates_at_b_lt(pki: TestPki, sign: Callable[..., bytes]) -> None:  # noqa: F811
    prepared_pdf, state, prepared = _prepare(pki)
    assert prepared.digest == hashlib.sha256(prepared.to_sign).digest()
    signature = sign(_key(pki, "giam-doc"), prepared)
    signed = finish_remote(prepared_pdf, state, signature, timestamper_url=pki.tsa_url,
                           validation_context=validation_context([pki.root]))
    assert signed.startswith(prepared_pdf[:state["reserved_region_start"]])  # type: ignore[index]
    result = verify_pdf(signed, [pki.root])
    assert result.ok, result.summary
    (check,) = result.signatures
    assert check.field == FIELD and check.signer == "Bế Thanh Tịnh"
    assert check.trusted and check.timestamped and not check.revoked and check.level == "B-LT"
    offline = verify_pdf(signed, [pki.root], allow_fetching=False)
    assert offline.ok and offline.level == "B-LT", offline.summary


def test_a_signature_by_another_key_is_refused(pki: TestPki) -> None:  # noqa: F811
    prepared_pdf, state, prepared = _prepare(pki)
    for wrong in (_sign_data(_key(pki, "so-noi-vu"), prepared),
                  bytes(b ^ 1 if i == 5 else b for i, b in enumerate(_sign_data(_key(pki, "giam-doc"), prepared)))):
        with pytest.raises(SigningError) as refused:
            finish_remote(prepared_pdf, state, wrong, timestamper_url=pki.tsa_url,
                          validation_context=validation_context([pki.root]))
        message = str(refused.value)
        assert message == "chữ ký số gửi về không khớp với chứng thư của người ký"
        assert unicodedata.is_normalized("NFC", message)


def test_another_document_than_the_prepared_one_is_refused(pki: TestPki) -> None:  # noqa: F811
    prepared_pdf, state, prepared = _prepare(pki)
    signature = _sign_data(_key(pki, "giam-doc"), prepared)
    with pytest.raises(SigningError, match="không phải văn bản đã chuẩn bị"):
        finish_remote(prepared_pdf + b"\n", state, signature, timestamper_url=pki.tsa_url,
                      validation_context=validation_context([pki.root]))


def test_a_revoked_signer_is_refused_at_prepare(pki: TestPki) -> None:  # noqa: F811
    with pytest.raises(SigningError, match="không chuẩn bị được văn bản để ký từ xa"):
        prepare_remote(_document(), pki.cert("thu-hoi"), [pki.cert("interm")], field=FIELD, box=None,
                       validation_context=validation_context([pki.root]))


def test_certification_signature_allows_form_filling(pki: TestPki) -> None:  # noqa: F811
    prepared_pdf, state, prepared = _prepare(pki, certify=True)
    assert state["certify"] is True
    signed = finish_remote(prepared_pdf, state, _sign_digest(_key(pki, "giam-doc"), prepared),
                           timestamper_url=pki.tsa_url, validation_context=validation_context([pki.root]))
    result = verify_pdf(signed, [pki.root])
    assert result.ok and result.level == "B-LT", result.summary
    reader = PdfFileReader(io.BytesIO(signed), strict=False)
    (embedded,) = reader.embedded_regular_signatures
    assert embedded.docmdp_level is not None and embedded.docmdp_level.name == "FILL_FORMS"
    assert "/DocMDP" in reader.root["/Perms"]
