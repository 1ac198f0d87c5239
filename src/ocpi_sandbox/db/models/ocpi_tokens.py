"""Tokens eMSPs pushed to us (OCPI Tokens module, CPO = Receiver)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, new_id, utcnow

__all__ = ["OcpiToken"]


class OcpiToken(Base):
    """One eMSP token as last pushed, keyed case-insensitively (country, party, uid, type) per partner."""

    __tablename__ = "ocpi_tokens"
    __table_args__ = (UniqueConstraint("partner_id", "country_code", "party_id", "uid", "type",
                                       name="uq_ocpi_tokens_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("ocpi_partners.id", ondelete="CASCADE"), index=True)
    # CiStrings, stored upper-case for matching; ``data`` keeps the object exactly as received.
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    uid: Mapped[str] = mapped_column(String(36), index=True)
    type: Mapped[str] = mapped_column(String(20))
    valid: Mapped[bool] = mapped_column()
    whitelist: Mapped[str] = mapped_column(String(16))
    # The OCPI version the last push used, or "preset" for a bundle's test card (domain.preset_tokens).
    version: Mapped[str] = mapped_column(String(8))
    data: Mapped[dict] = mapped_column(JSON)
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
