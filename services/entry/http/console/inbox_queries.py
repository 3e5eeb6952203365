"""What waits for a person (the console's inbox, ``/console/``), read from a Session: pure functions, no writes.

* a lead (their agency's campaigns): lists waiting for approval; findings submitted and waiting for review (per
  campaign, each inspection); legal deadlines due within ``days`` days or overdue; notifications that failed, portal
  messages given up (dead letters), and people or establishments a notification cannot reach (no contact);
* an official: files with a violation record and no decision yet, that the official's title is competent for
  (``services.rules.competence.ensure_competent``: a higher title may take a file, a lower one never), in the
  official's province, with the decision's deadline — one whose time to decide ran out (Luật XLVPHC Art.65 cl.1 c)
  is shown as "Đã hết thời hạn ra quyết định xử phạt", with why;
* an admin: people without a working token (never issued, expired or revoked), and the delivery failures.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from models import (AccessToken, Agency, Campaign, CampaignStatus, Contact, Deadline, DeadlineKind, DeadlineStatus,
                    DeliveryStatus, Establishment, Inspection, InspectionStatus, Notification, Person, PersonRole,
                    PortalMessage, PortalStatus, Publication, Submission, Team, TeamMember, Violation)
from models.base import utcnow
from services.entry.http.console.access_rules import may_decide, visible_campaigns
from services.rules.calendar import VIETNAM
from services.rules.competence import required_signer
from services.rules.deadline_rules import TIME_BAR_TITLE_VI
from services.entry.http.console.deadline_board import barred_vi
from services.stages.decision_time_bar import time_bar

DEADLINE_VI = {DeadlineKind.VIOLATION_RECORD: "Lập biên bản vi phạm hành chính",
               DeadlineKind.SANCTION_DECISION: "Ra quyết định xử phạt", DeadlineKind.LIMITATION: "Thời hiệu xử phạt",
               DeadlineKind.COMPLY: "Chấp hành quyết định xử phạt",
               DeadlineKind.REMEDIAL: "Thực hiện biện pháp khắc phục hậu quả",
               DeadlineKind.EXPLAIN_HEARING: "Hạn yêu cầu giải trình trực tiếp",
               DeadlineKind.EXPLAIN_WRITTEN: "Hạn gửi văn bản giải trình",
               DeadlineKind.SEND_DECISION: "Gửi quyết định xử phạt để thi hành",
               DeadlineKind.NATIONAL_REPORT: "Cập nhật Cơ sở dữ liệu quốc gia về xử lý vi phạm hành chính"}
DUE_DAYS = 7  # a deadline within this many days is shown as about to run out


@dataclass(frozen=True)
class Item:
    """One thing to do: what, the facts, where to do it; ``tone``: "" | "warn" | "bad" (overdue, failed)."""
    title: str
    detail: str = ""
    href: str = ""
    badge: str = ""
    tone: str = ""


@dataclass
class Section:
    key: str  # the section's anchor id (e.g. "duyet-danh-sach")
    heading: str
    empty: str  # said when nothing waits
    items: list[Item] = field(default_factory=list)


def campaign_href(code: str, status: str = "") -> str:
    return f"/console/campaigns/{code}" + (f"?trang_thai={status}" if status else "")


def _campaigns_of(session: Session, person: Person) -> list[Campaign]:
    """The campaigns a lead sees (their agency leads them or is a member: the console's one rule,
    :func:`access_rules.campaign_visible`); an admin: every campaign."""
    return visible_campaigns(session, person, session.exec(select(Campaign).order_by(col(Campaign.id))).all())


# --------------------------------------------------------------------------- a lead


def lists_to_approve(campaigns: list[Campaign]) -> Section:
    section = Section("duyet-danh-sach", "Danh sách cơ sở chờ phê duyệt", "Không có danh sách nào chờ phê duyệt.")
    for c in campaigns:
        if c.status == CampaignStatus.SELECTED:
            section.items.append(Item(f"{c.title} ({c.code})", "Danh sách cơ sở đề xuất chờ người chủ trì phê duyệt.",
                                      f"/console/campaigns/{c.code}/selection", "chờ duyệt", "warn"))
    return section


def findings_to_review(session: Session, campaigns: list[Campaign]) -> Section:
    """Each inspection whose findings were submitted and wait for the lead, grouped by campaign (oldest first)."""
    section = Section("duyet-ket-qua", "Kết quả kiểm tra chờ duyệt", "Không có kết quả kiểm tra nào chờ duyệt.")
    by_id = {c.id: c for c in campaigns}
    if not by_id:
        return section
    rows = session.exec(select(Inspection, Establishment, Team)
                        .join(Establishment, col(Establishment.id) == Inspection.establishment_id)
                        .join(Team, col(Team.id) == Inspection.team_id)
                        .where(col(Inspection.campaign_id).in_(list(by_id)),
                               Inspection.status == InspectionStatus.FINDINGS_SUBMITTED)
                        .order_by(col(Inspection.campaign_id), col(Inspection.scheduled_on), col(Inspection.id))).all()
    latest = _latest_submissions(session, [i.id for i, _, _ in rows if i.id is not None])
    for inspection, establishment, team in rows:
        campaign = by_id[inspection.campaign_id]
        sent = latest.get(inspection.id or 0)
        when = f"; gửi lúc {sent.astimezone(VIETNAM):%H:%M %d/%m/%Y}" if isinstance(sent, datetime) else ""
        section.items.append(Item(f"{establishment.name}", f"{campaign.code} · {team.name} · kiểm tra ngày "
                                  f"{inspection.scheduled_on:%d/%m/%Y}{when}",
                                  f"/console/inspections/{inspection.id}/findings", "chờ duyệt", "warn"))
    return section


def _latest_submissions(session: Session, inspection_ids: list[int]) -> dict[int, object]:
    if not inspection_ids:
        return {}
    out: dict[int, object] = {}
    for inspection_id, received in session.exec(select(Submission.inspection_id, Submission.received_at)
                                                .where(col(Submission.inspection_id).in_(inspection_ids))
                                                .order_by(col(Submission.id))).all():
        out[inspection_id] = received
    return out


def deadlines_due(session: Session, campaign_ids: list[int | None], today: date, *, days: int = DUE_DAYS) -> Section:
    """Open deadlines overdue or due within ``days`` days, the nearest first."""
    section = Section("han-xu-ly", f"Hạn xử lý đến trong {days} ngày hoặc đã quá hạn",
                      f"Không có hạn nào đến trong {days} ngày tới.")
    if not campaign_ids:
        return section
    rows = session.exec(select(Deadline, Establishment, Campaign)
                        .join(Inspection, col(Inspection.id) == Deadline.inspection_id)
                        .join(Establishment, col(Establishment.id) == Inspection.establishment_id)
                        .join(Campaign, col(Campaign.id) == Deadline.campaign_id)
                        .where(col(Deadline.campaign_id).in_(campaign_ids), Deadline.status == DeadlineStatus.OPEN,
                               Deadline.due_on <= today + timedelta(days=days))
                        .order_by(col(Deadline.due_on), col(Deadline.id))).all()
    for deadline, establishment, campaign in rows:
        late = (today - deadline.due_on).days
        badge = f"quá hạn {late} ngày" if late > 0 else ("hết hạn hôm nay" if late == 0 else f"còn {-late} ngày")
        inspection = session.get(Inspection, deadline.inspection_id)
        assert inspection is not None
        barred = late > 0 and barred_vi(session, deadline, inspection, today)
        what = TIME_BAR_TITLE_VI if barred else DEADLINE_VI.get(DeadlineKind(deadline.kind), str(deadline.kind))
        section.items.append(Item(f"{what} — {establishment.name}",
                                  f"{campaign.code} · hạn cuối {deadline.due_on:%d/%m/%Y} · {deadline.basis_vi}",
                                  f"/console/deadlines/{deadline.id}", badge, "bad" if late > 0 else "warn"))
    return section


def delivery_failures(session: Session, campaign_ids: list[int | None] | None) -> Section:
    """Notifications the gateway gave up on, and portal messages given up (dead letters); ``None``: every campaign."""
    section = Section("gui-loi", "Thông báo và tin gửi cổng thông tin không gửi được",
                      "Không có thông báo nào gửi lỗi.")
    query = select(Notification, Campaign).join(Campaign, col(Campaign.id) == Notification.campaign_id).where(
        Notification.status == DeliveryStatus.FAILED)
    if campaign_ids is not None:
        query = query.where(col(Notification.campaign_id).in_(campaign_ids))
    for n, campaign in session.exec(query.order_by(col(Notification.id))).all():
        section.items.append(Item(f"{n.subject}", f"{campaign.code} · gửi {n.channel} đến {n.address} · "
                                  f"{n.attempts} lần thử · lỗi: {n.last_error or 'không rõ'}",
                                  campaign_href(campaign.code), "gửi lỗi", "bad"))
    portal = select(PortalMessage, Publication, Campaign).join(Publication, col(Publication.id) == PortalMessage.publication_id) \
        .join(Campaign, col(Campaign.id) == Publication.campaign_id).where(PortalMessage.status == PortalStatus.DEAD)
    if campaign_ids is not None:
        portal = portal.where(col(Publication.campaign_id).in_(campaign_ids))
    for m, _, campaign in session.exec(portal.order_by(col(PortalMessage.id))).all():
        section.items.append(Item(f"Tin gửi cổng thông tin số {m.id} ({m.event})",
                                  f"{campaign.code} · {m.attempts} lần thử · lỗi: {m.last_error or 'không rõ'}",
                                  campaign_href(campaign.code), "thư chết", "bad"))
    return section


def unreachable(session: Session, campaigns: list[Campaign]) -> Section:
    """Team members and inspected establishments with neither e-mail nor phone: their notices go nowhere."""
    section = Section("khong-lien-lac", "Người nhận không có địa chỉ liên hệ",
                      "Mọi thành viên đoàn và cơ sở được kiểm tra đều có địa chỉ nhận thông báo.")
    ids = [c.id for c in campaigns if c.status not in (CampaignStatus.DRAFT, CampaignStatus.SELECTED)]
    if not ids:
        return section
    reachable = {(c.owner_kind, c.owner_ref) for c in session.exec(select(Contact)).all() if c.email or c.phone}
    members = session.exec(select(Person, Campaign).join(TeamMember, col(TeamMember.person_id) == Person.id)
                           .join(Team, col(Team.id) == TeamMember.team_id).join(Campaign, col(Campaign.id) == Team.campaign_id)
                           .where(col(Team.campaign_id).in_(ids)).order_by(col(Person.code))).all()
    seen: set[tuple[str, str]] = set()
    for person, campaign in members:
        if ("person", person.code) not in reachable and ("person", person.code) not in seen:
            seen.add(("person", person.code))
            section.items.append(Item(f"{person.full_name} ({person.code})", f"{campaign.code} · thành viên đoàn, "
                                      "không có e-mail hay số điện thoại", campaign_href(campaign.code), "không gửi được", "bad"))
    places = session.exec(select(Establishment, Campaign).join(Inspection, col(Inspection.establishment_id) == Establishment.id)
                          .join(Campaign, col(Campaign.id) == Inspection.campaign_id)
                          .where(col(Inspection.campaign_id).in_(ids)).order_by(col(Establishment.name))).all()
    for establishment, campaign in places:
        if ("establishment", establishment.tax_code) not in reachable:
            section.items.append(Item(f"{establishment.name} (MST {establishment.tax_code})",
                                      f"{campaign.code} · cơ sở được kiểm tra, không có e-mail hay số điện thoại",
                                      campaign_href(campaign.code), "không gửi được", "bad"))
    return section


def lead_inbox(session: Session, person: Person, today: date, *, days: int = DUE_DAYS) -> list[Section]:
    campaigns = _campaigns_of(session, person)
    ids = [c.id for c in campaigns]
    return [lists_to_approve(campaigns), findings_to_review(session, campaigns),
            deadlines_due(session, ids, today, days=days), delivery_failures(session, ids),
            unreachable(session, campaigns)]


# --------------------------------------------------------------------------- an official


def files_to_decide(session: Session, person: Person, today: date) -> Section:
    """Inspections with records issued and a violation without a decided amount, within the official's competence
    (judged for a decision issued ``today``) and province; the decision's deadline shown."""
    section = Section("quyet-dinh", "Hồ sơ chờ quyết định xử phạt",
                      "Không có hồ sơ nào thuộc thẩm quyền của đồng chí đang chờ quyết định.")
    agency = session.get(Agency, person.agency_id)
    undecided = select(Violation.inspection_id).where(col(Violation.final_amount).is_(None))
    query = (select(Inspection, Establishment, Campaign).join(Establishment, col(Establishment.id) == Inspection.establishment_id)
             .join(Campaign, col(Campaign.id) == Inspection.campaign_id)
             .where(Inspection.status == InspectionStatus.RECORDS_ISSUED, col(Inspection.id).in_(undecided))
             .order_by(col(Inspection.scheduled_on), col(Inspection.id)))
    if agency is not None and person.role != PersonRole.ADMIN:
        query = query.where(col(Campaign.province_code) == agency.province_code)
    due = {d.inspection_id: d.due_on for d in session.exec(select(Deadline).where(
        Deadline.kind == DeadlineKind.SANCTION_DECISION, Deadline.status == DeadlineStatus.OPEN)).all()}
    for inspection, establishment, campaign in session.exec(query).all():
        if person.role != PersonRole.ADMIN and not may_decide(session, person, inspection, campaign, on=today):
            continue  # the console's one rule (access_rules): only the files the official may decide
        needed = required_signer(session, inspection, on=today) or ""
        last = due.get(inspection.id or 0)
        tone = "bad" if last is not None and last < today else "warn"
        detail = (f"{campaign.code} · biên bản ngày {inspection.scheduled_on:%d/%m/%Y} · thẩm quyền: {needed}"
                  + (f" · hạn quyết định {last:%d/%m/%Y}" if last else ""))
        barred = time_bar(session, inspection, today)  # Art.65 cl.1 c: no longer a file to decide
        badge = TIME_BAR_TITLE_VI if barred else "chờ quyết định"
        section.items.append(Item(establishment.name, f"{detail} · {barred}" if barred else detail,
                                  f"/console/inspections/{inspection.id}/decision", badge, "bad" if barred else tone))
    return section


def official_inbox(session: Session, person: Person, today: date) -> list[Section]:
    return [files_to_decide(session, person, today)]


# --------------------------------------------------------------------------- an admin


def people_without_access(session: Session) -> Section:
    """People (not the demo's robots) with no token in force: they cannot log in or use the API."""
    section = Section("ma-truy-cap", "Cán bộ chưa có mã truy cập còn hiệu lực",
                      "Mọi cán bộ đều có mã truy cập còn hiệu lực.")
    now = utcnow()
    state: dict[int, list[str]] = defaultdict(list)
    for token in session.exec(select(AccessToken)).all():
        state[token.person_id].append(token.state(now))
    for person in session.exec(select(Person).order_by(col(Person.code))).all():
        states = state.get(person.id or 0, [])
        if "active" in states:
            continue
        why = "chưa được cấp" if not states else ("đã thu hồi" if "revoked" in states and "expired" not in states
                                                 else "đã hết hạn hoặc bị thu hồi")
        section.items.append(Item(f"{person.full_name} ({person.code})", f"{person.title} · mã truy cập {why}",
                                  "/console/people", why, "warn"))
    return section


def admin_inbox(session: Session, person: Person, today: date) -> list[Section]:
    return [people_without_access(session), *lead_inbox(session, person, today), files_to_decide(session, person, today)]


def inbox_for(session: Session, person: Person, today: date) -> list[Section]:
    """The inbox of ``person``'s role (an inspector has none: the console is not theirs)."""
    if person.role == PersonRole.ADMIN:
        return admin_inbox(session, person, today)
    if person.role == PersonRole.LEAD:
        return lead_inbox(session, person, today)
    if person.role == PersonRole.OFFICIAL:
        return official_inbox(session, person, today)
    return []
