"""Vietnamese tax codes (mã số thuế, MST): python-stdnum's ``stdnum.vn.mst`` checks them; the stored form and the
Vietnamese reasons are ours.

Format: 10 digits ``PPNNNNNNNC``. ``PP`` is the tax-office province prefix, ``NNNNNNN`` a sequence number from
0000001 to 9999999, and ``C`` the check digit. A branch (chi nhánh, đơn vị phụ thuộc) has the parent's 10 digits
followed by ``-BBB``, with BBB from 001 to 999.

stdnum accepts more than the registry stores: separators anywhere ("01.00.233.488", "0312 68 78 78 - 001"),
full-width digits, and a branch without its dash ("0100233488002"). The registry keeps exactly ``NNNNNNNNNN`` or
``NNNNNNNNNN-BBB`` (ASCII), so ``tax_code_problem`` checks that form first and asks stdnum about the rest.

Edge case: when the weighted sum of the first nine digits is ≡ 0 (mod 11), stdnum's check digit is "10", which no
tenth digit matches, so no valid MST begins with those nine digits. ``tax_code_check_digit`` raises
``InvalidTaxPrefix`` for them, and ``make_tax_code`` draws again.
"""
from __future__ import annotations

import random
import re

from stdnum.exceptions import InvalidChecksum, InvalidComponent
from stdnum.vn import mst

__all__ = ["InvalidTaxPrefix", "tax_code_check_digit", "tax_code_problem", "is_valid_tax_code", "make_tax_code"]

_FORMAT = re.compile(r"(\d{10})(?:-(\d{3}))?")


class InvalidTaxPrefix(ValueError):
    """These nine digits have no valid check digit (the weighted sum is ≡ 0 mod 11)."""


def tax_code_check_digit(first9: str) -> int:
    """The MST check digit for the first nine digits. Raises ``InvalidTaxPrefix`` when there is none."""
    if len(first9) != 9 or not first9.isascii() or not first9.isdigit():
        raise ValueError(f"expected 9 digits, got {first9!r}")
    check = mst.calc_check_digit(first9)
    if len(check) != 1:
        raise InvalidTaxPrefix(f"no valid MST starts with {first9}")
    return int(check)


def tax_code_problem(text: str) -> str | None:
    """Why ``text`` is not a valid MST in the stored form, in Vietnamese; None when it is one."""
    m = _FORMAT.fullmatch(text) if text.isascii() else None
    if m is None:
        return f"Mã số thuế '{text}' sai định dạng: cần 10 chữ số, hoặc 10 chữ số-3 chữ số chi nhánh"
    try:
        mst.validate(text)
    except InvalidComponent:
        if text[2:9] == "0000000":
            return f"Mã số thuế {text} không hợp lệ: 7 chữ số thứ tự (3–9) không được đều là 0"
        return f"Mã số thuế {text} không hợp lệ: mã chi nhánh không được là 000"
    except InvalidChecksum:
        try:
            check = tax_code_check_digit(text[:9])
        except InvalidTaxPrefix:
            return f"Mã số thuế {text} sai chữ số kiểm tra (không mã số thuế nào bắt đầu bằng {text[:9]})"
        return f"Mã số thuế {text} sai chữ số kiểm tra (chữ số thứ 10 phải là {check})"
    return None


def is_valid_tax_code(s: str) -> bool:
    """True for ``NNNNNNNNNN`` or ``NNNNNNNNNN-BBB`` with a correct check digit."""
    return isinstance(s, str) and tax_code_problem(s) is None


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
        check = mst.calc_check_digit(first9)
        if len(check) == 1:
            break
    code = f"{first9}{check}"
    return code if branch is None else f"{code}-{branch:03d}"
