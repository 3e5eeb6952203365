"""Word lists for made-up Vietnamese personal and business names. All strings are NFC.

Weights are rough national frequencies, written for this project (see data/SOURCES.md), not taken from a
dataset. Each list is a tuple of (word, weight) pairs.
"""
from __future__ import annotations

import random
import unicodedata
from bisect import bisect
from itertools import accumulate

__all__ = [
    "SURNAMES", "MIDDLE_MALE", "MIDDLE_FEMALE", "GIVEN_MALE", "GIVEN_FEMALE",
    "BRAND_FIRST", "BRAND_SECOND", "WeightedPicker", "NameMaker",
]

SURNAMES: tuple[tuple[str, float], ...] = (
    ("Nguyễn", 38.0), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.0), ("Hoàng", 5.1), ("Phan", 4.5),
    ("Vũ", 3.9), ("Đặng", 2.1), ("Bùi", 2.0), ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3), ("Dương", 1.0),
    ("Lý", 0.5), ("Đinh", 0.8), ("Đào", 0.6), ("Trịnh", 0.6), ("Mai", 0.4), ("Tô", 0.3), ("Lương", 0.6),
    ("Chu", 0.3), ("Tạ", 0.3), ("Cao", 0.3), ("Vương", 0.2), ("Hà", 0.6), ("Nông", 0.7), ("Triệu", 0.5),
    ("Lục", 0.3), ("Vi", 0.3), ("Đàm", 0.3), ("Lăng", 0.2), ("Hứa", 0.2), ("La", 0.2), ("Thân", 0.2),
    ("Lã", 0.1), ("Khổng", 0.1), ("Văn", 0.1), ("Quách", 0.1),
)

MIDDLE_MALE: tuple[tuple[str, float], ...] = (
    ("Văn", 40.0), ("Đức", 8.0), ("Minh", 8.0), ("Quang", 5.0), ("Hữu", 5.0), ("Công", 4.0),
    ("Xuân", 3.0), ("Thành", 3.0), ("Trọng", 3.0), ("Tuấn", 2.0), ("Mạnh", 2.0), ("Ngọc", 2.0),
    ("Anh", 2.0), ("Thế", 2.0), ("Đình", 3.0), ("Việt", 2.0), ("Hoàng", 2.0), ("Tiến", 1.5),
    ("Quốc", 2.0), ("Bá", 1.0), ("Duy", 2.0), ("Hải", 1.0), ("Trung", 1.0),
)

MIDDLE_FEMALE: tuple[tuple[str, float], ...] = (
    ("Thị", 55.0), ("Ngọc", 6.0), ("Thu", 5.0), ("Thanh", 5.0), ("Hồng", 3.0), ("Minh", 3.0),
    ("Phương", 2.0), ("Kim", 2.0), ("Bích", 1.5), ("Mai", 1.5), ("Thùy", 2.0), ("Hải", 1.0),
    ("Khánh", 1.5), ("Diệu", 1.0), ("Quỳnh", 1.0), ("Lan", 1.0), ("Thúy", 1.0), ("Hoài", 1.0),
)

GIVEN_MALE: tuple[tuple[str, float], ...] = (
    ("An", 2.0), ("Anh", 4.0), ("Bình", 2.0), ("Cường", 3.0), ("Dũng", 4.0), ("Đạt", 3.0), ("Đức", 3.0),
    ("Hải", 4.0), ("Hiếu", 2.0), ("Hoàng", 2.0), ("Hùng", 5.0), ("Huy", 3.0), ("Khánh", 2.0),
    ("Kiên", 1.5), ("Long", 3.0), ("Mạnh", 2.0), ("Minh", 4.0), ("Nam", 4.0), ("Phong", 2.0),
    ("Phúc", 1.5), ("Quân", 2.0), ("Quang", 2.0), ("Sơn", 4.0), ("Thắng", 3.0), ("Thành", 3.0),
    ("Trung", 3.0), ("Tuấn", 5.0), ("Tùng", 2.0), ("Việt", 1.5), ("Vinh", 2.0), ("Hưng", 2.5),
    ("Lâm", 1.5), ("Tài", 1.0), ("Thái", 1.0), ("Toàn", 1.5), ("Hậu", 1.0), ("Chiến", 1.5),
    ("Lợi", 1.0), ("Khoa", 1.0), ("Nghĩa", 1.5),
)

GIVEN_FEMALE: tuple[tuple[str, float], ...] = (
    ("Anh", 3.0), ("Chi", 2.0), ("Dung", 2.0), ("Giang", 2.0), ("Hà", 3.0), ("Hằng", 3.0),
    ("Hạnh", 2.0), ("Hiền", 2.5), ("Hoa", 3.0), ("Hồng", 2.0), ("Huyền", 3.0), ("Hương", 4.0),
    ("Lan", 3.0), ("Linh", 4.0), ("Loan", 1.5), ("Mai", 3.0), ("My", 1.5), ("Nga", 2.5), ("Ngọc", 2.0),
    ("Nhung", 2.0), ("Oanh", 1.5), ("Phương", 3.0), ("Quỳnh", 2.0), ("Thảo", 3.0), ("Thu", 2.0),
    ("Thủy", 3.0), ("Trang", 4.0), ("Tuyết", 1.5), ("Vân", 2.0), ("Yến", 2.0), ("Liên", 1.5),
    ("Lý", 1.0), ("Nhàn", 1.0), ("Duyên", 1.5), ("Thơm", 1.0),
)

# Auspicious two-syllable shop/company names ("Minh Phát", "Hoàng Long", "Thành Công", ...).
BRAND_FIRST: tuple[str, ...] = (
    "An", "Bảo", "Bình", "Đại", "Đức", "Gia", "Hà", "Hải", "Hòa", "Hoàng", "Hồng", "Hưng", "Kim", "Lộc",
    "Long", "Minh", "Nam", "Ngọc", "Phú", "Phúc", "Phương", "Quang", "Sơn", "Tân", "Thành", "Thiên",
    "Thịnh", "Tiến", "Toàn", "Trường", "Trung", "Việt", "Vĩnh", "Xuân", "Đông", "Bắc", "Hùng", "Mạnh",
    "Tuấn", "Thái", "Quốc", "Vạn", "Kỳ", "Nhật",
)
BRAND_SECOND: tuple[str, ...] = (
    "An", "Phát", "Long", "Thịnh", "Đạt", "Hưng", "Lộc", "Thành", "Minh", "Phú", "Cường", "Tín",
    "Nguyên", "Hà", "Sơn", "Việt", "Hải", "Khang", "Vượng", "Thắng", "Công", "Tiến", "Hòa", "Bình",
    "Phong", "Anh", "Quang", "Dũng", "Hoàng", "Lợi", "Tâm", "Gia", "Đức", "Mạnh", "Thái", "Nam",
)


def _nfc_pairs(pairs: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
    return tuple((unicodedata.normalize("NFC", w), float(x)) for w, x in pairs)


class WeightedPicker:
    """Fast weighted choice with a caller-supplied ``random.Random`` (one ``random()`` call per pick)."""

    __slots__ = ("words", "cum", "total")

    def __init__(self, pairs: tuple[tuple[str, float], ...]) -> None:
        pairs = _nfc_pairs(pairs)
        self.words = tuple(w for w, _ in pairs)
        self.cum = tuple(accumulate(x for _, x in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> str:
        return self.words[bisect(self.cum, rng.random() * self.total)]


class NameMaker:
    """Vietnamese full names: surname, gender-consistent middle name, given name. Gender is "male" | "female"."""

    def __init__(self) -> None:
        self.surname = WeightedPicker(SURNAMES)
        self.middle = {"male": WeightedPicker(MIDDLE_MALE), "female": WeightedPicker(MIDDLE_FEMALE)}
        self.given = {"male": WeightedPicker(GIVEN_MALE), "female": WeightedPicker(GIVEN_FEMALE)}

    def full_name(self, rng: random.Random, gender: str) -> str:
        middle = self.middle[gender].pick(rng)
        given = self.given[gender].pick(rng)
        while given == middle:  # no "Minh Minh"
            given = self.given[gender].pick(rng)
        return f"{self.surname.pick(rng)} {middle} {given}"

    def person(self, rng: random.Random, male_share: float = 0.5) -> tuple[str, str]:
        gender = "male" if rng.random() < male_share else "female"
        return self.full_name(rng, gender), gender

    def brand(self, rng: random.Random) -> str:
        a = BRAND_FIRST[int(rng.random() * len(BRAND_FIRST))]
        b = BRAND_SECOND[int(rng.random() * len(BRAND_SECOND))]
        while b == a:
            b = BRAND_SECOND[int(rng.random() * len(BRAND_SECOND))]
        return unicodedata.normalize("NFC", f"{a} {b}")
