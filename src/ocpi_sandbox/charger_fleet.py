"""Run the chargers stored in the database as live simulated stations, and keep their state saved.

The bridge between the ``chargers`` table (domain) and the in-process ``simulator.Fleet``: on start every enabled
charger is restored from its last snapshot (transactions and meter registers included) and connected; chargers
created or deleted through the API join or leave the fleet; snapshots are saved periodically and on shutdown, so
a restart resumes where the fleet was. Stations connect only once the server accepts connections, so the
embedded CSMS is there to answer their first BootNotification.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

import httpx
import msgspec
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .db.models import Charger
from .simulator.fleet import Fleet
from .simulator.station import Station
from .simulator.station_config import StationConfig
from .simulator.transport import StationLink

__all__ = ["ChargerFleet"]

log = logging.getLogger(__name__)


def _wall() -> datetime:
    return datetime.now(UTC)


class ChargerFleet:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], fleet: Fleet, *, embedded_csms_url: str,
                 health_url: str) -> None:
        self._sessions = sessions
        self.fleet = fleet
        self._embedded = embedded_csms_url
        self._health = health_url
        self.ready = asyncio.Event()

    def _station(self, charger: Charger) -> Station:
        config = msgspec.convert(charger.config, StationConfig)
        now = time.monotonic()
        if charger.snapshot:
            try:
                return Station.restore(config, charger.snapshot, now, _wall)
            except Exception:  # an unreadable snapshot must not keep the charger down
                log.exception("charger %s: could not restore its saved state; starting fresh", charger.identity)
        return Station(config, now, _wall)

    def add(self, charger: Charger) -> StationLink | None:
        """Run ``charger`` (once the server is up); return its link, or None when it is disabled."""
        if not charger.enabled:
            return None
        link = self.fleet.add(self._station(charger), csms_url=charger.ws_url or self._embedded,
                              identity=charger.identity, version=charger.ocpp_version, password=charger.password,
                              start=self.ready.is_set())
        return link

    async def remove(self, identity: str) -> None:
        """Stop simulating a charger, keeping its last state (a charger restarted with new settings goes on)."""
        station = await self.fleet.remove(identity)
        if station is not None:
            try:
                snapshot = station.snapshot()
            except Exception:
                log.exception("charger %s: snapshot failed", identity)
                return
            async with self._sessions() as session:
                await session.execute(update(Charger).where(Charger.identity == identity).values(snapshot=snapshot))
                await session.commit()

    def booted(self, identity: str) -> bool | None:
        """Whether a simulated charger is connected and its CSMS accepted its boot; None if it is not simulated
        here."""
        link = self.fleet.link(identity)
        if link is None:
            return None
        return link.connected.is_set() and link.station.registration == "Accepted"

    def link_error(self, identity: str) -> str | None:
        """Why a simulated charger's last connection attempt failed, if it did."""
        link = self.fleet.link(identity)
        return link.last_error if link is not None else None

    async def start(self) -> None:
        """Load every enabled charger, wait until the server answers, then connect them all (staggered)."""
        async with self._sessions() as session:
            chargers = (await session.scalars(select(Charger).where(Charger.enabled.is_(True)))).all()
            await session.commit()
        for charger in chargers:
            self.add(charger)
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                try:
                    if (await client.get(self._health, timeout=1)).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.05)
        self.ready.set()
        for link in self.fleet:
            link.start()
        self.fleet.start()

    async def save(self, *, changed_only: bool = False) -> int:
        """Save running stations' snapshots (only those whose state moved since their last save when
        ``changed_only``); return how many.

        Saved often for the changed ones, a station killed with its process (SIGKILL, power cut) loses at most
        a few seconds; on restore it integrates its physics over the gap, so its meter register never shows a
        lower value than one it already sent.
        """
        rows = []
        for link in self.fleet:
            if changed_only and not link.dirty:
                continue
            link.dirty = False
            try:
                rows.append({"key": link.identity, "snapshot": link.station.snapshot()})
            except Exception:
                log.exception("charger %s: snapshot failed", link.identity)
        if rows:
            table = Charger.__table__
            statement = update(table).where(table.c.identity == bindparam("key")).values(
                snapshot=bindparam("snapshot"))
            async with self._sessions() as session:
                # One Core executemany for the batch: thousands of chargers save in one statement.
                await (await session.connection()).execute(statement, rows)
                await session.commit()
        return len(rows)

    async def close(self) -> None:
        await self.fleet.close()
        await self.save()
