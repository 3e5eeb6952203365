"""The font chain every document is drawn in, so that no character ever stops a document (issue 13).

Liberation Serif (all four faces) sets the text; a character it lacks is drawn in the first fallback that has it:
GNU FreeSerif (symbols such as ✓ ✗ ★, arrows, math, Arabic, Hebrew, Greek…), Noto Emoji (monochrome emoji, flags'
regional letters), Droid Sans Fallback (CJK ideographs, kana, Hangul). The fonts ship in ``templates/fonts/`` with their
licences (OFL, Apache 2.0, GPL 3 with the font exception); each is TrueType (glyf), which reportlab embeds as a subset,
and only in a document that uses it.

A character no font has is drawn as a visible placeholder, ``[U+13000]``; a default-ignorable one no font has (a
zero-width joiner, a variation selector, a tag) is left out, as a text shaper would. Control characters are never
drawn: they too become a placeholder. So drawing never raises on a character. Right-to-left words (Hebrew, Arabic) are
put in visual order; Arabic letters are drawn in their isolated forms (reportlab shapes nothing without extra
packages): legible, and they copy out of the PDF in their stored order.

:func:`chain` is built once per fonts folder and registers every font with reportlab; its ``printable`` set (what some
font of the chain draws) is also what the text policy (:mod:`services.text_policy`) accepts at input. The policy reads it
from ``printable.txt`` beside the fonts (:func:`printable_points`: 500 ranges), so a process that only checks text (the
intake API) never parses 40 MB of fonts; :func:`write_printable` writes that file again after a font changes, and a
test holds it equal to the chain's coverage.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont

PRIMARY = "LiberationSerif"
FACES = {PRIMARY: "Regular", f"{PRIMARY}-Bold": "Bold", f"{PRIMARY}-Italic": "Italic",
         f"{PRIMARY}-BoldItalic": "BoldItalic"}
FALLBACKS = (("FreeSerif", "FreeSerif.ttf"), ("NotoEmoji", "NotoEmoji.ttf"),
             ("DroidSansFallback", "DroidSansFallback.ttf"))
_NEVER_DRAWN = ("Cc", "Cs", "Co", "Cn")  # controls, lone surrogates, private use, unassigned: no font may draw them
_MARKUP_TOKEN = re.compile(r"(<[^>]*>|&#?\w+;)")  # Paragraph tags and entities, kept as they are
_RTL_BLOCKS = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\U00010800-\U00010fff\U0001e800-\U0001efff]")
_ASTRAL = re.compile(r"<([0-9A-F]{5,6})>")
_reportlab_cmap = ttfonts.makeToUnicodeCMap


def _to_unicode_cmap(fontname: str, subset: Any) -> str:
    """reportlab's ToUnicode map, with a code point beyond the BMP written as its UTF-16 pair: reportlab writes
    ``<1F600>``, which no PDF reader decodes, so an emoji would not copy or search as itself."""
    return _ASTRAL.sub(lambda m: f"<{chr(int(m[1], 16)).encode('utf-16-be').hex().upper()}>",
                       _reportlab_cmap(fontname, subset))


def _rtl(ch: str) -> bool:
    return unicodedata.bidirectional(ch) in ("R", "AL")


def visual(text: str) -> str:
    """``text`` with each run of right-to-left letters (and the spaces and marks inside it) reversed, a mark kept after
    its letter: the order a left-to-right drawing shows them in."""
    if not _RTL_BLOCKS.search(text):  # the blocks of the right-to-left scripts: most text has none, found at C speed
        return text
    out: list[str] = []
    run: list[str] = []  # the clusters (a letter and its marks) of the current right-to-left run
    pending = ""  # spaces after an RTL letter: inside the run if another RTL letter follows
    for ch in text:
        if _rtl(ch):
            run += [*pending, ch] if run else [ch]
            pending = ""
        elif run and unicodedata.category(ch) in ("Mn", "Me") and not pending:
            run[-1] += ch
        elif run and ch == " ":
            pending += ch
        else:
            out += [*reversed(run), pending, ch]
            run, pending = [], ""
    out += [*reversed(run), pending]
    return "".join(out)


def placeholder(ch: str) -> str:
    """How a character no font has is printed: legible, and it names the code point."""
    return f"[U+{ord(ch):04X}]"


def ignorable(ch: str) -> bool:
    """A default-ignorable code point (format characters, variation selectors): invisible when no font draws it."""
    cp = ord(ch)
    return (unicodedata.category(ch) == "Cf" or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF
            or 0x180B <= cp <= 0x180F or cp == 0x034F)


def _drawable(font: TTFont) -> frozenset[str]:
    """The characters the font has a glyph for (a cmap entry pointing at glyph 0, .notdef, is a box: not drawable)."""
    return frozenset(chr(c) for c, glyph in font.face.charToGlyph.items()
                     if glyph and unicodedata.category(chr(c)) not in _NEVER_DRAWN)


@dataclass(frozen=True)
class FontChain:
    """The registered chain: what Liberation Serif draws in every face, then each fallback and what it draws."""

    primary: frozenset[str]
    fallbacks: tuple[tuple[str, frozenset[str]], ...]
    printable: frozenset[str]
    _font_of: dict[str, str | None] = field(default_factory=dict, compare=False, repr=False)

    def font_of(self, ch: str) -> str | None:
        """The fallback font that draws ``ch`` ("" when the primary face does, None when no font does)."""
        found = self._font_of.get(ch, "?")
        if found == "?":
            found = "" if ch in self.primary else next((n for n, chars in self.fallbacks if ch in chars), None)
            self._font_of[ch] = found
        return found

    def runs(self, text: str) -> list[tuple[str, str]]:
        """``text`` as (fallback font name, or "" for the primary face; text) runs, what no font has already replaced
        by its placeholder (or left out, when it is invisible)."""
        if self.primary.issuperset(text) and not _RTL_BLOCKS.search(text):  # most text: Liberation Serif alone
            return [("", text)] if text else []
        out: list[tuple[str, str]] = []
        for ch in visual(text):
            font = "" if ch in "\n\t" else self.font_of(ch)
            if font is None:
                if ignorable(ch):
                    continue
                font, ch = "", placeholder(ch)
            if out and out[-1][0] == font:
                out[-1] = (font, out[-1][1] + ch)
            else:
                out.append((font, ch))
        return out

    def markup(self, markup: str) -> str:
        """Paragraph markup with each run the primary face lacks wrapped in ``<font name="…">``."""
        pieces = _MARKUP_TOKEN.split(markup)
        out: list[str] = []
        for index, piece in enumerate(pieces):
            if index % 2:  # a tag or an entity
                out.append(piece)
                continue
            out += [f'<font name="{font}">{run}</font>' if font else run for font, run in self.runs(piece)]
        return "".join(out)

    def width(self, text: str, face: str, size: float) -> float:
        """The width ``text`` is drawn at in ``face`` and its fallbacks."""
        return sum(pdfmetrics.stringWidth(run, font or face, size) for font, run in self.runs(text))

    def draw(self, canvas: Any, x: float, y: float, text: str, face: str, size: float, *, centred: bool = False
             ) -> None:
        """A canvas string in ``face`` and its fallbacks, left-aligned at ``x`` or centred on it."""
        if centred:
            x -= self.width(text, face, size) / 2
        for font, run in self.runs(text):
            canvas.setFont(font or face, size)
            canvas.drawString(x, y, run)
            x += pdfmetrics.stringWidth(run, font or face, size)

    def in_primary(self, text: str) -> str:
        """``text`` for a place drawn in the primary face alone (a chart's labels): what it lacks as placeholders."""
        return "".join(run if not font else "".join(map(placeholder, run)) for font, run in self.runs(text))


_lock = threading.Lock()
_chains: dict[Path, FontChain] = {}


def chain(folder: Path) -> FontChain:
    """Register the fonts of ``folder`` (once) and return the chain."""
    folder = Path(folder)
    with _lock:
        if folder not in _chains:
            _chains[folder] = _register(folder)
        return _chains[folder]


def _register(folder: Path) -> FontChain:
    ttfonts.makeToUnicodeCMap = _to_unicode_cmap  # the one name reportlab's embedding looks up, on first render
    primary: frozenset[str] | None = None
    for name, face in FACES.items():
        font = TTFont(name, str(folder / f"{PRIMARY}-{face}.ttf"))
        pdfmetrics.registerFont(font)
        covered = _drawable(font)
        primary = covered if primary is None else primary & covered
    pdfmetrics.registerFontFamily(PRIMARY, normal=PRIMARY, bold=f"{PRIMARY}-Bold", italic=f"{PRIMARY}-Italic",
                                  boldItalic=f"{PRIMARY}-BoldItalic")
    fallbacks = []
    for name, file in FALLBACKS:
        font = TTFont(name, str(folder / file))
        pdfmetrics.registerFont(font)
        # one face only: inside <b> or <i> the fallback is drawn upright (a symbol or an ideograph, not a word)
        pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)
        fallbacks.append((name, _drawable(font)))
    printable = frozenset().union(primary or (), *(chars for _, chars in fallbacks))
    return FontChain(primary=primary or frozenset(), fallbacks=tuple(fallbacks), printable=printable)


# --- the printable characters, for the text policy ----------------------------------------------------------------

PRINTABLE_FILE = "printable.txt"
_COMMON_BELOW = 0x2000  # Latin, Vietnamese, Greek, Cyrillic, Hebrew, Arabic…: most text


class CodePoints:
    """A set of characters kept as sorted code point ranges; those below U+2000 (most text) also in a frozenset,
    ``common``, so a whole string is checked at C speed (``common.issuperset(text)``)."""

    def __init__(self, ranges: Sequence[tuple[int, int]]) -> None:
        self.ranges = tuple(ranges)
        self._starts = [start for start, _ in self.ranges]
        self.common = frozenset(chr(cp) for start, end in self.ranges for cp in range(start, min(end + 1, _COMMON_BELOW)))

    def __contains__(self, ch: object) -> bool:
        if ch in self.common:
            return True
        if not isinstance(ch, str) or len(ch) != 1:
            return False
        index = bisect_right(self._starts, ord(ch)) - 1
        return index >= 0 and ord(ch) <= self.ranges[index][1]


def ranges_of(chars: Iterable[str]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for cp in sorted(map(ord, chars)):
        if out and out[-1][1] == cp - 1:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


@cache
def printable_points(folder: Path) -> CodePoints:
    """What some font of the chain draws, as ``folder/printable.txt`` lists it (one ``XXXX-YYYY`` range a line)."""
    lines = (Path(folder) / PRINTABLE_FILE).read_text(encoding="ascii").split()
    return CodePoints([(int(a, 16), int(b, 16)) for a, _, b in (line.partition("-") for line in lines)])


def write_printable(folder: Path) -> Path:
    """Write ``folder/printable.txt`` from the fonts of ``folder`` (after a font of the chain is added or replaced)."""
    path = Path(folder) / PRINTABLE_FILE
    ranges = ranges_of(chain(folder).printable)
    path.write_text("".join(f"{a:04X}-{b:04X}\n" for a, b in ranges), encoding="ascii")
    return path
