"""Plain factory functions for tests: build a province, people and a campaign in a few calls."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from models import Campaign
from services import demo
from services.db import session_scope
from services.settings import Settings


def create_world(settings: Settings, *, establishments: int = 400, teams: int = 2, seed: int = 7) -> dict[str, str]:
    """Agencies, people (returns their fresh API tokens by person code) and a synthetic registry."""
    with session_scope(settings) as session:
        agencies = demo.seed_agencies(session)
        tokens = demo.seed_people(session, settings, agencies, teams=teams, seed=seed)
        demo.seed_registry(session, n=establishments, province_code=demo.PROVINCE, seed=seed, as_of=date(2026, 3, 2))
    return tokens


def create_campaign(settings: Settings, *, code: str = "TEST-01", quota: int = 10, teams: int = 2,
                    period_start: date = date(2026, 3, 2), period_end: date = date(2026, 5, 29),
                    **overrides: Any) -> Campaign:
    with session_scope(settings) as session:
        agencies = demo.seed_agencies(session)
        campaign, _ = demo.ensure_campaign(
            session, code=code, title="Đợt kiểm tra thử", lead=agencies["SNV"], members=["SYT", "LDLD"],
            province_code=demo.PROVINCE, period_start=period_start, period_end=period_end, quota=quota, teams=teams,
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
