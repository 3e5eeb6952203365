"""The registry import's columns: Vietnamese headers, how each cell is read, and the rules across cells.

The headers and value lists are data (``data/import_columns.json``). Cells come as text (CSV), or as
text, numbers and dates (XLSX, API). Every reader here takes any of those and returns the stored value,
or raises :class:`CellError` with a specific Vietnamese reason. Decisions, documented once:

* text is NFC-normalised, trimmed, and runs of whitespace (line breaks inside a cell) become one space;
* codes lost their leading zeros in Excel ("4" for "04", a 9-digit MST): digit strings shorter than the
  code are zero-padded (a tax code only from 9 digits; its check digit still has to be right);
* counts are whole numbers ≥ 0. Thousands groups are accepted when every group has 3 digits and one
  separator is used throughout ("1.234", "1,234", "1 234" → 1234); anything with a fractional part
  ("2,5", "1.5", 2.5) is refused, never rounded;
* a ratio is 0..1 ("0.12", "0,12") or a percentage ("12%", "12,5%");
* a date is dd/mm/yyyy (also d/m/yyyy, "-" or "." as separator), yyyy-mm-dd, or a real Excel date;
  a bare number is refused (it is an unformatted Excel date or a typo); no date may be in the future;
* a blank cell in an optional column means "none": 0 for counts, no date, class I, Doanh nghiệp.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from difflib import get_close_matches
from functools import cache
from pathlib import Path
from typing import Any

from models.establishment import ESTABLISHMENT_COLUMNS, Establishment, Ownership
from services.registry.geo import UnknownUnit, load_units
from services.registry.taxcode import tax_code_problem
from services.text_policy import FORMULA_STARTS, check_text
from services.errors import CellError, TextRefused

COLUMNS_JSON = Path(__file__).with_name("data") / "import_columns.json"
DEFAULT_OWNERSHIP = Ownership.ENTERPRISE

_INT = re.compile(r"\d+")
_GROUPED = re.compile(r"\d{1,3}(?:([.,\u00a0 ])\d{3})(?:\1\d{3})*")
_DECIMAL = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
_DMY = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?")
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6}


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # Establishment column
    header: str  # Vietnamese header as in the template
    kind: str
    required: bool
    max: int | None
    aliases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    """``small`` must not exceed ``big`` (for several ``small`` columns: their sum)."""

    small: tuple[str, ...]
    big: str
    column: str  # where the error is reported

    @property
    def columns(self) -> frozenset[str]:
        return frozenset((*self.small, self.big))


RULES: tuple[Rule, ...] = (
    Rule(("hazardous_workers",), "workforce", "hazardous_workers"),
    Rule(("strict_work_workers",), "workforce", "strict_work_workers"),
    Rule(("untrained_workers",), "workforce", "untrained_workers"),
    Rule(("vulnerable_workers",), "workforce", "vulnerable_workers"),
    Rule(("fatal_accidents_3y", "serious_accidents_3y"), "accidents_3y", "accidents_3y"),
    Rule(("accident_reports_late",), "accidents_3y", "accident_reports_late"),
)


def normalise_header(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def clean_text(value: str) -> str:
    value = " ".join(value.split())
    return value if value.isascii() else unicodedata.normalize("NFC", value)


@cache
def _spec() -> dict[str, Any]:
    return json.loads(COLUMNS_JSON.read_text(encoding="utf-8"))


@cache
def columns() -> dict[str, Column]:
    """Every import column by Establishment column name, in template order."""
    out = {c["column"]: Column(c["column"], unicodedata.normalize("NFC", c["header"]), c["kind"], bool(c.get("required")),
                               c.get("max"), tuple(c.get("aliases", ()))) for c in _spec()["columns"]}
    if set(out) != set(ESTABLISHMENT_COLUMNS):
        raise ValueError(f"{COLUMNS_JSON.name} does not cover exactly the Establishment columns")
    return out


def header_of(column: str) -> str:
    return columns()[column].header


@cache
def header_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for col in columns().values():
        for text in (col.header, *col.aliases):
            index[normalise_header(text)] = col.name
    return index


@dataclass(frozen=True, slots=True)
class HeaderProblem:
    header: str
    reason: str


def match_headers(headers: list[str]) -> tuple[dict[str, str], list[HeaderProblem]]:
    """Map each file header to its column. Problems: unknown, repeated, and missing required headers."""
    index, mapping, problems = header_index(), {}, []
    seen: dict[str, str] = {}
    for header in headers:
        column = index.get(normalise_header(header))
        if column is None:
            hint = f'; có phải "{header_of(guess)}"?' if (guess := _guess(header)) else ""
            problems.append(HeaderProblem(header, f'Cột "{header}" không có trong mẫu nhập{hint}'))
        elif column in seen:
            problems.append(HeaderProblem(header, f'Cột "{header}" trùng với cột "{seen[column]}"'))
        else:
            seen[column] = header
            mapping[header] = column
    for col in columns().values():
        if col.required and col.name not in seen:
            problems.append(HeaderProblem(col.header, f'Thiếu cột bắt buộc "{col.header}"'))
    return mapping, problems


def _plain(text: str) -> str:
    """Without Vietnamese diacritics, for "did you mean" hints: "Số lao dong" → "so lao dong"."""
    text = unicodedata.normalize("NFD", normalise_header(text)).replace("đ", "d")
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def _guess(header: str) -> str | None:
    """The column a mistyped header most likely meant."""
    plain = {_plain(h): col for h, col in header_index().items()}
    match = get_close_matches(_plain(header), list(plain), n=1, cutoff=0.8)
    return plain[match[0]] if match else None


def defaults() -> dict[str, Any]:
    """Stored values for a new establishment's columns that the source does not give."""
    out: dict[str, Any] = {}
    for name in ESTABLISHMENT_COLUMNS:
        default = Establishment.model_fields[name].default
        out[name] = None if default is None or repr(default) == "PydanticUndefined" else default
    out.update(ownership=DEFAULT_OWNERSHIP, legal_representative="", representative_title="")
    return out


# --- cell readers ------------------------------------------------------------------------------------------

def shown(raw: Any) -> str:
    """A cell as the user typed it, for the report."""
    if raw is None:
        return ""
    if isinstance(raw, datetime):
        return raw.strftime("%d/%m/%Y") if raw.time() == datetime.min.time() else raw.isoformat(sep=" ")
    if isinstance(raw, date):
        return raw.strftime("%d/%m/%Y")
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _as_text(raw: Any) -> str:
    return clean_text(raw if raw.__class__ is str else shown(raw))


def _digits(raw: Any, width: int, what: str) -> str:
    text = _as_text(raw)
    if not (_INT.fullmatch(text) and text.isascii() and len(text) <= width):
        raise CellError(f"{what} phải gồm {width} chữ số, không phải '{text}'")
    return text.zfill(width)


def read_tax_code(raw: Any) -> str:
    text = _as_text(raw)
    if len(text) == 9 and text.isdigit() and text.isascii():  # Excel dropped the leading 0
        text = "0" + text
    problem = tax_code_problem(text)  # python-stdnum's check, our stored form and Vietnamese reasons
    if problem is not None:
        raise CellError(problem)
    return text


def read_int(raw: Any, maximum: int | None = None) -> int:
    if raw.__class__ is str and raw.isdigit() and raw.isascii():  # the common case, first
        value = int(raw)
    elif isinstance(raw, bool):
        raise CellError(f"'{raw}' không phải là số")
    elif isinstance(raw, int):
        value = raw
    elif isinstance(raw, float):
        if not raw.is_integer():
            raise CellError(f"Phải là số nguyên, không có phần thập phân: {raw}")
        value = int(raw)
    else:
        text = _as_text(raw)
        if _INT.fullmatch(text) and text.isascii():
            value = int(text)
        elif _GROUPED.fullmatch(text) and text.replace(" ", "").isascii():
            value = int(re.sub(r"\D", "", text))
        elif _DECIMAL.fullmatch(text):
            if text.startswith("-"):
                raise CellError(f"Số âm không hợp lệ: {text} (phải ≥ 0)")
            raise CellError(f"Phải là số nguyên, không có phần thập phân: {text}")
        else:
            raise CellError(f"'{text}' không phải là số")
    if value < 0:
        raise CellError(f"Số âm không hợp lệ: {value} (phải ≥ 0)")
    if maximum is not None and value > maximum:
        raise CellError(f"{value} vượt quá mức tối đa {maximum}")
    return value


def read_ratio(raw: Any) -> float:
    if isinstance(raw, bool):
        raise CellError(f"'{raw}' không phải là tỷ lệ")
    if isinstance(raw, int | float):
        value, text = float(raw), shown(raw)
    else:
        text = _as_text(raw)
        body, percent = (text[:-1].strip(), True) if text.endswith("%") else (text, False)
        if not _DECIMAL.fullmatch(body):
            raise CellError(f"'{text}' không phải là tỷ lệ (ghi 0,12 hoặc 12%)")
        value = float(body.replace(",", "."))
        if percent:
            value = round(value / 100.0, 10)
    if not 0.0 <= value <= 1.0:
        raise CellError(f"Tỷ lệ {text} phải nằm trong khoảng 0–1 (hoặc 0%–100%)")
    return value


def read_condition_class(raw: Any) -> int:
    text = _as_text(raw).casefold()
    text = text.removeprefix("loại").strip()
    value = _ROMAN.get(text)
    if value is None and text.isdigit() and text.isascii():
        value = int(text)
    if value is None or not 1 <= value <= 6:
        raise CellError(f"Loại điều kiện lao động phải từ 1 đến 6 (hoặc I–VI), không phải '{shown(raw)}'")
    return value


def read_date(raw: Any, today: date) -> date:
    if isinstance(raw, datetime):
        value = raw.date()
    elif isinstance(raw, date):
        value = raw
    elif isinstance(raw, int | float):
        raise CellError(f"Ô chứa số {shown(raw)}, không phải ngày: định dạng ô là ngày hoặc ghi dd/mm/yyyy")
    else:
        text = _as_text(raw)
        m, ymd = _DMY.fullmatch(text), _YMD.fullmatch(text)
        if m is not None:
            y, mo, d = int(m.group(4)), int(m.group(3)), int(m.group(1))
        elif ymd is not None:
            y, mo, d = (int(g) for g in ymd.groups())
        else:
            raise CellError(f"Không đọc được ngày '{text}': ghi theo dd/mm/yyyy hoặc yyyy-mm-dd")
        try:
            value = date(y, mo, d)
        except ValueError:
            raise CellError(f"Ngày '{text}' không tồn tại") from None
    if value > today:
        raise CellError(f"Ngày {value:%d/%m/%Y} ở tương lai (hôm nay là {today:%d/%m/%Y})")
    return value


@cache
def _ownership_index() -> dict[str, Ownership]:
    """Every label (and the stored value itself) → the stored value."""
    labels: dict[str, list[str]] = _spec()["ownership"]
    if set(labels) != set(Ownership):
        raise ValueError(f"{COLUMNS_JSON.name}: ownership must list exactly {', '.join(Ownership)}")
    return {normalise_header(label): Ownership(code) for code, names in labels.items() for label in (code, *names)}


def ownership_label(code: str) -> str:
    """The Vietnamese label a file shows for a stored value (Doanh nghiệp for ``enterprise``)."""
    labels: list[str] = _spec()["ownership"].get(code, [code])
    return labels[0]


def read_ownership(raw: Any) -> Ownership:
    code = _ownership_index().get(normalise_header(shown(raw)))
    if code is None:
        raise CellError(f"Loại hình '{shown(raw)}' không hợp lệ: chọn Doanh nghiệp, Hợp tác xã hoặc Hộ kinh doanh")
    return code


def read_province(raw: Any) -> str:
    code = _digits(raw, 2, "Mã tỉnh")
    try:
        load_units().province(code)
    except UnknownUnit:
        raise CellError(f"Mã tỉnh {code} không có trong danh mục 34 tỉnh, thành phố (từ 01/7/2025)") from None
    return code


def read_vsic(raw: Any) -> str:
    code = _digits(raw, 2, "Mã ngành VSIC (cấp 2)")
    if code not in frozenset(_spec()["vsic_divisions"]):
        raise CellError(f"Mã ngành {code} không có trong VSIC 2018 (cấp 2)")
    return code


def _text_reader(maximum: int | None) -> Callable[[Any], str]:
    def read(raw: Any) -> str:
        try:  # the text policy every boundary shares: what no document can print is refused here, not in a stage
            text = check_text(_as_text(raw))
        except TextRefused as exc:
            raise CellError(str(exc)[:1].upper() + str(exc)[1:]) from exc
        if text[:1] in FORMULA_STARTS:
            raise CellError(f"Bắt đầu bằng '{text[:1]}': bảng tính sẽ hiểu là công thức; hãy bỏ ký tự này")
        if maximum is not None and len(text) > maximum:
            raise CellError(f"Dài {len(text)} ký tự, vượt quá {maximum} ký tự")
        return text
    return read


def readers(today: date) -> dict[str, Callable[[Any], Any]]:
    """One reader per column (cell → stored value, or ``CellError``)."""
    by_kind: dict[str, Callable[[Column], Callable[[Any], Any]]] = {
        "tax_code": lambda c: read_tax_code,
        "text": lambda c: _text_reader(c.max),
        "province": lambda c: read_province,
        "commune": lambda c: lambda raw: _digits(raw, 5, "Mã xã"),
        "vsic": lambda c: read_vsic,
        "ownership": lambda c: read_ownership,
        "int": lambda c: (lambda raw: read_int(raw, c.max)),
        "condition_class": lambda c: read_condition_class,
        "date": lambda c: (lambda raw: read_date(raw, today)),
        "ratio": lambda c: read_ratio,
    }
    return {col.name: by_kind[col.kind](col) for col in columns().values()}


# --- rules across cells ------------------------------------------------------------------------------------

def commune_problem(province_code: str, commune_code: str) -> str | None:
    """Why the commune cannot be in that province (None when it can, or when no list is known)."""
    units = load_units()
    province = units.province(province_code)
    try:
        commune = units.commune(commune_code)
    except UnknownUnit:
        if units.has_communes(province_code):
            return f"Mã xã {commune_code} không có trong danh mục xã, phường của {province.address_name}"
        return None
    if commune.province_code != province_code:
        other = units.province(commune.province_code)
        return f"Mã xã {commune_code} ({commune.address_name}) thuộc {other.address_name}, không thuộc {province.address_name}"
    return None


def rule_problems(row: Mapping[str, Any], rules: tuple[Rule, ...] = RULES) -> list[tuple[str, Any, str]]:
    """(column, value, reason) for each broken consistency rule among ``rules``."""
    out = []
    for rule in rules:
        total = row[rule.small[0]] if len(rule.small) == 1 else sum(row[c] for c in rule.small)
        big = row[rule.big]
        if total <= big:
            continue
        if len(rule.small) == 1:
            reason = f"{header_of(rule.small[0])} ({total}) lớn hơn {header_of(rule.big)} ({big})"
        else:
            parts = " + ".join(header_of(c) for c in rule.small)
            reason = f"{header_of(rule.big)} ({big}) nhỏ hơn {parts} ({total})"
        out.append((rule.column, row[rule.column], reason))
    return out
