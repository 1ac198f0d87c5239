"""Provision a bundle from a preset, as a job: ``POST /api/bundles``.

Steps, in the order they depend on each other (``domain.bundles.plan_bundle``): the CPO party, its tariffs,
its locations, one step per charger, the token A, and the preset's test cards (tokens of the eMSP that token A
registers). Each step recognises what it already made (ids and
identities were fixed when the bundle was requested), so a rerun after a crash or a restart goes on where it
stopped. A charger step is done once its simulator is connected and booted on the embedded CSMS (as for bulk
charger jobs), so a READY bundle is live. The READY job names the bundle in its ``result``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import Bundle, Charger, Job
from ..domain import bundles as bundle_service
from ..domain import preset_tokens
from ..domain.errors import Conflict, DomainError, NotFound
from .charger_jobs import BootWatch, ChargerSimulators, charger_record, waits_for_boot
from .kind import JobKind, JobView, Outcome, Step
from .records import Plan, submit_job

__all__ = ["ProvisionBundle", "submit_bundle"]


async def submit_bundle(session: AsyncSession, tenant_id: str, preset: str, *, country_code: str | None = None,
                        party_id: str | None = None, name: str | None = None, idempotency_key: str | None = None
                        ) -> tuple[Job, bool]:
    """Store a bundle and the job that provisions it; return (job, whether it is new). The caller wakes the
    runner (or, before the server starts, the runner finds the job when it starts)."""
    request = {"preset": preset, "country_code": country_code, "party_id": party_id, "name": name}
    made: list[Bundle] = []

    async def plan() -> Plan:
        bundle, params, items = await bundle_service.plan_bundle(session, tenant_id, preset, country_code=country_code,
                                                                 party_id=party_id, name=name)
        made.append(bundle)
        return params, items

    job, new = await submit_job(session, tenant_id, ProvisionBundle.name, request=request,
                                idempotency_key=idempotency_key, plan=plan)
    if new:
        made[0].job_id = job.id
        await session.commit()
    return job, new


class ProvisionBundle(JobKind):
    name: ClassVar[str] = "bundle"
    results_key: ClassVar[str] = "created"
    batch_size: ClassVar[int] = 100

    def __init__(self, sessions: async_sessionmaker[AsyncSession], simulators: ChargerSimulators, *,
                 boot_timeout: float = 90.0) -> None:
        self._simulators = simulators
        self._boot = BootWatch(sessions, simulators, boot_timeout=boot_timeout)

    async def run(self, session: AsyncSession, job: JobView, steps: list[Step]) -> dict[int, Outcome]:
        bundle = await session.get(Bundle, job.params["bundle_id"])
        if bundle is None:
            return {s.seq: Outcome.failed("the bundle was deleted") for s in steps}
        preset = bundle_service.preset_of(job.params)
        locations = bundle_service.expanded_locations(preset)
        taken = dict((await session.execute(select(Charger.identity, Charger.id).where(
            Charger.identity.in_([s.key for s in steps if s.params["type"] == "charger"])))).all())
        outcomes: dict[int, Outcome] = {}
        for step in steps:  # in plan order: what a step needs was made by an earlier one (or batch)
            kind = step.params["type"]
            try:
                if kind == "party":
                    outcomes[step.seq] = Outcome.done(await bundle_service.provision_party(session, bundle, preset))
                elif kind == "tariff":
                    outcomes[step.seq] = Outcome.done(
                        await bundle_service.provision_tariff(session, bundle, preset, step.params["index"]))
                elif kind == "location":
                    outcomes[step.seq] = Outcome.done(
                        await bundle_service.provision_location(session, bundle, locations[step.params["index"]]))
                elif kind == "registration":
                    outcomes[step.seq] = Outcome.done(await bundle_service.provision_registration(session, bundle))
                elif kind == "test_tokens":
                    outcomes[step.seq] = Outcome.done(
                        await preset_tokens.provision_test_tokens(session, bundle, preset))
                else:
                    outcomes[step.seq] = await self._charger(session, bundle, locations, step, taken)
                await session.flush()  # the next step may look for this one's rows
            except NotFound as exc:  # made by an earlier step that has not committed yet: wait for it
                outcomes[step.seq] = Outcome.retry(exc.message)
            except Conflict as exc:
                outcomes[step.seq] = Outcome.failed(exc.message)
            except DomainError as exc:
                outcomes[step.seq] = Outcome.failed(exc.message)
        return outcomes

    async def _charger(self, session: AsyncSession, bundle: Bundle, locations: list[Any], step: Step,
                       taken: dict[str, str]) -> Outcome:
        charger_id = step.params["charger_id"]
        if step.key in taken and taken[step.key] != charger_id:
            return Outcome.failed(f"a charger with identity {step.key!r} already exists; identities are unique "
                                  "across the sandbox (delete it, or start the bundle again for a new tag)")
        charger = await session.get(Charger, charger_id)
        if charger is None:
            location = locations[step.params["location"]]
            charger = await bundle_service.build_bundle_charger(
                session, bundle, location, location.chargers[step.params["group"]], step.key, charger_id)
            session.add(charger)
        record = {"type": "charger", **charger_record(charger)}
        return Outcome.started(record, keep=charger) if waits_for_boot(charger) else Outcome.done(record, keep=charger)

    async def committed(self, job: JobView, done: list[tuple[Step, Outcome]]) -> None:
        for _step, outcome in done:
            charger = outcome.keep
            if isinstance(charger, Charger) and charger.enabled and self._simulators.booted(charger.identity) is None:
                self._simulators.add(charger)

    async def confirm(self, job: JobView, steps: list[Step]) -> dict[int, Outcome]:
        return await self._boot.confirm(job, steps)

    async def finish(self, session: AsyncSession, job: JobView, done: int, failed: int) -> dict[str, Any] | None:
        return {"bundle_id": job.params["bundle_id"]}
