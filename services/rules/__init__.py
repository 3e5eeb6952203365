"""Decision rules over versioned legal data: the decrees in force (NĐ 12/2022, NĐ 283/2026) and their fines, the
inspection checklists, competence and procedure, circumstances, deadlines and the law in force for a file.

Pure functions over tables loaded once (cached); nothing is read at import. Modules: ``decrees`` (which decree),
``fines`` (ranges and proposals), ``checklist``, ``procedure`` (competence, settings), ``circumstances``,
``deadline_rules``, ``sanctions`` (one file under the law in force), ``risk``/``risk_sql``, ``schedule``.

Errors: the ``RulesError`` branch of the one tree in :mod:`services.errors` (re-exported here as before).

Bad arguments to :func:`propose_fine` (a count missing or negative, an organisation fined under a clause
for individuals only…) raise ``ValueError`` with a Vietnamese message.
"""
from services.rules.checklist import Checklist, ChecklistItem, load_checklist, parse_checklist
from services.errors import ChecklistError, UnknownChecklistItem
from services.rules.fines import (Band, FineBasis, FineProposal, FineRule, FineTable, UnitKind, load_fine_table, parse_fine_rows,
                                  propose_fine, provision_vi, vnd)
from services.errors import FineTableError, RulesError, UnknownProvision

__all__ = [
    "Band", "Checklist", "ChecklistError", "ChecklistItem", "FineBasis", "FineProposal", "FineRule",
    "FineTable", "FineTableError", "RulesError", "UnitKind", "UnknownChecklistItem", "UnknownProvision",
    "load_checklist", "load_fine_table", "parse_checklist", "parse_fine_rows", "propose_fine",
    "provision_vi", "vnd",
]
