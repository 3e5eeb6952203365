"""Findings the lead returned: the comment as the inspectors see it, and the message that tells them.

:func:`notify_return` is called by ``logic.review_findings`` inside the review's transaction (the API's and the
console's review alike), so one return queues one message per team inspector with a contact, once: the key names
the returned version and the recipient, and the delivery stage sends it (``services.delivery.notifications``).
:func:`latest_return` is what ``/form`` shows on the day list and the checklist: who returned them, when, and why.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from models import Establishment, FindingReview, Inspection, Person, PersonRole, Submission, TeamMember
from models.base import id_of
from services.delivery.notifications import contact_of, enqueue, reach
from services.rules.calendar import VIETNAM

KIND = "findings_returned"


@dataclass(frozen=True)
class ReturnNote:
    """The lead's comment on a returned version (plain data, read while the session was open)."""

    version: int
    comment: str
    by_name: str
    by_title: str
    at: datetime  # UTC

    @property
    def at_vn(self) -> str:
        """When, on the clock of Việt Nam (e.g. ``14:05 ngày 05/03/2026``)."""
        return self.at.astimezone(VIETNAM).strftime("%H:%M ngày %d/%m/%Y")


def latest_return(session: Session, inspection_id: int) -> ReturnNote | None:
    """The comment of the latest version's review when the lead returned it; None otherwise."""
    row = session.exec(select(FindingReview, Submission.version, Person)
                       .join(Submission, col(Submission.id) == col(FindingReview.submission_id))
                       .join(Person, col(Person.id) == col(FindingReview.reviewed_by_id))
                       .where(Submission.inspection_id == inspection_id)
                       .order_by(col(Submission.version).desc())).first()
    if row is None or row[0].decision != "returned":
        return None
    review, version, person = row
    return ReturnNote(version=version, comment=review.comment, by_name=person.full_name, by_title=person.title,
                      at=review.reviewed_at)


def notify_return(session: Session, inspection: Inspection, submission: Submission, *, comment: str,
                  reviewer: Person) -> int:
    """Queue the return to every inspector of the team who can be reached; returns how many were queued."""
    establishment = session.get(Establishment, inspection.establishment_id)
    assert establishment is not None
    inspectors = session.exec(select(Person).join(TeamMember, col(TeamMember.person_id) == col(Person.id))
                              .where(TeamMember.team_id == inspection.team_id, Person.role == PersonRole.INSPECTOR)
                              .order_by(col(Person.code))).all()
    subject = f"Kết quả kiểm tra bị trả lại — {establishment.name}"[:255]
    body = (f"{reviewer.full_name} ({reviewer.title}) đã trả lại kết quả kiểm tra phiên bản {submission.version} "
            f"của cuộc kiểm tra số {id_of(inspection)} tại {establishment.name} (MST {establishment.tax_code}, ngày "
            f"{inspection.scheduled_on:%d/%m/%Y}).\nÝ kiến: {comment}\nĐề nghị mở biểu mẫu kiểm tra (/form), sửa và "
            "gửi lại kết quả kèm lý do sửa.")
    queued = 0
    for person in inspectors:
        reached = reach(contact_of(session, "person", person.code))
        if reached is None:
            continue
        enqueue(session, key=f"{KIND}:{id_of(submission)}:{person.code}", campaign_id=inspection.campaign_id,
                inspection_id=id_of(inspection), kind=KIND, recipient_kind="person", recipient_ref=person.code,
                channel=reached[0], address=reached[1], subject=subject, body=body)
        queued += 1
    return queued
