"""Reservations as OCPI sessions (OCPI 2.2.1 mod_commands ReserveNow / CancelReservation and mod_sessions
SessionStatus RESERVATION; reference ocpi.md §4.2, §4.6).

A RESERVE_NOW the charger accepted becomes a Session in status RESERVATION, PUT to the eMSP that reserved. Then:

- the reserved token starts charging at that EVSE: the same session turns ACTIVE
  (``cpo_sessions.open_session``), its reservation time the first charging period of its CDR;
- the reservation expires unused: the session is COMPLETED, and a CDR follows when the tariff prices it
  (RESERVATION_EXPIRES elements first, then RESERVATION ones: mod_tariffs, ReservationRestrictionType);
- the eMSP cancels it (CANCEL_RESERVATION): COMPLETED, with a CDR when RESERVATION elements price it
  (mod_commands: a cancellation "may still lead to a CDR for reservation costs");
- it is removed: the charger drops it (2.0.1 ReservationStatusUpdate Removed; on 1.6 the reserved connector, or
  the whole charge point, Faulted), or its charger or location is deleted. The CPO has cancelled it: COMPLETED
  like any unused reservation (mod_sessions), but free and without a CDR, and the eMSP is told
  CANCELED_RESERVATION at the RESERVE_NOW's response_url (mod_commands, CommandResultType) by the caller. A
  CANCEL_RESERVATION the charger answers "unknown" ends it free and without a CDR too (it is gone from the
  charger), the eMSP having its UNKNOWN_RESERVATION rather than a CANCELED_RESERVATION.

Nothing is priced while reserving: the session's cost is known when the reservation ends or is used. The
functions here never commit: a reservation's change and its pushes go in the caller's transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Charger, CpoParty, CpoSession, Location, OcpiCommand, Partner, utcnow
from . import outbox
from .cdrs import make_cdr, periods_json
from .cpo_sessions import (
    connector_tariff,
    leave_reservation,
    patch_session,
    reservation_period,
    session_snapshot,
    tariff_of,
)
from .held_reservations import held, reservation_expiry, reservation_number
from .pricing import price_session

__all__ = ["open_reservation", "Opened", "end_reservation", "expire_reservations", "remove_reservations", "EndedBy"]

log = logging.getLogger(__name__)

# How a reservation ended unused: its expiry_date passed, the eMSP cancelled it, or it was removed (by the
# charger, or with its charger or location).
EndedBy = Literal["expired", "cancelled", "removed"]


class Opened(msgspec.Struct, kw_only=True):
    """An accepted RESERVE_NOW's session, and the RESERVE_NOW it replaced on another charger (to cancel there)."""

    row: CpoSession
    moved_from: OcpiCommand | None = None


async def open_reservation(session: AsyncSession, command: OcpiCommand) -> Opened | None:
    """Make (or, for a RESERVE_NOW that replaced one, update) the RESERVATION session of an accepted RESERVE_NOW
    and queue its PUT. None when the charger stands at no location of the command's CPO and tenant."""
    charger = await session.scalar(select(Charger).where(Charger.identity == command.identity,
                                                         Charger.tenant_id == command.tenant_id))
    location = await session.get(Location, charger.location_id) if charger and charger.location_id else None
    if location is None or location.cpo_party_id != command.cpo_party_id:
        return None
    request, now = command.request, utcnow()
    evse_id = command.evse_id or 1
    evse = next((e for e in charger.hardware or [] if e["evse_id"] == evse_id), {})
    connectors = evse.get("connectors") or []
    # The EVSE is known (we reserve one); its connector only when it has one (mod_sessions allows "#NA").
    connector_id = str(connectors[0]["connector_id"]) if len(connectors) == 1 else "#NA"
    tariff = await connector_tariff(session, charger, location.cpo_party_id, evse_id, None)
    # The same reservation_id at the same location replaces the reservation (mod_commands, ReserveNow): the
    # session stays. On the same charger the charger replaced it too (same number); on another one the old
    # charger still holds it, and the caller cancels it there.
    replaced, moved_from = None, None
    for row, earlier in await held(session, tenant_id=command.tenant_id, partner_id=command.partner_id,
                                   emsp_reservation_id=command.emsp_reservation_id):
        if row.location_id.upper() == location.ocpi_id.upper():
            replaced = row
            if earlier.identity != command.identity or reservation_number(earlier) != reservation_number(command):
                moved_from = earlier
    row = replaced or CpoSession(
        tenant_id=command.tenant_id, cpo_party_id=location.cpo_party_id, partner_id=command.partner_id,
        location_id=location.ocpi_id, status="RESERVATION", time_zone=location.time_zone, start_date_time=now,
        reserved_at=now, kwh=0.0, meter_start_wh=0.0, charging_periods=[])
    row.reservation_command_id, row.location_id = command.id, location.ocpi_id
    row.evse_uid, row.connector_id = f"{charger.identity}-{evse_id}", connector_id
    row.cdr_token = {k: request["token"][k] for k in ("country_code", "party_id", "uid", "type", "contract_id")}
    row.auth_method, row.authorization_reference = "COMMAND", request.get("authorization_reference")
    row.tariff_id = tariff.ocpi_id if tariff else None
    row.currency = tariff.data["currency"] if tariff else "EUR"
    row.last_updated = now
    if replaced is None:
        session.add(row)
        await session.flush()
    partner = await session.get(Partner, command.partner_id)
    if partner is not None:
        outbox.enqueue(session, partner, "session_put", row.id, "sessions", session_snapshot(row))
    return Opened(row=row, moved_from=moved_from)


async def end_reservation(session: AsyncSession, row: CpoSession, command: OcpiCommand, *, ended_by: EndedBy,
                          at: datetime) -> bool:
    """End a reservation that was not used, at ``at``: the final PATCH (with its reservation period and cost)
    and, when its tariff prices it, the CDR. False when it had ended, been used or been replaced meanwhile
    (``command`` is no longer the RESERVE_NOW in force)."""
    if not await leave_reservation(session, row, "COMPLETED", command_id=command.id):
        return False
    row.end_date_time, row.last_updated = at, max(row.last_updated, at)
    reserved = reservation_period(row, at)
    periods = [reserved] if reserved is not None else []
    row.charging_periods = periods_json(periods)
    cdr = None
    tariff_row, tariff = await tariff_of(session, row) if ended_by != "removed" else (None, None)
    if ended_by == "removed":
        row.total_cost = {"excl_vat": 0.0, "incl_vat": 0.0}  # the CPO cancelled it: not billed
    elif tariff is not None and periods:
        zone, expired = ZoneInfo(row.time_zone), ended_by == "expired"
        costs = price_session(tariff, zone, periods, row.reserved_at, at, reservation_expired=expired)
        if any(p.components for p in costs.periods):  # a CDR only for reservation costs (mod_sessions)
            party = await session.get(CpoParty, row.cpo_party_id)
            cdr, _ = await make_cdr(session, row, party, periods=periods, start=row.reserved_at, end=at,
                                    identity=command.identity, evse_id=command.evse_id or 1, zone=zone,
                                    tariff_row=tariff_row, tariff=tariff, costs=costs)
        else:
            row.total_cost = {"excl_vat": 0.0, "incl_vat": 0.0}  # the tariff is known: this reservation is free
    await patch_session(session, row, row.charging_periods, final=True)
    partner = await session.get(Partner, row.partner_id)
    if cdr is not None and partner is not None:  # after the session's own pushes (outbox.order_key)
        outbox.enqueue(session, partner, "cdr_post", cdr.id, "cdrs", {"session_id": row.id})
    return True


async def expire_reservations(session: AsyncSession, now: datetime | None = None) -> int:
    """End every reservation whose expiry_date has passed (at that time), each in its own transaction; return
    how many. One that cannot be ended is logged and skipped: it must not keep the others from expiring."""
    now = now or utcnow()
    due = [(row.id, command.id) for row, command in await held(session, tenant_id=None)
           if (expiry := reservation_expiry(command)) is not None and expiry <= now]
    await session.commit()
    ended = 0
    for session_id, command_id in due:
        try:  # read afresh: a replacing RESERVE_NOW (a later expiry) may have been committed since
            row = await session.get(CpoSession, session_id, populate_existing=True)
            command = await session.get(OcpiCommand, command_id, populate_existing=True)
            if row is not None and command is not None and row.reservation_command_id == command_id:
                expiry = reservation_expiry(command)
                ended += await end_reservation(session, row, command, ended_by="expired",
                                               at=max(expiry, row.reserved_at or expiry))
            await session.commit()
        except Exception:
            log.exception("reservation session %s could not be ended at its expiry", session_id)
            await session.rollback()
    return ended


async def remove_reservations(session: AsyncSession, tenant_id: str, *, identities: list[str] | None = None,
                              location: Location | None = None, why: str) -> int:
    """End the reservations at chargers (or at a location) about to be deleted: removed, as by the charger; the
    RESERVE_NOW's outcome becomes CANCELED_RESERVATION (a later CANCEL_RESERVATION finds nothing). Return how
    many; no CommandResult is sent (the deletion does not wait on the eMSP), the final PATCH tells it."""
    names = set(identities or [])

    def there(row: CpoSession, command: OcpiCommand) -> bool:
        return command.identity in names or (location is not None and row.cpo_party_id == location.cpo_party_id
                                             and row.location_id.upper() == location.ocpi_id.upper())

    ended = 0
    for row, command in [h for h in await held(session, tenant_id=tenant_id) if there(*h)]:
        if await end_reservation(session, row, command, ended_by="removed", at=utcnow()):
            command.result, command.detail = "CANCELED_RESERVATION", why
            ended += 1
    return ended
