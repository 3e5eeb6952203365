"""The public register of sanction outcomes: a Vietnamese page, JSON and CSV open data, one set of rows.

Served read-only by the intake app, without login (``services/intake/register_web.py``): ``GET /cong-khai`` (the
page; search, filters, sorting and paging are query parameters handled on the server, so they work without
JavaScript), ``GET /cong-khai/register.json`` and ``GET /cong-khai/register.csv`` (the same rows, filtered and
sorted by the same parameters, never paged). ``write_register(settings)`` also writes the whole register to
``documents/public/{index.html,register.json,register.csv}`` (files 0644, folder 0755, for a web server):

* **Retention** (config): a decision older than ``retention_months`` months on the day the register is built
  (served: the day of the request) leaves the page and the open data. The number is read from the ``publication``
  block of the procedure in force that day (``services/rules/data/procedure_*.json``),
  :data:`DEFAULT_RETENTION_MONTHS` when the block has none.
* **Individuals**: a household business (``ho_kinh_doanh``) is sanctioned as an individual; its name and tax code
  are withheld (Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15 from 01/01/2026). The payload already does it; the
  register enforces it again.
* **Names, not codes**: the issuer is named ("Sở Nội vụ tỉnh Cao Bằng", "Ủy ban nhân dân tỉnh Cao Bằng"), derived
  from the decision's ``issuer_code``, the campaign's lead agency and the procedure in force on the decision's day
  (as ``services.rules.sanctions.issuing_body`` built it); communes and provinces by name. A decision's number is
  always shown with its issuer (two issuers number their decisions independently).
* **One set of rows**: every field of a row is on the page once, as an element carrying the open-data value
  (``data-key``/``data-value``) and showing it formatted; JSON and CSV hold exactly those rows and values, in the
  same order. JSON is UTF-8; CSV is UTF-8 **with a BOM** (so Excel opens Vietnamese correctly), comma-separated,
  one header row. Default order: newest decision first; names and communes sort in Vietnamese order
  (:func:`collation_key`).
* **De-identification guard**: before anything is written or served, every output is checked for the name of an
  inspector, official or lead (``Person.full_name``), of a complainant or accident victim (every
  ``InspectionTrigger``'s ``reference`` as written, and the personal names written in its ``reference`` and
  ``note``) and of a household business's owner. A match writes (or serves) nothing and raises
  :class:`DeidentificationError`, naming the field and the decision number, never the name. An organisation's
  registered name is public (enterprise registration) and is not refused for containing a personal name.
"""
from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from sqlmodel import Session, select

from models import Agency, Campaign, Document, Establishment, Inspection, InspectionTrigger, Person, Publication
from services.calendar import VIETNAM, today_in_vietnam
from services.db import session_scope
from services.errors import KiemtraError
from services.lookalikes import comparable
from services.intake.logic import is_organisation
from services.registry.geo import UnknownUnit, load_units, province_area
from services.registry.names import SURNAMES
from services.rules.procedure import procedure_for
from services.text_collation import collation_key
from services.text_policy import spreadsheet_safe
from services.settings import TEMPLATES_DIR, Settings

__all__ = ["COLUMNS", "DEFAULT_RETENTION_MONTHS", "PAGE_SIZE", "DeidentificationError", "Protected", "PublicView",
           "RegisterQuery", "check_deidentified", "collation_key", "fold", "issuer_name", "open_data", "paginate",
           "protected_strings", "public_view", "register_rows", "render_outputs", "render_page", "retention_cutoff",
           "retention_months", "sort_rows", "write_register"]

DEFAULT_RETENTION_MONTHS = 36
PAGE_SIZE = 20
PDPL_IN_FORCE = date(2026, 1, 1)  # Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15; NĐ 13/2023/NĐ-CP before
PRIVACY_LAW_VI = "Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15"
WITHHELD_VI = "Cá nhân kinh doanh (thông tin cá nhân được bảo vệ, không công bố)"
_LEGACY_WITHHELD = "Cá nhân kinh doanh (thông tin cá nhân được bảo vệ theo Nghị định 13/2023/NĐ-CP)"
UNKNOWN_ISSUER_VI = "Cơ quan có thẩm quyền xử phạt"
CSV_BOM = "\ufeff"
FILE_MODE, FOLDER_MODE = 0o644, 0o755

# (key in JSON/CSV, its meaning). The order is the CSV's and each JSON object's.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("so_quyet_dinh", "Số quyết định"),
    ("ngay_quyet_dinh", "Ngày quyết định"),
    ("co_quan_ban_hanh", "Cơ quan ban hành"),
    ("ten_co_so", "Tên cơ sở"),
    ("ma_so_thue", "Mã số thuế"),
    ("ten_xa", "Xã, phường"),
    ("ten_tinh", "Tỉnh, thành phố"),
    ("hanh_vi", "Căn cứ xử phạt và số tiền"),
    ("tong_tien_phat_vnd", "Tổng tiền phạt (đồng)"),
    ("ngay_cong_khai", "Ngày công khai"),
    ("thay_the_quyet_dinh", "Thay thế quyết định"),
)
KEYS = tuple(k for k, _ in COLUMNS)


class DeidentificationError(KiemtraError):
    """A register output would carry a protected person's name; nothing was written."""


# --------------------------------------------------------------------------- retention


def retention_months(on: date) -> int:
    """``publication.retention_months`` of the procedure in force on ``on`` (config), 36 when not set."""
    block = procedure_for(on).publication or {}
    value = block.get("retention_months", DEFAULT_RETENTION_MONTHS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise KiemtraError(f"Quy định thủ tục: publication.retention_months phải là số tháng nguyên dương (đang là {value!r}).",
                           key="publication.retention_months")
    return value


def retention_cutoff(today: date, months: int) -> date:
    """The same day ``months`` months before ``today`` (the month's last day when it has no such day)."""
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for day in range(today.day, 0, -1):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- Vietnamese text

def fold(text: str) -> str:
    """For search: lower case, without diacritics ("đ" → "d"), spaces collapsed ("Công  ty" → "cong ty")."""
    decomposed = unicodedata.normalize("NFD", (text or "").casefold().replace("đ", "d"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


# --------------------------------------------------------------------------- rows


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _nfc(value: Any) -> Any:
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def _place_names(province_code: str, commune_code: str) -> tuple[str, str]:
    """("Phường Thục Phán", "Tỉnh Cao Bằng"); "" for a unit not in the shipped list (never the code)."""
    units = load_units()
    try:
        commune = units.commune(commune_code).full_name
    except UnknownUnit:
        commune = ""
    try:
        province = units.province(province_code).full_name
    except UnknownUnit:
        province = ""
    return commune, province


def issuer_name(issuer_code: str, *, lead: Agency | None, decided_on: date,
                agencies: Mapping[str, Agency] | None = None) -> str:
    """The issuing body's name as the public reads it, from the decision's ``issuer_code`` and the campaign's lead
    agency, the way ``services.rules.sanctions.issuing_body`` made the code: ``UBND-<province>`` → "Ủy ban nhân
    dân tỉnh Cao Bằng"; the lead agency's code → the labour department's name on the decision's day + the area
    ("Sở Nội vụ tỉnh Cao Bằng"; "Sở Lao động - Thương binh và Xã hội tỉnh …" before 01/03/2025); ``<lead>-TTr`` →
    "Thanh tra Sở … tỉnh …". Another agency's code → its registered name; never the code itself."""
    labour = procedure_for(decided_on).labour_department_vi
    if lead is not None:
        area = province_area(lead.province_code)
        if issuer_code == f"UBND-{lead.province_code}":
            return f"Ủy ban nhân dân {area}"
        if issuer_code == lead.code:
            return f"{labour} {area}"
        if issuer_code == f"{lead.code}-TTr":
            return f"Thanh tra {labour} {area}"
    agency = (agencies or {}).get(issuer_code)
    if agency is not None:
        area = province_area(agency.province_code)
        return agency.name if area in agency.name else f"{agency.name} {area}"
    match = re.fullmatch(r"UBND-(\d{2})", issuer_code)
    if match and (area := province_area(match.group(1))) != match.group(1):
        return f"Ủy ban nhân dân {area}"
    return UNKNOWN_ISSUER_VI


@dataclass(frozen=True)
class _Published:
    row: dict[str, Any]
    establishment: Establishment | None
    publication_id: int


def _published(session: Session, today: date) -> list[_Published]:
    cutoff = retention_cutoff(today, retention_months(today))
    pubs = session.exec(select(Publication, Document, Establishment)
                        .join(Document, Document.id == Publication.document_id)
                        .join(Inspection, Inspection.id == Document.inspection_id, isouter=True)
                        .join(Establishment, Establishment.id == Inspection.establishment_id, isouter=True)
                        .where(Publication.withdrawn_at.is_(None),  # type: ignore[union-attr]
                               Publication.superseded_by_id.is_(None))  # type: ignore[union-attr]
                        .order_by(Publication.id)).all()
    agencies = {a.code: a for a in session.exec(select(Agency)).all()}
    by_id = {a.id: a for a in agencies.values()}
    leads: dict[int, Agency | None] = {}
    out = []
    for pub, document, establishment in pubs:
        p = pub.payload
        decided_on = date.fromisoformat(p["ngay_quyet_dinh"])
        if decided_on < cutoff:
            continue
        if document.campaign_id not in leads:
            campaign = session.get(Campaign, document.campaign_id)
            leads[document.campaign_id] = by_id.get(campaign.lead_agency_id) if campaign is not None else None
        commune, province = _place_names(str(p.get("ma_tinh") or ""), str(p.get("ma_xa") or ""))
        row = {
            "so_quyet_dinh": p["so_quyet_dinh"], "ngay_quyet_dinh": p["ngay_quyet_dinh"],
            "co_quan_ban_hanh": issuer_name(document.issuer_code, lead=leads[document.campaign_id],
                                            decided_on=document.issued_on or decided_on, agencies=agencies),
            "ten_co_so": WITHHELD_VI if p["ten_co_so"] == _LEGACY_WITHHELD else p["ten_co_so"],
            "ma_so_thue": p["ma_so_thue"], "ten_xa": commune, "ten_tinh": province,
            "hanh_vi": "; ".join(f"{a['can_cu']}: {_money(a['so_tien_vnd'] or 0)} đồng" for a in p["hanh_vi"]),
            "tong_tien_phat_vnd": int(p["tong_tien_phat_vnd"]),
            "ngay_cong_khai": pub.published_at.astimezone(VIETNAM).date().isoformat(),
            "thay_the_quyet_dinh": p.get("thay_the_quyet_dinh", ""),
        }
        if establishment is not None and not is_organisation(establishment):  # an individual: never named
            row["ten_co_so"], row["ma_so_thue"] = WITHHELD_VI, ""
        out.append(_Published({k: _nfc(row[k]) for k in KEYS}, establishment, pub.id or 0))
    return out


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


def _provisions(hanh_vi: str) -> list[str]:
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
        if self.can_cu and not any(fold(self.can_cu) in fold(p) for p in _provisions(row["hanh_vi"])):
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


# --------------------------------------------------------------------------- outputs


def _ngay(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else ""


@lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR / "web"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["ngay"] = _ngay
    env.filters["tien"] = _money
    env.filters["can_cu"] = lambda hanh_vi: [part.rsplit(": ", 1) for part in str(hanh_vi).split("; ") if part]
    return env


def open_data(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``{"register.json": …, "register.csv": …}`` for ``rows`` (NFC text; the CSV starts with a BOM)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(KEYS)
    for r in rows:
        writer.writerow([spreadsheet_safe(r[k]) if isinstance(r[k], str) else r[k] for k in KEYS])
    outputs = {"register.json": json.dumps([{k: r[k] for k in KEYS} for r in rows], ensure_ascii=False, indent=1) + "\n",
               "register.csv": CSV_BOM + buf.getvalue()}
    return {name: unicodedata.normalize("NFC", text) for name, text in outputs.items()}


def render_page(rows: Sequence[Mapping[str, Any]], query: RegisterQuery | None, *, today: date, months: int,
                base: str = "") -> str:
    """The page. ``query`` None: ``rows`` as given, all on one page (the file written to ``documents/public/``, no
    search form); otherwise the rows matching ``query``, one page of :data:`PAGE_SIZE`, with the search form and the page
    links. ``base``: the address the open data is served under ("/cong-khai"; "" for files side by side)."""
    selected = query.select(rows) if query is not None else list(rows)
    page = paginate(selected, query.trang) if query is not None else paginate(selected, 1, size=max(1, len(selected)))
    communes = sorted({r["ten_xa"] for r in rows if r["ten_xa"]}, key=collation_key)
    provisions = sorted({p for r in rows for p in _provisions(r["hanh_vi"])}, key=collation_key)
    data_query = query.params(trang=1) if query is not None else ""
    prefix = f"{base}/" if base else ""
    text = _templates().get_template("register.html").render(
        rows=page.rows, page=page, query=query, sorts=SORTS, communes=communes, provisions=provisions,
        today=today.isoformat(), months=months, total=len(rows),
        before_pdpl=any(r["ngay_quyet_dinh"] < PDPL_IN_FORCE.isoformat() for r in page.rows),
        pdpl_in_force=PDPL_IN_FORCE.isoformat(), privacy_law=PRIVACY_LAW_VI,
        csv_href=f"{prefix}register.csv" + (f"?{data_query}" if data_query else ""),
        json_href=f"{prefix}register.json" + (f"?{data_query}" if data_query else ""))
    return unicodedata.normalize("NFC", text)


def render_outputs(rows: Sequence[Mapping[str, Any]], *, today: date, months: int) -> dict[str, str]:
    """The files: ``{"index.html": …, "register.json": …, "register.csv": …}``, every row, newest first."""
    ordered = sort_rows(rows)
    return {"index.html": render_page(ordered, None, today=today, months=months), **open_data(ordered)}


# --------------------------------------------------------------------------- de-identification guard


@dataclass(frozen=True)
class Protected:
    """A string the register must never carry, and where it comes from (said in errors instead of the string)."""
    text: str
    source: str  # e.g. "Person.full_name (thanh tra viên, mã SNV-TT01)", "InspectionTrigger.note (khiếu nại, số 3)"


_NAME_MARKERS = ("ông", "bà", "anh", "chị", "em", "cháu", "nạn nhân", "người bị nạn", "người lao động", "người khiếu nại",
                 "người tố cáo", "người phản ánh", "người làm đơn", "công dân", "họ tên", "họ và tên")
_SURNAMES = frozenset(unicodedata.normalize("NFC", s) for s, _ in SURNAMES)
_WORD = r"[^\W\d_]+"
_TITLE_WORD = re.compile(r"[^\W\d_][^\W\d_]*")


def _is_title(word: str) -> bool:
    return word[:1].isupper() and word[1:] == word[1:].lower()


def names_in_text(text: str) -> list[str]:
    """Personal names written in free text: 2–4 capitalised words after a marker ("ông", "nạn nhân", …) or 3–4
    capitalised words starting with a Vietnamese surname ("Nguyễn Văn An")."""
    text = unicodedata.normalize("NFC", text)
    words = [(m.group(), m.start(), m.end()) for m in _TITLE_WORD.finditer(text)]
    found: list[str] = []
    lowered = text.lower()
    for i, (word, start, _end) in enumerate(words):
        if not _is_title(word):
            continue
        run = [word]
        for nxt, nstart, _ in words[i + 1:i + 4]:
            gap = text[words[i + len(run) - 1][2]:nstart]
            if not _is_title(nxt) or gap.strip():
                break
            run.append(nxt)
        before = lowered[:start].rstrip(" :,.-–(")
        after_marker = any(before.endswith(m) and (len(before) == len(m) or not before[-len(m) - 1].isalpha())
                           for m in _NAME_MARKERS)
        if after_marker and len(run) >= 2:
            found.append(" ".join(run))
        elif word in _SURNAMES and len(run) >= 3:
            found.append(" ".join(run))
    return found


def _norm(text: str) -> str:
    """Both sides of the guard's comparison: invisible characters and look-alike letters cannot hide a name."""
    return comparable(text)


def _fold(text: str) -> str:
    """Without diacritics ("nguyen van an"), so a name written without its marks is caught too."""
    decomposed = unicodedata.normalize("NFD", _norm(text).replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class _Needle:
    protected: Protected
    patterns: tuple[re.Pattern[str], re.Pattern[str]]  # on the normalised text, on the text without diacritics


def _needles(protected: Sequence[Protected]) -> list[_Needle]:
    def pattern(n: str) -> re.Pattern[str]:
        return re.compile(rf"(?<!\w){re.escape(n)}(?!\w)")
    return [_Needle(p, (pattern(_norm(p.text)), pattern(_fold(p.text)))) for p in protected if _norm(p.text)]


def _found(haystack: str, needles: Sequence[_Needle]) -> list[Protected]:
    h = (_norm(haystack), _fold(haystack))
    return [n.protected for n in needles if n.patterns[0].search(h[0]) or n.patterns[1].search(h[1])]


def _worth_checking(text: str) -> bool:
    """Too short or without letters (a bare number like "03") would match innocent text."""
    t = _norm(text)
    return len(t) >= 5 and any(c.isalpha() for c in t)


_ROLE_VI = {"lead": "cán bộ Sở chủ trì", "inspector": "thành viên đoàn kiểm tra", "official": "người có thẩm quyền"}
_KIND_VI = {"complaint": "khiếu nại, phản ánh", "accident": "tai nạn lao động", "referral": "chuyển đến"}


def protected_strings(session: Session, establishments: Iterable[Establishment | None] = ()) -> list[Protected]:
    """Every name the register must not carry: all people of the agencies; the complainants' and victims' names
    and the reference texts of the triggers (complaints, accidents, referrals); household owners' names."""
    out: list[Protected] = []
    for person in session.exec(select(Person).order_by(Person.id)).all():
        out.append(Protected(person.full_name, f"Person.full_name ({_ROLE_VI.get(str(person.role), str(person.role))}, "
                                               f"mã {person.code})"))
    for trigger in session.exec(select(InspectionTrigger).order_by(InspectionTrigger.id)).all():
        kind = _KIND_VI.get(str(trigger.kind), str(trigger.kind))
        for field in ("reference", "note"):
            value = getattr(trigger, field) or ""
            source = f"InspectionTrigger.{field} ({kind}, căn cứ số {trigger.id})"
            if field == "reference" and _worth_checking(value):  # the file's number links to the complainant
                out.append(Protected(value, source))
            out.extend(Protected(name, f"tên người trong {source}") for name in names_in_text(value))
    for est in establishments:
        if est is not None and not is_organisation(est):
            source = f"cá nhân kinh doanh (cơ sở số {est.id})"
            out.append(Protected(est.legal_representative, f"Establishment.legal_representative, {source}"))
            out.append(Protected(est.name, f"Establishment.name, {source}"))
    return [p for p in out if _worth_checking(p.text)]


def check_deidentified(rows: Sequence[Mapping[str, Any]], outputs: Mapping[str, str], protected: Sequence[Protected], *,
                       public_names: Mapping[str, str] | None = None) -> None:
    """Raise :class:`DeidentificationError` if a row's field, or any output file, carries a protected string.

    ``public_names`` maps a decision number to its organisation's registered name: that name is public, so it is
    not refused in ``ten_co_so`` (nor in the outputs) for containing a protected person's name."""
    public_names = public_names or {}
    needles = _needles(protected)
    problems: list[str] = []
    for row in rows:
        number = str(row.get("so_quyet_dinh", ""))
        for key, value in row.items():
            if not isinstance(value, str) or (key == "ten_co_so" and public_names.get(number) == value):
                continue
            for p in _found(value, needles):
                problems.append(f"trường «{key}» của quyết định số {number} chứa tên được bảo vệ ({p.source})")
    if not problems:  # the rows are clean: what else the files carry (headings, scripts) is checked whole
        masks = sorted({_norm(n) for n in public_names.values() if n}, key=len, reverse=True)
        for name, text in outputs.items():
            body = _norm(html.unescape(text))
            for mask in masks:
                body = body.replace(mask, " ")
            for p in _found(body, needles):
                problems.append(f"tệp {name} chứa tên được bảo vệ ({p.source})")
    if problems:
        listed = "; ".join(dict.fromkeys(problems))
        raise DeidentificationError("Không ghi sổ công khai kết quả xử phạt vì lộ thông tin cá nhân "
                                    f"({PRIVACY_LAW_VI}): {listed}.", problems=list(dict.fromkeys(problems)))


# --------------------------------------------------------------------------- the register


@dataclass(frozen=True)
class PublicView:
    """The register as served for one request: every row (publication order), its page and its open data."""
    rows: list[dict[str, Any]]
    query: RegisterQuery
    html: str
    selected: list[Mapping[str, Any]]


def _snapshot(session: Session, today: date) -> tuple[list[dict[str, Any]], list[Protected], dict[str, str]]:
    published = _published(session, today)
    protected = protected_strings(session, (p.establishment for p in published))
    public_names = {p.row["so_quyet_dinh"]: p.establishment.name for p in published
                    if p.establishment is not None and is_organisation(p.establishment)}
    return [p.row for p in published], protected, public_names


def public_view(session: Session, query: RegisterQuery, *, today: date | None = None, base: str = "/cong-khai") -> PublicView:
    """The page for ``query`` and the rows JSON/CSV serve for it, checked by the de-identification guard over every
    row of the register (raises :class:`DeidentificationError`: nothing is served)."""
    today = today or today_in_vietnam()
    rows, protected, public_names = _snapshot(session, today)
    page = render_page(rows, query, today=today, months=retention_months(today), base=base)
    selected = query.select(rows)
    check_deidentified(rows, {"trang công khai": page, **open_data(selected)}, protected, public_names=public_names)
    return PublicView(rows, query, page, selected)


def register_rows(settings: Settings, *, today: date | None = None) -> list[dict[str, Any]]:
    """The register's rows as they are published (after retention), newest decision first."""
    with session_scope(settings) as session:
        return [dict(r) for r in sort_rows([p.row for p in _published(session, today or today_in_vietnam())])]


def _write_public(path: Path, data: bytes) -> None:
    """Atomically (readers see the old file or the new one), readable by a web server (0644)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), FILE_MODE)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_register(settings: Settings, *, today: date | None = None) -> Path:
    """Rebuild the public register files (index.html, register.json, register.csv) from the stored publications.

    Nothing is written when the de-identification guard refuses (the previous files stay as they were)."""
    today = today or today_in_vietnam()
    with session_scope(settings) as session:
        rows, protected, public_names = _snapshot(session, today)
    outputs = render_outputs(rows, today=today, months=retention_months(today))
    check_deidentified(rows, outputs, protected, public_names=public_names)
    folder = settings.documents_path / "public"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(FOLDER_MODE)
    for name in ("register.json", "register.csv", "index.html"):
        _write_public(folder / name, outputs[name].encode("utf-8"))
    return folder
