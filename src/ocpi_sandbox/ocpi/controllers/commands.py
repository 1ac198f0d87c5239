"""The Commands module, CPO as Receiver (OCPI 2.2.1 mod_commands; reference ocpi.md §4.6).

``POST {commands_url}/{command}`` answers at once with a CommandResponse (ACCEPTED with a timeout, or
REJECTED/UNKNOWN_SESSION/NOT_SUPPORTED with a message; an unknown location is OCPI 2003 with a REJECTED
response) and then carries the command out on the charger; the CommandResult follows at the response_url.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, post
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ...db.models import Charger, CpoSession, CsmsTransaction, Location, OcpiCommand, utcnow
from ...domain.held_reservations import held_for, reservation_expiry, reservation_number
from ..caller import OcpiCaller
from ..commands import CommandRunner
from ..envelope import OcpiResponse, ocpi_response
from ..errors import OcpiError
from ..middleware import correlation_id_of
from ..request_body import decode_body
from ..status import OcpiStatus
from ..v221 import commands as c221
from ..v230 import commands as c230

__all__ = ["CommandsController"]


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")

TIMEOUT = 30  # seconds the eMSP may wait for the CommandResult
_TYPES = {"2.2.1": c221, "2.3.0": c230}
_BODY = {"START_SESSION": "StartSession", "STOP_SESSION": "StopSession", "RESERVE_NOW": "ReserveNow",
         "CANCEL_RESERVATION": "CancelReservation", "UNLOCK_CONNECTOR": "UnlockConnector"}


def _answer(result: str, message: str | None = None, *, status: int = OcpiStatus.SUCCESS) -> Response[Any]:
    data: dict[str, Any] = {"result": result, "timeout": TIMEOUT}
    if message:
        data["message"] = [{"language": "en", "text": message}]
    return ocpi_response(data, status_code=status)


async def _evse(db_session: AsyncSession, caller: OcpiCaller, location_id: str, evse_uid: str | None
                ) -> tuple[Location | None, Charger | None, int | None]:
    location = await db_session.scalar(select(Location).where(
        Location.cpo_party_id == caller.party.id, func.upper(Location.ocpi_id) == location_id.upper()))
    if location is None:
        return None, None, None
    chargers = (await db_session.scalars(select(Charger).where(Charger.location_id == location.id)
                                         .order_by(Charger.created_at))).all()
    for charger in chargers:
        for evse in charger.hardware or []:
            if evse_uid is None or f"{charger.identity}-{evse['evse_id']}".upper() == evse_uid.upper():
                return location, charger, evse["evse_id"]
    return location, None, None


class CommandsController(Controller):
    path = "/commands"
    opt = {"ocpi_module": "commands"}

    @post("/{command:str}", operation_id="ocpiCommand", include_in_schema=False, status_code=200)
    async def receive(self, request: Request, caller: OcpiCaller, db_session: AsyncSession, command: str,
                      command_runner: CommandRunner) -> Response[OcpiResponse[Any]]:
        version = request.route_handler.opt["ocpi_version"]
        if command not in _BODY:
            return _answer("NOT_SUPPORTED", f"{command} is not a command this CPO supports; use one of "
                                            f"{', '.join(_BODY)}")
        body = decode_body(await request.body(), getattr(_TYPES[version], _BODY[command]))
        row = OcpiCommand(tenant_id=caller.partner.tenant_id, partner_id=caller.partner.id, cpo_party_id=caller.party.id,
                          command=command, version=version, request=msgspec.to_builtins(body),
                          response_url=body.response_url)
        if command in ("START_SESSION", "RESERVE_NOW", "UNLOCK_CONNECTOR"):
            evse_uid = getattr(body, "evse_uid", None)
            location, charger, evse_id = await _evse(db_session, caller, body.location_id, evse_uid)
            if location is None:
                return _answer("REJECTED", f"unknown location {body.location_id}", status=OcpiStatus.UNKNOWN_LOCATION)
            if charger is None:
                return _answer("REJECTED", f"no EVSE {evse_uid} at location {body.location_id}" if evse_uid
                               else f"location {body.location_id} has no EVSE")
            row.identity, row.evse_id = charger.identity, evse_id
            if command == "UNLOCK_CONNECTOR":
                row.connector_id = int(body.connector_id) if body.connector_id.isdigit() else 1
            else:
                row.id_token = body.token.uid
            if command == "RESERVE_NOW":
                row.emsp_reservation_id = body.reservation_id
                expiry = body.expiry_date if body.expiry_date.tzinfo else body.expiry_date.replace(tzinfo=UTC)
                if expiry <= utcnow():
                    return _answer("REJECTED", f"expiry_date {_stamp(expiry)} has passed; reserve "
                                               "until a time in the future (UTC)")
                # The same reservation_id at the same location replaces the reservation (mod_commands,
                # ReserveNow). On the same charger it gets the same reservation number, so the charger replaces
                # it too; on another charger a new one (the old charger's is cancelled once this one holds).
                earlier = await held_for(db_session, caller.partner.id, body.reservation_id)
                if earlier is not None and earlier[1].identity == charger.identity and \
                        earlier[0].location_id.upper() == location.ocpi_id.upper() and \
                        (reservation_expiry(earlier[1]) or utcnow()) > utcnow():
                    row.request = {**row.request, "_reservation_number": reservation_number(earlier[1])}
        elif command == "STOP_SESSION":
            cpo_session = await db_session.scalar(select(CpoSession).where(  # a CiString: any case
                func.lower(CpoSession.id) == body.session_id.lower()))
            if cpo_session is None or cpo_session.partner_id != caller.partner.id:
                return _answer("UNKNOWN_SESSION", f"no session {body.session_id} of yours")
            tx = await db_session.get(CsmsTransaction, cpo_session.transaction_pk) if cpo_session.transaction_pk \
                else None
            if cpo_session.status != "ACTIVE" or tx is None:
                hint = "; end a reservation with CANCEL_RESERVATION" if cpo_session.status == "RESERVATION" else ""
                return _answer("REJECTED", f"session {body.session_id} is {cpo_session.status}, not ACTIVE{hint}")
            row.identity, row.evse_id = tx.identity, tx.evse_id
            row.request = {**row.request, "_transaction_id": tx.transaction_id}
        else:  # CANCEL_RESERVATION
            # The reservation in force (its RESERVATION session), whatever became of RESERVE_NOWs that tried to
            # replace it since; else one the charger is still being asked for.
            held = await held_for(db_session, caller.partner.id, body.reservation_id)
            reservation = held[1] if held is not None else await db_session.scalar(select(OcpiCommand).where(
                OcpiCommand.partner_id == caller.partner.id, OcpiCommand.command == "RESERVE_NOW",
                OcpiCommand.emsp_reservation_id == body.reservation_id).order_by(OcpiCommand.id.desc()))
            if reservation is None:
                return _answer("REJECTED", f"no reservation {body.reservation_id} of yours")
            expiry = reservation_expiry(reservation)
            if expiry is not None and expiry <= utcnow():
                # Reservations expire (OCPI ReserveNow.expiry_date): the charger has let it go already.
                return _answer("REJECTED", f"reservation {body.reservation_id} expired at {_stamp(expiry)}")
            if held is None and reservation.result is not None:
                return _answer("REJECTED", f"no reservation {body.reservation_id} of yours in force (" + (
                    "it has ended: used, cancelled or removed)" if reservation.result == "ACCEPTED"
                    else f"it was {reservation.result})"))
            row.identity, row.evse_id = reservation.identity, reservation.evse_id
            row.request = {**row.request, "_reservation_number": reservation_number(reservation)}
        db_session.add(row)
        await db_session.commit()
        command_runner.submit(row.id, correlation_id_of(request.scope))
        return _answer("ACCEPTED")
