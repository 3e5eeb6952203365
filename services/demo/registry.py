"""A synthetic but realistic registry of establishments (cơ sở lao động) for tests, demos and benchmarks.

``generate_registry`` yields one dict per establishment, with exactly the columns of
``models.Establishment`` (see ``FIELDS``). The output depends only on ``(n, province_codes, seed, as_of)``:
every draw comes from one ``random.Random(seed)``, never from the global generator.

What is real and what is made up:

* province and commune codes and names are real (2025 units, ``geo.load_units``);
* tax codes are valid MSTs (correct check digit) but made up. Head offices use the administrative province
  code as the two-digit prefix, which is not the real tax-office prefix. Branches (``-BBB``) hang off a
  made-up parent with prefix 01 or 03;
* names and all risk attributes are drawn from the sector profiles below. These are rough orders of
  magnitude for a northern mountain / industrial province, not statistics.

Consistency rules the output keeps (the tests check them): hazardous_workers, strict_work_workers,
untrained_workers and vulnerable_workers are each ≤ workforce; working_condition_class_max is ≥ 4 exactly
when there are hazardous workers; fatal + serious ≤ accidents_3y; accident_reports_late ≤ accidents_3y;
every date falls within the 3 years up to ``as_of``; monitoring_failing_ratio is 0 when there was no
monitoring; past_violations is 0 for establishments that were never inspected.
"""
from __future__ import annotations

import math
import random
import unicodedata
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate

from services.registry.geo import Commune, Province, load_units
from services.registry.names import NameMaker
from services.registry.taxcode import make_tax_code

__all__ = ["FIELDS", "SECTORS", "SectorProfile", "generate_registry", "generate_people"]

FIELDS: tuple[str, ...] = (
    "tax_code", "name", "address", "province_code", "commune_code", "sector_vsic", "ownership",
    "legal_representative", "representative_title", "workforce", "hazardous_workers",
    "working_condition_class_max", "strict_equipment_count", "strict_work_workers", "last_health_exam_on",
    "last_disease_exam_on", "last_environment_monitoring_on", "monitoring_failing_ratio",
    "fatal_accidents_3y", "serious_accidents_3y", "accidents_3y", "accident_reports_late",
    "osh_organisation_gaps", "untrained_workers", "vulnerable_workers", "past_violations",
    "last_inspected_on", "open_complaints",
)

DN, HTX, HKD = "doanh_nghiep", "hop_tac_xa", "ho_kinh_doanh"
_WINDOW_DAYS = 3 * 365  # "the last 3 years": offsets 0..1095 days before as_of


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


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def _p(code, weight, dn, htx, hazard, cmax, cplain, acc, fatal, serious, equip, strict, own, shift, female):
    if not (4 <= cmax <= 6 and 1 <= cplain <= 3):
        raise ValueError(f"sector {code}: class_max must be 4..6 and class_plain 1..3")
    if not htx:  # no co-operative names for this sector: no co-operatives
        own = (own[0], 0.0, own[2])
    return SectorProfile(code, weight, tuple(map(_nfc, dn)), tuple(map(_nfc, htx)), hazard, cmax, cplain, acc,
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


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0.0:
        return 0
    if lam < 30.0:  # Knuth: about lam + 1 draws
        limit, k, p = math.exp(-lam), 0, rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        return k
    return max(0, int(lam + math.sqrt(lam) * rng.gauss(0.0, 1.0) + 0.5))


def _binomial(rng: random.Random, n: int, p: float) -> int:
    if n <= 0 or p <= 0.0:
        return 0
    if n <= 60:
        rnd = rng.random
        return sum(1 for _ in range(n) if rnd() < p)
    mean, sd = n * p, math.sqrt(n * p * (1.0 - p))
    return min(n, max(0, int(mean + sd * rng.gauss(0.0, 1.0) + 0.5)))


def _size_band(workforce: int) -> int:
    return 0 if workforce <= 10 else 1 if workforce <= 50 else 2 if workforce <= 300 else 3


# Probability that each of the 4 OSH-organisation items is missing, by ownership / size band.
_GAP_P = {HKD: (0.90, 0.80, 0.70, 0.60), HTX: (0.75, 0.60, 0.45, 0.35), DN: (0.65, 0.45, 0.25, 0.10)}
_UNTRAINED = {HKD: (0.60, 0.50, 0.40, 0.30), HTX: (0.50, 0.40, 0.30, 0.20), DN: (0.40, 0.25, 0.15, 0.08)}
_HEALTH_P = {HKD: (0.15, 0.30, 0.45, 0.55), HTX: (0.35, 0.55, 0.70, 0.80), DN: (0.45, 0.70, 0.85, 0.95)}
_INSPECTED_P = {HKD: (0.15, 0.25, 0.35, 0.45), HTX: (0.35, 0.45, 0.55, 0.65), DN: (0.35, 0.55, 0.70, 0.85)}
_LATE_REPORT_P = {HKD: 0.6, HTX: 0.45, DN: 0.2}
# Profiles give accidents per 100 workers over 3 years; about a third of that is what gets reported and
# stored, so that reported fatal accidents stay in the tens (not hundreds) for a province-sized registry.
_ACCIDENT_SCALE = 0.35 / 100.0
_BRANCH_SHARE = 0.04  # DN establishments that are branches of a company registered elsewhere


class _Places:
    """Communes of the chosen provinces, weighted (phường are denser in businesses than xã)."""

    _KIND_WEIGHT = {"phường": 4.0, "xã": 1.0, "đặc khu": 2.0}

    def __init__(self, province_codes: Sequence[str]) -> None:
        units = load_units()
        if not province_codes:
            raise ValueError("province_codes is empty")
        self.items: list[tuple[Commune, Province]] = []
        for code in dict.fromkeys(province_codes):  # unique, order kept
            prov = units.province(code)
            communes = units.communes(code)
            if not communes:
                raise ValueError(f"no commune list for province {code} ({prov.name})")
            self.items.extend((c, prov) for c in communes)
        self.cum = list(accumulate(self._KIND_WEIGHT[c.kind] for c, _ in self.items))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> tuple[Commune, Province]:
        return self.items[bisect(self.cum, rng.random() * self.total)]


def generate_registry(n: int, *, province_codes: Sequence[str], seed: int, as_of: date) -> Iterator[dict]:
    """Yield ``n`` establishments located in ``province_codes`` (each must have a commune list)."""
    if n < 0:
        raise ValueError("n must be ≥ 0")
    places = _Places(province_codes)
    return _generate(n, places, seed, as_of)


class _Run:
    """Per-run state of ``_generate``: the one generator, the date window and the names/tax codes used so far."""

    def __init__(self, seed: int, as_of: date) -> None:
        self.rng = random.Random(seed)
        self.rnd = self.rng.random
        self.lognorm = self.rng.lognormvariate
        self.names = NameMaker()
        self.sector_cum = list(accumulate(s.weight for s in SECTORS))
        self.sector_total = self.sector_cum[-1]
        self.days = [as_of - timedelta(days=k) for k in range(_WINDOW_DAYS + 1)]
        self.n_days = len(self.days)
        self.used_tax: set[str] = set()
        self.used_names: set[str] = set()

    def recent(self, max_days: int) -> date:
        """A day among the last ``max_days`` + 1 (0 = as_of)."""
        return self.days[int(self.rnd() * (max_days + 1))]

    def within(self, lo: int, hi: int) -> date:
        """A day between ``lo`` and ``hi`` days before as_of."""
        return self.days[lo + int(self.rnd() * (hi - lo + 1))]

    def unique_name(self, candidate: str, commune: Commune) -> str:
        """``candidate``, made unique within the run with the commune name and a counter; marked as used."""
        used_names = self.used_names
        if candidate in used_names:
            candidate = f"{candidate} {commune.name}"
            k = 2
            base = candidate
            while candidate in used_names:
                candidate = f"{base} {k}"
                k += 1
        used_names.add(candidate)
        return candidate


def _draw_ownership_and_workforce(run: _Run, sector: SectorProfile) -> tuple[str, int]:
    """Ownership (co-operatives only where the sector has them), then a lognormal workforce."""
    rnd, lognorm = run.rnd, run.lognorm
    w_dn, w_htx, w_hkd = sector.ownership
    u = rnd() * (w_dn + w_htx + w_hkd)
    ownership = DN if u < w_dn else HTX if u < w_dn + w_htx else HKD

    # workforce: lognormal, most 1-50, a few companies ≥ 300
    if ownership == HKD:
        workforce = min(30, 1 + int(lognorm(0.6, 0.8)))
    elif ownership == HTX:
        workforce = min(400, 3 + int(lognorm(2.0, 0.8)))
    else:
        workforce = min(25_000, 1 + int(lognorm(2.5 + sector.size_shift, 1.2)))
    return ownership, workforce


def _hkd_name(run: _Run, rep_name: str, commune: Commune) -> tuple[str, str, str]:
    """Household business: (representative, name, title); redraws the owner while the name is taken."""
    tries = 0
    while f"Hộ kinh doanh {rep_name}" in run.used_names and tries < 20:
        rep_name, _gender = run.names.person(run.rng, male_share=0.65)
        tries += 1
    name = run.unique_name(f"Hộ kinh doanh {rep_name}", commune)
    return rep_name, name, "Chủ hộ kinh doanh"


def _htx_name(run: _Run, sector: SectorProfile, commune: Commune) -> str:
    """Co-operative name: up to 20 tries for a free one, then made unique."""
    rnd, used_names = run.rnd, run.used_names
    words = sector.htx_words
    name = None
    for _t in range(20):
        candidate = f"Hợp tác xã {words[int(rnd() * len(words))]} {run.names.brand(run.rng)}"
        if candidate not in used_names:
            name = candidate
            break
    return run.unique_name(name or candidate, commune)


def _dn_name(run: _Run, sector: SectorProfile, workforce: int, commune: Commune,
             prov: Province) -> tuple[str, str, bool]:
    """Company (or branch) name: (name, title, branch)."""
    rnd, used_names = run.rnd, run.used_names
    joint_stock = rnd() < (0.55 if workforce >= 100 else 0.25)
    form = "Công ty Cổ phần" if joint_stock else "Công ty TNHH"
    words = sector.dn_words
    name = None
    for _t in range(20):
        candidate = f"{form} {words[int(rnd() * len(words))]} {run.names.brand(run.rng)}"
        if candidate not in used_names:
            name = candidate
            break
    branch = rnd() < _BRANCH_SHARE
    if branch:
        name = run.unique_name(f"Chi nhánh {name or candidate} tại {prov.name}", commune)
    else:
        name = run.unique_name(name or candidate, commune)
    title = "Tổng Giám đốc" if joint_stock and not branch and (workforce >= 100 or rnd() < 0.3) else "Giám đốc"
    return name, title, branch


def _draw_names(run: _Run, sector: SectorProfile, ownership: str, workforce: int, commune: Commune,
                prov: Province) -> tuple[str, str, str, bool]:
    """People and names: (representative, establishment name, title, branch)."""
    rep_name, _gender = run.names.person(run.rng, male_share=0.75 if ownership == DN else 0.65)
    branch = False
    if ownership == HKD:
        rep_name, name, title = _hkd_name(run, rep_name, commune)
    elif ownership == HTX:
        name = _htx_name(run, sector, commune)
        title = "Chủ nhiệm HTX"
    else:
        name, title, branch = _dn_name(run, sector, workforce, commune, prov)
    return rep_name, name, title, branch


def _draw_tax_code(run: _Run, branch: bool, prov: Province) -> str:
    """A tax code not yet used in the run (branches hang off a made-up 01/03 parent)."""
    rng, rnd = run.rng, run.rnd
    while True:
        if branch:
            tax_code = make_tax_code(rng, "01" if rnd() < 0.6 else "03", branch=1 + int(rnd() * 20))
        else:
            tax_code = make_tax_code(rng, prov.code)
        if tax_code not in run.used_tax:
            run.used_tax.add(tax_code)
            return tax_code


def _draw_address(run: _Run, commune: Commune, prov: Province) -> str:
    """A street address with the real commune and province names."""
    rnd = run.rnd
    if commune.kind == "phường":
        street = f"Số {1 + int(rnd() * 250)}, tổ {1 + int(rnd() * 30)}"
    else:
        street = f"Thôn {1 + int(rnd() * 15)}"
    return f"{street}, {commune.address_name}, {prov.address_name}"


def _draw_hazards(run: _Run, sector: SectorProfile, ownership: str, workforce: int) -> tuple[int, int, int, int]:
    """Hazardous work and working conditions: (hazardous, class max, strict-work workers, equipment)."""
    rnd = run.rnd
    # Whether anyone does NNĐHNH work at all, then how many (mean share over the sector ≈ sector.hazard).
    has_p = min(0.95, 2.0 * sector.hazard)
    if rnd() < has_p:
        share = sector.hazard / has_p * (0.3 + 1.4 * rnd())
        hazardous = min(workforce, max(1, int(workforce * share + rnd())))
    else:
        hazardous = 0
    if hazardous > 0:
        cls = 4 + int(rnd() * rnd() * (sector.class_max - 3))  # skewed towards IV
    else:
        cls = 1 + int(rnd() * sector.class_plain)
    strict_work = min(workforce, int(workforce * sector.strict_work * (0.4 + 1.2 * rnd()) + rnd() * 0.5))
    equipment = _poisson(run.rng, workforce * sector.equipment * (0.3 if ownership == HKD else 1.0))
    return hazardous, cls, strict_work, equipment


def _draw_exams(run: _Run, sector: SectorProfile, ownership: str, band: int,
                hazardous: int) -> tuple[date | None, date | None, date | None, float]:
    """Health exams (yearly; 6-monthly for NNĐHNH), occupational-disease exams, monitoring and its failing ratio."""
    rnd, recent, within = run.rnd, run.recent, run.within
    if rnd() < _HEALTH_P[ownership][band]:
        health = recent(180) if rnd() < 0.5 else within(181, 364) if rnd() < 0.6 else within(365, _WINDOW_DAYS)
    else:
        health = None
    disease = None
    if hazardous > 0 and rnd() < 0.25 + 0.15 * band:
        disease = recent(364) if rnd() < 0.6 else within(365, _WINDOW_DAYS)
    monitoring, failing = None, 0.0
    if rnd() < (0.05 if ownership == HKD else 0.15 + 0.12 * band + 0.6 * sector.hazard):
        monitoring = recent(364) if rnd() < 0.65 else within(365, _WINDOW_DAYS)
        if rnd() < 0.15 + 0.8 * sector.hazard:
            failing = round(min(1.0, rnd() * (0.15 + 0.6 * sector.hazard)), 3)
    return health, disease, monitoring, failing


def _draw_accidents(run: _Run, sector: SectorProfile, ownership: str, workforce: int, gaps: int,
                    untrained: int) -> tuple[int, int, int, int]:
    """Accidents over 3 years (sector rate, worse with poor organisation and training): (all, fatal, serious, late)."""
    rng, rnd = run.rng, run.rnd
    lam = workforce * sector.accidents * _ACCIDENT_SCALE * (1.0 + 0.2 * gaps) * (1.0 + untrained / workforce)
    accidents = _poisson(rng, lam)
    fatal = serious = 0
    if accidents:
        if accidents <= 60:
            for _a in range(accidents):
                v = rnd()
                if v < sector.fatal:
                    fatal += 1
                elif v < sector.fatal + sector.serious:
                    serious += 1
        else:
            fatal = _binomial(rng, accidents, sector.fatal)
            serious = _binomial(rng, accidents - fatal, sector.serious / (1.0 - sector.fatal))
    late = _binomial(rng, accidents, _LATE_REPORT_P[ownership])
    return accidents, fatal, serious, late


def _draw_vulnerable(run: _Run, sector: SectorProfile, workforce: int, hazardous: int) -> int:
    """Vulnerable workers: minors, pregnant women in NNĐHNH."""
    rnd = run.rnd
    vulnerable = 0
    if rnd() < 0.01 + 0.12 * sector.female * (hazardous > 0):
        vulnerable = min(workforce, 1 + int(workforce * 0.02 * rnd()))
    return vulnerable


def _draw_inspections(run: _Run, sector: SectorProfile, ownership: str, band: int, workforce: int,
                      gaps: int, accidents: int) -> tuple[date | None, int, int]:
    """Inspection history (Chỉ thị 20: a share never inspected), then open complaints."""
    rng, rnd = run.rng, run.rnd
    inspected_p = _INSPECTED_P[ownership][band] + (0.1 if accidents else 0.0)
    if rnd() < inspected_p:
        last_inspected = run.days[int(rnd() * run.n_days)]
        past_violations = _poisson(rng, 0.4 + 0.4 * gaps + 1.0 * sector.hazard)
    else:
        last_inspected, past_violations = None, 0
    complaints = _poisson(rng, 0.02 + 0.0005 * workforce + 0.15 * (accidents > 0))
    return last_inspected, past_violations, complaints


def _generate(n: int, places: _Places, seed: int, as_of: date) -> Iterator[dict]:
    run = _Run(seed, as_of)
    rng, rnd = run.rng, run.rnd
    for _ in range(n):
        sector = SECTORS[bisect(run.sector_cum, rnd() * run.sector_total)]
        commune, prov = places.pick(rng)
        ownership, workforce = _draw_ownership_and_workforce(run, sector)
        band = _size_band(workforce)
        rep_name, name, title, branch = _draw_names(run, sector, ownership, workforce, commune, prov)
        tax_code = _draw_tax_code(run, branch, prov)
        address = _draw_address(run, commune, prov)
        hazardous, cls, strict_work, equipment = _draw_hazards(run, sector, ownership, workforce)
        health, disease, monitoring, failing = _draw_exams(run, sector, ownership, band, hazardous)

        # OSH organisation and training
        gap_p = _GAP_P[ownership][band]
        gaps = (rnd() < gap_p) + (rnd() < gap_p) + (rnd() < gap_p) + (rnd() < gap_p)
        untrained = min(workforce, int(workforce * _UNTRAINED[ownership][band] * 2.0 * rnd() + rnd() * 0.5))

        accidents, fatal, serious, late = _draw_accidents(run, sector, ownership, workforce, gaps, untrained)
        vulnerable = _draw_vulnerable(run, sector, workforce, hazardous)
        last_inspected, past_violations, complaints = _draw_inspections(
            run, sector, ownership, band, workforce, gaps, accidents)

        yield {
            "tax_code": tax_code,
            "name": _nfc(name),
            "address": _nfc(address),
            "province_code": prov.code,
            "commune_code": commune.code,
            "sector_vsic": sector.code,
            "ownership": ownership,
            "legal_representative": _nfc(rep_name),
            "representative_title": title,
            "workforce": workforce,
            "hazardous_workers": hazardous,
            "working_condition_class_max": cls,
            "strict_equipment_count": equipment,
            "strict_work_workers": strict_work,
            "last_health_exam_on": health,
            "last_disease_exam_on": disease,
            "last_environment_monitoring_on": monitoring,
            "monitoring_failing_ratio": failing,
            "fatal_accidents_3y": fatal,
            "serious_accidents_3y": serious,
            "accidents_3y": accidents,
            "accident_reports_late": late,
            "osh_organisation_gaps": gaps,
            "untrained_workers": untrained,
            "vulnerable_workers": vulnerable,
            "past_violations": past_violations,
            "last_inspected_on": last_inspected,
            "open_complaints": complaints,
        }




def generate_people(n: int, *, seed: int) -> list[dict]:
    """``n`` Vietnamese people: ``{"full_name": "Nguyễn Văn An", "gender": "male"}`` (or ``"female"``)."""
    if n < 0:
        raise ValueError("n must be ≥ 0")
    rng = random.Random(seed)
    names = NameMaker()
    out = []
    for _ in range(n):
        full_name, gender = names.person(rng)
        out.append({"full_name": _nfc(full_name), "gender": gender})
    return out
