"""Carry out an accepted OCPI command on its charger and POST the CommandResult to the eMSP's response_url
(OCPI 2.2.1 mod_commands, "asynchronous result"). The synchronous CommandResponse has gone out already.

Reservations live on after their command (``domain.reservations``): an accepted RESERVE_NOW opens a RESERVATION
session, an accepted CANCEL_RESERVATION ends it, each expires at its expiry_date, and one the charger drops is
cancelled by the CPO: CommandResult CANCELED_RESERVATION to the RESERVE_NOW's response_url (reference ocpi.md §4.6).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import Charger, OcpiCommand, Partner, utcnow
from ..domain import reservations
from ..domain.held_reservations import held_at, reservation_expiry, reservation_number
from ..domain.charging_events import ConnectorStatusChanged
from ..domain.charger_commands import ChargerCommands, ChargerDidNotAnswer, ChargerUnavailable
from .client import OcpiCallError, OcpiClient

__all__ = ["CommandRunner", "RESULTS"]

log = logging.getLogger(__name__)

# The charger's answer (either version's spelling) -> OCPI CommandResultType, per command.
RESULTS = {
    "START_SESSION": {"Accepted": "ACCEPTED", "Rejected": "REJECTED"},
    "STOP_SESSION": {"Accepted": "ACCEPTED", "Rejected": "REJECTED"},
    "UNLOCK_CONNECTOR": {"Unlocked": "ACCEPTED", "UnlockFailed": "FAILED", "NotSupported": "NOT_SUPPORTED",
                         "OngoingAuthorizedTransaction": "REJECTED", "UnknownConnector": "REJECTED"},
    "RESERVE_NOW": {"Accepted": "ACCEPTED", "Faulted": "EVSE_INOPERATIVE", "Occupied": "EVSE_OCCUPIED",
                    "Rejected": "REJECTED", "Unavailable": "EVSE_INOPERATIVE"},
    "CANCEL_RESERVATION": {"Accepted": "ACCEPTED", "Rejected": "UNKNOWN_RESERVATION"},
}


class CommandRunner:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], client: OcpiClient, chargers: ChargerCommands,
                 *, wake_pushes: Callable[[], None] | None = None) -> None:
        self._sessions = sessions
        self._client = client
        self._chargers = chargers
        self._wake_pushes = wake_pushes or (lambda: None)  # the Session pushes a command queued go now
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: set[asyncio.TimerHandle] = set()  # a reservation's expiry, each (cancelled by close)

    def submit(self, command_id: int, correlation_id: str | None) -> None:
        self._spawn(self._run(command_id, correlation_id))

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)  # keep a reference: the loop holds tasks only weakly
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for every running command (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _charger_answer(self, cmd: OcpiCommand) -> str:
        c, req = self._chargers, cmd.request
        if cmd.command == "START_SESSION":
            return await c.start_transaction(cmd.identity, evse_id=cmd.evse_id, id_token=cmd.id_token,
                                             token_type=req["token"]["type"], remote_start_id=cmd.id)
        if cmd.command == "STOP_SESSION":
            return await c.stop_transaction(cmd.identity, transaction_id=req["_transaction_id"])
        if cmd.command == "UNLOCK_CONNECTOR":
            return await c.unlock_connector(cmd.identity, evse_id=cmd.evse_id, connector_id=cmd.connector_id or 1)
        if cmd.command == "RESERVE_NOW":
            return await c.reserve_now(cmd.identity, reservation_id=reservation_number(cmd),
                                       evse_id=cmd.evse_id, id_token=cmd.id_token, token_type=req["token"]["type"],
                                       expiry=reservation_expiry(cmd))
        return await c.cancel_reservation(cmd.identity, reservation_id=reservation_number(cmd))

    async def _run(self, command_id: int, correlation_id: str | None) -> None:
        async with self._sessions() as session:
            cmd = await session.get(OcpiCommand, command_id)
            await session.commit()
        try:
            answer = await self._charger_answer(cmd)
            result = RESULTS[cmd.command].get(answer, "FAILED")
            detail = f"the charger answered {answer}"
        except ChargerUnavailable as exc:
            result, detail = "EVSE_INOPERATIVE", str(exc)
        except ChargerDidNotAnswer as exc:
            result, detail = "TIMEOUT", str(exc)
        except Exception as exc:  # a bug of ours still owes the eMSP an answer
            log.exception("command %s failed", command_id)
            result, detail = "FAILED", f"{type(exc).__name__} in the sandbox"
        moved_from = None
        async with self._sessions() as session:
            # The result and what it does to a reservation (its session opened or ended) go in one transaction.
            try:
                cmd = await self._record_result(session, command_id, result, detail)
                moved_from = await self._follow_reservation(session, cmd)
                await session.commit()
            except Exception:  # the result is kept, and the eMSP is still owed its CommandResult
                log.exception("reservation bookkeeping of command %s failed", command_id)
                await session.rollback()
                cmd = await self._record_result(session, command_id, result, detail)
                await session.commit()
            partner = await session.get(Partner, cmd.partner_id)
            await session.commit()
        if cmd.command == "RESERVE_NOW" and result == "ACCEPTED":
            self._expire_at(reservation_expiry(cmd))
        if moved_from is not None:  # the reservation moved to another charger: the old one lets it go
            await self._cancel_on_charger(moved_from)
        await self._post_result(partner, cmd.response_url, result, detail, command_id, correlation_id)
        self._wake_pushes()

    @staticmethod
    async def _record_result(session: AsyncSession, command_id: int, result: str, detail: str) -> OcpiCommand:
        cmd = await session.get(OcpiCommand, command_id, populate_existing=True)
        cmd.result, cmd.detail, cmd.finished_at = result, detail, utcnow()
        return cmd

    async def _follow_reservation(self, session: AsyncSession, cmd: OcpiCommand) -> OcpiCommand | None:
        """A reservation the charger took opens its RESERVATION session (returns the RESERVE_NOW it replaced on
        another charger, if any). On CANCEL_RESERVATION it ends: cancelled when the charger let it go, removed
        (no CDR) when the charger no longer knew it. Never commits."""
        if cmd.command == "RESERVE_NOW" and cmd.result == "ACCEPTED":
            opened = await reservations.open_reservation(session, cmd)
            return opened.moved_from if opened is not None else None
        if cmd.command == "CANCEL_RESERVATION" and cmd.result in ("ACCEPTED", "UNKNOWN_RESERVATION"):
            held = await held_at(session, cmd.tenant_id, cmd.identity, number=reservation_number(cmd))
            if held is not None:
                await reservations.end_reservation(session, held[0], held[1], at=utcnow(),
                                                   ended_by="cancelled" if cmd.result == "ACCEPTED" else "removed")
        return None

    def _expire_at(self, expiry: datetime | None) -> None:
        """End a reservation on time; the periodic sweep covers a restart in between."""
        if expiry is None:
            return
        delay = max(0.0, (expiry - utcnow()).total_seconds()) + 0.05
        timer: asyncio.TimerHandle | None = None

        def fire() -> None:
            self._timers.discard(timer)
            self._spawn(self.expire_due())

        timer = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(timer)

    async def _cancel_on_charger(self, earlier: OcpiCommand) -> None:
        try:
            await self._chargers.cancel_reservation(earlier.identity,
                                                    reservation_id=reservation_number(earlier))
        except Exception as exc:  # it expires there at its own expiry_date anyway
            log.info("reservation %s not cancelled on charger %s: %s", reservation_number(earlier),
                     earlier.identity, exc)

    async def _post_result(self, partner: Partner | None, url: str, result: str, detail: str, command_id: int,
                           correlation_id: str | None) -> None:
        body = {"result": result, "message": [{"language": "en", "text": detail[:512]}]}
        if partner is None or partner.outbound_token is None:
            return
        try:
            await self._client.call("POST", url, token=partner.outbound_token, version=partner.version,
                                    encoding=partner.outbound_token_encoding, json=body, partner_id=partner.id,
                                    tenant_id=partner.tenant_id, correlation_id=correlation_id)
        except OcpiCallError as exc:  # logged in the partner log with the eMSP's answer
            log.info("CommandResult for command %s not delivered: %s", command_id, exc.message)

    async def expire_due(self) -> int:
        """End the reservations whose expiry_date has passed (a chore, and a timer per reservation)."""
        async with self._sessions() as session:
            ended = await reservations.expire_reservations(session)
        if ended:
            self._wake_pushes()
        return ended

    async def status_reported(self, event: ConnectorStatusChanged) -> bool:
        """OCPP 1.6 has no message for a reservation the charger let go: the reserved connector, or connector 0
        (the whole charge point), turning Faulted is read as the charger removing it, and connector 0 turning
        Unavailable. A reserved connector reporting Unavailable is not: a 1.6 charger reports a connector so while
        another connector of its EVSE is in use, which the reserved driver may be doing (and that connector's
        own status may only come next). A 2.0.1 station says so itself (ReservationStatusUpdate)."""
        if event.ocpp_status != "Faulted" and not (event.ocpp_status == "Unavailable" and event.evse_id == 0):
            return False
        async with self._sessions() as session:
            version = await session.scalar(select(Charger.ocpp_version).where(
                Charger.identity == event.identity, Charger.tenant_id == event.tenant_id))
            await session.commit()
        if version != "1.6":
            return False
        what = "the charge point" if event.evse_id == 0 else "the reserved connector"
        return await self.reservation_dropped(event.identity, event.tenant_id, evse_id=event.evse_id,
                                              why=f"{what} became {event.ocpp_status}")

    async def reservation_dropped(self, identity: str, tenant_id: str | None, *, number: int | None = None,
                                  evse_id: int | None = None, expired: bool = False, why: str) -> bool:
        """The charger let a reservation go by itself: expired (2.0.1 ReservationStatusUpdate Expired), or removed
        (2.0.1 Removed, or see ``status_reported``). A removal is the CPO cancelling the reservation: the session
        ends without a CDR and the eMSP gets CommandResult CANCELED_RESERVATION at the RESERVE_NOW's response_url
        (OCPI 2.2.1 mod_commands). Returns whether a reservation in force was ended."""
        if tenant_id is None:
            return False  # a station of no tenant has no chargers, so no reservations
        async with self._sessions() as session:
            held = await held_at(session, tenant_id, identity, number=number, evse_id=evse_id)
            if held is None:
                await session.commit()
                return False
            row, cmd = held
            expiry = reservation_expiry(cmd)
            # A charger that reports the expiry late (or early, by its own clock) does not move it past expiry_date.
            at = min(utcnow(), expiry) if expired and expiry else utcnow()
            if not await reservations.end_reservation(session, row, cmd, ended_by="expired" if expired else "removed",
                                                      at=at):
                await session.commit()
                return False  # its expiry, or the charging that used it, came first
            if not expired:  # the RESERVE_NOW's outcome changes with it: a later CANCEL_RESERVATION finds nothing
                cmd.result, cmd.detail = "CANCELED_RESERVATION", why
            partner = await session.get(Partner, cmd.partner_id)
            await session.commit()
        self._wake_pushes()
        if not expired:
            self._spawn(self._post_result(partner, cmd.response_url, "CANCELED_RESERVATION", why, cmd.id, None))
        return True

    async def close(self) -> None:
        """Shutdown: no expiry timer fires any more, and the commands still running stop (the periodic sweep
        ends due reservations after a restart)."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
