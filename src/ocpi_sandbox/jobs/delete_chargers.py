"""Bulk deletion of a location's chargers, as a job: ``DELETE /api/locations/{id}/chargers``.

As for one charger (``DELETE /api/chargers/{id}``), each simulator is stopped before its row goes, so it cannot
reconnect as an unknown charge point; a charger already gone counts as deleted, so a rerun is harmless.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Charger
from ..domain import location_view
from ..domain.reservations import remove_reservations
from .charger_jobs import ChargerSimulators, select_chargers
from .kind import JobKind, JobView, Outcome, Step
from .records import Plan

__all__ = ["DeleteChargers", "plan_delete"]


async def plan_delete(session: AsyncSession, tenant_id: str, location_id: str, charger_ids: list[str] | None
                      ) -> Plan:
    return {"location_id": location_id}, await select_chargers(session, tenant_id, location_id, charger_ids)


class DeleteChargers(JobKind):
    name: ClassVar[str] = "bulk_delete_chargers"
    results_key: ClassVar[str] = "deleted"
    batch_size: ClassVar[int] = 250

    def __init__(self, simulators: ChargerSimulators) -> None:
        self._simulators = simulators

    async def prepare(self, job: JobView, steps: list[Step]) -> None:
        await asyncio.gather(*(self._simulators.remove(step.key) for step in steps))

    async def run(self, session: AsyncSession, job: JobView, steps: list[Step]) -> dict[int, Outcome]:
        ids = [s.params["charger_id"] for s in steps]
        # OCPI has no EVSE delete: registered eMSPs get status REMOVED, queued in this same transaction.
        chargers = (await session.scalars(select(Charger).where(Charger.id.in_(ids),
                                                                Charger.tenant_id == job.tenant_id))).all()
        for charger in chargers:
            await location_view.announce_removed_evses(session, charger)
        await remove_reservations(session, job.tenant_id, identities=[c.identity for c in chargers],
                                  why="its charger was deleted")
        await session.execute(delete(Charger).where(Charger.id.in_(ids), Charger.tenant_id == job.tenant_id))
        result: dict[int, Outcome] = {}
        for step in steps:
            record: dict[str, Any] = {"id": step.params["charger_id"], "identity": step.key}
            result[step.seq] = Outcome.done(record)
        return result
