"""Two leads starting the same stage at once, or two workers picking the same run: one effect, not two.

Each test starts the same stage call twice at the same moment from two separate OS processes (``spawn``, a
barrier as the start line) over the one database of the ``settings`` fixture, then checks that the stored
state is exactly what one run gives: the same rows (selections, teams, inspections, documents numbered 1..n per
issuer, type and year with no gap, violations, publications, portal messages, deadlines, notifications), one
audit event per transition, every PDF the one its document records and no stray file, and neither caller seeing
any error (the loser of a race finds the work done: ``already``). What makes it hold is in the database — the
status re-check inside the stage's own transaction (which on SQLite starts with ``BEGIN IMMEDIATE``, so two
writers serialise) and the unique keys behind each row — not the timing: each test also checks that both runs
really started before either finished.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import hashlib
import json

import httpx
import pytest
from sqlmodel import select

from models import (AuditEvent, Campaign, Deadline, Document, Inspection, Notification, PortalMessage, PortalStatus, Publication,
                    Selection, Team, TeamMember, Violation)
from services.stages import deadlines
from services.delivery import portal
from services.clients.portal import PortalClient
from services.db import session_scope
from services.intake import decisions, logic
from services.intake.schemas import DecisionIn, ReviewIn
from services.settings import Settings
from services.stages import publishing, records, sanctions, schedule_docs, scheduling, selection
from services.stages.common import Outcome
from tests import process_support
from tests.conftest import make_settings
from tests.factories import approve, create_campaign, create_scheduled_campaign, create_world, team_inspections
from tests.cases import competent_official, d, lead, visit
from tests.integration.test_deadlines import VISIT

CODE = "CONC-01"
INSPECTOR = "SNV-TT01"
CASES = 3  # inspections carried through records, sanctions, publication and the portal (the last one has no violation)
PORTAL_SECRET = b"concurrency-portal-secret"
PORTAL_DELAY_S = 0.3  # the portal's answer takes this long: the other worker has every chance to pick the same message


# --------------------------------------------------------------------------- two processes at once


def _settings_in_child(data_dir: str, database_url: str | None) -> Settings:
    return make_settings(Path(data_dir), database_url=database_url)


def _job_select(s: Settings) -> Any:
    return selection.select_establishments(s, CODE).as_dict()


def _job_schedule(s: Settings) -> Any:
    return scheduling.schedule_inspections(s, CODE).as_dict()


def _job_schedule_documents(s: Settings) -> Any:
    return schedule_docs.issue_schedule_documents(s, CODE).as_dict()


def _job_records(s: Settings, ids: list[int]) -> Any:
    return records.issue_records(s, CODE, ids).as_dict()


def _job_sanctions(s: Settings, ids: list[int]) -> Any:
    return sanctions.decide_sanctions(s, CODE, ids).as_dict()


def _job_publish(s: Settings, ids: list[int]) -> Any:
    return publishing.publish_outcomes(s, CODE, ids).as_dict()


def _job_sweep(s: Settings, today: date) -> Any:
    return deadlines.sweep(s, today).as_dict()


def _job_portal(s: Settings, url: str) -> Any:
    with httpx.Client(base_url=url, timeout=10) as http:
        report = portal.deliver_pending(s, PortalClient(http, PORTAL_SECRET))
    return {"delivered": report.delivered, "retrying": report.retrying, "dead": report.dead, "waiting": report.waiting}


JOBS: dict[str, Callable[..., Any]] = {"select": _job_select, "schedule": _job_schedule,
                                       "schedule_documents": _job_schedule_documents, "records": _job_records,
                                       "sanctions": _job_sanctions, "publish": _job_publish, "sweep": _job_sweep,
                                       "portal": _job_portal}


def _child(data_dir: str, database_url: str | None, job: str, args: tuple[Any, ...], barrier: Any, results: Any) -> None:
    settings = _settings_in_child(data_dir, database_url)
    with session_scope(settings) as session:  # connect and import everything before the start line
        session.exec(select(Campaign.id)).all()
    try:
        barrier.wait(timeout=60)
        started = time.monotonic()
        out = JOBS[job](settings, *args)
        results.put(("ok", out, started, time.monotonic()))
    except BaseException as exc:  # the parent reports it instead of waiting for a result that never comes
        results.put(("error", f"{type(exc).__name__}: {exc}", 0.0, 0.0))
        raise


def at_once(settings: Settings, job: str, *args: Any) -> list[dict[str, Any]]:
    """Run ``JOBS[job](settings, *args)`` in two processes released together; both results, no error allowed."""
    ctx = process_support.context()
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [process_support.process(ctx, _child, str(settings.data_dir), settings.database_url, job, args, barrier, results)
             for _ in range(2)]
    for p in procs:
        p.start()
    got = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    errors = [out for status, out, _, _ in got if status != "ok"]
    assert not errors, f"a caller saw an error: {errors}"
    assert all(p.exitcode == 0 for p in procs)
    (_, _, start_a, end_a), (_, _, start_b, end_b) = got
    assert start_a < end_b and start_b < end_a, "the two runs did not overlap: nothing was tested"
    return [out for _, out, _, _ in got]


# --------------------------------------------------------------------------- what one effect looks like


def status_changes(settings: Settings, entity_type: str) -> Counter[tuple[int, str]]:
    """(entity id, new state) → how many audit events record that transition."""
    with session_scope(settings) as session:
        rows = session.exec(select(AuditEvent.entity_id, AuditEvent.to_state)
                            .where(AuditEvent.entity_type == entity_type, AuditEvent.action == "status_change")).all()
    return Counter((int(i), str(s)) for i, s in rows)


def actions(settings: Settings, action: str) -> Counter[int]:
    with session_scope(settings) as session:
        return Counter(int(i) for i in session.exec(select(AuditEvent.entity_id).where(AuditEvent.action == action)).all())


def rows(settings: Settings, model: Any, *where: Any) -> list[Any]:
    with session_scope(settings) as session:
        return list(session.exec(select(model).where(*where)).all())


def assert_documents_gap_free(settings: Settings) -> list[Document]:
    """Per (issuer, type, year) the numbers are 1..n, each once; each PDF is the one its row records; no stray PDF."""
    docs = rows(settings, Document)
    by_series: dict[tuple[str, str, int], list[int]] = {}
    for doc in docs:
        by_series.setdefault((doc.issuer_code, str(doc.doc_type), doc.year), []).append(doc.seq)
    for series, seqs in by_series.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), (series, sorted(seqs))
    assert len({(str(x.doc_type), x.subject_key, x.revision) for x in docs}) == len(docs)
    for doc in docs:
        assert hashlib.sha256((settings.documents_path / doc.path).read_bytes()).hexdigest() == doc.sha256, doc.number
    on_disk = {p.relative_to(settings.documents_path).as_posix() for p in settings.documents_path.glob("[0-9]*/*/*.pdf")}
    assert on_disk == {doc.path for doc in docs}, "a PDF without its document (or the reverse)"
    return docs


def assert_once(counter: Counter[Any], expected: set[Any] | None = None) -> None:
    assert all(n == 1 for n in counter.values()), {k: n for k, n in counter.items() if n != 1}
    if expected is not None:
        assert set(counter) == expected


def split(results: list[dict[str, Any]], total: int) -> None:
    """One run did the work, the other found it done (or each did a part): never both, never neither."""
    assert sum(r["done"] for r in results) == total, results
    assert all(r["done"] + r["already"] == total for r in results), results


# --------------------------------------------------------------------------- the world


def visited(settings: Settings, fail: list[bool]) -> list[int]:
    """A scheduled campaign; the first inspections of SNV-TT01's team visited on 29/04/2026, findings submitted,
    one failed item each where ``fail`` says so. Returns their ids."""
    create_scheduled_campaign(settings, code=CODE)
    ids = team_inspections(settings)[INSPECTOR][:len(fail)]
    for n, (inspection_id, failed) in enumerate(zip(ids, fail, strict=True)):
        visit(settings, inspection_id, on=VISIT, client_id=f"conc-{n:04d}", fails=None if failed else {})
    return ids


def approved(settings: Settings) -> list[int]:
    ids = visited(settings, [True] * (CASES - 1) + [False])
    for inspection_id in ids:
        with session_scope(settings) as session:
            logic.review_findings(session, lead(session), inspection_id, ReviewIn(decision="approve"))
    return ids


def amounts_set(settings: Settings) -> list[int]:
    """Records issued, and the competent official set the fines (decided 12/05/2026, the 7th working day after
    the record of 29/04: the last day the law allows) where there are violations."""
    ids = approved(settings)
    assert records.issue_records(settings, CODE, ids).done == CASES
    with_violations = [i for i in ids if rows(settings, Violation, Violation.inspection_id == i)]
    for inspection_id in with_violations:
        with session_scope(settings) as session:
            official = competent_official(session, inspection_id)
            found = session.exec(select(Violation).where(Violation.inspection_id == inspection_id)).all()
            amounts = {v.id: v.proposed_amount for v in found}
            decisions.record_decision(session, official, inspection_id, DecisionIn(amounts=amounts, decided_on=d(12, 5)))
    return with_violations


def sanctioned(settings: Settings) -> list[int]:
    ids = amounts_set(settings)
    assert sanctions.decide_sanctions(settings, CODE, ids).done == len(ids)
    return ids


# --------------------------------------------------------------------------- the stages


def test_selecting_twice_at_once_proposes_one_list(settings: Settings) -> None:
    create_world(settings, establishments=400)
    create_campaign(settings, code=CODE, quota=10)
    results = at_once(settings, "select")
    assert sorted(r["done"] for r in results) == [0, 10] and sorted(r["already"] for r in results) == [0, 10]
    picked = rows(settings, Selection)
    assert len(picked) == 10 and sorted(s.rank for s in picked) == list(range(1, 11))
    campaign = rows(settings, Campaign)[0]
    assert_once(status_changes(settings, "campaign"), {(campaign.id, "selected")})


def test_scheduling_twice_at_once_forms_the_teams_and_plans_the_visits_once(settings: Settings) -> None:
    create_world(settings, establishments=400)
    create_campaign(settings, code=CODE, quota=10)
    selection.select_establishments(settings, CODE)
    approve(settings, CODE)
    results = at_once(settings, "schedule")
    assert sorted(r["done"] for r in results) == [0, 10] and sorted(r["already"] for r in results) == [0, 10]
    teams = rows(settings, Team)
    assert sorted(t.number for t in teams) == [1, 2]
    assert len(rows(settings, Inspection)) == 10 and len({i.establishment_id for i in rows(settings, Inspection)}) == 10
    members = rows(settings, TeamMember)
    assert len({(m.team_id, m.person_id) for m in members}) == len(members)
    assert_once(actions(settings, "team_formed"), {t.id for t in teams})
    campaign = rows(settings, Campaign)[0]
    assert status_changes(settings, "campaign")[(campaign.id, "scheduled")] == 1

    # then the documents scheduling issues (decision to inspect, plans, notices) and their notifications
    at_once(settings, "schedule_documents")
    docs = assert_documents_gap_free(settings)
    assert len(docs) == 1 + len(teams) + 10, Counter(str(x.doc_type) for x in docs)
    assert_once(actions(settings, "document_issued"), {x.id for x in docs})
    notes = rows(settings, Notification)
    assert notes and len({n.idempotency_key for n in notes}) == len(notes)


def test_issuing_records_twice_at_once_numbers_each_record_once(settings: Settings) -> None:
    ids = approved(settings)
    results = at_once(settings, "records", ids)
    split(results, CASES)
    docs = assert_documents_gap_free(settings)
    kinds = Counter(str(x.doc_type) for x in docs)
    assert (kinds["minutes"], kinds["violation_record"]) == (CASES, CASES - 1), kinds
    violations = rows(settings, Violation)
    assert len(violations) == CASES - 1 and len({v.finding_id for v in violations}) == len(violations)
    changes = status_changes(settings, "inspection")
    assert_once(changes)
    assert {i for i, s in changes if s == "records_issued"} == set(ids)
    assert {i for i, s in changes if s == "closed"} == {ids[-1]}  # no violation: closed with its minutes
    assert_once(actions(settings, "document_issued"), {x.id for x in docs})


def test_deciding_twice_at_once_issues_each_decision_once(settings: Settings) -> None:
    ids = amounts_set(settings)
    before = {x.id for x in rows(settings, Document)}
    results = at_once(settings, "sanctions", ids)
    split(results, len(ids))
    docs = assert_documents_gap_free(settings)
    decisions = [x for x in docs if x.id not in before]
    assert sorted(x.inspection_id for x in decisions) == sorted(ids)
    assert {str(x.doc_type) for x in decisions} == {"sanction_decision"}
    assert_once(Counter(i for i, s in status_changes(settings, "inspection").elements() if s == "sanctioned"), set(ids))


def test_publishing_twice_at_once_publishes_and_queues_each_outcome_once(settings: Settings) -> None:
    ids = sanctioned(settings)
    results = at_once(settings, "publish", ids)
    split(results, len(ids))
    publications = rows(settings, Publication)
    assert len(publications) == len(ids)
    messages = rows(settings, PortalMessage)
    assert sorted(m.publication_id for m in messages) == sorted(p.id for p in publications)
    assert {str(m.event) for m in messages} == {"publish"}
    assert_once(Counter(i for i, s in status_changes(settings, "inspection").elements() if s == "closed"),
                set(ids) | {i for i in team_inspections(settings)[INSPECTOR][:CASES] if i not in ids})
    register = json.loads((publishing.write_register(settings) / "register.json").read_text(encoding="utf-8"))
    assert sorted(r["so_quyet_dinh"] for r in register) == sorted(p.payload["so_quyet_dinh"] for p in publications)


def test_two_sweepers_at_once_set_warn_and_escalate_each_deadline_once(settings: Settings) -> None:
    ids = visited(settings, [True] * CASES)
    created = at_once(settings, "sweep", VISIT)  # discovery: the deadlines are set, the record's warning is due
    assert sum(r["created"] for r in created) == 2 * CASES and sum(r["warned"] for r in created) == CASES, created
    escalated = at_once(settings, "sweep", d(6, 5))  # the record is overdue
    assert sum(r["escalated"] for r in escalated) == CASES and sum(r["created"] for r in escalated) == 0, escalated
    stored = rows(settings, Deadline)
    assert len(stored) == 2 * CASES and {x.inspection_id for x in stored} == set(ids)
    record_deadlines = {x.id for x in stored if str(x.kind) == "violation_record"}
    assert_once(actions(settings, "deadline_set"), {x.id for x in stored})
    assert_once(actions(settings, "deadline_warning"), record_deadlines)
    assert_once(actions(settings, "deadline_escalated"), record_deadlines)
    notes = rows(settings, Notification, Notification.kind.in_(["deadline_warning", "deadline_overdue"]))  # type: ignore[attr-defined]
    assert notes and len({n.idempotency_key for n in notes}) == len(notes)
    assert {n.subject[:26] for n in notes if n.kind == "deadline_overdue"} == {"Quá hạn từ ngày 06/05/2026"}


class SlowPortal:
    """The portal's side: answers after a while, counts every request per idempotency key."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        portal_ = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                key = self.headers["Idempotency-Key"]
                with portal_.lock:
                    portal_.requests[key] += 1
                    duplicate = portal_.requests[key] > 1
                time.sleep(PORTAL_DELAY_S)
                data = json.dumps({"id": f"P-{key}", "duplicate": duplicate}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        return Handler


@pytest.fixture
def slow_portal() -> Iterator[tuple[SlowPortal, str]]:
    from tests.http_support import serve

    p = SlowPortal()
    with serve(p.handler()) as url:
        yield p, url


def test_two_portal_deliveries_at_once_send_each_message_once(settings: Settings,
                                                              slow_portal: tuple[SlowPortal, str]) -> None:
    p, url = slow_portal
    for inspection_id in sanctioned(settings):
        assert publishing.publish_for_inspection(settings, inspection_id) == Outcome.PUBLISHED
    queued = rows(settings, PortalMessage)
    assert len(queued) == CASES - 1
    results = at_once(settings, "portal", url)
    assert sum(r["delivered"] for r in results) == len(queued) and not any(r["dead"] or r["retrying"] for r in results)
    assert dict(p.requests) == {m.idempotency_key: 1 for m in queued}, "a message was sent by both workers"
    stored = rows(settings, PortalMessage)
    assert [(m.status, m.attempts) for m in stored] == [(PortalStatus.DELIVERED, 1)] * len(queued)
    assert_once(actions(settings, "portal_delivered"), {m.id for m in queued})
    # nothing is left for a third run
    with httpx.Client(base_url=url, timeout=10) as http:
        assert portal.deliver_pending(settings, PortalClient(http, PORTAL_SECRET)).delivered == 0
    assert sum(p.requests.values()) == len(queued)

