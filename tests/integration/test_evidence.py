"""Uploading the photos and scans a findings submission declared: the real app on loopback, over HTTP.

Set-up per test as in ``test_intake_api.py`` (a synthetic province, a campaign scheduled by the real stages),
with a small upload limit so an oversize file stays small. Interrupted uploads use a raw socket: a body
shorter than its Content-Length, then the socket closed.
"""
from __future__ import annotations

import hashlib
import socket
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlmodel import select

from models import Attachment, AuditEvent, Inspection, Submission
from services.db import session_scope
from services.entry.http.server import start_in_thread
from services.settings import Settings
from tests.conftest import make_settings, Worlds
from tests.factories import count, create_scheduled_campaign, team_inspections

CAMPAIGN = "TEST-EV"
MAX_BYTES = 64 * 1024
JPEG, PNG, PDF = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", b"\x89PNG\r\n\x1a\n", b"%PDF-1.7\n"


@dataclass(frozen=True)
class Blob:
    name: str
    data: bytes
    content_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def decl(self, **override: Any) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "size": len(self.data), "content_type": self.content_type,
                **override}


def blob(name: str, magic: bytes, content_type: str, size: int, seed: str) -> Blob:
    filler = b"".join(hashlib.sha256(f"{seed}{i}".encode()).digest() for i in range(size // 32 + 1))
    return Blob(name, (magic + filler)[:size], content_type)


PHOTO = blob("anh-hien-truong.jpg", JPEG, "image/jpeg", 40_000, "photo")
SCAN = blob("so-theo-doi.pdf", PDF, "application/pdf", 9_000, "scan")


@dataclass
class Desk:
    settings: Settings
    url: str
    http: httpx.Client
    tokens: dict[str, str]
    mine: int  # an inspection of SNV-TT01's team (SYT-CV01 is on it too)
    theirs: int  # an inspection of the other team (SNV-TT02)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def submit(self, client_id: str, files: list[dict[str, Any]], *, who: str = "SNV-TT01",
               inspection_id: int | None = None) -> dict[str, Any]:
        inspection_id = inspection_id or self.mine
        checklist = self.http.get(f"/api/inspections/{inspection_id}", headers=self.auth(who)).json()["checklist"]
        body = {"client_submission_id": client_id, "attachments": files,
                "findings": [{"item_code": item["code"], "result": "pass"} for item in checklist]}
        response = self.http.post(f"/api/inspections/{inspection_id}/findings", headers=self.auth(who), json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def put(self, client_id: str, sha256: str, content: Any, content_type: str, *, who: str = "SNV-TT01") -> httpx.Response:
        return self.http.put(f"/api/submissions/{client_id}/attachments/{sha256}", content=content,
                             headers={**self.auth(who), "Content-Type": content_type})

    def upload(self, client_id: str, b: Blob, *, who: str = "SNV-TT01") -> httpx.Response:
        return self.put(client_id, b.sha256, b.data, b.content_type, who=who)

    def status(self, client_id: str, *, who: str = "SNV-TT01") -> httpx.Response:
        return self.http.get(f"/api/submissions/{client_id}", headers=self.auth(who))

    def inspection_status(self, inspection_id: int) -> str:
        return str(self.http.get(f"/api/inspections/{inspection_id}", headers=self.auth("SNV-LEAD")).json()["status"])


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None, migrated: Callable[[Settings], Settings]) -> Iterator[Settings]:
    yield migrated(make_settings(tmp_path / "data", database_url=database_url, evidence_max_bytes=MAX_BYTES))


@pytest.fixture
def desk(settings: Settings, worlds: Worlds) -> Iterator[Desk]:
    tokens = worlds.copy(settings, create_scheduled_campaign, code=CAMPAIGN)
    by_person = team_inspections(settings)
    server = start_in_thread(settings)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield Desk(settings, server.url, http, tokens, by_person["SNV-TT01"][0], by_person["SNV-TT02"][0])
    finally:
        server.stop()


# --------------------------------------------------------------------------- what the store and the database hold


def blob_path(settings: Settings, sha256: str) -> Path:
    return settings.evidence_path / sha256[:2] / sha256[2:4] / sha256


def files_under(root: Path) -> set[str]:
    """Every file below root except the database's own (which change with every request)."""
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and not p.name.startswith("kiemtra.db")}


def stored(settings: Settings) -> dict[str, Any]:
    """What a refused upload must leave untouched."""
    with session_scope(settings) as session:
        return {
            "attachments": sorted(session.exec(select(Attachment.sha256, Attachment.received, Attachment.received_at)).all()),
            "complete": dict(session.exec(select(Submission.client_submission_id, Submission.complete)).all()),
            "statuses": dict(session.exec(select(Inspection.id, Inspection.status)).all()),
            "audit": count(session, AuditEvent),
            "files": files_under(settings.evidence_path) if settings.evidence_path.exists() else set(),
        }


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Wait for something another thread (the server) does; fail with ``what`` if it never happens."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def temp_files(settings: Settings) -> list[Path]:
    tmp = settings.evidence_path / ".tmp"
    return list(tmp.iterdir()) if tmp.exists() else []


def raw_connection(desk: Desk, method: str, path: str, headers: dict[str, str]) -> socket.socket:
    """A socket with the request line and headers sent; the caller sends (some of) the body."""
    parts = urlsplit(desk.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    sock.sendall("\r\n".join(lines).encode())
    return sock


def read_status(sock: socket.socket) -> int:
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, "the server closed the connection without answering"
        head += chunk
    return int(head.split(b" ", 2)[1])


# --------------------------------------------------------------------------- the path of a normal upload


def test_the_last_declared_file_completes_the_submission_and_moves_the_inspection_on(desk: Desk) -> None:
    receipt = desk.submit("tt01-ev-0001", [PHOTO.decl(), SCAN.decl()])
    assert (receipt["complete"], receipt["missing_attachments"]) == (False, sorted([PHOTO.sha256, SCAN.sha256]))
    assert desk.inspection_status(desk.mine) == "scheduled"  # incomplete findings do not move it on
    status = desk.status("tt01-ev-0001").json()
    assert status["complete"] is False and set(status["missing"]) == {PHOTO.sha256, SCAN.sha256}
    assert [(a["name"], a["received"]) for a in status["attachments"]] == [(PHOTO.name, False), (SCAN.name, False)]

    first = desk.upload("tt01-ev-0001", PHOTO)
    assert first.status_code == 201, first.text
    assert first.json() | {"received_at": None} == {**PHOTO.decl(), "received": True, "received_at": None}
    assert desk.status("tt01-ev-0001").json()["missing"] == [SCAN.sha256]
    assert desk.inspection_status(desk.mine) == "scheduled"

    last = desk.upload("tt01-ev-0001", SCAN, who="SYT-CV01")  # any inspector of the team may send it
    assert last.status_code == 201, last.text
    status = desk.status("tt01-ev-0001").json()
    assert status["complete"] is True and status["missing"] == []
    assert all(a["received"] and a["received_at"] for a in status["attachments"])
    assert desk.inspection_status(desk.mine) == "findings_submitted"
    assert blob_path(desk.settings, PHOTO.sha256).read_bytes() == PHOTO.data
    assert blob_path(desk.settings, SCAN.sha256).read_bytes() == SCAN.data
    assert files_under(desk.settings.evidence_path) == {str(blob_path(desk.settings, b.sha256).relative_to(
        desk.settings.evidence_path)) for b in (PHOTO, SCAN)}
    with session_scope(desk.settings) as session:
        actions = session.exec(select(AuditEvent.actor, AuditEvent.action).where(
            AuditEvent.action == "attachment_received").order_by(AuditEvent.id)).all()
    assert actions == [("SNV-TT01", "attachment_received"), ("SYT-CV01", "attachment_received")]


def test_a_file_arriving_after_its_version_was_replaced_completes_nothing(desk: Desk) -> None:
    """The photo of version 1 was still uploading when version 2 (no photo) was sent and approved by the lead."""
    from services.intake import evidence
    from tests.cases import person_by_code

    desk.submit("tt01-ev-late-1", [PHOTO.decl()])
    with session_scope(desk.settings) as session:  # the upload began: its declaration was checked then
        declared = evidence.find_declared(session, person_by_code(session, "SNV-TT01"), "tt01-ev-late-1", PHOTO.sha256)
    checklist = desk.http.get(f"/api/inspections/{desk.mine}", headers=desk.auth("SNV-TT01")).json()["checklist"]
    edit = {"client_submission_id": "tt01-ev-late-2", "reason": "Ảnh chụp nhầm cơ sở, gửi lại không kèm ảnh",
            "findings": [{"item_code": i["code"], "result": "pass"} for i in checklist]}
    assert desk.http.post(f"/api/inspections/{desk.mine}/findings", headers=desk.auth("SNV-TT01"), json=edit).status_code == 201
    approved = desk.http.post(f"/api/inspections/{desk.mine}/review", headers=desk.auth("SNV-LEAD"), json={"decision": "approve"})
    assert approved.status_code == 201, approved.text

    with session_scope(desk.settings) as session:  # ... and now the old version's photo lands
        attachment, new = evidence.mark_received(session, person_by_code(session, "SNV-TT01"), declared)
    assert new and attachment.received
    assert desk.inspection_status(desk.mine) == "findings_approved"  # not sent back to the lead, no error
    assert desk.status("tt01-ev-late-1").json()["complete"] is False


def test_an_identical_re_upload_answers_the_same_and_changes_nothing(desk: Desk) -> None:
    desk.submit("tt01-ev-0002", [PHOTO.decl(), SCAN.decl()])
    first = desk.upload("tt01-ev-0002", PHOTO)
    assert first.status_code == 201, first.text
    before, inode = stored(desk.settings), blob_path(desk.settings, PHOTO.sha256).stat().st_ino

    again = desk.upload("tt01-ev-0002", PHOTO)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert stored(desk.settings) == before
    assert blob_path(desk.settings, PHOTO.sha256).stat().st_ino == inode  # the blob was kept, not replaced

    # the same bytes under another declaration (a later version, another inspection) reuse the blob
    theirs = desk.submit("tt02-ev-0002", [PHOTO.decl(name="cung-anh.jpg")], who="SNV-TT02", inspection_id=desk.theirs)
    assert theirs["complete"] is False
    assert desk.upload("tt02-ev-0002", PHOTO, who="SNV-TT02").status_code == 201
    assert blob_path(desk.settings, PHOTO.sha256).stat().st_ino == inode
    assert desk.inspection_status(desk.theirs) == "findings_submitted"


def test_an_upload_cut_off_half_way_stores_nothing_and_a_retry_completes(desk: Desk) -> None:
    desk.submit("tt01-ev-0003", [PHOTO.decl()])
    before = stored(desk.settings)

    sock = raw_connection(desk, "PUT", f"/api/submissions/tt01-ev-0003/attachments/{PHOTO.sha256}",
                          {**desk.auth("SNV-TT01"), "Content-Type": "image/jpeg", "Content-Length": str(len(PHOTO.data))})
    sock.sendall(PHOTO.data[: len(PHOTO.data) // 2])
    wait_for(lambda: bool(temp_files(desk.settings)), "the server never started writing the upload")
    sock.close()  # the device lost its connection
    wait_for(lambda: not temp_files(desk.settings), "the half-written temp file was not removed")

    assert stored(desk.settings) == before
    assert not blob_path(desk.settings, PHOTO.sha256).exists()
    status = desk.status("tt01-ev-0003").json()
    assert (status["complete"], status["missing"]) == (False, [PHOTO.sha256])
    assert desk.inspection_status(desk.mine) == "scheduled"

    retry = desk.upload("tt01-ev-0003", PHOTO)
    assert retry.status_code == 201, retry.text
    assert desk.status("tt01-ev-0003").json()["complete"] is True
    assert desk.inspection_status(desk.mine) == "findings_submitted"
    assert blob_path(desk.settings, PHOTO.sha256).read_bytes() == PHOTO.data
    assert temp_files(desk.settings) == []


# --------------------------------------------------------------------------- refusals: the right answer, nothing stored

OTHER = blob("khac.jpg", JPEG, "image/jpeg", len(PHOTO.data), "other")  # same size as PHOTO, other bytes
BIG = blob("qua-lon.jpg", JPEG, "image/jpeg", MAX_BYTES + 1, "big")
PAGE = blob("trang.html", b"<html>", "text/html", 500, "page")
NOT_A_JPEG = Blob("gia.jpg", SCAN.data, "image/jpeg")  # a PDF declared as a photo
DECLARED = [PHOTO, NOT_A_JPEG]
# declared while the limits were wider (a later settings change): the upload must still be refused
DECLARED_BEFORE_THE_LIMITS = [BIG, PAGE]


def declare_before_the_limits(settings: Settings, client_id: str, blobs: list[Blob]) -> None:
    with session_scope(settings) as session:
        submission = session.exec(select(Submission).where(Submission.client_submission_id == client_id)).one()
        for b in blobs:
            session.add(Attachment(submission_id=submission.id, name=b.name, sha256=b.sha256, size=len(b.data),
                                   content_type=b.content_type))


def _chunks(data: bytes) -> Iterator[bytes]:  # a body without Content-Length (chunked)
    yield from (data[i:i + 8192] for i in range(0, len(data), 8192))


# case → (who, client id, sha256 in the path, body, Content-Type, status, detail)
REFUSALS: dict[str, tuple[str, str, str, Any, str, int, str]] = {
    "wrong hash": ("SNV-TT01", "tt01-ev-bad", PHOTO.sha256, OTHER.data, "image/jpeg", 422,
                   f"Mã SHA-256 của tệp nhận được ({OTHER.sha256}) khác mã đã khai báo ({PHOTO.sha256})."),
    "longer than declared": ("SNV-TT01", "tt01-ev-bad", PHOTO.sha256, PHOTO.data + b"x", "image/jpeg", 422,
                             f"Kích thước tệp gửi lên ({len(PHOTO.data) + 1:,} byte) khác kích thước đã khai báo "
                             f"({len(PHOTO.data):,} byte)."),
    "shorter than declared, chunked": ("SNV-TT01", "tt01-ev-bad", PHOTO.sha256, _chunks(PHOTO.data[:-1]), "image/jpeg", 422,
                                       f"Kích thước tệp nhận được ({len(PHOTO.data) - 1:,} byte) khác kích thước đã khai "
                                       f"báo ({len(PHOTO.data):,} byte)."),
    "longer than declared, chunked": ("SNV-TT01", "tt01-ev-bad", PHOTO.sha256, _chunks(PHOTO.data + b"x" * 9000),
                                      "image/jpeg", 422, f"Kích thước tệp nhận được (hơn {len(PHOTO.data):,} byte) khác "
                                      f"kích thước đã khai báo ({len(PHOTO.data):,} byte)."),
    "another type than declared": ("SNV-TT01", "tt01-ev-bad", PHOTO.sha256, PHOTO.data, "image/png", 415,
                                   "Loại tệp gửi lên ('image/png') khác loại đã khai báo ('image/jpeg')."),
    "a type not accepted": ("SNV-TT01", "tt01-ev-bad", PAGE.sha256, PAGE.data, "text/html", 415,
                            "Loại tệp 'text/html' không được chấp nhận (chỉ nhận: image/jpeg, image/png, application/pdf)."),
    "no type": ("SNV-TT01", "tt01-ev-bad", PHOTO.sha256, PHOTO.data, "", 415,
                "Loại tệp '(không có)' không được chấp nhận (chỉ nhận: image/jpeg, image/png, application/pdf)."),
    "content not of the declared type": ("SNV-TT01", "tt01-ev-bad", NOT_A_JPEG.sha256, NOT_A_JPEG.data, "image/jpeg", 415,
                                         "Nội dung tệp không phải là image/jpeg như đã khai báo."),
    "oversize": ("SNV-TT01", "tt01-ev-bad", BIG.sha256, BIG.data, "image/jpeg", 413,
                 f"Tệp vượt quá dung lượng tối đa {MAX_BYTES:,} byte."),
    "oversize, chunked": ("SNV-TT01", "tt01-ev-bad", BIG.sha256, _chunks(BIG.data), "image/jpeg", 413,
                          f"Tệp vượt quá dung lượng tối đa {MAX_BYTES:,} byte."),
    "undeclared hash": ("SNV-TT01", "tt01-ev-bad", OTHER.sha256, OTHER.data, "image/jpeg", 404,
                        f"Lần gửi 'tt01-ev-bad' không khai báo tệp có mã SHA-256 {OTHER.sha256}."),
    "unknown submission": ("SNV-TT01", "khong-co-0001", PHOTO.sha256, PHOTO.data, "image/jpeg", 404,
                           "Không tìm thấy lần gửi kết quả 'khong-co-0001'."),
    "another team's inspector": ("SNV-TT02", "tt01-ev-bad", PHOTO.sha256, PHOTO.data, "image/jpeg", 404,
                                 "Không tìm thấy lần gửi kết quả 'tt01-ev-bad'."),
    "not an inspector": ("SNV-LEAD", "tt01-ev-bad", PHOTO.sha256, PHOTO.data, "image/jpeg", 403,
                         "Chỉ thành viên đoàn kiểm tra mới được gửi tệp đính kèm."),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_a_refused_upload_gets_the_right_answer_and_stores_nothing(desk: Desk, case: str) -> None:
    desk.submit("tt01-ev-bad", [b.decl() for b in DECLARED])
    declare_before_the_limits(desk.settings, "tt01-ev-bad", DECLARED_BEFORE_THE_LIMITS)
    before = stored(desk.settings)
    who, client_id, sha256, content, content_type, status, detail = REFUSALS[case]

    response = desk.put(client_id, sha256, content, content_type, who=who)

    assert response.status_code == status, response.text
    assert response.json()["detail"] == detail
    assert stored(desk.settings) == before
    assert not blob_path(desk.settings, sha256).exists()
    assert temp_files(desk.settings) == []


def test_a_file_the_store_would_refuse_cannot_be_declared(desk: Desk) -> None:
    """A declaration the store could never honour would leave the version incomplete for ever: refused at once."""
    before = stored(desk.settings)
    checklist = desk.http.get(f"/api/inspections/{desk.mine}", headers=desk.auth("SNV-TT01")).json()["checklist"]
    body = {"client_submission_id": "tt01-ev-decl", "findings": [{"item_code": i["code"], "result": "pass"} for i in checklist],
            "attachments": [PHOTO.decl(), PHOTO.decl(name="lan-nua.jpg"), BIG.decl(), PAGE.decl()]}
    response = desk.http.post(f"/api/inspections/{desk.mine}/findings", headers=desk.auth("SNV-TT01"), json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        "attachments[1].sha256: tệp 'lan-nua.jpg' đã được khai báo ở trên (trùng mã SHA-256)",
        f"attachments[2].size: {len(BIG.data):,} byte, vượt quá dung lượng tối đa {MAX_BYTES:,} byte",
        "attachments[3].content_type: loại tệp 'text/html' không được nhận (chỉ nhận: image/jpeg, image/png, application/pdf)"]
    assert stored(desk.settings) == before


def test_an_oversize_upload_is_refused_before_the_body_ends(desk: Desk) -> None:
    desk.submit("tt01-ev-big", [PHOTO.decl()])
    declare_before_the_limits(desk.settings, "tt01-ev-big", [BIG])
    before = stored(desk.settings)
    sock = raw_connection(desk, "PUT", f"/api/submissions/tt01-ev-big/attachments/{BIG.sha256}",
                          {**desk.auth("SNV-TT01"), "Content-Type": "image/jpeg", "Transfer-Encoding": "chunked"})
    with sock:
        sock.sendall(f"{len(BIG.data):x}\r\n".encode() + BIG.data + b"\r\n")  # the terminating chunk never comes
        assert read_status(sock) == 413
    assert stored(desk.settings) == before


def test_a_malformed_hash_in_the_path_never_reaches_the_store(desk: Desk) -> None:
    desk.submit("tt01-ev-path", [PHOTO.decl()])
    before = stored(desk.settings)
    for sha256 in ("." * 64, "%2E%2E%2F" * 7 + "a", PHOTO.sha256[:63] + "g"):
        response = desk.put("tt01-ev-path", sha256, PHOTO.data, "image/jpeg")
        assert response.status_code in (404, 422), (sha256, response.text)
    assert stored(desk.settings) == before


def test_path_tricks_in_declared_names_stay_metadata(desk: Desk, tmp_path: Path) -> None:
    tricks = ["../../../../etc/passwd", "..\\..\\Windows\\System32\\evil.jpg", "/tmp/tuyet-doi.png", "..",
              "anh\u202egpj.exe", "\x00\x1b[31mdo.jpg", "a\u0309nh-to\u0301m-ta\u0306t.jpg", ".an.jpg"]
    files = [blob(name, JPEG, "image/jpeg", 1000 + i, f"trick{i}") for i, name in enumerate(tricks)]
    before = files_under(tmp_path)
    desk.submit("tt01-ev-names", [b.decl() for b in files])

    for b in files:
        assert desk.upload("tt01-ev-names", b).status_code == 201
    status = desk.status("tt01-ev-names").json()
    assert status["complete"] is True

    names = [a["name"] for a in status["attachments"]]
    with session_scope(desk.settings) as session:
        assert sorted(session.exec(select(Attachment.name)).all()) == sorted(names)  # stored as shown
    for name in names:
        assert name and "/" not in name and "\\" not in name and not name.startswith(".")
        assert unicodedata.is_normalized("NFC", name)
        assert all(unicodedata.category(ch)[0] != "C" for ch in name), name
    assert names[0] == "passwd" and names[1] == "evil.jpg" and names[6] == "ảnh-tóm-tăt.jpg"
    # the only new files are the blobs, under their hashes
    evidence = desk.settings.evidence_path.relative_to(tmp_path)
    assert files_under(tmp_path) - before == {str(evidence / blob_path(desk.settings, b.sha256).relative_to(
        desk.settings.evidence_path)) for b in files}


def test_the_status_is_for_the_team_and_the_people_who_review_it(desk: Desk) -> None:
    desk.submit("tt01-ev-seen", [PHOTO.decl()])
    assert desk.status("tt01-ev-seen", who="SYT-CV01").status_code == 200
    assert desk.status("tt01-ev-seen", who="SNV-LEAD").status_code == 200
    other = desk.status("tt01-ev-seen", who="SNV-TT02")
    assert other.status_code == 404  # as for one that does not exist
    assert other.json()["detail"] == "Không tìm thấy lần gửi kết quả 'tt01-ev-seen'."
    unknown = desk.status("khong-co-0002")
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "Không tìm thấy lần gửi kết quả 'khong-co-0002'."
    assert desk.http.get("/api/submissions/tt01-ev-seen").status_code == 401
