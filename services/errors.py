"""The engine's errors, all of them, in one tree. Messages are Vietnamese (they reach users); attributes carry the ids.

Every exception class of ``services/`` is drawn here, with the module it is raised from. All are defined in this
module except those marked ``[defined in …]`` (and the classes drawn under them): the outside systems' clients
(``services.clients``), two registry helpers and the HTTP app's edge signals (which never leave
``services.entry.http``) keep theirs beside the code that raises them. ``(+LookupError)`` marks a second base: a
missing entry is also a ``LookupError``. ``tests/unit/test_error_tree.py`` parses this drawing and compares it with
the real classes.

    Exception
    ├── KiemtraError                 the engine's own errors: ``message`` (Vietnamese) and ``ids``
    │   ├── NotFound                 a campaign, inspection… that does not exist (or that the caller may not see)
    │   ├── InvalidTransition        a state change the state machine forbids
    │   │   └── ImmutableDocument    an issued document updated or deleted (services.documents.issuing)
    │   ├── StageBlocked             a stage cannot run on the stored state (e.g. too few inspectors)
    │   ├── NotStored                a write the database could not commit: nothing of it was kept, send it again
    │   ├── Refused                  a request refused as sent; ``ids["errors"]``: "field: why" (HTTP 422)
    │   │   ├── Forbidden            a refusal by role (another team's inspection is a NotFound: ids stay unseen)
    │   │   ├── Conflict             same client id with different content, or the wrong state (HTTP 409)
    │   │   └── IntakeError          findings, a review or a decision the intake cannot accept (services.intake)
    │   │       ├── EvidenceRefused  an upload the evidence store does not keep (nothing stored, temp removed)
    │   │       │   ├── EvidenceTooLarge     over ``evidence_max_bytes`` (HTTP 413)
    │   │       │   ├── EvidenceTypeRefused  a type not accepted, not the declared one, or content not of it (415)
    │   │       │   └── EvidenceMismatch     size or SHA-256 differs from the declaration (HTTP 422)
    │   │       └── FormRefused      [defined in services.entry.http.web_form] a form field the page cannot take
    │   ├── DeidentificationError    a register output would carry a protected name (services.publishing)
    │   ├── SignatureRefused         a signed webhook refused by its receiver (services.portal_signature)
    │   ├── RegistryImportRejected   a registry file with errors (services.registry.importer; carries the report)
    │   ├── RegistryApiError         [defined in services.clients.registry_api] the registry API failed or answered nonsense
    │   ├── PortalError              [defined in services.clients.portal] the province portal
    │   │   ├── PortalRejected       it will never take this message as it is (a 4xx other than 409, 429)
    │   │   └── PortalUnavailable    try again later (timeout, connection, 429, 5xx, not a receipt)
    │   ├── GatewayError             [defined in services.clients.gateway] the notification gateway
    │   │   ├── GatewayRejected      it will never take this message
    │   │   └── GatewayUnavailable   try again later
    │   ├── ChannelError             [defined in services.delivery.channels] a channel delivering an issued document
    │   │   ├── ChannelRejected      refused for good (an SMTP 5xx reply)
    │   │   └── ChannelUnavailable   try again later (an SMTP 4xx reply, no connection, a timeout)
    │   ├── IssuedFileMismatch       [defined in services.delivery.document_delivery] the stored file is not the issued one
    │   ├── FileNotVerified          [defined in services.documents.verification] a decision's file failed its check: not published
    │   └── RulesError               rule data that cannot be used, or a rule refusing a case (services.rules)
    │       ├── CalendarYearNotCovered             a year calendar_vn.json does not cover
    │       ├── FineTableError                     a malformed fine-table row (source, row, column)
    │       ├── UnknownProvision (+LookupError)    no fine-table row has this code
    │       ├── DecreeError                        a malformed decree catalog or counterparts table
    │       ├── NoDecreeInForce (+LookupError)     no decree of the catalog in force on the date
    │       ├── UnknownDecree (+LookupError)       a key or fine-code prefix naming no decree
    │       ├── ChecklistError                     a malformed checklist, or none in force on the date
    │       │   └── UnlinkedProvision (+LookupError)   the item has no clause of this decree
    │       ├── UnknownChecklistItem (+LookupError)    no checklist item has this code
    │       ├── CircumstancesError                 a malformed circumstances file
    │       ├── UnknownCircumstance (+LookupError) no circumstance has this code
    │       ├── ProcedureError                     a malformed procedure file
    │       ├── CompetenceRefused                  no sanctioning title, or one below what the file needs
    │       ├── OfficesError                       malformed per-province settings, or a province has none
    │       ├── ActDateNeeded                      an ended act whose date decides the decree
    │       ├── NotSanctioned                      the decree in force no longer sanctions the act
    │       └── KpiTargetsError                    a malformed KPI targets file, or none in force
    ├── XlsxRefused                  a file that is not a readable XLSX (services.registry.xlsx; ``reason``)
    ├── IntakeClientError            [defined in services.demo.intake_client] the intake API refused a request
    ├── GaveUp                       [defined in services.clients.retry] every attempt failed; each client raises its own error
    ├── _TemporaryAnswer             [defined in services.clients.retry] a 429/5xx inside the retry loop (never leaves it)
    ├── HTTPError                    [defined in services.entry.http.deps] an HTTP answer with our error body
    ├── LoginNeeded                  [defined in services.entry.http.console.base] no console session: 303 to log in
    └── BodyTooLarge                 [defined in services.entry.http.limits] a body over its route's limit
    ValueError
    ├── TextRefused                  a character no document may hold (services.text_policy)
    ├── SelectionRejected            an official's choice of circumstances with errors (``errors``)
    ├── RiskPolicyError              no risk policy in force on a date, or a malformed one
    ├── InvalidTaxPrefix             [defined in services.registry.taxcode] nine digits with no valid check digit
    ├── CellError                    a registry cell that cannot be stored (``reason``)
    └── TemplateError                a malformed document template, or a value it needs is missing
    LookupError
    └── UnknownUnit                  [defined in services.registry.geo] no province or commune has that code
    RuntimeError
    ├── PrefectServerError           the local Prefect server could not be started, reached or stopped
    │   └── PortTaken                our server could not bind its port: another program took it first
    ├── SigningError                 [defined in services.documents.signing] a signature not made: the document stays unsigned
    └── SigningKeyError              [defined in services.documents.signing_keys] a key or token that cannot be opened
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: this module imports nothing of the engine
    from services.registry.report import ImportReport
    from services.rules.decrees import Decree


class KiemtraError(Exception):
    def __init__(self, message: str, **ids: object) -> None:
        super().__init__(message)
        self.message = message
        self.ids = ids

    def field_errors(self) -> list[str]:
        """The "field: why" lines in ``ids["errors"]`` (see :class:`Refused`); empty when it carries none."""
        errors = self.ids.get("errors")
        return [str(line) for line in errors] if isinstance(errors, (list, tuple)) else []


class NotFound(KiemtraError):
    pass


class InvalidTransition(KiemtraError):
    pass


class ImmutableDocument(InvalidTransition):
    pass


class StageBlocked(KiemtraError):
    pass


class NotStored(KiemtraError):
    pass


# --------------------------------------------------------------------------- refusals


class Refused(KiemtraError):
    """A request refused as sent (a stage's input, a person's change): ``ids["errors"]`` lists "field: why"."""


class Forbidden(Refused):
    pass


class Conflict(Refused):
    pass


class IntakeError(Refused):
    """Findings, a review or a decision the intake cannot accept (services.intake)."""


class EvidenceRefused(IntakeError):
    pass


class EvidenceTooLarge(EvidenceRefused):
    pass


class EvidenceTypeRefused(EvidenceRefused):
    pass


class EvidenceMismatch(EvidenceRefused):
    pass


# --------------------------------------------------------------------------- publishing, outside systems


class DeidentificationError(KiemtraError):
    """A register output would carry a protected person's name; nothing was written."""


class SignatureRefused(KiemtraError):
    """A receiver refuses the message; ``code``: missing, unknown_key, bad_signature, stale, replay."""

    def __init__(self, code: str, message: str, **ids: object) -> None:
        super().__init__(message, **ids)
        self.code = code


class RegistryImportRejected(KiemtraError):
    """The source has errors (and ``valid_only`` was not asked), or cannot be read at all: nothing was written."""

    def __init__(self, report: ImportReport, message: str | None = None) -> None:
        super().__init__(message or f"Không nhập {report.source}: {len(report.errors)} lỗi ở {len(report.rejected_rows)} "
                         "dòng. Sửa các lỗi trong báo cáo rồi nhập lại (hoặc chỉ nhập các dòng hợp lệ).",
                         source=report.source)
        self.report = report


# --------------------------------------------------------------------------- rules


class RulesError(KiemtraError):
    """Rule data that cannot be used, or a rule that refuses a case."""


class CalendarYearNotCovered(RulesError):
    """A working day was asked for in a year ``calendar_vn.json`` does not cover."""


class FineTableError(RulesError):
    """A row of the fine table is malformed; carries the source, the row number (header = 1) and column."""

    def __init__(self, message: str, *, source: str, row: int, column: str) -> None:
        self.source, self.row, self.column = source, row, column
        super().__init__(f"{source}: row {row}, column {column!r}: {message}", source=source, row=row,
                         column=column)


class UnknownProvision(RulesError, LookupError):
    """No row of the fine table has this code."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"Không có điều khoản xử phạt mã {code!r} trong bảng mức phạt", code=code)


class DecreeError(RulesError):
    """The decree catalog or the counterparts table is malformed; names the file and the key."""


class NoDecreeInForce(RulesError, LookupError):
    """No decree of the catalog was in force on the date."""

    def __init__(self, on: date, held: tuple[Decree, ...]) -> None:
        self.on = on
        periods = "; ".join(f"{d.number_vi} {d.period_vi()}" for d in held)
        super().__init__(f"Không có nghị định xử phạt nào trong danh mục có hiệu lực vào ngày {on:%d/%m/%Y} "
                         f"(danh mục gồm: {periods})", on=on.isoformat())


class UnknownDecree(RulesError, LookupError):
    """A decree key, or the prefix of a fine code, that names no decree of the catalog."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"Mã {code!r} không thuộc nghị định xử phạt nào trong danh mục", code=code)


class ChecklistError(RulesError):
    """A checklist file is malformed (naming the item), or no version is in force on the date asked."""


class UnlinkedProvision(ChecklistError, LookupError):
    """The item has no clause of this decree (not in force for the version, or no such offence in it)."""

    def __init__(self, code: str, decree: str, reason: str = "") -> None:
        self.code, self.decree = code, decree
        why = f": {reason}" if reason else ""
        super().__init__(f"Mục kiểm tra {code} không có điều khoản xử phạt theo nghị định {decree}{why}",
                         code=code, decree=decree)


class UnknownChecklistItem(RulesError, LookupError):
    def __init__(self, code: str, version: str) -> None:
        self.code, self.version = code, version
        super().__init__(f"Không có mục kiểm tra mã {code!r} trong danh mục phiên bản {version}", code=code,
                         version=version)


class CircumstancesError(RulesError):
    """A circumstances file is malformed; the message names the file and the key."""


class UnknownCircumstance(RulesError, LookupError):
    """No entry of the catalog has this code."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"Không có tình tiết mã {code!r}", code=code)


class ProcedureError(RulesError):
    """A procedure file is malformed; the message names the file and the key."""


class CompetenceRefused(RulesError):
    """The person holds no sanctioning title, or one below what the file's acts need."""


class OfficesError(RulesError):
    """The per-province settings are malformed, or a province has none."""


class ActDateNeeded(RulesError):
    """An ended act whose date decides the decree (two decrees were in force within its limitation year)."""


class NotSanctioned(RulesError):
    """The decree in force when the act is handled no longer sanctions it (or none links the item)."""


class KpiTargetsError(RulesError):
    """A KPI targets file is malformed, or none is in force; the message names the file and the key."""


# --------------------------------------------------------------------------- outside the engine's tree


class XlsxRefused(Exception):
    """A file that is not a readable XLSX; ``reason`` is the Vietnamese sentence shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TextRefused(ValueError):
    """A character no document may hold; the message is Vietnamese and names the character."""


class SelectionRejected(ValueError):
    """An official's selection of circumstances with errors; ``errors`` are the Vietnamese field errors."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


class RiskPolicyError(ValueError):
    """No policy is in force on a date, or a policy file is malformed."""


class CellError(ValueError):
    """A cell that cannot be stored; ``reason`` is the Vietnamese explanation shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TemplateError(ValueError):
    """A template is malformed, or the context lacks a value the template needs."""

    def __init__(self, message: str, *, template: str = "", key: str = "") -> None:
        super().__init__(f"Mẫu văn bản '{template}': {message}" if template else message)
        self.template = template
        self.key = key


class PrefectServerError(RuntimeError):
    """The Prefect server could not be started, reached or stopped."""


class PortTaken(PrefectServerError):
    """Our server could not bind its port: another program took it first."""
