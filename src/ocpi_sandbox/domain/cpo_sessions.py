"""Sessions and CDRs the CPO owes an eMSP, made from the CSMS's transactions (reference ocpp.md §7.4).

A transaction becomes an OCPI Session when its token belongs to a registered eMSP (a token it pushed) and the
charger stands at a location a CPO party publishes. Meter samples move the session's kWh; the transaction's end
completes it and produces the CDR (``domain.cdrs``): charging periods cut where the tariff or the charging state
changes, priced with the connector's tariff in the location's time zone. A transaction that uses a reservation
turns that reservation's session (``domain.reservations``) ACTIVE instead of opening one. Everything is stored in
the OCPI 2.2.1 shape; the OCPI layer derives 2.3.0 when it serves.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import (
    Charger,
    CpoCdr,
    CpoParty,
    CpoSession,
    CsmsMeterSample,
    CsmsTransaction,
    Location,
    OcpiCommand,
    OcpiPush,
    Partner,
    PartnerState,
    PushState,
    RealtimeAuthorization,
    TariffRecord,
    utcnow,
)
from . import held_reservations, limit_changes, outbox
from .authorization import same_id_token
from .cdrs import make_cdr, periods_json, price_json, stamp
from .charging_events import MeterSampleReceived, TransactionEnded, TransactionStarted
from .charging_periods import CdrDimensionType, ChargingPeriod, MeterSample, charging_periods_from_samples
from .emsp_tokens import find_token_by_uid
from .pricing import price_session
from .tariffs import tariff_from_ocpi

__all__ = ["may_open_session", "open_session", "update_session", "close_session", "stamp", "reservation_period",
           "patch_session", "session_snapshot", "tariff_of", "connector_tariff", "leave_reservation"]


async def may_open_session(session: AsyncSession, event: TransactionStarted) -> bool:
    """Whether ``open_session`` could open a session for ``event``: it has a token, and its charger stands at a
    location of a CPO party that has a registered eMSP, or holds a reservation (which goes ACTIVE whatever became
    of its eMSP since). Cheap reads, so that the transactions no eMSP can own (a fleet charging with local cards, a
    sandbox nobody registered with) cost no write transaction."""
    if not event.id_token:
        return False
    partner = await session.scalar(
        select(Partner.id).join(Location, Location.cpo_party_id == Partner.cpo_party_id)
        .join(Charger, Charger.location_id == Location.id)
        .where(Charger.identity == event.identity, Partner.state == PartnerState.REGISTERED).limit(1))
    return partner is not None or bool(await held_reservations.held(session, tenant_id=event.tenant_id,
                                                                    identity=event.identity))


async def open_session(session: AsyncSession, event: TransactionStarted) -> CpoSession | None:
    """Create the OCPI session of a started transaction, or None when no eMSP owns it; a transaction announced
    again (its token arrived after it started) keeps the session it has."""
    existing = await _by_transaction(session, event.transaction_pk)
    if existing is not None:
        return existing
    charger = await session.scalar(select(Charger).where(Charger.identity == event.identity))
    if charger is None or charger.location_id is None or not event.id_token:
        return None
    location = await session.get(Location, charger.location_id)
    if location is None or location.cpo_party_id is None:
        return None
    command = await _start_command(session, event, charger.tenant_id)
    granted = None if command is not None else await _realtime_grant(session, event)
    tx = await session.get(CsmsTransaction, event.transaction_pk)
    reserved = await held_reservations.used_by(
        session, charger.tenant_id, event.identity, number=tx.reservation_id if tx is not None else None,
        id_token=event.id_token, evse_id=event.evse_id or 1)
    if reserved is not None and await leave_reservation(session, reserved[0], "ACTIVE", command_id=reserved[1].id):
        return await _use_reservation(session, reserved[0], event, charger, command, granted)
    if command is not None:
        partner = await session.get(Partner, command.partner_id)
        token_data, auth_method = command.request["token"], "COMMAND"
        authorization_reference = command.request.get("authorization_reference")
    elif granted is not None and granted.token:
        partner = await session.get(Partner, granted.partner_id)
        token_data, auth_method = granted.token, "AUTH_REQUEST"
        authorization_reference = granted.authorization_reference
    else:
        found = await find_token_by_uid(session, charger.tenant_id, event.id_token, location.cpo_party_id)
        if found is None:
            return None
        token, partner = found
        token_data, auth_method, authorization_reference = token.data, "WHITELIST", None
    if partner is None or partner.state != PartnerState.REGISTERED or partner.cpo_party_id != location.cpo_party_id:
        return None
    tariff = await connector_tariff(session, charger, location.cpo_party_id, event.evse_id or 1,
                                     event.connector_id or 1)
    data = token_data
    row = CpoSession(
        tenant_id=charger.tenant_id, cpo_party_id=location.cpo_party_id, partner_id=partner.id,
        transaction_pk=event.transaction_pk, location_id=location.ocpi_id,
        evse_uid=f"{charger.identity}-{event.evse_id or 1}", connector_id=str(event.connector_id or 1),
        cdr_token={k: data[k] for k in ("country_code", "party_id", "uid", "type", "contract_id")},
        auth_method=auth_method, authorization_reference=authorization_reference, status="ACTIVE", currency=tariff.data["currency"] if tariff else "EUR",
        tariff_id=tariff.ocpi_id if tariff else None, time_zone=location.time_zone, start_date_time=event.at,
        meter_start_wh=event.meter_start_wh or 0.0, last_updated=event.at)
    session.add(row)
    await session.flush()
    outbox.enqueue(session, partner, "session_put", row.id, "sessions", session_snapshot(row))
    await session.commit()
    return row


async def connector_tariff(session: AsyncSession, charger: Charger, cpo_party_id: str, evse_id: int,
                           connector_id: int | None) -> TariffRecord | None:
    """The tariff of a connector (the first of its ``tariff_ids``); the EVSE's first connector when none is named."""
    evse = next((e for e in charger.hardware or [] if e["evse_id"] == evse_id), None)
    connectors = (evse or {}).get("connectors") or [{}]
    connector = next((c for c in connectors if c.get("connector_id") == connector_id), connectors[0])
    tariff_id = (connector.get("tariff_ids") or [None])[0]
    return await session.scalar(select(TariffRecord).where(
        TariffRecord.cpo_party_id == cpo_party_id, TariffRecord.ocpi_id == tariff_id)) if tariff_id else None


async def _use_reservation(session: AsyncSession, row: CpoSession, event: TransactionStarted, charger: Charger,
                           command: OcpiCommand | None, granted: RealtimeAuthorization | None) -> CpoSession:
    """Turn a RESERVATION session into the charging session of ``event`` (OCPI mod_sessions: the reservation
    becomes ACTIVE when charging starts with its token), with a PUT: the EVSE, start and auth method change.

    ``start_date_time`` becomes the charging start (mod_sessions: the moment the session went ACTIVE); the
    reservation stays as the first charging period (RESERVATION_TIME, priced by the tariff's reservation
    elements), and the CDR starts where the reservation did (mod_cdrs, CDR.start_date_time).
    """
    if command is not None and command.partner_id == row.partner_id:
        row.auth_method = "COMMAND"
        row.authorization_reference = command.request.get("authorization_reference") or row.authorization_reference
    elif granted is not None and granted.partner_id == row.partner_id:
        row.auth_method = "AUTH_REQUEST"
        row.authorization_reference = granted.authorization_reference or row.authorization_reference
    # Otherwise the charger let the reserved token in on the reservation itself: still the RESERVE_NOW's COMMAND.
    tariff = await connector_tariff(session, charger, row.cpo_party_id, event.evse_id or 1, event.connector_id or 1)
    if tariff is not None:
        row.tariff_id, row.currency = tariff.ocpi_id, tariff.data["currency"]
    row.transaction_pk, row.status, row.start_date_time = event.transaction_pk, "ACTIVE", event.at
    row.evse_uid, row.connector_id = f"{charger.identity}-{event.evse_id or 1}", str(event.connector_id or 1)
    row.meter_start_wh = event.meter_start_wh or 0.0
    row.last_updated = max(row.last_updated, event.at)
    reserved = reservation_period(row, event.at)
    row.charging_periods = periods_json([reserved] if reserved else [])
    partner = await session.get(Partner, row.partner_id)
    if partner is not None:
        outbox.enqueue(session, partner, "session_put", row.id, "sessions",
                       {**session_snapshot(row), "charging_periods": row.charging_periods})
    await session.commit()
    return row


async def leave_reservation(session: AsyncSession, row: CpoSession, status: str, *, command_id: int | None = None
                            ) -> bool:
    """Move a session out of RESERVATION, atomically: False when something else (its expiry, the charger's
    report, the charging that uses it) got there first, so a reservation ends once, whoever notices. With
    ``command_id``, only while that RESERVE_NOW is still the one in force: a replacing RESERVE_NOW (a later
    expiry) committed since the caller looked is not ended by what was true of the one it replaced."""
    where = [CpoSession.id == row.id, CpoSession.status == "RESERVATION"]
    if command_id is not None:
        where.append(CpoSession.reservation_command_id == command_id)
    moved = await session.execute(update(CpoSession).where(*where)
                                  .values(status=status).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        return False  # nothing changed: the caller's transaction goes on
    row.status = status
    return True


def reservation_period(row: CpoSession, until: datetime) -> ChargingPeriod | None:
    """The reservation part of a session that began as one, up to ``until`` (RESERVATION_TIME, hours)."""
    if row.reserved_at is None or until <= row.reserved_at:
        return None
    delta = until - row.reserved_at
    hours = (Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 1_000_000) / 3600
    return ChargingPeriod(start_date_time=row.reserved_at, dimensions={CdrDimensionType.RESERVATION_TIME: hours},
                          tariff_id=row.tariff_id)


async def _start_command(session: AsyncSession, event: TransactionStarted, tenant_id: str) -> OcpiCommand | None:
    """The START_SESSION that asked for this transaction: same charger (of this tenant) and token, in the last 15
    minutes (OCPI mod_commands: the CPO SHALL NOT re-authorize a command's token at that charger in that window)."""
    since = event.at - timedelta(minutes=15)
    candidates = await session.scalars(select(OcpiCommand).where(
        OcpiCommand.tenant_id == tenant_id, OcpiCommand.identity == event.identity,
        OcpiCommand.command == "START_SESSION",
        OcpiCommand.created_at >= min(since, utcnow() - timedelta(minutes=15))).order_by(OcpiCommand.id.desc()))
    for command in candidates:
        if same_id_token(command.id_token, event.id_token) and command.result in (None, "ACCEPTED"):
            return command
    return None


def session_snapshot(row: CpoSession) -> dict[str, Any]:
    """The Session fields that change, as they are now (laid over the Session when the push is sent; a PATCH
    carries only those it may change, a PUT all: a reservation's EVSE, start and auth method change once)."""
    snap: dict[str, Any] = {"status": row.status, "kwh": row.kwh, "last_updated": stamp(row.last_updated),
                            "start_date_time": stamp(row.start_date_time), "evse_uid": row.evse_uid,
                            "connector_id": row.connector_id, "auth_method": row.auth_method}
    if row.end_date_time is not None:
        snap["end_date_time"] = stamp(row.end_date_time)
    if row.total_cost:
        snap["total_cost"] = row.total_cost
    return snap


async def patch_session(session: AsyncSession, row: CpoSession, periods: list[dict[str, Any]], *,
                        interval: float = 0.0, final: bool = False) -> None:
    """Queue a Session PATCH with the new values and the charging periods the eMSP has not been sent yet.

    That is the throttle (setting ``ocpi_session_patch_interval``): a PATCH goes at most once per ``interval``
    seconds after the session's previous push; while one waits for its turn it is brought up to date instead
    of queueing another. The final PATCH (COMPLETED) goes at once. OCPI mod_sessions: a PATCH appends the
    ``charging_periods`` it carries, so each period is sent once, when it is closed.
    """
    pushes = list((await session.scalars(select(OcpiPush).where(
        OcpiPush.object_id == row.id, OcpiPush.kind.in_(("session_put", "session_patch")))
        .order_by(OcpiPush.id))).all())
    now = utcnow()
    # Only a push that is not due yet may change: one that is due may be on its way to the eMSP right now.
    waiting = next((p for p in reversed(pushes) if p.kind == "session_patch" and p.state == PushState.PENDING
                    and p.attempts == 0 and p.next_attempt_at > now + timedelta(seconds=0.5)), None)
    already = sum(len((p.snapshot or {}).get("charging_periods", [])) for p in pushes if p is not waiting)
    snapshot = {**session_snapshot(row), "charging_periods": periods[already:]}
    if waiting is not None:
        waiting.snapshot = snapshot
        if final:
            waiting.next_attempt_at = now
        return
    partner = await session.get(Partner, row.partner_id)
    if partner is None:
        return
    due = now
    if not final and pushes:  # the interval counts from when the previous push was due to go
        previous = max(pushes[-1].created_at, pushes[-1].next_attempt_at)
        due = max(now, previous + timedelta(seconds=interval))
    outbox.enqueue(session, partner, "session_patch", row.id, "sessions", snapshot, due=due)


async def _realtime_grant(session: AsyncSession, event: TransactionStarted) -> RealtimeAuthorization | None:
    """The eMSP's real-time ALLOWED for this token at this charger, in the last 15 minutes."""
    since = min(event.at, utcnow()) - timedelta(minutes=15)
    return await session.scalar(select(RealtimeAuthorization).where(
        RealtimeAuthorization.identity == event.identity, RealtimeAuthorization.id_token == (event.id_token or "").upper(),
        RealtimeAuthorization.allowed == "ALLOWED", RealtimeAuthorization.created_at >= since)
        .order_by(RealtimeAuthorization.id.desc()))


async def _by_transaction(session: AsyncSession, transaction_pk: str) -> CpoSession | None:
    return await session.scalar(select(CpoSession).where(CpoSession.transaction_pk == transaction_pk))


async def update_session(session: AsyncSession, event: MeterSampleReceived, *, patch_interval: float = 0.0
                         ) -> CpoSession | None:
    """Move a session's kWh (never backwards), charging periods and running cost with a new meter sample, and
    queue the PATCH the eMSP is owed (throttled to one per ``patch_interval`` seconds)."""
    row = await _by_transaction(session, event.transaction_pk)
    if row is None or row.status != "ACTIVE" or event.energy_wh is None:
        return None
    kwh = round(max(row.kwh, (event.energy_wh - row.meter_start_wh) / 1000), 4)
    tx = await session.get(CsmsTransaction, row.transaction_pk)
    periods, cost = await _running_periods(session, row, tx)
    closed = periods[:-1]  # the last period is still open: its volumes grow until the next cut
    sent_before = len(row.charging_periods or []) - 1
    if kwh == row.kwh and cost == row.total_cost and len(closed) <= sent_before:
        return None
    row.kwh, row.last_updated = kwh, max(row.last_updated, event.at)
    row.charging_periods, row.total_cost = periods, cost or row.total_cost
    await patch_session(session, row, closed, interval=patch_interval)
    await session.commit()
    return row


async def tariff_of(session: AsyncSession, row: CpoSession) -> tuple[TariffRecord | None, Any]:
    """The session's tariff row and its priceable form (the tariff valid at session start)."""
    if not row.tariff_id:
        return None, None
    tariff_row = await session.scalar(select(TariffRecord).where(
        TariffRecord.cpo_party_id == row.cpo_party_id, TariffRecord.ocpi_id == row.tariff_id))
    if tariff_row is None:
        return None, None
    party = await session.get(CpoParty, row.cpo_party_id)
    return tariff_row, tariff_from_ocpi({**tariff_row.data, "country_code": party.country_code,
                                         "party_id": party.party_id, "id": tariff_row.ocpi_id,
                                         "last_updated": stamp(tariff_row.last_updated)}, "2.3.0")


async def _running_periods(session: AsyncSession, row: CpoSession, tx: CsmsTransaction | None
                           ) -> tuple[list[dict[str, Any]], dict[str, float] | None]:
    """The session's charging periods so far (the last one open) and its running total cost."""
    if tx is None:
        return list(row.charging_periods or []), row.total_cost
    reserved = reservation_period(row, row.start_date_time)
    head = [reserved] if reserved is not None else []  # a session that began as a reservation
    samples = await _samples(session, tx)
    if len(samples) < 2:
        return periods_json(head), row.total_cost
    _, tariff = await tariff_of(session, row)
    zone = ZoneInfo(row.time_zone)
    periods = head + charging_periods_from_samples(samples, tariff, zone, tariff_id=row.tariff_id)
    cost = None
    if tariff is not None:
        try:
            cost = price_json(price_session(tariff, zone, periods, row.reserved_at or row.start_date_time,
                                            samples[-1].timestamp).total_cost)
        except ValueError:  # samples from before the session's start (an offline replay): no running cost
            cost = None
    return periods_json(periods), cost


async def _samples(session: AsyncSession, tx: CsmsTransaction) -> list[MeterSample]:
    rows = (await session.scalars(select(CsmsMeterSample).where(CsmsMeterSample.transaction_pk == tx.id)
                                  .order_by(CsmsMeterSample.at, CsmsMeterSample.id))).all()
    samples, last_energy = [], tx.meter_start_wh or 0.0
    start = tx.started_at
    if start is not None:
        samples.append(MeterSample(timestamp=start, energy_wh=Decimal(str(last_energy)), charging=True))
    for r in rows:
        if r.energy_wh is None or r.at < (start or r.at) or r.energy_wh < last_energy:
            continue  # samples without a register, or out of order, do not make periods
        charging = (r.power_w or 0) > 0 if r.power_w is not None else r.energy_wh > last_energy
        samples.append(MeterSample(timestamp=r.at, energy_wh=Decimal(str(r.energy_wh)), charging=charging,
                                   power_w=Decimal(str(r.power_w)) if r.power_w is not None else None,
                                   current_a=Decimal(str(r.current_a)) if r.current_a is not None else None))
        last_energy = r.energy_wh
    if tx.stopped_at is not None and (not samples or tx.stopped_at > samples[-1].timestamp):
        final = Decimal(str(max(tx.meter_stop_wh or last_energy, last_energy)))
        samples.append(MeterSample(timestamp=tx.stopped_at, energy_wh=final, charging=False))
    # Equal timestamps would make empty periods; keep the last reading of each instant.
    deduplicated: dict[datetime, MeterSample] = {s.timestamp: s for s in samples}
    ordered = [deduplicated[t] for t in sorted(deduplicated)]
    # A reading of 0 W taken as the EV begins (the first sample of a transaction often is) is held until the next
    # sample; when the register grew meanwhile the EV was drawing power then: charging, not parking.
    for i, (sample, following) in enumerate(zip(ordered, ordered[1:])):
        if not sample.charging and following.energy_wh > sample.energy_wh:
            ordered[i] = msgspec.structs.replace(sample, charging=True)
    deduplicated = {s.timestamp: s for s in ordered}
    # Smart charging: each sample carries the limit in force, so periods are cut where it changed.
    return await limit_changes.with_limits(session, tx.id, [deduplicated[t] for t in sorted(deduplicated)])


async def close_session(session: AsyncSession, event: TransactionEnded) -> tuple[CpoSession, CpoCdr | None] | None:
    """Complete a session and make its CDR (once: a replayed end changes nothing; none when its location was
    deleted meanwhile)."""
    row = await _by_transaction(session, event.transaction_pk)
    if row is None or row.status != "ACTIVE":
        return None
    tx = await session.get(CsmsTransaction, event.transaction_pk)
    party = await session.get(CpoParty, row.cpo_party_id)
    tariff_row, tariff = await tariff_of(session, row)
    zone = ZoneInfo(row.time_zone)
    samples = await _samples(session, tx)
    end = tx.stopped_at or event.at
    row.status, row.end_date_time = "COMPLETED", end
    row.kwh = round(max(row.kwh, ((tx.meter_stop_wh or tx.meter_last_wh or 0.0) - row.meter_start_wh) / 1000), 4)
    row.last_updated = max(row.last_updated, end)
    periods = charging_periods_from_samples(samples, tariff, zone, tariff_id=row.tariff_id) if len(samples) > 1 else []
    reserved = reservation_period(row, row.start_date_time)
    if reserved is not None:  # the reservation before the charging: its own period, and the CDR starts there
        periods.insert(0, reserved)
    wire_periods = periods_json(periods)
    row.charging_periods = wire_periods
    cdr, _ = await make_cdr(session, row, party, periods=periods, start=row.reserved_at or row.start_date_time,
                            end=end, identity=tx.identity, evse_id=tx.evse_id or 1, zone=zone, tariff_row=tariff_row,
                            tariff=tariff)
    await patch_session(session, row, wire_periods, final=True)
    partner = await session.get(Partner, row.partner_id)
    if partner is not None and cdr is not None:  # after the session's own pushes (outbox.order_key)
        outbox.enqueue(session, partner, "cdr_post", cdr.id, "cdrs", {"session_id": row.id})
    await session.commit()
    return row, cdr


async def active_session_transactions(session: AsyncSession) -> set[str]:
    """Return the CSMS transaction keys that carry an ACTIVE OCPI session (the ones meter values must reach)."""
    return set(await session.scalars(select(CpoSession.transaction_pk).where(CpoSession.status == "ACTIVE")))
