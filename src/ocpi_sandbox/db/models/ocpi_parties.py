"""Our CPO parties, the eMSP partners registered with them, and the credentials tokens we issued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, new_id, utcnow

__all__ = ["CpoParty", "Partner", "CredentialsToken", "PartnerState", "TokenKind"]


class PartnerState:
    """Per-partner credentials state (reference ocpi.md §3.6)."""

    PENDING = "PENDING"            # token A issued (or our token B, while we register at the eMSP)
    REGISTERED = "REGISTERED"      # handshake done; the partner calls us with its access token
    UNREGISTERED = "UNREGISTERED"  # DELETE by either side, or revoked in the management API


class TokenKind:
    REGISTRATION = "A"  # CREDENTIALS_TOKEN_A: versions and credentials only
    ACCESS = "C"        # the token the partner uses for everything (our token C, or our token B in case B)


class CpoParty(Base):
    """A CPO identity the sandbox plays: country code, party id and business details."""

    __tablename__ = "cpo_parties"
    __table_args__ = (UniqueConstraint("tenant_id", "country_code", "party_id", name="uq_cpo_parties_identity"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    country_code: Mapped[str] = mapped_column(String(2))  # stored upper-case: CiString, emitted upper-case
    party_id: Mapped[str] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(String(100))
    website: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Partner(Base):
    """One eMSP (or other party) connected, or being connected, to one of our CPO parties over OCPI."""

    __tablename__ = "ocpi_partners"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    cpo_party_id: Mapped[str] = mapped_column(ForeignKey("cpo_parties.id", ondelete="CASCADE"), index=True)
    label: Mapped[str | None] = mapped_column(String(100), default=None)
    state: Mapped[str] = mapped_column(String(16), default=PartnerState.PENDING)
    # "partner": the eMSP registered with us (we issued token A); "sandbox": we registered at the eMSP.
    initiated_by: Mapped[str] = mapped_column(String(10), default="partner")
    version: Mapped[str | None] = mapped_column(String(10), default=None)
    versions_url: Mapped[str | None] = mapped_column(String(255), default=None)
    # The token we send to the partner (its token B, then its token C). Kept in clear: we must present it.
    outbound_token: Mapped[str | None] = mapped_column(String(64), default=None)
    # None: Base64 on 2.2+ as the spec says; "raw" or "base64" overrides it for peers that differ.
    outbound_token_encoding: Mapped[str | None] = mapped_column(String(8), default=None)
    roles: Mapped[list | None] = mapped_column(JSON, default=None)
    endpoints: Mapped[list | None] = mapped_column(JSON, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    registered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class CredentialsToken(Base):
    """A token we issued for a partner to call us with; only its SHA-256 is stored."""

    __tablename__ = "ocpi_credentials_tokens"
    __table_args__ = (Index("ix_ocpi_credentials_tokens_partner", "partner_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    partner_id: Mapped[str] = mapped_column(ForeignKey("ocpi_partners.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(1))
    # Last characters only, so users can tell tokens apart in listings without the secret.
    hint: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Set when the token stops being valid: at once on revoke/DELETE, after a grace period on PUT rotation.
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
