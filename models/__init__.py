"""SQLModel tables, one module per aggregate. Importing this package registers every table."""
from models.agency import Agency, AgencyKind, Person, PersonRole
from models.audit import AuditEvent
from models.campaign import Campaign, CampaignStatus, Selection, Team, TeamMember, TeamRole
from models.document import Document, DocumentCounter, DocumentType, Publication
from models.establishment import ESTABLISHMENT_COLUMNS, Establishment
from models.inspection import Finding, FindingResult, Inspection, InspectionStatus, Submission, Violation

__all__ = [
    "Agency", "AgencyKind", "AuditEvent", "Campaign", "CampaignStatus", "Document", "DocumentCounter",
    "DocumentType", "ESTABLISHMENT_COLUMNS", "Establishment", "Finding", "FindingResult", "Inspection",
    "InspectionStatus", "Person", "PersonRole", "Publication", "Selection", "Submission", "Team",
    "TeamMember", "TeamRole", "Violation",
]
