"""The one layout renderer: a TOML template (wording) + a context (data) -> a PDF laid out per NĐ 30/2020.

A template (``templates/<name>.toml``) has ``version``, ``title`` (PDF metadata), optionally
``orientation`` (``"portrait"``, the default, or ``"landscape"`` for a wide table, as an attached list), a
``[header]`` (parent body, issuing body, number line, place and date, national motto) and ``[[body]]``
blocks, each with a ``kind``:

- ``title``: ``lines`` centred in bold (``rule = true`` draws the short line beneath);
- ``paragraph``: ``text`` (``align``: justify|left|center|right, ``indent``: first-line indent,
  ``keep_with_next``: a heading, moved to the next page when less than 30 mm remain below it, or the
  number of mm given: the room the first lines of a tall table need);
- ``list``: one ``text`` (or several ``lines``) per item of the list at ``each``, optionally only the items
  where ``where`` is truthy; ``empty`` is printed when no item is left;
- ``table``: ``columns`` (``header``, ``cell``, ``width``, ``align``) over the list at ``each``; a column
  with ``below = true`` is drawn on its own line under the item's other cells, across all but the first
  column (which spans the item's lines, so an item never splits across pages): a long text such as the
  reasons of a selection gets the page's width;
- ``bases``: the căn cứ lines (NĐ 30/2020), one per entry of ``items``: a string, or a table with ``text`` and
  optionally ``when``/``unless``, or ``each`` (and ``where``) for one line per item of a list. Each line is drawn
  in italics; the renderer sets the punctuation: whatever ";", "," or "." a line ends with is replaced, every line
  but the last ends with ";", the last with ".". ``items = ["Căn cứ Luật …", { each = "campaign.legal_basis",
  text = "Căn cứ {item}" }]``;
- ``signatures``: side-by-side ``columns`` of ``lines`` (``text``, ``size``, ``space`` in mm before). A line
  ``{ signer = "signer" }`` draws the signer's title lines in bold capitals, per NĐ 30/2020: the title alone when
  the head signs ("CHỦ TỊCH"), "KT. <head's title>" above it when a deputy signs for the head (the signer has
  ``for_title``: "KT. CHỦ TỊCH" / "PHÓ CHỦ TỊCH"), and, with ``on_behalf = "Ủy ban nhân dân"`` on the line (a
  collective body's decision, said by the template), "TM. ỦY BAN NHÂN DÂN" first. The signer at that path has
  ``title`` (the signing person's own title: "Chủ tịch", "Phó Chủ tịch", "Trưởng đoàn") and optionally
  ``for_title``. The block is kept on one page with the paragraph before it (and that paragraph's heading), so no
  page holds only the signatures or only "Nơi nhận";
- ``spacer``: ``height`` in mm;
- ``repeat``: the ``blocks`` (a list of blocks, as in ``body``) once per item of the list at ``each``
  (``where`` and ``empty`` as for a list), the item's scope pushed: e.g. a heading and a table per team;
- ``chart``: a bar chart over the list at ``each`` (``where``, ``empty`` as for a list): ``label`` (text) names
  each bar's category, ``series`` (``name``, ``value``: a path in the item, a number or none) its values;
  ``orientation`` horizontal (default: categories down the left) or vertical, ``height`` in mm (default: from
  the number of bars), ``decimals`` of the value labels (0), ``caption`` centred in italics beneath. Drawn by
  :mod:`services.documents.charts` in the document font: every label is extractable text.

Two top-level options, for records signed sheet by sheet (Luật XLVPHC Art.58 cl.3: a record of several sheets is
signed on each sheet by the people who sign it):

- ``sign_each_page``: a list of labels (text, expanded with the context: ``["{establishment.signer_label_vi}",
  "Người lập biên bản"]``), drawn in a row of equal columns at the foot of every page but the last (the last carries
  the full signature block), each with room to sign beneath. The row has a strip of its own above the bottom margin
  (``SHEET_ROW``): the text frame of such a template ends that much higher, so the body never runs into the row and
  the NĐ 30 margins hold;
- ``counts_pages = true``: the context gets ``pages_total``, the number of pages (sheets) of the document ("gồm
  {pages_total|pad} tờ"). The count is only known after layout: the document is laid out with ``pages_total = 1``
  and laid out again with the count found, until the count it states is the count it has (one layout for a one-page
  record; a dropped layout is never written out, about half the cost of a render). Only templates that ask pay for
  it; the same context still gives the same bytes. Page counts are written with ``pad`` (all digits are as wide in
  Liberation Serif), so the count stated never changes the layout: two layouts at most.

Any block may carry ``when``/``unless`` (a path, truthy test) and ``space_before`` (pt). Inside a list or a
table the item's keys, ``item``, ``loop.index``/``loop.count`` (after ``where``) and ``loop.number`` (position
in the whole list) are in scope before the whole context.
The placeholder language and the errors are described in :mod:`services.documents.format`; this module
adds the formatters ``decimal`` (30 -> 30, 2.5 -> 2,5; ``decimal:1`` for one place) and ``pad`` (a whole number
with leading zeros: 3 -> 03, as counts are written in records; ``pad:3`` -> 003).
"""
from __future__ import annotations

import copy
import hashlib
import re
import threading
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, partial
from io import BytesIO
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    HRFlowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from services.documents import fonts as font_chain
from services.documents.charts import bar_chart, drawn_texts, fixed_vi
from services.documents.storage import write_atomic
from services.documents.format import FORMATTERS, expand, nfc, parse, parse_path, resolve
from services.errors import TemplateError
from services.documents.selection_list import decimal_vi
from services.settings import TEMPLATES_DIR

MARGINS = {"top": 20 * mm, "bottom": 20 * mm, "left": 30 * mm, "right": 15 * mm}
FRAME_WIDTH = A4[0] - MARGINS["left"] - MARGINS["right"]
HEADER_LEFT = 70 * mm
ALL = ((0, 0), (-1, -1))
KEEP_WITH_NEXT = 30 * mm  # room a heading needs below it, else it starts the next page
FONT = font_chain.PRIMARY
_ALIGN = {"justify": TA_JUSTIFY, "left": TA_LEFT, "center": TA_CENTER, "right": TA_RIGHT}
_PAGE_SIZES = {"portrait": A4, "landscape": landscape(A4)}

# A Vietnamese decimal (scores, points). It belongs with the others in format.FORMATTERS; registered here
# until it moves there, before any template is parsed (templates are only parsed through this module).
FORMATTERS.setdefault("decimal", lambda v, a: decimal_vi(v, int(a) if a else 2))


def _pad(value: Any, digits: str | None) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {value!r}")
    return f"{value:0{int(digits) if digits else 2}d}"


FORMATTERS.setdefault("pad", _pad)
SHEET_ROW = 17 * mm  # the strip above the bottom margin where every sheet but the last is signed (sign_each_page)
_SHEET_LABEL = 12.0  # pt, down to 11 for a long label
_SHEET_BASELINE = 5 * mm  # below the top of the strip; the rest of it is room to sign
_PASSES = 4  # layouts of a counts_pages template before the count it states must be the count it has


@dataclass(frozen=True)
class RenderedDocument:
    path: Path
    sha256: str
    pages: int
    size: int


# --- fonts (registered once, on first render) ----------------------------------------------------------

_font_lock = threading.Lock()
_chain: font_chain.FontChain | None = None


def _fonts() -> font_chain.FontChain:
    """Register the font chain (Liberation Serif, then its fallbacks: :mod:`services.documents.fonts`) from the
    templates folder of the first render; every later render draws with it."""
    global _chain
    with _font_lock:
        if _chain is None:
            _chain = font_chain.chain(TEMPLATES_DIR / "fonts")
        return _chain


def _paragraph_of(markup: str, style: ParagraphStyle) -> Paragraph:
    """Every Paragraph of a document: what Liberation Serif lacks is drawn in a fallback font, never as a box."""
    return Paragraph(_fonts().markup(markup), style)


def _style(size: float = 13, align: str = "justify", indent: bool = False, *, bold: bool = False,
           italic: bool = False, after: float = 6) -> ParagraphStyle:
    face = FONT + ("-BoldItalic" if bold and italic else "-Bold" if bold else "-Italic" if italic else "")
    return ParagraphStyle(f"{face}-{size}-{align}-{indent}-{after}", fontName=face, fontSize=size,
                          leading=round(size * 1.25, 2), alignment=_ALIGN[align],
                          firstLineIndent=10 * mm if indent else 0, spaceAfter=after)


# --- templates -----------------------------------------------------------------------------------------

_COMMON = {"kind", "when", "unless", "space_before"}
_BASIS_END = ";,.:"  # what a căn cứ line may end with in the template or the data: the renderer sets it
_KINDS: dict[str, set[str]] = {
    "title": {"lines", "rule", "size"},
    "paragraph": {"text", "align", "indent", "keep_with_next"},
    "list": {"each", "where", "text", "lines", "empty", "align", "indent"},
    "table": {"each", "where", "columns", "empty", "size"},
    "signatures": {"columns"},
    "bases": {"items"},
    "spacer": {"height"},
    "repeat": {"each", "where", "blocks", "empty"},
    "chart": {"each", "where", "label", "series", "orientation", "height", "decimals", "caption", "empty"},
}
_NESTED = {"columns": {"header", "cell", "width", "align", "lines", "below"},
           "lines": {"text", "size", "space", "when", "unless", "signer", "on_behalf"},
           "items": {"text", "each", "where", "when", "unless"}, "series": {"name", "value"}}
_HEADER = {"parent", "body", "number", "place_date", "motto", "motto_sub"}
_PATH_KEYS = {"each", "where", "when", "unless", "signer"}


def _check(name: str, where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = set(table) - allowed
    if unknown:
        raise TemplateError(f"khóa không hợp lệ {sorted(unknown)} tại {where}", template=name)
    for key, value in table.items():
        try:
            if key in _PATH_KEYS:
                parse_path(value)
            elif isinstance(value, str):
                parse(value)
        except (ValueError, TypeError) as exc:
            raise TemplateError(f"{where}.{key}: {exc}", template=name) from exc
        items = value if isinstance(value, list) and key != "blocks" else []  # blocks: see _check_block
        for i, item in enumerate(items):
            if isinstance(item, dict):
                _check(name, f"{where}.{key}[{i}]", item, _NESTED.get(key, set()))
            elif isinstance(item, str):
                _check(name, f"{where}.{key}[{i}]", {"text": item}, {"text"})


def _validate(name: str, spec: dict[str, Any]) -> None:
    for key in ("version", "title", "header", "body"):
        if key not in spec:
            raise TemplateError(f"thiếu khóa '{key}'", template=name, key=key)
    if spec.get("orientation", "portrait") not in _PAGE_SIZES:
        raise TemplateError(f"orientation không hợp lệ {spec['orientation']!r} (portrait|landscape)",
                            template=name, key="orientation")
    if not isinstance(spec["header"], dict) or not isinstance(spec["body"], list) or not all(
            isinstance(block, dict) for block in spec["body"]):
        raise TemplateError("'header' phải là bảng, 'body' là danh sách bảng ([[body]])", template=name)
    _check(name, "header", spec["header"], _HEADER)
    missing = _HEADER - {"parent"} - set(spec["header"])
    if missing:
        raise TemplateError(f"header thiếu {sorted(missing)}", template=name)
    for i, block in enumerate(spec["body"]):
        _check_block(name, f"body[{i}]", block)
    if not isinstance(spec.get("counts_pages", False), bool):
        raise TemplateError("'counts_pages' phải là true hoặc false", template=name, key="counts_pages")
    labels = spec.get("sign_each_page", [])
    if not isinstance(labels, list) or not all(isinstance(label, str) and label.strip() for label in labels):
        raise TemplateError("'sign_each_page' phải là danh sách nhãn (chuỗi)", template=name, key="sign_each_page")
    for i, label in enumerate(labels):
        _check(name, f"sign_each_page[{i}]", {"text": label}, {"text"})


def _check_block(name: str, where: str, block: Any) -> None:
    kind = block.get("kind") if isinstance(block, dict) else None
    if kind not in _KINDS:
        raise TemplateError(f"{where}: kind không hợp lệ {kind!r}", template=name)
    _check(name, where, block, _COMMON | _KINDS[kind])
    if kind == "repeat":
        blocks = block.get("blocks")
        if "each" not in block or not isinstance(blocks, list) or not blocks:
            raise TemplateError(f"{where}: 'repeat' cần 'each' và 'blocks' ([[...blocks]])", template=name)
        for j, inner in enumerate(blocks):
            _check_block(name, f"{where}.blocks[{j}]", inner)


@cache
def _template(name: str) -> dict[str, Any]:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise TemplateError(f"tên mẫu không hợp lệ: {name!r}", template=name)
    path = TEMPLATES_DIR / f"{name}.toml"
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TemplateError(f"không có tệp mẫu {path}", template=name) from exc
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"TOML lỗi: {exc}", template=name) from exc
    _validate(name, spec)
    return spec


def load_template(name: str) -> dict[str, Any]:
    """The parsed, validated template (a copy of the cached one)."""
    return copy.deepcopy(_template(name))


def template_version(name: str) -> str:
    return str(_template(name)["version"])


# --- layout ----------------------------------------------------------------------------------------------

@dataclass
class _Layout:
    """One render: the template name, the scope stack, the text drawn (what the goldens compare), the frame width."""

    template: str
    scopes: list[Mapping[str, Any]]
    drawn: list[str] = field(default_factory=list)
    width: float = FRAME_WIDTH

    def text(self, source: str) -> str:
        markup, plain = expand(source, self.scopes, template=self.template)
        self.drawn.append(plain)
        return markup

    def para(self, source: str, style: ParagraphStyle) -> Paragraph:
        return _paragraph_of(self.text(source), style)

    def value(self, path: str) -> Any:
        clean, optional = parse_path(path)
        return resolve(self.scopes, clean, optional=optional, template=self.template)

    def shown(self, block: Mapping[str, Any]) -> bool:
        return ("when" not in block or bool(self.value(block["when"]))) and (
            "unless" not in block or not self.value(block["unless"]))

    def items(self, block: Mapping[str, Any]) -> Iterator[None]:
        """Push each item's scope in turn (only the items where ``where`` is truthy)."""
        values = self.value(block["each"])
        if values is None:
            values = []
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
            raise TemplateError(f"'{block['each']}' không phải danh sách", template=self.template,
                                key=block["each"])
        scopes = [self._scope(item, number) for number, item in enumerate(values, start=1)]
        if "where" in block:
            scopes = [scope for scope in scopes if self._where(scope, block["where"])]
        for index, scope in enumerate(scopes, start=1):
            scope["loop"].update(index=index, count=len(scopes))
            with self._pushed(scope):
                yield None

    @staticmethod
    def _scope(item: Any, number: int) -> dict[str, Any]:
        return {**(item if isinstance(item, Mapping) else {}), "item": item, "loop": {"number": number}}

    def _where(self, scope: dict[str, Any], path: str) -> bool:
        with self._pushed(scope):
            return bool(self.value(path))

    @contextmanager
    def _pushed(self, scope: dict[str, Any]) -> Iterator[None]:
        self.scopes.insert(0, scope)
        try:
            yield
        finally:
            self.scopes.pop(0)


# the administrative unit a body's name ends with: "… TỈNH CAO BẰNG" never breaks inside "TỈNH CAO BẰNG"
_PLACE = re.compile(r"^(.*\S)\s+((?:THÀNH PHỐ|THỊ TRẤN|THỊ XÃ|TỈNH|HUYỆN|QUẬN|PHƯỜNG|XÃ)\s.+)$", re.IGNORECASE | re.DOTALL)
_MIN_HEADER_SIZE = 11.0


def _header_name(lay: _Layout, source: str, size: float, *, bold: bool) -> Paragraph:
    """A body's name in the header: the unit and the place's name it ends with are one unbreakable run (non-breaking
    spaces), so a line breaks before "TỈNH …", never inside the name; a run wider than the column is drawn smaller
    (down to 11 pt), and only past that may it break."""
    markup = lay.text(source)
    plain = lay.drawn[-1]
    face = f"{FONT}-Bold" if bold else FONT
    match = _PLACE.match(markup)
    if match and "<" not in match[2] and _fonts().width(plain, face, size) > HEADER_LEFT:
        run = " ".join(match[2].split())
        while size > _MIN_HEADER_SIZE and _fonts().width(run, face, size) > HEADER_LEFT:
            size = max(_MIN_HEADER_SIZE, size - 0.5)
        if _fonts().width(run, face, size) <= HEADER_LEFT:
            markup = f"{match[1]} {run.replace(' ', chr(0xA0))}"
    return _paragraph_of(markup, _style(size, "center", bold=bold, after=0))


def _header(lay: _Layout, header: Mapping[str, Any]) -> Table:
    """NĐ 30/2020 header: issuing body | national motto, then number | place and date."""
    left: list[Flowable] = []
    if header.get("parent"):
        left.append(_header_name(lay, header["parent"], 12.5, bold=False))
    body = _header_name(lay, header["body"], 12.5, bold=True)
    sub = lay.para(header["motto_sub"], _style(13, "center", bold=True, after=0))
    sub_width = _fonts().width(lay.drawn[-1], f"{FONT}-Bold", 13)
    body_width = min(_fonts().width(lay.drawn[-2], f"{FONT}-Bold", 12.5), HEADER_LEFT)
    left += [body, HRFlowable(width=body_width / 3, thickness=0.6, color="black", spaceBefore=4)]
    right = [lay.para(header["motto"], _style(12, "center", bold=True, after=0)), sub,
             HRFlowable(width=sub_width, thickness=0.6, color="black", spaceBefore=4)]
    number = lay.para(header["number"], _style(13, "center", after=0))
    place = lay.para(header["place_date"], _style(13, "center", italic=True, after=0))
    table = Table([[left, right], [number, place]], colWidths=[HEADER_LEFT, lay.width - HEADER_LEFT])
    table.setStyle(_table_style(("ALIGN", *ALL, "CENTER"), ("LEFTPADDING", *ALL, 0),
                                ("RIGHTPADDING", *ALL, 0), ("TOPPADDING", (0, 1), (-1, 1), 6),
                                ("BOTTOMPADDING", *ALL, 0)))
    return table


def _table_style(*commands: tuple[Any, ...]) -> TableStyle:
    """Every table draws in the document font (no Helvetica resource) and aligns cells to the top."""
    return TableStyle([("FONT", *ALL, FONT, 13), ("VALIGN", *ALL, "TOP"), *commands])


def _title(lay: _Layout, block: Mapping[str, Any]) -> list[Flowable]:
    style = _style(block.get("size", 14), "center", bold=True, after=0)
    out: list[Flowable] = [lay.para(line, style) for line in block["lines"]]
    if block.get("rule"):
        width = _fonts().width(lay.drawn[-1], f"{FONT}-Bold", style.fontSize)
        out.append(HRFlowable(width=min(width, lay.width) / 3, thickness=0.6, color="black", spaceBefore=3))
    return [*out, Spacer(1, 8)]


def _paragraph(lay: _Layout, block: Mapping[str, Any]) -> list[Flowable]:
    para = lay.para(block["text"], _style(13, block.get("align", "justify"), block.get("indent", True)))
    # a heading is not left alone at the foot of a page; a long table after it may still split
    room = block.get("keep_with_next")
    if not room:
        return [para]
    para._heading = True  # type: ignore[attr-defined]  # a signature block pulling its paragraph takes this too
    return [CondPageBreak(KEEP_WITH_NEXT if room is True else float(room) * mm), para]


def _bases(lay: _Layout, block: Mapping[str, Any]) -> list[Flowable]:
    """The căn cứ lines: italic, each ending with ";" and the last with "." (NĐ 30/2020), whatever the source says."""
    texts: list[tuple[str, str]] = []  # (markup, plain)
    for entry in block["items"]:
        entry = {"text": entry} if isinstance(entry, str) else entry
        if "text" not in entry:
            raise TemplateError("mỗi dòng 'bases' cần 'text'", template=lay.template)
        if not lay.shown(entry):
            continue
        if "each" in entry:
            texts += [expand(entry["text"], lay.scopes, template=lay.template) for _ in lay.items(entry)]
        else:
            texts.append(expand(entry["text"], lay.scopes, template=lay.template))
    style = _style(13, "justify", True, italic=True)
    out: list[Flowable] = []
    for index, (markup, plain) in enumerate(texts, start=1):
        end = "." if index == len(texts) else ";"
        markup, plain = _punctuated(markup, plain, end)
        lay.drawn.append(plain)
        out.append(_paragraph_of(markup, style))
    return out


def _punctuated(markup: str, plain: str, end: str) -> tuple[str, str]:
    """The line with the punctuation it closes with (";", ",", ".", ":") replaced by ``end``."""
    kept = plain.rstrip(_BASIS_END + " ")
    strip = len(plain) - len(kept)
    tags = re.search(r"(?:</[bi]>)*$", markup)
    tail = tags.group(0) if tags else ""
    body = markup[:len(markup) - len(tail)]
    while strip and body and body[-1] in _BASIS_END + " " and not re.search(r"&(?:amp|lt|gt|quot|#\d+);$", body):
        body, strip = body[:-1], strip - 1
    return body + end + tail, kept + end


def _list(lay: _Layout, block: Mapping[str, Any]) -> list[Flowable]:
    style = _style(13, block.get("align", "justify"), block.get("indent", True))
    lines = block.get("lines", [block["text"]] if "text" in block else [])
    out: list[Flowable] = []
    for _ in lay.items(block):
        for line in lines:
            line = {"text": line} if isinstance(line, str) else line
            if lay.shown(line):
                out.append(lay.para(line["text"], style))
    if not out and "empty" in block:
        out.append(lay.para(block["empty"], style))
    return out


def _table(lay: _Layout, block: Mapping[str, Any]) -> list[Flowable]:
    size = block.get("size", 12)
    columns = [c for c in block["columns"] if not c.get("below")]
    below = [c for c in block["columns"] if c.get("below")]
    if below and len(columns) < 2:
        raise TemplateError("bảng có cột 'below' cần ít nhất hai cột thường", template=lay.template)
    head = [lay.para(c.get("header", ""), _style(size, "center", bold=True, after=0)) for c in columns]
    heads = [head, *[_below_line(lay.para(c.get("header", ""), _style(size, "center", bold=True, after=0)),
                                 len(columns)) for c in below]]
    rows: list[list[Any]] = []
    for _ in lay.items(block):
        rows.append([lay.para(c["cell"], _style(size, c.get("align", "left"), after=0)) for c in columns])
        rows += [_below_line(lay.para(c["cell"], _style(size, c.get("align", "left"), after=0)), len(columns))
                 for c in below]
    if not rows:
        empty = block.get("empty")
        return [lay.para(empty, _style(13, "justify", True))] if empty else []
    total = sum(c.get("width", 1) for c in columns)
    table = Table([*heads, *rows], colWidths=[lay.width * c.get("width", 1) / total for c in columns],
                  repeatRows=len(heads))
    spans: list[tuple[Any, ...]] = []
    if below:  # each item's (and the header's) lines: the first column spans them, the 'below' lines the rest
        for top in range(0, len(heads) + len(rows), len(heads)):
            spans.append(("SPAN", (0, top), (0, top + len(below))))
            spans += [("SPAN", (1, line), (-1, line)) for line in range(top + 1, top + 1 + len(below))]
    table.setStyle(_table_style(("GRID", *ALL, 0.5, "black"), ("VALIGN", (0, 0), (-1, len(heads) - 1), "MIDDLE"),
                                ("TOPPADDING", *ALL, 3), ("BOTTOMPADDING", *ALL, 4), *spans))
    return [table, Spacer(1, 6)]


def _below_line(cell: Flowable, count: int) -> list[Any]:
    """A line of a 'below' column: empty under the first column, the cell spanning all the others."""
    return ["", cell, *[""] * (count - 2)]


class _Signed(KeepTogether):
    """A signature block with the paragraph it is kept with (a second block joins the first)."""


def _signer_lines(lay: _Layout, line: Mapping[str, Any]) -> list[str]:
    """NĐ 30/2020 Art.8 cl.4, Phụ lục I: "TM. <collective body>", "KT. <head's title>", then the signer's title."""
    signer = lay.value(line["signer"])
    if not isinstance(signer, Mapping) or not signer.get("title"):
        raise TemplateError(f"thiếu dữ liệu '{line['signer']}.title' (missing key)", template=lay.template,
                            key=f"{line['signer']}.title")
    lines = []
    collective = expand(line["on_behalf"], lay.scopes, template=lay.template)[1].strip() if "on_behalf" in line else ""
    if collective:  # a placeholder that gives nothing (e.g. "{signer.on_behalf?}") draws no "TM." line
        lines.append(f"TM. {collective}")
    if signer.get("for_title"):
        lines.append(f"KT. {nfc(str(signer['for_title']))}")
    lines.append(nfc(str(signer["title"])))
    return [text.upper() for text in lines]


def _signatures(lay: _Layout, block: Mapping[str, Any]) -> list[Flowable]:
    cells: list[list[Flowable]] = []
    for column in block["columns"]:
        cell: list[Flowable] = []
        for line in column["lines"]:
            if lay.shown(line):
                if line.get("space"):
                    cell.append(Spacer(1, line["space"] * mm))
                style = _style(line.get("size", 13), column.get("align", "center"), after=0)
                if "signer" in line:
                    for text in _signer_lines(lay, line):
                        lay.drawn.append(text)
                        cell.append(_paragraph_of(f"<b>{escape(text)}</b>", style))
                if "text" in line:
                    cell.append(lay.para(line["text"], style))
        cells.append(cell)
    total = sum(c.get("width", 1) for c in block["columns"])
    table = Table([cells], colWidths=[lay.width * c.get("width", 1) / total for c in block["columns"]])
    table.setStyle(_table_style(("LEFTPADDING", *ALL, 2), ("RIGHTPADDING", *ALL, 2)))
    return [Spacer(1, 6), table]


def _kept_with_signatures(out: list[Flowable], signed: list[Flowable]) -> list[Flowable]:
    """NĐ 30/2020 practice: the signature block never stands alone on a page. It takes with it the paragraph before
    it (and that paragraph's heading, if it is one), or joins the signature block before it."""
    if out and isinstance(out[-1], _Signed):
        return [_Signed([*out.pop()._content, *signed])]
    tail: list[Flowable] = []
    while out and type(out[-1]) is Spacer:
        tail.insert(0, out.pop())
    if out and isinstance(out[-1], Paragraph):
        tail.insert(0, out.pop())
        if out and getattr(out[-1], "_heading", False) and isinstance(out[-1], Paragraph):
            tail.insert(0, out.pop())
    return [_Signed([*tail, *signed])]


def _spacer(lay: _Layout, block: Mapping[str, Any]) -> list[Flowable]:
    return [Spacer(1, block.get("height", 5) * mm)]


def _repeat(lay: _Layout, block: Mapping[str, Any]) -> list[Flowable]:
    out: list[Flowable] = []
    for _ in lay.items(block):
        out += _blocks(lay, block["blocks"])
    if not out and "empty" in block:
        out.append(lay.para(block["empty"], _style(13, "justify", True)))
    return out


def _chart(lay: _Layout, block: Mapping[str, Any]) -> list[Flowable]:
    series = block.get("series") or []
    if "label" not in block or not series or not all("value" in s for s in series):
        raise TemplateError("'chart' cần 'label' và ít nhất một 'series' có 'value'", template=lay.template)
    labels: list[str] = []
    values: list[list[float | None]] = [[] for _ in series]
    for _ in lay.items(block):
        labels.append(_fonts().in_primary(expand(block["label"], lay.scopes, template=lay.template)[1]))  # plain
        for column, s in zip(values, series, strict=True):
            value = lay.value(s["value"] + "?")
            column.append(None if value is None else float(value))
    if not labels:
        empty = block.get("empty")
        return [lay.para(empty, _style(13, "justify", True))] if empty else []
    names = [_fonts().in_primary(expand(s.get("name", ""), lay.scopes, template=lay.template)[1]) for s in series]
    places = int(block.get("decimals", 0))
    height = block.get("height")
    drawing = bar_chart(labels, values, names=names, width=lay.width, height=height * mm if height else None,
                        orientation=block.get("orientation", "horizontal"), font=FONT,
                        fmt=partial(fixed_vi, places=places), axis_fmt=decimal_vi)
    lay.drawn += drawn_texts(drawing)  # labels, ticks, values, legend: as drawn, for the goldens
    out: list[Flowable] = [drawing]
    if "caption" in block:
        out.append(Spacer(1, 4))
        out.append(lay.para(block["caption"], _style(12, "center", italic=True)))
    return [KeepTogether(out), Spacer(1, 6)]


_BUILDERS = {"title": _title, "paragraph": _paragraph, "list": _list, "table": _table,
             "signatures": _signatures, "spacer": _spacer, "repeat": _repeat, "chart": _chart, "bases": _bases}


def _blocks(lay: _Layout, blocks: Sequence[Mapping[str, Any]]) -> list[Flowable]:
    out: list[Flowable] = []
    for block in blocks:
        if lay.shown(block):
            if block.get("space_before"):
                out.append(Spacer(1, block["space_before"]))
            built = _BUILDERS[block["kind"]](lay, block)
            out += _kept_with_signatures(out, built) if block["kind"] == "signatures" else built
    return out


def _story(lay: _Layout, spec: Mapping[str, Any]) -> list[Flowable]:
    return [_header(lay, spec["header"]), Spacer(1, 14), *_blocks(lay, spec["body"])]


def _page_number(canvas: Any, doc: Any, *, width: float = FRAME_WIDTH, height: float = A4[1]) -> None:
    """NĐ 30/2020: page numbers centred at the top (of the frame), from the second page on."""
    canvas.saveState()
    _fonts().draw(canvas, MARGINS["left"] + width / 2, height - 13 * mm, str(doc.page), FONT, 13, centred=True)
    canvas.restoreState()


class _Document(SimpleDocTemplate):
    """A SimpleDocTemplate that draws ``foot`` on every page but the last, when the page ends.

    The last page is the one ended by the end of the build (``_endBuild``); a story that ends with a page break would
    leave the row on its last page, and none of ours does (a heading's CondPageBreak is always followed by it)."""

    def __init__(self, *args: Any, foot: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._foot = foot
        self._closing = False

    def handle_pageEnd(self) -> None:
        if self._foot is not None and not self._closing:
            self._foot(self.canv, self)
        super().handle_pageEnd()

    def _endBuild(self) -> None:
        self._closing = True
        super()._endBuild()


def _sheet_labels(lay: _Layout, labels: Sequence[str], width: float) -> list[tuple[str, float]]:
    """The per-sheet signature labels, plain, each with the size it fits its column in (12 pt, down to 11)."""
    face = f"{FONT}-Bold"
    out = []
    for source in labels:
        label = " ".join(expand(source, lay.scopes, template=lay.template)[1].split())
        size = _SHEET_LABEL
        while size > 11 and _fonts().width(label, face, size) > width / len(labels) - 4:
            size -= 0.5
        if _fonts().width(label, face, size) > width / len(labels) - 4:
            raise TemplateError(f"nhãn ký từng tờ quá dài: {label!r}", template=lay.template, key="sign_each_page")
        out.append((label, size))
    return out


def _sheet_row(canvas: Any, doc: Any, *, labels: Sequence[tuple[str, float]], width: float) -> None:
    """Luật XLVPHC Art.58 cl.3: each sheet signed: the labels, centred in equal columns, room to sign beneath."""
    canvas.saveState()
    column = width / len(labels)
    baseline = MARGINS["bottom"] + SHEET_ROW - _SHEET_BASELINE
    for index, (label, size) in enumerate(labels):
        _fonts().draw(canvas, MARGINS["left"] + column * (index + 0.5), baseline, label, f"{FONT}-Bold", size,
                      centred=True)
    canvas.restoreState()


def _laid_out(template: str, spec: Mapping[str, Any], scopes: list[Mapping[str, Any]]
              ) -> tuple[int, Callable[[], bytes]]:
    """One layout: the story, the pages drawn (each character in the first font of the chain that has it, or as its
    placeholder: a character never stops a document). Returns the page count and
    the function that writes the PDF out and gives its bytes: a layout dropped (its count is not the one it states)
    never pays for the font subsets and the compressed streams, about half of a render."""
    pagesize = _PAGE_SIZES[spec.get("orientation", "portrait")]
    width = pagesize[0] - MARGINS["left"] - MARGINS["right"]
    lay = _Layout(template, scopes, width=width)
    story = _story(lay, spec)
    title = expand(spec["title"], lay.scopes, template=template)[1]
    labels = _sheet_labels(lay, spec.get("sign_each_page", []), width)
    buffer = BytesIO()
    doc = _Document(buffer, pagesize=pagesize, leftMargin=MARGINS["left"], rightMargin=MARGINS["right"],
                    topMargin=MARGINS["top"], bottomMargin=MARGINS["bottom"] + (SHEET_ROW if labels else 0),
                    invariant=1, title=title, author="", subject=f"{template} {spec['version']}",
                    creator="kiemtra", initialFontName=FONT, initialFontSize=13,
                    foot=partial(_sheet_row, labels=labels, width=width) if labels else None)
    doc._doSave = 0  # reportlab's switch: build lays out and draws every page, the canvas is saved on demand
    doc.build(story, onLaterPages=partial(_page_number, width=width, height=pagesize[1]))

    def pdf() -> bytes:
        doc.canv.save()
        return buffer.getvalue()

    return doc.page, pdf


def render_pdf(template: str, context: Mapping[str, Any], out_path: Path) -> RenderedDocument:
    """Render ``templates/<template>.toml`` with ``context`` to ``out_path``, atomically.

    The same context gives the same bytes (fixed dates, deterministic font subsets), so a re-run of a
    stage reproduces the file and its sha256. Raises :class:`TemplateError` before anything is written; never
    on a character (:mod:`services.documents.fonts`). A ``counts_pages`` template is laid out again until the page count it
    states (``pages_total``) is the one it has.
    """
    spec = _template(template)
    _fonts()
    if not spec.get("counts_pages"):
        pages, pdf = _laid_out(template, spec, [context])
    else:
        stated = 1
        for _ in range(_PASSES):
            pages, pdf = _laid_out(template, spec, [{"pages_total": stated}, context])
            if pages == stated:
                break
            stated, found = pages, stated
        else:
            raise TemplateError(f"số tờ không ổn định: ghi {found} tờ thì văn bản có {pages} trang",
                                template=template, key="pages_total")
    data = pdf()
    out_path = Path(out_path)
    write_atomic(out_path, data)
    digest = hashlib.sha256(data).hexdigest()
    return RenderedDocument(path=out_path, sha256=digest, pages=pages, size=len(data))
