"""Administrative units from 1 July 2025 (34 provinces, communes with no district level above them).

The data is in ``data/units_2025.csv``, copied from the Cục Thống kê code lists (see ``data/SOURCES.md``).
All 34 provinces are there. Only some provinces have their commune lists: ``Units.communes(code)`` returns
an empty tuple for the others, and ``Units.has_communes(code)`` tells which is which.
"""
from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["Commune", "Province", "UnknownUnit", "Units", "load_units", "UNITS_CSV"]

UNITS_CSV = Path(__file__).with_name("data") / "units_2025.csv"

# Centrally-run cities (thành phố trực thuộc trung ương), written "Thành phố …" in Công văn 915/CTK-CSCL.
_CITY_CODES = frozenset({"01", "31", "46", "48", "79", "92"})
_COMMUNE_KINDS = frozenset({"xã", "phường", "đặc khu"})


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
        """The province's communes in source-document order (empty when the data has no list for it)."""
        self.province(province_code)
        return self._by_province[province_code]

    def has_communes(self, province_code: str) -> bool:
        return bool(self.communes(province_code))

    def commune(self, code: str) -> Commune:
        try:
            return self._communes[code]
        except KeyError:
            raise UnknownUnit(f"no commune with code {code!r}") from None

    def __len__(self) -> int:
        return len(self._communes)


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s.strip())


def parse_units(path: Path) -> Units:
    provinces: dict[str, Province] = {}
    communes: list[Commune] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(line for line in fh if not line.startswith("#"))
        for row in reader:
            pcode, pname = row["province_code"].strip(), _nfc(row["province_name"])
            if len(pcode) != 2 or not pcode.isdigit():
                raise ValueError(f"bad province code {pcode!r}")
            prov = Province(pcode, pname, "thành phố" if pcode in _CITY_CODES else "tỉnh")
            if provinces.setdefault(pcode, prov) != prov:
                raise ValueError(f"province {pcode} has two names")
            ccode = row["commune_code"].strip()
            if not ccode:
                continue
            kind = _nfc(row["commune_kind"])
            if len(ccode) != 5 or not ccode.isdigit() or kind not in _COMMUNE_KINDS:
                raise ValueError(f"bad commune row {row!r}")
            if ccode in seen:
                raise ValueError(f"duplicate commune code {ccode}")
            seen.add(ccode)
            communes.append(Commune(ccode, _nfc(row["commune_name"]), kind, pcode))
    return Units(list(provinces.values()), communes)


@cache
def load_units() -> Units:
    """The 2025 units from the CSV that ships with the package, read once and then cached."""
    return parse_units(UNITS_CSV)


def commune_name(code: str) -> str:
    """"Xã Hòa An" for a known commune code; the code itself when the province's list is not shipped."""
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
