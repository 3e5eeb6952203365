"""Who may sign a sanction decision (services/rules/procedure.py), effective-dated.

Expected titles and amounts come from the law, not from the code:
- NĐ 12/2022/NĐ-CP Art.48–51 (``legal/nd12_2022_art47-58.txt``), in force until the 2025 reorganisation:
  Chánh Thanh tra Sở Lao động - Thương binh và Xã hội "phạt tiền đến 37.500.000 đồng" (Art.49 cl.2 b);
  Chủ tịch Ủy ban nhân dân cấp tỉnh "đến 75.000.000 đồng" (Art.48 cl.3 b); Chủ tịch UBND cấp xã 5.000.000
  (Art.48 cl.1); Thanh tra viên 500.000 (Art.49 cl.1).
- Art.6 cl.2: "trong trường hợp phạt tiền, thẩm quyền xử phạt tổ chức gấp 02 lần thẩm quyền xử phạt cá nhân".
- Luật XLVPHC Art.52: with several acts, competence is judged per act on the maximum of its fine range; if one
  act is beyond a title's competence, the whole file goes to the higher authority (DOMAIN.md section 4).
- From 1 March 2025 the Sở LĐTBXH is merged into the Sở Nội vụ: the same competence under the renamed title (Luật
  XLVPHC Art.53 cl.1), "Chánh Thanh tra Sở Nội vụ" ((config): the date of the provincial reorganisation).
- From 1 July 2025 (NĐ 189/2025): a share of the field's maximum (75,000,000 for an individual in labour):
  commune chair 50% (Art.5 cl.1), province chair 100% (Art.5 cl.2), Giám đốc sở 80% (Art.6 cl.2) — for labour the
  Giám đốc Sở Nội vụ, 60,000,000; the district level and the sở inspectorates are abolished (Luật Thanh tra 2025).

Fine ranges used below are quoted from ``legal/nd12_2022_art20-29.txt`` (individual amounts; doubled for an
organisation by Art.6 cl.1).
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.errors import StageBlocked
from services.rules.procedure import Signer, competent_signer, procedure_for
from services.errors import ProcedureError
from services.settings import RULES_DIR

SO_LDTBXH_CHIEF = "Chánh Thanh tra Sở Lao động - Thương binh và Xã hội"  # NĐ 12/2022 Art.49 cl.2
SO_CHIEF = "Chánh Thanh tra Sở Nội vụ"  # after MOLISA's merger into Bộ Nội vụ (1 March 2025): (config)
SO_DIRECTOR = "Giám đốc Sở Nội vụ"  # NĐ 189/2025 Art.6 cl.2, from 1 July 2025
PROVINCE_CHAIR = "Chủ tịch Ủy ban nhân dân tỉnh"  # NĐ 12/2022 Art.48 cl.3; NĐ 189/2025

IN_2024 = date(2024, 10, 15)
LAST_DAY_BEFORE_REORGANISATION = date(2025, 6, 30)
REORGANISATION = date(2025, 7, 1)
IN_2026 = date(2026, 3, 10)
EVERY_PERIOD = (IN_2024, LAST_DAY_BEFORE_REORGANISATION, REORGANISATION, IN_2026)

M = 1_000_000
# Maxima of real ranges (Điều, khoản of NĐ 12/2022), as an organisation (double) and as an individual.
ART20_CL2_ORG = 6 * M  # "từ 1.000.000 đồng đến 3.000.000 đồng" (late OSH report)
ART21_CL2_ORG = 20 * M  # "từ 5.000.000 đồng đến 10.000.000 đồng"
ART21_CL3_ORG = 50 * M  # "từ 20.000.000 đồng đến 25.000.000 đồng"
ART22_CL7_ORG = 50 * M  # "từ 20.000.000 đồng đến 25.000.000 đồng"
ART22_CL9_INDIVIDUAL = 40 * M  # "từ 25.000.000 đồng đến 40.000.000 đồng"
ART22_CL10_ORG_MIN, ART22_CL10_ORG = 60 * M, 80 * M  # "từ 30.000.000 đồng đến 40.000.000 đồng"
ART23_CL2D_ORG = 100 * M  # point đ: "từ 40.000.000 đồng đến 50.000.000 đồng" (301 workers or more)


def signer(acts_range_max: list[int], *, organisation: bool, on: date, folder: Path = RULES_DIR) -> Signer:
    return competent_signer(acts_range_max, organisation=organisation, procedure=procedure_for(on, folder))


def so_level_title(on: date) -> str:
    if on < date(2025, 3, 1):
        return SO_LDTBXH_CHIEF
    return SO_CHIEF if on < REORGANISATION else SO_DIRECTOR


def so_ceiling(on: date) -> int:
    """The Sở-level ceiling for an individual: 37.5 million (NĐ 12 Art.49 cl.2 b), then 80% × 75 = 60 million."""
    return 37_500_000 if on < REORGANISATION else 60_000_000


# --------------------------------------------------------------------------- selection


@pytest.mark.parametrize("on", EVERY_PERIOD)
def test_a_single_act_within_the_so_ceiling_is_decided_at_so_level(on: date) -> None:
    chosen = signer([ART20_CL2_ORG], organisation=True, on=on)
    assert chosen.title == so_level_title(on)
    assert chosen.issuer_suffix != "UBND"  # issued in the name of the Sở's inspectorate, then of the Sở itself
    assert chosen.issuer == ("department_inspectorate" if on < REORGANISATION else "department")
    # the Sở-level ceiling itself is within competence ("phạt tiền đến 37.500.000 đồng", then 60 million); one đồng
    # more is not
    assert signer([so_ceiling(on)], organisation=False, on=on).title == so_level_title(on)
    assert signer([so_ceiling(on) + 1], organisation=False, on=on).title == PROVINCE_CHAIR


@pytest.mark.parametrize("on", EVERY_PERIOD)
def test_an_organisations_ceiling_is_double(on: date) -> None:
    # one đồng above the individual ceiling is within the Sở official's double ceiling for an organisation
    assert signer([so_ceiling(on) + 1], organisation=True, on=on).title == so_level_title(on)
    assert signer([2 * so_ceiling(on)], organisation=True, on=on).title == so_level_title(on)
    assert signer([2 * so_ceiling(on) + 1], organisation=True, on=on).title == PROVINCE_CHAIR
    # Art.22 cl.9 for a household business (sanctioned as an individual): at most 40 million, above 37.5 million
    # (the chair until 30/06/2025) but within 60 million (the Giám đốc Sở Nội vụ from 01/07/2025)
    expected = PROVINCE_CHAIR if on < REORGANISATION else SO_DIRECTOR
    assert signer([ART22_CL9_INDIVIDUAL], organisation=False, on=on).title == expected


@pytest.mark.parametrize("on", EVERY_PERIOD)
def test_an_enterprise_with_an_act_above_the_so_ceiling_goes_to_the_province_chair(on: date) -> None:
    # Art.23 cl.2 đ for an enterprise: at most 100 million — above 75 million until 30/06/2025, within 120 after
    chosen = signer([ART23_CL2D_ORG], organisation=True, on=on)
    assert chosen.title == (PROVINCE_CHAIR if on < REORGANISATION else SO_DIRECTOR)
    chosen = signer([121 * M], organisation=True, on=on)
    assert chosen.title == PROVINCE_CHAIR
    assert chosen.issuer_suffix == "UBND" and chosen.issuer == "province_committee"
    assert signer([150 * M], organisation=True, on=on).title == PROVINCE_CHAIR  # 2 × 75 million: the chair's ceiling


@pytest.mark.parametrize("on", EVERY_PERIOD)
def test_one_act_beyond_the_so_ceiling_sends_the_whole_file_up(on: date) -> None:
    small = [ART20_CL2_ORG, ART21_CL2_ORG, ART21_CL3_ORG]
    big = 2 * so_ceiling(on) + 1
    assert signer(small, organisation=True, on=on).title == so_level_title(on)
    assert signer([*small, big], organisation=True, on=on).title == PROVINCE_CHAIR
    assert signer([big, *small], organisation=True, on=on).title == PROVINCE_CHAIR  # order does not matter


@pytest.mark.parametrize("on", EVERY_PERIOD)
def test_judged_on_each_acts_range_maximum_not_on_the_amount_chosen_nor_the_total(on: date) -> None:
    # Art.22 cl.10 for an enterprise: 60–80 million. Until 30/06/2025, even fined at its minimum (60 million, which
    # a Sở official's 75 million would cover), the act's maximum is 80 million: the province chair decides.
    assert ART22_CL10_ORG_MIN <= 75 * M < ART22_CL10_ORG
    if on < REORGANISATION:
        assert signer([ART22_CL10_ORG], organisation=True, on=on).title == PROVINCE_CHAIR
    # two acts of at most 50 million each (100 million in total): each within 75 million, so the Sở decides
    assert ART21_CL3_ORG + ART22_CL7_ORG > 75 * M
    assert signer([ART21_CL3_ORG, ART22_CL7_ORG], organisation=True, on=on).title == so_level_title(on)


@pytest.mark.parametrize("on", EVERY_PERIOD)
def test_only_titles_the_campaign_routes_to_are_chosen(on: date) -> None:
    # a 1 million act is within a commune chair's (5 million, then 50%) and an inspector's (500,000 for
    # 0.5 million) competence, but a provincial campaign sends its files to the Sở or the province chair
    for amount in (400_000, 1 * M, 5 * M):
        chosen = signer([amount], organisation=False, on=on)
        assert chosen.title == so_level_title(on)
        assert chosen.decides_in_campaign
    assert {s.title for s in procedure_for(on).signers} == {so_level_title(on), PROVINCE_CHAIR}
    assert "Chánh Thanh tra Sở" not in {s.title for s in procedure_for(on).signers if on >= REORGANISATION}


@pytest.mark.parametrize("on", EVERY_PERIOD)
def test_an_act_beyond_every_competence_is_refused_in_vietnamese(on: date) -> None:
    with pytest.raises(StageBlocked, match="Không có chức danh nào đủ thẩm quyền xử phạt hành vi có mức phạt "
                                           "tối đa 150,000,001 đồng"):
        signer([150 * M + 1], organisation=True, on=on)


# --------------------------------------------------------------------------- dates


def test_the_same_file_gets_the_title_and_ceilings_in_force_on_its_date() -> None:
    file = [ART20_CL2_ORG, ART21_CL3_ORG]  # an enterprise, within the Sở official's competence
    assert signer(file, organisation=True, on=date(2024, 12, 31)).title == SO_LDTBXH_CHIEF
    assert signer(file, organisation=True, on=date(2025, 2, 28)).title == SO_LDTBXH_CHIEF
    assert signer(file, organisation=True, on=date(2025, 3, 1)).title == SO_CHIEF
    assert signer(file, organisation=True, on=LAST_DAY_BEFORE_REORGANISATION).title == SO_CHIEF
    assert signer(file, organisation=True, on=REORGANISATION).title == SO_DIRECTOR

    before, after = procedure_for(LAST_DAY_BEFORE_REORGANISATION), procedure_for(REORGANISATION)
    assert before.version != after.version
    assert after.effective_from == REORGANISATION

    def ceilings(p: Any) -> dict[str, int]:
        return {s.title: s.ceiling_individual_vnd for s in p.competence}

    # NĐ 12/2022 (2022 and first half of 2025): amounts; the commune chair only 5 million
    nd12 = ceilings(procedure_for(IN_2024))
    assert nd12[SO_LDTBXH_CHIEF] == 37_500_000 and nd12[PROVINCE_CHAIR] == 75_000_000
    assert nd12["Chủ tịch Ủy ban nhân dân cấp xã"] == 5_000_000
    assert nd12["Chủ tịch Ủy ban nhân dân cấp huyện"] == 37_500_000
    assert nd12["Thanh tra viên lao động"] == 500_000
    # NĐ 189/2025: shares of the field's maximum (75 million): province chair 100%, commune chair 50%;
    # no district level any more
    nd189 = ceilings(after)
    assert after.field_max_individual_vnd == 75_000_000
    assert nd189[PROVINCE_CHAIR] == 75_000_000
    assert nd189[SO_DIRECTOR] == 60_000_000  # Art.6 cl.2: 80%
    assert nd189["Chủ tịch Ủy ban nhân dân cấp xã"] == 37_500_000
    assert not any("cấp huyện" in title for title in nd189)
    assert {s.title: s.ceiling_percent_of_field_max for s in after.competence}[PROVINCE_CHAIR] == 100


def _write(folder: Path, name: str, data: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _shipped(name: str = "procedure_2025.json") -> dict[str, Any]:
    return json.loads((RULES_DIR / name).read_text(encoding="utf-8"))


def test_a_province_that_configures_another_title_after_1_july_2025_gets_it_from_that_date(tmp_path: Path) -> None:
    # (config) a province whose Sở-level signer after the reorganisation is the Director of the Sở Nội vụ, at
    # NĐ 189/2025's 80% of the field maximum: 60 million for an individual, 120 million for an organisation.
    after = {**_shipped("procedure_2025_07.json"), "signers": [
        {"title": "Giám đốc Sở Nội vụ", "issuer_suffix": "SNV", "ceiling_percent_of_field_max": 80, "issuer": "department",
         "signature_vi": "GIÁM ĐỐC"},
        {"title": PROVINCE_CHAIR, "issuer_suffix": "UBND", "ceiling_percent_of_field_max": 100,
         "issuer": "province_committee", "signature_vi": "CHỦ TỊCH"}]}
    _write(tmp_path, "procedure_2025.json", _shipped())
    _write(tmp_path, "procedure_2025_07.json", after)
    file = [ART20_CL2_ORG, ART23_CL2D_ORG]  # an enterprise; one act of at most 100 million
    assert signer(file, organisation=True, on=LAST_DAY_BEFORE_REORGANISATION, folder=tmp_path).title == PROVINCE_CHAIR
    assert signer(file, organisation=True, on=REORGANISATION, folder=tmp_path).title == "Giám đốc Sở Nội vụ"
    assert procedure_for(REORGANISATION, tmp_path).signers[0].ceiling_individual_vnd == 60_000_000


def test_a_date_before_any_version_is_refused_in_vietnamese() -> None:
    with pytest.raises(StageBlocked) as refused:
        procedure_for(date(2022, 1, 16))
    assert refused.value.message.startswith("Không có quy định thủ tục nào có hiệu lực vào ngày 16/01/2022")
    assert "17/01/2022" in refused.value.message  # says when the first version (NĐ 12/2022) starts
    assert procedure_for(date(2022, 1, 17)).version == "2022.1"


def test_every_shipped_version_carries_every_key_of_the_others() -> None:
    files = sorted(RULES_DIR.glob("procedure_*.json"))
    assert len(files) >= 3
    keys = {path.name: set(json.loads(path.read_text(encoding="utf-8"))) - {"field_max_individual_vnd"}
            for path in files}
    reference = keys["procedure_2025.json"]
    assert all(k == reference for k in keys.values()), {name: reference ^ k for name, k in keys.items()}
    for path in files:
        assert "source" in json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- malformed files


def _without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != key}


def _with_signer(data: dict[str, Any], index: int, **changes: Any) -> dict[str, Any]:
    signers = [dict(s) for s in data["signers"]]
    signers[index] = {k: v for k, v in {**signers[index], **changes}.items() if v is not None}
    return {**data, "signers": signers}


MALFORMED = {
    "no signers": (lambda d: _without(d, "signers"), "'signers' bị thiếu"),
    "no ceiling": (lambda d: _with_signer(d, 1, ceiling_individual_vnd=None), "'signers[1].ceiling_individual_vnd'"),
    "two ceilings": (lambda d: _with_signer(d, 0, ceiling_percent_of_field_max=50), "cần đúng một trong hai"),
    "share without the field maximum": (lambda d: _with_signer(d, 0, ceiling_individual_vnd=None,
                                                               ceiling_percent_of_field_max=50),
                                        "'field_max_individual_vnd'"),
    "amount as text": (lambda d: _with_signer(d, 0, ceiling_individual_vnd="37.500.000"),
                       "'signers[0].ceiling_individual_vnd' phải là số nguyên dương"),
    "routable without issuer": (lambda d: _with_signer(d, 0, issuer_suffix=""), "'signers[0].issuer_suffix'"),
    "routable without its body": (lambda d: _with_signer(d, 0, issuer="thanh_tra"), "'signers[0].issuer'"),
    "deputy without its line": (lambda d: _with_signer(d, 0, deputy_signature_vi=""), "'signers[0].deputy_signature_vi'"),
    "unknown signer key": (lambda d: _with_signer(d, 0, ceiling_org_vnd=1), "'signers[0].ceiling_org_vnd'"),
    "bad date": (lambda d: {**d, "effective_from": "01/07/2025"}, "'effective_from' phải là ngày dạng YYYY-MM-DD"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_a_malformed_procedure_file_names_the_file_and_the_key(tmp_path: Path, case: str) -> None:
    change, expected = MALFORMED[case]
    _write(tmp_path, "procedure_2025.json", change(_shipped()))
    with pytest.raises(ProcedureError) as refused:
        procedure_for(IN_2026, tmp_path)
    assert "procedure_2025.json" in refused.value.message
    assert expected in refused.value.message


def test_a_version_missing_a_key_the_others_have_is_refused_naming_both_files(tmp_path: Path) -> None:
    _write(tmp_path, "procedure_2025.json", _shipped())
    _write(tmp_path, "procedure_2026.json", {**_without(_shipped(), "comply_days"), "version": "2026.1",
                                             "effective_from": "2026-01-01"})
    with pytest.raises(ProcedureError, match=r"procedure_2026\.json: thiếu khóa 'comply_days' \(có trong procedure_2025\.json\)"):
        procedure_for(date(2025, 3, 1), tmp_path)  # refused whatever the date: the set of versions is broken


def test_a_file_that_is_not_json_or_shares_a_start_date_is_refused(tmp_path: Path) -> None:
    _write(tmp_path / "a", "procedure_2025.json", '{"version": "2025.1", ')
    with pytest.raises(ProcedureError, match=r"procedure_2025\.json: không phải JSON hợp lệ"):
        procedure_for(IN_2026, tmp_path / "a")
    _write(tmp_path / "b", "procedure_2025.json", _shipped())
    _write(tmp_path / "b", "procedure_2025_bis.json", {**_shipped(), "version": "2025.9"})
    with pytest.raises(ProcedureError, match="cùng có hiệu lực từ ngày 01/01/2025"):
        procedure_for(IN_2026, tmp_path / "b")
