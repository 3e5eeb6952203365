"""What the findings-review pages show, read from the database as plain data (no write: the pages are GETs).

* :func:`campaign_findings` — a campaign's inspections with findings sent (waiting, returned, approved and after),
  filtered by status and team.
* :func:`inspection_findings` — one inspection: each version (who, when, why, the lead's review, the photos) and
  the answers per checklist item of the latest version beside the previous one, changes marked.
* :func:`may_see` — who may see an inspection's findings and photos in the console: the console's one rule
  (:mod:`services.entry.http.console.access_rules`); nobody else (an inspector uses /form).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from models import (Attachment, Campaign, Establishment, FindingReview, Inspection, InspectionStatus,
                    Notification, Person, Submission, Team)
from models.base import id_of
from services.entry.http.console import access_rules
from services.errors import NotFound
from services.intake import logic, returns
from services.rules.calendar import VIETNAM
from services.stages.common import get_campaign

REVIEWED_OR_LATER = (InspectionStatus.FINDINGS_APPROVED, InspectionStatus.RECORDS_ISSUED, InspectionStatus.SANCTIONED,
                     InspectionStatus.CLOSED)
# the status filter's values (in the URL) → the inspection statuses they take, with the label the page shows
STATUS_FILTERS: dict[str, tuple[str, tuple[InspectionStatus, ...]]] = {
    "cho-duyet": ("Chờ duyệt", (InspectionStatus.FINDINGS_SUBMITTED,)),
    "tra-lai": ("Đã trả lại", (InspectionStatus.FINDINGS_RETURNED,)),
    "da-duyet": ("Đã duyệt (và các bước sau)", REVIEWED_OR_LATER),
}
WITH_FINDINGS = (InspectionStatus.FINDINGS_SUBMITTED, InspectionStatus.FINDINGS_RETURNED, *REVIEWED_OR_LATER)
IMAGE_TYPES = ("image/jpeg", "image/png")


@dataclass(frozen=True)
class ListRow:
    id: int
    establishment: str
    tax_code: str
    scheduled_on: Any
    team: str
    status: str
    version: int
    received_at: datetime | None
    failed: int
    photos: int


@dataclass
class CampaignFindings:
    code: str
    title: str
    teams: list[tuple[int, str]]  # (number, name)
    rows: list[ListRow]
    counts: dict[str, int] = field(default_factory=dict)  # status filter value → inspections


def vn(moment: datetime) -> datetime:
    """A stored (UTC) moment on the clock of Việt Nam, as the pages show it."""
    return moment.astimezone(VIETNAM)


def _team_number(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 6 else None


def campaign_findings(session: Session, code: str, *, status: str = "", team: str = "") -> CampaignFindings:
    """The campaign's inspections with findings sent; ``status`` a key of :data:`STATUS_FILTERS` (else all),
    ``team`` a team number (else all)."""
    campaign = get_campaign(session, code)
    teams = session.exec(select(Team).where(Team.campaign_id == campaign.id).order_by(col(Team.number))).all()
    wanted = STATUS_FILTERS[status][1] if status in STATUS_FILTERS else WITH_FINDINGS
    query = (select(Inspection, Establishment, Team).join(Establishment, col(Establishment.id) == col(Inspection.establishment_id))
             .join(Team, col(Team.id) == col(Inspection.team_id))
             .where(Inspection.campaign_id == campaign.id, col(Inspection.status).in_(WITH_FINDINGS)))
    number = _team_number(team)
    if number is not None:
        query = query.where(Team.number == number)
    found = session.exec(query.order_by(col(Inspection.scheduled_on), col(Inspection.id))).all()
    counts = {key: sum(1 for i, _, _ in found if i.status in statuses) for key, (_, statuses) in STATUS_FILTERS.items()}
    shown = [(i, e, t) for i, e, t in found if i.status in wanted]
    latest = _latest_versions(session, [id_of(i) for i, _, _ in shown])
    rows = []
    for inspection, establishment, team_row in shown:
        submission, photos = latest.get(id_of(inspection), (None, 0))
        rows.append(ListRow(
            id=id_of(inspection), establishment=establishment.name, tax_code=establishment.tax_code,
            scheduled_on=inspection.scheduled_on, team=team_row.name, status=str(inspection.status),
            version=submission.version if submission else 0, received_at=vn(submission.received_at) if submission else None,
            failed=sum(1 for f in submission.payload if f.get("result") == "fail") if submission else 0, photos=photos))
    return CampaignFindings(code=campaign.code, title=campaign.title, teams=[(t.number, t.name) for t in teams],
                            rows=rows, counts=counts)


def _latest_versions(session: Session, inspection_ids: list[int]) -> dict[int, tuple[Submission, int]]:
    """Inspection id → (its latest version, how many photos that version has received)."""
    if not inspection_ids:
        return {}
    latest: dict[int, Submission] = {}
    for s in session.exec(select(Submission).where(col(Submission.inspection_id).in_(inspection_ids))
                          .order_by(col(Submission.version))).all():
        latest[s.inspection_id] = s
    photos: dict[int, int] = {}
    for submission_id in session.exec(select(Attachment.submission_id).where(
            col(Attachment.submission_id).in_([id_of(s) for s in latest.values()]), col(Attachment.received).is_(True),
            col(Attachment.content_type).in_(IMAGE_TYPES))).all():
        photos[submission_id] = photos.get(submission_id, 0) + 1
    return {i: (s, photos.get(id_of(s), 0)) for i, s in latest.items()}


# --------------------------------------------------------------------------- one inspection


@dataclass(frozen=True)
class Photo:
    sha256: str
    name: str
    content_type: str
    size: int
    image: bool
    item_code: str | None = None  # the checklist item it was taken for (the field app)
    captured_at: datetime | None = None  # when, on the clock of Việt Nam


@dataclass(frozen=True)
class PhotoGroup:
    """A version's files taken for one checklist item (``code`` None: the rest), in the checklist's order."""

    code: str | None
    text_vi: str
    photos: list[Photo]


@dataclass(frozen=True)
class Notice:
    """A message a return queued to one inspector (services.intake.returns), and how its delivery stands."""

    to: str
    channel: str
    status: str  # pending | delivered | failed


@dataclass(frozen=True)
class Review:
    decision: str  # approved | returned
    comment: str
    by: str
    at: datetime
    notices: list[Notice] = field(default_factory=list)


@dataclass(frozen=True)
class Version:
    version: int
    by: str
    at: datetime
    edit_reason: str
    complete: bool
    review: Review | None
    photos: list[Photo]
    missing: int  # declared files not received

    def photo_groups(self, items: list[ItemRow]) -> list[PhotoGroup]:
        """The photos under their checklist item (``items``' order), then those taken for none."""
        texts = {row.code: row.text_vi for row in items}
        codes = [*texts, *sorted({p.item_code for p in self.photos if p.item_code and p.item_code not in texts})]
        groups = [PhotoGroup(c, texts.get(c, ""), [p for p in self.photos if p.item_code == c]) for c in codes]
        rest = PhotoGroup(None, "", [p for p in self.photos if not p.item_code])
        return [g for g in [*groups, rest] if g.photos]


@dataclass(frozen=True)
class ItemRow:
    code: str
    text_vi: str
    latest: dict[str, Any] | None
    previous: dict[str, Any] | None
    changed: bool


@dataclass
class InspectionFindings:
    inspection: dict[str, Any]
    versions: list[Version]  # newest first
    items: list[ItemRow]
    reviewable: bool  # waiting for the lead's review (complete latest version, status findings_submitted)

    @property
    def latest(self) -> Version | None:
        return self.versions[0] if self.versions else None

    @property
    def previous(self) -> Version | None:
        return self.versions[1] if len(self.versions) > 1 else None


def inspection_findings(session: Session, inspection_id: int) -> InspectionFindings:
    inspection = logic.find_inspection(session, inspection_id)
    establishment = session.get(Establishment, inspection.establishment_id)
    campaign = session.get(Campaign, inspection.campaign_id)
    assert establishment is not None and campaign is not None
    submissions = session.exec(select(Submission).where(Submission.inspection_id == inspection_id)
                               .order_by(col(Submission.version).desc())).all()
    versions = [_version(session, s) for s in submissions]
    latest = submissions[0].payload if submissions else []
    previous = submissions[1].payload if len(submissions) > 1 else None
    summary = {"id": inspection_id, "establishment": establishment.name, "tax_code": establishment.tax_code,
               "address": establishment.address, "campaign": campaign.code, "campaign_title": campaign.title,
               "scheduled_on": inspection.scheduled_on, "team": logic.team_name(session, inspection.team_id),
               "status": str(inspection.status)}
    reviewable = (inspection.status == InspectionStatus.FINDINGS_SUBMITTED and bool(submissions)
                  and submissions[0].complete)
    return InspectionFindings(inspection=summary, versions=versions,
                              items=_item_rows(logic.checklist_for(session, inspection), latest, previous),
                              reviewable=reviewable)


def _version(session: Session, s: Submission) -> Version:
    by = session.get(Person, s.submitted_by_id)
    row = session.exec(select(FindingReview, Person).join(Person, col(Person.id) == col(FindingReview.reviewed_by_id))
                       .where(FindingReview.submission_id == s.id)).first()
    review = Review(decision=row[0].decision, comment=row[0].comment, by=row[1].full_name,
                    at=vn(row[0].reviewed_at), notices=_notices(session, s)) if row else None
    attachments = session.exec(select(Attachment).where(Attachment.submission_id == s.id).order_by(col(Attachment.id))).all()
    photos = [Photo(sha256=a.sha256, name=a.name, content_type=a.content_type, size=a.size,
                    image=a.content_type in IMAGE_TYPES, item_code=a.item_code,
                    captured_at=vn(a.captured_at) if a.captured_at else None) for a in attachments if a.received]
    return Version(version=s.version, by=f"{by.full_name} ({by.code})" if by else "", at=vn(s.received_at),
                   edit_reason=s.edit_reason, complete=s.complete, review=review, photos=photos,
                   missing=sum(1 for a in attachments if not a.received))


def _notices(session: Session, s: Submission) -> list[Notice]:
    rows = session.exec(select(Notification).where(
        col(Notification.idempotency_key).startswith(f"{returns.KIND}:{id_of(s)}:", autoescape=True))
        .order_by(col(Notification.recipient_ref))).all()
    return [Notice(to=n.recipient_ref, channel=n.channel, status=str(n.status)) for n in rows]


def _item_rows(items: list[Any], latest: list[dict[str, Any]], previous: list[dict[str, Any]] | None) -> list[ItemRow]:
    """One row per checklist item (then any answered code the checklist lacks), the two versions' answers."""
    now = {f["item_code"]: f for f in latest}
    before = {f["item_code"]: f for f in previous} if previous is not None else {}
    texts = {i.code: i.text_vi for i in items}
    codes = [*texts, *sorted((set(now) | set(before)) - set(texts))]
    return [ItemRow(code=c, text_vi=texts.get(c, ""), latest=now.get(c), previous=before.get(c),
                    changed=previous is not None and now.get(c) != before.get(c)) for c in codes]


# --------------------------------------------------------------------------- who may see it


def may_see(session: Session, person: Person, inspection: Inspection) -> bool:
    """The console's one rule (:func:`access_rules.inspection_visible`): the campaign's lead and member agencies'
    people and admins, and the official competent to decide the file; nobody else (an inspector uses /form)."""
    return access_rules.inspection_visible(session, person, inspection)


def visible_inspection(session: Session, person: Person, inspection_id: int) -> Inspection:
    """The inspection, or the one answer for an id that does not exist and one the person may not see (404)."""
    inspection = session.get(Inspection, inspection_id)
    if inspection is None or not may_see(session, person, inspection):
        raise logic.unseen(inspection_id)
    return inspection


def evidence_of(session: Session, inspection_id: int, sha256: str) -> Attachment:
    """A received file of one of the inspection's versions (404 otherwise)."""
    attachment = session.exec(select(Attachment).join(Submission, col(Submission.id) == col(Attachment.submission_id))
                              .where(Submission.inspection_id == inspection_id, Attachment.sha256 == sha256,
                                     col(Attachment.received).is_(True))).first()
    if attachment is None:
        raise NotFound("Không tìm thấy tệp đính kèm này của cuộc kiểm tra.", inspection_id=inspection_id)
    return attachment
