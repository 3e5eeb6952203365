"""SQLModel tables, one module per aggregate. Importing this package registers every table."""
from models.access import AccessToken, WebSession
from models.agency import Agency, AgencyKind, Person, PersonRole
from models.appeal import Appeal, AppealKind, AppealOutcome
from models.audit import AuditEvent
from models.campaign import (Campaign, CampaignKind, CampaignStatus, Selection, SelectionKind, Team, TeamMember,
                             TeamRole)
from models.deadline import Deadline, DeadlineKind, DeadlineStatus
from models.delivery import AttemptOutcome, DeliveryAttempt, DocumentDelivery, DocumentDeliveryStatus
from models.document import (Document, DocumentCounter, DocumentType, DocumentVerification, NumberReservation,
                             SigningRequest, SigningState,
                             Publication, ReservationState)
from models.portal import PortalEvent, PortalMessage, PortalStatus
from models.national_feed import FeedEvent, FeedStatus, NationalFeedAttempt, NationalFeedMessage
from models.establishment import ESTABLISHMENT_COLUMNS, Establishment, Ownership
from models.scheduling import ConflictOfInterest, Contact, DeliveryStatus, Notification, Unavailability
from models.registry import InspectionTrigger, RegistryImport, TriggerKind
from models.inspection import (Attachment, Finding, FindingResult, FindingReview, Inspection, InspectionStatus, PriorSanction,
                               Submission, Violation)
from models.statistics import AnnualStatistic, StatIndicator

__all__ = [
    "Agency", "AgencyKind", "AuditEvent", "Campaign", "CampaignKind", "CampaignStatus", "InspectionTrigger",
    "RegistryImport", "SelectionKind", "TriggerKind", "ConflictOfInterest", "Contact", "DeliveryStatus",
    "Notification", "Unavailability", "Attachment", "FindingReview", "Document", "DocumentCounter",
    "DocumentType", "ESTABLISHMENT_COLUMNS", "Establishment", "Finding", "FindingResult", "Inspection",
    "InspectionStatus", "Person", "PersonRole", "Publication", "Selection", "Submission", "Team",
    "TeamMember", "TeamRole", "Violation", "PriorSanction", "Deadline", "DeadlineKind", "DeadlineStatus",
    "PortalEvent", "PortalMessage", "PortalStatus", "Appeal", "AppealKind", "AppealOutcome", "Ownership",
    "AnnualStatistic", "StatIndicator", "AccessToken", "WebSession", "AttemptOutcome", "DeliveryAttempt",
    "DocumentDelivery", "DocumentDeliveryStatus",
    "FeedEvent", "FeedStatus", "NationalFeedAttempt", "NationalFeedMessage", "NumberReservation", "ReservationState",
    "SigningRequest", "SigningState",
    "DocumentVerification",
]
