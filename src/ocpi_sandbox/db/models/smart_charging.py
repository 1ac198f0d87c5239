"""Smart charging the CPO asked for: limit changes on running transactions, and eMSPs' OCPI charging profiles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, utcnow

__all__ = ["ChargingLimitChange", "OcpiChargingProfile"]


class ChargingLimitChange(Base):
    """A moment the CSMS changed the charging profiles that govern a running transaction.

    Charging periods are cut at these moments (OCPI sessions and CDRs show the effect of a limit). ``schedule``
    is the charger's composite schedule right after the change, in W with absolute start times
    (``[{"start": ISO time, "limit_w": float}]``), so a later step of the schedule cuts a period too.
    """

    __tablename__ = "csms_limit_changes"
    __table_args__ = (Index("ix_csms_limit_changes_tx_at", "transaction_pk", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transaction_pk: Mapped[str] = mapped_column(ForeignKey("csms_transactions.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    source: Mapped[str] = mapped_column(String(16))  # "api" (management API) or "ocpi" (an eMSP's profile)
    schedule: Mapped[list | None] = mapped_column(JSON, default=None)


class OcpiChargingProfile(Base):
    """One request an eMSP made to the ChargingProfiles module (CPO = Receiver), kept to answer it later.

    ``method`` GET asks for the ActiveChargingProfile, PUT sets a profile, DELETE clears it (OCPI 2.2.1
    mod_charging_profiles). A PUT that ended ACCEPTED makes the session owe the eMSP an unsolicited
    ActiveChargingProfile whenever the CPO changes the limit.
    """

    __tablename__ = "ocpi_charging_profiles"
    __table_args__ = (Index("ix_ocpi_charging_profiles_session", "session_id", "method"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("ocpi_partners.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("cpo_sessions.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(8))
    version: Mapped[str] = mapped_column(String(8))
    request: Mapped[dict] = mapped_column(JSON)
    response_url: Mapped[str] = mapped_column(String(255))
    result: Mapped[str | None] = mapped_column(String(16), default=None)  # the ChargingProfileResultType we sent
    detail: Mapped[str | None] = mapped_column(Text, default=None)       # what the charger answered, or why not
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
