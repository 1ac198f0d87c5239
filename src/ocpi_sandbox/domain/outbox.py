"""Queue the OCPI pushes an eMSP is owed, in the caller's transaction (the transactional outbox).

Callers add pushes with the change that causes them and commit both together: a restart, or an eMSP that is
down, loses nothing. ``ocpi.push_dispatcher`` sends them; this module only writes and reads the queue.

Push kinds and their objects (``object_id``):

=================  ==========================  ===========================================================
kind               object_id                   sent as (OCPI 2.2.1, Receiver interfaces)
=================  ==========================  ===========================================================
session_put        session id                  PUT  {sessions}/{cc}/{pid}/{session_id}
session_patch      session id                  PATCH the same URL (kWh, periods, running cost, status)
cdr_post           CDR id                      POST {cdrs}
location_put       location id                 PUT  {locations}/{cc}/{pid}/{location_id}
evse_put           location id/EVSE uid        PUT  {locations}/{cc}/{pid}/{location_id}/{evse_uid}
evse_patch         location id/EVSE uid        PATCH the same URL (status, last_updated)
tariff_put         tariff id                   PUT  {tariffs}/{cc}/{pid}/{tariff_id}
tariff_delete      tariff id                   DELETE the same URL
=================  ==========================  ===========================================================

Pushes go out in queue order per :func:`order_key`: a Location and its EVSEs share one line, a CDR waits for
its Session's pushes, so an eMSP never sees an EVSE before its Location or a CDR before the session ended.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import CpoParty, Location, OcpiPush, Partner, PartnerState, PushState, utcnow

__all__ = ["enqueue", "receivers", "retry", "order_key", "MODULE_OF", "ROLE_OF", "announce_location", "announce_tariff",
           "location_pushes_sent"]

# The eMSP Receiver module each push kind goes to.
MODULE_OF = {"session_put": "sessions", "session_patch": "sessions", "cdr_post": "cdrs",
             "location_put": "locations", "evse_put": "locations", "evse_patch": "locations",
             "tariff_put": "tariffs", "tariff_delete": "tariffs", "active_profile_put": "chargingprofiles"}
# The eMSP interface a push goes to is its Receiver, except the unsolicited ActiveChargingProfile PUT: that goes to
# the eMSP's chargingprofiles Sender interface (OCPI 2.2.1 mod_charging_profiles; object_id is the session id).
ROLE_OF = {"active_profile_put": "SENDER"}


def has_receiver(partner: Partner, module: str, role: str = "RECEIVER") -> bool:
    return any(e["identifier"] == module and e.get("role", "RECEIVER") == role for e in partner.endpoints or [])


def enqueue(session: AsyncSession, partner: Partner, kind: str, object_id: str, module: str | None = None,
            snapshot: dict | None = None, *, due: datetime | None = None) -> OcpiPush | None:
    """Add a push if the partner is registered and has a Receiver for the kind's module; return it, or None."""
    if partner.state != PartnerState.REGISTERED or not has_receiver(partner, module or MODULE_OF[kind],
                                                                     ROLE_OF.get(kind, "RECEIVER")):
        return None
    push = OcpiPush(tenant_id=partner.tenant_id, partner_id=partner.id, kind=kind, object_id=object_id,
                    snapshot=snapshot, next_attempt_at=due or utcnow())
    session.add(push)
    return push


def order_key(push: OcpiPush) -> tuple[str, str, str]:
    """The line a push waits in: pushes with the same key go out strictly in id order."""
    module = MODULE_OF.get(push.kind, push.kind)
    if module == "locations":
        return push.partner_id, module, push.object_id.split("/", 1)[0].upper()
    if push.kind == "cdr_post" and push.snapshot and push.snapshot.get("session_id"):
        return push.partner_id, "sessions", push.snapshot["session_id"]
    return push.partner_id, module, push.object_id


async def receivers(session: AsyncSession, cpo_party_id: str) -> list[Partner]:
    """The registered partners of a CPO party (every one of them is owed Location and Tariff updates)."""
    return list((await session.scalars(select(Partner).where(
        Partner.cpo_party_id == cpo_party_id, Partner.state == PartnerState.REGISTERED))).all())


async def location_pushes_sent(session: AsyncSession, partner_id: str, location_ocpi_id: str
                               ) -> dict[str, datetime]:
    """The location and EVSE objects (``object_id``) already queued for a partner, whatever their state, with
    when each was first queued."""
    rows = await session.execute(select(OcpiPush.object_id, func.min(OcpiPush.created_at)).where(
        OcpiPush.partner_id == partner_id, OcpiPush.kind.in_(("location_put", "evse_put", "evse_patch")),
        or_(OcpiPush.object_id == location_ocpi_id, OcpiPush.object_id.startswith(location_ocpi_id + "/")))
        .group_by(OcpiPush.object_id))
    return {object_id: first for object_id, first in rows.all()}


async def announce_location(session: AsyncSession, location: Location) -> int:
    """Queue a full Location PUT to every registered eMSP of the location's party (a new or changed site)."""
    if location.cpo_party_id is None:
        return 0
    queued = 0
    for partner in await receivers(session, location.cpo_party_id):
        queued += enqueue(session, partner, "location_put", location.ocpi_id) is not None
    return queued


async def announce_tariff(session: AsyncSession, party: CpoParty, tariff_ocpi_id: str, *, deleted: bool = False
                          ) -> int:
    """Queue a Tariff PUT (new or changed) or DELETE to every registered eMSP of the party (mod_tariffs)."""
    queued = 0
    for partner in await receivers(session, party.id):
        kind = "tariff_delete" if deleted else "tariff_put"
        queued += enqueue(session, partner, kind, tariff_ocpi_id) is not None
    return queued


async def retry(session: AsyncSession, push: OcpiPush, at: datetime | None = None) -> OcpiPush:
    """Put a failed (or delivered) push back in the queue, due now."""
    push.state, push.next_attempt_at, push.attempts = PushState.PENDING, at or utcnow(), 0
    await session.commit()
    return push
