"""Uploading the files a findings submission declared, and asking what has arrived.

``PUT /api/submissions/{client_submission_id}/attachments/{sha256}`` takes the raw bytes as the body with
their ``Content-Type``: 201 when the file is newly received, 200 (same answer, nothing changed) for an
identical re-upload. ``GET /api/submissions/{client_submission_id}`` tells a client what is still missing.
The body is streamed into the store with no database transaction open (see :mod:`services.intake.evidence`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from models import Attachment, Person
from services.intake import evidence
from services.errors import EvidenceMismatch, EvidenceRefused, EvidenceTooLarge, EvidenceTypeRefused
from services.entry.http.deps import PersonDep, SessionDep, answered, http_error, mapped_errors
from services.intake.schemas import CLIENT_ID_PATTERN, error_responses

router = APIRouter(prefix="/api/submissions", tags=["evidence"],
                   responses=error_responses(400, 401, 403, 404, 409, 422, 500, 503))

SHA256_PATH = Path(pattern=r"^[0-9a-fA-F]{64}$", description="the SHA-256 the submission declared for the file")
# the findings body's own rule for the id: a NUL or any other character outside it is a 422, never a database error
ClientSubmissionId = Annotated[str, Path(min_length=1, max_length=64, pattern=CLIENT_ID_PATTERN,
                                         description="the client_submission_id the findings were sent with")]
T = TypeVar("T")


class AttachmentOut(BaseModel):
    name: str
    sha256: str
    size: int
    content_type: str
    received: bool
    received_at: datetime | None


class SubmissionStatusOut(BaseModel):
    client_submission_id: str
    inspection_id: int
    version: int
    complete: bool
    attachments: list[AttachmentOut]
    missing: list[str]  # SHA-256 of the declared files not received yet


def _out(a: Attachment) -> AttachmentOut:
    return AttachmentOut(name=a.name, sha256=a.sha256, size=a.size, content_type=a.content_type,
                         received=a.received, received_at=a.received_at)


@router.get("/{client_submission_id}", response_model=SubmissionStatusOut)
def submission_status(client_submission_id: ClientSubmissionId, db: SessionDep, person: PersonDep) -> SubmissionStatusOut:
    return status_of(db, person, client_submission_id)


@router.put("/{client_submission_id}/attachments/{sha256}", response_model=AttachmentOut, status_code=201,
            responses=error_responses(413, 415))
async def upload_attachment(client_submission_id: ClientSubmissionId, sha256: Annotated[str, SHA256_PATH], request: Request,
                            db: SessionDep, person: PersonDep) -> Any:
    received = await receive_upload(request, db, person, client_submission_id, sha256)
    if received is None:
        return Response(status_code=400)  # nobody is listening; the temp file is gone, nothing recorded
    return answered(*received)


def status_of(db: Session, person: Person, client_submission_id: str) -> SubmissionStatusOut:
    """What a submission declared and what has arrived (this route's and the field app's answer)."""
    with mapped_errors():
        submission = evidence.get_submission(db, person, client_submission_id)
    attachments = evidence.attachments_of(db, submission)
    db.rollback()  # a read: end it (on SQLite it holds the write lock)
    return SubmissionStatusOut(client_submission_id=submission.client_submission_id, inspection_id=submission.inspection_id,
                               version=submission.version, complete=submission.complete,
                               attachments=[_out(a) for a in attachments],
                               missing=[a.sha256 for a in attachments if not a.received])


async def receive_upload(request: Request, db: Session, person: Person, client_submission_id: str,
                         sha256: str) -> tuple[AttachmentOut, bool] | None:
    """A declared file's bytes (the request's body) into the store, then marked received: (the file, whether newly
    received); None when the client went away mid-body (nothing recorded). Refusals are ``HTTPError`` (404, 409, 413,
    415, 422)."""
    settings = request.app.state.settings
    with mapped_errors():
        declared = await run_in_threadpool(_unit, db, evidence.find_declared, person, client_submission_id, sha256.lower())
    with _refusals():
        evidence.check_type(request.headers.get("content-type"), declared=declared.content_type,
                            allowed=settings.evidence_types)
        evidence.check_length(request.headers.get("content-length"), size=declared.size,
                              max_bytes=settings.evidence_max_bytes)
        try:
            await evidence.receive(evidence.EvidenceStore.from_settings(settings), declared, request.stream(),
                                   max_bytes=settings.evidence_max_bytes)
        except ClientDisconnect:
            return None
    with mapped_errors():
        attachment, created = await run_in_threadpool(_unit, db, evidence.mark_received, person, declared)
    return _out(attachment), created


def _unit(db: Session, step: Callable[..., T], person: Person, *args: Any) -> T:
    """One short transaction around one step (commits if it returns, rolls back if it raises)."""
    with db.begin():
        return step(db, person, *args)


_STATUS = {EvidenceTooLarge: 413, EvidenceTypeRefused: 415, EvidenceMismatch: 422}


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except EvidenceRefused as exc:
        raise http_error(_STATUS[type(exc)], exc.message) from exc
