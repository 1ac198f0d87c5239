"""Bundles: a preset made live for a tenant (a CPO party with its tariffs, locations and chargers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, new_id, utcnow

__all__ = ["Bundle"]


class Bundle(Base):
    __tablename__ = "bundles"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    preset: Mapped[str] = mapped_column(String(48))
    name: Mapped[str] = mapped_column(String(100))
    # The CPO identity asked for (the preset's unless overridden); the party itself once provisioned.
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    cpo_party_id: Mapped[str | None] = mapped_column(ForeignKey("cpo_parties.id", ondelete="SET NULL"), default=None)
    # The provisioning job (jobs.id); its status is the bundle's.
    job_id: Mapped[str | None] = mapped_column(String(36), default=None)
    # Charger identities are "<party_id><tag>-<prefix>-<n>": the tag keeps two bundles of a preset apart.
    tag: Mapped[str] = mapped_column(String(8))
    # Token A for one eMSP, kept in clear so the bundle can show it again until that eMSP has registered
    # (a registration token opens only versions and credentials; it is replaced by token C at once).
    token_a: Mapped[str | None] = mapped_column(String(64), default=None)
    registration_partner_id: Mapped[str | None] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
