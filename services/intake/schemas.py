"""Request and response bodies of the intake API.

Every string a request carries goes through the text policy (:mod:`services.text_policy`): free text through
``check_text`` (``Text``, ``Line``), identifiers through a pattern, a value kept as sent (a campaign's code in a path)
through ``check_plain`` (``Plain``). So a NUL, another control character or a lone surrogate is a 422 naming the
field on every database, never a database error (PostgreSQL stores no NUL). The one exception is a declared file's
name, which the phone made up, not a person: it is cleaned when stored (``logic.safe_name``)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from services.text_policy import check_plain, check_text

from models import FindingResult

Text = Annotated[str, AfterValidator(lambda v: check_text(v, multiline=True))]  # free text: line breaks kept
Line = Annotated[str, AfterValidator(check_text)]  # one line of text: a line break becomes a space
Plain = Annotated[str, AfterValidator(check_plain)]  # kept as sent, never printed as prose (a code)
CODE_PATTERN = r"^[A-Za-z0-9_.-]+$"  # checklist items (LD-01), circumstances (giam_nhe_khac_phuc)
CLIENT_ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
MEDIA_TYPE_PATTERN = r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(;[ -~]*)?$"  # type/subtype[; printable parameters]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=CODE_PATTERN)]


class ErrorOut(BaseModel):
    """Every error the API answers (4xx, 5xx): a Vietnamese sentence, and one line per field at fault."""

    detail: str = Field(description="what went wrong, in Vietnamese")
    errors: list[str] = Field(default_factory=list, description="one line per field at fault: 'field: message'")


ERROR_DESCRIPTIONS = {
    400: "Không đọc được nội dung gửi lên", 401: "Thiếu mã truy cập hoặc mã không hợp lệ", 403: "Không có quyền",
    404: "Không tìm thấy", 409: "Xung đột với dữ liệu đã lưu", 413: "Nội dung quá lớn", 415: "Loại tệp không được nhận",
    422: "Dữ liệu gửi lên không hợp lệ", 500: "Lỗi hệ thống; yêu cầu không được lưu",
    503: "Hệ thống tạm thời chưa lưu được; hãy gửi lại",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI ``responses=`` for these error statuses, all with the body the handlers send (:class:`ErrorOut`)."""
    return {code: {"model": ErrorOut, "description": ERROR_DESCRIPTIONS[code]} for code in codes}


class FindingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_code: str = Field(min_length=1, max_length=16, pattern=CODE_PATTERN)
    result: FindingResult
    workers_affected: int | None = Field(default=None, ge=0, le=1_000_000)
    devices_affected: int | None = Field(default=None, ge=0, le=100_000)
    note: Text = Field(default="", max_length=2000)
    committed_on: date | None = Field(default=None, description="when the act was committed (an ended act: the day it ended)")
    ongoing: bool | None = Field(default=None, description="still going on at the visit; None: the checklist item's kind")


class AttachmentDecl(BaseModel):
    """A file the inspector will upload for this submission (photo, scan): announced first, sent after."""

    model_config = ConfigDict(extra="forbid")
    # a file's name as the phone gave it: metadata only, cleaned rather than refused when stored (logic.safe_name drops
    # control characters, directories and a leading dot), so no NUL reaches the database
    name: str = Field(min_length=1, max_length=255)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(gt=0, le=100 * 1024 * 1024)
    content_type: str = Field(min_length=3, max_length=64, pattern=MEDIA_TYPE_PATTERN)
    # a photo taken for one checklist item (the field app): which item, when and where. Left out of the content hash
    # when absent (logic.content_sha256), so an older client's re-send is still recognised.
    item_code: str | None = Field(default=None, min_length=1, max_length=16, pattern=CODE_PATTERN,
                                  description="the checklist item the photo shows (one of the findings' item codes)")
    captured_at: AwareDatetime | None = Field(default=None, description="when it was taken (ISO 8601 with offset)")
    latitude: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    longitude: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000, allow_inf_nan=False,
                                     description="the location's accuracy (metres)")


class FindingsSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_submission_id: str = Field(min_length=8, max_length=64, pattern=CLIENT_ID_PATTERN)
    findings: list[FindingIn] = Field(min_length=1, max_length=200)
    attachments: list[AttachmentDecl] = Field(default_factory=list, max_length=50)
    reason: Text = Field(default="", max_length=1000, description="why, when this edits an earlier version")


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "return"]
    # the audit record (1,000 characters) keeps it after "Trả lại kết quả phiên bản N: "
    comment: Text = Field(default="", max_length=960)


class ReviewReceipt(BaseModel):
    inspection_id: int
    version: int
    decision: str
    status: str


class SubmissionReceipt(BaseModel):
    submission_id: int
    client_submission_id: str
    inspection_id: int
    version: int
    complete: bool
    missing_attachments: list[str]
    content_sha256: str
    findings: int
    failed_items: list[str]


class CircumstancesIn(BaseModel):
    """The circumstances the official finds for one act (codes of Luật XLVPHC Art.9 and 10, see /api/circumstances)."""

    model_config = ConfigDict(extra="forbid")
    mitigating: list[Code] = Field(default_factory=list, max_length=20)
    aggravating: list[Code] = Field(default_factory=list, max_length=20)


class CircumstanceOut(BaseModel):
    code: str
    kind: str  # mitigating | aggravating
    point_vi: str
    text_vi: str
    derived: bool  # set by the engine from dated history only (tái phạm, vi phạm nhiều lần)
    selectable: bool


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decided_on: date
    amounts: dict[int, int] = Field(description="final amount (VND) per violation id")
    circumstances: dict[int, CircumstancesIn] = Field(default_factory=dict, description="per violation id")
    reasons: dict[int, Annotated[Text, Field(max_length=2000)]] = Field(
        default_factory=dict, description="per violation id: why the amount differs from the proposal the circumstances give")
    referral_reason: Text = Field(default="", max_length=1000, description="why a higher official than the lowest "
                                                                          "competent one decides the file (sent up)")


class DecisionIssue(BaseModel):
    """What issuing the sanction decision at once did, after the amounts were recorded: ``issued`` (the decision's
    number, date and where to download it and the violation record) or ``waiting`` (why, and from which day the
    campaign's ``decide-sanctions`` stage can issue it)."""
    outcome: Literal["issued", "waiting"]
    number: str | None = None
    issued_on: date | None = None
    decision_url: str | None = None
    record_url: str | None = None
    waiting_reason: str = ""
    issuable_from: date | None = None


class DecisionReceipt(BaseModel):
    inspection_id: int
    decided_by: str
    decided_on: date
    total_vnd: int
    issue: DecisionIssue | None = None


class ViolationOut(BaseModel):
    id: int
    provision_code: str
    proposed_amount: int
    range_min: int
    range_max: int
    final_amount: int | None
    decree: str = ""
    aggravating: list[str] = Field(default_factory=list)
    derived: list[dict[str, str]] = Field(default_factory=list)


class InspectionOut(BaseModel):
    id: int
    campaign_code: str
    establishment_name: str
    tax_code: str
    address: str
    scheduled_on: date
    status: str
    team: str
    checklist: list[dict[str, object]]
    violations: list[ViolationOut]
    competent_signer: str | None
