"""How a sanction decision was sent (Luật XLVPHC Art.70 cl.2 as amended by Luật 88/2025), as a pure rule; re-exported
by :mod:`services.rules.deadline_rules`."""
from __future__ import annotations

from enum import StrEnum


class SendMethod(StrEnum):
    """How a sanction decision was sent (Luật XLVPHC Art.70 cl.2 as amended by Luật 88/2025)."""
    DIRECT = "direct"  # a) giao trực tiếp
    POST = "post"  # b) bưu chính bằng hình thức bảo đảm
    ELECTRONIC = "electronic"  # c) phương thức điện tử
    POSTING = "posting"  # d) niêm yết công khai (or through the commune's People's Committee)


SEND_METHOD_VI = {
    SendMethod.DIRECT: "giao trực tiếp cho cá nhân, tổ chức bị xử phạt",
    SendMethod.POST: "gửi qua dịch vụ bưu chính bằng hình thức bảo đảm",
    SendMethod.ELECTRONIC: "gửi bằng phương thức điện tử",
    SendMethod.POSTING: "niêm yết công khai",
}

_SEND_WORDS = ((SendMethod.DIRECT, ("giao trực tiếp", "trực tiếp")), (SendMethod.POST, ("bưu chính", "bưu điện")),
               (SendMethod.ELECTRONIC, ("điện tử", "email", "thư điện tử")), (SendMethod.POSTING, ("niêm yết",)))


def send_method(value: str | None) -> SendMethod | None:
    """The way of sending named by ``value``: an enum value (``direct``, ``post``, ``electronic``, ``posting``) or
    Vietnamese words in a free text ("giao trực tiếp", "bưu chính", "điện tử", "niêm yết"); None when it names none
    or more than one."""
    if value is None:
        return None
    text = value.strip().lower()
    if text in {m.value for m in SendMethod}:
        return SendMethod(text)
    found = {m for m, words in _SEND_WORDS if any(w in text for w in words)}
    if SendMethod.DIRECT in found and "giao trực tiếp" not in text and len(found) > 1:
        found.discard(SendMethod.DIRECT)  # "trực tiếp" alone, next to another way, is not a delivery by hand
    return next(iter(found)) if len(found) == 1 else None
