"""Commands eMSPs sent us (OCPI Commands module, CPO = Receiver), kept to answer and to follow up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, utcnow

__all__ = ["OcpiCommand"]


class OcpiCommand(Base):
    __tablename__ = "ocpi_commands"
    __table_args__ = (Index("ix_ocpi_commands_identity_token", "identity", "id_token"),)

    # Our own number: the remoteStartId / reservation id the charger sees, unique across eMSPs (OCPI
    # mod_commands: the eMSP's reservation_id must not go to the charger as is).
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("ocpi_partners.id", ondelete="CASCADE"), index=True)
    cpo_party_id: Mapped[str] = mapped_column(ForeignKey("cpo_parties.id", ondelete="CASCADE"))
    command: Mapped[str] = mapped_column(String(24))
    version: Mapped[str] = mapped_column(String(8))
    request: Mapped[dict] = mapped_column(JSON)
    response_url: Mapped[str] = mapped_column(String(255))
    identity: Mapped[str | None] = mapped_column(String(48), default=None)
    evse_id: Mapped[int | None] = mapped_column(Integer, default=None)
    connector_id: Mapped[int | None] = mapped_column(Integer, default=None)
    id_token: Mapped[str | None] = mapped_column(String(36), default=None)
    emsp_reservation_id: Mapped[str | None] = mapped_column(String(36), default=None)
    result: Mapped[str | None] = mapped_column(String(24), default=None)   # the CommandResult we sent
    detail: Mapped[str | None] = mapped_column(Text, default=None)         # what the charger answered, or why not
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
