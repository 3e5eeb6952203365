"""Choosing the amount within a range (NĐ 118/2021/NĐ-CP Art.9 as amended) and writing it in đồng: pure arithmetic,
no table, the one implementation shared by :func:`services.rules.fines.propose_fine` and
:func:`services.rules.circumstances.propose_amount`.

The midpoint of the range; mitigating and aggravating circumstances cancel one for one; one net mitigating
circumstance → the law only says "between the minimum and the midpoint", so the engine proposes the middle of that
interval (likewise between midpoint and maximum for one aggravating); two or more → the minimum (maximum). Amounts
are rounded half up to whole đồng. The proposal is only a proposal: the competent official may choose any amount
within the range.
"""
from __future__ import annotations

import math
from fractions import Fraction

CIRCUMSTANCES_BASIS_VI = "Điều 9 Nghị định số 118/2021/NĐ-CP đã được sửa đổi, bổ sung"


def vnd(amount: int) -> str:
    """``1.500.000 đồng`` (Vietnamese thousands separator)."""
    return f"{amount:,}".replace(",", ".") + " đồng"


def _round(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))  # half up, to whole đồng


def choose_amount(low: int, high: int, *, mitigating: int, aggravating: int) -> tuple[int, list[str]]:
    """The proposed amount in ``low``..``high`` for the net circumstances, and the Vietnamese working lines."""
    mid = Fraction(low + high, 2)
    lines = [f"Mức trung bình của khung tiền phạt: ({vnd(low)} + {vnd(high)}) : 2 = {vnd(_round(mid))}."]
    net = aggravating - mitigating
    there = "Sau bù trừ, còn" if mitigating and aggravating else "Có"
    if mitigating and aggravating:
        lines.append(f"Có {mitigating:02d} tình tiết giảm nhẹ và {aggravating:02d} tình tiết tăng nặng, "
                     "bù trừ một đối một.")
    if net == 0:
        lines.append("Sau bù trừ, không còn tình tiết giảm nhẹ, tăng nặng." if mitigating
                     else "Không có tình tiết giảm nhẹ, tăng nặng.")
        lines.append(f"Áp dụng mức trung bình của khung tiền phạt ({CIRCUMSTANCES_BASIS_VI}).")
        return _round(mid), lines
    if net == -1:
        amount = _round((low + mid) / 2)
        lines.append(f"{there} 01 tình tiết giảm nhẹ: mức phạt nằm giữa mức tối thiểu và mức trung bình "
                     f"({CIRCUMSTANCES_BASIS_VI}); đề xuất điểm giữa khoảng này: ({vnd(low)} + "
                     f"{vnd(_round(mid))}) : 2 = {vnd(amount)}.")
        return amount, lines
    if net == 1:
        amount = _round((mid + high) / 2)
        lines.append(f"{there} 01 tình tiết tăng nặng: mức phạt nằm giữa mức trung bình và mức tối đa "
                     f"({CIRCUMSTANCES_BASIS_VI}); đề xuất điểm giữa khoảng này: ({vnd(_round(mid))} + "
                     f"{vnd(high)}) : 2 = {vnd(amount)}.")
        return amount, lines
    if net < 0:
        lines.append(f"{there} từ 02 tình tiết giảm nhẹ trở lên: áp dụng mức tối thiểu của khung tiền phạt, "
                     f"{vnd(low)} ({CIRCUMSTANCES_BASIS_VI}).")
        return low, lines
    lines.append(f"{there} từ 02 tình tiết tăng nặng trở lên: áp dụng mức tối đa của khung tiền phạt, "
                 f"{vnd(high)} ({CIRCUMSTANCES_BASIS_VI}).")
    return high, lines
