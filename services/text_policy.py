"""One text policy for every boundary where people type (API, web form, registry import, CLI) and for the documents:

- NFC; line breaks normalised ("\\r\\n" and "\\r" → "\\n"; a one-line field turns them into spaces);
- invisible characters a person cannot see are removed (U+FEFF, zero-width spaces and joiners, soft hyphen, bidi
  marks): they only break searches, the de-identification guard and documents;
- control characters (NUL, ESC, other C0/C1 controls, DEL) are refused, naming the field;
- characters the documents' font cannot draw (emoji, symbols such as "✓", CJK) are refused too, since what is stored
  will be printed in an official document: the message names the character and its code point.

``check_text`` returns the cleaned value or raises :class:`TextRefused` (a ``ValueError``: pydantic validators turn it
into a 422 naming the field). ``printable`` is for text already stored before this policy: it never fails, replacing
what cannot be drawn, so one old note never stops a document (the stage then issues it).
"""
from __future__ import annotations

import unicodedata
from functools import cache

INVISIBLE = frozenset("\ufeff\u200b\u200c\u200d\u2060\u00ad\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067"
                      "\u2068\u2069")
REPLACEMENT = "?"
FORMULA_STARTS = frozenset("=+-@\t\r")  # a spreadsheet reads a cell starting so as a formula


def spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet will not run: one starting with = + - @ tab or CR gets a leading apostrophe."""
    return "'" + value if value[:1] in FORMULA_STARTS else value


class TextRefused(ValueError):
    """A character no document may hold; the message is Vietnamese and names the character."""


@cache
def _drawable() -> frozenset[str]:
    from services.documents.render import _fonts  # the font every document is drawn in

    return _fonts()


def _normalised(value: str, *, multiline: bool) -> str:
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch not in INVISIBLE)
    if not multiline:
        text = text.replace("\n", " ")
    return text.replace("\t", " ")


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def check_text(value: str, *, multiline: bool = False) -> str:
    """The cleaned text, or :class:`TextRefused` for a control character or one the documents cannot draw."""
    text = _normalised(value, multiline=multiline)
    drawable = _drawable()
    for ch in text:
        if ch == "\n":
            continue
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn"):
            raise TextRefused(f"có ký tự điều khiển hoặc không hợp lệ ({_describe(ch)}); hãy xóa ký tự này")
        if ch not in drawable:
            raise TextRefused(f"có ký tự '{ch}' ({_describe(ch)}) không in được trong văn bản; hãy thay bằng chữ")
    return text


def printable(value: str, *, multiline: bool = True) -> str:
    """Text already stored, made safe to print: the same cleaning, and what cannot be drawn replaced by "?"."""
    text = _normalised(value or "", multiline=multiline)
    drawable = _drawable()
    return "".join(ch if ch == "\n" or (unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn") and ch in drawable)
                   else REPLACEMENT for ch in text)
