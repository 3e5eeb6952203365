"""The engine's errors. Messages are Vietnamese (they reach users); attributes carry the ids.

    KiemtraError
    ├── NotFound                 a campaign, inspection… that does not exist
    ├── InvalidTransition        a state change the state machine forbids
    ├── StageBlocked             a stage cannot run on the stored state (e.g. too few inspectors)
    ├── NotStored                a write the database could not commit: nothing of it was kept, send it again
    ├── RegistryImportRejected   a registry file with errors (services.registry.importer; carries the report)
    ├── RegistryApiError         the registry API failed or answered nonsense (services.clients.registry_api)
    ├── RulesError               rule data that cannot be used (services.rules: fine table, checklist)
    └── IntakeError              a findings/decision submission that cannot be accepted
        ├── Forbidden            a refusal by role (another team's inspection is a NotFound: ids stay unseen)
        └── Conflict             same client id with different content, or wrong state
"""
from __future__ import annotations


class KiemtraError(Exception):
    def __init__(self, message: str, **ids: object) -> None:
        super().__init__(message)
        self.message = message
        self.ids = ids


class NotFound(KiemtraError):
    pass


class InvalidTransition(KiemtraError):
    pass


class StageBlocked(KiemtraError):
    pass


class NotStored(KiemtraError):
    pass


class IntakeError(KiemtraError):
    pass


class Forbidden(IntakeError):
    pass


class Conflict(IntakeError):
    pass
