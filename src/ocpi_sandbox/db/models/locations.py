"""Locations: the sites chargers stand at (what OCPI publishes as Location objects)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, new_id, utcnow

__all__ = ["Location"]


class Location(Base):
    __tablename__ = "locations"
    __table_args__ = (UniqueConstraint("tenant_id", "ocpi_id", name="uq_locations_ocpi_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    # The CPO party that publishes it over OCPI; None: not published.
    cpo_party_id: Mapped[str | None] = mapped_column(ForeignKey("cpo_parties.id", ondelete="SET NULL"),
                                                     default=None, index=True)
    ocpi_id: Mapped[str] = mapped_column(String(36))  # OCPI Location.id, unique per CPO
    name: Mapped[str] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(String(255))
    city: Mapped[str] = mapped_column(String(45))
    postal_code: Mapped[str | None] = mapped_column(String(10), default=None)
    state: Mapped[str | None] = mapped_column(String(20), default=None)
    country: Mapped[str] = mapped_column(String(3))      # ISO 3166-1 alpha-3, as OCPI Location.country
    latitude: Mapped[str] = mapped_column(String(10))    # OCPI GeoLocation: strings, 5-7 decimals
    longitude: Mapped[str] = mapped_column(String(11))
    time_zone: Mapped[str] = mapped_column(String(64))   # IANA, e.g. Europe/Amsterdam
    operator_name: Mapped[str | None] = mapped_column(String(100), default=None)
    owner_name: Mapped[str | None] = mapped_column(String(100), default=None)
    opening_times: Mapped[dict | None] = mapped_column(JSON, default=None)  # OCPI Hours
    facilities: Mapped[list] = mapped_column(JSON, default=list)             # OCPI Facility values
    parking_type: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
