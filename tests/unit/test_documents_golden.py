"""Golden documents: every template in ``templates/*.toml``, rendered with a full context, read back from the PDF.

For each template:

- **text**: the PDF's text, extracted with pypdf one text object (a paragraph, a table cell) at a time,
  NFC-normalised and whitespace-folded, equals the NFC source: the header's strings expanded from the template,
  in the order a reader meets them (issuing body, national motto, number, place and date), then every text the
  renderer drew, as it records them for its glyph check. The only other text allowed is a page number atop
  each page from the second on, the header row of a table repeated atop the page it continues on, and, for a
  template with ``sign_each_page``, its row of signature labels at the foot of every page but the last. The raw
  extracted text (not re-normalised) is NFC, with no "■", no U+FFFD, no combining mark;
- **page** (NĐ 30/2020): every page A4 (portrait, or landscape where the template says so); the margins the
  renderer sets are within the decree's ranges and every line of text lies inside them (but the page number,
  which the decree puts in the top margin, centred; the per-sheet signature row has a strip of its own inside
  them, below the body's text); the issuing body on the left, the motto on the right;
  sizes 11-14 pt, the running text (paragraphs justified across the text width) 13-14 pt; only Liberation Serif, embedded,
  no standard-14 font;
- **picture**: the first page rasterised with PDFium (pypdfium2) equals ``tests/golden/<template>.png``
  pixel for pixel (PDFium is deterministic for a given version and machine; the version is pinned).

The contexts are the other document tests' builders (``tests/unit/test_render.py``, ``test_schedule_documents.py``,
``test_selection_documents.py``): a change to them, to a template or to the layout changes the pictures. After
an intended change, regenerate the pictures, look at them, and commit them:

    .venv/bin/python -m tests.unit.test_documents_golden --update
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics

from tests.pdf_support import squash
from tests.unit.test_proposal_document import create_proposal_context
from tests.unit.test_render import create_context as minutes_context
from tests.unit.test_schedule_documents import create_decision, create_notice, create_plan, schedule_rows
from tests.unit.test_selection_documents import create_context as selection_context
from tests.unit.test_kpi import (create_campaign_report_context as campaign_report_context,
                                 create_periodic_context as periodic_report_context)

from services.documents import load_template, render as renderer, render_pdf
from services.documents.format import expand
from services.settings import TEMPLATES_DIR

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CONTEXTS: dict[str, Callable[[], dict[str, Any]]] = {
    "bien_ban_kiem_tra": minutes_context,
    "bien_ban_vi_pham": partial(minutes_context, number="3/BB-VPHC"),
    "quyet_dinh_xu_phat": partial(minutes_context, number="7/QĐ-XPHC"),
    "to_trinh_xu_phat": create_proposal_context,
    "quyet_dinh_kiem_tra": create_decision,
    "ke_hoach_kiem_tra": create_plan,
    "thong_bao_kiem_tra": create_notice,
    "danh_sach_co_so": selection_context,
    "bao_cao_ket_qua_kiem_tra": campaign_report_context,
    "bao_cao_dinh_ky": periodic_report_context,
}
TEMPLATES = sorted(CONTEXTS)
HEADER_ORDER = ("parent", "body", "motto", "motto_sub", "number", "place_date")  # as a reader meets them
MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
# NĐ 30/2020, Phụ lục I: the ranges, in mm
DECREE_MARGINS = {"top": (20, 25), "bottom": (20, 25), "left": (30, 35), "right": (15, 20)}
STANDARD_14 = ("Times", "Helvetica", "Courier", "Symbol", "ZapfDingbats")
FRAME_PADDING = 6  # pt: reportlab's Frame pads its text area on every side
INDENT = 10 * mm  # a paragraph's first-line indent (render._style)
SCALE = 1.5  # the pictures: 108 dpi, greyscale
EPS = 0.01  # pt


# --- reading a PDF back ----------------------------------------------------------------------------------

@dataclass
class Line:
    """One line of a text object: where it starts and ends (pt, from the page's bottom left), its font."""

    x0: float
    x1: float
    baseline: float
    size: float
    font: str
    text: str

    @property
    def top(self) -> float:
        return self.baseline + self.size * pdfmetrics.getFont(self.font).face.ascent / 1000

    @property
    def bottom(self) -> float:
        return self.baseline + self.size * pdfmetrics.getFont(self.font).face.descent / 1000


@dataclass
class Unit:
    """One text object (BT ... ET): a paragraph, a table cell's paragraph, a page number."""

    raw: str = ""
    lines: list[Line] = field(default_factory=list)

    @property
    def text(self) -> str:
        return squash(self.raw)


def read_units(path: Path) -> list[list[Unit]]:
    """Each page's text objects in drawing order, with the position and font of every line.

    A line's end is its start plus the width of its glyphs in the embedded font's metrics (the font is the
    registered Liberation Serif face the subset was cut from) plus the word spacing (Tw) of each space.
    """
    pages: list[list[Unit]] = []
    for page in PdfReader(path).pages:
        units: list[Unit] = []
        word_space = [0.0]

        def before(op: bytes, args: list[Any], cm: list[float], tm: list[float], units: list[Unit] = units,
                   word_space: list[float] = word_space) -> None:
            if op == b"BT":
                units.append(Unit())
            elif op == b"Tw":
                word_space[0] = float(args[0])

        def text(chunk: str, cm: list[float], tm: list[float], font: Any, size: float, units: list[Unit] = units,
                 word_space: list[float] = word_space) -> None:
            if not units:
                assert not chunk.strip(), f"text outside a text object: {chunk!r}"
                return
            unit = units[-1]
            unit.raw += chunk
            body = chunk.replace("\n", "")
            if not body.strip() or font is None:
                return
            assert (cm[0], cm[1], cm[2], cm[3]) == (1, 0, 0, 1) and (tm[0], tm[1], tm[2], tm[3]) == (1, 0, 0, 1), \
                "scaled or rotated text"
            name = str(font["/BaseFont"]).split("+", 1)[-1]
            width = pdfmetrics.stringWidth(body, name, size) + word_space[0] * body.count(" ")
            x, y = cm[4] + tm[4], cm[5] + tm[5]
            last = unit.lines[-1] if unit.lines else None
            if last and abs(last.baseline - y) < EPS:  # a change of font within the line: same start, read on
                last.x1 += width
                last.text += body
            else:
                unit.lines.append(Line(x, x + width, y, size, name, body))

        page.extract_text(visitor_operand_before=before, visitor_text=text)
        pages.append(units)
    return pages


def as_read(pages: list[list[Unit]], expected: list[str], row: list[str] | None = None) -> list[str]:
    """The PDF's texts in drawing order, less each page's number, the table header rows repeated atop a page and the
    per-sheet signature ``row`` at the foot of every page but the last (which must be there, and only there)."""
    out: list[str] = []
    for number, units in enumerate(pages, start=1):
        texts = [unit.text for unit in units if unit.text]
        if number > 1 and texts[:1] == [str(number)]:
            texts = texts[1:]
        if row and number < len(pages):
            assert texts[-len(row):] == row, f"page {number} is not signed: it ends with {texts[-len(row):]}"
            texts = texts[:-len(row)]
        resumes = next((k for k, text in enumerate(texts)
                        if len(out) < len(expected) and text == expected[len(out)]), 0)
        if number > 1 and resumes and _repeats(texts[:resumes], expected[:len(out)]):
            texts = texts[resumes:]
        out += texts
    return out


def first_difference(read: list[str], expected: list[str]) -> str:
    """Where the texts read first differ from those expected, for the assertion's message."""
    for index, (got, want) in enumerate(zip(read, expected, strict=False)):
        if got != want:
            at = next(i for i, (a, b) in enumerate(zip(got + "\0", want + "\0", strict=False)) if a != b)
            return f"text {index}, character {at}: read {got!r}, expected {want!r}"
    extra = read[len(expected):] or expected[len(read):]
    return f"read {len(read)} texts, expected {len(expected)}; the first left over: {extra[0]!r}"


def _repeats(run: list[str], seen: list[str]) -> bool:
    return any(seen[i:i + len(run)] == run for i in range(len(seen) - len(run) + 1))


# --- the source ------------------------------------------------------------------------------------------

def scopes_of(template: str, context: dict[str, Any], pages: int) -> list[dict[str, Any]]:
    """The scopes ``render_pdf`` lays a document of ``pages`` pages out with (``pages_total`` when counted)."""
    return [{"pages_total": pages}, context] if renderer._template(template).get("counts_pages") else [context]


def drawn_by_renderer(template: str, context: dict[str, Any], pages: int = 1) -> list[str]:
    """The texts ``render_pdf`` draws, as it records them for its glyph check: the NFC source."""
    renderer._fonts()
    layout = renderer._Layout(template, scopes_of(template, context, pages))
    renderer._story(layout, renderer._template(template))
    return layout.drawn


def sheet_row(template: str, context: dict[str, Any], pages: int = 1) -> list[str]:
    """The per-sheet signature labels of a ``sign_each_page`` template, as read (none for the others)."""
    labels = load_template(template).get("sign_each_page", [])
    return [squash(expand(label, scopes_of(template, context, pages), template=template)[1]) for label in labels]


def heading(template: str, context: dict[str, Any]) -> dict[str, str]:
    """The header's strings expanded from the template, in reading order."""
    header = load_template(template)["header"]
    return {key: expand(header[key], [context], template=template)[1] for key in HEADER_ORDER if key in header}


def expected_texts(template: str, context: dict[str, Any], pages: int = 1) -> list[str]:
    """The header in reading order, then the body's texts as the renderer drew them."""
    head = list(heading(template, context).values())
    drawn = drawn_by_renderer(template, context, pages)
    assert sorted(drawn[:len(head)]) == sorted(head), "the renderer no longer draws the header first"
    source = head + drawn[len(head):]
    assert all(unicodedata.is_normalized("NFC", text) for text in source)
    return [text for text in map(squash, source) if text]


# --- rendering -------------------------------------------------------------------------------------------

@dataclass
class Golden:
    template: str
    path: Path
    expected: list[str]
    heading: dict[str, str]
    pages: list[list[Unit]]
    portrait: bool
    row: list[str]

    @classmethod
    def render(cls, template: str, folder: Path) -> Golden:
        context = CONTEXTS[template]()
        doc = render_pdf(template, context, folder / f"{template}.pdf")
        portrait = load_template(template).get("orientation", "portrait") == "portrait"
        return cls(template, doc.path, expected_texts(template, context, doc.pages), heading(template, context),
                   read_units(doc.path), portrait, sheet_row(template, context, doc.pages))

    @property
    def size(self) -> tuple[float, float]:
        return A4 if self.portrait else (A4[1], A4[0])


def first_page_picture(pdf: Path) -> Image.Image:
    """The first page at 108 dpi in greyscale, rasterised by PDFium."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        return document[0].render(scale=SCALE, grayscale=True).to_pil().convert("L")
    finally:
        document.close()


def picture_difference(golden: Image.Image, fresh: Image.Image) -> str | None:
    """None when the pictures are the same pixel for pixel, else what differs."""
    if (golden.mode, golden.size) != (fresh.mode, fresh.size):
        return f"{golden.mode} {golden.size} != {fresh.mode} {fresh.size}"
    diff = ImageChops.difference(golden, fresh)
    if diff.getbbox() is None:
        return None
    differing = golden.size[0] * golden.size[1] - diff.histogram()[0]
    return f"{differing} pixels differ, within {diff.getbbox()}"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Golden]:
    folder = tmp_path_factory.mktemp("golden")
    return cache(partial(Golden.render, folder=folder))


# --- text ------------------------------------------------------------------------------------------------

def test_every_template_has_a_golden_context() -> None:
    assert sorted(path.stem for path in TEMPLATES_DIR.glob("*.toml")) == TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES)
def test_text_is_the_nfc_source(template: str, rendered: Callable[[str], Golden]) -> None:
    doc = rendered(template)
    read = as_read(doc.pages, doc.expected, doc.row)
    assert " ".join(read) == " ".join(doc.expected), first_difference(read, doc.expected)
    assert read == doc.expected, first_difference(read, doc.expected)  # and cut into the same paragraphs and cells
    raw = "".join(unit.raw for units in doc.pages for unit in units)
    assert "■" not in raw and "\ufffd" not in raw
    assert unicodedata.is_normalized("NFC", raw) and not [c for c in raw if unicodedata.combining(c)]


@pytest.mark.parametrize("template", TEMPLATES)
def test_no_guessed_honorific(template: str, rendered: Callable[[str], Golden]) -> None:
    """The engine records no one's sex: people are named without a guessed "Ông/Bà". (The sanction decision keeps
    form MQĐ02's own "ông (bà)" of its Article 3, the decree's wording.)"""
    text = squash(" ".join(unit.raw for units in rendered(template).pages for unit in units))
    assert not re.search(r"\b(?:Ông|Bà)\s*/\s*(?:Ông|Bà)\b", text, re.IGNORECASE)


def test_a_changed_character_fails_the_comparison(rendered: Callable[[str], Golden], tmp_path: Path) -> None:
    doc = rendered("bien_ban_kiem_tra")
    writer = PdfWriter(clone_from=PdfReader(doc.path))
    page = writer.pages[0]
    contents = page.get_contents()
    assert contents is not None and contents.get_data().count(b": 12/BB-KT)") == 1  # the number line
    contents.set_data(contents.get_data().replace(b"12/BB-KT", b"13/BB-KT"))
    page.replace_contents(contents)
    writer.write(tmp_path / "changed.pdf")
    read = as_read(read_units(tmp_path / "changed.pdf"), doc.expected)
    assert read != doc.expected
    assert [(a, b) for a, b in zip(read, doc.expected, strict=True) if a != b] == [("Số: 13/BB-KT", "Số: 12/BB-KT")]


# --- page ------------------------------------------------------------------------------------------------

def test_renderer_margins_are_within_the_decree() -> None:
    for side, (low, high) in DECREE_MARGINS.items():
        assert low * mm - EPS <= renderer.MARGINS[side] <= high * mm + EPS, side


@pytest.mark.parametrize("template", TEMPLATES)
def test_pages_are_a4(template: str, rendered: Callable[[str], Golden]) -> None:
    doc = rendered(template)
    for page in PdfReader(doc.path).pages:
        box = page.mediabox
        assert abs(float(box.width) - doc.size[0]) <= 0.5 and abs(float(box.height) - doc.size[1]) <= 0.5
        assert page.get("/Rotate", 0) == 0 and page.cropbox == box


@pytest.mark.parametrize("template", TEMPLATES)
def test_text_stays_within_the_margins(template: str, rendered: Callable[[str], Golden]) -> None:
    doc = rendered(template)
    width, height = doc.size
    left, right = renderer.MARGINS["left"], width - renderer.MARGINS["right"]
    top, bottom = height - renderer.MARGINS["top"], renderer.MARGINS["bottom"]
    for number, units in enumerate(doc.pages, start=1):
        in_top_margin = [unit for unit in units if unit.lines and unit.lines[0].baseline > top]
        if number == 1:
            assert not in_top_margin
        else:  # the page number, centred over the text, in the top margin
            assert [unit.text for unit in in_top_margin] == [str(number)]
            (line,) = in_top_margin[0].lines
            assert abs((line.x0 + line.x1) / 2 - (left + right) / 2) < 0.5 and top < line.bottom < line.top < height
        for unit in units:
            if unit in in_top_margin:
                continue
            for line in unit.lines:
                where = f"page {number}: {line.text!r}"
                assert left - EPS <= line.x0 and line.x1 <= right + EPS, where
                assert bottom - EPS <= line.bottom and line.top <= top + EPS, where


def test_every_sheet_but_the_last_is_signed_below_the_text(rendered: Callable[[str], Golden]) -> None:
    """Luật XLVPHC Art.58 cl.3: the row of signature labels at the foot of every page but the last, in its own strip
    between the body's text and the bottom margin, one label centred in each column; none on the last page."""
    doc = rendered("bien_ban_vi_pham")
    assert len(doc.pages) > 1 and doc.row == ["Đại diện tổ chức vi phạm", "Người lập biên bản"]
    left, width = renderer.MARGINS["left"], doc.size[0] - renderer.MARGINS["left"] - renderer.MARGINS["right"]
    for number, units in enumerate(doc.pages, start=1):
        texts = [unit for unit in units if unit.text]
        if number == len(doc.pages):
            assert [unit.text for unit in texts[-len(doc.row):]] != doc.row
            continue
        row, body = texts[-len(doc.row):], texts[:-len(doc.row)]
        assert [unit.text for unit in row] == doc.row
        lowest = min(line.bottom for unit in body for line in unit.lines)
        frame_bottom = renderer.MARGINS["bottom"] + renderer.SHEET_ROW
        assert lowest >= frame_bottom - EPS, f"page {number}: the body runs into the signature row"
        for index, unit in enumerate(row):
            (line,) = unit.lines
            assert renderer.MARGINS["bottom"] < line.bottom < line.top < frame_bottom
            assert abs((line.x0 + line.x1) / 2 - (left + width * (index + 0.5) / len(row))) < 0.5
            assert line.font == "LiberationSerif-Bold" and line.size == 12
        # room to sign beneath the labels: at least 10 mm down to the bottom margin
        assert min(line.bottom for unit in row for line in unit.lines) - renderer.MARGINS["bottom"] >= 10 * mm


@pytest.mark.parametrize("template", TEMPLATES)
def test_header_pairs_the_issuing_body_with_the_motto(template: str, rendered: Callable[[str], Golden]) -> None:
    doc = rendered(template)
    assert (doc.heading["motto"], doc.heading["motto_sub"]) == MOTTO
    assert doc.heading["number"].startswith("Số: ") or template == "danh_sach_co_so"  # an attachment: no number
    middle = renderer.MARGINS["left"] + renderer.HEADER_LEFT  # the header's two columns meet here
    first = {unit.text: unit.lines for unit in doc.pages[0] if unit.lines}
    for key, text in doc.heading.items():
        if text:
            lines = first[squash(text)]
            if key in ("parent", "body", "number"):
                assert max(line.x1 for line in lines) <= middle, key
            else:
                assert min(line.x0 for line in lines) >= middle, key


@pytest.mark.parametrize("template", TEMPLATES)
def test_font_sizes(template: str, rendered: Callable[[str], Golden]) -> None:
    doc = rendered(template)
    units = [unit for page in doc.pages for unit in page]
    assert {line.size for unit in units for line in unit.lines} <= {11, 12, 12.5, 13, 14}  # the decree's: 11 to 14
    text_left = renderer.MARGINS["left"] + FRAME_PADDING
    text_right = doc.size[0] - renderer.MARGINS["right"] - FRAME_PADDING

    def running(unit: Unit) -> bool:
        """A paragraph of the body: justified across the text width, lines after the first at its left edge."""
        return (len(unit.lines) > 1 and any(abs(line.x1 - text_right) < 0.5 for line in unit.lines)
                and min(abs(unit.lines[0].x0 - text_left), abs(unit.lines[0].x0 - text_left - INDENT)) < 0.5
                and all(abs(line.x0 - text_left) < 0.5 for line in unit.lines[1:]))

    body = [line for unit in units if running(unit) for line in unit.lines]
    assert len(body) >= 4
    assert {line.size for line in body} <= {13, 14}, [line.text for line in body if line.size not in (13, 14)]


@pytest.mark.parametrize("template", TEMPLATES)
def test_only_liberation_serif_embedded(template: str, rendered: Callable[[str], Golden]) -> None:
    pages = PdfReader(rendered(template).path).pages
    fonts = [font.get_object() for page in pages for font in page["/Resources"]["/Font"].values()]
    assert fonts
    for font in fonts:
        name = str(font["/BaseFont"])
        assert re.fullmatch(r"/[A-Z]{6}\+LiberationSerif(-Bold|-Italic|-BoldItalic)?", name), name
        assert not any(standard in name for standard in STANDARD_14), name
        assert font["/Subtype"] == "/TrueType" and "/FontFile2" in font["/FontDescriptor"], name


# --- picture ---------------------------------------------------------------------------------------------

def test_every_picture_is_of_a_template() -> None:
    assert sorted(path.stem for path in GOLDEN.glob("*.png")) == TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES)
def test_first_page_is_the_golden_picture(template: str, rendered: Callable[[str], Golden]) -> None:
    pytest.importorskip("pypdfium2", reason="the dev dependency pypdfium2 rasterises the pictures")
    fresh = first_page_picture(rendered(template).path)
    with Image.open(GOLDEN / f"{template}.png") as golden:
        golden.load()
    difference = picture_difference(golden, fresh)
    assert difference is None, (f"{template}: {difference}; if intended, run "
                                "`.venv/bin/python -m tests.unit.test_documents_golden --update` and look at the picture")


# --- NĐ 30/2020 rules the renderer holds (not the eye) ----------------------------------------------------

def render_units(template: str, context: dict[str, Any], folder: Path, name: str = "doc") -> list[list[Unit]]:
    return read_units(render_pdf(template, context, folder / f"{name}.pdf").path)


def page_texts(units: list[Unit], number: int) -> list[str]:
    """A page's texts, less its page number."""
    texts = [unit.text for unit in units if unit.text]
    return texts[1:] if number > 1 and texts[:1] == [str(number)] else texts


def test_numbers_take_a_leading_zero(tmp_path: Path) -> None:
    from services.documents.issuing import format_number

    assert [format_number(n, "QĐ-UBND") for n in (1, 9, 10, 123)] == [
        "01/QĐ-UBND", "09/QĐ-UBND", "10/QĐ-UBND", "123/QĐ-UBND"]
    pages = render_units("quyet_dinh_kiem_tra", create_decision(number=format_number(1, "QĐ-UBND")), tmp_path)
    assert "Số: 01/QĐ-UBND" in page_texts(pages[0], 1)


def bases_of(pages: list[list[Unit]]) -> list[Unit]:
    return [unit for units in pages for unit in units if unit.text.startswith(("Căn cứ", "Theo đề nghị"))]


def test_bases_are_italic_each_ending_with_a_semicolon_the_last_with_a_full_stop(tmp_path: Path) -> None:
    context = create_decision()
    bases = bases_of(render_units("quyet_dinh_kiem_tra", context, tmp_path))
    expected = ["Căn cứ Luật Tổ chức chính quyền địa phương ngày 16 tháng 6 năm 2025;",
                *[squash(f"Căn cứ {basis};") for basis in context["campaign"]["legal_basis"]],
                "Căn cứ Kế hoạch kiểm tra liên ngành KT-2026-01 (Kiểm tra liên ngành về an toàn, vệ sinh lao động "
                "năm 2026);", "Theo đề nghị của Giám đốc Sở Nội vụ."]
    assert [unit.text for unit in bases] == expected
    assert all(line.font == "LiberationSerif-Italic" for unit in bases for line in unit.lines)
    del context["proposed_by"]  # the last line shown takes the full stop, whichever it is
    bases = bases_of(render_units("quyet_dinh_kiem_tra", context, tmp_path, "without"))
    assert bases[-1].text.endswith("năm 2026).") and all(unit.text.endswith(";") for unit in bases[:-1])


def test_bases_set_the_punctuation_whatever_the_template_and_the_data_say(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    renderer._fonts()
    (tmp_path / "nd30_bases.toml").write_text('''version = "t"
title = "t"
[header]
body = "SỞ NỘI VỤ"
number = "Số: 01/KH-SNV"
place_date = "Cao Bằng"
motto = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
motto_sub = "Độc lập - Tự do - Hạnh phúc"
[[body]]
kind = "bases"
items = ["Căn cứ Luật A,", { each = "laws", text = "Căn cứ {item};" }, { when = "never?", text = "Căn cứ X" },
         "Căn cứ **B** & C:"]
''', encoding="utf-8")
    monkeypatch.setattr(renderer, "TEMPLATES_DIR", tmp_path)
    laws = ["Nghị định số 1/2020 (sửa đổi).", "Thông tư số 2 & 3 ;", "Chỉ thị số 4 <x>"]
    bases = bases_of(render_units("nd30_bases", {"laws": laws}, tmp_path))
    assert [unit.text for unit in bases] == [
        "Căn cứ Luật A;", "Căn cứ Nghị định số 1/2020 (sửa đổi);", "Căn cứ Thông tư số 2 & 3;",
        "Căn cứ Chỉ thị số 4 <x>;", "Căn cứ B & C."]
    assert {line.font for unit in bases for line in unit.lines} == {"LiberationSerif-Italic"}


SIGNED = ("Nơi nhận:", "TRƯỞNG ĐOÀN", "Nông Thị Hường")


@pytest.mark.parametrize(("template", "grow", "last"), [
    ("thong_bao_kiem_tra", lambda n: create_notice(documents_to_prepare=[f"Hồ sơ, tài liệu số {i}" for i in range(n)]),
     "Trường hợp có thay đổi hoặc cần trao đổi thêm"),
    ("ke_hoach_kiem_tra", lambda n: create_plan(schedule=schedule_rows(n)), "3. Trong quá trình thực hiện"),
])
def test_the_signature_never_stands_alone_on_a_page(template: str, grow: Callable[[int], dict[str, Any]], last: str,
                                                    tmp_path: Path) -> None:
    carried = 0
    for n in range(0, 44, 1 if template == "thong_bao_kiem_tra" else 3):
        pages = render_units(template, grow(n), tmp_path, f"{template}-{n}")
        texts = [page_texts(units, number) for number, units in enumerate(pages, start=1)]
        signed = [number for number, page in enumerate(texts) if any(t in SIGNED[:2] for t in page)]
        assert len(signed) == 1, (n, signed)  # the block (Nơi nhận and the signer) on one page
        page = texts[signed[0]]
        assert page[-3:] == ["- Lưu: VT, ĐKT.", *SIGNED[1:]], (n, page)
        others = page[:page.index("Nơi nhận:")]
        assert others and any(t.startswith(last) for t in others), (n, page)  # with the last paragraph
        carried += page[0].startswith(last) and signed[0] > 0
    assert carried, "no length pushed the signature to a new page: the test proves nothing"


def signature_lines(pages: list[list[Unit]], after: str) -> list[str]:
    texts = [unit.text for unit in pages[-1] if unit.text]
    return texts[texts.index(after) + 1:]


@pytest.mark.parametrize(("signer", "on_behalf", "lines"), [
    ({"title": "Chủ tịch"}, "", ["CHỦ TỊCH"]),
    ({"title": "Phó Chủ tịch", "for_title": "Chủ tịch"}, "", ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]),
    ({"title": "Chủ tịch"}, "Ủy ban nhân dân", ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]),
    ({"title": "Phó Chủ tịch", "for_title": "Chủ tịch"}, "Ủy ban nhân dân",
     ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]),
])
def test_signer_lines_per_title(signer: dict[str, str], on_behalf: str, lines: list[str], tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    template = "quyet_dinh_kiem_tra"
    if on_behalf:  # a collective body's decision: the template says so on the signer line
        renderer._fonts()
        source = (TEMPLATES_DIR / f"{template}.toml").read_text(encoding="utf-8")
        template = "nd30_collective"
        (tmp_path / f"{template}.toml").write_text(
            source.replace('{ signer = "signer" }', f'{{ signer = "signer", on_behalf = "{on_behalf}" }}'),
            encoding="utf-8")
        monkeypatch.setattr(renderer, "TEMPLATES_DIR", tmp_path)
    context = create_decision(signer={"full_name": "Lê Hải Hòa", **signer})
    assert signature_lines(render_units(template, context, tmp_path), "- Lưu: VT, SNV.") == [*lines, "Lê Hải Hòa"]


@pytest.mark.parametrize(("template", "issuer", "key", "expected"), [
    ("quyet_dinh_kiem_tra", {"name": "Ủy ban nhân dân tỉnh Cao Bằng"}, "body",
     ["ỦY BAN NHÂN DÂN", "TỈNH CAO BẰNG"]),
    ("quyet_dinh_kiem_tra", {"name": "Ủy ban nhân dân thành phố Hồ Chí Minh"}, "body",
     ["ỦY BAN NHÂN DÂN", "THÀNH PHỐ HỒ CHÍ MINH"]),
    ("thong_bao_kiem_tra", {"parent_name": "Ủy ban nhân dân tỉnh Cao Bằng",
                            "name": "Sở Lao động - Thương binh và Xã hội tỉnh Cao Bằng"}, "parent",
     ["ỦY BAN NHÂN DÂN", "TỈNH CAO BẰNG"]),
])
def test_the_header_never_breaks_inside_the_place_name(template: str, issuer: dict[str, str], key: str,
                                                       expected: list[str], tmp_path: Path) -> None:
    context = CONTEXTS[template]()
    context["issuer"] = {**context["issuer"], **issuer}
    pages = render_units(template, context, tmp_path)
    header = heading(template, context)
    for name in ("parent", "body"):
        if not header.get(name):
            continue
        (unit,) = [unit for unit in pages[0] if unit.text == squash(header[name])]
        lines = [squash(line.text) for line in unit.lines]
        assert not any(line.endswith(("CAO", "HỒ", "HỒ CHÍ")) for line in lines), lines
        if name == key:
            assert lines == expected
    body = [unit for unit in pages[0] if unit.text == squash(header["body"])][0]
    assert "TỈNH CAO BẰNG" in squash(body.lines[-1].text) or "CAO BẰNG" not in body.text


# --- regenerating the pictures ---------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check, or with --update rewrite, tests/golden/<template>.png.")
    parser.add_argument("--update", action="store_true", help="write the pictures that differ")
    args = parser.parse_args(argv)
    changed = 0
    GOLDEN.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        for template in TEMPLATES:
            doc = render_pdf(template, CONTEXTS[template](), Path(folder) / f"{template}.pdf")
            fresh, target = first_page_picture(doc.path), GOLDEN / f"{template}.png"
            difference = "missing"
            if target.exists():
                with Image.open(target) as golden:
                    difference = picture_difference(golden, fresh) or ""
            if difference:
                changed += 1
                if args.update:
                    fresh.save(target, optimize=True)
            state = "same" if not difference else "written" if args.update else f"differs ({difference})"
            print(f"{target.relative_to(GOLDEN.parents[1])}: {state}")  # noqa: T201
    return 0 if args.update or not changed else 1


if __name__ == "__main__":
    sys.exit(main())
