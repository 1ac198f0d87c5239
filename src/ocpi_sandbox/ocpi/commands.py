"""Carry out an accepted OCPI command on its charger and POST the CommandResult to the eMSP's response_url
(OCPI 2.2.1 mod_commands, "asynchronous result"). The synchronous CommandResponse has gone out already."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import OcpiCommand, Partner, utcnow
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
    def __init__(self, sessions: async_sessionmaker[AsyncSession], client: OcpiClient, chargers: ChargerCommands
                 ) -> None:
        self._sessions = sessions
        self._client = client
        self._chargers = chargers
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, command_id: int, correlation_id: str | None) -> None:
        task = asyncio.create_task(self._run(command_id, correlation_id))
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
            from datetime import datetime

            expiry = datetime.fromisoformat(req["expiry_date"].replace("Z", "+00:00"))
            number = int(req.get("_reservation_number", cmd.id))  # a replaced reservation keeps its number
            return await c.reserve_now(cmd.identity, reservation_id=number, evse_id=cmd.evse_id, id_token=cmd.id_token,
                                       token_type=req["token"]["type"], expiry=expiry)
        return await c.cancel_reservation(cmd.identity, reservation_id=int(req["_reservation_number"]))

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
        async with self._sessions() as session:
            cmd = await session.get(OcpiCommand, command_id)
            cmd.result, cmd.detail, cmd.finished_at = result, detail, utcnow()
            partner = await session.get(Partner, cmd.partner_id)
            await session.commit()
        body = {"result": result, "message": [{"language": "en", "text": detail[:512]}]}
        if partner is None or partner.outbound_token is None:
            return
        try:
            await self._client.call("POST", cmd.response_url, token=partner.outbound_token, version=partner.version,
                                    encoding=partner.outbound_token_encoding, json=body, partner_id=partner.id,
                                    tenant_id=partner.tenant_id, correlation_id=correlation_id)
        except OcpiCallError as exc:  # logged in the partner log with the eMSP's answer
            log.info("CommandResult for command %s not delivered: %s", command_id, exc.message)
