"""Vietnamese collation (pyuca's UCA with the Vietnamese letters and tone order)."""
from __future__ import annotations

from services.text_collation import collation_key


def sorted_vi(items, key=None):
    return sorted(items, key=lambda item: collation_key(key(item) if key else item))


def test_vietnamese_letters_come_after_their_base_letter():
    assert sorted_vi(["Đức", "Dz", "Dũng", "E"]) == ["Dũng", "Dz", "Đức", "E"]  # đ is a letter after d, not a d
    assert sorted_vi(["Âu", "Ba", "Ăn", "Anh", "Az"]) == ["Anh", "Az", "Ăn", "Âu", "Ba"]
    assert sorted_vi(["Ơn", "Ô", "Oz", "Ê", "Ez", "Ư", "Uz", "V"]) == ["Ez", "Ê", "Oz", "Ô", "Ơn", "Uz", "Ư", "V"]


def test_tones_are_secondary_differences_in_dictionary_order():
    assert sorted_vi(["ạ", "á", "ã", "ả", "à", "a"]) == ["a", "à", "ả", "ã", "á", "ạ"]  # ngang huyền hỏi ngã sắc nặng
    assert sorted_vi(["Bá", "Bà", "Bạc", "Ba", "Bac"]) == ["Ba", "Bà", "Bá", "Bac", "Bạc"]  # letters first, then tones
    assert sorted_vi(["ợ", "ộ", "ồ", "ô", "o"]) == ["o", "ô", "ồ", "ộ", "ợ"]  # "ộ" decomposes as o + dot + circumflex


def test_lower_case_first_numbers_by_value_spaces_collapsed():
    assert sorted_vi(["ANH", "Anh", "anh"]) == ["anh", "Anh", "ANH"]
    assert sorted_vi(["Lô 10", "Lô 9", "Lô 2", "Lô"]) == ["Lô", "Lô 2", "Lô 9", "Lô 10"]
    assert collation_key("Công  ty ") == collation_key("Công ty")
    assert collation_key("Hòa") == collation_key("Hòa")  # NFC and NFD alike


def test_commune_names_in_dictionary_order():
    communes = ["Xã Đông Khê", "Xã Đình Phong", "Xã Dân Chủ", "Phường Thục Phán", "Xã Yên Thổ", "Xã Cô Ba", "Xã Cần Yên"]
    assert sorted_vi(communes) == ["Phường Thục Phán", "Xã Cần Yên", "Xã Cô Ba", "Xã Dân Chủ", "Xã Đình Phong",
                                   "Xã Đông Khê", "Xã Yên Thổ"]


def test_sorting_rows_by_a_field_and_other_scripts_keep_a_place():
    rows = [{"name": "Điện lực"}, {"name": "Xây dựng"}, {"name": "Dệt may"}]
    assert [r["name"] for r in sorted_vi(rows, key=lambda r: r["name"])] == ["Dệt may", "Điện lực", "Xây dựng"]
    assert sorted_vi(["日本", "Zê", "Ánh"]) == ["Ánh", "Zê", "日本"]


def test_empty_text_first_then_punctuation_digits_letters():
    assert sorted_vi(["Bình", "19/5", "-", "", "   "]) == ["", "   ", "-", "19/5", "Bình"]
