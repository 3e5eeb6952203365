"""The sector profiles of the synthetic registry, and what depends on an establishment's ownership and size.

Rough orders of magnitude for a northern mountain / industrial province, not statistics (see
:mod:`services.demo.registry`). Changing a number changes every registry a seed gives."""
from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from models.establishment import Ownership

__all__ = ["ACCIDENT_SCALE", "BRANCH_SHARE", "DN", "GAP_P", "HEALTH_P", "HKD", "HTX", "INSPECTED_P", "LATE_REPORT_P",
           "SECTORS", "UNTRAINED", "SectorProfile", "nfc"]

DN, HTX, HKD = Ownership.ENTERPRISE, Ownership.COOPERATIVE, Ownership.HOUSEHOLD


@dataclass(frozen=True, slots=True)
class SectorProfile:
    code: str              # VSIC 2018 division (2 digits)
    weight: float          # share of establishments in the province
    dn_words: tuple[str, ...]   # trade words in a company name: "Cơ khí", "Xây dựng", ...
    htx_words: tuple[str, ...]  # same for co-operatives (empty: no co-operatives in this sector)
    hazard: float          # mean share of workers in heavy/hazardous/dangerous jobs (NNĐHNH)
    class_max: int         # highest working-condition class seen in the sector (4..6)
    class_plain: int       # highest class when nobody works in NNĐHNH (1..3; IV-VI means NNĐHNH)
    accidents: float       # work accidents per 100 workers over 3 years
    fatal: float           # share of accidents that kill
    serious: float         # share of accidents that injure seriously
    equipment: float       # machines with strict safety requirements per worker
    strict_work: float     # share of workers doing work with strict safety requirements
    ownership: tuple[float, float, float]  # weights of DN, HTX, HKD
    size_shift: float      # added to the log-mean of a company's workforce
    female: float          # share of women (drives pregnant workers in NNĐHNH)


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def _p(code: str, weight: float, dn: Sequence[str], htx: Sequence[str], hazard: float, cmax: int, cplain: int,
       acc: float, fatal: float, serious: float, equip: float, strict: float, own: tuple[float, float, float],
       shift: float, female: float) -> SectorProfile:
    """One profile, in the table's column order (names NFC-normalised)."""
    if not (4 <= cmax <= 6 and 1 <= cplain <= 3):
        raise ValueError(f"sector {code}: class_max must be 4..6 and class_plain 1..3")
    if not htx:  # no co-operative names for this sector: no co-operatives
        own = (own[0], 0.0, own[2])
    return SectorProfile(code, weight, tuple(map(nfc, dn)), tuple(map(nfc, htx)), hazard, cmax, cplain, acc,
                         fatal, serious, equip, strict, own, shift, female)


# A northern mountain / border / industrial province: construction, quarrying and mining, garments, metal,
# food, wood, hydropower, border trade and transport, farming and forestry co-operatives.
SECTORS: tuple[SectorProfile, ...] = (
    _p("01", 5.0, ["Nông nghiệp", "Nông sản"], ["Nông nghiệp", "Dịch vụ nông nghiệp", "Chăn nuôi"],
       0.25, 4, 3, 0.5, 0.06, 0.20, 0.010, 0.10, (0.15, 0.55, 0.30), 0.0, 0.50),
    _p("02", 3.0, ["Lâm nghiệp", "Lâm sản"], ["Lâm nghiệp", "Trồng rừng"],
       0.40, 5, 3, 0.9, 0.08, 0.25, 0.010, 0.20, (0.30, 0.45, 0.25), 0.0, 0.30),
    _p("03", 0.5, ["Thủy sản"], ["Thủy sản", "Nuôi trồng thủy sản"],
       0.30, 5, 3, 0.7, 0.10, 0.20, 0.010, 0.10, (0.20, 0.50, 0.30), 0.0, 0.30),
    _p("05", 0.4, ["Than", "Khai thác than"], [],
       0.80, 6, 3, 1.8, 0.12, 0.30, 0.060, 0.70, (1.0, 0.0, 0.0), 1.0, 0.10),
    _p("07", 0.8, ["Khoáng sản", "Khai thác khoáng sản"], [],
       0.70, 6, 3, 1.5, 0.12, 0.30, 0.050, 0.60, (1.0, 0.0, 0.0), 0.6, 0.10),
    _p("08", 3.0, ["Khai thác đá", "Đá xây dựng", "Khoáng sản"], ["Khai thác đá"],
       0.65, 6, 3, 1.4, 0.12, 0.30, 0.050, 0.50, (0.75, 0.15, 0.10), 0.2, 0.10),
    _p("10", 4.0, ["Thực phẩm", "Chế biến thực phẩm", "Chế biến nông sản"], ["Chế biến nông sản"],
       0.15, 4, 3, 0.4, 0.03, 0.15, 0.020, 0.10, (0.50, 0.15, 0.35), 0.2, 0.60),
    _p("11", 1.0, ["Đồ uống", "Rượu bia nước giải khát"], [],
       0.15, 4, 3, 0.3, 0.03, 0.15, 0.020, 0.10, (0.65, 0.0, 0.35), 0.0, 0.40),
    _p("14", 5.0, ["May mặc", "May", "Dệt may"], ["May mặc"],
       0.08, 4, 3, 0.15, 0.01, 0.12, 0.005, 0.05, (0.75, 0.05, 0.20), 1.2, 0.80),
    _p("16", 4.0, ["Chế biến gỗ", "Lâm sản", "Gỗ"], ["Chế biến lâm sản"],
       0.35, 5, 3, 1.0, 0.05, 0.25, 0.030, 0.30, (0.55, 0.15, 0.30), 0.3, 0.30),
    _p("22", 0.8, ["Nhựa", "Bao bì"], [],
       0.15, 4, 3, 0.4, 0.03, 0.20, 0.030, 0.10, (0.90, 0.0, 0.10), 0.6, 0.40),
    _p("23", 3.0, ["Vật liệu xây dựng", "Xi măng", "Gạch Tuynel"], ["Sản xuất gạch"],
       0.50, 5, 3, 1.0, 0.06, 0.25, 0.050, 0.30, (0.75, 0.10, 0.15), 0.5, 0.30),
    _p("25", 5.0, ["Cơ khí", "Kết cấu thép", "Cơ khí xây dựng"], [],
       0.40, 5, 3, 0.9, 0.04, 0.25, 0.050, 0.30, (0.70, 0.0, 0.30), 0.2, 0.15),
    _p("26", 1.5, ["Điện tử", "Linh kiện điện tử"], [],
       0.08, 4, 3, 0.1, 0.01, 0.10, 0.010, 0.05, (1.0, 0.0, 0.0), 2.0, 0.75),
    _p("27", 0.8, ["Thiết bị điện", "Dây cáp điện"], [],
       0.15, 4, 3, 0.3, 0.03, 0.15, 0.030, 0.10, (1.0, 0.0, 0.0), 1.0, 0.40),
    _p("31", 1.0, ["Nội thất", "Đồ gỗ nội thất"], [],
       0.20, 4, 3, 0.6, 0.02, 0.20, 0.020, 0.10, (0.50, 0.05, 0.45), 0.0, 0.30),
    _p("35", 1.5, ["Thủy điện", "Điện lực", "Năng lượng"], [],
       0.50, 5, 3, 0.6, 0.10, 0.30, 0.060, 0.50, (1.0, 0.0, 0.0), 0.7, 0.15),
    _p("38", 0.8, ["Môi trường", "Môi trường đô thị", "Xử lý chất thải"], ["Vệ sinh môi trường"],
       0.60, 5, 3, 0.8, 0.05, 0.20, 0.020, 0.20, (0.75, 0.15, 0.10), 0.8, 0.40),
    _p("41", 9.0, ["Xây dựng", "Đầu tư xây dựng", "Xây dựng và thương mại"], ["Xây dựng"],
       0.50, 5, 3, 1.2, 0.10, 0.30, 0.050, 0.40, (0.85, 0.05, 0.10), 0.3, 0.10),
    _p("42", 4.0, ["Xây dựng công trình", "Xây dựng giao thông", "Xây dựng thủy lợi"], [],
       0.55, 5, 3, 1.3, 0.10, 0.30, 0.070, 0.45, (1.0, 0.0, 0.0), 0.5, 0.10),
    _p("43", 5.0, ["Xây lắp", "Xây lắp điện", "Cơ điện"], [],
       0.40, 5, 3, 1.0, 0.08, 0.30, 0.040, 0.40, (0.75, 0.0, 0.25), 0.0, 0.10),
    _p("46", 12.0, ["Thương mại", "Thương mại dịch vụ", "Xuất nhập khẩu"], ["Thương mại dịch vụ"],
       0.03, 4, 2, 0.1, 0.03, 0.20, 0.010, 0.03, (0.70, 0.03, 0.27), -0.2, 0.45),
    _p("47", 14.0, ["Thương mại", "Kinh doanh tổng hợp", "Xăng dầu"], [],
       0.02, 4, 2, 0.06, 0.03, 0.20, 0.005, 0.02, (0.30, 0.0, 0.70), -0.6, 0.60),
    _p("49", 5.0, ["Vận tải", "Vận tải và thương mại", "Vận tải hành khách"], ["Vận tải"],
       0.30, 4, 3, 0.8, 0.12, 0.30, 0.020, 0.30, (0.60, 0.15, 0.25), 0.0, 0.10),
    _p("52", 2.0, ["Kho vận", "Logistics", "Dịch vụ kho bãi"], [],
       0.20, 4, 3, 0.5, 0.05, 0.20, 0.050, 0.20, (0.85, 0.0, 0.15), 0.3, 0.20),
    _p("55", 1.5, ["Khách sạn", "Du lịch"], [],
       0.02, 4, 2, 0.08, 0.02, 0.15, 0.020, 0.02, (0.60, 0.0, 0.40), -0.2, 0.60),
    _p("56", 2.5, ["Dịch vụ ăn uống", "Nhà hàng"], [],
       0.02, 4, 2, 0.08, 0.01, 0.10, 0.010, 0.02, (0.20, 0.0, 0.80), -0.5, 0.65),
)

# Probability that each of the 4 OSH-organisation items is missing, by ownership / size band.
GAP_P = {HKD: (0.90, 0.80, 0.70, 0.60), HTX: (0.75, 0.60, 0.45, 0.35), DN: (0.65, 0.45, 0.25, 0.10)}
UNTRAINED = {HKD: (0.60, 0.50, 0.40, 0.30), HTX: (0.50, 0.40, 0.30, 0.20), DN: (0.40, 0.25, 0.15, 0.08)}
HEALTH_P = {HKD: (0.15, 0.30, 0.45, 0.55), HTX: (0.35, 0.55, 0.70, 0.80), DN: (0.45, 0.70, 0.85, 0.95)}
INSPECTED_P = {HKD: (0.15, 0.25, 0.35, 0.45), HTX: (0.35, 0.45, 0.55, 0.65), DN: (0.35, 0.55, 0.70, 0.85)}
LATE_REPORT_P = {HKD: 0.6, HTX: 0.45, DN: 0.2}
# Profiles give accidents per 100 workers over 3 years; about a third of that is what gets reported and
# stored, so that reported fatal accidents stay in the tens (not hundreds) for a province-sized registry.
ACCIDENT_SCALE = 0.35 / 100.0
BRANCH_SHARE = 0.04  # DN establishments that are branches of a company registered elsewhere
