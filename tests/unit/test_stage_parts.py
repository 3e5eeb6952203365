"""flows/stage_parts.py: a stage's inspections split into parts the process workers share."""
from __future__ import annotations

from flows.run_campaign import _in_parts
from flows.stage_parts import STAGES, split


def test_parts_cover_every_inspection_once_alike_in_size_and_never_empty() -> None:
    ids = list(range(101, 111))
    parts = split(ids, 3)
    assert parts == [[101, 104, 107, 110], [102, 105, 108], [103, 106, 109]]
    assert sorted(i for part in parts for i in part) == ids
    assert split(ids[:2], 4) == [[101], [102]]
    assert split([], 2) == []
    assert split(ids, 0) == [ids]


def test_without_parts_run_campaign_runs_the_stage_in_its_own_flow_run() -> None:
    def whole(code: str) -> dict[str, str]:
        return {"stage": code}

    assert _in_parts("issue-records", 0, whole) is whole
    assert _in_parts("issue-records", 2, whole) is not whole
    assert set(STAGES) == {"issue-records", "decide-sanctions"}
