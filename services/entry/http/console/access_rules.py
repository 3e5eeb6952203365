"""Who may see what in the console (issue 15): one rule, applied to every page and action about a campaign, an
inspection, a document or a deadline.

* **An admin** sees everything.
* **A lead or an official** sees the campaigns their agency leads or is a member of (``Campaign.lead_agency_id``,
  ``Campaign.member_agency_codes``) — and everything of them: inspections, documents, deadlines.
* **An official** sees, besides, the files (inspections) they are competent to decide
  (:func:`may_decide`: in the official's province, a violation recorded, the official's title competent for it
  today by :func:`services.rules.competence.ensure_competent` — e.g. the Chủ tịch UBND tỉnh for a file above the
  Sở's competence), with their documents and deadlines.
* **Anyone else** (an inspector: /form is theirs) sees nothing here.

What a person may not see is answered as what does not exist (404, the same words), as the API answers another
team's inspection (:func:`services.intake.logic.unseen`), so ids stay unseen. :func:`check_visible` is the one
place the console applies the rule: a dependency of every console route (``console/__init__.py``) that reads the
path — ``/console/campaigns/{code}…``, ``{inspection_id}``, ``{document_id}``, ``{deadline_id}`` — before the
handler runs (so before a POST's body is read). Lists (campaigns, documents, deadlines, the inbox) keep only what
:func:`campaign_visible` / :func:`inspection_visible` let through.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from fastapi import Request
from sqlmodel import Session, col, select

from models import Agency, Campaign, Deadline, Document, Inspection, Person, PersonRole
from services.entry.http.console.base import ConsoleUser, UserDep, db
from services.errors import Forbidden, NotFound
from services.intake import logic
from services.rules.calendar import today_in_vietnam
from services.rules.competence import ensure_competent, required_signer

STAFF = (PersonRole.LEAD, PersonRole.OFFICIAL)
CAMPAIGN_PATH = "/console/campaigns/"


def _agency(session: Session, person: Person) -> Agency | None:
    return session.get(Agency, person.agency_id)


def campaign_visible(session: Session, person: Person, campaign: Campaign) -> bool:
    """An admin: every campaign; a lead or an official: the campaigns their agency leads or is a member of."""
    if person.role == PersonRole.ADMIN:
        return True
    if person.role not in STAFF:
        return False
    agency = _agency(session, person)
    return agency is not None and (agency.id == campaign.lead_agency_id or agency.code in campaign.member_agency_codes)


def may_decide(session: Session, person: Person, inspection: Inspection, campaign: Campaign | None = None, *,
               on: date | None = None) -> bool:
    """An official competent to decide the file on ``on`` (default: today): in the official's province, with a
    violation recorded."""
    if person.role != PersonRole.OFFICIAL:
        return False
    campaign = campaign or session.get(Campaign, inspection.campaign_id)
    agency = _agency(session, person)
    if campaign is None or agency is None:
        return False
    if campaign.province_code is not None and campaign.province_code != agency.province_code:
        return False
    if required_signer(session, inspection) is None:  # no violation yet: no file to decide
        return False
    try:
        ensure_competent(session, person, inspection, on=on or today_in_vietnam())
    except Forbidden:
        return False
    return True


def inspection_visible(session: Session, person: Person, inspection: Inspection) -> bool:
    """The campaign's people see its inspections; an official also sees the files they are competent to decide."""
    campaign = session.get(Campaign, inspection.campaign_id)
    if campaign is None:
        return False
    return campaign_visible(session, person, campaign) or may_decide(session, person, inspection, campaign)


def subject_visible(session: Session, person: Person, *, inspection_id: int | None, campaign_id: int) -> bool:
    """What belongs to one inspection: as the inspection; to a campaign (its decision, plan, report): as it."""
    if inspection_id is not None:
        inspection = session.get(Inspection, inspection_id)
        return inspection is not None and inspection_visible(session, person, inspection)
    campaign = session.get(Campaign, campaign_id)
    return campaign is not None and campaign_visible(session, person, campaign)


def document_visible(session: Session, person: Person, document: Document) -> bool:
    return subject_visible(session, person, inspection_id=document.inspection_id, campaign_id=document.campaign_id)


def deadline_visible(session: Session, person: Person, deadline: Deadline) -> bool:
    inspection = session.get(Inspection, deadline.inspection_id)
    return inspection is not None and inspection_visible(session, person, inspection)


def visible_campaigns(session: Session, person: Person, campaigns: Iterable[Campaign]) -> list[Campaign]:
    return [c for c in campaigns if campaign_visible(session, person, c)]


def visible_codes(session: Session, person: Person) -> list[str]:
    """The codes of the campaigns ``person`` sees, in code order."""
    return [c.code for c in visible_campaigns(session, person, session.exec(select(Campaign).order_by(col(Campaign.code))))]


class InspectionFilter:
    """:func:`inspection_visible` for many inspections of a list (each campaign judged once)."""

    def __init__(self, session: Session, person: Person) -> None:
        self.session, self.person = session, person
        self._campaigns: dict[int, bool] = {}

    def __call__(self, inspection_id: int) -> bool:
        inspection = self.session.get(Inspection, inspection_id)
        if inspection is None:
            return False
        seen = self._campaigns.get(inspection.campaign_id)
        if seen is None:
            campaign = self.session.get(Campaign, inspection.campaign_id)
            seen = campaign is not None and campaign_visible(self.session, self.person, campaign)
            self._campaigns[inspection.campaign_id] = seen
        return seen or may_decide(self.session, self.person, inspection)


def leads_a_campaign(session: Session, person: Person) -> bool:
    """An admin, or a person of an agency that leads a campaign (the agency that reports on them)."""
    if person.role == PersonRole.ADMIN:
        return True
    return session.exec(select(Campaign.id).where(col(Campaign.lead_agency_id) == person.agency_id)).first() is not None


# --------------------------------------------------------------------------- the one place the console applies it


def _id(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 11 else None


def check_path(session: Session, person: Person, path: str, params: dict[str, str]) -> None:
    """Raises the 404 of a thing that does not exist for a campaign, inspection, document or deadline of ``path``
    (a console route's path and its parameters) that ``person`` may not see. An id the route would refuse as
    malformed is left to the route (422)."""
    if "code" in params and path.startswith(CAMPAIGN_PATH):
        campaign = session.exec(select(Campaign).where(Campaign.code == params["code"])).first()
        if campaign is None or not campaign_visible(session, person, campaign):
            raise NotFound(f"Không tìm thấy đợt kiểm tra {params['code']}.", campaign_code=params["code"])
    if (inspection_id := _id(params.get("inspection_id", ""))) is not None:
        inspection = session.get(Inspection, inspection_id)
        if inspection is None or not inspection_visible(session, person, inspection):
            raise logic.unseen(inspection_id)
    if (document_id := _id(params.get("document_id", ""))) is not None:
        document = session.get(Document, document_id)
        if document is None or not document_visible(session, person, document):
            raise NotFound("Không có văn bản này.", document_id=document_id)
    if (deadline_id := _id(params.get("deadline_id", ""))) is not None:
        deadline = session.get(Deadline, deadline_id)
        if deadline is None or not deadline_visible(session, person, deadline):
            raise NotFound(f"Không tìm thấy thời hạn số {deadline_id}.", deadline_id=deadline_id)


def campaign_of_path(session: Session, path: str, params: dict[str, str]) -> Campaign | None:
    """The campaign a console route's path is about (through its inspection, document or deadline), if any."""
    if "code" in params and path.startswith(CAMPAIGN_PATH):
        return session.exec(select(Campaign).where(Campaign.code == params["code"])).first()
    row: Inspection | Deadline | Document | None = None
    if (inspection_id := _id(params.get("inspection_id", ""))) is not None:
        row = session.get(Inspection, inspection_id)
    elif (deadline_id := _id(params.get("deadline_id", ""))) is not None:
        row = session.get(Deadline, deadline_id)
    elif (document_id := _id(params.get("document_id", ""))) is not None:
        row = session.get(Document, document_id)
    return session.get(Campaign, row.campaign_id) if row is not None else None


def check_steering(session: Session, person: Person, path: str, params: dict[str, str]) -> None:
    """A lead of a member agency sees the campaign but does not steer it: the lead's writes on a campaign (the list,
    the schedule, findings, deadlines, runs, reports) belong to the leads of the agency that leads it."""
    if person.role != PersonRole.LEAD:
        return
    campaign = campaign_of_path(session, path, params)
    if campaign is not None and campaign.lead_agency_id != person.agency_id:
        raise Forbidden(f"Chỉ lãnh đạo của cơ quan chủ trì đợt kiểm tra {campaign.code} được thực hiện việc này; "
                        "cơ quan của ông/bà tham gia đợt kiểm tra với tư cách thành viên.", campaign_code=campaign.code)


def check_visible(request: Request, user: UserDep) -> ConsoleUser:
    """FastAPI dependency of every console route but login/logout: the logged-in user (303 / 403 otherwise, as
    :func:`~services.entry.http.console.base.console_user`), then the 404 of :func:`check_path`, then, for a POST,
    the 403 of :func:`check_steering`."""
    params = {k: str(v) for k, v in request.path_params.items()}
    if params:
        with db(request) as s:
            check_path(s, user.person, request.url.path, params)
            if request.method == "POST":
                check_steering(s, user.person, request.url.path, params)
            s.rollback()  # a read: end it (on SQLite it holds the write lock)
    return user
