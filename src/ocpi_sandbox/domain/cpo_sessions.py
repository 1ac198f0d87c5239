"""Sessions and CDRs the CPO owes an eMSP, made from the CSMS's transactions (reference ocpp.md §7.4).

A transaction becomes an OCPI Session when its token belongs to a registered eMSP (a token it pushed) and the
charger stands at a location a CPO party publishes. Meter samples move the session's kWh; the transaction's end
completes it and produces the CDR: charging periods cut where the tariff or the charging state changes, priced
with the connector's tariff in the location's time zone. Everything is stored in the OCPI 2.2.1 shape; the
OCPI layer derives 2.3.0 when it serves.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import select
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
    new_id,
    utcnow,
)
from . import limit_changes, outbox
from .charging_events import MeterSampleReceived, TransactionEnded, TransactionStarted
from .charging_periods import MeterSample, charging_periods_from_samples
from .emsp_tokens import find_token_by_uid
from .location_view import emi3_evse_id
from .pricing import Cost, price_session
from .tariffs import tariff_from_ocpi

__all__ = ["open_session", "update_session", "close_session", "stamp"]

_FOUR = Decimal("0.0001")


def stamp(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _price(cost: Cost) -> dict[str, float]:
    return {"excl_vat": float(cost.before_taxes.quantize(_FOUR)), "incl_vat": float(cost.after_taxes.quantize(_FOUR))}


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
    command = await _start_command(session, event)
    granted = None if command is not None else await _realtime_grant(session, event)
    if command is not None:
        partner = await session.get(Partner, command.partner_id)
        token_data, auth_method = command.request["token"], "COMMAND"
        authorization_reference = command.request.get("authorization_reference")
    elif granted is not None and granted.token:
        partner = await session.get(Partner, granted.partner_id)
        token_data, auth_method = granted.token, "AUTH_REQUEST"
        authorization_reference = granted.authorization_reference
    else:
        found = await find_token_by_uid(session, charger.tenant_id, event.id_token)
        if found is None:
            return None
        token, partner = found
        token_data, auth_method, authorization_reference = token.data, "WHITELIST", None
    if partner is None or partner.state != PartnerState.REGISTERED or partner.cpo_party_id != location.cpo_party_id:
        return None
    evse = next((e for e in charger.hardware or [] if e["evse_id"] == (event.evse_id or 1)), None)
    connector = (evse or {}).get("connectors", [{}])
    connector = next((c for c in connector if c.get("connector_id") == (event.connector_id or 1)), connector[0])
    tariff_id = (connector.get("tariff_ids") or [None])[0]
    tariff = await session.scalar(select(TariffRecord).where(
        TariffRecord.cpo_party_id == location.cpo_party_id, TariffRecord.ocpi_id == tariff_id)) if tariff_id else None
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
    outbox.enqueue(session, partner, "session_put", row.id, "sessions", _snapshot(row))
    await session.commit()
    return row


async def _start_command(session: AsyncSession, event: TransactionStarted) -> OcpiCommand | None:
    """The START_SESSION that asked for this transaction: same charger and token, in the last 15 minutes
    (OCPI mod_commands: the CPO SHALL NOT re-authorize a command's token at that charger in that window)."""
    since = event.at - timedelta(minutes=15)
    candidates = await session.scalars(select(OcpiCommand).where(
        OcpiCommand.identity == event.identity, OcpiCommand.command == "START_SESSION",
        OcpiCommand.created_at >= min(since, utcnow() - timedelta(minutes=15))).order_by(OcpiCommand.id.desc()))
    token = (event.id_token or "").upper()
    for command in candidates:
        # 1.6 idTags are cut to 20 characters on the way to the charger.
        if command.id_token and command.id_token.upper()[:len(token)] == token and command.result in (None, "ACCEPTED"):
            return command
    return None


def _snapshot(row: CpoSession) -> dict[str, Any]:
    """The Session fields that change, as they are now (laid over the Session when the push is sent)."""
    snap: dict[str, Any] = {"status": row.status, "kwh": row.kwh, "last_updated": stamp(row.last_updated)}
    if row.end_date_time is not None:
        snap["end_date_time"] = stamp(row.end_date_time)
    if row.total_cost:
        snap["total_cost"] = row.total_cost
    return snap


async def _patch_session(session: AsyncSession, row: CpoSession, periods: list[dict[str, Any]], *,
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
    snapshot = {**_snapshot(row), "charging_periods": periods[already:]}
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
    await _patch_session(session, row, closed, interval=patch_interval)
    await session.commit()
    return row


async def _tariff_of(session: AsyncSession, row: CpoSession) -> tuple[TariffRecord | None, Any]:
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


def _wire(periods: list) -> list[dict[str, Any]]:
    return [{"start_date_time": stamp(p.start_date_time), **({"tariff_id": p.tariff_id} if p.tariff_id else {}),
             "dimensions": [{"type": d.value, "volume": float(v.quantize(_FOUR))} for d, v in p.dimensions.items()]}
            for p in periods]


async def _running_periods(session: AsyncSession, row: CpoSession, tx: CsmsTransaction | None
                           ) -> tuple[list[dict[str, Any]], dict[str, float] | None]:
    """The session's charging periods so far (the last one open) and its running total cost."""
    if tx is None:
        return list(row.charging_periods or []), row.total_cost
    samples = await _samples(session, tx)
    if len(samples) < 2:
        return [], row.total_cost
    _, tariff = await _tariff_of(session, row)
    zone = ZoneInfo(row.time_zone)
    periods = charging_periods_from_samples(samples, tariff, zone, tariff_id=row.tariff_id)
    cost = None
    if tariff is not None:
        try:
            cost = _price(price_session(tariff, zone, periods, row.start_date_time, samples[-1].timestamp).total_cost)
        except ValueError:  # samples from before the session's start (an offline replay): no running cost
            cost = None
    return _wire(periods), cost


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


async def close_session(session: AsyncSession, event: TransactionEnded) -> tuple[CpoSession, CpoCdr] | None:
    """Complete a session and make its CDR (once: a replayed end changes nothing)."""
    row = await _by_transaction(session, event.transaction_pk)
    if row is None or row.status != "ACTIVE":
        return None
    tx = await session.get(CsmsTransaction, event.transaction_pk)
    party = await session.get(CpoParty, row.cpo_party_id)
    tariff_row, tariff = await _tariff_of(session, row)
    zone = ZoneInfo(row.time_zone)
    samples = await _samples(session, tx)
    end = tx.stopped_at or event.at
    row.status, row.end_date_time = "COMPLETED", end
    row.kwh = round(max(row.kwh, ((tx.meter_stop_wh or tx.meter_last_wh or 0.0) - row.meter_start_wh) / 1000), 4)
    row.last_updated = max(row.last_updated, end)
    periods = charging_periods_from_samples(samples, tariff, zone, tariff_id=row.tariff_id) if len(samples) > 1 else []
    wire_periods = _wire(periods)
    row.charging_periods = wire_periods
    location = await session.scalar(select(Location).where(Location.cpo_party_id == row.cpo_party_id,
                                                           Location.ocpi_id == row.location_id))
    charger = await session.scalar(select(Charger).where(Charger.identity == tx.identity))
    connector = next((c for e in charger.hardware or [] if e["evse_id"] == (tx.evse_id or 1)
                      for c in e["connectors"] if str(c["connector_id"]) == row.connector_id), {})
    breakdown: dict[str, Any] = {"tariff": None, "periods": []}
    totals: dict[str, Any] = {"total_cost": {"excl_vat": 0.0, "incl_vat": 0.0}, "total_energy": row.kwh,
                              "total_time": round((end - row.start_date_time).total_seconds() / 3600, 4)}
    if tariff is not None and periods:
        costs = price_session(tariff, zone, periods, row.start_date_time, end)
        totals = {"total_cost": _price(costs.total_cost), "total_fixed_cost": _price(costs.total_fixed_cost),
                  "total_energy": float(costs.total_energy.quantize(_FOUR)),
                  "total_energy_cost": _price(costs.total_energy_cost),
                  "total_time": float(costs.total_time.quantize(_FOUR)), "total_time_cost": _price(costs.total_time_cost),
                  "total_parking_time": float(costs.total_parking_time.quantize(_FOUR)),
                  "total_parking_cost": _price(costs.total_parking_cost)}
        breakdown = {"tariff": {"ocpi_id": tariff_row.ocpi_id, "data": tariff_row.data,
                                "last_updated": stamp(tariff_row.last_updated)},
                     "periods": [{"start_date_time": stamp(p.start_date_time), "cost": _price(p.cost),
                                  "components": [{"type": c.dimension.value, "category": c.category.value,
                                                  "volume": float(c.quantity.quantize(_FOUR)),
                                                  "billed_volume": float(c.billed_quantity.quantize(_FOUR)),
                                                  "price": float(c.price), "cost": _price(c.cost)}
                                                 for c in p.components]} for p in costs.periods],
                     "notices": list(costs.notices)}
        row.total_cost = totals["total_cost"]
    cdr = CpoCdr(id=new_id(), tenant_id=row.tenant_id, cpo_party_id=row.cpo_party_id, partner_id=row.partner_id,
                 session_id=row.id, breakdown=breakdown, last_updated=utcnow())
    cdr.data = {
        "country_code": party.country_code, "party_id": party.party_id, "id": cdr.id,
        "start_date_time": stamp(row.start_date_time), "end_date_time": stamp(end), "session_id": row.id,
        "cdr_token": row.cdr_token, "auth_method": row.auth_method,
        **({"authorization_reference": row.authorization_reference} if row.authorization_reference else {}),
        "cdr_location": {
            "id": location.ocpi_id, "name": location.name[:255], "address": location.address[:45],
            "city": location.city[:45], "postal_code": (location.postal_code or "")[:10] or None,
            "country": location.country, "coordinates": {"latitude": location.latitude,
                                                         "longitude": location.longitude},
            "evse_uid": row.evse_uid,
            "evse_id": emi3_evse_id(party.country_code, party.party_id, tx.identity, tx.evse_id or 1),
            "connector_id": row.connector_id,
            "connector_standard": connector.get("standard", "IEC_62196_T2"),
            "connector_format": connector.get("format", "SOCKET"),
            "connector_power_type": connector.get("power_type", "AC_3_PHASE")},
        "currency": row.currency, "charging_periods": wire_periods or [
            {"start_date_time": stamp(row.start_date_time), "dimensions": [{"type": "ENERGY", "volume": row.kwh}]}],
        **totals, "last_updated": stamp(cdr.last_updated),
    }
    cdr.data["cdr_location"] = {k: v for k, v in cdr.data["cdr_location"].items() if v is not None}
    session.add(cdr)
    await _patch_session(session, row, wire_periods, final=True)
    partner = await session.get(Partner, row.partner_id)
    if partner is not None:  # after the session's own pushes (outbox.order_key)
        outbox.enqueue(session, partner, "cdr_post", cdr.id, "cdrs", {"session_id": row.id})
    await session.commit()
    return row, cdr


async def active_session_transactions(session: AsyncSession) -> set[str]:
    """Return the CSMS transaction keys that carry an ACTIVE OCPI session (the ones meter values must reach)."""
    return set(await session.scalars(select(CpoSession.transaction_pk).where(CpoSession.status == "ACTIVE")))
