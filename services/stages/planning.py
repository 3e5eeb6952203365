"""A campaign is opened (status draft) from its plan: lead and member agencies, province, period, quota, teams, and
the legal basis in force when it starts. Idempotent by the campaign's code: opening it again returns the stored one."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlmodel import Session, select

from models import Agency, Campaign
from services import audit
from models.base import id_of


def ensure_campaign(session: Session, *, code: str, title: str, lead: Agency, members: Iterable[str], province_code: str,
                    period_start: date, period_end: date, quota: int, teams: int, actor: str, plan_number: str = "",
                    plan_on: date | None = None, plan_issuer: str = "") -> tuple[Campaign, bool]:
    """The campaign ``code`` (created, audited, when new; True) or the one already stored (False). ``plan_number``
    and ``plan_on``: the plan it carries out (kept as data and cited first in its legal basis)."""
    campaign = session.exec(select(Campaign).where(Campaign.code == code)).first()
    if campaign is not None:
        return campaign, False
    campaign = Campaign(
        code=code, title=title, lead_agency_id=id_of(lead), member_agency_codes=sorted(members), province_code=province_code,
        period_start=period_start, period_end=period_end, quota=quota, team_count=teams, created_by=actor,
        # the campaign's own legal basis: the laws, the decree in force when it starts, the directive on inspections
        # (a province's own plan, e.g. KH 664/KH-UBND of 2025, only where it is this campaign's basis)
        legal_basis=["Bộ luật Lao động ngày 20 tháng 11 năm 2019",
                     "Luật An toàn, vệ sinh lao động ngày 25 tháng 6 năm 2015",
                     ("Nghị định số 12/2022/NĐ-CP ngày 17 tháng 01 năm 2022" if period_start < date(2026, 9, 10)
                      else "Nghị định số 283/2026/NĐ-CP ngày 15 tháng 7 năm 2026")
                     + " của Chính phủ quy định xử phạt vi phạm hành chính trong lĩnh vực lao động, bảo hiểm xã hội, "
                       "người lao động Việt Nam đi làm việc ở nước ngoài theo hợp đồng",
                     "Chỉ thị số 20/CT-TTg ngày 17 tháng 5 năm 2017 của Thủ tướng Chính phủ về việc chấn chỉnh hoạt "
                     "động thanh tra, kiểm tra đối với doanh nghiệp"])
    if plan_number.strip():
        campaign.plan_number, campaign.plan_on = plan_number.strip(), plan_on
        campaign.legal_basis = [plan_vi(plan_number.strip(), plan_on, plan_issuer), *campaign.legal_basis]
    session.add(campaign)
    session.flush()
    audit.record(session, actor=actor, action="campaign_created", entity=campaign, to_state="draft",
                 reason=f"Lập kế hoạch kiểm tra liên ngành {code}")
    return campaign, True


def plan_vi(number: str, on: date | None, issuer: str = "") -> str:
    """The plan's line of the legal basis: "Kế hoạch số 664/KH-UBND ngày 15/01/2026 của Ủy ban nhân dân tỉnh …"."""
    return "Kế hoạch số " + number + (f" ngày {on:%d/%m/%Y}" if on else "") + (f" của {issuer}" if issuer else "")
