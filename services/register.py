"""The public register of sanction outcomes: a static Vietnamese page, JSON and CSV open data, one set of rows.

``write_register(settings)`` rebuilds ``documents/public/{index.html,register.json,register.csv}`` from the stored
publications (neither withdrawn nor replaced by a correction), in publication order:

* **Retention** (config): a decision older than ``retention_months`` months on the day the register is built
  leaves the page and the open data. The number is read from the ``publication`` block of the procedure in force
  that day (``services/rules/data/procedure_*.json``), :data:`DEFAULT_RETENTION_MONTHS` when the block has none.
* **Individuals**: a household business (``ho_kinh_doanh``) is sanctioned as an individual; its name and tax
  code are withheld (NĐ 13/2023 on personal data). The payload already does it; the register enforces it again.
* **One set of rows**: the page's cells carry the open-data value (``data-value``) and show it formatted; JSON
  and CSV hold exactly those rows and values, in the same order. JSON is UTF-8; CSV is UTF-8 **with a BOM**
  (so Excel opens Vietnamese correctly), comma-separated, one header row.
* **De-identification guard**: before anything is written, every output is checked for the name of an inspector,
  official or lead (``Person.full_name``), of a complainant or accident victim (every ``InspectionTrigger``'s
  ``reference`` as written, and the personal names written in its ``reference`` and ``note``) and of a household
  business's owner. A match writes nothing and raises :class:`DeidentificationError`, naming the field and the decision
  number, never the name. An organisation's registered name is public (enterprise registration) and is not
  refused for containing a personal name.
* **Search** works in the static page: a small inline script filters the rows by establishment name, tax code,
  commune, decision date (from/to) and legal provision; the same query in the URL (``index.html?mst=…&xa=…``)
  opens the page filtered, so a search can be shared. No external resources.
"""
from __future__ import annotations

import csv
import html
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from sqlmodel import Session, select

from models import Document, Establishment, Inspection, InspectionTrigger, Person, Publication
from services.calendar import VIETNAM, today_in_vietnam
from services.db import session_scope
from services.documents.storage import write_atomic
from services.errors import KiemtraError
from services.intake.logic import is_organisation
from services.registry.geo import commune_name
from services.registry.names import SURNAMES
from services.rules.procedure import procedure_for
from services.settings import TEMPLATES_DIR, Settings

__all__ = ["COLUMNS", "DEFAULT_RETENTION_MONTHS", "DeidentificationError", "Protected", "check_deidentified",
           "protected_strings", "register_rows", "render_outputs", "retention_cutoff", "retention_months",
           "write_register"]

DEFAULT_RETENTION_MONTHS = 36
WITHHELD_VI = "Cá nhân kinh doanh (thông tin cá nhân được bảo vệ theo Nghị định 13/2023/NĐ-CP)"
CSV_BOM = "\ufeff"

# (key in JSON/CSV, column heading on the page). The order is the page's, the CSV's and each JSON object's.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("so_quyet_dinh", "Số quyết định"),
    ("ngay_quyet_dinh", "Ngày quyết định"),
    ("co_quan_ban_hanh", "Cơ quan ban hành"),
    ("ten_co_so", "Tên cơ sở"),
    ("ma_so_thue", "Mã số thuế"),
    ("ma_tinh", "Mã tỉnh"),
    ("ma_xa", "Mã xã"),
    ("ten_xa", "Xã, phường"),
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


# --------------------------------------------------------------------------- rows


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _nfc(value: Any) -> Any:
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


@dataclass(frozen=True)
class _Published:
    row: dict[str, Any]
    establishment: Establishment | None


def _published(session: Session, today: date) -> list[_Published]:
    cutoff = retention_cutoff(today, retention_months(today))
    pubs = session.exec(select(Publication, Establishment)
                        .join(Document, Document.id == Publication.document_id)
                        .join(Inspection, Inspection.id == Document.inspection_id, isouter=True)
                        .join(Establishment, Establishment.id == Inspection.establishment_id, isouter=True)
                        .where(Publication.withdrawn_at.is_(None),  # type: ignore[union-attr]
                               Publication.superseded_by_id.is_(None))  # type: ignore[union-attr]
                        .order_by(Publication.id)).all()
    out = []
    for pub, establishment in pubs:
        p = pub.payload
        if date.fromisoformat(p["ngay_quyet_dinh"]) < cutoff:
            continue
        row = {
            "so_quyet_dinh": p["so_quyet_dinh"], "ngay_quyet_dinh": p["ngay_quyet_dinh"],
            "co_quan_ban_hanh": p["co_quan_ban_hanh"], "ten_co_so": p["ten_co_so"], "ma_so_thue": p["ma_so_thue"],
            "ma_tinh": p["ma_tinh"], "ma_xa": p["ma_xa"], "ten_xa": commune_name(p["ma_xa"]),
            "hanh_vi": "; ".join(f"{a['can_cu']}: {_money(a['so_tien_vnd'] or 0)} đồng" for a in p["hanh_vi"]),
            "tong_tien_phat_vnd": int(p["tong_tien_phat_vnd"]),
            "ngay_cong_khai": pub.published_at.astimezone(VIETNAM).date().isoformat(),
            "thay_the_quyet_dinh": p.get("thay_the_quyet_dinh", ""),
        }
        if establishment is not None and not is_organisation(establishment):  # an individual: never named
            row["ten_co_so"], row["ma_so_thue"] = WITHHELD_VI, ""
        out.append(_Published({k: _nfc(row[k]) for k in KEYS}, establishment))
    return out


def register_rows(settings: Settings, *, today: date | None = None) -> list[dict[str, Any]]:
    """The register's rows as they are published (after retention), in publication order."""
    with session_scope(settings) as session:
        return [p.row for p in _published(session, today or today_in_vietnam())]


# --------------------------------------------------------------------------- outputs


@lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR / "web"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["ngay"] = lambda iso: date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else ""
    env.filters["tien"] = _money
    return env


def render_outputs(rows: Sequence[Mapping[str, Any]], *, today: date, months: int) -> dict[str, str]:
    """``{"index.html": …, "register.json": …, "register.csv": …}`` (NFC text; the CSV starts with a BOM)."""
    communes = sorted({(r["ma_xa"], r["ten_xa"]) for r in rows}, key=lambda c: (c[1], c[0]))
    provisions = sorted({part.rsplit(":", 1)[0].strip() for r in rows for part in str(r["hanh_vi"]).split("; ") if part})
    page = _templates().get_template("register.html").render(
        columns=COLUMNS, rows=rows, communes=communes, provisions=provisions, today=today.isoformat(), months=months)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(KEYS)
    for r in rows:
        writer.writerow([r[k] for k in KEYS])
    outputs = {"index.html": page, "register.json": json.dumps(list(rows), ensure_ascii=False, indent=1) + "\n",
               "register.csv": CSV_BOM + buf.getvalue()}
    return {name: unicodedata.normalize("NFC", text) for name, text in outputs.items()}


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
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


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
                                    f"(Nghị định 13/2023/NĐ-CP): {listed}.", problems=list(dict.fromkeys(problems)))


# --------------------------------------------------------------------------- the register


def write_register(settings: Settings, *, today: date | None = None) -> Path:
    """Rebuild the public register (index.html, register.json, register.csv) from the stored publications.

    Nothing is written when the de-identification guard refuses (the previous files stay as they were)."""
    today = today or today_in_vietnam()
    with session_scope(settings) as session:
        published = _published(session, today)
        protected = protected_strings(session, (p.establishment for p in published))
        public_names = {p.row["so_quyet_dinh"]: p.establishment.name for p in published
                        if p.establishment is not None and is_organisation(p.establishment)}
    rows = [p.row for p in published]
    outputs = render_outputs(rows, today=today, months=retention_months(today))
    check_deidentified(rows, outputs, protected, public_names=public_names)
    folder = settings.documents_path / "public"
    for name in ("register.json", "register.csv", "index.html"):
        write_atomic(folder / name, outputs[name].encode("utf-8"))
    return folder
