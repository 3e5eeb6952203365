"""Attachments (photos, scans) the inspectors declared with their findings: the store and the upload steps.

The files live outside the database, addressed by content: ``<evidence_path>/<sha[:2]>/<sha[2:4]>/<sha>``.
An upload is written to a temp file while it is hashed, checked against the declaration (size, SHA-256,
type), and linked into place only if no blob is there yet; an existing blob has that hash by construction,
so it is kept, never overwritten. Only the hash (64 hex digits, checked) ever becomes a path: the name the
inspector gave is metadata (sanitised by ``logic.safe_name`` when the submission is stored).

An upload takes three steps, so that no database transaction is open while bytes arrive (on SQLite every
transaction holds the write lock): :func:`find_declared` (short read), :func:`receive` (stream → store, no
session) and :func:`mark_received` (short write; completes the submission when its last file arrives).

Errors: the ``EvidenceRefused`` branch of the tree in :mod:`services.errors` (under ``IntakeError``):
``EvidenceTooLarge`` → 413, ``EvidenceTypeRefused`` (type not accepted, not the declared one, or content that is
not of that type) → 415, ``EvidenceMismatch`` (size or SHA-256 differs from the declaration) → 422.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import anyio
from sqlmodel import Session, col, select

from models import Attachment, Inspection, Person, PersonRole, Submission, TeamMember
from models.base import utcnow
from services import audit
from services.errors import Conflict, EvidenceMismatch, EvidenceTooLarge, EvidenceTypeRefused, Forbidden, NotFound
from services.intake import logic
from services.rules.evidence import media_type
from services.settings import Settings

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
# The first bytes every file of a type starts with; a type not listed here is not sniffed.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/pdf": (b"%PDF-",),
}


# --------------------------------------------------------------------------- types and lengths


def check_type(sent: str | None, *, declared: str, allowed: tuple[str, ...]) -> None:
    kind = media_type(sent)
    if kind not in allowed:
        raise EvidenceTypeRefused(f"Loại tệp '{kind or '(không có)'}' không được chấp nhận (chỉ nhận: {', '.join(allowed)}).",
                                  content_type=kind)
    if kind != media_type(declared):
        raise EvidenceTypeRefused(f"Loại tệp gửi lên ('{kind}') khác loại đã khai báo ('{media_type(declared)}').",
                                  content_type=kind, declared=declared)


def check_length(content_length: str | None, *, size: int, max_bytes: int) -> None:
    """Refuse before reading when the announced length already tells (uvicorn drains what is not read)."""
    if content_length is None or not content_length.isdigit():
        return  # chunked: counted while streaming
    length = int(content_length)
    if length > max_bytes:
        raise EvidenceTooLarge(f"Tệp vượt quá dung lượng tối đa {max_bytes:,} byte.", max_bytes=max_bytes, length=length)
    if length != size:
        raise EvidenceMismatch(f"Kích thước tệp gửi lên ({length:,} byte) khác kích thước đã khai báo ({size:,} byte).",
                               size=size, length=length)


# --------------------------------------------------------------------------- the store


class EvidenceStore:
    """Content-addressed blobs under ``root``; temp files in ``root/.tmp`` (same file system, so links work)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / ".tmp"

    @classmethod
    def from_settings(cls, settings: Settings) -> EvidenceStore:
        return cls(settings.evidence_path)

    def path_for(self, sha256: str) -> Path:
        if not SHA256_HEX.fullmatch(sha256):
            raise ValueError(f"not a lower-case SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def writer(self, *, sha256: str, size: int, content_type: str, max_bytes: int) -> BlobWriter:
        return BlobWriter(self, sha256=sha256, size=size, content_type=content_type, max_bytes=max_bytes)


class BlobWriter:
    """One upload, chunk by chunk: counted, hashed and written to a temp file; :meth:`commit` checks it against
    the declaration and links it into place. Used as a context manager, it removes the temp file unless committed."""

    def __init__(self, store: EvidenceStore, *, sha256: str, size: int, content_type: str, max_bytes: int) -> None:
        self.store, self.sha256, self.size, self.content_type, self.max_bytes = store, sha256, size, content_type, max_bytes
        self.target = store.path_for(sha256)
        store.tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=store.tmp, prefix=f"{sha256}.", suffix=".part")
        self.tmp_path = Path(tmp)
        self._file = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self._head = b""
        self.received = 0
        self.committed = False

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None) -> None:
        if not self.committed:
            self.discard()

    def write(self, chunk: bytes) -> None:
        """Stops the upload as soon as it is over the limit, or longer than declared."""
        self.received += len(chunk)
        if self.received > self.max_bytes:
            raise EvidenceTooLarge(f"Tệp vượt quá dung lượng tối đa {self.max_bytes:,} byte.", sha256=self.sha256,
                                   max_bytes=self.max_bytes)
        if self.received > self.size:
            raise self._size_mismatch()
        if len(self._head) < 16:
            self._head += chunk[:16 - len(self._head)]
        self._hash.update(chunk)
        self._file.write(chunk)

    def commit(self) -> Path:
        """Verify size, hash and type; put the blob in place unless it is already there. Returns its path."""
        if self.received != self.size:
            raise self._size_mismatch()
        actual = self._hash.hexdigest()
        if actual != self.sha256:
            raise EvidenceMismatch(f"Mã SHA-256 của tệp nhận được ({actual}) khác mã đã khai báo ({self.sha256}).",
                                   sha256=self.sha256, actual=actual)
        signatures = SIGNATURES.get(media_type(self.content_type))
        if signatures is not None and not self._head.startswith(signatures):
            raise EvidenceTypeRefused(f"Nội dung tệp không phải là {media_type(self.content_type)} như đã khai báo.",
                                      sha256=self.sha256)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self.target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(self.tmp_path, self.target)  # fails if a blob is there: it has this hash, keep it
        except FileExistsError:
            pass
        _fsync_dir(self.target.parent)
        self.discard()
        self.committed = True
        return self.target

    def discard(self) -> None:
        self._file.close()
        self.tmp_path.unlink(missing_ok=True)

    def _size_mismatch(self) -> EvidenceMismatch:
        got = f"hơn {self.size:,}" if self.received > self.size else f"{self.received:,}"
        return EvidenceMismatch(f"Kích thước tệp nhận được ({got} byte) khác kích thước đã khai báo ({self.size:,} byte).",
                                sha256=self.sha256, size=self.size, received=self.received)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- the upload, step by step


@dataclass(frozen=True)
class Declared:
    """What a submission declared about one file (read in a short transaction, used after it ended)."""

    submission_id: int
    client_submission_id: str
    sha256: str
    size: int
    content_type: str


def get_submission(session: Session, person: Person, client_submission_id: str) -> Submission:
    """The submission, if the caller may see it (the rule of ``logic.get_inspection``): another team's is looked for
    as if it did not exist, so both get the same answer. Client ids are unique per inspection, and submit_findings
    refuses one the caller already used on an inspection they see, so an inspector's look-up finds at most one."""
    query = select(Submission).where(Submission.client_submission_id == client_submission_id)
    if person.role == PersonRole.INSPECTOR:
        query = (query.join(Inspection, col(Inspection.id) == col(Submission.inspection_id))
                 .join(TeamMember, col(TeamMember.team_id) == col(Inspection.team_id))
                 .where(TeamMember.person_id == person.id))
    submission = session.exec(query.order_by(col(Submission.id).desc())).first()
    if submission is None:
        raise NotFound(f"Không tìm thấy lần gửi kết quả '{client_submission_id}'.", client_submission_id=client_submission_id)
    return submission


def attachments_of(session: Session, submission: Submission) -> list[Attachment]:
    return list(session.exec(select(Attachment).where(Attachment.submission_id == submission.id).order_by(col(Attachment.id))).all())


def find_declared(session: Session, person: Person, client_submission_id: str, sha256: str) -> Declared:
    """Only the inspection team's inspectors upload, only files the submission declared, and only to the version
    in force (a superseded version's files would complete findings that are no longer the ones in force)."""
    if person.role != PersonRole.INSPECTOR:
        raise Forbidden("Chỉ thành viên đoàn kiểm tra mới được gửi tệp đính kèm.", person_id=person.id)
    submission = get_submission(session, person, client_submission_id)
    latest = logic.latest_submission(session, submission.inspection_id)
    if latest is not None and latest.id != submission.id:
        raise Conflict(f"Lần gửi '{client_submission_id}' (phiên bản {submission.version}) đã được thay bằng phiên bản "
                       f"{latest.version}; hãy gửi tệp cho phiên bản mới.", client_submission_id=client_submission_id)
    attachment = _attachment(session, submission, sha256)
    assert submission.id is not None
    return Declared(submission_id=submission.id, client_submission_id=client_submission_id, sha256=attachment.sha256,
                    size=attachment.size, content_type=attachment.content_type)


async def receive(store: EvidenceStore, declared: Declared, chunks: AsyncIterable[bytes], *, max_bytes: int) -> Path:
    """Stream an upload into the store, checked against the declaration. Holds no database session.

    Any error (a refusal, or the client going away half-way) leaves nothing but the blobs that were there."""
    with store.writer(sha256=declared.sha256, size=declared.size, content_type=declared.content_type,
                      max_bytes=max_bytes) as writer:
        async for chunk in chunks:
            writer.write(chunk)
        return await anyio.to_thread.run_sync(writer.commit)  # fsync: off the event loop


def mark_received(session: Session, person: Person, declared: Declared) -> tuple[Attachment, bool]:
    """Record the arrival (audited); when it is the submission's last file, complete the submission.

    Returns (attachment, newly received). Locks the submission row first, so two last files arriving together
    complete it once (SQLite serialises every write transaction anyway)."""
    submission = session.exec(select(Submission).where(Submission.id == declared.submission_id).with_for_update()).one()
    attachment = _attachment(session, submission, declared.sha256)
    if attachment.received:
        return attachment, False
    attachment.received, attachment.received_at = True, utcnow()
    session.add(attachment)
    audit.record(session, actor=person.code, action="attachment_received", entity=attachment,
                 reason=f"Nhận tệp đính kèm '{attachment.name}' ({declared.client_submission_id})",
                 data={"sha256": attachment.sha256, "size": attachment.size, "content_type": attachment.content_type})
    session.flush()
    # The version may have been replaced while the file was uploading: then the file is kept with it (received,
    # audited) but completes nothing — the findings in force are the newer version's.
    latest = logic.latest_submission(session, submission.inspection_id)
    in_force = latest is not None and latest.id == submission.id
    if in_force and not submission.complete and all(a.received for a in attachments_of(session, submission)):
        logic.complete_submission(session, submission, actor=person.code)
    session.flush()
    return attachment, True


def _attachment(session: Session, submission: Submission, sha256: str) -> Attachment:
    attachment = session.exec(select(Attachment).where(Attachment.submission_id == submission.id,
                                                       Attachment.sha256 == sha256)).first()
    if attachment is None:
        raise NotFound(f"Lần gửi '{submission.client_submission_id}' không khai báo tệp có mã SHA-256 {sha256}.",
                       client_submission_id=submission.client_submission_id, sha256=sha256)
    return attachment
