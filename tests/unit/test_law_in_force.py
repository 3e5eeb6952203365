"""The law in force on the day, at each boundary: the amount, the provision cited (decree, article, clause, point),
the signer's title and the issuing body of a file — every expected value worked out by hand from the texts in
``shared/legal`` and written here with its reasoning.

Boundaries:
- 30/06 → 01/07/2025: Luật 88/2025/QH15 and NĐ 189/2025/NĐ-CP take effect; sở inspectorates are abolished (Luật Thanh
  tra 84/2025). Until 30/06/2025 a Sở-level file is the Chánh Thanh tra Sở's (NĐ 12/2022 Art.49 cl.2 b: "phạt tiền
  đến 37.500.000 đồng"), issued by Thanh tra Sở; from 01/07/2025 it is the Giám đốc Sở Nội vụ's (NĐ 189/2025 Art.6
  cl.2 b: "đến 80% mức tiền phạt tối đa" = 80% × 75.000.000 = 60.000.000 đồng), issued by Sở Nội vụ.
- 09/09 → 10/09/2026: NĐ 283/2026/NĐ-CP replaces NĐ 12/2022 (its Art.66 cl.1, cl.4). Art.67 cl.1: an act that took
  place and ended before 10/09/2026 → the decree in force when it was committed; cl.2: an act still going on →
  NĐ 283.
- 25/09 → 26/09/2026: NĐ 311/2026/NĐ-CP amends NĐ 189/2025 (provincial inspection titles); the campaign's deciders
  (NĐ 283 Art.55, 61) are unchanged.
Organisations: amounts and competence ×2 (NĐ 12 Art.6 cl.1–2; NĐ 283 Art.7 cl.1, Art.63 cl.1); a household business
is fined as an individual (NĐ 283 Art.7 cl.3).
"""
from __future__ import annotations

from datetime import date

import pytest

from services.rules.checklist import load_checklist
from services.rules.fines import load_fine_table, propose_fine, provision_vi
from services.rules.procedure import procedure_for
from services.errors import CompetenceRefused
from services.rules.sanctions import decision_authority, decree_for_act, issuing_body, plan_act
from services.errors import ActDateNeeded, NotSanctioned

M = 1_000_000
PLACE = {"area_vi": "tỉnh Cao Bằng", "department_code": "SNV", "province_code": "04", "place": "Cao Bằng"}


def file_on(decided_on: date, ranges_max: list[int], *, organisation: bool, person: str | None = None) -> tuple[str, dict]:
    """(the title that decides, the body that issues) for a file decided on ``decided_on``."""
    procedure = procedure_for(decided_on)
    authority = decision_authority(ranges_max, organisation=organisation, decided_on=decided_on, procedure=procedure,
                                   person_title=person)
    body = issuing_body(authority.signer, labour_department_vi=procedure.labour_department_vi, **PLACE)
    return authority.signer.title, body


# --------------------------------------------------------------------------- 30/06 → 01/07/2025


def test_a_so_level_file_before_and_after_1_july_2025() -> None:
    # NĐ 12/2022 Art.21 cl.2 b (no qualified OSH officer): "Phạt tiền từ 5.000.000 đồng đến 10.000.000 đồng";
    # an enterprise pays double (Art.6 cl.1): 10–20 million, midpoint 15 million, no circumstance.
    rule = load_fine_table().get("12/2022/ND-CP Art.21 cl.2(b)")
    proposal = propose_fine(rule, organisation=True)
    assert (proposal.range_min, proposal.range_max, proposal.amount) == (10 * M, 20 * M, 15 * M)
    assert proposal.provision_vi == "điểm b khoản 2 Điều 21 Nghị định số 12/2022/NĐ-CP"
    # 30/06/2025: the Chánh Thanh tra Sở (Sở Nội vụ since the March 2025 merger) may fine an organisation up to
    # 2 × 37.5 = 75 million ≥ 20 million → Thanh tra Sở issues, under Sở Nội vụ.
    title, body = file_on(date(2025, 6, 30), [20 * M], organisation=True)
    assert title == "Chánh Thanh tra Sở Nội vụ"
    assert (body["parent_name"], body["name"], body["code"]) == ("Sở Nội vụ", "Thanh tra Sở", "SNV-TTr")
    # 01/07/2025: no sở inspectorate; the Giám đốc Sở Nội vụ (80% → 60 million, ×2 = 120 million) decides and
    # Sở Nội vụ issues in its own number series.
    title, body = file_on(date(2025, 7, 1), [20 * M], organisation=True)
    assert title == "Giám đốc Sở Nội vụ"
    assert (body["parent_name"], body["name"], body["code"]) == ("Ủy ban nhân dân tỉnh Cao Bằng", "Sở Nội vụ", "SNV")
    assert body["decider_vi"] == "Giám đốc Sở Nội vụ tỉnh Cao Bằng"


def test_a_file_goes_from_the_chair_to_the_director_on_1_july_2025() -> None:
    # NĐ 12/2022 Art.24 cl.4 b: "Từ 30.000.000 đồng đến 50.000.000 đồng đối với vi phạm từ 04 đến 10 máy, thiết bị,
    # vật tư"; an enterprise with 6 uninspected machines: 60–100 million, midpoint 80 million.
    rule = load_fine_table().get("12/2022/ND-CP Art.24 cl.4(a)")
    proposal = propose_fine(rule, organisation=True, devices=6)
    assert (proposal.range_min, proposal.range_max, proposal.amount) == (60 * M, 100 * M, 80 * M)
    assert proposal.provision_vi == "điểm b khoản 4 Điều 24 Nghị định số 12/2022/NĐ-CP"
    # 30/06/2025: 100 million > 75 million (the Chánh Thanh tra Sở's ceiling for an organisation) → the whole file
    # goes to the Chủ tịch UBND tỉnh (2 × 75 = 150 million), issued by Ủy ban nhân dân tỉnh in its own series.
    title, body = file_on(date(2025, 6, 30), [100 * M], organisation=True)
    assert title == "Chủ tịch Ủy ban nhân dân tỉnh"
    assert (body["parent_name"], body["name"], body["code"]) == ("", "Ủy ban nhân dân tỉnh Cao Bằng", "UBND-04")
    assert body["decider_vi"] == "Chủ tịch Ủy ban nhân dân tỉnh Cao Bằng"
    # 01/07/2025: 100 million ≤ 120 million (Giám đốc Sở Nội vụ, organisation) → Sở Nội vụ.
    title, body = file_on(date(2025, 7, 1), [100 * M], organisation=True)
    assert (title, body["name"]) == ("Giám đốc Sở Nội vụ", "Sở Nội vụ")


def test_a_household_business_is_judged_as_an_individual() -> None:
    # NĐ 12/2022 Art.22 cl.10 (forcing work under serious danger): "từ 30.000.000 đồng đến 40.000.000 đồng" — a
    # household business pays the individual amounts: 30–40 million, midpoint 35 million.
    rule = load_fine_table().get("12/2022/ND-CP Art.22 cl.10(a)")
    proposal = propose_fine(rule, organisation=False)
    assert (proposal.range_min, proposal.range_max, proposal.amount) == (30 * M, 40 * M, 35 * M)
    # 30/06/2025: 40 million > 37.5 million (Chánh Thanh tra Sở, individual) → Chủ tịch UBND tỉnh.
    assert file_on(date(2025, 6, 30), [40 * M], organisation=False)[0] == "Chủ tịch Ủy ban nhân dân tỉnh"
    # 01/07/2025: 40 million ≤ 60 million → Giám đốc Sở Nội vụ. As an organisation the same act would be 80 million,
    # still within the Giám đốc's 120 million.
    assert file_on(date(2025, 7, 1), [40 * M], organisation=False)[0] == "Giám đốc Sở Nội vụ"


# --------------------------------------------------------------------------- 09/09 → 10/09/2026


def test_which_decree_an_act_is_judged_under() -> None:
    # Art.67 cl.1: ended before 10/09/2026 → the decree of the day it was committed (NĐ 12); cl.2: still going on
    # when discovered on or after 10/09/2026 → NĐ 283.
    assert decree_for_act(committed_on=date(2026, 9, 9), ongoing=False, discovered_on=date(2026, 9, 15)).key == "12/2022/ND-CP"
    assert decree_for_act(committed_on=date(2026, 9, 10), ongoing=False, discovered_on=date(2026, 9, 15)).key == "283/2026/ND-CP"
    assert decree_for_act(committed_on=None, ongoing=True, discovered_on=date(2026, 9, 9)).key == "12/2022/ND-CP"
    assert decree_for_act(committed_on=date(2026, 3, 1), ongoing=True, discovered_on=date(2026, 9, 10)).key == "283/2026/ND-CP"
    # an ended act without its date: certain when one decree covered the whole limitation year (01/2026: NĐ 12 since
    # 01/2025), asked for when two did (15/09/2026: NĐ 12 until 09/09, NĐ 283 after)
    assert decree_for_act(committed_on=None, ongoing=False, discovered_on=date(2026, 1, 15)).key == "12/2022/ND-CP"
    with pytest.raises(ActDateNeeded, match="cần ghi ngày thực hiện hành vi"):
        decree_for_act(committed_on=None, ongoing=False, discovered_on=date(2026, 9, 15))


def _item_with(decree_key: str, row: str, on: date):
    return next(i for i in load_checklist(on).items if i.provision_for(decree_key) == row)


def test_an_ongoing_act_across_10_september_2026() -> None:
    # No qualified OSH officer is a state that goes on (NĐ 12 Art.21 cl.2 b = NĐ 283 Art.32 cl.2 b, both "từ
    # 5.000.000 đồng đến 10.000.000 đồng"; an enterprise: 10–20 million, midpoint 15 million).
    item = _item_with("12/2022/ND-CP", "12/2022/ND-CP Art.21 cl.2(b)", date(2026, 9, 10))
    assert item.act_kind == "ongoing"
    before = plan_act(item, discovered_on=date(2026, 9, 9), organisation=True)
    after = plan_act(item, discovered_on=date(2026, 9, 10), organisation=True)
    assert before.proposal.provision_vi == "điểm b khoản 2 Điều 21 Nghị định số 12/2022/NĐ-CP"
    assert after.proposal.provision_vi == "điểm b khoản 2 Điều 32 Nghị định số 283/2026/NĐ-CP"
    assert (before.proposal.amount, after.proposal.amount) == (15 * M, 15 * M)
    # the organisation's doubling is cited from the decree applied (NĐ 283 Art.7 cl.1), never NĐ 12 for NĐ 283
    assert any("khoản 1 Điều 7 Nghị định số 283/2026/NĐ-CP" in line for line in after.proposal.reasoning_vi)
    assert not any("12/2022" in line for line in after.proposal.reasoning_vi)
    # decided on 15/09/2026 (NĐ 283 Art.61 cl.1 b: Giám đốc Sở Nội vụ "đến 60.000.000 đồng", ×2 = 120 million)
    title, body = file_on(date(2026, 9, 15), [after.range_max], organisation=True)
    assert (title, body["name"], body["code"]) == ("Giám đốc Sở Nội vụ", "Sở Nội vụ", "SNV")


def test_an_ended_act_across_10_september_2026() -> None:
    # A periodic OSH report not sent by its deadline ended when the deadline passed: NĐ 12 Art.20 cl.2 = NĐ 283
    # Art.31 cl.2 "từ 1.000.000 đồng đến 3.000.000 đồng"; an enterprise 2–6 million, midpoint 4 million.
    item = _item_with("12/2022/ND-CP", "12/2022/ND-CP Art.20 cl.2", date(2026, 9, 15))
    assert item.act_kind == "ended"
    on_9th = plan_act(item, discovered_on=date(2026, 9, 15), committed_on=date(2026, 9, 9), organisation=True)
    on_10th = plan_act(item, discovered_on=date(2026, 9, 15), committed_on=date(2026, 9, 10), organisation=True)
    assert on_9th.proposal.provision_vi == "khoản 2 Điều 20 Nghị định số 12/2022/NĐ-CP"
    assert on_10th.proposal.provision_vi == "khoản 2 Điều 31 Nghị định số 283/2026/NĐ-CP"
    assert (on_9th.proposal.amount, on_10th.proposal.amount) == (4 * M, 4 * M)
    # an inspector may correct the kind: the same item, still going on, is NĐ 283's
    assert plan_act(item, discovered_on=date(2026, 9, 15), committed_on=date(2026, 9, 9), ongoing=True,
                    organisation=True).decree.key == "283/2026/ND-CP"


# --------------------------------------------------------------------------- 25/09 → 26/09/2026


def test_nd311_adds_inspection_titles_but_not_the_campaigns_deciders() -> None:
    before, after = procedure_for(date(2026, 9, 25)), procedure_for(date(2026, 9, 26))
    assert (before.version, after.version) == ("2026.1", "2026.2")
    # NĐ 311/2026 Art.1 (amended NĐ 189 Art.6 cl.2: "Giám đốc sở, Chánh Thanh tra tỉnh") — 80% = 60 million — exists
    # from 26/09 only, and is not routed: it sanctions within the scope of a thanh tra, not of a kiểm tra campaign.
    assert "Chánh Thanh tra tỉnh" not in {s.title for s in before.competence}
    chief = next(s for s in after.competence if s.title == "Chánh Thanh tra tỉnh")
    assert (chief.ceiling_individual_vnd, chief.decides_in_campaign) == (60 * M, False)
    # NĐ 283 Art.35 cl.4 b, an enterprise with 6 machines: 60–100 million → Giám đốc Sở Nội vụ on both days;
    # NĐ 283 Art.32 cl.4 đ (≥ 301 workers), an enterprise: 120–150 million → beyond 120, the Chủ tịch UBND tỉnh.
    rule = load_fine_table().get("283/2026/ND-CP Art.35 cl.4(a)")
    proposal = propose_fine(rule, organisation=True, devices=6)
    assert (proposal.amount, proposal.provision_vi) == (80 * M, "điểm b khoản 4 Điều 35 Nghị định số 283/2026/NĐ-CP")
    for day in (date(2026, 9, 25), date(2026, 9, 26)):
        assert file_on(day, [100 * M], organisation=True)[0] == "Giám đốc Sở Nội vụ"
        title, body = file_on(day, [150 * M], organisation=True)
        assert (title, body["name"], body["code"]) == ("Chủ tịch Ủy ban nhân dân tỉnh", "Ủy ban nhân dân tỉnh Cao Bằng",
                                                       "UBND-04")
    big = load_fine_table().get("283/2026/ND-CP Art.32 cl.4(đ)")
    assert provision_vi(big) == "điểm đ khoản 4 Điều 32 Nghị định số 283/2026/NĐ-CP"


# --------------------------------------------------------------------------- who signs


def test_the_signer_is_the_deciders_own_a_deputy_signs_kt() -> None:
    # the chair may take a Sở-level file (up, never down); the body is then the chair's own
    title, body = file_on(date(2026, 10, 1), [20 * M], organisation=True, person="Chủ tịch Ủy ban nhân dân tỉnh")
    assert (title, body["name"]) == ("Chủ tịch Ủy ban nhân dân tỉnh", "Ủy ban nhân dân tỉnh Cao Bằng")
    procedure = procedure_for(date(2026, 10, 1))
    deputy = decision_authority([20 * M], organisation=True, decided_on=date(2026, 10, 1), procedure=procedure,
                                person_title="Phó Giám đốc Sở Nội vụ")
    assert deputy.competence is not None and deputy.competence.signature_lines == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"]
    head = decision_authority([20 * M], organisation=True, decided_on=date(2026, 10, 1), procedure=procedure,
                              person_title="Giám đốc Sở Nội vụ")
    assert head.competence is not None and head.competence.signature_lines == ["GIÁM ĐỐC"]
    # a file above the Giám đốc's competence is never decided by them, and nobody decides as "Chánh Thanh tra Sở"
    with pytest.raises(CompetenceRefused, match="Chủ tịch Ủy ban nhân dân tỉnh"):
        decision_authority([150 * M], organisation=True, decided_on=date(2026, 10, 1), procedure=procedure,
                           person_title="Giám đốc Sở Nội vụ")
    with pytest.raises(CompetenceRefused, match="không có thẩm quyền"):
        decision_authority([20 * M], organisation=True, decided_on=date(2025, 7, 1), procedure=procedure_for(date(2025, 7, 1)),
                           person_title="Chánh Thanh tra Sở")


# --------------------------------------------------------------------------- the lighter rule


def test_an_act_the_new_decree_no_longer_sanctions_is_not_sanctioned() -> None:
    # NĐ 12/2022 Art.21 cl.5 (no assessment and classification of work by working conditions): the map finds no
    # counterpart in NĐ 283/2026. Still going on when discovered after 10/09/2026 → NĐ 283, which has no such offence;
    # ended on 01/09/2026 → NĐ 12 by Art.67 cl.1, but handled under NĐ 283, a text that no longer provides liability
    # applies (NĐ 118/2021 Art.7 cl.1 → Art.156 cl.3 Luật Ban hành VBQPPL 2015): not sanctioned either.
    item = _item_with("12/2022/ND-CP", "12/2022/ND-CP Art.21 cl.5", date(2026, 9, 20))
    with pytest.raises(NotSanctioned, match="Nghị định số 283/2026/NĐ-CP"):
        plan_act(item, discovered_on=date(2026, 9, 20), organisation=True)
    with pytest.raises(NotSanctioned):
        plan_act(item, discovered_on=date(2026, 9, 20), committed_on=date(2026, 9, 1), ongoing=False, organisation=True)
    # discovered before 10/09/2026 it is NĐ 12's "từ 50.000.000 đồng đến 70.000.000 đồng" (an enterprise 100–140)
    before = plan_act(item, discovered_on=date(2026, 9, 9), organisation=True)
    assert (before.proposal.range_min, before.proposal.range_max) == (100 * M, 140 * M)
