"""The inspector's work as the offline field app keeps it (``GET /form/api/visits``, docs/field-offline.md).

:func:`visits_for` lists the caller's team inspections from ``today`` to ``today + days_ahead`` and the earlier ones
still waiting for findings (scheduled, or returned by the lead), sorted by day then visit time, each with what the
app needs to work offline: the checklist, the lead's return note and the latest version's answers. The words (status
labels, group titles) are the web form's, passed in by the route (they live with its templates).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from models import Campaign, Establishment, Inspection, InspectionStatus, Person, PersonRole
from models.base import id_of
from services.intake import logic, returns
from services.rules.procedure import Procedure, procedure_for
from services.stages.visits import visit_time

WAITING = (InspectionStatus.SCHEDULED, InspectionStatus.FINDINGS_RETURNED)  # still waiting for (corrected) findings
FINDING_KEYS = ("item_code", "result", "note", "workers_affected", "devices_affected", "committed_on", "ongoing")


@dataclass(frozen=True)
class Words:
    """The web form's wording: a status's Vietnamese label, and each checklist group's title."""

    status_vi: Callable[[str], str]
    group_titles: Mapping[str, str]


def listed(inspection: Inspection, today: date, days_ahead: int) -> bool:
    """Kept by the app: scheduled from today to ``days_ahead`` days later, or earlier and still waiting."""
    if inspection.scheduled_on < today:
        return inspection.status in WAITING
    return inspection.scheduled_on <= today + timedelta(days=days_ahead)


def visits_for(db: Session, person: Person, *, today: date, days_ahead: int, words: Words) -> list[dict[str, Any]]:
    """The visits of :func:`listed`, as the app's JSON (plain data, read while ``db`` is open)."""
    procedures: dict[int, Procedure] = {}
    visits = []
    for inspection in logic.inspections_for(db, person):
        if not listed(inspection, today, days_ahead):
            continue
        campaign = db.get(Campaign, inspection.campaign_id)
        assert campaign is not None
        if campaign.id not in procedures:
            procedures[id_of(campaign)] = procedure_for(campaign.period_start)
        visit = _visit(db, person, inspection, campaign, words)
        visit["visit_time"] = visit_time(db, inspection, procedures[id_of(campaign)])
        visit["earlier_unfinished"] = inspection.scheduled_on < today
        visits.append(visit)
    return sorted(visits, key=lambda v: (v["scheduled_on"], v["visit_time"], v["id"]))


def _visit(db: Session, person: Person, inspection: Inspection, campaign: Campaign, words: Words) -> dict[str, Any]:
    establishment = db.get(Establishment, inspection.establishment_id)
    assert establishment is not None
    status = str(inspection.status)
    return {
        "id": inspection.id, "campaign_code": campaign.code, "establishment": establishment.name,
        "tax_code": establishment.tax_code, "address": establishment.address,
        "scheduled_on": inspection.scheduled_on.isoformat(), "team": logic.team_name(db, inspection.team_id),
        "status": status, "status_vi": words.status_vi(status),
        "can_submit": person.role == PersonRole.INSPECTOR and inspection.status in logic.EDITABLE,
        "checklist": [{"code": item.code, "text": item.text_vi, "group": item.agency,
                       "group_title": words.group_titles.get(item.agency, item.agency),
                       "ongoing_default": item.act_kind == "ongoing"}
                      for item in logic.checklist_for(db, inspection)],
        "returned": _returned(db, inspection), "latest": _latest(db, id_of(inspection)),
    }


def _returned(db: Session, inspection: Inspection) -> dict[str, Any] | None:
    """The lead's note when the latest version was returned (the inspection is then ``findings_returned``)."""
    if inspection.status != InspectionStatus.FINDINGS_RETURNED:
        return None
    note = returns.latest_return(db, id_of(inspection))
    if note is None:
        return None
    return {"version": note.version, "comment": note.comment, "by": note.by_name, "title": note.by_title,
            "at": note.at.isoformat().replace("+00:00", "Z"), "at_vi": note.at_vn}


def _latest(db: Session, inspection_id: int) -> dict[str, Any] | None:
    """The latest version's answers (every finding with all of :data:`FINDING_KEYS`, None where not given)."""
    submission = logic.latest_submission(db, inspection_id)
    if submission is None:
        return None
    return {"version": submission.version,
            "findings": [{key: finding.get(key) for key in FINDING_KEYS} for finding in submission.payload]}
