"""Decision rules over versioned legal data: the fines of NĐ 12/2022/NĐ-CP and the inspection checklist.

Pure functions over tables loaded once (cached); nothing is read at import.

Errors (under the engine's :class:`services.errors.KiemtraError`)::

    RulesError
     ├── FineTableError         a row of the fine table is malformed (source, row, column)
     ├── UnknownProvision       a code that is not in the fine table (also a LookupError)
     ├── ChecklistError         a checklist file is malformed, or no version is in force on a date
     └── UnknownChecklistItem   a checklist code that is not in the version in force (also a LookupError)

Bad arguments to :func:`propose_fine` (a count missing or negative, an organisation fined under a clause
for individuals only…) raise ``ValueError`` with a Vietnamese message.
"""
from services.rules.checklist import (
    Checklist,
    ChecklistError,
    ChecklistItem,
    UnknownChecklistItem,
    load_checklist,
    parse_checklist,
)
from services.rules.fines import (
    Band,
    FineBasis,
    FineProposal,
    FineRule,
    FineTable,
    FineTableError,
    RulesError,
    UnitKind,
    UnknownProvision,
    load_fine_table,
    parse_fine_rows,
    propose_fine,
    provision_vi,
    vnd,
)

__all__ = [
    "Band", "Checklist", "ChecklistError", "ChecklistItem", "FineBasis", "FineProposal", "FineRule",
    "FineTable", "FineTableError", "RulesError", "UnitKind", "UnknownChecklistItem", "UnknownProvision",
    "load_checklist", "load_fine_table", "parse_checklist", "parse_fine_rows", "propose_fine",
    "provision_vi", "vnd",
]
