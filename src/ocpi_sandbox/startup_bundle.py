"""``ocpi-sandbox serve --preset NAME``: start with a bundle, and tell the user what an eMSP needs once it is live.

Before the server starts, the default tenant gets the bundle (the one it already has of that preset, or a new
one whose provisioning job the server's job runner picks up as it starts). A watcher thread then waits until
the job is READY and every charger of the bundle is connected to the embedded CSMS, and prints the versions
URL and a token A that still registers an eMSP (a used one is replaced at each start).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import httpx
import msgspec
from sqlalchemy import select

from .db.engine import create_engine, create_session_factory
from .db.migrate import migrate
from .db.models import Bundle, Charger, CsmsStation, Job, JobStatus, Location
from .domain import bundles as bundle_service
from .domain import tenants as tenant_service
from .jobs.bundles import submit_bundle
from .settings import Settings

__all__ = ["StartupBundle", "prepare_bundle", "bundle_banner", "announce_when_ready"]


class StartupBundle(msgspec.Struct, kw_only=True):
    new_admin_token: str | None
    bundle_id: str
    preset: str
    new: bool


async def prepare_bundle(settings: Settings, preset: str) -> StartupBundle:
    """Ensure the admin token, the default tenant and its bundle of ``preset`` (with a usable token A)."""
    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        async with create_session_factory(engine)() as session:
            new_admin = await tenant_service.ensure_admin_token(session, settings.admin_token)
            tenant = await tenant_service.ensure_default_tenant(session)
            existing = await session.scalar(select(Bundle).where(Bundle.tenant_id == tenant.id, Bundle.preset == preset)
                                            .order_by(Bundle.created_at.desc()))
            if existing is None:
                job, _ = await submit_bundle(session, tenant.id, preset)
                return StartupBundle(new_admin_token=new_admin, bundle_id=job.params["bundle_id"], preset=preset,
                                     new=True)
            if existing.cpo_party_id is not None:  # provisioned: replace a token A an eMSP already used
                await bundle_service.provision_registration(session, existing)
            await session.commit()
            return StartupBundle(new_admin_token=new_admin, bundle_id=existing.id, preset=preset, new=False)
    finally:
        await engine.dispose()


def bundle_banner(settings: Settings, start: StartupBundle) -> str:
    if start.new_admin_token:
        admin = f"{start.new_admin_token}   (generated now and stored; shown only this once)"
    elif settings.admin_token:
        admin = "the value of OCPI_SANDBOX_ADMIN_TOKEN"
    else:
        admin = "shown at first start; `ocpi-sandbox admin-token --reset` prints a new one"
    what = "provisioning" if start.new else "starting"
    return "\n".join([
        "",
        "ocpi-sandbox is starting",
        f"  management API   {settings.base_url}/api   (reference: {settings.base_url}/api/schema)",
        f"  admin token      {admin}",
        f"  bundle           {start.preset}, {what}: {settings.base_url}/api/bundles/{start.bundle_id}",
        "",
        "The versions URL and token A for your eMSP follow as soon as the bundle's chargers are live.",
        "",
    ])


async def _wait_ready(settings: Settings, bundle_id: str, timeout: float) -> tuple[str, dict] | None:
    """Wait for the server, then for the bundle's job and chargers; return (status, facts), None on timeout."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{settings.base_url}/api/health", timeout=1)).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    engine = create_engine(settings.database_url)
    try:
        sessions = create_session_factory(engine)
        while time.monotonic() < deadline:
            async with sessions() as session:
                bundle = await session.get(Bundle, bundle_id)
                job = await session.get(Job, bundle.job_id) if bundle and bundle.job_id else None
                if bundle is None or job is None or job.status == JobStatus.FAILED:
                    await session.commit()
                    return "FAILED", {"error": job.error if job else "the bundle or its job is gone"}
                chargers = (await session.execute(
                    select(Charger.identity, CsmsStation.connected).join(Location, Location.id == Charger.location_id)
                    .outerjoin(CsmsStation, CsmsStation.identity == Charger.identity)
                    .where(Location.cpo_party_id == bundle.cpo_party_id, Charger.enabled.is_(True)))).all() \
                    if bundle.cpo_party_id else []
                view = await bundle_service.bundle_view(session, bundle, detail=False)
                await session.commit()
            if job.status == JobStatus.READY and all(connected for _, connected in chargers):
                return "READY", {"view": view, "chargers": len(chargers)}
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
    return None


def announce_when_ready(settings: Settings, start: StartupBundle, echo: Callable[[str], None], *,
                        timeout: float = 300.0) -> threading.Thread:
    """Print what an eMSP needs once the bundle is live (from a daemon thread; the server runs meanwhile)."""

    def watch() -> None:
        try:
            outcome = asyncio.run(_wait_ready(settings, start.bundle_id, timeout))
        except Exception as exc:  # noqa: BLE001 - the server goes on; only the announcement is lost
            echo(f"could not follow bundle {start.bundle_id}: {exc}")
            return
        if outcome is None:
            echo(f"bundle {start.preset} is not live after {timeout:.0f} s; see "
                 f"{settings.base_url}/api/bundles/{start.bundle_id}")
            return
        status, facts = outcome
        if status == "FAILED":
            echo(f"bundle {start.preset} FAILED: {facts['error']}; see {settings.base_url}/api/bundles/"
                 f"{start.bundle_id}")
            return
        view = facts["view"]
        party = view["party"]
        token = view["token_a"] or "(used; mint one: POST /api/parties/{party}/registration-tokens)"
        echo("\n".join([
            "",
            f"Bundle {start.preset} is ready: CPO {party['country_code']}*{party['party_id']} "
            f"({party['name']}), {facts['chargers']} chargers live on the embedded CSMS",
            "",
            "For an eMSP (OCPI 2.2.1 or 2.3.0):",
            f"  versions URL     {settings.versions_url}",
            f"  token A          {token}",
            "  then POST your credentials to the credentials endpoint listed in the version details.",
            f"  The exchanges:   GET {settings.base_url}/api/partners/{view['registration_partner_id']}/log",
            f"  The bundle:      GET {settings.base_url}/api/bundles/{start.bundle_id}",
            "",
        ]))

    thread = threading.Thread(target=watch, name="bundle-announcer", daemon=True)
    thread.start()
    return thread
