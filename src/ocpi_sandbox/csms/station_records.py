"""Write what stations say about themselves (connection, boot, connector status) by group commit.

A station's boot is a handful of tiny writes: connected, BootNotification, one StatusNotification per
connector. Each in its own transaction cost about 2.5 ms of CPU (ORM, aiosqlite round trips, ``BEGIN
IMMEDIATE``), and a thousand stations booting at once queued on SQLite's write lock: boots ran at 40 a second,
all of it this (docs/performance.md). Here each caller still awaits the commit of its own write, so what it
does next (answer the station, publish a domain event) sees it stored, as before; but every write that
arrives while one transaction commits goes into the next one, with Core executemany statements.

A batch that fails (a station deleted under its writes, a database gone for a moment) is retried one write
per transaction, so each caller gets its own outcome.
"""

from __future__ import annotations

import asyncio
import logging
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import utcnow
from ..domain import csms_records as records

__all__ = ["StationRecords"]

log = logging.getLogger(__name__)

_KINDS = ("presence", "boots", "statuses")


class _Write:
    __slots__ = ("kind", "row", "done")

    def __init__(self, kind: str, row: dict, done: asyncio.Future[None]) -> None:
        self.kind, self.row, self.done = kind, row, done


class StationRecords:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._pending: list[_Write] = []
        self._writer: asyncio.Task[None] | None = None
        # The last status of each connector since its station connected, to tell a change from a repeat. It is
        # forgotten at each connect, so the first status after a reconnect always counts as a change: a spare
        # OCPI status PATCH is harmless, a missed one is not.
        self._statuses: dict[str, dict[tuple[int, int], tuple[str, str | None]]] = {}

    async def connected(self, identity: str, version: str, tenant_id: str | None) -> None:
        self._statuses.pop(identity, None)
        await self._write("presence", {"identity": identity, "tenant_id": tenant_id, "ocpp_version": version,
                                       "connected": True, "last_seen_at": utcnow()})

    async def disconnected(self, identity: str, version: str, tenant_id: str | None) -> None:
        await self._write("presence", {"identity": identity, "tenant_id": tenant_id, "ocpp_version": version,
                                       "connected": False, "last_seen_at": utcnow()})

    async def booted(self, identity: str, *, vendor: str, model: str, serial_number: str | None,
                     firmware_version: str | None, status: str) -> None:
        await self._write("boots", {"b_identity": identity, "vendor": vendor, "model": model,
                                    "serial_number": serial_number, "firmware_version": firmware_version,
                                    "registration_status": status, "at": utcnow()})

    async def status(self, identity: str, evse_id: int, connector_id: int, status: str, error_code: str | None,
                     info: str | None) -> bool:
        """Store a connector's status; return whether it changed (see ``_statuses``)."""
        known = self._statuses.setdefault(identity, {})
        changed = known.get((evse_id, connector_id)) != (status, error_code)
        known[(evse_id, connector_id)] = (status, error_code)
        await self._write("statuses", {"identity": identity, "evse_id": evse_id, "connector_id": connector_id,
                                       "status": status, "error_code": error_code, "info": info,
                                       "updated_at": utcnow()})
        return changed

    async def _write(self, kind: str, row: dict) -> None:
        done = asyncio.get_running_loop().create_future()
        self._pending.append(_Write(kind, row, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_pending())
        # shield: a caller cancelled while waiting (its socket closed) must not cancel the write of others.
        await asyncio.shield(done)

    async def _write_pending(self) -> None:
        batch: list[_Write] = []
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    await self._commit(batch)
                except Exception:
                    log.warning("a batch of %d station records failed; writing them one by one", len(batch),
                                exc_info=True)
                    for write in batch:
                        try:
                            await self._commit([write])
                        except Exception as exc:  # noqa: BLE001 - handed to the one caller it belongs to
                            _settle(write, exc)
                        else:
                            _settle(write)
                    continue
                for write in batch:
                    _settle(write)
        finally:
            self._writer = None
            for write in batch + self._pending:  # cancelled (shutdown): nobody waits for ever
                write.done.cancel()

    async def _commit(self, batch: list[_Write]) -> None:
        rows: dict[str, dict[object, dict]] = {kind: {} for kind in _KINDS}
        for write in batch:  # the last write of a station (or connector) wins, as it would have one by one
            key = (write.row.get("identity") or write.row["b_identity"], write.row.get("evse_id"),
                   write.row.get("connector_id"))
            rows[write.kind].pop(key, None)
            rows[write.kind][key] = write.row
        async with self._sessions() as session:
            await records.write_station_batch(session, **{kind: list(rows[kind].values()) for kind in _KINDS})


def _settle(write: _Write, error: BaseException | None = None) -> None:
    if write.done.done():
        return
    if error is None:
        write.done.set_result(None)
    else:
        write.done.set_exception(error)

