"""The lead's review of a proposed list: add or remove establishments with a reason, then approve.

Every change is kept (a removed row stays, marked, with who and why) and audited; scheduling starts
only from an approved list.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (Campaign, CampaignKind, CampaignStatus, Establishment, InspectionTrigger, Person, PersonRole, Selection,
                    SelectionKind)
from services import audit
from services.db import session_scope
from services.errors import Conflict, Forbidden, Refused
from services.rules.risk import RiskPolicy, factor_contributions, is_eligible, policy_version
from services.settings import Settings
from models.base import id_of
from services.stages.common import get_campaign
from services.stages.selection import recent_engine_visit, rows_with_history


@dataclass(frozen=True)
class Change:
    tax_code: str
    reason: str


def _lead(session: Session, person_code: str) -> Person:
    person = session.exec(select(Person).where(Person.code == person_code)).first()
    if person is None or person.role != PersonRole.LEAD:
        raise Forbidden(f"'{person_code}' không phải là người chủ trì đợt kiểm tra; chỉ người chủ trì được duyệt danh sách.",
                        person_code=person_code)
    return person


def _open_for_review(campaign: Campaign) -> None:
    if campaign.status != CampaignStatus.SELECTED:
        raise Conflict(f"Danh sách của đợt kiểm tra {campaign.code} không ở trạng thái chờ duyệt (hiện: '{campaign.status}').",
                       campaign_code=campaign.code)


def _establishment(session: Session, tax_code: str, errors: list[str], where: str) -> Establishment | None:
    found = session.exec(select(Establishment).where(Establishment.tax_code == tax_code.strip())).first()
    if found is None:
        errors.append(f"{where}: không có cơ sở mã số thuế {tax_code} trong sổ đăng ký")
    return found


def change_selection(settings: Settings, campaign_code: str, *, by: str, add: Sequence[Change] = (),
                     remove: Sequence[Change] = ()) -> dict[str, int]:
    """Apply the lead's additions and removals (all or nothing); each needs a reason."""
    with session_scope(settings) as session:
        lead = _lead(session, by)
        campaign = get_campaign(session, campaign_code, for_update=True)  # one change or approval at a time
        _open_for_review(campaign)
        policy = policy_version(campaign.risk_policy_version or "")
        rows = {s.establishment_id: s for s in session.exec(select(Selection).where(Selection.campaign_id == campaign.id))}
        errors: list[str] = []
        to_add: list[tuple[Establishment, Change]] = []
        named: dict[str, str] = {}  # tax code → where it was first named (a code twice in one change is a typo)
        for where, change in [(f"remove[{i}]", c) for i, c in enumerate(remove)] + [(f"add[{i}]", c) for i, c in enumerate(add)]:
            if change.tax_code in named:
                errors.append(f"{where}: cơ sở {change.tax_code} trùng với {named[change.tax_code]}")
            named.setdefault(change.tax_code, where)
        to_remove = _checked_removals(session, remove, rows, errors)
        for i, change in enumerate(add):
            where = f"add[{i}]"
            est = _establishment(session, change.tax_code, errors, where)
            if not change.reason.strip():
                errors.append(f"{where}: phải ghi lý do bổ sung cơ sở")
            if est is None or named[change.tax_code] != where:
                continue
            if est.id in rows and not rows[est.id].removed:
                errors.append(f"{where}: cơ sở {change.tax_code} đã có trong danh sách")
            elif campaign.province_code and est.province_code != campaign.province_code:
                errors.append(f"{where}: cơ sở {change.tax_code} không thuộc địa bàn của đợt kiểm tra")
            elif campaign.kind == CampaignKind.PLANNED and (recent := _recently_inspected_vi(session, est, policy, campaign)) \
                    and not _has_trigger(session, id_of(est)):
                errors.append(f"{where}: cơ sở {change.tax_code} {recent}; theo Chỉ thị 20/CT-TTg chỉ kiểm tra lại khi có "
                              f"căn cứ (khiếu nại, tai nạn, chuyển đến) được ghi nhận")
            else:
                to_add.append((est, change))
        if errors:
            raise Refused("Không thể thay đổi danh sách.", errors=errors)
        for row, change in to_remove:
            row.removed, row.change_reason, row.changed_by = True, change.reason.strip(), lead.code
            session.add(row)
            audit.record(session, actor=lead.code, action="selection_removed", entity=campaign, reason=change.reason.strip(),
                         data={"tax_code": change.tax_code})
        rank = session.exec(select(sa.func.max(Selection.rank)).where(Selection.campaign_id == campaign.id)).one() or 0
        history = rows_with_history(session, [est.id for est, _ in to_add if est.id is not None], policy, campaign)
        for est, change in to_add:
            factors = factor_contributions(history[id_of(est)], policy, campaign.period_start)
            existing = rows.get(id_of(est))
            if existing is not None:  # re-adding one the lead removed earlier
                existing.removed, existing.change_reason, existing.changed_by = False, change.reason.strip(), lead.code
                session.add(existing)
            else:
                rank += 1
                session.add(Selection(campaign_id=id_of(campaign), establishment_id=id_of(est), rank=rank,
                                      kind=SelectionKind.LEAD_ADDED, score=round(sum(factors.values()), 2), factors=factors,
                                      change_reason=change.reason.strip(), changed_by=lead.code))
            audit.record(session, actor=lead.code, action="selection_added", entity=campaign, reason=change.reason.strip(),
                         data={"tax_code": change.tax_code})
        return {"added": len(to_add), "removed": len(to_remove)}


def _checked_removals(session: Session, remove: Sequence[Change], rows: dict[int, Selection],
                      errors: list[str]) -> list[tuple[Selection, Change]]:
    """The rows the removals name, in order; what is wrong with a removal is appended to ``errors``."""
    to_remove = []
    for i, change in enumerate(remove):
        where = f"remove[{i}]"
        est = _establishment(session, change.tax_code, errors, where)
        if not change.reason.strip():
            errors.append(f"{where}: phải ghi lý do loại cơ sở khỏi danh sách")
        if est is not None and (est.id not in rows or rows[est.id].removed):
            errors.append(f"{where}: cơ sở {change.tax_code} không có trong danh sách")
        elif est is not None:
            to_remove.append((rows[id_of(est)], change))
    return to_remove


def _recently_inspected_vi(session: Session, est: Establishment, policy: RiskPolicy, campaign: Campaign) -> str:
    """Why the establishment is not eligible (Chỉ thị 20/CT-TTg): the registry's last inspection by any agency and/or
    the engine's own latest visit within the window, named; '' if it is eligible."""
    assert est.id is not None
    visit = recent_engine_visit(session, est.id, policy, campaign)
    row = {"last_inspected_on": est.last_inspected_on, "engine_last_visit_on": visit[1] if visit else None}
    if is_eligible(row, policy, campaign.period_start):
        return ""
    why = []
    if not is_eligible({"last_inspected_on": est.last_inspected_on}, policy, campaign.period_start):
        why.append(f"đã được thanh tra, kiểm tra ngày {est.last_inspected_on:%d/%m/%Y}")
    if visit is not None:
        why.append(f"đã được kiểm tra trong đợt kiểm tra {visit[0]} ngày {visit[1]:%d/%m/%Y}")
    return " và ".join(why)


def _has_trigger(session: Session, establishment_id: int) -> bool:
    return session.exec(select(InspectionTrigger.id).where(InspectionTrigger.establishment_id == establishment_id)).first() is not None


def approve_selection(settings: Settings, campaign_code: str, *, by: str, note: str = "") -> int:
    """The lead approves the list as it stands; returns the number of establishments to visit."""
    with session_scope(settings) as session:
        lead = _lead(session, by)
        campaign = get_campaign(session, campaign_code, for_update=True)
        if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SELECTED):
            return active_count(session, campaign)  # approved already: approving again changes nothing
        _open_for_review(campaign)
        count = active_count(session, campaign)
        audit.transition(session, campaign, CampaignStatus.APPROVED, actor=lead.code,
                         reason=f"Phê duyệt danh sách {count} cơ sở" + (f": {note}" if note else ""))
        return count


def active_count(session: Session, campaign: Campaign) -> int:
    return int(session.exec(select(sa.func.count()).select_from(Selection)
                            .where(Selection.campaign_id == campaign.id, col(Selection.removed).is_(False))).one())
