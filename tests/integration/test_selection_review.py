"""Issue 3's promises on real data: SQL ranking equals the policy, đột xuất needs a trigger, the list is
re-derivable, the lead's changes obey Chỉ thị 20, and every selected establishment is explained."""
from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from models import ESTABLISHMENT_COLUMNS, Campaign, CampaignKind, Establishment, Selection, SelectionKind
from services.db import session_scope
from services.documents.selection_list import decimal_vi
from services.errors import Refused, StageBlocked
from services.entry.http.server import start_in_thread
from services.registry.fingerprint import row_checksum
from services.rules.risk import factor_contributions, policy_for
from services.rules.risk_sql import score_expression
from services.settings import Settings
from services.stages import approval, scheduling, selection
from services.stages.selection_docs import export_selection
from services.stages.triggers import record_trigger
from tests.pdf_support import raw_text_of
from tests.factories import approve, create_campaign, create_world

START = date(2026, 3, 2)


def _table() -> sa.Table:
    return Establishment.__table__  # type: ignore[attr-defined,no-any-return]


def _selected(settings: Settings, code: str) -> list[Selection]:
    with session_scope(settings) as session:
        campaign = session.exec(select(Campaign).where(Campaign.code == code)).one()
        return list(session.exec(select(Selection).where(Selection.campaign_id == campaign.id).order_by(Selection.rank)))


def _tax_codes(settings: Settings, ids: list[int]) -> dict[int, str]:
    with session_scope(settings) as session:
        return dict(session.exec(select(Establishment.id, Establishment.tax_code).where(Establishment.id.in_(ids))).all())  # type: ignore[union-attr]


def _set(settings: Settings, tax_code: str, **values: object) -> None:
    t = _table()
    with session_scope(settings) as session:
        session.connection().execute(sa.update(t).where(t.c.tax_code == tax_code).values(**values))


def test_the_database_ranks_with_exactly_the_policys_arithmetic(settings: Settings) -> None:
    create_world(settings, establishments=3000)
    policy = policy_for(START)
    t = _table()
    with session_scope(settings) as session:
        rows = session.connection().execute(sa.select(t, score_expression(t, policy, START).label("sql_score"))).mappings().all()
    assert len(rows) == 3000
    for row in rows:
        python = sum(factor_contributions(row, policy, START).values())  # each factor rounded to 0.01
        assert row["sql_score"] == pytest.approx(python, abs=0.1), row["tax_code"]


def test_a_surprise_campaign_takes_only_establishments_with_a_recorded_trigger(settings: Settings) -> None:
    create_world(settings, establishments=600)
    with session_scope(settings) as session:
        codes = session.exec(select(Establishment.tax_code).order_by(Establishment.id).limit(3)).all()
    _set(settings, codes[0], last_inspected_on=START - timedelta(days=30))  # inspected last month: allowed with a trigger
    for i, (code, kind) in enumerate(zip(codes, ("complaint", "accident", "referral"), strict=True)):
        assert record_trigger(settings, tax_code=code, kind=kind, reference=f"CV-{i}/2026", received_on=date(2026, 2, 1),
                              by="SNV-LEAD")
    assert not record_trigger(settings, tax_code=codes[0], kind="complaint", reference="CV-0/2026",
                              received_on=date(2026, 2, 1), by="SNV-LEAD")  # the same trigger again: stored once
    create_campaign(settings, code="DX-01", quota=10, kind=CampaignKind.SURPRISE)
    assert selection.select_establishments(settings, "DX-01").done == 3
    chosen = _selected(settings, "DX-01")
    assert {s.kind for s in chosen} == {SelectionKind.TRIGGER}
    assert set(_tax_codes(settings, [s.establishment_id for s in chosen]).values()) == set(codes)

    create_campaign(settings, code="DX-02", quota=10, kind=CampaignKind.SURPRISE, period_start=date(2027, 6, 1),
                    period_end=date(2027, 6, 30))
    with pytest.raises(StageBlocked, match="Không có cơ sở nào đủ điều kiện"):  # triggers older than the window
        selection.select_establishments(settings, "DX-02")


def test_a_stored_selection_re_derives_identically_and_notices_registry_changes(settings: Settings) -> None:
    create_world(settings, establishments=1500)
    create_campaign(settings, code="RD-01", quota=40)
    selection.select_establishments(settings, "RD-01")
    kinds = [s.kind for s in _selected(settings, "RD-01")]
    assert kinds.count(SelectionKind.CONTROL) == 2 and kinds.count(SelectionKind.RISK) == 38  # 5% control sample

    verified = selection.verify_selection(settings, "RD-01")
    assert verified["identical"] and verified["registry_unchanged"] and verified["selected"] == 40

    # an establishment in scope changes: the fingerprint says so
    with session_scope(settings) as session:
        e = session.exec(select(Establishment).order_by(Establishment.id.desc())).first()  # type: ignore[union-attr]
        e.open_complaints += 1
        e.row_checksum = row_checksum({c: getattr(e, c) for c in ESTABLISHMENT_COLUMNS})  # as stored: enums are text
        session.add(e)
    again = selection.verify_selection(settings, "RD-01")
    assert again["registry_unchanged"] is False


def test_the_control_sample_depends_on_the_seed_and_never_repeats_a_risk_pick(settings: Settings) -> None:
    create_world(settings, establishments=1500)
    picks = {}
    for code, seed in (("CS-A", 1), ("CS-B", 1), ("CS-C", 2)):
        create_campaign(settings, code=code, quota=60, selection_seed=seed)
        selection.select_establishments(settings, code)
        rows = _selected(settings, code)
        control = [s.establishment_id for s in rows if s.kind == SelectionKind.CONTROL]
        risk = {s.establishment_id for s in rows if s.kind == SelectionKind.RISK}
        assert len(control) == 3 and not set(control) & risk
        assert max(s.score for s in rows if s.kind == SelectionKind.CONTROL) <= min(
            s.score for s in rows if s.kind == SelectionKind.RISK)
        picks[code] = control
    assert picks["CS-A"] == picks["CS-B"] and picks["CS-A"] != picks["CS-C"]


def test_commune_quota_caps_each_commune(settings: Settings) -> None:
    create_world(settings, establishments=1500)
    create_campaign(settings, code="Q-01", quota=30, per_commune_max=1)
    selection.select_establishments(settings, "Q-01")
    rows = [s for s in _selected(settings, "Q-01") if s.kind == SelectionKind.RISK]
    with session_scope(settings) as session:
        communes = [session.get(Establishment, s.establishment_id).commune_code for s in rows]  # type: ignore[union-attr]
    assert len(rows) == 29 and len(set(communes)) == len(communes)


def test_the_leads_changes_obey_chi_thi_20_and_need_reasons(settings: Settings) -> None:
    create_world(settings, establishments=800)
    create_campaign(settings, code="LD-01", quota=10)
    selection.select_establishments(settings, "LD-01")
    chosen = _selected(settings, "LD-01")
    first_code = _tax_codes(settings, [chosen[0].establishment_id])[chosen[0].establishment_id]
    with session_scope(settings) as session:
        outside = session.exec(select(Establishment.tax_code).where(
            Establishment.id.not_in([s.establishment_id for s in chosen])).limit(1)).one()  # type: ignore[union-attr]
    _set(settings, outside, last_inspected_on=START - timedelta(days=100))

    with pytest.raises(Refused) as refused:
        approval.change_selection(settings, "LD-01", by="SNV-LEAD", add=[approval.Change(outside, "Nhiều phản ánh")],
                                  remove=[approval.Change(first_code, " ")])
    assert refused.value.ids["errors"] == [
        "remove[0]: phải ghi lý do loại cơ sở khỏi danh sách",
        f"add[0]: cơ sở {outside} đã được thanh tra, kiểm tra ngày "
        f"{START - timedelta(days=100):%d/%m/%Y}; theo Chỉ thị 20/CT-TTg chỉ kiểm tra lại khi có căn cứ "
        "(khiếu nại, tai nạn, chuyển đến) được ghi nhận"]
    with pytest.raises(Refused):
        approval.change_selection(settings, "LD-01", by="SNV-TT01", add=[], remove=[])  # not the lead
    with pytest.raises(Refused) as twice:  # the same code pasted twice: named, not a database error
        approval.change_selection(settings, "LD-01", by="SNV-LEAD", remove=[approval.Change(first_code, "Trùng")],
                                  add=[approval.Change(first_code, "Lý do")])
    assert twice.value.ids["errors"][0] == f"add[0]: cơ sở {first_code} trùng với remove[0]"
    assert len([s for s in _selected(settings, "LD-01") if not s.removed]) == 10  # nothing changed

    record_trigger(settings, tax_code=outside, kind="complaint", reference="PA-12/2026", received_on=date(2026, 2, 20),
                   by="SNV-LEAD")
    done = approval.change_selection(settings, "LD-01", by="SNV-LEAD", add=[approval.Change(outside, "Nhiều phản ánh")],
                                     remove=[approval.Change(first_code, "Đã được Sở Xây dựng kiểm tra tháng 2/2026")])
    assert done == {"added": 1, "removed": 1}
    assert approve(settings, "LD-01") == 10
    scheduling.schedule_inspections(settings, "LD-01")
    with session_scope(settings) as session:
        from models import Inspection
        visited = set(session.exec(select(Establishment.tax_code).join(Inspection, Inspection.establishment_id == Establishment.id)))
    assert outside in visited and first_code not in visited




def test_every_selected_establishment_is_explained_in_the_pdf_and_the_api(settings: Settings) -> None:
    tokens = create_world(settings, establishments=1500)
    create_campaign(settings, code="EX-01", quota=20)
    selection.select_establishments(settings, "EX-01")
    rows = _selected(settings, "EX-01")
    names = {s.establishment_id: n for s in rows for n in [None]}
    with session_scope(settings) as session:
        for s in rows:
            names[s.establishment_id] = session.get(Establishment, s.establishment_id).name  # type: ignore[union-attr]
    policy = policy_for(START)

    pdf, xlsx = export_selection(settings, "EX-01")
    text = raw_text_of(pdf)
    for s in rows:
        assert names[s.establishment_id] in text
        assert decimal_vi(s.score) in text
        top = max(s.factors, key=lambda k: s.factors[k])
        assert f"{policy.label_vi(top)}: {decimal_vi(s.factors[top])}" in text
    assert xlsx.exists()

    server = start_in_thread(settings)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            answer = http.get("/api/campaigns/EX-01/selection", headers={"Authorization": f"Bearer {tokens['SNV-LEAD']}"})
            refused = http.get("/api/campaigns/EX-01/selection", headers={"Authorization": f"Bearer {tokens['SNV-TT01']}"})
    finally:
        server.stop()
    assert answer.status_code == 200 and refused.status_code == 403
    listed = answer.json()["establishments"]
    assert len(listed) == 20
    for item, s in zip(listed, rows, strict=True):
        assert item["name"] == names[s.establishment_id]
        assert item["factors"] and round(sum(f["points"] for f in item["factors"]), 2) == item["score"] == s.score
        assert all(f["label_vi"] == policy.label_vi(f["factor"]) for f in item["factors"])
        assert item["reasons_vi"].startswith(policy.label_vi(item["factors"][0]["factor"]))
