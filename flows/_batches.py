"""Coarse batching: one Prefect task per batch of inspections, never one per row (~50 ms of server time each)."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any


def batches(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), max(size, 1)):
        yield list(ids[start:start + size])


def merge(stage: str, campaign_code: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The batches' ``StageResult.as_dict()`` summed: their counts (``done``, ``already``, ``waiting``, each outcome's)
    added, their failed inspections joined, the other keys from the first that has them."""
    out: dict[str, Any] = {"stage": stage, "campaign_code": campaign_code, "done": 0, "already": 0}
    outcomes: dict[str, int] = {}
    failed: list[int] = []
    for part in parts:
        out["done"] += part["done"]
        out["already"] += part["already"]
        if part.get("waiting"):
            out["waiting"] = out.get("waiting", 0) + part["waiting"]
        for outcome, count in part.get("outcomes", {}).items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
        failed += part.get("failed", [])
        out.update({k: v for k, v in part.items() if k not in out and k not in ("outcomes", "failed")})
    if outcomes:
        out["outcomes"] = dict(sorted(outcomes.items()))
    if failed:
        out["failed"] = failed
    return out
