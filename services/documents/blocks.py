"""The body's blocks: one builder per ``kind`` of the template language (:mod:`services.documents.render`), each
turning a block and the scopes of a :class:`~services.documents.layout._Layout` into reportlab flowables; the
signature block is kept on one page with the paragraph before it."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, HRFlowable, KeepTogether, Paragraph, Spacer, Table

from services.documents.charts import bar_chart, drawn_texts, fixed_vi
from services.documents.format import expand, nfc
from services.documents.layout import _Layout
from services.documents.selection_list import decimal_vi
from services.documents.styles import ALL, FONT, _fonts, _paragraph_of, _style, _table_style
from services.errors import TemplateError

KEEP_WITH_NEXT = 30 * mm  # room a heading needs below it, else it starts the next page
_BASIS_END = ";,.:"  # what a căn cứ line may end with in the template or the data: the renderer sets it


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

    _content: list[Flowable]  # KeepTogether's flowables (set by reportlab; not in its type stubs)


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
    last = out[-1] if out else None
    if isinstance(last, _Signed):
        out.pop()
        return [_Signed([*last._content, *signed])]
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
