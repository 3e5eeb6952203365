"""The number and the issue date filled in after the competent person has signed (NĐ 30/2020 issuing sequence).

Per NĐ 30/2020 the competent person signs the electronic document first, with its number ("Số: 12/QĐ-XPHC") and its
date ("Cao Bằng, ngày 05 tháng 12 năm 2026") still blank; then the number and the date are given; then the organisation
adds its signature (the seal). So that the person's signature stays valid:

- the document is rendered ``fillable`` (:func:`services.documents.render.render_pdf_bytes`): the header's number
  cell and place and date cell are empty AcroForm text fields (:data:`NUMBER_FIELD`, :data:`DATE_FIELD`), drawn by
  :class:`HeaderField` exactly where the text would stand;
- the person signs with a certification signature allowing form filling only (DocMDP level 2:
  ``sign_pdf(..., certify=True)``);
- :func:`fill_fields` sets the fields' values in an incremental update, each with an appearance drawn by reportlab in
  the documents' font (Liberation Serif 13 pt, every Vietnamese letter embedded; the date in italics, as printed), the
  technique of :mod:`services.documents.signing_look`: a page imported as a form XObject;
- the seal is an ordinary (approval) signature over that.
"""
from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

from services.documents.styles import FONT, _fonts

NUMBER_FIELD = "kiemtra_so"  # "Số: 12/QĐ-XPHC", under the issuing body
DATE_FIELD = "kiemtra_ngay"  # "Cao Bằng, ngày 05 tháng 12 năm 2026", under the national motto
FIELD_SIZE = 13.0  # pt, as the header prints them
ITALIC = frozenset({DATE_FIELD})  # the place and date line is in italics (NĐ 30/2020)


class HeaderField(Flowable):
    """An empty, fillable text field the width of its table column and one line of the header high: laid out as the
    one-line paragraph it stands for, so everything else on the page stays where it was. No border, no background;
    the viewer's default appearance (``/DA``) is Times 13 pt, the value's own appearance (Liberation Serif, the date in
    italics) comes from :func:`fill_fields`."""

    def __init__(self, name: str, height: float) -> None:
        super().__init__()
        self.name = name
        self.height = height

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803 (reportlab's names)
        self.width = availWidth
        return self.width, self.height

    def draw(self) -> None:
        # one standard font for every field: reportlab writes each font of the form's /DR as a /Font key of its own
        # (a dictionary with a repeated key), and the /DA is only what a viewer falls back on. The stubs say int;
        # reportlab takes any number, and the field must be exactly the column's width.
        self.canv.acroForm.textfield(name=self.name, value="", x=0, y=0, width=self.width, height=self.height,  # type: ignore[arg-type]
                                     relative=True, borderWidth=0, borderColor=None, fillColor=None,
                                     fontName="Times-Roman", fontSize=FIELD_SIZE, maxlen=0, annotationFlags="print")


def _fields(root: Any) -> Iterator[generic.DictionaryObject]:
    """Every terminal field of the document's form (fields with ``/Kids`` of fields are walked into)."""
    form = root.get("/AcroForm")
    pending = list(form.get_object().get("/Fields", ())) if form is not None else []
    while pending:
        field = pending.pop(0).get_object()
        kids = [k.get_object() for k in field.get("/Kids", ())]
        if any("/T" in kid for kid in kids):
            pending.extend(field["/Kids"])
        else:
            yield field


def _value(field: generic.DictionaryObject) -> str:
    value = field.get("/V")
    return str(value) if value is not None else ""


def field_values(pdf: bytes) -> dict[str, str]:
    """The current value of each of our fields present in ``pdf`` ("" while empty)."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    return {str(f["/T"]): _value(f) for f in _fields(reader.root) if str(f.get("/T")) in (NUMBER_FIELD, DATE_FIELD)}


def _appearance(value: str, width: float, height: float, *, italic: bool) -> bytes:
    """One page of the field's size with ``value`` centred, its baseline where the header paragraph puts it."""
    _fonts()  # Liberation Serif registered with reportlab
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=True, pageCompression=1)
    _fonts().draw(canvas, width / 2, height - FIELD_SIZE, value, f"{FONT}-Italic" if italic else FONT, FIELD_SIZE,
                  centred=True)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _widgets(field: generic.DictionaryObject) -> list[generic.DictionaryObject]:
    kids = field.get("/Kids")
    return [k.get_object() for k in kids] if kids else [field]


def fill_fields(pdf: bytes, values: Mapping[str, str]) -> bytes:
    """``pdf`` with the text fields named in ``values`` set (``/V``) and shown (``/AP /N``), in one incremental
    update: what a certification signature allowing form filling accepts. Raises ``ValueError`` for a field the
    document does not have, one that is not a text field, or one that already has a value."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    found = {str(f.get("/T")): f for f in _fields(writer.root)}
    for name in values:
        if name not in found:
            raise ValueError(f"văn bản không có ô '{name}' để điền (các ô có: {', '.join(sorted(found)) or 'không có'})")
        if found[name].get("/FT") != "/Tx":
            raise ValueError(f"ô '{name}' không phải ô nhập chữ")
        if _value(found[name]):
            raise ValueError(f"ô '{name}' đã được điền: '{_value(found[name])}'")
    for name, raw in values.items():
        value = unicodedata.normalize("NFC", raw)
        field = found[name]
        field["/V"] = generic.TextStringObject(value)
        writer.update_container(field)
        for widget in _widgets(field):
            x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
            page = _appearance(value, abs(x2 - x1), abs(y2 - y1), italic=name in ITALIC)
            xobject = writer.import_page_as_xobject(PdfFileReader(io.BytesIO(page)), page_ix=0)
            widget["/AP"] = generic.DictionaryObject({generic.pdf_name("/N"): xobject})
            writer.update_container(widget)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
