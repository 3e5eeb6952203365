"""The renderer never fails on a character (issue 13, point 1): one sample of every class of character, in a paragraph,
a table cell, a bold title and a string drawn on the canvas (the per-sheet signature row), comes out as text a reader
can copy; what Liberation Serif lacks is drawn in a shipped fallback font, embedded only when used, and a character no
font has is printed as a legible placeholder."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

from services.documents import fonts, render_pdf
from services.documents import render as renderer
from services.settings import TEMPLATES_DIR

# the Vietnamese letters with a diacritic: 12 vowels × 5 tones, ă â ê ô ơ ư and đ, in each case: 134 precomposed
_TONED = [unicodedata.normalize("NFC", v + tone) for v in "aăâeêioôơuưy" for tone in "\u0300\u0301\u0309\u0303\u0323"]
VIETNAMESE = "".join(_TONED) + "ăâêôơưđ" + "".join(_TONED).upper() + "ĂÂÊÔƠƯĐ"
SAMPLES = {
    "vietnamese": VIETNAMESE,
    "latin-1": "¡¿ÆÐØÞßæðøþ§¶«»°±×÷©®",
    "punctuation": "‘’“”–—…•‰′″‹›",
    "arrows": "←↑→↓↔⇒⇔",
    "math": "∀∂∃∅∇∈∑√∞≈≠≤≥",
    "box drawing": "─│┌┐└┘├┼═║╔╗",
    "dingbats": "✓✗✔✘★☐☑",
    "currency": "₫€£¥₹",
    "cjk": "中文漢字日本語",
    "hangul": "한국어",
    "emoji": "😀👍🏽🧿",
    "emoji zwj sequence": "👨\u200d👩\u200d👧",
    "flag": "🇻🇳",
    "combining marks": "q\u0301 x\u0323",
    "arabic": "مرحبا",
    "hebrew": "שלום",
}
NO_FONT = "\U00013000"  # EGYPTIAN HIEROGLYPH A001: assigned, and in none of the shipped fonts
TEMPLATE = '''version = "t"
title = "t"
sign_each_page = ["{label}"]
[header]
body = "SỞ NỘI VỤ"
number = "Số: 01/BB"
place_date = "Cao Bằng"
motto = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
motto_sub = "Độc lập - Tự do - Hạnh phúc"
[[body]]
kind = "title"
lines = ["{heading}"]
[[body]]
kind = "table"
each = "rows"
columns = [{ header = "Lớp ký tự", cell = "{kind}" }, { header = "Mẫu", cell = "{text}" }]
[[body]]
kind = "paragraph"
text = "Ghi chú: {note}"
[[body]]
kind = "spacer"
height = 180
[[body]]
kind = "paragraph"
text = "Hết."
'''


def squash(text: str) -> str:
    """Extracted text as compared: NFC, without whitespace and without the invisible joiners a PDF does not keep."""
    return "".join(c for c in unicodedata.normalize("NFC", text) if not c.isspace() and not fonts.ignorable(c))


def extracted(path: Path) -> str:
    """The text a reader copies out of the PDF (through each font's ToUnicode map)."""
    return " ".join(page.extract_text() or "" for page in PdfReader(path).pages)


def embedded_fonts(path: Path) -> set[str]:
    """The fonts embedded in the PDF, subset prefixes dropped (what ``pdffonts`` lists)."""
    names = set()
    for page in PdfReader(path).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]).lstrip("/").split("+", 1)[-1])
    return names


@pytest.fixture
def template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    renderer._fonts()  # from the real folder, before it is switched
    (tmp_path / "every_character.toml").write_text(TEMPLATE, encoding="utf-8")
    monkeypatch.setattr(renderer, "TEMPLATES_DIR", tmp_path)
    return "every_character"


SHEET_LABEL = "Đại diện ✓ 中文 한 😀 🇻🇳 ש"


def context(text: str, label: str = SHEET_LABEL, *, rows: bool = True) -> dict[str, object]:
    return {"label": label, "heading": text, "note": text,
            "rows": [{"kind": kind, "text": sample} for kind, sample in SAMPLES.items()] if rows else []}


def test_the_samples_are_what_they_claim() -> None:
    assert len(set(VIETNAMESE)) == 134 and all(len(unicodedata.normalize("NFD", c)) > 1 for c in VIETNAMESE
                                               if c not in "đĐ")
    chain = fonts.chain(TEMPLATES_DIR / "fonts")
    assert NO_FONT not in chain.printable and unicodedata.category(NO_FONT) == "Lo"
    lacking = {kind: [c for c in sample if c not in chain.primary and not fonts.ignorable(c)]
               for kind, sample in SAMPLES.items()}
    for kind in ("dingbats", "cjk", "hangul", "emoji", "flag", "arabic"):
        assert lacking[kind], f"{kind}: Liberation Serif draws them all, the sample tests no fallback"
    assert not [c for sample in SAMPLES.values() for c in sample if c not in chain.printable and not fonts.ignorable(c)]


def test_every_class_of_character_is_printed_and_extractable(template: str, tmp_path: Path) -> None:
    everything = " ".join(SAMPLES.values())
    doc = render_pdf(template, context(f"{everything} {NO_FONT} \x00", label=f"{SHEET_LABEL} {NO_FONT}"),
                     tmp_path / "all.pdf")
    assert doc.pages >= 2  # every page but the last carries the canvas-drawn sheet row
    text = squash(extracted(doc.path))
    assert "■" not in text and "\ufffd" not in text
    for kind, sample in SAMPLES.items():
        for piece in sample.split():
            # the bold title, the paragraph (the table row too): at least twice
            assert text.count(squash(piece)) >= 2, (kind, piece)
    assert text.count("[U+13000]") == 3 and text.count("[U+0000]") == 2  # title, paragraph (and the sheet row)
    assert squash(SHEET_LABEL) in text


def test_every_class_of_character_drawn_on_the_canvas(tmp_path: Path) -> None:
    from reportlab.pdfgen.canvas import Canvas

    chain = renderer._fonts()
    pieces = [(kind, piece) for kind, sample in SAMPLES.items() for piece in re.findall(r"\S{1,40}", sample)]
    path = tmp_path / "drawn.pdf"
    canvas = Canvas(str(path), invariant=1)
    for line, (_, piece) in enumerate([*pieces, ("none", f"x{NO_FONT}\x07y")]):
        chain.draw(canvas, 40, 800 - 18 * line, piece, f"{fonts.PRIMARY}-Bold", 12, centred=line % 2 == 1)
    canvas.save()
    text = squash(extracted(path))
    assert "■" not in text
    for kind, piece in pieces:
        assert squash(piece) in text, (kind, piece)
    assert "x[U+13000][U+0007]y" in text


def test_a_fallback_font_is_embedded_only_when_used(template: str, tmp_path: Path) -> None:
    plain = render_pdf(template, context("Công ty An Toàn", "Đại diện", rows=False), tmp_path / "plain.pdf")
    liberation = {"LiberationSerif", "LiberationSerif-Bold", "LiberationSerif-Italic"}
    assert embedded_fonts(plain.path) == liberation
    symbols = render_pdf(template, context("Công ty An Toàn ✓", "Đại diện", rows=False), tmp_path / "symbols.pdf")
    assert embedded_fonts(symbols.path) == liberation | {"FreeSerif"}
    everything = render_pdf(template, context(" ".join(SAMPLES.values())), tmp_path / "all.pdf")
    assert {"FreeSerif", "NotoEmoji-Regular", "DroidSansFallback"} <= embedded_fonts(everything.path)


def test_the_same_text_gives_the_same_bytes(template: str, tmp_path: Path) -> None:
    first = render_pdf(template, context(" ".join(SAMPLES.values())), tmp_path / "a.pdf")
    second = render_pdf(template, context(" ".join(SAMPLES.values())), tmp_path / "b.pdf")
    assert first.sha256 == second.sha256


def test_runs_and_placeholders() -> None:
    chain = fonts.chain(TEMPLATES_DIR / "fonts")
    # U+061C ARABIC LETTER MARK: invisible, and no font has it: left out
    assert chain.runs("Đạt ✓ 中文\u061c") == [("", "Đạt "), ("FreeSerif", "✓"), ("", " "),
                                              ("DroidSansFallback", "中文")]
    assert chain.runs("a\x1bb") == [("", "a[U+001B]b")]
    assert chain.markup("<b>Đạt ✓</b> &amp; 😀") == ('<b>Đạt <font name="FreeSerif">✓</font></b> &amp; '
                                                    '<font name="NotoEmoji">😀</font>')
    assert chain.in_primary("Tổ ✓") == "Tổ [U+2713]"
    assert re.fullmatch(r"\[U\+[0-9A-F]{4,6}\]", fonts.placeholder(NO_FONT))
    # right to left: drawn in visual order (a reader reads it from the right), a mark after its letter
    assert chain.runs("Tên שלום עולם 12") == [("", "Tên םלוע םולש 12")]
    assert fonts.visual("a מִי b") == "a ימִ b"


def test_the_selection_list_prints_a_name_the_registry_now_accepts(tmp_path: Path) -> None:
    """Issue 13: a name ending in "✓" passed the registry import and then stopped ``selection export``."""
    from tests.unit.test_selection_documents import create_context as selection_context

    context = selection_context(n=12)
    context["rows"][0]["name"] = "Công ty TNHH An Toàn ✓ 中文 😀"
    doc = render_pdf("danh_sach_co_so", context, tmp_path / "ds.pdf")
    assert squash("Công ty TNHH An Toàn ✓ 中文 😀") in squash(extracted(doc.path))


def test_the_policy_accepts_exactly_what_the_chain_prints() -> None:
    """templates/fonts/printable.txt (what the text policy reads) is the chain's coverage: after a font changes,
    ``services.documents.fonts.write_printable(TEMPLATES_DIR / "fonts")`` writes it again."""
    folder = TEMPLATES_DIR / "fonts"
    listed = fonts.printable_points(folder)
    assert list(listed.ranges) == fonts.ranges_of(fonts.chain(folder).printable)
    assert "✓" in listed and "中" in listed and "😀" in listed and "ệ" in listed
    assert NO_FONT not in listed and "\x00" not in listed and "\ue000" not in listed


CHART_TEMPLATE = '''version = "t"
title = "t"
[header]
body = "SỞ NỘI VỤ"
number = "Số: 01/BC"
place_date = "Cao Bằng"
motto = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
motto_sub = "Độc lập - Tự do - Hạnh phúc"
[[body]]
kind = "chart"
each = "bars"
label = "{name}"
series = [{ name = "Số cơ sở ✓", value = "count" }, { name = "Vi phạm", value = "other" }]
'''


def test_a_chart_label_never_stops_the_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chart draws each label in one face: what Liberation Serif lacks there is printed as its placeholder."""
    renderer._fonts()
    (tmp_path / "chart_chars.toml").write_text(CHART_TEMPLATE, encoding="utf-8")
    monkeypatch.setattr(renderer, "TEMPLATES_DIR", tmp_path)
    bars = [{"name": "Xã Quảng Lâm ✓", "count": 3, "other": 1}, {"name": "中文 \x00", "count": 2, "other": 0}]
    doc = render_pdf("chart_chars", {"bars": bars}, tmp_path / "chart.pdf")
    text = squash(extracted(doc.path))
    assert squash("Xã Quảng Lâm [U+2713]") in text and "[U+4E2D][U+6587][U+0000]" in text
    assert squash("Số cơ sở [U+2713]") in text and "■" not in text
