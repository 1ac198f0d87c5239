"""What the charger job kinds share: the simulators they start and stop, the chargers a request selects, and
waiting until a charger has booted.

A charger simulated here and pointed at the embedded CSMS counts as done only once it is connected and its
BootNotification was accepted, so READY means "every charger is up"; one that does not boot within
``boot_timeout`` fails its step with the reason, and stays (the user can look at it and its log).
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import Charger
from ..domain.errors import InvalidInput
from ..domain.locations import get_location
from .kind import JobView, Outcome, Step

__all__ = ["ChargerSimulators", "BootWatch", "charger_record", "select_chargers", "waits_for_boot"]


class ChargerSimulators(Protocol):
    """The running simulated chargers (``charger_fleet.ChargerFleet``), as the charger jobs need them."""

    def add(self, charger: Charger) -> object:
        """Simulate ``charger`` (a disabled one is not started)."""

    async def remove(self, identity: str) -> None:
        """Stop simulating a charger."""

    def booted(self, identity: str) -> bool | None:
        """Connected and boot accepted; None when the charger is not simulated in this process."""

    def link_error(self, identity: str) -> str | None:
        """Why the last connection attempt failed."""


def charger_record(charger: Charger) -> dict[str, Any]:
    """A charger as GET /api/chargers/{id} shows it, without the live state (kept in a step's result)."""
    return {"id": charger.id, "identity": charger.identity, "location_id": charger.location_id,
            "ocpp_version": charger.ocpp_version, "brand_slug": charger.brand_slug, "model_slug": charger.model_slug,
            "ws_url": charger.ws_url, "enabled": charger.enabled, "has_password": bool(charger.password),
            "created_at": charger.created_at.isoformat() if charger.created_at else None}


async def select_chargers(session: AsyncSession, tenant_id: str, location_id: str, charger_ids: list[str] | None
                          ) -> list[tuple[str, dict[str, Any]]]:
    """The job items for the location's chargers named by id or identity (all of them when None), in creation
    order; a name that is not a charger of this location is an error listing them all."""
    await get_location(session, tenant_id, location_id)
    chargers = (await session.scalars(select(Charger).where(Charger.tenant_id == tenant_id,
                                                            Charger.location_id == location_id)
                                      .order_by(Charger.created_at, Charger.id))).all()
    if charger_ids is not None:
        wanted = set(charger_ids)
        unknown = wanted - {c.id for c in chargers} - {c.identity for c in chargers}
        if unknown:
            raise InvalidInput(f"not chargers of location {location_id}: {', '.join(sorted(unknown))}; "
                               f"list them with GET /api/locations/{location_id}/chargers")
        chargers = [c for c in chargers if c.id in wanted or c.identity in wanted]
    return [(c.identity, {"charger_id": c.id}) for c in chargers]


def waits_for_boot(charger: Charger) -> bool:
    """Whether a job waits for this charger to boot: simulated here and connecting to the embedded CSMS."""
    return charger.enabled and charger.ws_url is None


class BootWatch:
    """Confirm ``started`` charger steps (result = ``charger_record``) once their charger has booted."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], simulators: ChargerSimulators, *,
                 boot_timeout: float = 60.0) -> None:
        self._sessions = sessions
        self._simulators = simulators
        self.boot_timeout = boot_timeout
        # (job, seq) -> when this process began to wait; after a restart the wait starts afresh.
        self._since: dict[tuple[str, int], float] = {}

    async def confirm(self, job: JobView, steps: list[Step]) -> dict[int, Outcome]:
        now, outcomes, missing = time.monotonic(), {}, []
        for step in steps:
            identity = step.key
            since = self._since.setdefault((job.id, step.seq), now)
            booted = self._simulators.booted(identity)
            if booted:
                outcomes[step.seq] = Outcome.done(step.result)
            elif booted is None:
                missing.append(step)
            elif now - since > self.boot_timeout:
                charger_id = (step.result or {}).get("id")
                error = self._simulators.link_error(identity) or "none"
                outcomes[step.seq] = Outcome.failed(
                    f"charger {identity} was created but did not connect and boot on the embedded CSMS within "
                    f"{self.boot_timeout:.0f} s (last connection error: {error}); see GET /api/chargers/"
                    f"{charger_id} and its logs", result=step.result)
        if missing:
            outcomes.update(await self._restart(missing))
        for seq in outcomes:
            self._since.pop((job.id, seq), None)
        return outcomes

    async def _restart(self, steps: list[Step]) -> dict[int, Outcome]:
        """Start the simulators of chargers not running here (this process stopped before it started them)."""
        ids = [(s.result or {}).get("id") for s in steps]
        async with self._sessions() as session:
            chargers = {c.id: c for c in (await session.scalars(select(Charger).where(Charger.id.in_(ids)))).all()}
            await session.commit()
        outcomes = {}
        for step, charger_id in zip(steps, ids, strict=True):
            charger = chargers.get(charger_id)
            if charger is None:
                outcomes[step.seq] = Outcome.failed(f"charger {step.key} was deleted before it booted")
            elif not waits_for_boot(charger):
                outcomes[step.seq] = Outcome.done(step.result)  # changed meanwhile: nothing to wait for
            elif self._simulators.booted(charger.identity) is None:
                self._simulators.add(charger)
        return outcomes
