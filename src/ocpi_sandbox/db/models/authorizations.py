"""Real-time authorizations an eMSP granted, kept so the session they lead to carries its reference."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, utcnow

__all__ = ["RealtimeAuthorization"]


class RealtimeAuthorization(Base):
    __tablename__ = "realtime_authorizations"
    __table_args__ = (Index("ix_realtime_authorizations_lookup", "identity", "id_token"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    identity: Mapped[str] = mapped_column(String(48))
    id_token: Mapped[str] = mapped_column(String(36))
    partner_id: Mapped[str] = mapped_column(ForeignKey("ocpi_partners.id", ondelete="CASCADE"))
    allowed: Mapped[str] = mapped_column(String(16))              # OCPI AllowedType
    authorization_reference: Mapped[str | None] = mapped_column(String(36), default=None)
    token: Mapped[dict] = mapped_column(JSON)                     # the Token in the eMSP's AuthorizationInfo
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
