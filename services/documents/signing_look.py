"""What a digital signature looks like on the page, per NĐ 30/2020 Phụ lục I (issue 17).

- The competent person's signature: the image of their handwritten signature (PNG, transparent background, blue), centred
  between the signer's title line and their name line.
- The organisation's signature (the seal): the image of the seal (PNG, transparent background, red, the seal's real size)
  overlapping about the left third of the person's signature image, with the organisation's name, e-mail and the
  signing time (ISO 8601 with the Vietnam offset, ``2026-12-05T14:05:00+07:00``).
- An attachment: the organisation's signature at the top right of page 1, without an image: the organisation, the
  number and symbol of the document it goes with, and the signing time.

Where those boxes go: :func:`find_signature_block` finds the signer's title and name lines in the rendered PDF (pypdfium2
text search), :func:`person_box` and :func:`seal_box` place the two images between them, :func:`attachment_box` the
attachment's text. Coordinates are PDF points, origin at the bottom left of the page.

The appearance itself is drawn by reportlab in the documents' font (Liberation Serif, every Vietnamese letter) and
imported into the signature's widget as a form XObject: pyHanko's own text stamps draw in a font without Vietnamese.
"""
from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

import pypdfium2 as pdfium
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.content import ResourceType
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp.base import BaseStamp
from pyhanko.stamp.text import TextStampStyle
from reportlab.lib.colors import HexColor
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from services.documents.styles import FONT, _fonts

VIETNAM = timezone(timedelta(hours=7), "ICT")
SEAL_SIZE = 34 * mm  # a provincial department's round seal (TT 16/2025: 32–36 mm); drawn at its real size
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S%z"  # how pyHanko hands the signing time to the stamp (parsed back below)


def iso_time(moment: datetime) -> str:
    """The signing time as Phụ lục I writes it: ISO 8601, Vietnam time, ``2026-12-05T14:05:00+07:00``."""
    return moment.astimezone(VIETNAM).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Box:
    """A rectangle in PDF points: (x1, y1) bottom left, (x2, y2) top right."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    def overlap(self, other: Box) -> Box | None:
        x1, y1, x2, y2 = max(self.x1, other.x1), max(self.y1, other.y1), min(self.x2, other.x2), min(self.y2, other.y2)
        return Box(x1, y1, x2, y2) if x1 < x2 and y1 < y2 else None

    def as_tuple(self) -> tuple[int, int, int, int]:
        return round(self.x1), round(self.y1), round(self.x2), round(self.y2)


@dataclass(frozen=True)
class SignatureBlock:
    """The signer's title line and name line on a page (0-based): the person signs in the space between them."""

    page: int
    title: Box
    name: Box


@dataclass(frozen=True)
class Appearance:
    """What a signature's widget shows: an image (fitted, centred) and lines of text (``{time}``: the signing time)."""

    image_png: bytes | None = None
    lines: tuple[str, ...] = ()
    font_size: float = 7.0
    color: str = "#1f3a93"
    align: str = "center"

    @classmethod
    def person(cls, signature_png: bytes) -> Appearance:
        return cls(image_png=signature_png)

    @classmethod
    def seal(cls, seal_png: bytes, organisation: str, email: str = "") -> Appearance:
        lines = [f"Ký bởi: {organisation}", *([f"Email: {email}"] if email else []), "Thời gian ký:", "{time}"]
        return cls(image_png=seal_png, lines=tuple(lines))

    @classmethod
    def attachment(cls, organisation: str, reference: str) -> Appearance:
        """Phụ lục I: no image; the number and symbol of the main document and the time, 10 pt, black."""
        return cls(lines=(f"{organisation}", f"Kèm theo văn bản số {reference}", "Thời gian ký: {time}"),
                   font_size=10.0, color="#000000", align="right")


def _occurrences(textpage: Any, text: str) -> list[Box]:
    found: list[Box] = []
    searcher = textpage.search(text, match_case=True)
    while (hit := searcher.get_next()) is not None:
        index, count = hit
        rects = [textpage.get_rect(i) for i in range(textpage.count_rects(index, count))]
        if rects:
            found.append(Box(min(r[0] for r in rects), min(r[1] for r in rects),
                             max(r[2] for r in rects), max(r[3] for r in rects)))
    return found


def find_signature_block(pdf: bytes, title: str, name: str) -> SignatureBlock:
    """The last place in ``pdf`` where ``name`` stands under the line ``title`` (the signer's title as printed, e.g.
    "PHÓ GIÁM ĐỐC"), searching from the last page up. Raises ``LookupError`` when there is none."""
    title, name = unicodedata.normalize("NFC", title), unicodedata.normalize("NFC", name)
    document = pdfium.PdfDocument(pdf)
    try:
        for index in reversed(range(len(document))):
            textpage = document[index].get_textpage()
            titles = _occurrences(textpage, title)
            for found in sorted(_occurrences(textpage, name), key=lambda b: b.y1):
                above = [t for t in titles if t.y1 >= found.y2 and t.x1 < found.x2 and found.x1 < t.x2]
                if above:
                    return SignatureBlock(index, min(above, key=lambda t: t.y1 - found.y2), found)
    finally:
        document.close()
    raise LookupError(f"không tìm thấy dòng chức vụ '{title}' và họ tên '{name}' trong văn bản")


def person_box(block: SignatureBlock) -> Box:
    """The person's signature image: the space between the title and the name lines, centred on their column."""
    centre = ((block.title.x1 + block.title.x2) / 2 + (block.name.x1 + block.name.x2) / 2) / 2
    y1, y2 = block.name.y2 + 2, block.title.y1 - 2
    width = min(2.0 * (y2 - y1), 60 * mm)
    return Box(centre - width / 2, y1, centre + width / 2, y2)


def seal_box(person: Box, size: float = SEAL_SIZE) -> Box:
    """The seal at its real size, centred on the signature's height, covering the left third of the signature."""
    right = person.x1 + person.width / 3
    middle = (person.y1 + person.y2) / 2
    return Box(right - size, middle - size / 2, right, middle + size / 2)


def attachment_box(pdf: bytes, page: int = 0) -> Box:
    """Top right of the page, in the top margin: right edge on the right margin (NĐ 30: 15–20 mm)."""
    document = pdfium.PdfDocument(pdf)
    try:
        width, height = document[page].get_size()
    finally:
        document.close()
    right, top = width - 15 * mm, height - 4 * mm
    return Box(right - 80 * mm, top - 15 * mm, right, top)


def draw(look: Appearance, width: float, height: float, when: datetime, *, image: bool = True) -> bytes:
    """One page of ``width`` × ``height`` points showing ``look`` at signing time ``when`` (``image=False``: the text
    only, laid out as over the image, for a page drawn over the image's own page)."""
    _fonts()  # Liberation Serif registered with reportlab
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=True, pageCompression=1)
    if look.image_png and image:
        canvas.drawImage(ImageReader(io.BytesIO(look.image_png)), 0, 0, width, height, mask="auto",
                         preserveAspectRatio=True, anchor="c")
    lines = [unicodedata.normalize("NFC", line.replace("{time}", iso_time(when))) for line in look.lines]
    size = min([look.font_size, *((width - 4) / stringWidth(line, FONT, 1) for line in lines if line)])
    leading = size * 1.2
    top = height / 2 + leading * len(lines) / 2 if look.image_png else height - size
    if look.image_png and lines:  # the text over the seal on a light band, so it stays legible
        canvas.setFillColor(HexColor("#ffffff"), alpha=0.75)
        canvas.rect(0, top - leading * len(lines) - 1, width, leading * len(lines) + 2, stroke=0, fill=1)
    canvas.setFont(FONT, size)
    canvas.setFillColor(HexColor(look.color))
    for number, line in enumerate(lines):
        y = top - leading * (number + 1) + (leading - size) if look.image_png else top - leading * number
        if look.align == "right":
            canvas.drawRightString(width - 1, y, line)
        else:
            canvas.drawCentredString(width / 2, y, line)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@lru_cache(maxsize=32)
def _draw_timeless(look: Appearance, width: float, height: float) -> bytes:
    """:func:`draw` of a look without the signing time (the person's signature image): the same bytes every time
    (``invariant``), so drawn once per look and size."""
    return draw(look, width, height, datetime.now(VIETNAM))


def drawn(look: Appearance, width: float, height: float, when: datetime) -> list[bytes]:
    """The pages that, one over the other, show what :func:`draw` shows: the image (and any text without the time)
    from the cache, drawn once; the text with the signing time over it, drawn for each signature."""
    if not any("{time}" in line for line in look.lines):
        return [_draw_timeless(look, width, height)]
    if not look.image_png:
        return [draw(look, width, height, when)]
    return [_draw_timeless(Appearance(image_png=look.image_png), width, height),
            draw(look, width, height, when, image=False)]


class _DrawnStamp(BaseStamp):
    """pyHanko's stamp whose content is the pages :func:`drawn` gives, each imported as a form XObject."""

    def __init__(self, writer: BasePdfFileWriter, style: LookStyle, box: layout.BoxConstraints, when: datetime):
        super().__init__(writer=writer, style=style, box=box)
        self.when = when

    def _render_inner_content(self) -> list[bytes]:
        look: Appearance = self.style.look
        assert self.writer is not None  # pyHanko sets it before rendering a widget's appearance
        content = []
        for number, page in enumerate(drawn(look, self.box.width, self.box.height, self.when)):
            xobject = self.writer.import_page_as_xobject(PdfFileReader(io.BytesIO(page)), page_ix=0)
            name = f"/Look{number}" if number else "/Look"
            self.set_resource(category=ResourceType.XOBJECT, name=generic.pdf_name(name), value=xobject)
            content.append(f"q {name} Do Q".encode())
        return content


@dataclass(frozen=True)
class LookStyle(TextStampStyle):
    """A stamp style drawing an :class:`Appearance`; a :class:`TextStampStyle` only so that pyHanko hands it the
    signing time (``ts``), the same instant as the signature's signing-time attribute."""

    look: Appearance = Appearance()
    border_width: int = 0
    timestamp_format: str = _TS_FORMAT

    def create_stamp(self, writer: BasePdfFileWriter, box: layout.BoxConstraints,  # type: ignore[override]
                     text_params: dict[str, Any]) -> BaseStamp:
        when = datetime.strptime(text_params["ts"], _TS_FORMAT) if "ts" in text_params else datetime.now(VIETNAM)
        return _DrawnStamp(writer, self, box, when)
