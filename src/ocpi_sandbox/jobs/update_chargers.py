"""Bulk update of a location's chargers, as a job: ``PATCH /api/locations/{id}/chargers``.

Every selected charger gets the same ``changes`` (see ``domain.chargers.CHANGEABLE``). Applying a change twice
is the same as once, so a step that runs again after a crash is harmless. A charger whose simulator must see
the change (where or how it connects, its OCPP configuration, whether it is simulated) is restarted from its
saved state after the commit, and the step waits for it to boot again like a new charger.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import Charger
from ..domain import chargers as charger_service
from ..domain.errors import DomainError, InvalidInput
from ..domain.locations import get_location
from .charger_jobs import BootWatch, ChargerSimulators, charger_record, select_chargers, waits_for_boot
from .kind import JobKind, JobView, Outcome, Step
from .records import Plan

__all__ = ["UpdateChargers", "plan_update"]


async def plan_update(session: AsyncSession, tenant_id: str, location_id: str, changes: dict[str, Any],
                      charger_ids: list[str] | None) -> Plan:
    await get_location(session, tenant_id, location_id)
    unknown = set(changes) - set(charger_service.CHANGEABLE)
    if unknown or not changes:
        raise InvalidInput(f"give the changes to make, among {', '.join(charger_service.CHANGEABLE)}"
                           + (f" (not {', '.join(sorted(unknown))})" if unknown else ""))
    items = await select_chargers(session, tenant_id, location_id, charger_ids)
    return {"location_id": location_id, "changes": changes}, items


class UpdateChargers(JobKind):
    name: ClassVar[str] = "bulk_update_chargers"
    results_key: ClassVar[str] = "updated"
    batch_size: ClassVar[int] = 250

    def __init__(self, sessions: async_sessionmaker[AsyncSession], simulators: ChargerSimulators, *,
                 boot_timeout: float = 60.0) -> None:
        self._sessions = sessions
        self._simulators = simulators
        self._boot = BootWatch(sessions, simulators, boot_timeout=boot_timeout)

    async def run(self, session: AsyncSession, job: JobView, steps: list[Step]) -> dict[int, Outcome]:
        ids = [s.params["charger_id"] for s in steps]
        chargers = {c.id: c for c in (await session.scalars(select(Charger).where(
            Charger.id.in_(ids), Charger.tenant_id == job.tenant_id))).all()}
        with session.no_autoflush:  # the changes go out together at commit, not one UPDATE per tariff check
            return {step.seq: await self._change(session, job, step, chargers.get(step.params["charger_id"]))
                    for step in steps}

    async def _change(self, session: AsyncSession, job: JobView, step: Step, charger: Charger | None) -> Outcome:
        if charger is None:
            return Outcome.failed(f"charger {step.key} was deleted before it was updated")
        try:
            restart = await charger_service.change_charger(session, job.tenant_id, charger, job.params["changes"])
        except DomainError as exc:
            return Outcome.failed(exc.message)
        record = charger_record(charger)
        # A restart is decided by this run; a rerun after a crash finds nothing changed and only confirms.
        return Outcome.started(record, keep=restart) if waits_for_boot(charger) else Outcome.done(record, keep=restart)

    async def committed(self, job: JobView, done: list[tuple[Step, Outcome]]) -> None:
        restart = [step for step, outcome in done if outcome.keep]
        if not restart:
            return
        for step in restart:  # stopping saves each station's state, which the restarted one goes on from
            await self._simulators.remove(step.key)
        async with self._sessions() as session:
            chargers = (await session.scalars(select(Charger).where(
                Charger.id.in_([s.params["charger_id"] for s in restart])))).all()
            await session.commit()
        for charger in chargers:
            self._simulators.add(charger)

    async def confirm(self, job: JobView, steps: list[Step]) -> dict[int, Outcome]:
        return await self._boot.confirm(job, steps)
