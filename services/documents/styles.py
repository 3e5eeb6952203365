"""The type of every document: the NĐ 30/2020 page margins, the font chain (registered once, on first render) and
the paragraph and table styles drawn with it. Used by the renderer (:mod:`services.documents.render`) and its block
builders (:mod:`services.documents.blocks`)."""
from __future__ import annotations

import threading
from typing import Any, Literal

from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, TableStyle

from services.documents import fonts as font_chain
from services.settings import TEMPLATES_DIR

MARGINS = {"top": 20 * mm, "bottom": 20 * mm, "left": 30 * mm, "right": 15 * mm}
FRAME_WIDTH = A4[0] - MARGINS["left"] - MARGINS["right"]
ALL = ((0, 0), (-1, -1))
FONT = font_chain.PRIMARY
_ALIGN: dict[str, Literal[0, 1, 2, 4]] = {"justify": TA_JUSTIFY, "left": TA_LEFT, "center": TA_CENTER, "right": TA_RIGHT}

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


def _table_style(*commands: tuple[Any, ...]) -> TableStyle:
    """Every table draws in the document font (no Helvetica resource) and aligns cells to the top."""
    return TableStyle([("FONT", *ALL, FONT, 13), ("VALIGN", *ALL, "TOP"), *commands])
