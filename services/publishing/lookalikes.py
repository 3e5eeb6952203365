"""Text as a reader sees it, for comparisons that must not be fooled (the register's de-identification guard).

A name can be hidden from a plain string comparison and still read the same on screen: a soft hyphen or a
zero-width space inside it, a Cyrillic "о" or a Greek "Ν" for the Latin letter, fullwidth or mathematical letters.
:func:`comparable` undoes all of these — NFKC, invisible characters dropped, Cyrillic and Greek look-alikes mapped to
the Latin letter they look like (upper and lower case each to the letter it resembles: Greek "Η" is an H, "η" an n),
casefold, whitespace collapsed, NFC — so that both sides of a comparison are brought to the same form.
"""
from __future__ import annotations

import unicodedata

# Look-alikes by glyph, not by sound: each maps to the Latin letter it is mistaken for.
_LOOKALIKES = {
    # Cyrillic capitals
    "А": "A", "В": "B", "Е": "E", "Ѐ": "È", "Ё": "Ë", "Ѕ": "S", "І": "I", "Ї": "Ï", "Ј": "J", "К": "K", "М": "M",
    "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ү": "Y", "Һ": "H", "Ԁ": "D", "Ԛ": "Q",
    "Ԝ": "W", "Ӏ": "I",
    # Cyrillic small letters
    "а": "a", "в": "b", "е": "e", "ѐ": "è", "ё": "ë", "ѕ": "s", "і": "i", "ї": "ï", "ј": "j", "к": "k", "м": "m",
    "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ү": "y", "һ": "h", "ԁ": "d", "ԛ": "q",
    "ԝ": "w", "ӏ": "l", "ɡ": "g", "ı": "i",
    # Greek capitals
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P",
    "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C", "Ϳ": "J",
    # Greek small letters
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "ϲ": "c", "ϳ": "j",
}
_TABLE = str.maketrans(_LOOKALIKES)
# Not letters a reader sees (category Cf: soft hyphen, zero-width space/joiners, word joiner, BOM, bidi marks, tags)
# and variation selectors and the combining grapheme joiner, which change no letter.
_EXTRA_INVISIBLE = frozenset(chr(c) for c in (*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0), 0x034F, 0x115F,
                                              0x1160, 0x3164, 0xFFA0))


def invisible(ch: str) -> bool:
    return unicodedata.category(ch) == "Cf" or ch in _EXTRA_INVISIBLE


def comparable(text: str) -> str:
    """The form two texts are compared in (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(ch for ch in text if not invisible(ch)).translate(_TABLE)
    return unicodedata.normalize("NFC", " ".join(text.casefold().split()))
