"""Operate chargers on the embedded CSMS: charging profiles, power limits, availability, restarts, composites,
remote start and stop.

Each operation finds the charger in the caller's tenant, sends one OCPP request through ``ChargerCommands``
and returns the station's own answer. No database transaction stays open across an OCPP call (on SQLite every
transaction holds the write lock, and the charger's reaction -- a TransactionEvent -- needs it).

When a change is accepted, ``limit_changed`` asks the charger for the composite schedule of every running
transaction it touches, records it (charging periods are cut there, ``limit_changes``), and queues the
unsolicited ActiveChargingProfile PUT for sessions whose eMSP set a profile before (OCPI 2.2.1
mod_charging_profiles: the CPO SHALL send it when the active profile changes for other reasons).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import Charger, CpoSession, CsmsTransaction, OcpiChargingProfile, Partner, utcnow
from . import limit_changes, outbox, remote_start
from .charger_commands import (
    ChargerCommands,
    ChargerDidNotAnswer,
    ChargerUnavailable,
    CompositeSchedule,
    StationAnswer,
)
from .errors import Conflict, InvalidInput, NotFound
from .power_limits import LimitValue, Target, limit_profile_id, power_limit_profile, read_limit
from .remote_start import OcpiContext

__all__ = ["ChargerOperations", "ChargerTarget", "PowerLimit", "StartedTransaction", "active_charging_profile",
           "connector_16"]

# How far ahead the CSMS reads a composite schedule after a change (a recurring profile can step later).
COMPOSITE_HORIZON_S = 86_400
# OCPI mod_charging_profiles advises an ActiveChargingProfile of 5-60 minutes.
ACTIVE_PROFILE_HORIZON_S = 3_600


class ChargerTarget(msgspec.Struct, kw_only=True):
    """A charger of the tenant and, when the operation is on one, an EVSE and the transaction running there."""

    charger_id: str
    identity: str
    ocpp_version: str
    hardware: list[dict[str, Any]]
    evse_id: int = 0
    transaction_pk: str | None = None
    transaction_id: str | None = None

    @property
    def connector_16(self) -> int:
        return connector_16(self.hardware, self.evse_id)

    def outlets(self, evse_id: int | None = None) -> list[dict[str, Any]]:
        return [c for e in self.hardware if evse_id in (None, 0, e["evse_id"]) for c in e["connectors"]]


class StartedTransaction(msgspec.Struct, kw_only=True):
    """A remote start's answer: the station's own, the remoteStartId sent (2.0.1), the transactionId if the
    station gave one, and the eMSP partner whose OCPI session the transaction becomes."""

    answer: StationAnswer
    remote_start_id: int | None = None
    transaction_id: str | None = None
    ocpi_partner_id: str | None = None


class PowerLimit(msgspec.Struct, kw_only=True):
    """A power limit as the API takes it (see ``power_limits``)."""

    ac_max_power_a: float | None = None
    ac_max_power_kw: float | None = None
    dc_max_power_kw: float | None = None
    charging_profile_id: int | None = None
    stack_level: int | None = None
    relative_delay: int | None = None
    condition: str | None = None
    comment: str | None = None


def connector_16(hardware: list[dict[str, Any]], evse_id: int) -> int:
    """The OCPP 1.6 connectorId of an EVSE's first connector: 1.6 numbers connectors across the station."""
    if evse_id == 0:
        return 0
    before = sum(len(e["connectors"]) for e in hardware if e["evse_id"] < evse_id)
    return before + 1


def active_charging_profile(schedule: CompositeSchedule, horizon: int = ACTIVE_PROFILE_HORIZON_S) -> dict[str, Any]:
    """Write a composite schedule as an OCPI ActiveChargingProfile (mod_charging_profiles), ``horizon`` long."""
    start = schedule.start.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    duration = min(schedule.duration or horizon, horizon)
    periods = [{"start_period": p.start_period, "limit": round(p.limit, 1)} for p in schedule.periods
               if p.start_period < duration] or [{"start_period": 0, "limit": round(schedule.periods[0].limit, 1)}]
    return {"start_date_time": start, "charging_profile": {
        "start_date_time": start, "duration": duration, "charging_rate_unit": schedule.unit,
        "charging_profile_period": periods}}


class ChargerOperations:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], commands: ChargerCommands) -> None:
        self._sessions = sessions
        self.commands = commands

    # -- finding what to act on --

    async def charger(self, tenant_id: str, charger_id: str, evse_id: int | None = None) -> ChargerTarget:
        """The tenant's charger (and EVSE); 404 if unknown, 409 if it uses another CSMS."""
        async with self._sessions() as session:
            charger = await session.get(Charger, charger_id)
            await session.commit()
        if charger is None or charger.tenant_id != tenant_id:
            raise NotFound(f"no charger {charger_id} in this tenant; list them with GET /api/chargers")
        if charger.ws_url is not None:
            raise Conflict(f"charger {charger.identity} connects to an external CSMS ({charger.ws_url}), not to the "
                           "embedded CSMS; charger operations go through the embedded CSMS only")
        target = ChargerTarget(charger_id=charger.id, identity=charger.identity, ocpp_version=charger.ocpp_version,
                               hardware=list(charger.hardware or []))
        if evse_id:
            known = [e["evse_id"] for e in target.hardware]
            if evse_id not in known:
                raise NotFound(f"charger {charger.identity} has no EVSE {evse_id}; its EVSEs are {known}")
            target.evse_id = evse_id
        return target

    async def session_target(self, tenant_id: str, session_id: str) -> ChargerTarget:
        """The running transaction of an OCPI session id or a CSMS transaction id, with its charger and EVSE."""
        async with self._sessions() as session:
            cpo = await session.get(CpoSession, session_id)
            pk = cpo.transaction_pk if cpo is not None and cpo.tenant_id == tenant_id else session_id
            tx = await session.get(CsmsTransaction, pk) if pk else None  # a reservation has no transaction yet
            charger = None if tx is None else await session.scalar(
                select(Charger).where(Charger.identity == tx.identity))
            await session.commit()
        if tx is None or charger is None or charger.tenant_id != tenant_id:
            raise NotFound(f"no session {session_id} in this tenant; give an OCPI session id or a transaction id "
                           "(GET /api/chargers/{id} shows the running transaction)")
        if not tx.active:
            raise Conflict(f"session {session_id} has ended; limits apply to running sessions")
        target = await self.charger(tenant_id, charger.id)
        # 1.6 transactions are recorded on their connectorId (1.6 has no EVSE level).
        target.evse_id = tx.evse_id or 1
        target.transaction_pk, target.transaction_id = tx.id, tx.transaction_id
        return target

    # -- charging profiles --

    async def set_profile(self, target: ChargerTarget, profile: dict[str, Any]) -> StationAnswer:
        """SetChargingProfile on the target's EVSE (0: the station); record the change when accepted."""
        at = utcnow()
        answer = await self.commands.set_charging_profile(target.identity, evse_id=target.evse_id, profile=profile,
                                                          connector_16=self._connector(target))
        if answer.accepted:
            await self.limit_changed(target, at, "api")
        return answer

    async def clear_profiles(self, target: ChargerTarget, *, profile_id: int | None = None,
                             evse_id: int | None = None, purpose: str | None = None,
                             stack_level: int | None = None) -> StationAnswer:
        """ClearChargingProfile by id or criteria; record the change when something was cleared."""
        at = utcnow()
        connector = None if evse_id is None else connector_16(target.hardware, evse_id)
        answer = await self.commands.clear_charging_profile(
            target.identity, profile_id=profile_id, evse_id=evse_id, purpose=purpose, stack_level=stack_level,
            connector_16=connector)
        if answer.accepted:  # the change touches the EVSE named in the criteria, else the target's scope
            scope = target if evse_id is None else msgspec.structs.replace(target, evse_id=evse_id)
            await self.limit_changed(scope, at, "api")
        return answer

    # -- power limits --

    async def set_power_limit(self, target: ChargerTarget, kind: Target, limit: PowerLimit
                              ) -> tuple[StationAnswer, dict[str, Any]]:
        """Set a power limit on the station, an EVSE or the target's transaction; return the answer and profile."""
        outlets = target.outlets(None if kind == "station" else self._hardware_evse(target))
        value: LimitValue = read_limit(limit.ac_max_power_a, limit.ac_max_power_kw, limit.dc_max_power_kw,
                                       has_ac=any(c["power_type"] != "DC" for c in outlets),
                                       has_dc=any(c["power_type"] == "DC" for c in outlets))
        stack_level = limit.stack_level if limit.stack_level is not None else (1 if limit.condition else 0)
        evse = 0 if kind == "station" else target.evse_id
        profile_id = limit.charging_profile_id or limit_profile_id(kind, stack_level, evse)
        rated = max((c["max_amperage"] if value.unit == "A" else c["max_electric_power"]) for c in outlets)
        profile = power_limit_profile(kind, profile_id=profile_id, stack_level=stack_level, limit=value,
                                      now=utcnow(), relative_delay=limit.relative_delay, rated=float(rated),
                                      transaction_id=target.transaction_id if kind == "session" else None)
        station = target if kind != "station" else msgspec.structs.replace(target, evse_id=0)
        return await self.set_profile(station, profile), profile

    async def remove_power_limit(self, target: ChargerTarget, kind: Target, *, profile_id: int | None,
                                 stack_level: int) -> StationAnswer:
        """Clear a power limit by its id (the default id of ``stack_level`` when none is given)."""
        evse = 0 if kind == "station" else target.evse_id
        return await self.clear_profiles(msgspec.structs.replace(target, evse_id=evse),
                                         profile_id=profile_id or limit_profile_id(kind, stack_level, evse))

    # -- availability, restart, composite schedule --

    async def change_availability(self, target: ChargerTarget, *, connector_id: int | None, operative: bool
                                  ) -> StationAnswer:
        connector = self._connector(target)
        if connector and connector_id:  # a named connector of the EVSE, in 1.6's station-wide numbering
            connector += connector_id - 1
        return await self.commands.change_availability(target.identity, evse_id=target.evse_id,
                                                       connector_id=connector_id, operative=operative,
                                                       connector_16=connector)

    async def restart(self, target: ChargerTarget, *, immediate: bool) -> StationAnswer:
        return await self.commands.reset(target.identity, immediate=immediate)

    # -- remote start and stop --

    async def start_transaction(self, target: ChargerTarget, *, tenant_id: str, id_token: str, id_token_type: str,
                                connector_id: int | None = None, profile: dict[str, Any] | None = None,
                                remote_start_id: int | None = None, ocpi: OcpiContext | None = None
                                ) -> StartedTransaction:
        """RequestStartTransaction on the target's EVSE, with an optional TxProfile; with OCPI context the
        transaction becomes the named eMSP's session (``remote_start``)."""
        if profile is not None and (profile.get("chargingProfilePurpose") != "TxProfile"
                                    or profile.get("transactionId") is not None):
            raise InvalidInput("a remote start's chargingProfile is a TxProfile without transactionId (OCPP 2.0.1 "
                               "F01, 1.6 RemoteStartTransaction): the transaction does not exist yet")
        connectors = [c["connector_id"] for c in target.outlets(target.evse_id)]
        if connector_id is not None and connector_id not in connectors:
            raise NotFound(f"EVSE {target.evse_id} of charger {target.identity} has no connector {connector_id}; "
                           f"its connectors are {connectors}")
        command_id = on_behalf = None
        if ocpi is not None:
            async with self._sessions() as session:
                on_behalf = await remote_start.emsp_of(session, target.charger_id, ocpi, id_token=id_token,
                                                       id_token_type=id_token_type)
                command_id = await remote_start.record_start(
                    session, tenant_id, on_behalf, identity=target.identity, evse_id=target.evse_id,
                    connector_id=connector_id, id_token=id_token)
        # Our own number, as for an eMSP's START_SESSION; without one, from a range OCPI commands never reach.
        remote_start_id = remote_start_id or command_id or 1_000_000_000 + secrets.randbelow(1_000_000_000)
        connector = connector_16(target.hardware, target.evse_id) + (connector_id or 1) - 1
        try:
            answer = await self.commands.request_start_transaction(
                target.identity, evse_id=target.evse_id, connector_16=connector, id_token=id_token,
                id_token_type=id_token_type, remote_start_id=remote_start_id, profile=profile)
        except Exception as exc:  # the start did not happen: the command must not claim the next transaction
            if command_id is not None:
                async with self._sessions() as session:
                    await remote_start.finish_start(session, command_id, "FAILED", str(exc))
            raise
        if command_id is not None:
            async with self._sessions() as session:
                await remote_start.finish_start(session, command_id, "ACCEPTED" if answer.accepted else "REJECTED",
                                                f"the charger answered {answer.action} {answer.status}")
        return StartedTransaction(answer=answer, remote_start_id=remote_start_id if target.ocpp_version != "1.6"
                                  else None, transaction_id=answer.response.get("transactionId"),
                                  ocpi_partner_id=on_behalf.partner_id if on_behalf and answer.accepted else None)

    async def stop_transaction(self, target: ChargerTarget, transaction_id: str) -> StationAnswer:
        """RequestStopTransaction of a transaction the CSMS knows on this charger."""
        async with self._sessions() as session:
            tx = await session.scalar(select(CsmsTransaction).where(
                CsmsTransaction.identity == target.identity, CsmsTransaction.transaction_id == transaction_id))
            running = list(await session.scalars(select(CsmsTransaction.transaction_id).where(
                CsmsTransaction.identity == target.identity, CsmsTransaction.active.is_(True))))
            await session.commit()
        if tx is None:
            raise NotFound(f"charger {target.identity} has no transaction {transaction_id}; its running transactions "
                           f"are {running} (OCPP transactionId; on 1.6 the number the CSMS gave, state.evses[]."
                           "transaction.csms_id in GET /api/chargers/{id})")
        if not tx.active:
            raise Conflict(f"transaction {transaction_id} of charger {target.identity} has ended already; its "
                           f"running transactions are {running}")
        return await self.commands.request_stop_transaction(target.identity, transaction_id=transaction_id)

    async def composite_schedule(self, target: ChargerTarget, duration: int, unit: str | None = None
                                 ) -> list[tuple[StationAnswer, CompositeSchedule | None]]:
        """GetCompositeSchedule in each unit asked for (both A and W when ``unit`` is None)."""
        results = []
        for each in ([unit] if unit else ["W", "A"]):
            results.append(await self.commands.get_composite_schedule(
                target.identity, evse_id=target.evse_id, duration=duration, unit=each,
                connector_16=self._connector(target)))
        return results

    # -- after a change --

    async def limit_changed(self, target: ChargerTarget, at: datetime, source: str, *,
                            notify_emsps: bool = True) -> None:
        """Record the new limits of the running transactions a change touched and tell their eMSPs.

        ``target.evse_id`` 0 touches every transaction of the charger; ``target.transaction_pk`` only that one.
        """
        async with self._sessions() as session:
            query = select(CsmsTransaction).where(CsmsTransaction.identity == target.identity,
                                                  CsmsTransaction.active.is_(True))
            txs = list((await session.scalars(query)).all())
            await session.commit()
        if target.transaction_pk:
            txs = [tx for tx in txs if tx.id == target.transaction_pk]
        elif target.evse_id:  # 1.6 transactions are recorded on their connectorId
            key = connector_16(target.hardware, target.evse_id) if target.ocpp_version == "1.6" else target.evse_id
            txs = [tx for tx in txs if (tx.evse_id or 1) == key]
        for tx in txs:
            schedule = None
            try:
                answer, schedule = await self.commands.get_composite_schedule(
                    target.identity, evse_id=tx.evse_id or 1, duration=COMPOSITE_HORIZON_S, unit="W",
                    connector_16=tx.evse_id or 1)
            except (ChargerUnavailable, ChargerDidNotAnswer):
                pass  # the change is still recorded: periods are cut even without the new value
            async with self._sessions() as session:
                await limit_changes.record_change(session, [tx.id], at, source, schedule)
                if notify_emsps and schedule is not None:
                    await self._owe_active_profile(session, tx.id, schedule)
                await session.commit()

    async def _owe_active_profile(self, session: AsyncSession, transaction_pk: str,
                                  schedule: CompositeSchedule) -> None:
        row = await session.scalar(select(CpoSession).where(CpoSession.transaction_pk == transaction_pk,
                                                            CpoSession.status == "ACTIVE"))
        if row is None:
            return
        # Only for an eMSP that successfully set a profile on this session (mod_charging_profiles).
        set_before = await session.scalar(select(OcpiChargingProfile.id).where(
            OcpiChargingProfile.session_id == row.id, OcpiChargingProfile.partner_id == row.partner_id,
            OcpiChargingProfile.method == "PUT", OcpiChargingProfile.result == "ACCEPTED").limit(1))
        partner = await session.get(Partner, row.partner_id) if set_before is not None else None
        if partner is not None:
            outbox.enqueue(session, partner, "active_profile_put", row.id,
                           snapshot=active_charging_profile(schedule))

    # -- numbering --

    def _by_transaction(self, target: ChargerTarget) -> bool:
        return target.transaction_pk is not None

    def _connector(self, target: ChargerTarget) -> int:
        """The 1.6 connectorId of the target: a transaction's own (recorded on it), else the EVSE's first."""
        if self._by_transaction(target):
            return target.evse_id
        return connector_16(target.hardware, target.evse_id)

    def _hardware_evse(self, target: ChargerTarget) -> int:
        """The EVSE id of the hardware list (1.6 transactions are recorded on their connector number)."""
        if not self._by_transaction(target) or target.ocpp_version != "1.6":
            return target.evse_id
        count = 0
        for evse in target.hardware:
            count += len(evse["connectors"])
            if target.evse_id <= count:
                return evse["evse_id"]
        return target.evse_id

