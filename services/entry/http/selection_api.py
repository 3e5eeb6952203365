"""The lead's view of a campaign's proposed list: why each establishment is on it, changes, approval."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select

from models import Establishment, PersonRole, Selection
from models.base import id_of
from services.documents.selection_list import KIND_VI, reasons_vi
from services.entry.http.deps import PersonDep, SessionDep, http_error, mapped_errors
from services.intake.schemas import Line, Plain, Text, error_responses
from services.registry.geo import commune_name
from services.rules.risk import past_violations_detail_vi, policy_version
from services.stages import approval
from services.stages.selection import engine_sanction_dates
from services.stages.common import get_campaign

router = APIRouter(prefix="/api/campaigns/{campaign_code}/selection", tags=["selection"],
                   responses=error_responses(400, 401, 403, 404, 409, 422, 500, 503))
# A campaign's code is whatever `campaign start --code` was given: no pattern, but never a control character (a NUL
# would reach PostgreSQL, which refuses it) and never longer than the column.
CampaignCode = Annotated[Plain, Path(min_length=1, max_length=64, description="the campaign's code (CB-2026-02)")]
TAX_CODE_PATTERN = r"^ *[0-9]{10}(-[0-9]{3})? *$"  # 10 digits, a branch's -BBB (services/registry/taxcode.py)


class FactorOut(BaseModel):
    factor: str
    label_vi: str
    points: float
    detail_vi: str = ""  # where the points come from, when the label alone does not say (past violations: how many, when)


class SelectedOut(BaseModel):
    rank: int
    tax_code: str
    name: str
    commune: str
    sector_vsic: str
    workforce: int
    score: float
    kind: str
    kind_vi: str
    factors: list[FactorOut]
    reasons_vi: str
    removed: bool
    change_reason: str


class SelectionOut(BaseModel):
    campaign_code: str
    status: str
    policy_version: str | None
    seed: int | None
    registry_fingerprint: str | None
    registry_rows: int | None
    establishments: list[SelectedOut]


class ChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tax_code: str = Field(min_length=10, max_length=14, pattern=TAX_CODE_PATTERN)
    reason: Line = Field(min_length=1, max_length=1000)


class ChangesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    add: list[ChangeIn] = Field(default_factory=list, max_length=500)
    remove: list[ChangeIn] = Field(default_factory=list, max_length=500)


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Text = Field(default="", max_length=900)  # the audit reason holds it after "Phê duyệt danh sách N cơ sở: "


def _require(person: Any, *roles: PersonRole) -> None:
    if person.role not in roles:
        raise http_error(403, "Chỉ người chủ trì đợt kiểm tra (hoặc người có thẩm quyền) được xem và duyệt danh sách.")


@router.get("", response_model=SelectionOut)
def show(campaign_code: CampaignCode, db: SessionDep, person: PersonDep) -> SelectionOut:
    _require(person, PersonRole.LEAD, PersonRole.OFFICIAL)
    with mapped_errors():
        campaign = get_campaign(db, campaign_code)
    policy = policy_version(campaign.risk_policy_version) if campaign.risk_policy_version else None
    labels = {k: str(v["label_vi"]) for k, v in policy.factors.items()} if policy else {}
    rows = db.exec(select(Selection, Establishment).join(Establishment, col(Selection.establishment_id) == col(Establishment.id))
                   .where(Selection.campaign_id == campaign.id).order_by(col(Selection.rank))).all()
    sanctions = (engine_sanction_dates(db, [id_of(e) for s, e in rows if "past_violations" in s.factors], policy, campaign)
                 if policy else {})

    def details(s: Selection, e: Establishment) -> dict[str, str]:
        if "past_violations" not in s.factors:
            return {}
        return {"past_violations": past_violations_detail_vi(e.past_violations, sanctions.get(id_of(e), []))}

    def row_labels(detail: dict[str, str]) -> dict[str, str]:
        return {k: f"{v} [{detail[k]}]" if detail.get(k) else v for k, v in labels.items()}
    return SelectionOut(
        campaign_code=campaign.code, status=str(campaign.status), policy_version=campaign.risk_policy_version,
        seed=campaign.selection_seed, registry_fingerprint=campaign.registry_snapshot_sha256,
        registry_rows=campaign.registry_snapshot_rows,
        establishments=[SelectedOut(
            rank=s.rank, tax_code=e.tax_code, name=e.name, commune=commune_name(e.commune_code), sector_vsic=e.sector_vsic,
            workforce=e.workforce, score=s.score, kind=str(s.kind), kind_vi=KIND_VI[str(s.kind)],
            factors=[FactorOut(factor=k, label_vi=labels.get(k, k), points=v, detail_vi=detail.get(k, ""))
                     for k, v in sorted(s.factors.items(), key=lambda kv: -kv[1])],
            reasons_vi=reasons_vi(s.factors, row_labels(detail)) if labels else "",
            removed=s.removed, change_reason=s.change_reason) for s, e in rows for detail in [details(s, e)]])


@router.post("/changes")
def change(campaign_code: CampaignCode, body: ChangesIn, request: Request, person: PersonDep) -> dict[str, int]:
    _require(person, PersonRole.LEAD)
    with mapped_errors():
        return approval.change_selection(request.app.state.settings, campaign_code, by=person.code,
                                         add=[approval.Change(c.tax_code, c.reason) for c in body.add],
                                         remove=[approval.Change(c.tax_code, c.reason) for c in body.remove])


@router.post("/approve")
def approve(campaign_code: CampaignCode, body: ApproveIn, request: Request, person: PersonDep) -> dict[str, int]:
    _require(person, PersonRole.LEAD)
    with mapped_errors():
        return {"approved": approval.approve_selection(request.app.state.settings, campaign_code, by=person.code,
                                                       note=body.note)}
