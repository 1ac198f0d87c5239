"""Carry out an eMSP's charging-profile request on the session's charger and POST the result to its response_url
(OCPI 2.2.1 mod_charging_profiles, "asynchronous result"). The ChargingProfileResponse has gone out already.

- GET: GetCompositeSchedule of the session's EVSE -> ActiveChargingProfileResult (with the ActiveChargingProfile
  when ACCEPTED);
- PUT: the OCPI ChargingProfile becomes the transaction's TxProfile (Absolute with ``start_date_time``, else
  Relative to the start of charging), id ``ocpi_profile_id`` of the EVSE, stack level 1 -> ChargingProfileResult;
- DELETE: ClearChargingProfile of that id -> ClearProfileResult.

The CPO may answer "too frequent requests" with TOO_OFTEN (mod_charging_profiles, ChargingProfileResponseType):
``too_often`` is that rule for PUT and DELETE (see ``ChargingProfileRunner.too_often``).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import OcpiChargingProfile, Partner, utcnow
from ..domain.charger_commands import ChargerDidNotAnswer, ChargerUnavailable, ProfileNotExpressible
from ..domain.charger_operations import ChargerOperations, ChargerTarget, active_charging_profile
from ..domain.errors import DomainError
from ..domain.power_limits import ocpi_profile_id
from .client import OcpiCallError, OcpiClient

__all__ = ["ChargingProfileRunner", "tx_profile", "OCPI_STACK_LEVEL", "RESULT_TIMEOUT"]

log = logging.getLogger(__name__)

# Above a session power limit set in the management API at its default level 0, below nothing else: an eMSP's
# profile replaces the CPO's default for the session, while station limits (ChargingStationMaxProfile) still cap.
OCPI_STACK_LEVEL = 1
# Seconds the eMSP is told to wait for a result (ChargingProfileResponse.timeout).
RESULT_TIMEOUT = 30
# How long a request without a result may still be being carried out: a PUT or DELETE makes two OCPP calls
# (SetChargingProfile or ClearChargingProfile, then GetCompositeSchedule for the new limit), each waiting up to
# the CSMS's response timeout (30 s by default). Older, it was lost (the sandbox restarted under it): it stops
# blocking new ones.
IN_FLIGHT_LIMIT = timedelta(seconds=2 * RESULT_TIMEOUT)
_RESULTS = {"Accepted": "ACCEPTED", "Rejected": "REJECTED", "Unknown": "UNKNOWN"}


def tx_profile(charging_profile: dict[str, Any], *, profile_id: int, transaction_id: str) -> dict[str, Any]:
    """Write an OCPI ChargingProfile as the OCPP 2.0.1 TxProfile of ``transaction_id``."""
    schedule: dict[str, Any] = {
        "id": 1, "chargingRateUnit": charging_profile["charging_rate_unit"],
        "chargingSchedulePeriod": [{"startPeriod": p["start_period"], "limit": p["limit"]}
                                   for p in charging_profile.get("charging_profile_period") or []]}
    start = charging_profile.get("start_date_time")
    if start:
        schedule["startSchedule"] = start
    if charging_profile.get("duration") is not None:
        schedule["duration"] = charging_profile["duration"]
    if charging_profile.get("min_charging_rate") is not None:
        schedule["minChargingRate"] = charging_profile["min_charging_rate"]
    return {"id": profile_id, "stackLevel": OCPI_STACK_LEVEL, "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute" if start else "Relative", "transactionId": transaction_id,
            "chargingSchedule": [schedule]}


class ChargingProfileRunner:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], client: OcpiClient,
                 operations: ChargerOperations, *, min_interval: float = 0.0) -> None:
        self._sessions = sessions
        self._client = client
        self._operations = operations
        self._tasks: set[asyncio.Task[None]] = set()
        self.min_interval = min_interval  # setting ocpi_charging_profile_min_interval

    async def too_often(self, session: AsyncSession, session_id: str) -> bool:
        """Whether a PUT or DELETE for ``session_id`` now is too frequent (answered TOO_OFTEN): the session's
        previous PUT or DELETE is still being carried out (no result yet, within ``IN_FLIGHT_LIMIT``), or arrived
        less than ``min_interval`` seconds ago. Two profiles racing to the charger would leave the eMSP unable to
        tell which one holds; GET only reads, so it is never too often."""
        now = utcnow()
        previous = await session.scalar(select(OcpiChargingProfile).where(
            OcpiChargingProfile.session_id == session_id, OcpiChargingProfile.method.in_(("PUT", "DELETE")))
            .order_by(OcpiChargingProfile.id.desc()).limit(1))
        if previous is None:
            return False
        in_flight = previous.result is None and now - previous.created_at < IN_FLIGHT_LIMIT
        return in_flight or now - previous.created_at < timedelta(seconds=self.min_interval)

    def submit(self, request_id: int, correlation_id: str | None) -> None:
        task = asyncio.create_task(self._run(request_id, correlation_id))
        self._tasks.add(task)  # keep a reference: the loop holds tasks only weakly
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for every running request (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _carry_out(self, row: OcpiChargingProfile, target: ChargerTarget) -> tuple[dict[str, Any], str]:
        ops, commands = self._operations, self._operations.commands
        profile_id = ocpi_profile_id(target.evse_id)
        if row.method == "GET":
            duration = int(row.request["duration"])
            answer, schedule = await commands.get_composite_schedule(
                target.identity, evse_id=target.evse_id, duration=max(duration, 1), unit="W",
                connector_16=target.evse_id)
            if not answer.accepted or schedule is None:
                return {"result": "REJECTED"}, f"the charger answered GetCompositeSchedule {answer.status}"
            return ({"result": "ACCEPTED", "profile": active_charging_profile(schedule, max(duration, 1))},
                    "the charger answered GetCompositeSchedule Accepted")
        at = utcnow()
        if row.method == "PUT":
            profile = tx_profile(row.request["charging_profile"], profile_id=profile_id,
                                 transaction_id=target.transaction_id or "")
            answer = await commands.set_charging_profile(target.identity, evse_id=target.evse_id, profile=profile,
                                                         connector_16=target.evse_id)
        else:
            answer = await commands.clear_charging_profile(target.identity, profile_id=profile_id)
        if answer.accepted:  # the limit changed: cut the session's charging periods there
            await ops.limit_changed(target, at, "ocpi", notify_emsps=False)
        detail = f"the charger answered {answer.action} {answer.status}"
        if answer.status_info:
            detail += f" ({answer.status_info.get('reasonCode')}: {answer.status_info.get('additionalInfo', '')})"
        return {"result": _RESULTS.get(answer.status, "REJECTED")}, detail

    async def _run(self, request_id: int, correlation_id: str | None) -> None:
        async with self._sessions() as session:
            row = await session.get(OcpiChargingProfile, request_id)
            await session.commit()
        try:
            target = await self._operations.session_target(row.tenant_id, row.session_id)
            body, detail = await self._carry_out(row, target)
        except DomainError as exc:  # the session ended, or its charger uses another CSMS
            body, detail = {"result": "REJECTED"}, exc.message
        except (ChargerUnavailable, ChargerDidNotAnswer, ProfileNotExpressible) as exc:
            body, detail = {"result": "REJECTED"}, str(exc)
        except Exception as exc:  # a bug of ours still owes the eMSP an answer
            log.exception("charging profile request %s failed", request_id)
            body, detail = {"result": "REJECTED"}, f"{type(exc).__name__} in the sandbox"
        async with self._sessions() as session:
            row = await session.get(OcpiChargingProfile, request_id)
            row.result, row.detail, row.finished_at = body["result"], detail, utcnow()
            partner = await session.get(Partner, row.partner_id)
            response_url, tenant_id = row.response_url, row.tenant_id
            await session.commit()
        if partner is None or partner.outbound_token is None:
            return
        try:
            await self._client.call("POST", response_url, token=partner.outbound_token, version=partner.version,
                                    encoding=partner.outbound_token_encoding, json=body, partner_id=partner.id,
                                    tenant_id=tenant_id, correlation_id=correlation_id)
        except OcpiCallError as exc:  # logged in the partner log with the eMSP's answer
            log.info("charging profile result %s not delivered: %s", request_id, exc.message)
