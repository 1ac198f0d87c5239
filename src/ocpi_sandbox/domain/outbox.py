"""Queue the OCPI pushes an eMSP is owed, in the caller's transaction (the transactional outbox).

Callers add pushes with the change that causes them and commit both together: a restart, or an eMSP that is
down, loses nothing. ``jobs``/``ocpi`` send them; this module only writes and reads the queue.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import OcpiPush, Partner, PartnerState, PushState, utcnow

__all__ = ["enqueue", "receivers", "retry"]


def _has_receiver(partner: Partner, module: str) -> bool:
    return any(e["identifier"] == module and e.get("role", "RECEIVER") == "RECEIVER" for e in partner.endpoints or [])


def enqueue(session: AsyncSession, partner: Partner, kind: str, object_id: str, module: str,
            snapshot: dict | None = None) -> bool:
    """Add a push if the partner is registered and has a Receiver for ``module``; return whether it did."""
    if partner.state != PartnerState.REGISTERED or not _has_receiver(partner, module):
        return False
    session.add(OcpiPush(tenant_id=partner.tenant_id, partner_id=partner.id, kind=kind, object_id=object_id,
                         snapshot=snapshot))
    return True


async def receivers(session: AsyncSession, cpo_party_id: str) -> list[Partner]:
    """The registered partners of a CPO party (every one of them is owed Location updates)."""
    return list((await session.scalars(select(Partner).where(
        Partner.cpo_party_id == cpo_party_id, Partner.state == PartnerState.REGISTERED))).all())


async def retry(session: AsyncSession, push: OcpiPush, at: datetime | None = None) -> OcpiPush:
    """Put a failed (or delivered) push back in the queue, due now."""
    push.state, push.next_attempt_at, push.attempts = PushState.PENDING, at or utcnow(), 0
    await session.commit()
    return push
