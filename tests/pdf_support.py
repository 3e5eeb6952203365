"""Reading what a person would read in a generated PDF."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from pypdf import PdfReader


def raw_text_of(path: Path) -> str:
    """The extracted text exactly as the PDF gives it (only whitespace runs folded): for NFC checks."""
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in PdfReader(path).pages)).strip()


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def text_of(path: Path) -> str:
    """The extracted text, NFC and whitespace-folded: for comparing with the source strings."""
    return squash(raw_text_of(path))


def to_nfd(value: Any) -> Any:
    """The same context with every string decomposed (NFD), as some input methods send it."""
    if isinstance(value, str):
        return unicodedata.normalize("NFD", value)
    if isinstance(value, dict):
        return {k: to_nfd(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_nfd(v) for v in value]
    return value
