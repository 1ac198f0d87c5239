"""Charging sessions and CDRs as the CPO publishes them to the eMSP whose token started them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, new_id, utcnow

__all__ = ["CpoSession", "CpoCdr"]


class CpoSession(Base):
    __tablename__ = "cpo_sessions"
    __table_args__ = (UniqueConstraint("transaction_pk", name="uq_cpo_sessions_transaction"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)  # also the OCPI Session.id
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    cpo_party_id: Mapped[str] = mapped_column(ForeignKey("cpo_parties.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("ocpi_partners.id", ondelete="CASCADE"), index=True)
    # The CSMS transaction; None while the session is a reservation no charging has used yet.
    transaction_pk: Mapped[str | None] = mapped_column(ForeignKey("csms_transactions.id", ondelete="CASCADE"),
                                                       default=None)
    # A session that began as a reservation (OCPI mod_sessions, status RESERVATION): the RESERVE_NOW in force
    # (the latest, when one replaced another) and when the EVSE was reserved, the start of the CDR.
    reservation_command_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ocpi_commands.id", ondelete="SET NULL"), default=None, index=True)
    reserved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    location_id: Mapped[str] = mapped_column(String(36))       # OCPI Location.id
    evse_uid: Mapped[str] = mapped_column(String(36))
    connector_id: Mapped[str] = mapped_column(String(36))
    cdr_token: Mapped[dict] = mapped_column(JSON)              # OCPI CdrToken
    auth_method: Mapped[str] = mapped_column(String(16))       # AUTH_REQUEST, COMMAND, WHITELIST
    authorization_reference: Mapped[str | None] = mapped_column(String(36), default=None)
    # ACTIVE, COMPLETED, INVALID, PENDING, RESERVATION; indexed for the few sessions in force among the many ended.
    status: Mapped[str] = mapped_column(String(16), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    tariff_id: Mapped[str | None] = mapped_column(String(36), default=None)
    time_zone: Mapped[str] = mapped_column(String(64))
    start_date_time: Mapped[datetime] = mapped_column(UtcDateTime)
    end_date_time: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    meter_start_wh: Mapped[float] = mapped_column(Float, default=0.0)
    kwh: Mapped[float] = mapped_column(Float, default=0.0)
    # Running cost (2.2.1 Price shape) and charging periods, refreshed as meter values arrive.
    total_cost: Mapped[dict | None] = mapped_column(JSON, default=None)
    charging_periods: Mapped[list] = mapped_column(JSON, default=list)
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CpoCdr(Base):
    __tablename__ = "cpo_cdrs"

    id: Mapped[str] = mapped_column(String(39), primary_key=True, default=new_id)  # also the OCPI CDR.id
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    cpo_party_id: Mapped[str] = mapped_column(ForeignKey("cpo_parties.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("ocpi_partners.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("cpo_sessions.id", ondelete="CASCADE"), unique=True)
    # The CDR as OCPI 2.2.1 JSON (2.3.0 derived when served) and the pricing breakdown behind its totals.
    data: Mapped[dict] = mapped_column(JSON)
    breakdown: Mapped[dict] = mapped_column(JSON)
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
