"""Migration 0013: an appeal's kind and an establishment's ownership are stored in English; the rows written before
(Vietnamese codes) are converted, and a downgrade converts them back (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import command

from models import Appeal, AppealKind, Campaign, Document, DocumentType, Establishment, Inspection, Ownership, Team
from services.db import alembic_config, get_engine, session_scope
from services.demo import seed as demo
from services.registry.columns import ownership_label, read_ownership
from services.registry.fingerprint import row_checksum
from services.settings import Settings

OWNERSHIPS = {"0100000001": Ownership.ENTERPRISE, "0100000002": Ownership.COOPERATIVE, "0100000003": Ownership.HOUSEHOLD}


def _rows(settings: Settings) -> None:
    """Three establishments, one of each ownership; two appeals, one of each kind."""
    with session_scope(settings) as session:
        lead = demo.seed_agencies(session)["SNV"]
        campaign = Campaign(code="CB-2026-M", title="Đợt kiểm tra", lead_agency_id=lead.id, period_start=date(2026, 5, 1),
                            period_end=date(2026, 6, 30), quota=3, created_by="SNV-LEAD")
        session.add(campaign)
        session.flush()
        team = Team(campaign_id=campaign.id, number=1, name="Đoàn 1")
        session.add(team)
        for tax_code, ownership in OWNERSHIPS.items():
            session.add(Establishment(tax_code=tax_code, name=f"Cơ sở {tax_code}", address="Cao Bằng", province_code="04",
                                      commune_code="01273", sector_vsic="25", ownership=ownership, legal_representative="",
                                      representative_title="", workforce=10))
        session.flush()
        for seq, kind in enumerate(AppealKind, start=1):
            establishment = session.exec(sa.select(Establishment).where(Establishment.tax_code == f"010000000{seq}")).scalar_one()
            inspection = Inspection(campaign_id=campaign.id, establishment_id=establishment.id, team_id=team.id,
                                    scheduled_on=date(2026, 5, 10))
            session.add(inspection)
            session.flush()
            decision = Document(doc_type=DocumentType.SANCTION_DECISION, subject_key=f"inspection:{inspection.id}",
                                issuer_code="SNV", year=2026, seq=seq, number=f"{seq}/QĐ-XPHC", campaign_id=campaign.id,
                                inspection_id=inspection.id, template_version="t", path=f"d/{seq}.pdf", sha256="0" * 64,
                                size=1, issued_by="SNV-LEAD")
            session.add(decision)
            session.flush()
            session.add(Appeal(document_id=decision.id, inspection_id=inspection.id, kind=kind, reference=f"KN-{seq}/2026",
                               lodged_on=date(2026, 5, 20), recorded_by="SNV-LEAD"))


def _stored(settings: Settings) -> tuple[dict[str, str], list[str]]:
    with get_engine(settings).connect() as conn:
        ownership = dict(conn.exec_driver_sql("SELECT tax_code, ownership FROM establishment").all())
        kinds = conn.exec_driver_sql("SELECT kind FROM appeal ORDER BY reference").scalars().all()
    return ownership, kinds


def _migrate(settings: Settings, revision: str, *, down: bool) -> None:
    with get_engine(settings).connect() as conn:
        (command.downgrade if down else command.upgrade)(alembic_config(settings, conn), revision)
        conn.commit()


def test_the_rows_written_before_are_converted_both_ways(settings: Settings) -> None:
    _rows(settings)
    english = ({"0100000001": "enterprise", "0100000002": "cooperative", "0100000003": "household"}, ["complaint", "lawsuit"])
    assert _stored(settings) == english

    _migrate(settings, "0012", down=True)
    assert _stored(settings) == ({"0100000001": "doanh_nghiep", "0100000002": "hop_tac_xa", "0100000003": "ho_kinh_doanh"},
                                 ["khieu_nai", "khoi_kien"])

    _migrate(settings, "head", down=False)
    assert _stored(settings) == english
    with session_scope(settings) as session:
        household = session.exec(sa.select(Establishment).where(Establishment.tax_code == "0100000003")).scalar_one()
        assert not household.is_organisation


def test_the_checksum_of_a_row_does_not_move_with_the_stored_value() -> None:
    """Fingerprints recorded before 0013 stay verifiable, and re-importing an unchanged file stays a no-op."""
    row = {c: None for c in Establishment.model_fields} | {"tax_code": "0100000001", "workforce": 10}
    assert row_checksum(row | {"ownership": "doanh_nghiep"}) == row_checksum(row | {"ownership": Ownership.ENTERPRISE})
    assert row_checksum(row | {"ownership": "ho_kinh_doanh"}) == row_checksum(row | {"ownership": "household"})
    assert row_checksum(row | {"ownership": "household"}) != row_checksum(row | {"ownership": "enterprise"})


def test_registry_files_keep_their_vietnamese_labels() -> None:
    """People write (and the export shows) the Vietnamese label; the former codes and the stored value are read too."""
    for typed in ("Hộ kinh doanh", "HKD", "hkd", "ho_kinh_doanh", "household"):
        assert read_ownership(typed) is Ownership.HOUSEHOLD
    assert [ownership_label(o) for o in Ownership] == ["Doanh nghiệp", "Hợp tác xã", "Hộ kinh doanh"]
    assert AppealKind.parse("khoi_kien") is AppealKind.LAWSUIT and AppealKind.parse(" Complaint ") is AppealKind.COMPLAINT
    assert AppealKind.parse("to_cao") is None and AppealKind.LAWSUIT.label_vi == "khởi kiện"
