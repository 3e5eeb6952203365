"""The "danh sách cơ sở dự kiến kiểm tra" (DOMAIN.md 2.2 and 5): the shared wording of a selection.

The PDF (template ``danh_sach_co_so``), the spreadsheet (:mod:`services.documents.xlsx`), the API and the CLI
all show an establishment's reasons with :func:`reasons_vi`, so every place gives the same text.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from services.documents.format import group_digits, nfc

# SelectionKind value (models.campaign) -> the words on the list. Keys are the enum's string values, so
# ``KIND_VI[SelectionKind.RISK]`` works (a StrEnum hashes as its value).
KIND_VI: dict[str, str] = {
    "risk": "Theo rủi ro",
    "control": "Mẫu đối chứng ngẫu nhiên",
    "trigger": "Đột xuất (có căn cứ)",
    "lead_added": "Bổ sung theo đề nghị của trưởng đoàn",
}


def decimal_vi(value: Any, places: int = 2) -> str:
    """A number the Vietnamese way, without trailing zeros: 30 -> '30', 2.5 -> '2,5', 1234.5 -> '1.234,5'."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    exact = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if exact < 0 else ""
    whole, _, fraction = f"{abs(exact):f}".partition(".")
    fraction = fraction.rstrip("0")
    return sign + group_digits(int(whole)) + ("," + fraction if fraction else "")


def reasons_vi(factors: Mapping[str, float], labels: Mapping[str, str]) -> str:
    """'Tai nạn lao động chết người (3 năm): 30; Chưa quan trắc môi trường lao động trong 12 tháng: 10; …'.

    Most points first; equal points keep the order of ``labels`` (the policy file's order), so the text
    does not depend on how ``factors`` was built. Factors worth 0 are left out. A factor without a label
    raises ``KeyError``: the labels must come from the policy version that scored the establishment.
    """
    order = {key: i for i, key in enumerate(labels)}
    missing = [key for key in factors if key not in order]
    if missing:
        raise KeyError(f"no Vietnamese label for risk factor(s) {sorted(missing)}")
    kept = [(key, points) for key, points in factors.items() if points]
    kept.sort(key=lambda item: (-item[1], order[item[0]]))
    return "; ".join(f"{nfc(labels[key])}: {decimal_vi(points)}" for key, points in kept)


def policy_labels(policy: Any) -> dict[str, str]:
    """Factor key -> Vietnamese label of a :class:`services.rules.risk.RiskPolicy`, in the policy's order."""
    return {key: policy.label_vi(key) for key in policy.factors}


__all__ = ["KIND_VI", "decimal_vi", "policy_labels", "reasons_vi"]
