"""The README's first command, in-process: the whole demo campaign, twice, against a real Prefect server."""
from __future__ import annotations

from datetime import date

import os
import unicodedata
from collections.abc import Iterator

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from services.entry.cli.app import app
from models import Deadline, Document, DocumentType, Notification, Establishment, Inspection, Person, Team, TeamMember, Violation
from services.db import session_scope
from services.runtime.server import PrefectServer
from services.settings import get_settings
from tests.conftest import PostgresDatabases
from tests.document_checker import check_pdf
from tests.flows.conftest import DEMO_WIRING, demo_wiring_undone
from tests.pdf_support import raw_text_of
from tests.snapshots import snapshot

pytestmark = pytest.mark.slow
ARGS = ["demo", "--establishments", "1500", "--quota", "8", "--teams", "2"]






@pytest.fixture(scope="module")
def demo_run(prefect_server: PrefectServer, postgres_databases: PostgresDatabases | None,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo run once for the tests that check what it made (they read it, or run the demo again and assert that
    nothing changed); yields its output. The environment points at its data dir (and database) meanwhile."""
    url = postgres_databases.create() if postgres_databases is not None else None
    env = {"KIEMTRA_DATA_DIR": str(tmp_path_factory.mktemp("demo") / "data"), "KIEMTRA_PREFECT_API_URL": prefect_server.api_url,
           "KIEMTRA_ENVIRONMENT": "test", "PREFECT_LOGGING_LEVEL": "WARNING", **({"KIEMTRA_DATABASE_URL": url} if url else {})}
    try:
        with pytest.MonkeyPatch.context() as patch, demo_wiring_undone():
            for key, value in env.items():
                patch.setenv(key, value)
            get_settings.cache_clear()
            first = CliRunner().invoke(app, ARGS)
            assert first.exit_code == 0, first.output
            yield first.output
    finally:
        get_settings.cache_clear()
        if url is not None and postgres_databases is not None:
            postgres_databases.drop(url)


def test_demo_runs_to_the_end_and_again_changes_nothing(demo_run: str) -> None:
    runner = CliRunner()
    settings = get_settings()
    before = snapshot(settings)
    # the campaign ended: every visit closed, every document issued, every outcome published
    assert "trạng thái: đã kết thúc" in demo_run
    assert before["counts"]["inspection"] == 8
    assert before["counts"]["document"] >= 8 + 8 + 1 + 2  # records, notices, the decision, two plans
    decisions = [d for d in before["documents"] if d[0] == "sanction_decision"]
    with session_scope(settings) as session:
        kinds = [str(k) for k in session.exec(select(Notification.kind)).all()]
        deadlines = session.exec(select(Deadline.kind, Deadline.status, Deadline.escalated_on)).all()
    assert len([k for k in kinds if not k.startswith("deadline_")]) == 13 and before["counts"]["publication"] > 0
    # the deadline sweep ran as of today: the records and decisions were issued in time (met); the simulated lead
    # recorded most fines as paid (with a receipt, before the due date); those still unpaid are escalated
    assert {(str(k), str(s)) for k, s, _ in deadlines if str(k) in ("violation_record", "sanction_decision", "limitation")} \
        <= {(k, "met") for k in ("violation_record", "sanction_decision", "limitation")}
    comply = [(str(s), e) for k, s, e in deadlines if str(k) == "comply"]
    assert len(comply) == len(decisions)
    assert all(e is not None for s, e in comply if s == "open") and any(s == "met" for s, _ in comply)
    unpaid = [s for s, _ in comply if s == "open"]
    assert ("deadline_overdue" in kinds) == bool(unpaid)  # only what is really overdue is escalated
    # every published outcome went to the (stand-in) province portal, signed, once
    portal_files = list((settings.data_dir / "outbox" / "portal").glob("*.json"))
    assert len(portal_files) == before["counts"]["publication"]
    assert decisions and before["counts"]["publication"] == len(decisions)
    assert all(row[1] == "closed" for row in before["inspections"])
    assert str(settings.documents_path) in demo_run.replace("\n", "")
    # it ends with the console's address and the demo logins (issue 15)
    assert "kiemtra serve" in demo_run and "/console/" in demo_run
    assert all(f"{code}" in demo_run for code in ("SNV-LEAD", "SNV-GD", "UBND-CT", "SNV-QT", "SNV-TT01"))

    second = runner.invoke(app, ARGS)
    assert second.exit_code == 0, second.output
    assert "đã có, chạy tiếp" in second.output
    assert snapshot(settings) == before


def test_demo_documents_are_real_vietnamese_pdfs(demo_run: str) -> None:
    settings = get_settings()
    with session_scope(settings) as session:
        docs = session.exec(select(Document).order_by(Document.id)).all()
        kinds = {d.doc_type for d in docs}
        assert kinds == set(DocumentType) - {DocumentType.PERIODIC_REPORT}  # the periodic report has its own flow
        members = [p.full_name for p in session.exec(select(Person).join(TeamMember, TeamMember.person_id == Person.id))]
        problems = {doc.number + " " + str(doc.doc_type): [str(p) for p in check_pdf(settings.documents_path / doc.path,
                                                                                 str(doc.doc_type))]
                    for doc in docs}
        assert {k: v for k, v in problems.items() if v} == {}  # the document checker finds nothing (NĐ 30, forms)
        for doc in docs:
            text = raw_text_of(settings.documents_path / doc.path)
            assert "■" not in text and "\ufffd" not in text
            assert unicodedata.normalize("NFC", text) == text
            assert doc.number in text
            assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
            heading = {"minutes": "BIÊN BẢN KIỂM TRA", "violation_record": "BIÊN BẢN VI PHẠM HÀNH CHÍNH", "proposal": "TỜ TRÌNH",
                       "sanction_decision": "QUYẾT ĐỊNH", "inspection_decision": "QUYẾT ĐỊNH",
                       "inspection_plan": "KẾ HOẠCH", "inspection_notice": "THÔNG BÁO", "report": "BÁO CÁO"}[doc.doc_type]
            assert heading in text
            if doc.doc_type == DocumentType.REPORT:  # the campaign's report, issued when it closed
                assert doc.subject_key == f"campaign:{doc.campaign_id}" and "Tổng số tiền phạt" in text
                continue
            if doc.doc_type == DocumentType.INSPECTION_DECISION:
                assert all(name in text for name in members)  # the team list
                continue
            if doc.inspection_id is None:  # a team's plan: every establishment it visits is in its schedule
                team = session.exec(select(Team).where(Team.id == int(doc.subject_key.split(":")[1]))).one()
                visits = session.exec(select(Establishment.name).join(Inspection, Inspection.establishment_id == Establishment.id)
                                      .where(Inspection.team_id == team.id)).all()
                assert visits and all(name in text for name in visits)
                continue
            inspection = session.get(Inspection, doc.inspection_id)
            establishment = session.get(Establishment, inspection.establishment_id)
            assert establishment.name in text, (doc.number, establishment.name)
            if doc.doc_type == DocumentType.SANCTION_DECISION:
                violation = session.exec(select(Violation).where(Violation.inspection_id == inspection.id)).first()
                signer = session.get(Person, violation.decided_by_id)
                assert signer.full_name in text
                # decided after 30/06/2025: by the decider's own body, never by a sở inspectorate (abolished)
                assert doc.issued_on > date(2025, 6, 30)
                assert doc.issuer_code in ("SNV", "UBND-04"), doc.issuer_code
                decider = ("CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH CAO BẰNG" if doc.issuer_code == "UBND-04"
                           else "GIÁM ĐỐC SỞ NỘI VỤ TỈNH CAO BẰNG")
                assert decider in text and ("CHỦ TỊCH" if doc.issuer_code == "UBND-04" else "GIÁM ĐỐC") in text
            if doc.issued_on and doc.issued_on > date(2025, 6, 30):  # no sở inspectorate decides or signs any more
                assert "THANH TRA SỞ" not in text.upper() and "CHÁNH THANH TRA" not in text.upper(), doc.number
    outbox = list((settings.data_dir / "outbox").glob("*.json"))
    with session_scope(settings) as session:
        deadline_messages = session.exec(select(Notification.id).where(Notification.kind.startswith("deadline_"))).all()
    # a notice to each establishment, an assignment to each of the 5 members, and the deadline sweep's messages
    assert len(outbox) == 8 + 5 + len(deadline_messages)
    register = (settings.documents_path / "public" / "index.html").read_text(encoding="utf-8")
    assert "Công khai kết quả xử phạt" in register


def test_the_lead_sees_the_deadlines_and_can_sweep_as_of_a_day(demo_run: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the demo's campaign (this module's run; the tests before it have already checked it)."""
    from services.entry.cli import deadlines as cli_deadlines

    monkeypatch.setattr(cli_deadlines.console, "width", 200)  # one table row per line
    runner = CliRunner()
    listed = runner.invoke(app, ["deadlines", "list", "--all"])
    assert listed.exit_code == 0, listed.output
    assert "Chấp hành quyết định" in listed.output and "đã thực hiện" in listed.output
    swept = runner.invoke(app, ["deadlines", "sweep", "--today", "2026-12-01"])
    assert swept.exit_code == 0, swept.output
    assert "Ngày 2026-12-01: tạo 0" in swept.output  # the demo's own sweep already created every deadline
    bad = runner.invoke(app, ["deadlines", "sweep", "--today", "01/12/2026"])
    assert bad.exit_code == 1 and "Ngày không hợp lệ (cần dạng YYYY-MM-DD): 01/12/2026" in bad.output


def test_what_the_demo_writes_into_the_environment_is_undone_after_its_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIEMTRA_PORTAL_SECRET", "the tester's own")
    monkeypatch.delenv("KIEMTRA_GATEWAY_URL", raising=False)
    monkeypatch.delenv("KIEMTRA_PORTAL_URL", raising=False)
    with demo_wiring_undone():
        for key in DEMO_WIRING:  # as the demo did before services/wiring.py
            os.environ[key] = "http://127.0.0.1:9/closed-since"
    assert "KIEMTRA_GATEWAY_URL" not in os.environ and "KIEMTRA_PORTAL_URL" not in os.environ
    assert os.environ["KIEMTRA_PORTAL_SECRET"] == "the tester's own"
