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
from sqlalchemy import select, update
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
        await self.fleet.remove(identity)

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

    async def save(self) -> int:
        """Save every running station's snapshot; return how many."""
        rows = []
        for link in self.fleet:
            try:
                rows.append((link.identity, link.station.snapshot()))
            except Exception:
                log.exception("charger %s: snapshot failed", link.identity)
        if rows:
            async with self._sessions() as session:
                for identity, snapshot in rows:
                    await session.execute(update(Charger).where(Charger.identity == identity).values(snapshot=snapshot))
                await session.commit()
        return len(rows)

    async def close(self) -> None:
        await self.fleet.close()
        await self.save()
