"""The inspection checklist: versions by date, the split between agencies, and the clauses behind each item in
every catalog in force for its version."""
from __future__ import annotations

import json
from datetime import date

import pytest

from services.rules import load_checklist, load_fine_table, parse_checklist, propose_fine
from services.errors import ChecklistError, UnknownChecklistItem
from services.rules.checklist import ActKind
from services.errors import UnlinkedProvision
from services.rules.decrees import decrees_in_force_between, load_catalog, load_decrees
from services.settings import RULES_DIR

ND12, ND283 = "12/2022/ND-CP", "283/2026/ND-CP"
ND = ND12 + " "
VERSION_DATES = [date(2023, 5, 10), date(2025, 7, 1), date(2026, 9, 10)]  # one day of each version


@pytest.fixture(scope="module")
def checklist():
    return load_checklist(date(2025, 7, 1))


@pytest.mark.parametrize(("on", "version"), [
    (date(2023, 5, 10), "2022.1"),  # an inspection dated 2023 gets the first version
    (date(2025, 6, 30), "2022.1"),  # the day before the 2025 reorganisation
    (date(2025, 7, 1), "2025.1"),
    (date(2026, 9, 9), "2025.1"),  # NĐ 12/2022's last day
    (date(2026, 9, 10), "2026.1"),  # NĐ 283/2026 in force
])
def test_version_in_force(on, version):
    assert load_checklist(on).version == version


def test_version_2025(checklist):
    assert checklist.version == "2025.1"
    assert (checklist.effective_from, checklist.effective_to) == (date(2025, 7, 1), date(2026, 9, 9))
    assert 20 <= len(checklist.items) <= 30


def test_no_version_before_the_first():
    with pytest.raises(ChecklistError, match="in force on 2022-01-16"):
        load_checklist(date(2022, 1, 16))


def _expected_catalogs(version) -> set[str]:
    # "in force for a version": any day from one limitation period (decrees.json) before its start to its end
    years = load_catalog().limitation_years
    start = version.effective_from.replace(year=version.effective_from.year - years)
    return {d.key for d in load_decrees()
            if d.in_force_from <= (version.effective_to or date.max)
            and (d.in_force_to is None or d.in_force_to >= start)}


@pytest.mark.parametrize("on", VERSION_DATES)
def test_every_item_is_linked_to_each_catalog_in_force(on):
    version, table = load_checklist(on), load_fine_table()
    expected = _expected_catalogs(version)
    assert set(version.decrees) == expected
    for item in version.items:
        assert set(item.provisions) == expected, item.code
        for decree, code in item.provisions.items():
            if code is None:  # the newer decree has no such offence: said so, never invented
                assert item.unlinked_vi[decree].strip(), item.code
                continue
            assert table.get(code).decree == decree, (item.code, code)
            assert item.provision_for(decree) == code


def test_the_catalogs_of_each_version():
    # 2022.1 and 2025.1 link NĐ 12 only; 2026.1 both: NĐ 12 for acts ended before 10/09/2026, NĐ 283 for the rest
    assert [load_checklist(on).decrees for on in VERSION_DATES] == [(ND12,), (ND12,), (ND12, ND283)]
    assert decrees_in_force_between(date(2025, 9, 10), None)[-1].key == ND283


def test_item_codes_are_stable_across_versions():
    codes = [[item.code for item in load_checklist(on).items] for on in VERSION_DATES]
    assert codes[0] == codes[1] == codes[2]


def test_wording_follows_the_decree_and_the_body_of_the_time():
    ld09 = [load_checklist(on).get("LD-09").text_vi for on in VERSION_DATES]
    assert "Sở Lao động - Thương binh và Xã hội" in ld09[0] and "30 ngày trước hoặc sau khi" in ld09[0]
    assert "Sở Nội vụ" in ld09[1]
    # NĐ 283 Art.35 cl.1: "trong khoảng thời gian 30 ngày kể từ ngày đưa vào sử dụng"
    assert "Sở Nội vụ" in ld09[2] and "trong thời hạn 30 ngày kể từ ngày đưa vào sử dụng" in ld09[2]


def test_links_in_2026_follow_the_counterparts_table():
    item = load_checklist(date(2026, 9, 10)).get("LD-09")
    assert item.provisions == {ND12: ND + "Art.24 cl.1", ND283: "283/2026/ND-CP Art.35 cl.1"}
    assert item.provision == "283/2026/ND-CP Art.35 cl.1"  # old callers get the newest decree's clause
    assert item.act_kind is ActKind.ENDED


def test_an_item_without_counterpart_says_so():
    # NĐ 12 Art.21 cl.5 (đánh giá, phân loại lao động theo điều kiện lao động) has no NĐ 283 counterpart
    item = load_checklist(date(2026, 9, 10)).get("LD-16")
    assert item.provisions == {ND12: ND + "Art.21 cl.5", ND283: None}
    assert item.provision == ND + "Art.21 cl.5"
    with pytest.raises(UnlinkedProvision, match="LD-16.*283/2026/ND-CP"):
        item.provision_for(ND283)
    with pytest.raises(UnlinkedProvision, match="YT-01.*283/2026/ND-CP"):
        load_checklist(date(2025, 7, 1)).get("YT-01").provision_for(ND283)


@pytest.mark.parametrize("on", VERSION_DATES)
def test_every_item_has_an_act_kind_with_its_reason(on):
    for item in load_checklist(on).items:
        assert item.act_kind in (ActKind.ONGOING, ActKind.ENDED) and item.act_kind_note, item.code
    kinds = {item.code: item.act_kind for item in load_checklist(on).items}
    assert kinds["LD-01"] is ActKind.ONGOING  # no safety officer at the visit
    assert kinds["LD-03"] is ActKind.ENDED  # a report not sent by its deadline


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


@pytest.mark.parametrize("on", VERSION_DATES)
def test_every_item_can_be_fined_as_the_inspector_records_it(on):
    table = load_fine_table()
    for item in load_checklist(on).items:
        for code in filter(None, item.provisions.values()):
            proposal = propose_fine(table.get(code), organisation=True,
                                    workers=12 if item.counts_workers else None,
                                    devices=5 if item.counts_devices else None)
            assert proposal.range_min <= proposal.amount <= proposal.range_max, (item.code, code)


def test_get(checklist):
    assert checklist.get("YT-01").agency == "health"
    with pytest.raises(UnknownChecklistItem) as caught:
        checklist.get("YT-99")
    assert caught.value.code == "YT-99"


# --------------------------------------------------------------------------- broken files


def _parse(document, effective_to=date(2026, 9, 9)):
    # a version that ends the day before NĐ 283/2026: NĐ 12/2022 is its only catalog
    return parse_checklist(document, fine_table=load_fine_table(), source="checklist_t.json",
                           effective_to=effective_to)


def _document(effective_from="2025-07-01", **item_changes):
    item = {"code": "YT-01", "agency": "health", "text_vi": "Có khám sức khỏe định kỳ không?",
            "provisions": {ND12: ND + "Art.22 cl.2"}, "act_kind": "ongoing",
            "act_kind_note": "Người lao động chưa được khám vẫn đang làm việc.", "counts_workers": True,
            "counts_devices": False, "risk_factor": "health_exam"}
    return {"version": "t", "effective_from": effective_from, "items": [item | item_changes]}


@pytest.mark.parametrize(("changes", "message"), [
    ({"provisions": {ND12: ND + "Art.22 cl.12"}}, "YT-01.*not in the fine table"),
    ({"provisions": {ND12: "283/2026/ND-CP Art.33 cl.2"}}, "YT-01.*of decree 12/2022/ND-CP is not in the fine table"),
    ({"provisions": {}}, "YT-01.*decree 12/2022/ND-CP is in force for this version but not linked"),
    ({"provisions": {ND12: ND + "Art.22 cl.2", ND283: "283/2026/ND-CP Art.33 cl.2"}},
     "YT-01.*decree 283/2026/ND-CP is linked but not in force"),
    ({"provisions": {ND12: None}}, "YT-01.*linked to null without unlinked_vi"),
    ({"provision": ND + "Art.22 cl.2"}, "YT-01.*replaced by 'provisions'"),
    ({"counts_workers": False}, "YT-01.*counts_workers must be true"),
    ({"provisions": {ND12: ND + "Art.24 cl.4(a)"}, "counts_workers": False}, "counts_devices true"),
    ({"act_kind": "continuing"}, "YT-01.*act_kind must be"),
    ({"act_kind_note": " "}, "YT-01.*act_kind_note is empty"),
    ({"agency": "labour"}, "YT-01.*does not match"),
    ({"code": "X-1"}, "code must look like"),
    ({"risk_factor": "Health exam"}, "risk_factor"),
])
def test_invalid_item_named_in_the_error(changes, message):
    with pytest.raises(ChecklistError, match=message):
        _parse(_document(**changes))


def test_a_version_after_the_change_must_link_both_catalogs():
    # from 10/09/2026 an NĐ 12 link alone is not enough: NĐ 283 is in force for the version
    with pytest.raises(ChecklistError, match=r"checklist_t.json: item 1 \(YT-01\): decree 283/2026/ND-CP.*not linked"):
        _parse(_document("2026-09-10"), effective_to=None)


def test_counts_are_the_union_of_the_linked_clauses():
    # NĐ 12 Art.21 cl.2(b) is flat; linking NĐ 283 Art.33 cl.2 (per worker) beside it asks for workers
    document = _document("2026-09-10", provisions={ND12: ND + "Art.21 cl.2(b)", ND283: "283/2026/ND-CP Art.33 cl.2"})
    assert _parse(document, effective_to=None).items[0].counts_workers


def test_duplicate_item_code():
    document = _document()
    document["items"] *= 2
    with pytest.raises(ChecklistError, match="YT-01: code used twice"):
        _parse(document)


def test_a_broken_file_in_the_rules_directory_names_file_item_and_decree(tmp_path):
    current = json.loads((RULES_DIR / "checklist_2026.json").read_text(encoding="utf-8"))
    del current["items"][4]["provisions"][ND283]
    (tmp_path / "checklist_2026.json").write_text(json.dumps(current), encoding="utf-8")
    with pytest.raises(ChecklistError, match=r"checklist_2026.json: item 5 \(LD-05\): decree 283/2026/ND-CP"):
        load_checklist(date(2026, 10, 1), rules_dir=tmp_path)


def test_picks_the_version_in_force_on_the_date(tmp_path):
    current = json.loads((RULES_DIR / "checklist_2026.json").read_text(encoding="utf-8"))
    (tmp_path / "checklist_2026.json").write_text(json.dumps(current), encoding="utf-8")
    later = current | {"version": "2027.1", "effective_from": "2027-01-01", "items": current["items"][:3]}
    (tmp_path / "checklist_2027.json").write_text(json.dumps(later), encoding="utf-8")
    assert load_checklist(date(2026, 12, 31), rules_dir=tmp_path).effective_to == date(2026, 12, 31)
    assert load_checklist(date(2027, 1, 1), rules_dir=tmp_path).version == "2027.1"
