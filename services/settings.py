"""One typed settings object for the whole engine (prefix ``KIEMTRA_``).

Built by :func:`get_settings` (cached), never at import time. Every path is resolved against
``data_dir`` unless given absolute, so the embedded default lives in one folder (``./var``).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.portal_signature import KEY_ID, parse_keys

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = PROJECT_ROOT / "templates"
RULES_DIR = PROJECT_ROOT / "services" / "rules" / "data"


DEMO_TOKEN_SECRET = "demo-only-not-a-secret"  # public on purpose: derives the demo's tokens, refused in production
# the document types the digital issuing sequence handles (services.documents.signed_issuing): the decisions a competent
# official signs (to inspect; to sanction, published and reported) and the campaign's report its lead agency's lãnh đạo
# signs; the others are printed and signed by hand until their stages handle a pending signature (records and minutes
# carry the violator's and witnesses' signatures too)
SIGNABLE_DOCUMENTS = frozenset({"sanction_decision", "inspection_decision", "report"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KIEMTRA_", extra="ignore", hide_input_in_errors=True)  # never echo a secret

    environment: str = Field("development", description="development | test | production")
    data_dir: Path = Field(PROJECT_ROOT / "var", description="where the embedded database, documents and logs live")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite file in data_dir")
    documents_dir: Path | None = Field(None, description="document store; default: data_dir/documents")
    evidence_dir: Path | None = Field(None, description="photos and scans the inspectors upload, stored by SHA-256; "
                                                        "default: data_dir/evidence")
    evidence_max_bytes: int = Field(10 * 1024 * 1024, ge=1, description="largest attachment accepted (bytes)")
    evidence_types: tuple[str, ...] = Field(("image/jpeg", "image/png", "application/pdf"),
                                            description="attachment content types accepted")
    # the inspectors' offline field app (docs/field-offline.md)
    field_days_ahead: int = Field(7, ge=0, le=366, description="days after today whose visits the field app keeps")
    field_photo_max_edge: int = Field(1600, ge=320, le=10000, description="the phone resizes photos to this longest edge (px)")
    field_photo_jpeg_quality: float = Field(0.8, gt=0, le=1, description="JPEG quality of the resized photos")
    legal_dir: Path = Field(RULES_DIR / "legal", description="gazette text and fine table (NĐ 12/2022)")

    # Prefect: a long-lived local server managed by the CLI (never ephemeral mode).
    prefect_api_url: str | None = Field(None, description="use this Prefect API instead of the managed local server")
    prefect_port: int = 4209
    prefect_home: Path | None = None
    prefect_database_url: SecretStr | None = Field(
        None, description="the managed Prefect server's own database (postgresql+asyncpg://…); default SQLite in prefect_home")

    # Findings intake API (FastAPI under uvicorn).
    intake_host: str = "127.0.0.1"
    intake_port: int = 0  # 0: pick a free port

    demo_token_secret: SecretStr = Field(SecretStr(DEMO_TOKEN_SECRET),
                                         description="derives the demo's API tokens; refused outside development")

    registry_api_url: str | None = Field(None, description="base URL of the paged JSON registry API")
    registry_api_timeout_s: float = 10.0

    # E-mail/SMS gateway (services.clients.gateway) and notification delivery (services.delivery.notifications).
    gateway_url: str | None = Field(None, description="base URL of the e-mail/SMS gateway (POST /messages)")
    gateway_token: SecretStr | None = Field(None, description="bearer token for the gateway, if it needs one")
    gateway_timeout_s: float = 10.0
    notify_max_attempts: int = Field(5, ge=1, description="delivery rounds before a notification is marked failed")

    # The province portal (services.clients.portal) and the delivery of publications to it (services.delivery.portal).
    portal_url: str | None = Field(None, description="base URL of the province portal's webhook (POST /outcomes)")
    portal_secret: SecretStr | None = Field(None, description="secret of portal_key_id: signs each attempt (v2, HMAC-SHA256)")
    portal_key_id: str = Field("k1", description="sent as X-Kiemtra-Key-Id: which of the portal's keys portal_secret is")
    portal_accepted_keys: SecretStr | None = Field(
        None, description='receiver side (the demo\'s stand-in): {"k1": "…", "k2": "…"} or "k1:…,k2:…"; '
                          "default: portal_key_id with portal_secret")
    portal_window_s: int = Field(300, ge=1, description="receiver side: a timestamp further than this from its clock is refused")
    portal_timeout_s: float = 10.0
    portal_max_attempts: int = Field(6, ge=1, description="delivery attempts before a portal message is DEAD")
    portal_backoff_s: float = Field(60.0, gt=0, description="first retry delay; doubles each attempt (capped at a day)")

    # E-mail delivery of issued records and decisions to the violator (services.delivery.channels, docs/operations.md).
    smtp_host: str | None = Field(None, description="SMTP server; unset: deliveries wait (pending) until it is set")
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: Literal["starttls", "ssl", "none"] = Field("starttls", description="STARTTLS, SMTPS (ssl) or plain")
    smtp_user: str | None = Field(None, description="login, when the server asks for one")
    smtp_password: SecretStr | None = Field(None, description="never logged nor shown")
    smtp_from: str = Field("kiemtra@localhost", description="the From address of delivered documents")
    smtp_timeout_s: float = Field(30.0, gt=0)
    delivery_max_attempts: int = Field(6, ge=1, description="attempts before a delivery with temporary failures is dead")
    delivery_backoff_s: float = Field(300.0, gt=0, description="first retry delay; doubles each attempt (capped at a day)")

    # The national database on handling administrative violations (services.clients.national_feed, docs/national-feed.md).
    national_feed_url: str | None = Field(None, description="base URL of the national feed's receiver (POST /decisions); "
                                                            "unset: the feed is off and its messages wait (pending)")
    national_feed_secret: SecretStr | None = Field(None, description="secret of national_feed_key_id: signs each attempt (v2)")
    national_feed_key_id: str = Field("k1", description="sent as X-Kiemtra-Key-Id to the national feed's receiver")
    national_feed_timeout_s: float = Field(10.0, gt=0)
    national_feed_max_attempts: int = Field(8, ge=1, description="attempts before a national feed message is DEAD")
    national_feed_backoff_s: float = Field(60.0, gt=0, description="first retry delay; doubles each attempt (capped at a day)")

    # Digitally signed documents (issue 17): the CA certificates a signature must chain to (services.documents.signing).
    signing_trust_roots: tuple[Path, ...] = Field(
        (), description='trust-root certificate files (PEM/DER), a JSON list: ["/etc/kiemtra/root-ca.pem"]; relative to '
                        "data_dir unless absolute; none: no signature is trusted")
    # The issuing sequence of NĐ 30/2020 with digital signatures (services.documents.signed_issuing): the document types
    # put to their competent person for a digital signature before they are numbered and issued. Empty: documents are
    # issued unsigned (printed, signed by hand) as before.
    signing_documents: tuple[str, ...] = Field((), description='document types signed digitally, a JSON list: '
                                                                '["sanction_decision"]')
    signing_tsa_url: str | None = Field(None, description="the RFC 3161 timestamp service every signature is stamped by")
    signing_keys_dir: Path | None = Field(None, description="<person code>.p12 and <person code>.png (the signature image) "
                                                            "of each person who signs in the console; seal.png, the "
                                                            "organisation's seal image; relative to data_dir")
    signing_seal_email: str = Field("", max_length=200, description="the organisation's e-mail shown with its seal")

    batch_size: int = Field(50, description="inspections handled per task (keep tasks coarse)")

    @model_validator(mode="after")
    def _secrets_are_real(self) -> Settings:
        """A portal secret, when set, is never empty (an empty key signs nothing); production never runs on the demo's
        public token secret."""
        if self.portal_secret is not None and not self.portal_secret.get_secret_value().strip():
            raise ValueError("KIEMTRA_PORTAL_SECRET rỗng: chữ ký HMAC với khóa rỗng không bảo vệ gì; hãy đặt một khóa bí mật")
        if not KEY_ID.fullmatch(self.portal_key_id):
            raise ValueError("KIEMTRA_PORTAL_KEY_ID: mã khóa 1–64 ký tự A–Z a–z 0–9 . _ -")
        unknown = sorted(set(self.signing_documents) - SIGNABLE_DOCUMENTS)
        if unknown:
            raise ValueError(f"KIEMTRA_SIGNING_DOCUMENTS: chưa hỗ trợ ký số cho loại văn bản {', '.join(unknown)}; "
                             f"hỗ trợ: {', '.join(sorted(SIGNABLE_DOCUMENTS))}")
        if self.signing_documents and not self.signing_tsa_url:
            raise ValueError("KIEMTRA_SIGNING_TSA_URL: ký số văn bản cần dịch vụ cấp dấu thời gian (RFC 3161)")
        if self.portal_accepted_keys is not None:
            parse_keys(self.portal_accepted_keys.get_secret_value())  # refused at start, not at the first message
        if self.environment == "production" and self.demo_token_secret.get_secret_value() == DEMO_TOKEN_SECRET:
            raise ValueError("KIEMTRA_DEMO_TOKEN_SECRET mặc định là chuỗi công khai: không dùng được khi environment=production")
        return self

    @property
    def portal_receiver_keys(self) -> dict[str, bytes]:
        """The keys a receiver of our messages holds (the demo's stand-in of the portal): {key id: secret}."""
        if self.portal_accepted_keys is not None:
            return parse_keys(self.portal_accepted_keys.get_secret_value())
        return {self.portal_key_id: self.portal_secret.get_secret_value().encode()} if self.portal_secret else {}

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'kiemtra.db').resolve()}"

    @property
    def documents_path(self) -> Path:
        return (self.documents_dir or self.data_dir / "documents").resolve()

    @property
    def evidence_path(self) -> Path:
        return (self.evidence_dir or self.data_dir / "evidence").resolve()

    @property
    def prefect_home_path(self) -> Path:
        return (self.prefect_home or self.data_dir / "prefect").resolve()

    @property
    def signing_keys_path(self) -> Path | None:
        if self.signing_keys_dir is None:
            return None
        return (self.signing_keys_dir if self.signing_keys_dir.is_absolute() else self.data_dir / self.signing_keys_dir).resolve()

    @property
    def signing_trust_root_paths(self) -> tuple[Path, ...]:
        return tuple((root if root.is_absolute() else self.data_dir / root).resolve() for root in self.signing_trust_roots)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
