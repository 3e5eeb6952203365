"""Who may call the engine: API tokens issued to people, and the web form's server-side sessions.

Only SHA-256 hashes are stored: a token is shown once when issued, a session id lives only in the browser's
cookie. A token works while it is neither revoked nor past ``expires_at``; a web session while it is neither
logged out (``revoked_at``) nor past ``expires_at``, and only while the token it was opened with still works.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, created_at_field


class AccessToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, description="sha256 hex of the token (the token is never stored)")
    label: str = Field(default="", max_length=255)
    created_at: datetime = created_at_field()
    created_by: str = Field(max_length=64, description="code of the person who issued it")
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime, description="null: no expiry")
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: str | None = Field(default=None, max_length=64)
    revoke_reason: str = Field(default="", max_length=1000)
    last_used_on: date | None = Field(default=None, description="last web log-in with it (the API does not write it)")

    def state(self, now: datetime) -> str:
        """'revoked', 'expired' or 'active' at ``now``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


class WebSession(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    token_id: int = Field(foreign_key="accesstoken.id", index=True, description="the token the person logged in with")
    session_hash: str = Field(max_length=64, unique=True, description="sha256 hex of the cookie's random id")
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime, description="logout, or its token revoked")
