"""Every OCPI request and response, both ways, per partner: the partner log users debug with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, utcnow

__all__ = ["OcpiExchange"]


class OcpiExchange(Base):
    __tablename__ = "ocpi_exchanges"
    __table_args__ = (Index("ix_ocpi_exchanges_partner_id_id", "partner_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), default=None)
    partner_id: Mapped[str | None] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="CASCADE"), default=None
    )
    direction: Mapped[str] = mapped_column(String(8))  # "inbound" (partner -> us) or "outbound"
    method: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(Text)
    request_headers: Mapped[dict] = mapped_column(JSON, default=dict)
    request_body: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[int | None] = mapped_column(Integer, default=None)
    ocpi_status: Mapped[int | None] = mapped_column(Integer, default=None)
    response_headers: Mapped[dict] = mapped_column(JSON, default=dict)
    response_body: Mapped[str | None] = mapped_column(Text, default=None)
    duration_ms: Mapped[float] = mapped_column(default=0.0)
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    correlation_id: Mapped[str | None] = mapped_column(String(64), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
