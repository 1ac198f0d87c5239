"""Tariffs a CPO party publishes (OCPI Tariffs module, CPO = Sender)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, new_id, utcnow

__all__ = ["TariffRecord"]


class TariffRecord(Base):
    __tablename__ = "tariffs"
    __table_args__ = (UniqueConstraint("cpo_party_id", "ocpi_id", name="uq_tariffs_party_ocpi_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    cpo_party_id: Mapped[str] = mapped_column(ForeignKey("cpo_parties.id", ondelete="CASCADE"), index=True)
    ocpi_id: Mapped[str] = mapped_column(String(36))
    # The OCPI 2.3.0 Tariff without country_code, party_id, id and last_updated (the party and this row give
    # those); 2.2.1 is derived from it when served (ocpi.tariff_versions).
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
