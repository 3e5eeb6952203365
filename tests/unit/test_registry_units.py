"""The 2025 administrative units: every commune of the 34 provinces, the library's draft codes corrected."""
from __future__ import annotations

from collections import Counter

import pytest
from vietnam_provinces import Ward

from services.registry.columns import commune_problem
from services.registry.geo import (
    CORRECTIONS_CSV,
    UnknownUnit,
    build_units,
    load_units,
    official_spelling,
    read_corrections,
)


def test_every_commune_of_the_34_provinces_is_known_as_the_library_counts_them():
    units = load_units()
    library = Counter(f"{w.province_code:02d}" for w in Ward.iter_all())
    assert len(units.provinces) == len(library) == 34
    assert {p.code: len(units.communes(p.code)) for p in units.provinces} == dict(library)
    assert len(units) == sum(library.values()) == 3321
    assert all(units.has_communes(p.code) for p in units.provinces)
    kinds = Counter(c.kind for p in units.provinces for c in units.communes(p.code))
    assert kinds == {"xã": 2621, "phường": 687, "đặc khu": 13}


def test_each_correction_is_one_the_installed_library_still_needs():
    # Fails once vietnam-provinces carries the official list (>= 2026.1): delete the rows it names.
    for library_code, (code, name) in read_corrections(CORRECTIONS_CSV).items():
        ward = Ward.from_code(int(library_code))
        assert (library_code, official_spelling(ward.name)) != (code, name), f"row {library_code} is no longer needed"


def test_codes_in_force_where_the_library_has_the_draft():
    units = load_units()
    assert units.commune("06004").full_name == "Xã Quốc Khánh"  # Lạng Sơn; 06016 in the draft
    assert units.commune("09370").full_name == "Phường Tam Sơn"  # Bắc Ninh; 09376 in the draft
    assert [units.commune(c).name for c in ("01537", "01558", "01561")] == ["Lý Quốc", "Hạ Lang", "Vinh Quý"]
    assert units.commune("00082").full_name == "Phường Cửa Nam"  # Hà Nội; 00073 in the draft
    assert units.commune("00226").full_name == "Phường Văn Miếu - Quốc Tử Giám"
    for draft_only in ("06016", "09376", "00073"):
        with pytest.raises(UnknownUnit):
            units.commune(draft_only)


def test_names_as_the_cuc_thong_ke_writes_them():
    units = load_units()
    assert units.commune("02287").full_name == "Xã Chiêm Hóa"  # "Chiêm Hoá" in the library
    assert units.commune("12745").full_name == "Xã Bắc Đông Quan"  # two spaces in the library
    assert units.commune("26740").address_name == "phường Sài Gòn"
    assert units.province("79").full_name == "Thành phố Hồ Chí Minh"
    assert units.province("79").address_name == "thành phố Hồ Chí Minh"
    assert units.province("96").full_name == "Tỉnh Cà Mau"


@pytest.mark.parametrize(("raw", "expected"), [
    ("Xã  Chiêm Hoá ", "Xã Chiêm Hóa"),
    ("Phường Thuỷ Nguyên", "Phường Thủy Nguyên"),
    ("Xã Khoẻ", "Xã Khỏe"),
    ("Xã Quý Lộc", "Xã Quý Lộc"),  # qu + ý: the mark is already on the vowel
    ("Xã Quỳ Hợp", "Xã Quỳ Hợp"),
    ("Phường Hoàng Mai", "Phường Hoàng Mai"),  # a final consonant: the mark stays
    ("Xã Nguyễn Huệ", "Xã Nguyễn Huệ"),
])
def test_official_spelling(raw, expected):
    assert official_spelling(raw) == expected


def test_corrections_that_would_give_two_communes_one_code_are_refused():
    with pytest.raises(ValueError, match="two communes with code 01279"):
        build_units({"01273": ("01279", "Phường Thục Phán")})


def test_a_commune_of_any_province_is_checked_against_its_province():
    assert commune_problem("79", "26740") is None
    assert commune_problem("79", "99999") == "Mã xã 99999 không có trong danh mục xã, phường của thành phố Hồ Chí Minh"
    assert commune_problem("01", "26740") == (
        "Mã xã 26740 (phường Sài Gòn) thuộc thành phố Hồ Chí Minh, không thuộc thành phố Hà Nội")
    assert commune_problem("20", "06016") == "Mã xã 06016 không có trong danh mục xã, phường của tỉnh Lạng Sơn"
