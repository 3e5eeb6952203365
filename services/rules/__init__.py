"""Decision rules over versioned legal data: the decrees in force (NĐ 12/2022, NĐ 283/2026) and their fines, the
inspection checklists, competence and procedure, circumstances, deadlines and the law in force for a file.

Pure functions over tables loaded once (cached); nothing is read at import. Modules: ``decrees`` (which decree),
``fines`` (ranges and proposals), ``checklist``, ``procedure`` (competence, settings), ``circumstances``,
``deadline_rules``, ``sanctions`` (one file under the law in force), ``risk``/``risk_sql``, ``schedule``.

Errors (under the engine's :class:`services.errors.KiemtraError`)::

    RulesError
     ├── FineTableError         a row of the fine table is malformed (source, row, column)
     ├── UnknownProvision       a code that is not in the fine table (also a LookupError)
     ├── DecreeError            decrees.json is malformed; NoDecreeInForce: no catalog covers a date
     ├── ChecklistError         a checklist file is malformed, or no version is in force on a date
     │    └── UnlinkedProvision an item has no clause of a decree
     ├── UnknownChecklistItem   a checklist code that is not in the version in force (also a LookupError)
     ├── ProcedureError         a procedure file is malformed; CompetenceRefused: a title below the file
     ├── CircumstancesError     the circumstances file is malformed
     ├── ActDateNeeded          an ended act whose date decides between two decrees
     └── NotSanctioned          the decree in force no longer sanctions the act

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
