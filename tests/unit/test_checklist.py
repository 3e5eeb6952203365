"""The inspection checklist: versions by date, the split between agencies, and the clause behind each item."""
from __future__ import annotations

import json
from datetime import date

import pytest

from services.rules import (
    ChecklistError,
    UnknownChecklistItem,
    load_checklist,
    load_fine_table,
    parse_checklist,
    propose_fine,
)
from services.settings import RULES_DIR

ND = "12/2022/ND-CP "


@pytest.fixture(scope="module")
def checklist():
    return load_checklist(date(2025, 7, 1))


def test_version_in_force(checklist):
    assert checklist.version == "2025.1"
    assert checklist.effective_from == date(2025, 7, 1)
    assert 20 <= len(checklist.items) <= 30


def test_no_version_before_the_first(checklist):
    with pytest.raises(ChecklistError, match="in force on 2025-06-30"):
        load_checklist(date(2025, 6, 30))


def test_items_split_between_the_two_agencies(checklist):
    labour, health = checklist.items_for("labour"), checklist.items_for("health")
    assert labour and health
    assert len(labour) + len(health) == len(checklist.items)
    assert all(item.code.startswith("LD-") for item in labour)
    assert all(item.code.startswith("YT-") for item in health)
    assert checklist.items_for("other") == ()


def test_key_items_cite_the_clause_the_gazette_sets(checklist):
    by_risk = {}
    for item in checklist.items:
        by_risk.setdefault(item.risk_factor, []).append(item)
    # Art.22 cl.2: "không tổ chức khám sức khỏe định kỳ hoặc khám phát hiện bệnh nghề nghiệp" (per worker)
    exam = next(i for i in by_risk["health_exam"] if i.provision == ND + "Art.22 cl.2")
    assert exam.agency == "health" and exam.counts_workers and not exam.counts_devices
    # Art.27 cl.3: "không tiến hành quan trắc môi trường lao động" (flat)
    assert any(i.provision == ND + "Art.27 cl.3" and not i.counts_workers for i in by_risk["monitoring"])
    # Art.24 cl.4: "không kiểm định ... theo ... số máy, thiết bị, vật tư"
    assert any(i.provision.startswith(ND + "Art.24 cl.4(") and i.counts_devices for i in by_risk["equipment"])
    # Art.25 cl.1: "không tổ chức huấn luyện ... theo ... số người"
    assert all(i.provision.startswith(ND + "Art.25 cl.1(") and i.counts_workers for i in by_risk["training"])


def test_every_item_can_be_fined_as_the_inspector_records_it(checklist):
    table = load_fine_table()
    for item in checklist.items:
        proposal = propose_fine(table.get(item.provision), organisation=True,
                                workers=12 if item.counts_workers else None,
                                devices=5 if item.counts_devices else None)
        assert proposal.range_min <= proposal.amount <= proposal.range_max, item.code


def test_get(checklist):
    assert checklist.get("YT-01").agency == "health"
    with pytest.raises(UnknownChecklistItem) as caught:
        checklist.get("YT-99")
    assert caught.value.code == "YT-99"


def _document(**item_changes):
    item = {"code": "YT-01", "agency": "health", "text_vi": "Có khám sức khỏe định kỳ không?",
            "provision": ND + "Art.22 cl.2", "counts_workers": True, "counts_devices": False,
            "risk_factor": "health_exam"}
    return {"version": "t", "effective_from": "2025-07-01", "items": [item | item_changes]}


@pytest.mark.parametrize(("changes", "message"), [
    ({"provision": ND + "Art.22 cl.12"}, "YT-01.*not in the fine table"),
    ({"counts_workers": False}, "YT-01.*counts_workers must be true"),
    ({"provision": ND + "Art.24 cl.4(a)", "counts_workers": False}, "counts_devices true"),
    ({"agency": "labour"}, "YT-01.*does not match"),
    ({"code": "X-1"}, "code must look like"),
    ({"risk_factor": "Health exam"}, "risk_factor"),
])
def test_invalid_item_named_in_the_error(changes, message):
    with pytest.raises(ChecklistError, match=message):
        parse_checklist(_document(**changes), fine_table=load_fine_table())


def test_duplicate_item_code():
    document = _document()
    document["items"] *= 2
    with pytest.raises(ChecklistError, match="YT-01: code used twice"):
        parse_checklist(document, fine_table=load_fine_table())


def test_picks_the_version_in_force_on_the_date(tmp_path):
    current = json.loads((RULES_DIR / "checklist_2025.json").read_text(encoding="utf-8"))
    (tmp_path / "checklist_2025.json").write_text(json.dumps(current), encoding="utf-8")
    later = current | {"version": "2026.1", "effective_from": "2026-01-01", "items": current["items"][:3]}
    (tmp_path / "checklist_2026.json").write_text(json.dumps(later), encoding="utf-8")
    assert load_checklist(date(2025, 12, 31), rules_dir=tmp_path).version == "2025.1"
    assert load_checklist(date(2026, 1, 1), rules_dir=tmp_path).version == "2026.1"
