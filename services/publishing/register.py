"""The public register of sanction outcomes: a Vietnamese page, JSON and CSV open data, one set of rows.

Served read-only by the intake app, without login (``services/entry/http/register_web.py``): ``GET /cong-khai`` (the
page; search, filters, sorting and paging are query parameters handled on the server, so they work without
JavaScript), ``GET /cong-khai/register.json`` and ``GET /cong-khai/register.csv`` (the same rows, filtered and
sorted by the same parameters, never paged). ``write_register(settings)`` also writes the whole register to
``documents/public/{index.html,register.json,register.csv}`` (files 0644, folder 0755, for a web server):

* **Retention** (config): a decision older than ``retention_months`` months on the day the register is built
  (served: the day of the request) leaves the page and the open data. The number is read from the ``publication``
  block of the procedure in force that day (``services/rules/data/procedure_*.json``),
  :data:`DEFAULT_RETENTION_MONTHS` when the block has none.
* **Individuals**: a household business (hộ kinh doanh, ``Ownership.HOUSEHOLD``) is sanctioned as an individual; its
  name and tax code are withheld (Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15 from 01/01/2026). The payload already does it; the
  register enforces it again.
* **Names, not codes**: the issuer is named ("Sở Nội vụ tỉnh Cao Bằng", "Ủy ban nhân dân tỉnh Cao Bằng"), derived
  from the decision's ``issuer_code``, the campaign's lead agency and the procedure in force on the decision's day
  (as ``services.rules.sanctions.issuing_body`` built it); communes and provinces by name. A decision's number is
  always shown with its issuer (two issuers number their decisions independently).
* **One set of rows**: every field of a row is on the page once, as an element carrying the open-data value
  (``data-key``/``data-value``) and showing it formatted; JSON and CSV hold exactly those rows and values, in the
  same order. JSON is UTF-8; CSV is UTF-8 **with a BOM** (so Excel opens Vietnamese correctly), comma-separated,
  one header row. Default order: newest decision first; names and communes sort in Vietnamese order
  (:func:`services.publishing.query.collation_key`).
* **Verified files**: each decision's stored file was checked before it was published (its SHA-256, and its digital
  signatures when it carries any: services/stages/publishing.py); the row gives the file's SHA-256 and the date of its
  latest check that passed (``DocumentVerification``), so anyone holding the decision's PDF can compare.
* **De-identification guard** (:mod:`services.publishing.deidentify`): before anything is written or served, every
  output is checked for the names of people; a match writes (or serves) nothing and raises
  :class:`~services.errors.DeidentificationError`.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from sqlmodel import Session, col, select

from models import Agency, Campaign, Document, DocumentVerification, Establishment, Inspection, Publication
from services.documents.verification_store import latest_verifications
from services.rules.calendar import VIETNAM, today_in_vietnam
from services.db import session_scope
from services.errors import KiemtraError
from services.publishing.query import (SORTS, RegisterQuery, collation_key, paginate, provisions_in,
                                       sort_rows)
from services.publishing.deidentify import PRIVACY_LAW_VI, Protected, check_deidentified, protected_strings
from services.registry.geo import UnknownUnit, load_units, province_area
from services.rules.procedure import procedure_for
from services.text_policy import spreadsheet_safe
from services.settings import TEMPLATES_DIR, Settings

__all__ = ["COLUMNS", "DEFAULT_RETENTION_MONTHS", "PublicView", "issuer_name", "open_data", "public_view", "register_rows",
           "render_outputs", "render_page", "retention_cutoff", "retention_months", "write_register"]

DEFAULT_RETENTION_MONTHS = 36
PDPL_IN_FORCE = date(2026, 1, 1)  # Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15; NĐ 13/2023/NĐ-CP before
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
    ("ma_bam_sha256", "Mã băm SHA-256 của tệp quyết định"),
    ("ngay_kiem_tra_tep", "Ngày kiểm tra tệp quyết định"),
)
KEYS = tuple(k for k, _ in COLUMNS)


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
                        .join(Document, col(Document.id) == col(Publication.document_id))
                        .join(Inspection, col(Inspection.id) == col(Document.inspection_id), isouter=True)
                        .join(Establishment, col(Establishment.id) == col(Inspection.establishment_id), isouter=True)
                        .where(col(Publication.withdrawn_at).is_(None), col(Publication.superseded_by_id).is_(None))
                        .order_by(col(Publication.id))).all()
    agencies = {a.code: a for a in session.exec(select(Agency)).all()}
    checked = latest_verifications(session, [document.id or 0 for _, document, _ in pubs], passed=True)
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
            "thay_the_quyet_dinh": p.get("thay_the_quyet_dinh", ""), "ma_bam_sha256": document.sha256,
            "ngay_kiem_tra_tep": _checked_on(checked.get(document.id or 0)),
        }
        if establishment is not None and not establishment.is_organisation:  # an individual: never named
            row["ten_co_so"], row["ma_so_thue"] = WITHHELD_VI, ""
        out.append(_Published({k: _nfc(row[k]) for k in KEYS}, establishment, pub.id or 0))
    return out


def _checked_on(check: DocumentVerification | None) -> str:
    return check.checked_at.astimezone(VIETNAM).date().isoformat() if check is not None else ""


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
        values = [r.get(k, "") for k in KEYS]  # a row of an older shape lacks the newest columns
        writer.writerow([spreadsheet_safe(v) if isinstance(v, str) else v for v in values])
    outputs = {"register.json": json.dumps([{k: r.get(k, "") for k in KEYS} for r in rows], ensure_ascii=False,
                                           indent=1) + "\n",
               "register.csv": CSV_BOM + buf.getvalue()}
    return {name: unicodedata.normalize("NFC", text) for name, text in outputs.items()}


def render_page(rows: Sequence[Mapping[str, Any]], query: RegisterQuery | None, *, today: date, months: int,
                base: str = "") -> str:
    """The page. ``query`` None: ``rows`` as given, all on one page (the file written to ``documents/public/``, no
    search form); otherwise the rows matching ``query``, one page of :data:`~services.publishing.query.PAGE_SIZE`,
    with the search form and the page links. ``base``: the address the open data is served under ("/cong-khai"; ""
    for files side by side)."""
    selected = query.select(rows) if query is not None else list(rows)
    page = paginate(selected, query.trang) if query is not None else paginate(selected, 1, size=max(1, len(selected)))
    communes = sorted({r["ten_xa"] for r in rows if r["ten_xa"]}, key=collation_key)
    provisions = sorted({p for r in rows for p in provisions_in(r["hanh_vi"])}, key=collation_key)
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
                    if p.establishment is not None and p.establishment.is_organisation}
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
