"""Plain factory functions for tests: build a province, people and a campaign in a few calls."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import httpx

from sqlmodel import Session

from models import Campaign
from services.demo import seed as demo_seed, users as demo_users
from services.stages.planning import ensure_campaign
from services.db import session_scope
from services.settings import Settings


def create_world(settings: Settings, *, establishments: int = 400, teams: int = 2, seed: int = 7) -> dict[str, str]:
    """Agencies, people (returns their fresh API tokens by person code) and a synthetic registry."""
    with session_scope(settings) as session:
        agencies = demo_seed.seed_agencies(session)
        tokens = demo_seed.seed_people(session, settings, agencies, teams=teams, seed=seed)
        demo_seed.seed_registry(session, n=establishments, province_code=demo_seed.PROVINCE, seed=seed, as_of=date(2026, 3, 2))
    return tokens


def create_token(settings: Settings, person_code: str, *, by: str = "SNV-LEAD", days: int | None = None,
                 label: str = "test") -> tuple[str, int]:
    """A new API token for a person (an ``accesstoken`` row, audited): the plain token and the row's id."""
    from services import access

    with session_scope(settings) as session:
        token, row = access.issue_token(session, person=access.find_person(session, person_code), by=by, label=label,
                                        days=days)
    assert row.id is not None
    return token, row.id


def create_campaign(settings: Settings, *, code: str = "TEST-01", quota: int = 10, teams: int = 2,
                    period_start: date = date(2026, 3, 2), period_end: date = date(2026, 5, 29),
                    **overrides: Any) -> Campaign:
    with session_scope(settings) as session:
        agencies = demo_seed.seed_agencies(session)
        campaign, _ = ensure_campaign(
            session, code=code, title="Đợt kiểm tra thử", lead=agencies["SNV"], members=["SYT", "LDLD"],
            province_code=demo_seed.PROVINCE, period_start=period_start, period_end=period_end, quota=quota, teams=teams,
            actor="test")
        for key, value in overrides.items():
            setattr(campaign, key, value)
        session.add(campaign)
    return campaign


def count(session: Session, model: Any) -> int:
    from sqlmodel import func, select

    return int(session.exec(select(func.count()).select_from(model)).one())


def approve(settings: Settings, campaign_code: str) -> int:
    """The demo lead approves the proposed list as it stands."""
    from services.stages.approval import approve_selection

    return approve_selection(settings, campaign_code, by="SNV-LEAD")


def create_scheduled_campaign(settings: Settings, *, code: str, establishments: int = 400, quota: int = 10,
                              teams: int = 2, **overrides: Any) -> dict[str, str]:
    """A province, a campaign whose list the lead approved and whose visits are scheduled (stage functions, no
    Prefect). Returns the people's API tokens by person code."""
    from services.stages import scheduling, selection

    tokens = create_world(settings, establishments=establishments, teams=teams)
    create_campaign(settings, code=code, quota=quota, teams=teams, **overrides)
    selection.select_establishments(settings, code)
    approve(settings, code)
    scheduling.schedule_inspections(settings, code)
    return tokens


def team_inspections(settings: Settings) -> dict[str, list[int]]:
    """Person code → ids of the inspections of that person's team(s), in id order."""
    from sqlmodel import select

    from models import Inspection, Person, TeamMember

    with session_scope(settings) as session:
        rows = session.exec(select(Person.code, Inspection.id).join(TeamMember, TeamMember.person_id == Person.id)
                            .join(Inspection, Inspection.team_id == TeamMember.team_id).order_by(Inspection.id)).all()
    out: dict[str, list[int]] = {}
    for code, inspection_id in rows:
        out.setdefault(code, []).append(inspection_id)
    return out


@contextmanager
def intake_http(settings: Settings) -> Iterator[httpx.Client]:
    """The real intake API on loopback (uvicorn in a thread) and a client for it; stopped afterwards."""
    from services.entry.http.server import start_in_thread

    server = start_in_thread(settings)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield http
    finally:
        server.stop()


def campaign_with_approved_findings(settings: Settings, *, code: str, establishments: int = 1200, quota: int = 24,
                                    teams: int = 3) -> dict[str, str]:
    """A scheduled campaign whose inspectors sent their findings over HTTP and whose lead approved them all (the
    records can be issued). Returns the people's API tokens."""
    tokens = create_scheduled_campaign(settings, code=code, establishments=establishments, quota=quota, teams=teams)
    with intake_http(settings) as http:
        assert demo_users.simulate_inspectors(settings, http, tokens, code) == quota
        assert demo_users.simulate_findings_review(http, tokens["SNV-LEAD"], code) == quota
    return tokens
