"""``create_app(settings)``: the one place that wires storage, the OCPI surface and the management API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import msgspec
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from litestar import Litestar, Request, Response, Router
from litestar.di import Provide
from litestar.exceptions import ValidationException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from sqlalchemy.ext.asyncio import AsyncSession

from . import __version__, heap
from .api.auth import provide_principal, provide_tenant_id
from .api.bulk_chargers import BulkChargersController
from .api.errors import api_exception_handler
from .api.catalog import CatalogController
from .api.charger_chaos import ChargerChaosController
from .api.charger_commands import ChargerCommandsController
from .api.charger_logs import ChargerLogsController
from .api.charger_operations import ChargerOperationsController
from .api.chargers import ChargersController
from .api.health import health
from .api.bundles import BundlesController, PresetsController
from .api.jobs import JobsController
from .api.locations import LocationsController
from .api.power_limits import PowerLimitsController
from .api.pricing import price_cdr
from .api.tariffs import PartyTariffsController, TariffsController
from .api.parties import PartiesController
from .api.partners import PartnersController
from .api.tenants import TenantsController
from .db.engine import create_engine, create_session_factory, is_sqlite, read_only
from .fleet_commands import FleetCommands
from .charger_fleet import ChargerFleet
from .csms.connection import CsmsConfig
from .csms.endpoint import CsmsEndpoint, csms_websocket
from .csms.frame_log import FrameLog
from .csms.meter_buffer import MeterBuffer
from .csms.gateway import ChargerGateway
from .csms.remote_commands import CsmsChargerCommands
from .csms.station_records import StationRecords
from .db.migrate import migrate
from .jobs import JobRunner
from .jobs.create_chargers import CreateChargers
from .jobs.delete_chargers import DeleteChargers
from .jobs.bundles import ProvisionBundle
from .jobs.update_chargers import UpdateChargers
from .domain import csms_records
from .domain import cpo_sessions, location_view
from .domain.charger_operations import ChargerOperations
from .domain.charging_events import (
    ChargingEvent,
    ConnectorStatusChanged,
    EventBus,
    MeterSampleReceived,
    ReservationEnded,
    StationConnectionChanged,
    TransactionEnded,
    TransactionStarted,
)
from .ocpi.caller import OcpiCaller, authenticate_caller
from .ocpi.charging_profiles import ChargingProfileRunner
from .ocpi.client import OcpiClient
from .ocpi.commands import CommandRunner
from .ocpi.controllers.chargingprofiles import ChargingProfilesController
from .ocpi.controllers.commands import CommandsController
from .ocpi.controllers.credentials import CredentialsController
from .ocpi.controllers.locations import LocationsController as OcpiLocationsController
from .ocpi.controllers.sessions import CdrsController, SessionsController
from .ocpi.controllers.tariffs import TariffsController as OcpiTariffsController
from .ocpi.controllers.tokens import TokensController
from .ocpi.controllers.versions import VersionDetailsController, VersionsController
from .ocpi.errors import ocpi_exception_handler
from .ocpi.exchange_log import ExchangeLog
from .ocpi.manifest import SUPPORTED_VERSIONS, load_manifests
from .ocpi.middleware import OcpiExchangeMiddleware
from .ocpi.push_dispatcher import PushDispatcher
from .ocpi.realtime_auth import EmspAuthorizer
from .ocpi.registration import Registrar
from .settings import Settings
from .simulator.fleet import Fleet

__all__ = ["create_app"]

# OCPI modules this build implements; version details list a module only when it is also enabled in
# ocpi_modules/<version>.toml. Each functional module adds its controller below and its id here.
OCPI_CONTROLLERS: dict[str, list[type]] = {
    "credentials": [CredentialsController],
    "locations": [OcpiLocationsController],
    "sessions": [SessionsController],
    "cdrs": [CdrsController],
    "commands": [CommandsController],
    "tariffs": [OcpiTariffsController],
    "tokens": [TokensController],
    "chargingprofiles": [ChargingProfilesController],
}


async def _strict_body(request: Request) -> None:
    """Re-decode a management API body strictly against the handler's ``data`` type.

    Litestar converts leniently ("1" would pass as 1); CI users need the mistake named instead.
    """
    field = request.route_handler.parsed_data_field
    if field is None:
        return
    raw = await request.body()
    if not raw.strip():
        if field.is_optional:
            return
        raise ValidationException("the request has no body; send a JSON object (see /api/schema)")
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ValidationException(f"the body is not valid JSON: {exc}") from None
    try:
        msgspec.convert(_integral_floats_as_ints(value), field.annotation, strict=True)
    except msgspec.ValidationError as exc:
        raise ValidationException(f"invalid body: {exc}") from None


def _integral_floats_as_ints(value: Any) -> Any:
    # JSON Schema counts 3.0 as an integer, msgspec's strict mode does not; "3" stays an error.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral_floats_as_ints(v) for v in value]
    if isinstance(value, dict):
        return {k: _integral_floats_as_ints(v) for k, v in value.items()}
    return value


def _any_exception_handler(request: Request, exc: Exception) -> Response[Any]:
    # Routes that match carry their own handlers; this catches unmatched paths (404/405) by surface.
    if request.url.path.startswith("/ocpi"):
        return ocpi_exception_handler(request, exc)
    return api_exception_handler(request, exc)


def create_app(settings: Settings, *, http_transport: httpx.AsyncBaseTransport | None = None) -> Litestar:
    """Build the sandbox application for ``settings``.

    ``http_transport`` replaces the network for outbound OCPI calls (tests pass an in-process or refusing one).
    """
    # apscheduler logs every run of every job at INFO; the chores run every few seconds and would drown the log.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    exchange_log = ExchangeLog(sessions)
    manifests = load_manifests()
    http = httpx.AsyncClient(timeout=httpx.Timeout(settings.ocpi_client_timeout), follow_redirects=False,
                             transport=http_transport)
    ocpi_client = OcpiClient(http, exchange_log)
    registrar = Registrar(sessions, ocpi_client, versions_url=settings.versions_url,
                          token_grace=timedelta(seconds=settings.ocpi_token_grace_seconds))
    bus = EventBus()
    gateway = ChargerGateway()
    push_dispatcher = PushDispatcher(sessions, ocpi_client)
    command_runner = CommandRunner(sessions, ocpi_client, CsmsChargerCommands(gateway),
                                   wake_pushes=push_dispatcher.wake)
    # Charger operations API and OCPI ChargingProfiles: SetChargingProfile & co. through the embedded CSMS.
    charger_operations = ChargerOperations(sessions, CsmsChargerCommands(gateway))
    charging_profile_runner = ChargingProfileRunner(sessions, ocpi_client, charger_operations,
                                                    min_interval=settings.ocpi_charging_profile_min_interval)
    frame_log = FrameLog(sessions, retention=timedelta(hours=settings.frame_log_retention_hours))
    # Simulated chargers log their own frames; the CSMS logs those of chargers it does not simulate.
    fleet = Fleet(on_frame=lambda identity, direction, text: frame_log.append(identity, direction, text, "simulator"))
    bind = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    charger_fleet = ChargerFleet(sessions, fleet, embedded_csms_url=f"ws://{bind}:{settings.port}/csms",
                                 health_url=f"http://{bind}:{settings.port}/api/health")
    fleet_commands = FleetCommands(charger_fleet, frame_log)
    # One process owns a SQLite file, so a restart takes over the jobs the previous run left at once.
    job_runner = JobRunner(sessions, exclusive=is_sqlite(settings.database_url))
    for kind in (CreateChargers(sessions, charger_fleet), UpdateChargers(sessions, charger_fleet),
                 DeleteChargers(charger_fleet), ProvisionBundle(sessions, charger_fleet)):
        job_runner.register(kind)
    meters = MeterBuffer(sessions)
    csms = CsmsEndpoint(sessions=sessions, bus=bus, gateway=gateway, frame_log=frame_log, meters=meters,
                        records=StationRecords(sessions),
                        config=CsmsConfig(heartbeat_interval=settings.csms_heartbeat_interval,
                                          unknown_tokens=settings.csms_unknown_tokens),
                        unknown_chargers=settings.csms_unknown_chargers, realtime=EmspAuthorizer(ocpi_client),
                        is_simulated=fleet.is_simulated)

    # Transactions that carry an OCPI session (an eMSP's token): only their meter values need the database here,
    # which keeps a large fleet of locally authorized chargers off it (docs/performance.md).
    ocpi_transactions: set[str] = set()

    async def follow_transactions(event: ChargingEvent) -> None:
        # Transactions of an eMSP's tokens become OCPI sessions, and their end a priced CDR.
        if isinstance(event, TransactionStarted):
            async with read_only(sessions) as session:
                if not await cpo_sessions.may_open_session(session, event):
                    return
            async with sessions() as session:
                if await cpo_sessions.open_session(session, event) is not None:
                    ocpi_transactions.add(event.transaction_pk)
        elif isinstance(event, MeterSampleReceived) and event.transaction_pk in ocpi_transactions:
            await meters.flush()  # the session's periods are cut from every sample, the buffered ones too
            async with sessions() as session:
                await cpo_sessions.update_session(session, event, patch_interval=settings.ocpi_session_patch_interval)
        elif isinstance(event, TransactionEnded):
            ocpi_transactions.discard(event.transaction_pk)
            async with sessions() as session:
                await cpo_sessions.close_session(session, event)
        else:
            return
        push_dispatcher.wake()  # the Session PUT/PATCH or CDR just queued goes now, not at the next round

    async def touch_locations(events: list[ChargingEvent]) -> None:
        # OCPI: a connector's change moves its EVSE's and Location's last_updated (reference ocpi.md §8.5).
        touches: dict[str, datetime] = {}
        for event in events:
            if isinstance(event, (ConnectorStatusChanged, StationConnectionChanged)):
                touches[event.identity] = max(event.at, touches.get(event.identity, event.at))
        if touches:
            async with sessions() as session:
                await location_view.touch_charger_locations(session, touches)
            push_dispatcher.wake()

    async def follow_reservations(event: ChargingEvent) -> None:
        # A charger that lets a reservation go by itself: expired, or removed, which is the CPO cancelling it (OCPI
        # mod_commands). 2.0.1 says so; for 1.6 the runner reads it from a few statuses (status_reported).
        if isinstance(event, ReservationEnded):
            await command_runner.reservation_dropped(event.identity, event.tenant_id, number=event.reservation_id,
                                                     expired=event.status == "Expired",
                                                     why=f"the charger removed the reservation ({event.status})")
        elif isinstance(event, ConnectorStatusChanged):
            await command_runner.status_reported(event)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await migrate(engine)
        async with sessions() as session:
            await csms_records.mark_all_disconnected(session)
        bus.subscribe_batch(touch_locations)
        async with sessions() as session:
            ocpi_transactions.update(await cpo_sessions.active_session_transactions(session))
            await session.commit()
        bus.subscribe(follow_transactions)
        bus.subscribe(follow_reservations)
        bus.start()
        scheduler = AsyncIOScheduler()
        # Periodic chores only; per-charger work lives in the chargers' own tasks (DESIGN.md).
        scheduler.add_job(frame_log.prune, "interval", hours=1, id="prune-frame-log", coalesce=True)
        scheduler.add_job(charger_fleet.save, "interval", seconds=2, id="save-changed-charger-state", coalesce=True,
                          kwargs={"changed_only": True}, max_instances=1)
        scheduler.add_job(charger_fleet.save, "interval", seconds=60, id="save-charger-state", coalesce=True)
        scheduler.add_job(job_runner.sweep, "interval", seconds=5, id="claim-jobs", coalesce=True)
        heap.tune_collector()
        scheduler.add_job(heap.freeze_survivors, "interval", seconds=60, id="freeze-survivors", coalesce=True)
        scheduler.add_job(heap.collect_everything, "interval", hours=1, id="collect-everything", coalesce=True)
        # Reservations end at their expiry_date even when the charger is offline or says nothing (1.6).
        scheduler.add_job(command_runner.expire_due, "interval", seconds=10, id="expire-reservations", coalesce=True,
                          max_instances=1)
        scheduler.start()

        async def run_jobs() -> None:
            await charger_fleet.ready.wait()  # resumed jobs then find the restored chargers already running
            await job_runner.run()

        background = [asyncio.create_task(frame_log.run()), asyncio.create_task(meters.run()), asyncio.create_task(push_dispatcher.run()),
                      asyncio.create_task(charger_fleet.start()), asyncio.create_task(run_jobs())]
        try:
            yield
        finally:
            scheduler.shutdown(wait=False)
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await job_runner.close()
            await command_runner.close()
            await charger_fleet.close()
            await frame_log.flush()
            await meters.flush()
            await bus.stop()
            await http.aclose()
            await engine.dispose()

    async def provide_db_session() -> AsyncIterator[AsyncSession]:
        async with sessions() as session:
            yield session

    async def provide_caller(request: Request, db_session: AsyncSession) -> OcpiCaller:
        return await authenticate_caller(request, db_session, request.route_handler.opt["ocpi_module"])

    def constant(value: object) -> Provide:
        return Provide(lambda: value, sync_to_thread=False, use_cache=True)

    ocpi_middleware = [DefineMiddleware(OcpiExchangeMiddleware)]
    ocpi_handlers = {Exception: ocpi_exception_handler}
    implemented = frozenset(OCPI_CONTROLLERS)
    ocpi_routers = [Router("/", route_handlers=[VersionsController], middleware=ocpi_middleware,
                           exception_handlers=ocpi_handlers)]
    for version in SUPPORTED_VERSIONS:
        module_controllers = [c for controllers in OCPI_CONTROLLERS.values() for c in controllers]
        ocpi_routers.append(Router(f"/ocpi/{version}", route_handlers=[VersionDetailsController, *module_controllers],
                                   opt={"ocpi_version": version}, middleware=ocpi_middleware,
                                   exception_handlers=ocpi_handlers))

    api = Router("/", route_handlers=[TenantsController, PartiesController, PartnersController, LocationsController, price_cdr,
                                 PartyTariffsController, TariffsController, CatalogController, ChargersController,
                                 ChargerCommandsController, ChargerLogsController,
                                 ChargerChaosController, BulkChargersController, JobsController,
                                 PresetsController, BundlesController,
                                 ChargerOperationsController, PowerLimitsController],
                 security=[{"BearerToken": []}], before_request=_strict_body,
                 exception_handlers={Exception: api_exception_handler},
                 dependencies={"principal": Provide(provide_principal), "tenant_id": Provide(provide_tenant_id)})

    return Litestar(
        route_handlers=[health, api, *ocpi_routers, csms_websocket],
        lifespan=[lifespan],
        dependencies={
            "db_session": Provide(provide_db_session),
            "caller": Provide(provide_caller),
            "settings": constant(settings),
            "base_url": constant(settings.base_url),
            "versions_url": constant(settings.versions_url),
            "manifests": constant(manifests),
            "implemented_modules": constant(implemented),
            "registrar": constant(registrar),
            "csms": constant(csms),
            "gateway": constant(gateway),
            "command_runner": constant(command_runner),
            "charger_fleet": constant(charger_fleet),
            "charger_operations": constant(charger_operations),
            "charging_profile_runner": constant(charging_profile_runner),
            "job_runner": constant(job_runner),
            "fleet_commands": constant(fleet_commands),
            "frame_log": constant(frame_log),
            "session_factory": constant(sessions),
        },
        exception_handlers={Exception: _any_exception_handler},
        openapi_config=OpenAPIConfig(
            title="ocpi-sandbox management API",
            version=__version__,
            path="/api/schema",
            description="Tenants, CPO parties, OCPI partners and their logs. The OCPI surface itself is under "
                        "/ocpi (versions URL /ocpi/versions) and follows the OCPI specification.",
            components=Components(security_schemes={"BearerToken": SecurityScheme(type="http", scheme="bearer")}),
            render_plugins=[ScalarRenderPlugin()],
        ),
        state={"sessions": sessions, "engine": engine, "exchange_log": exchange_log, "bus": bus, "gateway": gateway,
               "frame_log": frame_log, "csms": csms, "command_runner": command_runner,
               "push_dispatcher": push_dispatcher, "charger_fleet": charger_fleet,
               "charger_operations": charger_operations, "charging_profile_runner": charging_profile_runner,
               "fleet_commands": fleet_commands, "job_runner": job_runner},
        debug=False,
    )
