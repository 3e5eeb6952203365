"""Administrative units from 1 July 2025: the 34 provinces and their 3,321 communes (no district level above them).

The units come from the ``vietnam-provinces`` library (Cục Thống kê codes). Its last release for Python 3.11
(2025.10.1) was built from the draft code list: 128 communes have another code or spelling in the list in force.
``data/units_2025_corrections.csv`` holds those rows (see ``data/SOURCES.md``); a test fails on a row the library no
longer needs, so the file empties itself out once the project can take vietnam-provinces >= 2026.1 (Python >= 3.12).
Names keep the spelling of the Cục Thống kê list: tone marks placed as it places them ("Hòa", "Thủy").
"""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from vietnam_provinces import Province as LibraryProvince
from vietnam_provinces import VietNamDivisionType, Ward

__all__ = ["Commune", "Province", "UnknownUnit", "Units", "load_units", "official_spelling", "CORRECTIONS_CSV"]

CORRECTIONS_CSV = Path(__file__).with_name("data") / "units_2025_corrections.csv"

_PROVINCE_KINDS = {VietNamDivisionType.TINH: "tỉnh", VietNamDivisionType.THANH_PHO_TRUNG_UONG: "thành phố"}
_COMMUNE_KINDS = {VietNamDivisionType.XA: "xã", VietNamDivisionType.PHUONG: "phường",
                  VietNamDivisionType.DAC_KHU: "đặc khu"}
# "Hoà" → "Hòa", "Thuỷ" → "Thủy" at the end of a syllable (not after q: "Quý" stays), as the Cục Thống kê writes them.
_TONES = "\u0300\u0301\u0303\u0309\u0323"
_TONE_ON_SECOND = re.compile(rf"(?<![qQ])([oO][aAeE]|[uU][yY])([{_TONES}])(?!\w)")


class UnknownUnit(LookupError):
    """No province or commune has that code."""


@dataclass(frozen=True, slots=True)
class Province:
    code: str
    name: str  # short name, e.g. "Cao Bằng", "Hà Nội"
    kind: str  # "tỉnh" | "thành phố"

    @property
    def full_name(self) -> str:
        """As written in official documents: "Tỉnh Cao Bằng", "Thành phố Hà Nội"."""
        return f"{self.kind.capitalize()} {self.name}"

    @property
    def address_name(self) -> str:
        """As written at the end of an address: "tỉnh Cao Bằng", "thành phố Hà Nội"."""
        return f"{self.kind} {self.name}"


@dataclass(frozen=True, slots=True)
class Commune:
    code: str
    name: str  # without the kind prefix, e.g. "Thục Phán"
    kind: str  # "xã" | "phường" | "đặc khu"
    province_code: str

    @property
    def full_name(self) -> str:
        """"Phường Thục Phán", "Xã Hòa An", "Đặc khu Lý Sơn"."""
        return f"{self.kind.capitalize()} {self.name}"

    @property
    def address_name(self) -> str:
        """"phường Thục Phán", as written inside an address."""
        return f"{self.kind} {self.name}"


class Units:
    """Read-only lookup over provinces and communes."""

    def __init__(self, provinces: list[Province], communes: list[Commune]) -> None:
        self._provinces = {p.code: p for p in sorted(provinces, key=lambda p: p.code)}
        self._communes = {c.code: c for c in communes}
        by_province: dict[str, list[Commune]] = {code: [] for code in self._provinces}
        for c in communes:
            if c.province_code not in by_province:
                raise ValueError(f"commune {c.code} refers to unknown province {c.province_code}")
            by_province[c.province_code].append(c)
        self._by_province = {code: tuple(cs) for code, cs in by_province.items()}

    @property
    def provinces(self) -> tuple[Province, ...]:
        """All provinces, in order of code."""
        return tuple(self._provinces.values())

    def province(self, code: str) -> Province:
        try:
            return self._provinces[code]
        except KeyError:
            raise UnknownUnit(f"no province with code {code!r}") from None

    def communes(self, province_code: str) -> tuple[Commune, ...]:
        """The province's communes in the order of the Cục Thống kê list."""
        self.province(province_code)
        return self._by_province[province_code]

    def has_communes(self, province_code: str) -> bool:
        """True for every province since the units come from vietnam-provinces (kept for the callers)."""
        return bool(self.communes(province_code))

    def commune(self, code: str) -> Commune:
        try:
            return self._communes[code]
        except KeyError:
            raise UnknownUnit(f"no commune with code {code!r}") from None

    def __len__(self) -> int:
        return len(self._communes)


def official_spelling(name: str) -> str:
    """NFC, single spaces, and the tone mark where the Cục Thống kê list puts it: "Xã  Chiêm Hoá" → "Xã Chiêm Hóa"."""
    text = unicodedata.normalize("NFD", " ".join(name.split()))
    return unicodedata.normalize("NFC", _TONE_ON_SECOND.sub(lambda m: m[1][0] + m[2] + m[1][1], text))


def _without_kind(full_name: str, kind: str) -> str:
    """"Xã Hòa An" → "Hòa An" (the library writes the kind in front of the name)."""
    if not full_name.casefold().startswith(kind + " "):
        raise ValueError(f"commune name {full_name!r} does not start with its kind {kind!r}")
    return full_name[len(kind) + 1:]


def read_corrections(path: Path) -> dict[str, tuple[str, str]]:
    """library code → (official code, official full name), from ``units_2025_corrections.csv``."""
    out: dict[str, tuple[str, str]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(line for line in fh if not line.startswith("#")):
            codes = row["library_code"], row["code"]
            if any(len(c) != 5 or not c.isdigit() for c in codes) or codes[0] in out:
                raise ValueError(f"bad correction row {row!r}")
            out[codes[0]] = (codes[1], official_spelling(row["name"]))
    return out


def build_units(corrections: dict[str, tuple[str, str]]) -> Units:
    """The library's provinces and communes, with ``corrections`` applied (all at once: some codes swap)."""
    provinces = []
    for p in LibraryProvince.iter_all():
        kind = _PROVINCE_KINDS[p.division_type]
        name = official_spelling(p.name)
        name = name[len(kind) + 1:] if name.casefold().startswith(kind + " ") else name
        provinces.append(Province(f"{p.code:02d}", name, kind))
    communes, seen = [], set()
    for w in Ward.iter_all():
        kind = _COMMUNE_KINDS[w.division_type]
        code, full_name = corrections.get(f"{w.code:05d}", (f"{w.code:05d}", w.name))
        if code in seen:
            raise ValueError(f"two communes with code {code}")
        seen.add(code)
        communes.append(Commune(code, _without_kind(official_spelling(full_name), kind), kind, f"{w.province_code:02d}"))
    return Units(provinces, communes)


@cache
def load_units() -> Units:
    """The 2025 units (library + corrections), built once and then cached."""
    return build_units(read_corrections(CORRECTIONS_CSV))


def commune_name(code: str) -> str:
    """"Xã Hòa An" for a known commune code; the code itself for an unknown one."""
    try:
        return load_units().commune(code).full_name
    except UnknownUnit:
        return code


def province_area(code: str | None) -> str:
    """"tỉnh Cao Bằng" as written inside a sentence; "toàn quốc" for a national scope."""
    if not code:
        return "toàn quốc"
    try:
        return load_units().province(code).address_name
    except UnknownUnit:
        return code
