"""Vietnamese tax codes (mã số thuế, MST).

Format: 10 digits ``PPNNNNNNNC``. ``PP`` is the tax-office province prefix, ``NNNNNNN`` a sequence number from
0000001 to 9999999, and ``C`` the check digit. A branch (chi nhánh, đơn vị phụ thuộc) has the parent's
10 digits followed by ``-BBB``, with BBB from 001 to 999.

Check digit: multiply the first nine digits by the weights 31, 29, 23, 19, 17, 13, 7, 5, 3, add the
products, and take ``10 - (sum mod 11)``. This is the same as python-stdnum's ``stdnum/vn/mst.py``
(``calc_check_digit``, repo arthurdejong/python-stdnum, file version at commit
5d4ad17cae8abeab21f446b5569f85d185566330), which also rejects a sequence part of ``0000000`` and a
branch suffix of ``000``.

Edge cases: ``sum mod 11`` is between 0 and 10, so the result is between 10 and 0. When ``sum mod 11 == 0``
the result is 10, which is not a single digit. python-stdnum compares the string ``"10"`` with the tenth
digit, which never matches, so no valid MST begins with such a nine-digit prefix. Here
``tax_code_check_digit`` raises ``InvalidTaxPrefix`` for it, and ``make_tax_code`` draws again. An 11 would
come only from the ``11 - (sum mod 11)`` form of the algorithm, which is not the one used here. It cannot
come out of this formula, and it would be invalid in the same way.
"""
from __future__ import annotations

import random
import re

__all__ = ["InvalidTaxPrefix", "WEIGHTS", "tax_code_check_digit", "is_valid_tax_code", "make_tax_code"]

WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
_FORMAT = re.compile(r"(\d{10})(?:-(\d{3}))?")


class InvalidTaxPrefix(ValueError):
    """These nine digits have no valid check digit (the weighted sum is ≡ 0 mod 11)."""


def _check(first9: str) -> int:
    total = sum(w * (ord(ch) - 48) for w, ch in zip(WEIGHTS, first9, strict=True))
    return 10 - total % 11


def tax_code_check_digit(first9: str) -> int:
    """The MST check digit for the first nine digits. Raises ``InvalidTaxPrefix`` when there is none."""
    if len(first9) != 9 or not first9.isascii() or not first9.isdigit():
        raise ValueError(f"expected 9 digits, got {first9!r}")
    check = _check(first9)
    if check > 9:
        raise InvalidTaxPrefix(f"no valid MST starts with {first9}")
    return check


def is_valid_tax_code(s: str) -> bool:
    """True for ``NNNNNNNNNN`` or ``NNNNNNNNNN-BBB`` with a correct check digit."""
    if not isinstance(s, str) or not s.isascii():
        return False
    m = _FORMAT.fullmatch(s)
    if m is None:
        return False
    main, branch = m.group(1), m.group(2)
    if main[2:9] == "0000000" or branch == "000":
        return False
    check = _check(main[:9])
    return check <= 9 and ord(main[9]) - 48 == check


def make_tax_code(rng: random.Random, province_prefix: str | None = None, *, branch: int | None = None) -> str:
    """A random valid MST from ``rng``.

    ``province_prefix`` is the two-digit tax-office prefix. When it is not given, one is drawn from 01–99.
    ``branch`` (1..999) adds a ``-BBB`` branch suffix.
    """
    if province_prefix is None:
        province_prefix = f"{1 + int(rng.random() * 99):02d}"
    elif len(province_prefix) != 2 or not province_prefix.isdigit():
        raise ValueError(f"province prefix must be two digits, got {province_prefix!r}")
    if branch is not None and not 1 <= branch <= 999:
        raise ValueError("branch must be 1..999")
    while True:
        first9 = f"{province_prefix}{1 + int(rng.random() * 9_999_999):07d}"
        check = _check(first9)
        if check <= 9:
            break
    code = f"{first9}{check}"
    return code if branch is None else f"{code}-{branch:03d}"
