"""The public register's search, sorting and paging, over rows already built, and Vietnamese order and folding.

* **Vietnamese order** (:func:`collation_key`, from :mod:`services.text_collation`: the Unicode Collation Algorithm
  with Vietnamese letter order): names and communes sort as in a Vietnamese dictionary;
  :func:`fold` is what search compares (no case, no diacritics, spaces collapsed).
* **The query** (:class:`RegisterQuery`): what the public asked for in the page's parameters, read leniently (a
  public page answers, it does not refuse); :meth:`RegisterQuery.select` gives the matching rows in their order
  (what JSON and CSV serve), :func:`paginate` one page of them (what the page shows).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

from services.text_collation import collation_key

__all__ = ["DEFAULT_SORT", "PAGE_SIZE", "SORTS", "Page", "RegisterQuery", "collation_key", "fold", "paginate",
           "provisions_in", "sort_rows"]

PAGE_SIZE = 20


# --------------------------------------------------------------------------- Vietnamese text

def fold(text: str) -> str:
    """For search: lower case, without diacritics ("đ" → "d"), spaces collapsed ("Công  ty" → "cong ty")."""
    decomposed = unicodedata.normalize("NFD", (text or "").casefold().replace("đ", "d"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


# --------------------------------------------------------------------------- search, sorting, paging

SORTS: dict[str, str] = {  # ?sap_xep=… → its label
    "moi_nhat": "Ngày quyết định: mới nhất trước",
    "cu_nhat": "Ngày quyết định: cũ nhất trước",
    "ten": "Tên cơ sở (A–Z)",
    "xa": "Xã, phường (A–Z)",
    "tien_phat": "Tổng tiền phạt: cao nhất trước",
}
DEFAULT_SORT = "moi_nhat"
_MAX_TEXT = 200
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def provisions_in(hanh_vi: str) -> list[str]:
    """The legal provisions a row's ``hanh_vi`` cites (what the provision filter offers and matches)."""
    return [part.rsplit(":", 1)[0].strip() for part in str(hanh_vi).split("; ") if part]


def _sort_key(sort: str) -> Any:
    if sort == "ten":
        return lambda ir: (collation_key(ir[1]["ten_co_so"]), -ir[0])
    if sort == "xa":
        return lambda ir: (collation_key(ir[1]["ten_xa"]), collation_key(ir[1]["ten_co_so"]), -ir[0])
    if sort == "tien_phat":
        return lambda ir: (-int(ir[1]["tong_tien_phat_vnd"]), -ir[0])
    if sort == "cu_nhat":
        return lambda ir: (ir[1]["ngay_quyet_dinh"], ir[0])
    return lambda ir: (-date.fromisoformat(ir[1]["ngay_quyet_dinh"]).toordinal(), -ir[0])  # newest first


def sort_rows(rows: Sequence[Mapping[str, Any]], sort: str = DEFAULT_SORT) -> list[Mapping[str, Any]]:
    """``rows`` (in publication order) in the order ``sort`` names; ties: the later publication first (oldest
    first for ``cu_nhat``)."""
    return [r for _, r in sorted(enumerate(rows), key=_sort_key(sort if sort in SORTS else DEFAULT_SORT))]


@dataclass(frozen=True)
class RegisterQuery:
    """What the public asked for: ``q`` (establishment name, tax code or decision number), ``xa`` (a commune's name),
    ``can_cu`` (a legal provision), ``tu``/``den`` (decision dates, ISO), ``sap_xep``, ``trang`` (from 1)."""
    q: str = ""
    xa: str = ""
    can_cu: str = ""
    tu: str = ""
    den: str = ""
    sap_xep: str = DEFAULT_SORT
    trang: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> RegisterQuery:
        """Lenient: anything malformed is ignored (a public page answers, it does not refuse)."""
        def text(name: str) -> str:
            return " ".join(unicodedata.normalize("NFC", str(params.get(name) or "")).split())[:_MAX_TEXT]

        def iso(name: str) -> str:
            value = text(name)
            try:
                return date.fromisoformat(value).isoformat() if _ISO_DATE.fullmatch(value) else ""
            except ValueError:
                return ""
        page = text("trang")
        sort = text("sap_xep")
        return cls(q=text("q"), xa=text("xa"), can_cu=text("can_cu"), tu=iso("tu"), den=iso("den"),
                   sap_xep=sort if sort in SORTS else DEFAULT_SORT,
                   trang=int(page) if page.isdigit() and 0 < len(page) < 7 and int(page) > 0 else 1)

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.xa or self.can_cu or self.tu or self.den)

    def matches(self, row: Mapping[str, Any]) -> bool:
        if self.q:
            wanted = fold(self.q)
            digits = re.sub(r"[\s.\-]", "", self.q)
            in_text = wanted in fold(f"{row['ten_co_so']} · {row['so_quyet_dinh']}")
            in_tax = bool(digits.isdigit() and row["ma_so_thue"] and digits in str(row["ma_so_thue"]))
            if not (in_text or in_tax):
                return False
        if self.xa and row["ten_xa"] != self.xa:
            return False
        if self.can_cu and not any(fold(self.can_cu) in fold(p) for p in provisions_in(row["hanh_vi"])):
            return False
        if self.tu and row["ngay_quyet_dinh"] < self.tu:
            return False
        return not (self.den and row["ngay_quyet_dinh"] > self.den)

    def select(self, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The rows matching the query, in its order (not paged): what JSON and CSV serve for it."""
        return [r for r in sort_rows(rows, self.sap_xep) if self.matches(r)]

    def params(self, **changes: Any) -> str:
        """This query as a URL query string (defaults left out), with ``changes``; "" when there is nothing."""
        q = replace(self, **changes)
        pairs = [(k, v) for k, v in (("q", q.q), ("xa", q.xa), ("can_cu", q.can_cu), ("tu", q.tu), ("den", q.den),
                                     ("sap_xep", "" if q.sap_xep == DEFAULT_SORT else q.sap_xep),
                                     ("trang", "" if q.trang == 1 else str(q.trang))) if v]
        return urlencode(pairs)


@dataclass(frozen=True)
class Page:
    rows: list[Mapping[str, Any]]
    number: int
    count: int  # pages
    total: int  # matching rows
    first: int  # 1-based position of the first row shown (0 when none)
    links: tuple[int, ...] = ()  # page numbers to link (0: an ellipsis)


def paginate(rows: Sequence[Mapping[str, Any]], number: int, size: int = PAGE_SIZE) -> Page:
    count = max(1, -(-len(rows) // size))
    number = min(max(1, number), count)
    shown = list(rows[(number - 1) * size:number * size])
    wanted = sorted({1, count, *range(number - 2, number + 3)} & set(range(1, count + 1)))
    links: list[int] = []
    for n in wanted:
        if links and n - links[-1] == 2:  # one page between: its number, not an ellipsis
            links.append(n - 1)
        elif links and n - links[-1] > 2:
            links.append(0)
        links.append(n)
    return Page(shown, number, count, len(rows), (number - 1) * size + 1 if shown else 0, tuple(links))
