"""Presets and bundles: list the bundle presets; start a bundle from one (202 with a job), show, list, delete.

A bundle is what an eMSP team starts from: a CPO party with tariffs, locations and live simulated chargers,
the OCPI versions URL and a token A to register with.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, delete, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from ..charger_fleet import ChargerFleet
from ..db.models import Job
from ..domain import bundles as bundle_service
from ..domain.presets import PresetError, PresetNotFound, list_presets, load_preset, preset_summary
from ..jobs import JobRunner
from ..jobs.bundles import submit_bundle
from .errors import ApiProblem, error_responses
from .jobs import IdempotencyKey

__all__ = ["PresetsController", "BundlesController"]


class PresetSummary(msgspec.Struct, kw_only=True):
    name: str
    title: str
    description: str
    cpo: dict[str, Any]
    locations: int
    chargers: int
    evses: int
    ocpp_versions: list[str]
    power_types: list[str]
    countries: list[str]
    time_zones: list[str]
    tariffs: list[str]
    tokens: int


class PresetOut(PresetSummary, kw_only=True):
    preset: dict[str, Any]  # the whole TOML document, as JSON


class BundleCreate(msgspec.Struct, kw_only=True):
    preset: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$", examples=["small-urban-ac"])]
    # Override the preset's CPO identity (e.g. to run one preset twice in a tenant).
    country_code: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2}$", examples=["NL"])] | None = None
    party_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9]{3}$", examples=["SBX"])] | None = None
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"[^ \t\r\n]")] | None = None


Status = Literal["PENDING", "PROVISIONING", "READY", "FAILED"]


class BundleAccepted(msgspec.Struct, kw_only=True):
    job_id: str
    status: Status
    status_url: str
    bundle_id: str
    bundle_url: str


class BundleParty(msgspec.Struct, kw_only=True):
    id: str
    country_code: str
    party_id: str
    name: str
    website: str | None = None


class BundleCharger(msgspec.Struct, kw_only=True):
    id: str
    identity: str
    ocpp_version: str
    brand_slug: str | None
    model_slug: str | None
    simulated: bool
    evse_uids: list[str]
    connected: bool  # to the embedded CSMS, now
    boot_status: str | None


class BundleLocation(msgspec.Struct, kw_only=True):
    id: str
    ocpi_id: str
    name: str
    city: str
    country: str
    time_zone: str
    chargers: list[BundleCharger]


class BundleTariff(msgspec.Struct, kw_only=True):
    id: str
    ocpi_id: str
    tariff: dict[str, Any]  # OCPI 2.3.0 Tariff without the owner's fields


class BundleTestToken(msgspec.Struct, kw_only=True):
    """A test card of the preset, kept as a token of the eMSP that registers with the bundle's token A: swipe it
    at a bundle charger (POST /api/chargers/{id}/commands/swipe-card) without pushing it first."""

    uid: str
    type: str
    whitelist: str  # ALWAYS/ALLOWED: authorized locally; NEVER/ALLOWED_OFFLINE: asked of your tokens endpoint
    valid: bool
    country_code: str  # the placeholder eMSP party issuing the card (preset [test_emsp])
    party_id: str
    contract_id: str
    stored: bool  # false for a bundle made before test cards were stored, or until its job stores them
    note: str | None = None
    visual_number: str | None = None
    group_id: str | None = None


class BundleOut(msgspec.Struct, kw_only=True):
    id: str
    name: str
    preset: str
    # The provisioning job's status: READY once every object exists and every charger has booted.
    status: Status
    job_id: str | None
    status_url: str | None
    error: str | None = None
    party: BundleParty | None
    versions_url: str
    # Give versions_url and token_a to one eMSP; null once it registered (mint more with
    # POST /api/parties/{party.id}/registration-tokens).
    token_a: str | None
    registration_partner_id: str | None
    created_at: datetime
    locations: list[BundleLocation] | None = None  # left out of the list view
    tariffs: list[BundleTariff] | None = None
    test_tokens: list[BundleTestToken] | None = None  # cards to swipe at a bundle charger


def _out(view: dict[str, Any], versions_url: str) -> BundleOut:
    return msgspec.convert({**view, "versions_url": versions_url}, BundleOut, from_attributes=False)


class PresetsController(Controller):
    path = "/api/presets"
    tags = ["bundles"]

    @get("/", operation_id="listPresets", responses=error_responses(400, 401, 403, 404))
    async def list(self, tenant_id: str) -> list[PresetSummary]:  # tenant_id: authenticated, like the catalog
        """List the bundle presets (presets/*.toml): CPO identity, sizes, OCPP versions, countries, tariffs."""
        try:
            return [msgspec.convert(preset_summary(p), PresetSummary) for p in list_presets()]
        except PresetError as exc:
            raise ApiProblem(500, f"a preset file is broken: {exc}") from None

    @get("/{name:str}", operation_id="getPreset", responses=error_responses(400, 401, 403, 404))
    async def show(self, name: str, tenant_id: str) -> PresetOut:
        """Show one preset with its whole content."""
        try:
            preset = load_preset(name)
        except PresetNotFound as exc:
            raise ApiProblem(404, exc.message) from None
        return msgspec.convert({**preset_summary(preset), "preset": msgspec.to_builtins(preset)}, PresetOut)


class BundlesController(Controller):
    path = "/api/bundles"
    tags = ["bundles"]

    @post("/", operation_id="createBundle", status_code=202, responses=error_responses(400, 401, 403, 404, 409, 422))
    async def create(self, data: BundleCreate, tenant_id: str, db_session: AsyncSession, job_runner: JobRunner,
                     idempotency_key: IdempotencyKey = None) -> Response[BundleAccepted]:
        """Start a bundle from a preset, as a job: follow ``status_url``; when READY, ``GET bundle_url`` gives the
        CPO party, its locations with live chargers, tariffs, the versions URL and a token A."""
        job, new = await submit_bundle(db_session, tenant_id, data.preset, country_code=data.country_code,
                                       party_id=data.party_id, name=data.name, idempotency_key=idempotency_key)
        if new:
            job_runner.wake()
        bundle_id = job.params["bundle_id"]
        url = f"/api/jobs/{job.id}"
        return Response(BundleAccepted(job_id=job.id, status=job.status, status_url=url, bundle_id=bundle_id,
                                       bundle_url=f"/api/bundles/{bundle_id}"),
                        status_code=202, headers={"Location": url})

    @get("/", operation_id="listBundles", responses=error_responses(400, 401, 403, 404))
    async def list(self, tenant_id: str, db_session: AsyncSession, versions_url: str) -> list[BundleOut]:
        """List this tenant's bundles with their status (without locations and chargers)."""
        return [_out(await bundle_service.bundle_view(db_session, b, detail=False), versions_url)
                for b in await bundle_service.list_bundles(db_session, tenant_id)]

    @get("/{id:str}", operation_id="getBundle", responses=error_responses(400, 401, 403, 404))
    async def show(self, id: str, tenant_id: str, db_session: AsyncSession, versions_url: str  # noqa: A002
                   ) -> BundleOut:
        """Show a bundle: party, token A, tariffs, and its locations with their chargers' live connection."""
        bundle = await bundle_service.get_bundle(db_session, tenant_id, id)
        return _out(await bundle_service.bundle_view(db_session, bundle), versions_url)

    @delete("/{id:str}", operation_id="deleteBundle", responses=error_responses(400, 401, 403, 404))
    async def remove(self, id: str, tenant_id: str, db_session: AsyncSession, charger_fleet: ChargerFleet  # noqa: A002
                     ) -> Response[None]:
        """Tear a bundle down: stop its chargers, delete its locations, tariffs, CPO party and partners."""
        bundle = await bundle_service.get_bundle(db_session, tenant_id, id)
        if bundle.job_id:  # stop a provisioning still running from committing anything more
            job = await db_session.get(Job, bundle.job_id)
            if job is not None:
                await db_session.delete(job)
        identities = await bundle_service.bundle_identities(db_session, bundle)
        await db_session.commit()  # no transaction stays open while the simulators stop (they save their state)
        await asyncio.gather(*(charger_fleet.remove(identity) for identity in identities))
        bundle = await bundle_service.get_bundle(db_session, tenant_id, id)
        late = set(await bundle_service.bundle_identities(db_session, bundle)) - set(identities)
        await db_session.commit()
        for identity in late:  # added by a provisioning batch while the others stopped
            await charger_fleet.remove(identity)
        await bundle_service.remove_bundle(db_session, await bundle_service.get_bundle(db_session, tenant_id, id))
        return Response(None, status_code=204)
