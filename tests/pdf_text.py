"""Reading a PDF as a viewer shows it, form fields and signature widgets included: each page flattened with PDFium
(``FPDFPage_Flatten``, normal display: the widgets' appearance streams merged into the page content), then its text
read. Text extraction alone reads the page content only, never what a field shows."""
from __future__ import annotations

import io

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from services.documents.signing_look import Box


def flattened(pdf: bytes) -> bytes:
    """``pdf`` with every page's annotations (form fields, signatures) flattened into its content."""
    document = pdfium.PdfDocument(pdf)
    try:
        document.init_forms()
        for page in document:
            result = pdfium_c.FPDFPage_Flatten(page.raw, pdfium_c.FLAT_NORMALDISPLAY)
            assert result != pdfium_c.FLATTEN_FAIL
        buffer = io.BytesIO()
        document.save(buffer)
    finally:
        document.close()
    return buffer.getvalue()


def flattened_text(pdf: bytes) -> str:
    """The text of every page of ``pdf`` as shown, fields and widgets included, pages joined by a newline."""
    document = pdfium.PdfDocument(flattened(pdf))
    try:
        return "\n".join(str(page.get_textpage().get_text_range()) for page in document)
    finally:
        document.close()


def text_box(pdf: bytes, text: str, page: int = 0, *, flatten: bool = True) -> Box:
    """Where ``text`` first stands on ``page`` (the box around its characters, PDF points). Raises ``LookupError``."""
    document = pdfium.PdfDocument(flattened(pdf) if flatten else pdf)
    try:
        textpage = document[page].get_textpage()
        searcher = textpage.search(text, match_case=True)
        hit = searcher.get_next()
        if hit is None:
            raise LookupError(f"{text!r} is not on page {page}")
        index, count = hit
        boxes = [b for b in (textpage.get_charbox(i) for i in range(index, index + count)) if b[2] > b[0]]  # no spaces
        return Box(min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
    finally:
        document.close()
