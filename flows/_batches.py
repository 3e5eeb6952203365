"""Coarse batching: one Prefect task per batch of inspections, never one per row (~50 ms of server time each)."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any


def batches(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), max(size, 1)):
        yield list(ids[start:start + size])


def merge(stage: str, campaign_code: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The batches' ``StageResult.as_dict()`` summed: their counts added, the other keys from the first that has them."""
    out: dict[str, Any] = {"stage": stage, "campaign_code": campaign_code, "done": 0, "already": 0}
    for part in parts:
        out["done"] += part["done"]
        out["already"] += part["already"]
        out.update({k: v for k, v in part.items() if k not in out})
    return out
