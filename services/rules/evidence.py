"""Which evidence files the engine takes: the rules both the findings check and the evidence store apply.

A leaf (it imports nothing of the engine): ``services.intake.logic`` checks the files declared with findings
against :class:`EvidenceRules`, ``services.intake.evidence`` checks each upload's type with :func:`media_type`.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any


def media_type(content_type: str | None) -> str:
    """``"Image/JPEG; charset=x"`` → ``"image/jpeg"``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class EvidenceRules:
    """What the evidence store accepts (settings): a file declared outside them could never arrive."""

    types: tuple[str, ...]
    max_bytes: int

    @classmethod
    def from_settings(cls, settings: Any) -> EvidenceRules:
        return cls(tuple(settings.evidence_types), settings.evidence_max_bytes)


def attachment_errors(attachments: Sequence[Any], rules: EvidenceRules | None) -> list[str]:
    """The declared files (``.sha256``, ``.name``, ``.content_type``, ``.size``): no file twice, and, when the
    store's rules are given, each of a type it takes and within its size."""
    errors, seen = [], set()
    for i, a in enumerate(attachments):
        where = f"attachments[{i}]"
        if a.sha256 in seen:
            errors.append(f"{where}.sha256: tệp '{a.name}' đã được khai báo ở trên (trùng mã SHA-256)")
        seen.add(a.sha256)
        if rules is not None and media_type(a.content_type) not in rules.types:
            errors.append(f"{where}.content_type: loại tệp '{media_type(a.content_type)}' không được nhận "
                          f"(chỉ nhận: {', '.join(rules.types)})")
        if rules is not None and a.size > rules.max_bytes:
            errors.append(f"{where}.size: {a.size:,} byte, vượt quá dung lượng tối đa {rules.max_bytes:,} byte")
    return errors


CAPTURE_FUTURE_SLACK = timedelta(minutes=10)  # a phone's clock running ahead
CAPTURE_EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)  # a phone's clock never set (and no year-1 overflow)


def capture_errors(attachments: Sequence[Any], item_codes: Collection[str], now: datetime) -> list[str]:
    """A photo's checklist item (``.item_code``) is one the submission answers; its capture time (``.captured_at``,
    aware) is not more than :data:`CAPTURE_FUTURE_SLACK` after ``now`` nor before :data:`CAPTURE_EARLIEST`."""
    errors = []
    for i, a in enumerate(attachments):
        where = f"attachments[{i}]"
        if a.item_code is not None and a.item_code not in item_codes:
            errors.append(f"{where}.item_code: mục '{a.item_code}' không có trong các kết quả gửi kèm (findings)")
        if a.captured_at is not None and a.captured_at > now + CAPTURE_FUTURE_SLACK:
            errors.append(f"{where}.captured_at: thời điểm chụp ở tương lai (quá 10 phút so với giờ của hệ thống)")
        elif a.captured_at is not None and a.captured_at < CAPTURE_EARLIEST:
            errors.append(f"{where}.captured_at: thời điểm chụp trước năm 2000; đồng hồ của điện thoại chưa đúng")
    return errors
