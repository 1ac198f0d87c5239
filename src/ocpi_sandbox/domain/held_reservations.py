"""Reservations in force: sessions in status RESERVATION (OCPI 2.2.1 mod_sessions) with the RESERVE_NOW behind
each, found the ways the protocols name them: the number the charger knows (OCPP reservationId), the EVSE, the
token, the eMSP's reservation_id (mod_commands, ReserveNow).

Shared by ``reservations`` (which opens and ends them) and ``cpo_sessions`` (where charging uses one). Lookups at
a charger are within its tenant: the identity of a deleted charger may come back in another tenant.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import CpoSession, OcpiCommand
from .authorization import same_id_token

__all__ = ["Held", "held", "held_at", "held_for", "used_by", "reservation_expiry", "reservation_number"]

# A reservation in force: its RESERVATION session and the RESERVE_NOW in force for it (the latest, when one
# replaced another).
Held = tuple[CpoSession, OcpiCommand]


def reservation_expiry(command: OcpiCommand) -> datetime | None:
    """The ReserveNow's expiry_date (UTC)."""
    raw = command.request.get("expiry_date")
    if not raw:
        return None
    value = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def reservation_number(command: OcpiCommand) -> int:
    """The reservation id the charger knows (ours, not the eMSP's; a replaced reservation keeps its number).
    A CANCEL_RESERVATION carries the number of the reservation it cancels."""
    return int(command.request.get("_reservation_number", command.id))


async def held(session: AsyncSession, *, tenant_id: str | None, identity: str | None = None,
               partner_id: str | None = None, emsp_reservation_id: str | None = None) -> list[Held]:
    """The reservations in force, oldest first: of one tenant (None: of every tenant, for the expiry sweep)."""
    query = select(CpoSession, OcpiCommand).join(
        OcpiCommand, OcpiCommand.id == CpoSession.reservation_command_id).where(CpoSession.status == "RESERVATION")
    if tenant_id is not None:
        query = query.where(OcpiCommand.tenant_id == tenant_id, CpoSession.tenant_id == tenant_id)
    if identity is not None:
        query = query.where(OcpiCommand.identity == identity)
    if partner_id is not None:
        query = query.where(OcpiCommand.partner_id == partner_id)
    if emsp_reservation_id is not None:
        query = query.where(OcpiCommand.emsp_reservation_id == emsp_reservation_id)
    rows = (await session.execute(query.order_by(CpoSession.created_at, CpoSession.id))).all()
    return [(row, command) for row, command in rows]


async def held_at(session: AsyncSession, tenant_id: str | None, identity: str, *, number: int | None = None,
                  evse_id: int | None = None) -> Held | None:
    """The reservation in force at a charger: by the charger's reservation number, or on an EVSE (0: any)."""
    for row, command in await held(session, tenant_id=tenant_id, identity=identity):
        if number is not None and reservation_number(command) == number:
            return row, command
        if number is None and evse_id is not None and evse_id in (0, command.evse_id or 1):
            return row, command
    return None


async def held_for(session: AsyncSession, partner_id: str, emsp_reservation_id: str) -> Held | None:
    """The eMSP's reservation in force with this reservation_id (the newest, should it hold it at two locations)."""
    found = await held(session, tenant_id=None, partner_id=partner_id, emsp_reservation_id=emsp_reservation_id)
    return found[-1] if found else None


async def used_by(session: AsyncSession, tenant_id: str, identity: str, *, number: int | None,
                  id_token: str | None, evse_id: int) -> Held | None:
    """The reservation a transaction uses: the one the charger names (its reservationId, our number), or else one
    on this EVSE for this token (the charger let the reserved token in)."""
    rows = await held(session, tenant_id=tenant_id, identity=identity)
    for row, command in rows:
        if number is not None and reservation_number(command) == number:
            return row, command
    for row, command in rows:
        if same_id_token(command.id_token, id_token) and command.evse_id in (None, evse_id):
            return row, command
    return None
