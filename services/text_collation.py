"""Vietnamese names in the order people look them up: the Unicode Collation Algorithm (pyuca) with Vietnamese letters.

pyuca implements the UCA over its default table (DUCET): a name compares by its letters first, then by its accents,
then by case (lower first). DUCET treats ă, â, đ, ê, ô, ơ, ư as accented forms of a, d, e, o, u; Vietnamese
dictionaries (and CLDR's Vietnamese tailoring) make them letters of their own (a < ă < â < b, d < đ < e) and order the
tones ngang < huyền < hỏi < ngã < sắc < nặng. ``_vietnamese_collator`` adds those rules to the table once: every
primary weight is spread by ``_SPREAD`` to make room for the new letters right after their base letter, and the five
tone marks get their secondary weights in Vietnamese order. Runs of digits compare by value ("Lô 2" < "Lô 10");
runs of spaces count as one.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, lru_cache

from pyuca import Collator
from pyuca.trie import Node

__all__ = ["collation_key"]

_SPREAD = 4  # room for up to three letters after each base letter
# letter (in NFD), its base letter, its rank after the base (CLDR vi: &a<ă<â &d<đ &e<ê &o<ô<ơ &u<ư)
_LETTERS = (("a\u0306", "a", 1), ("a\u0302", "a", 2), ("đ", "d", 1), ("e\u0302", "e", 1), ("o\u0302", "o", 1),
            ("o\u031b", "o", 2), ("u\u031b", "u", 1))
_TONES = ("\u0300", "\u0309", "\u0303", "\u0301", "\u0323")  # huyền, hỏi, ngã, sắc, nặng
_DIGITS = re.compile(r"\d+")
_NUMBER_WIDTH = 24


class _Spread(Collator):
    """pyuca's collator with primary weights spread (implicit weights too, so CJK keeps its place)."""

    def implicit_weight(self, cp: int) -> list[list[int]]:
        (aaaa, *rest), (bbbb, *rest2) = super().implicit_weight(cp)
        return [[aaaa * _SPREAD, *rest], [bbbb * _SPREAD, *rest2]]


def _nodes(node: Node) -> Iterable[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend((current.children or {}).values())


@cache
def _vietnamese_collator() -> Collator:
    """Built once per process (pyuca reads its 20,000-line table)."""
    collator = _Spread()
    for node in _nodes(collator.table.root):
        if node.value:
            node.value = [[element[0] * _SPREAD, *element[1:]] for element in node.value]
    for letter, base, rank in _LETTERS:
        for cased, cased_base in ((letter, base), (letter.upper(), base.upper())):
            [[primary, secondary, tertiary, *_]] = collator.table.find_prefix([ord(cased_base)])[1]
            collator.table.add([ord(ch) for ch in cased], [[primary + rank, secondary, tertiary]])
    weights = sorted(collator.table.find_prefix([ord(t)])[1][0][1] for t in _TONES)
    for tone, weight in zip(_TONES, weights, strict=True):
        [[primary, _, tertiary, *_]] = collator.table.find_prefix([ord(tone)])[1]
        collator.table.add([ord(tone)], [[primary, weight, tertiary]])
    return collator


@lru_cache(maxsize=65_536)
def collation_key(text: str) -> tuple[int, ...]:
    """A sort key in Vietnamese dictionary order (``sorted(names, key=collation_key)``)."""
    spaced = " ".join((text or "").split())
    padded = _DIGITS.sub(lambda m: m[0].rjust(_NUMBER_WIDTH, "0"), spaced)
    key: tuple[int, ...] = _vietnamese_collator().sort_key(padded)
    return key

