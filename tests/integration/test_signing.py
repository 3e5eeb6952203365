"""Digitally signed documents (issue 17, Done-when 1–3): a rendered decision signed by the competent person and then by
the organisation (the seal) validates at PAdES B-LT with pyHanko against a throwaway PKI on loopback (certomancer:
root, intermediate, OCSP, CRL, TSA); a revoked signer fails; a byte changed after signing is detected; the visible
signature sits where NĐ 30/2020 Phụ lục I puts it; a key on a PKCS#11 token (SoftHSM) signs too."""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from tests.pki_support import TestPki, pki, seal_png, signature_png  # noqa: F401 (a fixture)
from tests.unit.test_render import create_context

from services.documents import render_pdf
from services.documents.signing import (Appearance, Box, SignerKey, SigningError, attachment_box,
                                        find_signature_block, iso_time, key_from_env, person_box, seal_box, sign_pdf,
                                        validation_context, verify_pdf)
from services.documents.signing_look import VIETNAM

pytestmark = pytest.mark.slow
SIGNER = {"full_name": "Bế Thanh Tịnh", "title": "Giám đốc"}
# the colours of the test images (tests/pki_support.py), tight enough that anti-aliased black text never matches
SEAL_RED = lambda r, g, b: r > 180 and g < 60 and b < 70  # noqa: E731
SIGNATURE_BLUE = lambda r, g, b: b > 140 and r < 60 and g < 80  # noqa: E731


@dataclass(frozen=True)
class Signed:
    unsigned: bytes
    person: bytes
    sealed: bytes
    person_box: Box
    seal_box: Box
    page: int
    title: Box
    name: Box


def _decision(tmp: Path) -> bytes:
    context = create_context(number="7/QĐ-XPHC", signer=SIGNER)
    return render_pdf("quyet_dinh_xu_phat", context, tmp / "qd.pdf").path.read_bytes()


@pytest.fixture(scope="module")
def signed(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Signed:  # noqa: F811 (the fixture above)
    unsigned = _decision(tmp_path_factory.mktemp("decision"))
    block = find_signature_block(unsigned, "GIÁM ĐỐC", "Bế Thanh Tịnh")
    person, seal = person_box(block), seal_box(person_box(block))
    context = validation_context([pki.root])
    by_person = sign_pdf(unsigned, pki.key("giam-doc", "Bế Thanh Tịnh"), field="ChuKyNguoiCoThamQuyen", box=person,
                         page=block.page, appearance=Appearance.person(signature_png()), timestamper_url=pki.tsa_url,
                         validation_context=context)
    sealed = sign_pdf(by_person, pki.key("so-noi-vu", "Sở Nội vụ tỉnh Cao Bằng"), field="ChuKyCoQuan", box=seal,
                      page=block.page, appearance=Appearance.seal(seal_png(), "Sở Nội vụ tỉnh Cao Bằng",
                                                                  "snv@caobang.gov.vn"),
                      timestamper_url=pki.tsa_url, validation_context=context, seal=True)
    return Signed(unsigned, by_person, sealed, person, seal, block.page, block.title, block.name)


def test_signed_decision_validates_at_b_lt(pki: TestPki, signed: Signed) -> None:  # noqa: F811
    assert signed.sealed.startswith(signed.person) and signed.person.startswith(signed.unsigned)  # incremental
    result = verify_pdf(signed.sealed, [pki.root])
    assert result.ok, result.summary
    assert [s.signer for s in result.signatures] == ["Bế Thanh Tịnh", "Sở Nội vụ tỉnh Cao Bằng"]
    assert [s.level for s in result.signatures] == ["B-LT", "B-LT"] and result.level == "B-LT"
    assert all(s.trusted and s.timestamped and not s.revoked for s in result.signatures)
    assert result.signatures[0].coverage == "ENTIRE_REVISION"  # the seal (and validation data) came after it
    assert result.summary.startswith("Chữ ký hợp lệ: 2 chữ ký: Bế Thanh Tịnh (PAdES B-LT)")
    # the revocation data travels with the document: valid without asking the CA again
    offline = verify_pdf(signed.sealed, [pki.root], allow_fetching=False)
    assert offline.ok and offline.level == "B-LT", offline.summary


def test_a_root_not_configured_is_not_trusted(signed: Signed) -> None:
    other = verify_pdf(signed.sealed, [], allow_fetching=False)
    assert not other.ok and "chứng thư gốc tin cậy" in other.summary
    assert verify_pdf(signed.unsigned, []).summary == "Chữ ký không hợp lệ: văn bản không có chữ ký số."


def test_revoked_signer_cannot_sign_and_its_signature_fails(pki: TestPki, signed: Signed) -> None:  # noqa: F811
    box = signed.person_box
    with pytest.raises(SigningError) as refused:
        sign_pdf(signed.unsigned, pki.key("thu-hoi"), field="ChuKy", box=box, page=signed.page,
                 appearance=Appearance.person(signature_png()), timestamper_url=pki.tsa_url,
                 validation_context=validation_context([pki.root]))
    assert "không ký được văn bản" in str(refused.value)
    # signed elsewhere by a tool that did not check revocation (no revocation data embedded): caught on verification
    from pyhanko_certvalidator import ValidationContext
    blind = ValidationContext(trust_roots=[pki.root], allow_fetching=False, revocation_mode="soft-fail")
    forged = sign_pdf(signed.unsigned, pki.key("thu-hoi"), field="ChuKy", box=box, page=signed.page,
                      appearance=Appearance.person(signature_png()), timestamper_url=pki.tsa_url,
                      validation_context=blind)
    result = verify_pdf(forged, [pki.root])
    assert not result.ok and result.signatures[0].revoked and result.level is None
    assert "Nông Văn Thu: chứng thư số của người ký đã bị thu hồi từ ngày 01/06/2025" in result.summary
    assert result.summary.startswith("Chữ ký không hợp lệ: ")


def test_one_byte_changed_after_signing_is_detected(pki: TestPki, signed: Signed) -> None:  # noqa: F811
    data = bytearray(signed.sealed)
    at = signed.unsigned.index(b"/Title") + 10  # inside the document information, covered by both signatures
    data[at] = ord("X") if data[at] != ord("X") else ord("Y")
    result = verify_pdf(bytes(data), [pki.root])
    assert not result.ok
    assert all(not s.intact for s in result.signatures), result.summary
    assert "nội dung văn bản đã bị thay đổi sau khi ký" in result.summary


def _widget_rects(pdf: bytes) -> dict[str, Box]:
    rects = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/FT") == "/Sig" or annot.get("/Parent", {}).get("/FT") == "/Sig":
                rects[str(annot.get("/T") or annot["/Parent"]["/T"])] = Box(*map(float, annot["/Rect"]))
    return rects


def _flattened_text(pdf: bytes, page: int) -> str:
    """The page's text with its signature widgets flattened into it (text extraction reads page content only)."""
    document = pdfium.PdfDocument(pdf)
    document.init_forms()
    try:
        document[page].flatten()
        buffer = io.BytesIO()
        document.save(buffer)
    finally:
        document.close()
    flattened = pdfium.PdfDocument(buffer.getvalue())
    try:
        return str(flattened[page].get_textpage().get_text_range())
    finally:
        flattened.close()


def _colour_share(image, box: Box, page_height: float, scale: float, test) -> float:  # type: ignore[no-untyped-def]
    left, top = int(box.x1 * scale), int((page_height - box.y2) * scale)
    crop = image.crop((left, top, int(box.x2 * scale), int((page_height - box.y1) * scale))).convert("RGB")
    data = crop.tobytes()
    pixels = [data[i:i + 3] for i in range(0, len(data), 3)]
    return sum(1 for p in pixels if test(*p)) / max(1, len(pixels))


def test_the_visible_signature_is_placed_as_appendix_i_says(signed: Signed) -> None:
    rects = _widget_rects(signed.sealed)
    person, seal = rects["ChuKyNguoiCoThamQuyen"], rects["ChuKyCoQuan"]
    # the person's signature between the title line (above) and the name line (below), in their column
    assert signed.name.y2 <= person.y1 and person.y2 <= signed.title.y1
    assert person.x1 < (signed.name.x1 + signed.name.x2) / 2 < person.x2
    # the seal overlaps about the left third of the signature image, and stands to its left
    overlap = seal.overlap(person)
    assert overlap is not None and seal.x1 < person.x1
    assert 0.25 <= overlap.width / person.width <= 0.4
    # rendered as a person sees it: blue strokes in the signature box, red seal in the seal box
    document = pdfium.PdfDocument(signed.sealed)
    document.init_forms()  # as a viewer does: the signature widgets are drawn by the form layer
    page = document[signed.page]
    scale = 2.0
    image = page.render(scale=scale, may_draw_forms=True).to_pil()
    height = page.get_height()
    document.close()
    only_signature = Box(seal.x2 + 2, person.y1, person.x2, person.y2)
    assert _colour_share(image, only_signature, height, scale, SIGNATURE_BLUE) > 0.01
    assert _colour_share(image, seal, height, scale, SEAL_RED) > 0.02
    unsigned = pdfium.PdfDocument(signed.unsigned)
    before = unsigned[signed.page].render(scale=scale).to_pil()
    unsigned.close()
    assert _colour_share(before, seal, height, scale, SEAL_RED) == 0
    # the signing time as ISO 8601 with the Vietnam offset, the same instant as the seal's signature
    text = _flattened_text(signed.sealed, signed.page)
    times = re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", text)
    assert times, text[-400:]
    seal_time = verify_pdf(signed.sealed, [], allow_fetching=False).signatures[1]
    stamped = datetime.fromisoformat(times[0])
    assert stamped.utcoffset() is not None and stamped.utcoffset() == VIETNAM.utcoffset(None)
    assert seal_time.signed_at is not None and abs((seal_time.signed_at - stamped).total_seconds()) < 5
    assert "Ký bởi: Sở Nội vụ tỉnh Cao Bằng" in text and "Email: snv@caobang.gov.vn" in text
    assert unicodedata.is_normalized("NFC", text) and "■" not in text and "\ufffd" not in text


def test_an_attachment_gets_the_organisations_signature_top_right_without_image(pki: TestPki,  # noqa: F811
                                                                                 tmp_path: Path) -> None:
    attachment = render_pdf("bien_ban_kiem_tra", create_context(), tmp_path / "bb.pdf").path.read_bytes()
    box = attachment_box(attachment)
    signed = sign_pdf(attachment, pki.key("so-noi-vu"), field="ChuKyCoQuanKemTheo", box=box, page=0,
                      appearance=Appearance.attachment("Sở Nội vụ tỉnh Cao Bằng", "7/QĐ-XPHC"),
                      timestamper_url=pki.tsa_url, validation_context=validation_context([pki.root]), seal=True)
    result = verify_pdf(signed, [pki.root])
    assert result.ok and result.level == "B-LT", result.summary
    rect = _widget_rects(signed)["ChuKyCoQuanKemTheo"]
    document = pdfium.PdfDocument(signed)
    document.init_forms()
    width, height = document[0].get_size()
    image = document[0].render(scale=2.0).to_pil()
    document.close()
    assert rect.x2 > width * 0.8 and rect.y1 > height * 0.9  # top right of page 1
    assert _colour_share(image, rect, height, 2.0, SEAL_RED) == 0  # no seal
    text = _flattened_text(signed, 0)
    assert "Kèm theo văn bản số 7/QĐ-XPHC" in text and re.search(r"T\d\d:\d\d:\d\d\+07:00", text)


def test_iso_time_is_vietnam_time() -> None:
    assert iso_time(datetime.fromisoformat("2026-12-05T07:05:00+00:00")) == "2026-12-05T14:05:00+07:00"


def test_keys_come_from_the_environment_and_never_show_their_secrets(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    monkeypatch.setenv("KIEMTRA_SIGNING_SEAL_PKCS12", str(tmp_path / "seal.p12"))
    monkeypatch.setenv("KIEMTRA_SIGNING_SEAL_PKCS12_PASSPHRASE", "bí-mật-123")
    monkeypatch.setenv("KIEMTRA_SIGNING_SIGNER_PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
    monkeypatch.setenv("KIEMTRA_SIGNING_SIGNER_PKCS11_TOKEN", "giam-doc")
    monkeypatch.setenv("KIEMTRA_SIGNING_SIGNER_PKCS11_KEY", "chu-ky")
    monkeypatch.setenv("KIEMTRA_SIGNING_SIGNER_PKCS11_PIN", "246810")
    seal, person = key_from_env("seal"), key_from_env("signer")
    assert "bí-mật-123" not in repr(seal) and "246810" not in repr(person)
    with pytest.raises(SigningError, match="không mở được tệp khóa PKCS#12|không đọc được tệp khóa"):
        sign_pdf(b"%PDF-1.7", seal, field="X", box=None, timestamper_url="http://127.0.0.1:9/",
                 validation_context=validation_context([]))


# --- PKCS#11 (Done-when 2): the signer's key imported into a SoftHSM token ---------------------------------------------

SOFTHSM_MODULES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")


@pytest.fixture
def softhsm_token(pki: TestPki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SignerKey]:  # noqa: F811
    module = next((m for m in SOFTHSM_MODULES if Path(m).exists()), None)
    if shutil.which("softhsm2-util") is None or module is None:
        if os.environ.get("CI"):  # .ci/run installs it: a CI run without it has lost Done-when 2
            pytest.fail("SoftHSM is not installed on CI (Debian's softhsm2; .ci/run installs it)")
        pytest.skip("SoftHSM is not installed (Debian's softhsm2; .ci/run installs it)")
    (tmp_path / "tokens").mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    pin = "246810"
    run = lambda *args: subprocess.run(["softhsm2-util", *args], env=env, check=True, capture_output=True)  # noqa: E731
    run("--init-token", "--free", "--label", "giam-doc", "--so-pin", "13579", "--pin", pin)
    key_file = tmp_path / "giam-doc.pk8.pem"
    key_file.write_bytes(pki.private_key_pem("giam-doc"))
    run("--import", str(key_file), "--token", "giam-doc", "--label", "chu-ky", "--id", "01", "--pin", pin)
    key_file.unlink()
    _put_certificate(module, pin, pki)
    yield SignerKey.pkcs11(module, "giam-doc", "chu-ky", pin, name="Bế Thanh Tịnh")


def _put_certificate(module: str, pin: str, pki: TestPki) -> None:  # noqa: F811
    """The signer's certificate on the token beside its key, and its CA's, as a token from a CA holds them
    (softhsm2-util imports keys only)."""
    import pkcs11
    from pkcs11 import Attribute, CertificateType, ObjectClass

    token = pkcs11.lib(module).get_token(token_label="giam-doc")
    with token.open(rw=True, user_pin=pin) as session:
        for label, key_id, cert in (("chu-ky", b"\x01", pki.cert("giam-doc")), ("ca", b"\x02", pki.cert("interm"))):
            session.create_object({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.TOKEN: True,
                                   Attribute.CERTIFICATE_TYPE: CertificateType.X_509, Attribute.LABEL: label,
                                   Attribute.ID: key_id, Attribute.SUBJECT: cert.subject.dump(), Attribute.VALUE: cert.dump()})


def test_signing_through_pkcs11_with_softhsm(pki: TestPki, signed: Signed, softhsm_token: SignerKey) -> None:  # noqa: F811
    signed_by_token = sign_pdf(signed.unsigned, softhsm_token, field="ChuKyNguoiCoThamQuyen", box=signed.person_box,
                               page=signed.page, appearance=Appearance.person(signature_png()),
                               timestamper_url=pki.tsa_url, validation_context=validation_context([pki.root]))
    result = verify_pdf(signed_by_token, [pki.root])
    assert result.ok and result.level == "B-LT", result.summary
    assert result.signatures[0].signer == "Bế Thanh Tịnh"
    wrong_pin = SignerKey.pkcs11(softhsm_token.source.module, "giam-doc", "chu-ky", "000000")  # type: ignore[union-attr]
    with pytest.raises(SigningError, match="không mở được khóa 'chu-ky' trên thiết bị ký 'giam-doc'"):
        sign_pdf(signed.unsigned, wrong_pin, field="X", box=None, timestamper_url=pki.tsa_url,
                 validation_context=validation_context([pki.root]))
