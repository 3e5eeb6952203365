"""The NĐ 30/2020 issuing sequence of an electronic document: the competent person signs first (a certification
signature allowing form filling only), the number and the issue date are filled in afterwards (form fields, an
incremental update), then the organisation seals. Both signatures validate at PAdES B-LT; a change that is not form
filling breaks the person's signature; the filled number stands where the printed number stands."""
from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pypdfium2 as pdfium
import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PdfReader

from tests.pdf_text import flattened_text, text_box
from tests.pki_support import TestPki, pki, seal_png, signature_png  # noqa: F401 (a fixture)
from tests.unit.test_render import create_context

from services.documents.render import header_values, render_pdf_bytes
from services.documents.signing import (Appearance, Box, find_signature_block, person_box, seal_box, sign_pdf,
                                        validation_context, verify_pdf)
from services.documents.signing_fields import DATE_FIELD, NUMBER_FIELD, field_values, fill_fields

pytestmark = pytest.mark.slow
TEMPLATE = "quyet_dinh_xu_phat"
SIGNER = {"full_name": "Bế Thanh Tịnh", "title": "Giám đốc"}
NUMBER = "Số: 12/QĐ-XPHC"
PLACE_DATE = "Cao Bằng, ngày 05 tháng 12 năm 2026"


@dataclass(frozen=True)
class Issued:
    draft: bytes
    certified: bytes
    filled: bytes
    sealed: bytes
    printed: bytes  # the same decision rendered the ordinary way, with its number
    page: int
    person: Box


def _context(number: str) -> dict[str, object]:
    return create_context(number=number, issued_on=date(2026, 12, 5), signer=SIGNER)


@pytest.fixture(scope="module")
def issued(pki: TestPki) -> Issued:  # noqa: F811 (the fixture above)
    draft = render_pdf_bytes(TEMPLATE, _context(""), fillable=True)[0]
    block = find_signature_block(draft, "GIÁM ĐỐC", "Bế Thanh Tịnh")
    person = person_box(block)
    context = validation_context([pki.root])
    certified = sign_pdf(draft, pki.key("giam-doc", "Bế Thanh Tịnh"), field="ChuKyNguoiCoThamQuyen", box=person,
                         page=block.page, appearance=Appearance.person(signature_png()), timestamper_url=pki.tsa_url,
                         validation_context=context, certify=True, reserve={"ChuKyCoQuan": seal_box(person)})
    values = header_values(TEMPLATE, _context("12/QĐ-XPHC"))
    assert values == {NUMBER_FIELD: NUMBER, DATE_FIELD: PLACE_DATE}
    filled = fill_fields(certified, values)
    sealed = sign_pdf(filled, pki.key("so-noi-vu", "Sở Nội vụ tỉnh Cao Bằng"), field="ChuKyCoQuan",
                      box=seal_box(person), page=block.page,
                      appearance=Appearance.seal(seal_png(), "Sở Nội vụ tỉnh Cao Bằng", "snv@caobang.gov.vn"),
                      timestamper_url=pki.tsa_url, validation_context=context, seal=True)
    printed = render_pdf_bytes(TEMPLATE, _context("12/QĐ-XPHC"))[0]
    return Issued(draft, certified, filled, sealed, printed, block.page, person)


def test_certified_filled_and_sealed_validates_at_b_lt(pki: TestPki, issued: Issued) -> None:  # noqa: F811
    assert issued.sealed.startswith(issued.filled) and issued.filled.startswith(issued.certified)  # incremental
    assert issued.certified.startswith(issued.draft)
    result = verify_pdf(issued.sealed, [pki.root])
    assert result.ok, result.summary
    assert [s.signer for s in result.signatures] == ["Bế Thanh Tịnh", "Sở Nội vụ tỉnh Cao Bằng"]
    assert [s.level for s in result.signatures] == ["B-LT", "B-LT"], result.summary
    assert all(s.trusted and s.timestamped and not s.revoked and s.intact for s in result.signatures)
    offline = verify_pdf(issued.sealed, [pki.root], allow_fetching=False)
    assert offline.ok and offline.level == "B-LT", offline.summary
    # the person's is a certification signature allowing form filling (DocMDP P=2)
    root: Any = PdfReader(io.BytesIO(issued.sealed)).trailer["/Root"]
    perms = root["/Perms"]["/DocMDP"].get_object()
    assert perms["/Reference"][0]["/TransformParams"]["/P"] == 2
    assert field_values(issued.draft) == {NUMBER_FIELD: "", DATE_FIELD: ""}
    assert field_values(issued.sealed) == {NUMBER_FIELD: NUMBER, DATE_FIELD: PLACE_DATE}


def test_the_filled_number_and_date_read_as_text_where_the_printed_ones_stand(issued: Issued) -> None:
    text = flattened_text(issued.sealed)
    assert unicodedata.is_normalized("NFC", text) and "■" not in text and "\ufffd" not in text
    assert text.count(NUMBER) == 1 and text.count(PLACE_DATE) == 1, text[:600]
    assert NUMBER not in flattened_text(issued.draft) and "Số:" not in flattened_text(issued.draft)
    for shown in (NUMBER, PLACE_DATE):
        filled, printed = text_box(issued.sealed, shown), text_box(issued.printed, shown, flatten=False)
        for a, b in zip((filled.x1, filled.y1, filled.x2, filled.y2), (printed.x1, printed.y1, printed.x2, printed.y2),
                        strict=True):
            assert abs(a - b) <= 1, (shown, filled, printed)
    # the draft's title metadata does not say "số  -"
    title = str(PdfReader(io.BytesIO(issued.draft)).metadata.title)  # type: ignore[union-attr]
    assert title.startswith("Quyết định xử phạt vi phạm hành chính - ") and " số " not in title


def _share(pdf: bytes, box: Box, test: Callable[[int, int, int], bool], page_index: int = 0, scale: float = 2.0) -> float:
    """The share of the pixels in ``box`` that pass ``test``, the page rendered as a viewer shows it."""
    document = pdfium.PdfDocument(pdf)
    try:
        document.init_forms()  # before the pages are loaded, as a viewer: fields are drawn by the form layer
        page = document[page_index]
        height = page.get_height()
        image = page.render(scale=scale, may_draw_forms=True).to_pil().convert("RGB")
    finally:
        document.close()
    crop = image.crop((int(box.x1 * scale), int((height - box.y2) * scale), int(box.x2 * scale),
                       int((height - box.y1) * scale)))
    data = crop.tobytes()
    pixels = [(data[i], data[i + 1], data[i + 2]) for i in range(0, len(data), 3)]
    return sum(1 for p in pixels if test(*p)) / max(1, len(pixels))


def _dark(r: int, g: int, b: int) -> bool:
    return max(r, g, b) < 100


def _seal_red(r: int, g: int, b: int) -> bool:
    return r > 180 and g < 60 and b < 70


def test_the_filled_fields_show_when_rendered(issued: Issued) -> None:
    number = text_box(issued.sealed, NUMBER)
    assert _share(issued.sealed, number, _dark) > 0.05
    assert _share(issued.draft, number, _dark) == 0  # the draft's field is empty
    # the seal signed the field reserved for it at certification, and shows there
    assert _share(issued.sealed, seal_box(issued.person), _seal_red, issued.page) > 0.02
    assert _share(issued.filled, seal_box(issued.person), _seal_red, issued.page) == 0


def _add_annotation(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    note = writer.add_object(generic.DictionaryObject({
        generic.pdf_name("/Type"): generic.pdf_name("/Annot"), generic.pdf_name("/Subtype"): generic.pdf_name("/Text"),
        generic.pdf_name("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in (100, 100, 120, 120)]),
        generic.pdf_name("/Contents"): generic.TextStringObject("Sửa sau khi ký")}))
    annots = page.get("/Annots")
    if annots is None:
        page["/Annots"] = generic.ArrayObject([note])
    else:
        annots.get_object().append(note)
    writer.update_container(page)
    if annots is not None and isinstance(page.raw_get("/Annots"), generic.IndirectObject):
        writer.update_container(annots.get_object())
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _add_content(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    stream = generic.StreamObject(stream_data=b"q 0 0 1 rg 100 100 50 50 re f Q")
    writer.add_stream_to_page(0, writer.add_object(stream))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("change", [_add_annotation, _add_content], ids=["annotation", "page-content"])
def test_a_change_that_is_not_form_filling_breaks_the_persons_signature(pki: TestPki, issued: Issued,  # noqa: F811
                                                                        change: Callable[[bytes], bytes]) -> None:
    for signed in (issued.filled, issued.sealed):
        result = verify_pdf(change(signed), [pki.root], allow_fetching=False)
        assert not result.ok
        person = result.signatures[0]
        assert person.signer == "Bế Thanh Tịnh" and not person.ok, result.summary
        assert "văn bản bị sửa đổi sau khi ký ngoài các thay đổi được phép" in person.problems, result.summary
    # while form filling alone keeps it valid
    assert verify_pdf(issued.filled, [pki.root], allow_fetching=False).ok


def test_filling_a_field_that_is_missing_or_filled_is_refused(issued: Issued) -> None:
    with pytest.raises(ValueError, match="văn bản không có ô 'so_van_ban'"):
        fill_fields(issued.certified, {"so_van_ban": NUMBER})
    with pytest.raises(ValueError, match=f"ô '{NUMBER_FIELD}' đã được điền"):
        fill_fields(issued.filled, {NUMBER_FIELD: "Số: 13/QĐ-XPHC"})
    plain = render_pdf_bytes(TEMPLATE, _context("12/QĐ-XPHC"))[0]
    with pytest.raises(ValueError, match="không có"):
        fill_fields(plain, {NUMBER_FIELD: NUMBER})
