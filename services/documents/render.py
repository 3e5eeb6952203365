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
The placeholder language and the errors are described in :mod:`services.documents.format`; the renderer
adds the formatters ``decimal`` (30 -> 30, 2.5 -> 2,5; ``decimal:1`` for one place) and ``pad`` (a whole number
with leading zeros: 3 -> 03, as counts are written in records; ``pad:3`` -> 003).

The renderer's modules: :mod:`services.documents.template_spec` (the schema, checked on loading, and the two
formatters), :mod:`services.documents.styles` (margins, fonts, styles), :mod:`services.documents.layout` (the
scopes, the text drawn), :mod:`services.documents.blocks` (the body's blocks); this one loads the templates and lays
out the pages: the NĐ 30 header, the page numbers, the row signed on each sheet, the page count.
"""
from __future__ import annotations

import copy
import hashlib
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, partial
from io import BytesIO
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, HRFlowable, Paragraph, SimpleDocTemplate, Spacer, Table

from services.documents.blocks import _blocks
from services.documents.format import expand
from services.documents.layout import _Layout
from services.documents.storage import write_atomic
from services.documents.styles import ALL, FONT, FRAME_WIDTH, MARGINS, _fonts, _paragraph_of, _style, _table_style
from services.documents.template_spec import _PAGE_SIZES, _validate
from services.errors import TemplateError
from services.settings import TEMPLATES_DIR

HEADER_LEFT = 70 * mm
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


# the templates, loaded here (from TEMPLATES_DIR, looked up at each load) and checked by template_spec
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


# the administrative unit a body's name ends with: "… TỈNH CAO BẰNG" never breaks inside "TỈNH CAO BẰNG"
_PLACE = re.compile(r"^(.*\S)\s+((?:THÀNH PHỐ|THỊ TRẤN|THỊ XÃ|TỈNH|HUYỆN|QUẬN|PHƯỜNG|XÃ)\s.+)$", re.IGNORECASE | re.DOTALL)
_MIN_HEADER_SIZE = 11.0
_EMPTY_NUMBER = re.compile(r"\s+số\s*(?=\s-\s|$)", re.IGNORECASE)


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


def _header(lay: _Layout, header: Mapping[str, Any], *, fillable: bool = False) -> Table:
    """NĐ 30/2020 header: issuing body | national motto, then number | place and date (``fillable``: two empty form
    fields there, one line high, filled after the competent person signs: :mod:`services.documents.signing_fields`)."""
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
    number: Flowable
    place: Flowable
    if fillable:  # pyHanko (which fills the fields later) loads only for a draft, not for every render
        from services.documents.signing_fields import DATE_FIELD, NUMBER_FIELD, HeaderField
        number, place = HeaderField(NUMBER_FIELD, _style(13).leading), HeaderField(DATE_FIELD, _style(13).leading)
    else:
        number = lay.para(header["number"], _style(13, "center", after=0))
        place = lay.para(header["place_date"], _style(13, "center", italic=True, after=0))
    table = Table([[left, right], [number, place]], colWidths=[HEADER_LEFT, lay.width - HEADER_LEFT])
    table.setStyle(_table_style(("ALIGN", *ALL, "CENTER"), ("LEFTPADDING", *ALL, 0),
                                ("RIGHTPADDING", *ALL, 0), ("TOPPADDING", (0, 1), (-1, 1), 6),
                                ("BOTTOMPADDING", *ALL, 0)))
    return table


def header_values(template: str, context: Mapping[str, Any]) -> dict[str, str]:
    """What the header of ``template`` prints as its number and its place and date for ``context``: the values
    :func:`services.documents.signing_fields.fill_fields` writes into a ``fillable`` rendering of it."""
    from services.documents.signing_fields import DATE_FIELD, NUMBER_FIELD
    header, scopes = _template(template)["header"], [context]
    return {NUMBER_FIELD: expand(header["number"], scopes, template=template)[1],
            DATE_FIELD: expand(header["place_date"], scopes, template=template)[1]}


def _story(lay: _Layout, spec: Mapping[str, Any], *, fillable: bool = False) -> list[Flowable]:
    return [_header(lay, spec["header"], fillable=fillable), Spacer(1, 14), *_blocks(lay, spec["body"])]


def _page_number(canvas: Any, doc: Any, *, width: float = FRAME_WIDTH, height: float = A4[1]) -> None:
    """NĐ 30/2020: page numbers centred at the top (of the frame), from the second page on."""
    canvas.saveState()
    _fonts().draw(canvas, MARGINS["left"] + width / 2, height - 13 * mm, str(doc.page), FONT, 13, centred=True)
    canvas.restoreState()


class _Document(SimpleDocTemplate):
    """A SimpleDocTemplate that draws ``foot`` on every page but the last, when the page ends, and leaves the canvas
    unsaved at the end of the build (the caller saves it, on demand).

    The last page is the one still open when the story is used up: the build ends it after its last flowable. A story
    that ends with a page break would leave the row on its last page, and none of ours does (a heading's
    CondPageBreak is always followed by it)."""

    def __init__(self, *args: Any, foot: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._foot = foot
        self._closing = False
        self._doSave = 0  # reportlab's switch: build lays out and draws every page, the canvas is saved on demand

    def handle_flowable(self, flowables: list[Flowable]) -> None:
        super().handle_flowable(flowables)
        self._closing = not flowables  # the story used up: the next page end is the build's, the last page's

    def handle_pageEnd(self) -> None:
        if self._foot is not None and not self._closing:
            self._foot(self.canv, self)
        super().handle_pageEnd()


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


def _laid_out(template: str, spec: Mapping[str, Any], scopes: list[Mapping[str, Any]], *, fillable: bool = False
              ) -> tuple[int, Callable[[], bytes]]:
    """One layout: the story, the pages drawn (each character in the first font of the chain that has it, or as its
    placeholder: a character never stops a document). Returns the page count and
    the function that writes the PDF out and gives its bytes: a layout dropped (its count is not the one it states)
    never pays for the font subsets and the compressed streams, about half of a render."""
    pagesize = _PAGE_SIZES[spec.get("orientation", "portrait")]
    width = pagesize[0] - MARGINS["left"] - MARGINS["right"]
    lay = _Layout(template, scopes, width=width)
    story = _story(lay, spec, fillable=fillable)
    title = expand(spec["title"], lay.scopes, template=template)[1]
    if fillable:  # a draft has no number yet: "… số  - X" reads "… - X"
        title = _EMPTY_NUMBER.sub("", title)
    labels = _sheet_labels(lay, spec.get("sign_each_page", []), width)
    buffer = BytesIO()
    doc = _Document(buffer, pagesize=pagesize, leftMargin=MARGINS["left"], rightMargin=MARGINS["right"],
                    topMargin=MARGINS["top"], bottomMargin=MARGINS["bottom"] + (SHEET_ROW if labels else 0),
                    invariant=1, title=title, author="", subject=f"{template} {spec['version']}",
                    creator="kiemtra", initialFontName=FONT, initialFontSize=13,
                    foot=partial(_sheet_row, labels=labels, width=width) if labels else None)
    doc.build(story, onLaterPages=partial(_page_number, width=width, height=pagesize[1]))

    def pdf() -> bytes:
        doc.canv.save()
        return buffer.getvalue()

    return doc.page, pdf


def render_pdf_bytes(template: str, context: Mapping[str, Any], *, fillable: bool = False) -> tuple[bytes, int]:
    """Render ``templates/<template>.toml`` with ``context`` in memory: the PDF's bytes and its page count.

    The same context gives the same bytes (fixed dates, deterministic font subsets). Raises :class:`TemplateError`;
    never on a character (:mod:`services.documents.fonts`). A ``counts_pages`` template is laid out again until the
    page count it states (``pages_total``) is the one it has. ``fillable``: the header's number and place and date are
    empty form fields (:mod:`services.documents.signing_fields`), the title drops its empty "số".
    """
    spec = _template(template)
    _fonts()
    lay_out = partial(_laid_out, fillable=True) if fillable else _laid_out
    if not spec.get("counts_pages"):
        pages, pdf = lay_out(template, spec, [context])
    else:
        stated = 1
        for _ in range(_PASSES):
            pages, pdf = lay_out(template, spec, [{"pages_total": stated}, context])
            if pages == stated:
                break
            stated, found = pages, stated
        else:
            raise TemplateError(f"số tờ không ổn định: ghi {found} tờ thì văn bản có {pages} trang",
                                template=template, key="pages_total")
    return pdf(), pages


def render_pdf(template: str, context: Mapping[str, Any], out_path: Path, *, fillable: bool = False) -> RenderedDocument:
    """Render ``templates/<template>.toml`` with ``context`` to ``out_path``, atomically (:func:`render_pdf_bytes`,
    then written): a re-run of a stage reproduces the file and its sha256. Raises :class:`TemplateError` before
    anything is written.
    """
    data, pages = render_pdf_bytes(template, context, fillable=fillable)
    out_path = Path(out_path)
    write_atomic(out_path, data)
    digest = hashlib.sha256(data).hexdigest()
    return RenderedDocument(path=out_path, sha256=digest, pages=pages, size=len(data))
