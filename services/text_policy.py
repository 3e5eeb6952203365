"""One text policy for every boundary where people type (API, web form, registry import, CLI) and for the documents:

- NFC; line breaks normalised ("\\r\\n" and "\\r" → "\\n"; a one-line field turns them into spaces);
- invisible characters a person cannot see are removed (U+FEFF, zero-width spaces and joiners, soft hyphen, bidi
  marks): they only break searches, the de-identification guard and documents;
- control characters (NUL, ESC, other C0/C1 controls, DEL) are refused, naming the field;
- values that are kept as sent and never printed as prose (a file name, a code in a path) go through
  ``check_plain``: only control characters and lone surrogates are refused (PostgreSQL stores no NUL, and a lone
  surrogate cannot be encoded at all);
- private-use and unassigned code points, and the rare character no font of the documents' chain draws
  (:mod:`services.documents.fonts`: Liberation Serif, then fallbacks for symbols such as "✓", emoji and CJK, which are
  therefore accepted) are refused too, since what is stored will be printed in an official document: the message
  names the character and its code point. An invisible one no font draws (a variation selector, a tag) is removed.

``check_text`` returns the cleaned value or raises :class:`TextRefused` (a ``ValueError``: pydantic validators turn it
into a 422 naming the field). ``printable`` is for text already stored before this policy: it never fails, replacing
what cannot be drawn by the renderer's placeholder ("[U+0000]"), so one old note never stops a document.
"""
from __future__ import annotations

import unicodedata
from functools import cache
from typing import TYPE_CHECKING
from services.errors import TextRefused

if TYPE_CHECKING:
    from services.documents.fonts import CodePoints

INVISIBLE = frozenset("\ufeff\u200b\u200c\u200d\u2060\u00ad\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067"
                      "\u2068\u2069")
FORMULA_STARTS = frozenset("=+-@\t\r")  # a spreadsheet reads a cell starting so as a formula


def spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet will not run: one starting with = + - @ tab or CR gets a leading apostrophe."""
    return "'" + value if value[:1] in FORMULA_STARTS else value


@cache
def _drawable() -> CodePoints:
    """What some font of the documents' chain draws, as the fonts folder lists it (read once, a few KB)."""
    from services.documents.fonts import printable_points
    from services.settings import TEMPLATES_DIR

    return printable_points(TEMPLATES_DIR / "fonts")


@cache
def _plain() -> frozenset[str]:
    """Characters that need no second look (printable, visible, no control): most text is made of them alone."""
    return _drawable().common - INVISIBLE


def _ignorable(ch: str) -> bool:
    from services.documents.fonts import ignorable  # asked only of a character no font draws: rare

    return ignorable(ch)


def _normalised(value: str, *, multiline: bool) -> str:
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    if not _plain().issuperset(text):
        drawable = _drawable()
        text = "".join(ch for ch in text if ch not in INVISIBLE and (ch in drawable or not _ignorable(ch)))
    if not multiline:
        text = text.replace("\n", " ")
    return text.replace("\t", " ")


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def check_text(value: str, *, multiline: bool = False) -> str:
    """The cleaned text, or :class:`TextRefused` for a control character or one the documents cannot draw."""
    text = _normalised(value, multiline=multiline)
    if _plain().issuperset(text):
        return text
    drawable = _drawable()
    for ch in text:
        if ch == "\n":
            continue
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn"):
            raise TextRefused(f"có ký tự điều khiển hoặc không hợp lệ ({_describe(ch)}); hãy xóa ký tự này")
        if ch not in drawable:
            raise TextRefused(f"có ký tự '{ch}' ({_describe(ch)}) không in được trong văn bản; hãy thay bằng chữ")
    return text


def check_plain(value: str) -> str:
    """The value unchanged, or :class:`TextRefused` for a control character or a lone surrogate."""
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cs"):
            raise TextRefused(f"có ký tự điều khiển hoặc không hợp lệ ({_describe(ch)}); hãy xóa ký tự này")
    return value


def printable(value: str, *, multiline: bool = True) -> str:
    """Text already stored, made safe to print: the same cleaning, and what cannot be drawn replaced by the renderer's
    placeholder ("[U+0000]")."""
    from services.documents.fonts import placeholder

    text = _normalised(value or "", multiline=multiline)
    drawable = _drawable()
    return "".join(ch if ch == "\n" or ch in drawable else placeholder(ch) for ch in text)
