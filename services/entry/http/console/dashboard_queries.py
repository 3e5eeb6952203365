"""A campaign's dashboard (``/console/campaigns/{code}``) read from a Session: each inspection with its stage and what
it waits for, counts per team and per commune, and the campaigns' list. Pure reads (no writes); what the campaign as
a whole waits for is ``services.stages.status.campaign_status``'s."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import Campaign, Deadline, DeadlineStatus, Establishment, Inspection, InspectionStatus, Selection, Team, Violation
from services.registry.geo import commune_name

STATUS_VI = {"scheduled": "đã lên lịch", "findings_submitted": "chờ duyệt kết quả",
             "findings_returned": "kết quả bị trả lại", "findings_approved": "kết quả đã duyệt",
             "records_issued": "đã lập biên bản", "sanctioned": "đã ra quyết định xử phạt", "closed": "đã kết thúc"}
CAMPAIGN_STATUS_VI = {"draft": "mới lập", "selected": "đã đề xuất danh sách", "approved": "đã duyệt danh sách",
                      "scheduled": "đã lập lịch", "fieldwork": "đang kiểm tra", "closed": "đã kết thúc"}
WAITS_VI = {"scheduled": "kết quả kiểm tra của đoàn (qua Phiếu kết quả kiểm tra)",
            "findings_submitted": "trưởng đoàn duyệt hoặc trả lại kết quả",
            "findings_returned": "thanh tra viên sửa kết quả bị trả lại",
            "findings_approved": "bước ban hành biên bản (nút Chạy các bước tiếp theo)",
            "sanctioned": "công khai kết quả, chấp hành quyết định", "closed": "—"}


@dataclass(frozen=True)
class InspectionRow:
    id: int
    establishment: str
    tax_code: str
    commune: str
    team: str
    scheduled_on: date
    status: str
    status_vi: str
    waits_for: str


@dataclass
class Dashboard:
    campaign: Campaign
    rows: list[InspectionRow] = field(default_factory=list)
    by_team: list[tuple[str, Counter[str]]] = field(default_factory=list)
    by_commune: list[tuple[str, Counter[str]]] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)  # the statuses present, in the life cycle's order


def _waits(status: str, undecided: bool, failure: str, open_deadlines: int) -> str:
    if failure:
        return f"xử lý lỗi: {failure}"
    if status == InspectionStatus.RECORDS_ISSUED:
        return "quyết định xử phạt của người có thẩm quyền" if undecided else "bước ra quyết định (chạy tiếp)"
    text = WAITS_VI.get(status, "")
    if status == InspectionStatus.SANCTIONED and open_deadlines:
        text += f" ({open_deadlines} thời hạn đang mở)"
    return text


def dashboard(session: Session, campaign: Campaign, failures: dict[int, str], *, status: str = "") -> Dashboard:
    """Every inspection of ``campaign`` (only those in ``status`` when given) and the counts over all of them."""
    rows = session.exec(select(Inspection, Establishment, Team)
                        .join(Establishment, col(Establishment.id) == Inspection.establishment_id)
                        .join(Team, col(Team.id) == Inspection.team_id)
                        .where(Inspection.campaign_id == campaign.id)
                        .order_by(col(Inspection.scheduled_on), col(Team.number), col(Inspection.id))).all()
    undecided = set(session.exec(select(Violation.inspection_id).join(Inspection, col(Inspection.id) == Violation.inspection_id)
                                 .where(Inspection.campaign_id == campaign.id, col(Violation.final_amount).is_(None))).all())
    deadlines = Counter(session.exec(select(Deadline.inspection_id).where(Deadline.campaign_id == campaign.id,
                                                                          Deadline.status == DeadlineStatus.OPEN)).all())
    out = Dashboard(campaign)
    teams: dict[str, Counter[str]] = {}
    communes: dict[str, Counter[str]] = {}
    present: set[str] = set()
    for inspection, establishment, team in rows:
        state, iid = str(inspection.status), inspection.id or 0
        commune = commune_name(establishment.commune_code)
        teams.setdefault(team.name, Counter())[state] += 1
        communes.setdefault(commune, Counter())[state] += 1
        present.add(state)
        if status and state != status:
            continue
        out.rows.append(InspectionRow(iid, establishment.name, establishment.tax_code, commune, team.name,
                                      inspection.scheduled_on, state, STATUS_VI.get(state, state),
                                      _waits(state, iid in undecided, failures.get(iid, ""), deadlines[iid])))
    out.by_team = list(teams.items())
    out.by_commune = sorted(communes.items())
    out.statuses = [s.value for s in InspectionStatus if s.value in present]
    return out


@dataclass(frozen=True)
class CampaignLine:
    campaign: Campaign
    status_vi: str
    selected: int
    inspections: int
    done: int  # sanctioned or closed


def campaign_lines(session: Session, lead_agency_id: int | None) -> list[CampaignLine]:
    """The campaigns, newest first (only those ``lead_agency_id`` leads, when given)."""
    query = select(Campaign).order_by(col(Campaign.id).desc())
    if lead_agency_id is not None:
        query = query.where(Campaign.lead_agency_id == lead_agency_id)
    campaigns = list(session.exec(query).all())
    ids = [c.id for c in campaigns]
    selected = dict(session.exec(select(Selection.campaign_id, sa.func.count()).where(
        col(Selection.campaign_id).in_(ids), col(Selection.removed).is_(False)).group_by(col(Selection.campaign_id))).all())
    counts: dict[int, Counter[str]] = {}
    for campaign_id, state, n in session.exec(select(Inspection.campaign_id, Inspection.status, sa.func.count())
                                              .where(col(Inspection.campaign_id).in_(ids))
                                              .group_by(col(Inspection.campaign_id), col(Inspection.status))).all():
        counts.setdefault(campaign_id, Counter())[str(state)] = n
    out = []
    for c in campaigns:
        states = counts.get(c.id or 0, Counter())
        out.append(CampaignLine(c, CAMPAIGN_STATUS_VI.get(str(c.status), str(c.status)), selected.get(c.id or 0, 0),
                                sum(states.values()), states["sanctioned"] + states["closed"]))
    return out
