"""What the intake API does before it reads a body (services/entry/http/limits.py), over real sockets on the real app.

A raw socket sends the request line and headers and only part of the body (or never ends a chunked one): an answer
that arrives then was given without reading the body. Before the middleware the same requests waited for bodies
that never came (the tests here time out), and a 20 MB nested body held the event loop, /api/health with it.
"""
from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import annotated_types
import httpx
import pytest

from services.intake import schemas
from services.entry.http.limits import KIB, MAX_DEPTH, MIB, limit_for
from services.entry.http.selection_api import ApproveIn, ChangeIn
from services.entry.http.server import start_in_thread
from services.settings import Settings
from tests.conftest import Worlds
from tests.factories import create_scheduled_campaign, team_inspections
from tests.integration.test_intake_api import stored

CAMPAIGN = "LIMITS-01"
ANSWER_WITHIN_S = 5.0  # what the raw sockets wait for an answer (the server answers in milliseconds)


@dataclass
class Api:
    settings: Settings
    url: str
    http: httpx.Client
    tokens: dict[str, str]
    mine: int  # an inspection of SNV-TT01's team

    def auth(self, who: str = "SNV-TT01") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def api(settings: Settings, worlds: Worlds) -> Iterator[Api]:
    tokens = worlds.copy(settings, create_scheduled_campaign, code=CAMPAIGN)
    mine = team_inspections(settings)["SNV-TT01"][0]
    server = start_in_thread(settings)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield Api(settings, server.url, http, tokens, mine)
    finally:
        server.stop()


# --------------------------------------------------------------------------- a raw HTTP/1.1 client


def send_head(api: Api, method: str, path: str, headers: dict[str, str]) -> socket.socket:
    """A socket with the request line and headers sent; the caller sends (some of) the body."""
    parts = urlsplit(api.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=ANSWER_WITHIN_S)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    sock.sendall("\r\n".join(lines).encode())
    return sock


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    closed: bool | None  # the server closed the connection after answering (None: not waited for)


def read_answer(sock: socket.socket, *, see_if_closed: bool = True) -> Answer:
    """One response (Content-Length framed), then whether the server closed the connection (finding out that a kept-alive
    connection stays open takes the socket's whole timeout, so a caller who does not ask skips it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection without answering"
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(rest) < int(headers["content-length"]):
        chunk = sock.recv(65536)
        assert chunk, "the answer was cut short"
        rest += chunk
    if not see_if_closed:
        return Answer(int(lines[0].split(" ", 2)[1]), headers, json.loads(rest), None)
    try:
        closed = sock.recv(1) == b""
    except ConnectionResetError:
        closed = True
    except TimeoutError:
        closed = False
    return Answer(int(lines[0].split(" ", 2)[1]), headers, json.loads(rest), closed)


def send_until_answered(sock: socket.socket, chunks: Iterator[bytes]) -> int:
    """Send ``chunks`` until the server answers (or stops reading); returns how many body bytes were sent."""
    sent = 0
    for chunk in chunks:
        if select.select([sock], [], [], 0)[0]:
            break
        try:
            sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += len(chunk)
    return sent


def nested_arrays(depth: int, total: int) -> bytes:
    """About ``total`` bytes of arrays nested ``depth`` deep, side by side in one array (valid JSON)."""
    one = b"[" * depth + b"]" * depth
    return b"[" + b",".join([one] * max(1, total // (len(one) + 1))) + b"]"


# --------------------------------------------------------------------------- identity before body


def writes(api: Api) -> list[tuple[str, str]]:
    return [("POST", f"/api/inspections/{api.mine}/findings"), ("POST", f"/api/inspections/{api.mine}/review"),
            ("POST", f"/api/inspections/{api.mine}/decision"), ("POST", f"/api/campaigns/{CAMPAIGN}/selection/changes"),
            ("POST", f"/api/campaigns/{CAMPAIGN}/selection/approve"),
            ("PUT", f"/api/submissions/bat-ky-0001/attachments/{'a' * 64}")]


def test_a_write_without_a_good_token_is_refused_before_its_100_mb_body_is_read(api: Api) -> None:
    """The 401 comes after the headers and a 64 KiB prefix of a body announced as 100 MB, in the words of the
    token check every route has, and the connection is closed: the rest of the body is never read."""
    expected = {kind: api.http.get("/api/inspections", headers=headers).json()["detail"]
                for kind, headers in (("missing", {}), ("bad", {"Authorization": "Bearer khong-phai-ma-that"}))}
    assert expected == {"missing": "Thiếu mã truy cập (Authorization: Bearer …).",
                        "bad": "Mã truy cập không hợp lệ, đã hết hạn hoặc đã bị thu hồi."}
    before = stored(api.settings)
    for method, path in writes(api):
        for kind, headers in (("missing", {}), ("bad", {"Authorization": "Bearer khong-phai-ma-that"}),
                              ("not bearer", {"Authorization": f"Basic {api.tokens['SNV-TT01']}"})):
            sock = send_head(api, method, path, {**headers, "Content-Type": "application/json",
                                                 "Content-Length": str(100 * MIB)})
            with sock:
                sock.sendall(b"[" * (64 * KIB))
                answer = read_answer(sock)
            assert answer.status == 401, (path, kind)
            assert answer.body == {"detail": expected["bad" if kind == "bad" else "missing"], "errors": []}, (path, kind)
            assert answer.headers["connection"] == "close" and answer.closed, (path, kind)
    assert stored(api.settings) == before
    # a good token still reaches the route (which then judges the body)
    ok = api.http.post(f"/api/inspections/{api.mine}/review", headers=api.auth("SNV-LEAD"), json={"decision": "maybe"})
    assert ok.status_code == 422, ok.text


# --------------------------------------------------------------------------- size limits


@pytest.mark.parametrize(("route", "limit"), [("findings", 1 * MIB), ("review", 64 * KIB), ("decision", 1 * MIB)])
def test_an_announced_length_over_the_route_limit_is_refused_before_reading(api: Api, route: str, limit: int) -> None:
    before = stored(api.settings)
    sock = send_head(api, "POST", f"/api/inspections/{api.mine}/{route}",
                     {**api.auth("SNV-LEAD"), "Content-Type": "application/json", "Content-Length": str(limit + 1)})
    with sock:
        sock.sendall(b"{" + b" " * (16 * KIB))
        answer = read_answer(sock)
    assert answer.status == 413
    assert answer.body == {"detail": f"Dữ liệu gửi lên vượt quá giới hạn {limit:,} byte của yêu cầu này.", "errors": []}
    assert answer.headers["connection"] == "close" and answer.closed
    assert stored(api.settings) == before


def test_a_chunked_body_is_counted_and_cut_at_the_limit(api: Api) -> None:
    """No length announced: the body is counted as it arrives and refused once past 1 MiB; the client, which had
    1 GiB to send, is stopped once the kernel's socket buffers are full (a few MiB on loopback)."""
    before = stored(api.settings)
    sock = send_head(api, "POST", f"/api/inspections/{api.mine}/findings",
                     {**api.auth(), "Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    piece = b"a" * (64 * KIB)
    endless = (b'{"findings": "' if i == 0 else piece for i in range(16 * KIB))
    with sock:
        sent = send_until_answered(sock, (f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in endless))
        answer = read_answer(sock)
    assert answer.status == 413
    assert answer.body["detail"] == f"Dữ liệu gửi lên vượt quá giới hạn {MIB:,} byte của yêu cầu này."
    assert answer.closed
    assert sent < 64 * MIB, sent
    assert stored(api.settings) == before


def test_an_upload_keeps_the_evidence_limit_and_its_message(api: Api) -> None:
    limit = api.settings.evidence_max_bytes
    sock = send_head(api, "PUT", f"/api/submissions/bat-ky-0001/attachments/{'a' * 64}",
                     {**api.auth(), "Content-Type": "image/jpeg", "Content-Length": str(limit + 1)})
    with sock:
        answer = read_answer(sock)
    assert (answer.status, answer.body["detail"]) == (413, f"Tệp vượt quá dung lượng tối đa {limit:,} byte.")


# --------------------------------------------------------------------------- nesting


def findings_nested(depth: int) -> bytes:
    """A submission whose findings list holds a value nested so that the body is ``depth`` deep."""
    inner = "[" * (depth - 2) + "]" * (depth - 2)
    return f'{{"client_submission_id": "long-nesting-0001", "findings": [{inner}]}}'.encode()


def test_a_body_nested_deeper_than_the_limit_is_refused_naming_body(api: Api) -> None:
    before = stored(api.settings)
    deep = api.http.post(f"/api/inspections/{api.mine}/findings", headers={**api.auth(), "Content-Type": "application/json"},
                         content=findings_nested(MAX_DEPTH + 1))
    assert deep.status_code == 422, deep.text
    assert deep.json() == {"detail": "Dữ liệu gửi lên không hợp lệ.",
                           "errors": [f"body: dữ liệu JSON lồng nhau quá {MAX_DEPTH} cấp"]}
    # as deep as allowed: the body reaches the model, which says what is wrong with it
    allowed = api.http.post(f"/api/inspections/{api.mine}/findings", headers={**api.auth(), "Content-Type": "application/json"},
                            content=findings_nested(MAX_DEPTH))
    assert allowed.status_code == 422 and allowed.json()["errors"][0].startswith("findings[0]"), allowed.text
    assert stored(api.settings) == before


def test_nested_floods_leave_the_event_loop_free(api: Api) -> None:
    """While a 20 MB body of arrays nested 500 deep (what took the loop 2.9 s) and 1 MiB bodies nested past the limit
    keep coming with a good token, /api/health answers within 2 s every time (~0.1 s here on an idle machine; the bound
    leaves room for a loaded CI machine and still catches a loop blocked for the 2.9 s one such body took). The bodies keep
    coming (at least 3 and 10 + 10 of them) until /api/health has been asked 20 times."""
    path = f"/api/inspections/{api.mine}/findings"
    big = nested_arrays(500, 20 * MIB)
    near_limit = nested_arrays(MAX_DEPTH + 1, MIB - 64)
    answers: dict[str, list[int]] = {"big": [], "near limit": []}
    health: list[float] = []
    stop = threading.Event()
    give_up = time.monotonic() + 60

    def attack(kind: str, body: bytes, times: int) -> None:
        sent = 0
        while sent < times or (len(health) < 20 and poller.is_alive() and time.monotonic() < give_up):
            sock = send_head(api, "POST", path, {**api.auth(), "Content-Type": "application/json",
                                                 "Content-Length": str(len(body))})
            with sock:
                send_until_answered(sock, (body[i:i + 256 * KIB] for i in range(0, len(body), 256 * KIB)))
                answers[kind].append(read_answer(sock, see_if_closed=False).status)
            sent += 1

    attackers = [threading.Thread(target=attack, args=("big", big, 3)),
                 *(threading.Thread(target=attack, args=("near limit", near_limit, 10)) for _ in range(2))]

    def poll() -> None:
        with httpx.Client(base_url=api.url, timeout=30) as client:
            while not stop.is_set():
                start = time.perf_counter()
                assert client.get("/api/health").status_code == 200
                health.append(time.perf_counter() - start)
                time.sleep(0.01)

    poller = threading.Thread(target=poll)
    poller.start()
    for t in attackers:
        t.start()
    for t in attackers:
        t.join()
    stop.set()
    poller.join()
    assert len(answers["big"]) >= 3 and set(answers["big"]) == {413}, answers
    assert len(answers["near limit"]) >= 20 and set(answers["near limit"]) == {422}, answers
    assert len(health) >= 20 and max(health) < 2.0, f"slowest /api/health: {max(health):.3f} s"


# --------------------------------------------------------------------------- the limits and the largest real bodies


def max_length(model: Any, name: str) -> int:
    """A field's max_length as the schema declares it (so these bodies grow when the schema does)."""
    return next(m.max_length for m in model.model_fields[name].metadata if isinstance(m, annotated_types.MaxLen))


def escaped(n: int) -> str:
    """n characters that JSON sends as \\uXXXX each (6 bytes), as Python's json.dumps does by default."""
    return "ệ" * n


def largest_submission(checklist: list[dict[str, Any]], client_id: str) -> dict[str, Any]:
    note, name = max_length(schemas.FindingIn, "note"), max_length(schemas.AttachmentDecl, "name")
    attachments = [{"name": escaped(name - 4) + ".jpg", "sha256": f"{i:064x}", "size": 1000, "content_type": "image/jpeg"}
                   for i in range(max_length(schemas.FindingsSubmission, "attachments"))]
    return {"client_submission_id": client_id, "reason": escaped(max_length(schemas.FindingsSubmission, "reason")),
            "findings": [{"item_code": i["code"], "result": "pass", "note": escaped(note)} for i in checklist],
            "attachments": attachments}


def test_the_largest_legitimate_submission_fits_and_one_byte_past_the_limit_does_not(api: Api) -> None:
    checklist = api.http.get(f"/api/inspections/{api.mine}", headers=api.auth()).json()["checklist"]
    assert len(checklist) == 30
    body = json.dumps(largest_submission(checklist, "largest-0001")).encode()
    limit = MIB
    assert 400 * KIB < len(body) < limit // 2 + 64 * KIB  # the margin the table's comment claims (~2×)
    headers = {**api.auth(), "Content-Type": "application/json"}
    path = f"/api/inspections/{api.mine}/findings"

    first = api.http.post(path, headers=headers, content=body)
    assert first.status_code == 201, first.text
    at_limit = api.http.post(path, headers=headers, content=body + b" " * (limit - len(body)))
    assert at_limit.status_code == 200, at_limit.text  # the same submission again: its receipt
    over = api.http.post(path, headers=headers, content=body + b" " * (limit - len(body) + 1))
    assert over.status_code == 413, over.text


def test_every_other_route_limit_holds_its_largest_body_twice() -> None:
    """The other rows of the table against their routes' largest bodies, texts at the schemas' maxima, escaped."""
    review = {"decision": "return", "comment": escaped(max_length(schemas.ReviewIn, "comment"))}
    acts = range(10**9, 10**9 + 30)  # 30 acts (one per checklist item), ids of ten digits
    decision = {"decided_on": "2026-12-31", "amounts": {str(a): 2 * 10**9 for a in acts},
                "circumstances": {str(a): {"mitigating": ["XLVPHC-9-1-a"] * 20, "aggravating": ["XLVPHC-10-1-a"] * 20}
                                  for a in acts},
                "reasons": {str(a): escaped(2000) for a in acts},
                "referral_reason": escaped(max_length(schemas.DecisionIn, "referral_reason"))}
    changes = {side: [{"tax_code": "0" * max_length(ChangeIn, "tax_code"), "reason": escaped(100)}] * 500
               for side in ("add", "remove")}
    approve = {"note": escaped(max_length(ApproveIn, "note"))}
    for path, body in (("/api/inspections/1/review", review), ("/api/inspections/1/decision", decision),
                       ("/api/campaigns/X/selection/changes", changes), ("/api/campaigns/X/selection/approve", approve)):
        rule = limit_for(path)
        assert rule is not None, path
        assert 2 * len(json.dumps(body).encode()) < rule.max_bytes(Settings(environment="test")), path
