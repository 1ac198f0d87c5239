"""The push outbox: every OCPI push an eMSP is owed, written with the change that causes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, utcnow

__all__ = ["OcpiPush", "PushState"]


class PushState:
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the last attempt; the management API can push it again


class OcpiPush(Base):
    __tablename__ = "ocpi_pushes"
    __table_args__ = (Index("ix_ocpi_pushes_due", "state", "next_attempt_at"),
                      Index("ix_ocpi_pushes_partner", "partner_id", "id"),
                      # "Has this eMSP been sent this Location/EVSE/Session before?" (domain.outbox).
                      Index("ix_ocpi_pushes_partner_object", "partner_id", "object_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    partner_id: Mapped[str] = mapped_column(ForeignKey("ocpi_partners.id", ondelete="CASCADE"))
    # What to send: the object is rendered when sent, in the partner's version, from the current state.
    kind: Mapped[str] = mapped_column(String(24))        # session_put, session_patch, cdr_post, evse_patch
    object_id: Mapped[str] = mapped_column(String(64))   # pushes of one object go out in id order
    # The object's changing fields as they were when the push was queued (a Session's status, kWh, cost...),
    # laid over the object when it is sent: an eMSP that was down still sees every state, in order.
    snapshot: Mapped[dict | None] = mapped_column(JSON, default=None)
    state: Mapped[str] = mapped_column(String(10), default=PushState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_status: Mapped[int | None] = mapped_column(Integer, default=None)        # HTTP status of the last try
    last_ocpi_status: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    location: Mapped[str | None] = mapped_column(String(255), default=None)       # CDR POST answer's Location
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
