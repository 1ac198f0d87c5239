"""Bulk creation of chargers in a location, as a job: ``POST /api/locations/{id}/chargers``.

The request is groups of ``{template, charger_ids?, chargers_number?}``. Planning turns them into one step per
charger whose identity is fixed at once (``identity_prefix`` + suffix; the given ``charger_ids`` suffixes,
truncated to ``chargers_number``, padded with random hex) together with the charger's id, so a step that runs
again after a crash finds its own charger instead of making a second one, and tells it apart from a charger
that already had the identity (that step fails; the others go on). A batch of steps is one multi-row INSERT.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import Charger, new_id, utcnow
from ..domain import chargers as charger_service
from ..domain.catalog import CatalogLookupError
from ..domain.errors import DomainError, InvalidInput
from ..domain.locations import get_location
from .charger_jobs import BootWatch, ChargerSimulators, charger_record, waits_for_boot
from .kind import JobKind, JobView, Outcome, Step
from .records import Plan

__all__ = ["CreateChargers", "plan_create", "MAX_CHARGERS"]

MAX_CHARGERS = 10_000  # per job: a bound on what one request may ask, not on the fleet
_IDENTITY = re.compile(r"^[A-Za-z0-9._\-*]{1,48}$")
# Template fields that go to build_charger; the others (prefix, connector type, name) shape the plan only.
_CHARGER_FIELDS = ("brand_slug", "model_slug", "ocpp_version", "ws_url", "password", "tariff_ids", "simulate",
                   "configuration")


def _charger_fields(template: dict[str, Any]) -> dict[str, Any]:
    return {k: template[k] for k in _CHARGER_FIELDS if template.get(k) is not None}


async def plan_create(session: AsyncSession, tenant_id: str, location_id: str, groups: list[dict[str, Any]]
                      ) -> Plan:
    """Check every group (raising what to fix) and give the job's params and one item per charger."""
    await get_location(session, tenant_id, location_id)
    if not groups:
        raise InvalidInput("send at least one group: [{\"template\": {\"brand_slug\": ..., \"model_slug\": ...}, "
                           "\"chargers_number\": 10}]")
    items: list[tuple[str, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for index, group in enumerate(groups):
        template, where = group["template"], f"group {index}"
        try:
            model = charger_service.catalog().model(template["brand_slug"], template["model_slug"])
        except CatalogLookupError as exc:
            raise InvalidInput(f"{where}: {exc}") from None
        connector_type = template.get("connector_type")
        if connector_type is not None:
            types = {t for evse in model.evses for c in evse.connectors for t in (c.standard, c.ocpp201_type)}
            if connector_type not in types:
                raise InvalidInput(f"{where}: model {model.slug} has no {connector_type!r} connector; it has "
                                   f"{', '.join(sorted(types))} (OCPI standard or OCPP 2.0.1 connector type)")
        suffixes = list(group.get("charger_ids") or [])
        if "" in suffixes:
            raise InvalidInput(f"{where}: charger_ids are identity suffixes and may not be empty")
        number = group.get("chargers_number")
        if number is None and not suffixes:
            raise InvalidInput(f"{where}: give chargers_number, charger_ids (identity suffixes), or both")
        number = len(suffixes) if number is None else number
        if len(items) + number > MAX_CHARGERS:
            raise InvalidInput(f"one job creates at most {MAX_CHARGERS} chargers; split the request")
        suffixes = suffixes[:number]
        prefix = template.get("identity_prefix")
        prefix = f"{model.serial_prefix}-" if prefix is None else prefix
        planned = set(suffixes)
        while len(suffixes) < number:
            suffix = secrets.token_hex(4).upper()
            if suffix not in planned and prefix + suffix not in seen:
                suffixes.append(suffix)
                planned.add(suffix)
        fields = _charger_fields(template)
        try:  # the whole template checked once (version, tariffs, ...), not once per charger
            await charger_service.build_charger(session, tenant_id, location_id=location_id,
                                                identity=prefix + suffixes[0] if suffixes else None, **fields)
        except DomainError as exc:
            raise type(exc)(f"{where}: {exc.message}") from None
        for suffix in suffixes:
            identity = prefix + suffix
            if not _IDENTITY.match(identity):
                raise InvalidInput(f"{where}: identity {identity!r} (identity_prefix + suffix) must be 1-48 letters, "
                                   "digits or . _ - * (it ends the WebSocket URL; OCPP 2.0.1 forbids ':')")
            if identity in seen:
                raise InvalidInput(f"{where}: identity {identity!r} is asked for twice (also in group "
                                   f"{seen[identity]}); identities are unique")
            seen[identity] = index
            items.append((identity, {"group": index, "charger_id": new_id()}))
    params = {"location_id": location_id, "groups": [{"template": g["template"]} for g in groups]}
    return params, items


class CreateChargers(JobKind):
    name: ClassVar[str] = "bulk_create_chargers"
    results_key: ClassVar[str] = "created"
    batch_size: ClassVar[int] = 250

    def __init__(self, sessions: async_sessionmaker[AsyncSession], simulators: ChargerSimulators, *,
                 boot_timeout: float = 60.0) -> None:
        self._simulators = simulators
        self._boot = BootWatch(sessions, simulators, boot_timeout=boot_timeout)

    async def run(self, session: AsyncSession, job: JobView, steps: list[Step]) -> dict[int, Outcome]:
        taken = dict((await session.execute(select(Charger.identity, Charger.id).where(
            Charger.identity.in_([s.key for s in steps])))).all())
        now = utcnow()
        # No autoflush: building a charger reads (its location), and each read would flush the charger before it
        # in an INSERT of its own; held back, the batch goes out as one multi-row INSERT at commit.
        with session.no_autoflush:
            return {step.seq: await self._create(session, job, step, taken.get(step.key), now) for step in steps}

    async def _create(self, session: AsyncSession, job: JobView, step: Step, taken_by: str | None,
                      now: datetime) -> Outcome:
        charger_id = step.params["charger_id"]
        if taken_by is not None:
            if taken_by != charger_id:
                return Outcome.failed(f"a charger with identity {step.key!r} already exists; identities are unique "
                                      "across the sandbox (they name the WebSocket URL)")
            charger = await session.get(Charger, charger_id)  # made by this step before a restart
        else:
            template = job.params["groups"][step.params["group"]]["template"]
            try:
                charger = await charger_service.build_charger(session, job.tenant_id,
                                                              location_id=job.params["location_id"],
                                                              identity=step.key, charger_id=charger_id,
                                                              **_charger_fields(template))
            except DomainError as exc:  # e.g. the location or a tariff was deleted since the job was submitted
                return Outcome.failed(exc.message)
            charger.created_at = charger.updated_at = now
            session.add(charger)
        record = charger_record(charger)
        return Outcome.started(record, keep=charger) if waits_for_boot(charger) else Outcome.done(record, keep=charger)

    async def committed(self, job: JobView, done: list[tuple[Step, Outcome]]) -> None:
        for _step, outcome in done:
            charger = outcome.keep
            if charger is not None and charger.enabled and self._simulators.booted(charger.identity) is None:
                self._simulators.add(charger)

    async def confirm(self, job: JobView, steps: list[Step]) -> dict[int, Outcome]:
        return await self._boot.confirm(job, steps)
