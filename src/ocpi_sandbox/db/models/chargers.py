"""Simulated chargers (what the fleet runs) and the per-charger OCPP frame log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, new_id, utcnow

__all__ = ["Charger", "ChargerFrame"]


class Charger(Base):
    """A simulated charge point: its configuration, where it connects, and its last saved state."""

    __tablename__ = "chargers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[str | None] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), default=None,
                                                    index=True)
    # The charge point identity: the last path segment of its WebSocket URL (OCPP 2.0.1: max 48, no ':').
    identity: Mapped[str] = mapped_column(String(48), unique=True)
    ocpp_version: Mapped[str] = mapped_column(String(8))
    brand_slug: Mapped[str | None] = mapped_column(String(64), default=None)
    model_slug: Mapped[str | None] = mapped_column(String(64), default=None)
    # None: the embedded CSMS. Otherwise the CSMS endpoint URL the identity is appended to.
    ws_url: Mapped[str | None] = mapped_column(String(255), default=None)
    # HTTP Basic password (security profile 1/2); the simulator must present it, so it is kept in clear.
    password: Mapped[str | None] = mapped_column(String(64), default=None)
    config: Mapped[dict] = mapped_column(JSON)      # simulator.station.StationConfig, as JSON
    # What OCPI publishes of it: [{evse_id, capabilities, connectors: [{connector_id, standard, format,
    # power_type, max_voltage, max_amperage, max_electric_power, tariff_ids}]}], from the catalog model.
    hardware: Mapped[list] = mapped_column(JSON, default=list)
    snapshot: Mapped[dict | None] = mapped_column(JSON, default=None)  # Station.snapshot(), saved on changes
    enabled: Mapped[bool] = mapped_column(default=True)  # False: kept but not connected (disconnect command)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ChargerFrame(Base):
    """One OCPP-J frame as a charge point sent or received it."""

    __tablename__ = "charger_frames"
    __table_args__ = (Index("ix_charger_frames_identity_id", "identity", "id"),
                      Index("ix_charger_frames_at", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    identity: Mapped[str] = mapped_column(String(48))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Seen from the charge point: "sent" (charger -> CSMS) or "received" (CSMS -> charger).
    direction: Mapped[str] = mapped_column(String(8))
    message_type: Mapped[int | None] = mapped_column(Integer, default=None)  # 2 CALL, 3 CALLRESULT, 4 CALLERROR
    action: Mapped[str | None] = mapped_column(String(64), default=None)
    unique_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # Which end wrote it: "simulator" (our charger) or "csms" (our CSMS, for a charger we do not simulate).
    side: Mapped[str] = mapped_column(String(10))
    frame: Mapped[str] = mapped_column(Text)
