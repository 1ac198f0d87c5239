"""What the embedded CSMS records: stations, connector statuses, transactions, meter samples, ID tokens.

Each function is one short transaction and commits; the CSMS publishes the returned domain event afterwards.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import CsmsConnector, CsmsMeterSample, CsmsStation, CsmsTransaction, utcnow

__all__ = [
    "Sample", "write_station_batch",
    "start_transaction", "find_transaction", "record_samples", "end_transaction", "next_transaction_number",
    "neutral_status", "mark_all_disconnected", "OpenTransaction", "open_transaction", "write_meter_batch",
]

# 1.6 ChargePointStatus -> the 2.0.1 connector vocabulary (reference ocpp.md §3.4).
_NEUTRAL = {
    "Available": "available", "Preparing": "occupied", "Charging": "occupied", "SuspendedEV": "occupied",
    "SuspendedEVSE": "occupied", "Finishing": "occupied", "Reserved": "reserved", "Unavailable": "unavailable",
    "Faulted": "faulted", "Occupied": "occupied",
}


def neutral_status(ocpp_status: str) -> str:
    return _NEUTRAL.get(ocpp_status, "unavailable")


class Sample(msgspec.Struct, frozen=True, kw_only=True):
    """One meter reading, version-neutral, in base units (Wh, W, A, V, %)."""

    at: datetime
    context: str | None = None
    energy_wh: float | None = None
    power_w: float | None = None
    current_a: float | None = None
    voltage_v: float | None = None
    soc: float | None = None


async def mark_all_disconnected(session: AsyncSession) -> None:
    """On start: no socket survives a restart, whatever the table says."""
    await session.execute(update(CsmsStation).values(connected=False))
    await session.commit()


def _insert(session: AsyncSession, model: type):  # noqa: ANN202 - the dialect's Insert, with on_conflict_do_update
    """INSERT in the dialect of the session's database, which both spell ``ON CONFLICT … DO UPDATE`` (upsert)."""
    return (sqlite_insert if session.bind.dialect.name == "sqlite" else postgresql_insert)(model.__table__)


async def write_station_batch(session: AsyncSession, *, presence: list[dict], boots: list[dict],
                              statuses: list[dict]) -> None:
    """Write many stations' connection state, boot data and connector statuses in one transaction.

    ``presence`` rows: identity, tenant_id, ocpp_version, connected, last_seen_at (a station is created by its
    first row; a tenant once set stays). ``boots``: identity, vendor, model, serial_number, firmware_version,
    registration_status, at (a station not yet recorded is skipped). ``statuses``: identity, evse_id,
    connector_id, status, error_code, info, updated_at. Core executemany statements: this is what a fleet's boot
    costs the database (csms/station_records.py).
    """
    if presence:
        table, statement = CsmsStation.__table__, _insert(session, CsmsStation)
        statement = statement.on_conflict_do_update(index_elements=["identity"], set_={
            "ocpp_version": statement.excluded.ocpp_version, "connected": statement.excluded.connected,
            "last_seen_at": statement.excluded.last_seen_at,
            "tenant_id": func.coalesce(table.c.tenant_id, statement.excluded.tenant_id)})
        await session.execute(statement, presence)
    if boots:
        table = CsmsStation.__table__
        await session.execute(update(table).where(table.c.identity == bindparam("b_identity")).values(
            vendor=bindparam("vendor"), model=bindparam("model"), serial_number=bindparam("serial_number"),
            firmware_version=bindparam("firmware_version"), registration_status=bindparam("registration_status"),
            last_boot_at=bindparam("at"), last_seen_at=bindparam("at")), boots)
    if statuses:
        statement = _insert(session, CsmsConnector)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["identity", "evse_id", "connector_id"],
            set_={c: statement.excluded[c] for c in ("status", "error_code", "info", "updated_at")}), statuses)
    await session.commit()


async def next_transaction_number(session: AsyncSession, identity: str) -> int:
    """Return the next 1.6 transactionId for a station (the CSMS assigns them, OCPP 1.6 StartTransaction)."""
    rows = await session.scalars(select(CsmsTransaction.transaction_id).where(CsmsTransaction.identity == identity))
    numbers = [int(t) for t in rows if t.isdigit()]
    return max(numbers, default=0) + 1


async def start_transaction(session: AsyncSession, identity: str, transaction_id: str, *, evse_id: int | None,
                            connector_id: int | None, id_token: str | None, id_token_type: str | None,
                            started_at: datetime, meter_start_wh: float | None, remote_start_id: int | None = None,
                            reservation_id: int | None = None, charging_state: str | None = None,
                            ) -> tuple[CsmsTransaction, bool]:
    """Create the transaction, or return the existing one (a replayed Started); the bool says if it is new."""
    existing = await find_transaction(session, identity, transaction_id)
    if existing is not None:
        return existing, False
    tx = CsmsTransaction(identity=identity, transaction_id=transaction_id, evse_id=evse_id,
                         connector_id=connector_id, id_token=id_token, id_token_type=id_token_type,
                         started_at=started_at, meter_start_wh=meter_start_wh, meter_last_wh=meter_start_wh,
                         remote_start_id=remote_start_id, reservation_id=reservation_id,
                         charging_state=charging_state)
    session.add(tx)
    await session.commit()
    return tx, True


async def find_transaction(session: AsyncSession, identity: str, transaction_id: str) -> CsmsTransaction | None:
    return await session.scalar(select(CsmsTransaction).where(
        CsmsTransaction.identity == identity, CsmsTransaction.transaction_id == transaction_id))


async def record_samples(session: AsyncSession, tx: CsmsTransaction, samples: list[Sample], *,
                         charging_state: str | None = None, seq_no: int | None = None, offline: bool = False,
                         commit: bool = True) -> None:
    """Store meter samples of a transaction and advance its last register reading (never backwards)."""
    for s in samples:
        session.add(CsmsMeterSample(transaction_pk=tx.id, at=s.at, context=s.context, energy_wh=s.energy_wh,
                                    power_w=s.power_w, current_a=s.current_a, voltage_v=s.voltage_v, soc=s.soc))
        if s.energy_wh is not None and (tx.meter_last_wh is None or s.energy_wh > tx.meter_last_wh):
            tx.meter_last_wh = s.energy_wh
    if charging_state:
        tx.charging_state = charging_state
    if seq_no is not None:
        tx.seq_nos = sorted({*(tx.seq_nos or []), seq_no})
    if offline:
        tx.offline_events += 1
    if commit:
        await session.commit()


async def end_transaction(session: AsyncSession, tx: CsmsTransaction, *, stopped_at: datetime,
                          meter_stop_wh: float | None, reason: str | None) -> None:
    tx.active, tx.stopped_at, tx.stop_reason = False, stopped_at, reason
    if meter_stop_wh is not None:
        tx.meter_stop_wh = meter_stop_wh
        tx.meter_last_wh = max(tx.meter_last_wh or 0.0, meter_stop_wh)
    else:
        tx.meter_stop_wh = tx.meter_last_wh
    await session.commit()


class OpenTransaction(msgspec.Struct, kw_only=True):
    """What the CSMS keeps in memory of an active transaction so that a meter value needs no database read."""

    pk: str
    identity: str
    transaction_id: str
    meter_last_wh: float | None
    charging_state: str | None
    seq_nos: list[int]
    offline_events: int
    # Fields a later TransactionEvent may still fill (OCPP 2.0.1 E "optional fields"): an event that brings one
    # takes the full path. The token is not among them: an event with a token always takes the full path.
    has_evse: bool
    has_remote_start_id: bool


async def open_transaction(session: AsyncSession, identity: str, transaction_id: str) -> OpenTransaction | None:
    """Load an active transaction as an ``OpenTransaction``; None if it is unknown or has ended."""
    tx = await find_transaction(session, identity, transaction_id)
    if tx is None or not tx.active:
        return None
    return OpenTransaction(pk=tx.id, identity=identity, transaction_id=transaction_id, meter_last_wh=tx.meter_last_wh,
                           charging_state=tx.charging_state, seq_nos=list(tx.seq_nos or []),
                           offline_events=tx.offline_events,
                           has_evse=tx.evse_id is not None,
                           has_remote_start_id=tx.remote_start_id is not None)


async def write_meter_batch(session: AsyncSession, samples: list[dict], transactions: list[OpenTransaction]) -> None:
    """Insert buffered meter samples and save the buffered state of their transactions, in one transaction.

    Core executemany statements, not ORM units of work: at thousands of chargers this batch is the CSMS's
    main write, and ORM bookkeeping per row would cost more than the rows themselves.
    """
    connection = await session.connection()
    if samples:
        await connection.execute(insert(CsmsMeterSample.__table__), samples)
    if transactions:
        table = CsmsTransaction.__table__
        statement = update(table).where(table.c.id == bindparam("pk")).values(
            meter_last_wh=bindparam("meter_last_wh"), charging_state=bindparam("charging_state"),
            seq_nos=bindparam("seq_nos"), offline_events=bindparam("offline_events"), updated_at=bindparam("now"))
        now = utcnow()
        await connection.execute(statement, [
            {"pk": t.pk, "meter_last_wh": t.meter_last_wh, "charging_state": t.charging_state, "seq_nos": t.seq_nos,
             "offline_events": t.offline_events, "now": now} for t in transactions])
    await session.commit()
