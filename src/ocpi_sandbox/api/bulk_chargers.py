"""Bulk create, update and delete of a location's chargers: each answers 202 with a job to follow at
``GET /api/jobs/{job_id}``."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, Response, delete, patch, post
from sqlalchemy.ext.asyncio import AsyncSession

from ..jobs import JobRunner, submit_job
from ..jobs.create_chargers import MAX_CHARGERS, CreateChargers, plan_create
from ..jobs.delete_chargers import DeleteChargers, plan_delete
from ..jobs.update_chargers import UpdateChargers, plan_update
from .errors import error_responses
from .jobs import IdempotencyKey, JobAccepted, job_accepted

__all__ = ["BulkChargersController"]

WsUrl = Annotated[str, msgspec.Meta(max_length=255, pattern=r"^wss?://[\x21-\x7E]+$")]
Password = Annotated[str, msgspec.Meta(min_length=16, max_length=40, pattern=r"^[\x21-\x7E]+$")]
# List items are plain strings: the OpenAPI document would not show constraints on them, so the service checks
# them (an unknown tariff, charger or identity is a 4xx naming it).
TariffIds = Annotated[list[str], msgspec.Meta(max_length=50)]
Configuration = dict[str, str]
ChargerRefs = Annotated[list[str], msgspec.Meta(max_length=MAX_CHARGERS)]


class ChargerTemplate(msgspec.Struct, kw_only=True):
    """What every charger of a group is made of (as POST /api/chargers takes it, identity aside)."""

    brand_slug: Annotated[str, msgspec.Meta(min_length=1, max_length=64, examples=["voltstream"])]
    model_slug: Annotated[str, msgspec.Meta(min_length=1, max_length=64, examples=["homebox-7"])]
    # Checked against the model: an OCPI connector standard (IEC_62196_T2) or OCPP 2.0.1 type (cType2).
    connector_type: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None
    ocpp_version: Literal["1.6", "2.0.1"] | None = None
    ws_url: WsUrl | None = None  # null: the embedded CSMS
    # Identity = identity_prefix + suffix; default "<model serial prefix>-".
    identity_prefix: Annotated[str, msgspec.Meta(max_length=40, pattern=r"^[A-Za-z0-9._\-*]*$",
                                                 examples=["SITE1-"])] | None = None
    template_name: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    password: Password | None = None
    tariff_ids: TariffIds | None = None
    simulate: bool = True
    configuration: Configuration | None = None


class ChargerGroup(msgspec.Struct, kw_only=True):
    template: ChargerTemplate
    # Identity suffixes; truncated to chargers_number, padded with random hex up to it.
    charger_ids: Annotated[list[str], msgspec.Meta(max_length=MAX_CHARGERS)] | None = None
    chargers_number: Annotated[int, msgspec.Meta(ge=1, le=MAX_CHARGERS)] | None = None


class ChargerChanges(msgspec.Struct, kw_only=True):
    """What to change on every selected charger; absent fields stay, null ws_url/password clear them."""

    ws_url: WsUrl | None | msgspec.UnsetType = msgspec.UNSET
    password: Password | None | msgspec.UnsetType = msgspec.UNSET
    simulate: bool | msgspec.UnsetType = msgspec.UNSET
    configuration: Configuration | msgspec.UnsetType = msgspec.UNSET  # merged into the current overrides
    tariff_ids: TariffIds | msgspec.UnsetType = msgspec.UNSET         # [] removes them


class BulkUpdate(msgspec.Struct, kw_only=True):
    changes: ChargerChanges
    charger_ids: ChargerRefs | None = None  # charger ids or identities; absent: every charger of the location


class BulkDelete(msgspec.Struct, kw_only=True):
    charger_ids: ChargerRefs | None = None  # charger ids or identities; absent: every charger of the location


Groups = Annotated[list[ChargerGroup], msgspec.Meta(min_length=1, max_length=100)]
_ERRORS = error_responses(400, 401, 403, 404, 409, 422)


class BulkChargersController(Controller):
    path = "/api/locations/{id:str}/chargers"
    tags = ["chargers", "jobs"]

    @post("/", operation_id="bulkCreateChargers", status_code=202, responses=_ERRORS)
    async def create(self, id: str, data: Groups, tenant_id: str, db_session: AsyncSession,  # noqa: A002
                     job_runner: JobRunner, idempotency_key: IdempotencyKey = None) -> Response[JobAccepted]:
        """Create chargers in a location from groups of ``{template, charger_ids?, chargers_number?}``, as a job.

        Each charger is a step with retries: one failure (e.g. an identity already taken) does not stop the
        others. The job is READY once every charger is created and, for those simulated on the embedded CSMS,
        connected and booted."""
        groups = [msgspec.to_builtins(g) for g in data]
        job, new = await submit_job(db_session, tenant_id, CreateChargers.name, request=[id, groups],
                                    idempotency_key=idempotency_key,
                                    plan=lambda: plan_create(db_session, tenant_id, id, groups))
        if new:
            job_runner.wake()
        return job_accepted(job)

    @patch("/", operation_id="bulkUpdateChargers", status_code=202, responses=_ERRORS)
    async def update(self, id: str, data: BulkUpdate, tenant_id: str, db_session: AsyncSession,  # noqa: A002
                     job_runner: JobRunner, idempotency_key: IdempotencyKey = None) -> Response[JobAccepted]:
        """Change the location's chargers (or those in ``charger_ids``) alike, as a job; simulators that must
        see a change restart from their saved state and are waited for until they booted again."""
        changes = msgspec.to_builtins(data.changes)
        job, new = await submit_job(db_session, tenant_id, UpdateChargers.name,
                                    request=[id, msgspec.to_builtins(data)], idempotency_key=idempotency_key,
                                    plan=lambda: plan_update(db_session, tenant_id, id, changes, data.charger_ids))
        if new:
            job_runner.wake()
        return job_accepted(job)

    @delete("/", operation_id="bulkDeleteChargers", status_code=202, responses=_ERRORS)
    async def remove(self, id: str, tenant_id: str, db_session: AsyncSession, job_runner: JobRunner,  # noqa: A002
                     data: BulkDelete | None = None, idempotency_key: IdempotencyKey = None
                     ) -> Response[JobAccepted]:
        """Stop and delete the location's chargers (or those in ``charger_ids``), as a job."""
        charger_ids = data.charger_ids if data is not None else None
        job, new = await submit_job(db_session, tenant_id, DeleteChargers.name, request=[id, charger_ids],
                                    idempotency_key=idempotency_key,
                                    plan=lambda: plan_delete(db_session, tenant_id, id, charger_ids))
        if new:
            job_runner.wake()
        return job_accepted(job)
