"""Several sanction decisions waiting for the same official's digital signature (issue 17, signing at once): the
first files of SNV-TT01's team within one official's competence, each visited on Wed 29/04/2026 (the first checklist
item failing), their records drawn up on Thu 07/05, signing switched on (tests/signing_support.py), the decisions
adopted and drafted on Mon 11/05 (tests/signing_world.py's day), "today" pinned to that day."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlmodel import col, select

from models import DocumentType, SigningRequest, SigningState
from services.db import session_scope
from services.settings import Settings
from tests.cases import approve_and_draw_up, competent_official, d, pin_today, visit
from tests.conftest import Worlds
from tests.factories import create_scheduled_campaign, team_inspections
from tests.pki_support import TestPki
from tests.signing_support import signing_on
from tests.signing_world import SIGNED_ON, adopt_and_draft


@dataclass
class ManyWaiting:
    settings: Settings  # signing switched on
    tokens: dict[str, str]
    official: str  # the competent official's code (renamed to the certificate's holder)
    request_ids: list[int]  # oldest first, as the signing page lists them


def decisions_waiting(settings: Settings, worlds: Worlds, pki: TestPki, monkeypatch: pytest.MonkeyPatch, code: str,
                      count: int = 2) -> ManyWaiting:
    tokens = worlds.copy(settings, create_scheduled_campaign, code=code)
    files = team_inspections(settings)["SNV-TT01"]
    for n, inspection_id in enumerate(files[:count + 2]):
        visit(settings, inspection_id, on=d(29, 4), client_id=f"{code.lower()}-{n:04d}")
        approve_and_draw_up(settings, inspection_id, d(7, 5))
    with session_scope(settings) as session:
        official = competent_official(session, files[0]).code
        mine = [i for i in files[:count + 2] if competent_official(session, i).code == official][:count]
    assert len(mine) == count, f"only {len(mine)} files within {official}'s competence"
    signing = signing_on(settings, pki, monkeypatch, official)
    pin_today(monkeypatch, SIGNED_ON)
    for inspection_id in mine:
        adopt_and_draft(signing, inspection_id)
    with session_scope(signing) as session:
        rows = session.exec(select(SigningRequest).where(SigningRequest.doc_type == DocumentType.SANCTION_DECISION)
                            .order_by(col(SigningRequest.requested_at), col(SigningRequest.id))).all()
        assert [r.state for r in rows] == [SigningState.AWAITING_SIGNATURE] * count
        assert {r.signer_code for r in rows} == {official}
        ids = [r.id or 0 for r in rows]
    return ManyWaiting(signing, tokens, official, ids)
