"""Commands: act on one simulated charger, or on many chargers of a location at once.

The work is ``fleet_commands.FleetCommands``; this controller finds the chargers in the caller's tenant and
turns outcomes into HTTP. One charger: a refused command is a 409 whose details hold the outcome. A location:
always 200, with each charger's outcome, so one offline or busy charger does not fail the others.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from ..fleet_commands import COMMANDS, FleetCommands, CommandOptions, CommandOutcome, options_problem
from ..domain import chargers as charger_service
from ..domain.locations import get_location
from .errors import ApiProblem, error_responses

__all__ = ["ChargerCommandsController"]

CommandName = Annotated[str, Parameter(
    description="plug-in, unplug, swipe-card, start-transaction, stop-transaction, reset, unlock-connector, "
                "update-configuration, set-local-auth-list, inject-fault, clear-fault, power-loss, disconnect, "
                "reconnect", schema_extra={"enum": list(COMMANDS)})]


class LocationCommand(CommandOptions, kw_only=True):
    # Charger ids or identities of this location to act on; absent: every charger of the location.
    charger_ids: Annotated[list[str], msgspec.Meta(max_length=10_000)] | None = None


class LocationCommandResult(msgspec.Struct, kw_only=True):
    command: str
    location_id: str
    total: int
    succeeded: int
    failed: int
    results: list[CommandOutcome]


def _checked(command: str, options: CommandOptions) -> None:
    if command not in COMMANDS:
        raise ApiProblem(404, f"unknown command {command!r}; use one of {', '.join(COMMANDS)}")
    problem = options_problem(command, options)
    if problem:
        raise ApiProblem(422, problem)


class ChargerCommandsController(Controller):
    path = "/api"
    tags = ["chargers"]

    @post("/chargers/{id:str}/commands/{command:str}", operation_id="runChargerCommand", status_code=200,
          responses=error_responses(400, 401, 403, 404, 409, 422))
    async def one(self, id: str, command: CommandName, tenant_id: str, db_session: AsyncSession,  # noqa: A002
                  fleet_commands: FleetCommands, data: CommandOptions | None = None) -> CommandOutcome:
        """Act on a simulated charger as a driver, an operator on site or the network would, and return what the
        simulator did with the OCPP frames it caused (find them in the charger's log by unique_id).

        A charger that is offline, busy with another command, not simulated here, or that refuses (no
        transaction to stop, unknown connector, a rejected configuration key) answers 409 with the reason."""
        options = data or CommandOptions()
        charger = await charger_service.get_charger(db_session, tenant_id, id)
        charger_id, identity = charger.id, charger.identity
        _checked(command, options)
        await db_session.commit()  # nothing below touches the database; do not hold it while the charger works
        outcome = await fleet_commands.run(charger_id, identity, command, options)
        if not outcome.ok:
            raise ApiProblem(409, f"{command}: {outcome.message or outcome.error}",
                             details=msgspec.to_builtins(outcome))
        return outcome

    @post("/locations/{location_id:str}/chargers/commands/{command:str}", operation_id="runLocationCommand",
          status_code=200, responses=error_responses(400, 401, 403, 404, 422))
    async def many(self, location_id: str, command: CommandName, tenant_id: str, db_session: AsyncSession,
                   fleet_commands: FleetCommands, data: LocationCommand | None = None) -> LocationCommandResult:
        """Run a command on every charger of a location, or on those named in ``charger_ids`` (ids or
        identities), concurrently; each charger's outcome says what it did, or why not (offline, busy, ...)."""
        options = data or LocationCommand()
        location = await get_location(db_session, tenant_id, location_id)
        _checked(command, options)
        chargers = await charger_service.list_chargers(db_session, tenant_id, location_id=location.id)
        pairs = [(c.id, c.identity) for c in chargers]
        await db_session.commit()
        missing: list[CommandOutcome] = []
        if options.charger_ids is not None:
            wanted = list(dict.fromkeys(options.charger_ids))  # a charger named twice runs once
            by_ref = {ref: pair for pair in pairs for ref in pair}
            pairs = list(dict.fromkeys(by_ref[ref] for ref in wanted if ref in by_ref))
            missing = [CommandOutcome(charger_id=ref, identity=ref, command=command, ok=False, error="not_found",
                                      message=f"no charger {ref} at location {location.id}; list them with "
                                              f"GET /api/locations/{location.id}/chargers")
                       for ref in wanted if ref not in by_ref]
        results = await fleet_commands.run_many(pairs, command, options) + missing
        succeeded = sum(1 for r in results if r.ok)
        return LocationCommandResult(command=command, location_id=location.id, total=len(results),
                                     succeeded=succeeded, failed=len(results) - succeeded, results=results)
