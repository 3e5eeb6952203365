"""One sanction decision waiting for its official's digital signature (issue 17), for the tests of the signing API and
CLI: a file visited on Wed 29/04/2026, its record drawn up on Thu 07/05, signing switched on (tests/signing_support.py),
the decision adopted and drafted on Mon 11/05 (the 2nd of its 07 working days), "today" pinned to that day."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlmodel import select

from models import SigningRequest, SigningState, Violation
from services.db import session_scope
from services.intake import decisions
from services.intake.schemas import DecisionIn
from services.settings import Settings
from services.stages import sanctions
from services.stages.common import Outcome
from tests.cases import approve_and_draw_up, competent_official, d, pin_today, visit
from tests.conftest import Worlds
from tests.factories import create_scheduled_campaign, team_inspections
from tests.pki_support import TestPki
from tests.signing_support import signing_on

SIGNED_ON = d(11, 5)


@dataclass
class Waiting:
    settings: Settings  # signing switched on
    tokens: dict[str, str]
    inspection_id: int
    official: str  # the competent official's code (renamed to the certificate's holder)
    request_id: int


def adopt_and_draft(signing: Settings, inspection_id: int) -> None:
    """The competent official adopts the proposed amounts on SIGNED_ON; the decision is drafted for their signature."""
    with session_scope(signing) as session:
        person = competent_official(session, inspection_id)
        amounts = {v.id or 0: v.proposed_amount
                   for v in session.exec(select(Violation).where(Violation.inspection_id == inspection_id))}
        decisions.record_decision(session, person, inspection_id, DecisionIn(amounts=amounts, decided_on=SIGNED_ON))
    assert sanctions.decide_for_inspection(signing, inspection_id) == Outcome.WAITING


def decision_waiting(settings: Settings, worlds: Worlds, pki: TestPki, monkeypatch: pytest.MonkeyPatch,
                     code: str) -> Waiting:
    tokens = worlds.copy(settings, create_scheduled_campaign, code=code)
    inspection_id = team_inspections(settings)["SNV-TT01"][0]
    visit(settings, inspection_id, on=d(29, 4), client_id=f"{code.lower()}-0001")
    approve_and_draw_up(settings, inspection_id, d(7, 5))
    with session_scope(settings) as session:
        official = competent_official(session, inspection_id).code
    signing = signing_on(settings, pki, monkeypatch, official)
    pin_today(monkeypatch, SIGNED_ON)
    adopt_and_draft(signing, inspection_id)
    with session_scope(signing) as session:
        request = session.exec(select(SigningRequest).where(SigningRequest.inspection_id == inspection_id)).one()
        assert request.state == SigningState.AWAITING_SIGNATURE and request.signer_code == official
        request_id = request.id or 0
    return Waiting(signing, tokens, inspection_id, official, request_id)


def request_of(waiting: Waiting) -> SigningRequest:
    """The draft as it is stored now (detached)."""
    with session_scope(waiting.settings) as session:
        request = session.get(SigningRequest, waiting.request_id)
        assert request is not None
        session.expunge(request)
        return request
