"""What the selection review page shows: the proposed list explained factor by factor, and the registry search.

Reads only (the page's writes go through :mod:`services.stages.approval`, as the selection API's do). A row's reasons
are worded by the same functions as the API (``services/entry/http/selection_api.py``), the PDF and the XLSX
(:func:`services.documents.selection_list.reasons_vi`, :data:`KIND_VI`,
:func:`services.rules.risk.past_violations_detail_vi`); each factor's points carry their unit ("30 điểm") and the
policy's rule with the unit it counts ("30 điểm/vụ, tối đa 60 điểm").
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import Campaign, Establishment, Selection
from models.base import id_of
from services.documents.selection_list import KIND_VI, decimal_vi, policy_labels, reasons_vi, sector_vi
from services.registry.geo import commune_name, load_units
from services.rules.risk import RiskPolicy, past_violations_detail_vi, policy_version
from services.stages.selection import engine_sanction_dates
from services.text_collation import collation_key

SEARCH_LIMIT = 50
_MAX_QUERY = 200
# What one unit of each counted factor is (the policy file gives points per unit, not the unit's name).
FACTOR_UNIT_VI: dict[str, str] = {
    "fatal_accidents": "vụ", "serious_accidents": "vụ", "accident_frequency": "vụ trên 100 lao động mỗi năm",
    "late_accident_reports": "báo cáo", "strict_equipment": "máy, thiết bị", "osh_organisation_gaps": "nội dung còn thiếu",
    "vulnerable_workers": "người", "past_violations": "lần", "open_complaints": "khiếu nại, phản ánh",
}
# Factors scored on a share (0–1): their points are per_unit × the share, so per_unit is the points at 100%.
SHARE_FACTORS = frozenset({"hazardous_share", "monitoring_failing", "untrained_share"})
_ROMAN = {"4": "IV", "5": "V", "6": "VI"}


def points_vi(points: float) -> str:
    """'30 điểm', '2,5 điểm'."""
    return f"{decimal_vi(points)} điểm"


def factor_rule_vi(key: str, spec: Mapping[str, Any]) -> str:
    """How the policy scores a factor, with units: '30 điểm/vụ, tối đa 60 điểm', '20 điểm × tỷ lệ (tối đa 20 điểm)'."""
    if "per_unit" in spec:
        cap = f"tối đa {points_vi(float(spec['cap']))}"
        if key in SHARE_FACTORS:
            return f"{points_vi(float(spec['per_unit']))} × tỷ lệ (100% được {decimal_vi(float(spec['per_unit']))} điểm), {cap}"
        return f"{points_vi(float(spec['per_unit']))}/{FACTOR_UNIT_VI.get(key, 'đơn vị')}, {cap}"
    if "by_class" in spec:
        return "; ".join(f"loại {_ROMAN.get(k, k)}: {points_vi(float(v))}" for k, v in spec["by_class"].items())
    if "bands" in spec:
        bands = [(int(low), float(pts)) for low, pts in spec["bands"]]
        parts = []
        for i, (low, pts) in enumerate(bands):
            high = bands[i + 1][0] - 1 if i + 1 < len(bands) else None
            span = f"{low}–{high}" if high is not None else f"từ {low}"
            parts.append(f"{span} lao động: {points_vi(pts)}")
        return "; ".join(parts)
    if "points" not in spec:
        return ""
    points = points_vi(float(spec["points"]))
    if "months_hazardous" in spec:
        return (f"{points} khi quá {spec['months']} tháng ({spec['months_hazardous']} tháng nếu có lao động làm nghề "
                "nặng nhọc, độc hại, nguy hiểm)")
    if "months" in spec:
        return f"{points} khi quá {spec['months']} tháng"
    if "sectors" in spec:
        return f"{points} với ngành VSIC {', '.join(str(s) for s in spec['sectors'])}"
    return points


@dataclass(frozen=True)
class FactorView:
    key: str
    label_vi: str
    points: float
    points_vi: str
    rule_vi: str
    detail_vi: str = ""


@dataclass(frozen=True)
class RowView:
    rank: int
    tax_code: str
    name: str
    address: str
    commune_vi: str
    sector_vi: str
    workforce: int
    score: float
    score_vi: str
    kind: str
    kind_vi: str
    factors: list[FactorView]
    reasons_vi: str
    removed: bool
    change_reason: str
    changed_by: str


@dataclass
class ListView:
    campaign: Campaign
    policy: RiskPolicy | None
    rows: list[RowView] = field(default_factory=list)

    @property
    def active(self) -> list[RowView]:
        return [r for r in self.rows if not r.removed]

    @property
    def removed(self) -> list[RowView]:
        return [r for r in self.rows if r.removed]


SORTS = {"diem": "Điểm rủi ro: cao nhất trước", "diem_tang": "Điểm rủi ro: thấp nhất trước", "tt": "Thứ tự đề xuất",
         "ten": "Tên cơ sở (A–Z)"}


def sort_rows(rows: list[RowView], sort: str) -> list[RowView]:
    if sort == "diem_tang":
        return sorted(rows, key=lambda r: (r.score, -r.rank))
    if sort == "tt":
        return sorted(rows, key=lambda r: r.rank)
    if sort == "ten":
        return sorted(rows, key=lambda r: (collation_key(r.name), r.rank))
    return sorted(rows, key=lambda r: (-r.score, r.rank))


def selection_list(db: Session, campaign: Campaign) -> ListView:
    """The campaign's list as stored (removed rows too), each row explained as the selection API explains it."""
    policy = policy_version(campaign.risk_policy_version) if campaign.risk_policy_version else None
    labels = policy_labels(policy) if policy else {}
    rows = db.exec(select(Selection, Establishment).join(Establishment, col(Selection.establishment_id) == col(Establishment.id))
                   .where(Selection.campaign_id == campaign.id).order_by(col(Selection.rank))).all()
    sanctions = (engine_sanction_dates(db, [id_of(e) for s, e in rows if "past_violations" in s.factors], policy, campaign)
                 if policy else {})
    view = ListView(campaign, policy)
    for s, e in rows:
        detail = ({"past_violations": past_violations_detail_vi(e.past_violations, sanctions.get(id_of(e), []))}
                  if "past_violations" in s.factors else {})
        row_labels = {k: f"{v} [{detail[k]}]" if detail.get(k) else v for k, v in labels.items()}
        factors = [FactorView(k, labels.get(k, k), float(v), points_vi(float(v)),
                              factor_rule_vi(k, policy.factors[k]) if policy and k in policy.factors else "",
                              detail.get(k, ""))
                   for k, v in sorted(s.factors.items(), key=lambda kv: -kv[1]) if v]
        view.rows.append(RowView(
            rank=s.rank, tax_code=e.tax_code, name=e.name, address=e.address, commune_vi=commune_name(e.commune_code),
            sector_vi=sector_vi(e.sector_vsic), workforce=e.workforce, score=s.score, score_vi=decimal_vi(s.score),
            kind=str(s.kind), kind_vi=KIND_VI[str(s.kind)], factors=factors,
            reasons_vi=reasons_vi(s.factors, row_labels) if labels else "", removed=s.removed,
            change_reason=s.change_reason, changed_by=s.changed_by or ""))
    return view


# --------------------------------------------------------------------------- the registry search


def fold(text: str) -> str:
    """Lower case, no diacritics ('đ' → 'd'), spaces collapsed: what the name search compares."""
    decomposed = unicodedata.normalize("NFD", (text or "").casefold().replace("đ", "d"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _accented() -> tuple[str, str]:
    """Every precomposed Latin letter with a Vietnamese diacritic (both cases) and its folded base letter, for
    PostgreSQL's ``translate``."""
    source, target = [], []
    for cp in range(0xC0, 0x1EFA):
        ch = chr(cp)
        base = fold(ch)
        if ch.isalpha() and len(base) == 1 and base.isascii() and base != ch.lower():
            source.append(ch)
            target.append(base)
    return "".join(source), "".join(target)


_ACCENTED, _BASES = _accented()


def _folded_name(db: Session) -> Any:
    """``Establishment.name`` folded in SQL: PostgreSQL's ``translate`` + ``lower``; on SQLite a Python function
    registered on the connection (the same :func:`fold`)."""
    connection = db.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        assert raw is not None
        raw.create_function("kt_fold", 1, fold, deterministic=True)
        return sa.func.kt_fold(col(Establishment.name))
    return sa.func.lower(sa.func.translate(col(Establishment.name), _ACCENTED, _BASES))


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""  # a name (any case, with or without accents) or a tax code (its digits)
    xa: str = ""  # a commune's name, or part of it

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> SearchQuery:
        def text(name: str) -> str:
            return " ".join(unicodedata.normalize("NFC", str(params.get(name) or "")).split())[:_MAX_QUERY]
        return cls(q=text("q"), xa=text("xa"))

    @property
    def asked(self) -> bool:
        return bool(self.q or self.xa)


@dataclass(frozen=True)
class Found:
    tax_code: str
    name: str
    address: str
    commune_vi: str
    sector_vi: str
    workforce: int
    on_list: bool  # on the list now (not removed)
    was_removed: bool


def communes_matching(province_code: str | None, text: str) -> list[str]:
    """Codes of the communes (of the province, when the campaign has one) whose name holds ``text`` (folded)."""
    units = load_units()
    wanted = fold(text)
    provinces = [province_code] if province_code else [p.code for p in units.provinces]
    return [c.code for p in provinces if units.has_communes(p) for c in units.communes(p)
            if wanted in fold(c.full_name) or wanted in fold(c.name)]


def search_registry(db: Session, campaign: Campaign, query: SearchQuery,
                    limit: int = SEARCH_LIMIT) -> tuple[list[Found], bool]:
    """Establishments of the campaign's province matching ``query``, at most ``limit`` (Vietnamese order); the flag
    says more matched than shown."""
    if not query.asked:
        return [], False
    conditions: list[Any] = []
    if campaign.province_code:
        conditions.append(col(Establishment.province_code) == campaign.province_code)
    digits = re.sub(r"[\s.\-]", "", query.q)
    if query.q and digits.isdigit():
        conditions.append(col(Establishment.tax_code).like(digits[:14] + "%"))
    elif query.q:
        conditions.append(_folded_name(db).like(_like(fold(query.q)), escape="\\"))
    if query.xa:
        codes = communes_matching(campaign.province_code, query.xa)
        if not codes:
            return [], False
        conditions.append(col(Establishment.commune_code).in_(codes))
    found = list(db.exec(select(Establishment).where(*conditions).order_by(col(Establishment.id)).limit(limit + 1)).all())
    listed = {eid: removed for eid, removed in db.exec(
        select(Selection.establishment_id, Selection.removed).where(
            Selection.campaign_id == campaign.id,
            col(Selection.establishment_id).in_([id_of(e) for e in found[:limit]]))).all()}
    rows = [Found(e.tax_code, e.name, e.address, commune_name(e.commune_code), sector_vi(e.sector_vsic), e.workforce,
                  on_list=listed.get(id_of(e)) is False, was_removed=listed.get(id_of(e)) is True) for e in found[:limit]]
    return sorted(rows, key=lambda f: (collation_key(f.name), f.tax_code)), len(found) > limit
