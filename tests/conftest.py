"""Shared fixtures: a fresh database per test (SQLite file; PostgreSQL database where a server answers), and
real HTTP servers on 127.0.0.1 for the sandbox and for test peers."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from sqlalchemy.engine import make_url

from ocpi_sandbox.app import create_app
from ocpi_sandbox.db.engine import create_engine, create_session_factory
from ocpi_sandbox.domain import tenants as tenant_service
from ocpi_sandbox.settings import Settings

ADMIN_TOKEN = "sbx-admin-test-token-0123456789abcdefghijklmnop"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def _postgres_admin_url() -> str | None:
    configured = os.environ.get("OCPI_SANDBOX_TEST_POSTGRES_URL")
    if configured:
        return configured
    try:  # a developer machine with a local server needs no configuration
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return DEFAULT_PG
    except OSError:
        return None


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """Create a throw-away PostgreSQL database and yield its URL."""
    admin_url = _postgres_admin_url()
    if admin_url is None:
        pytest.skip("no PostgreSQL server: set OCPI_SANDBOX_TEST_POSTGRES_URL (e.g. " + DEFAULT_PG + ")")
    import asyncpg

    admin = make_url(admin_url)
    name = f"ocpi_sandbox_test_{uuid.uuid4().hex[:12]}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request, tmp_path) -> AsyncIterator[str]:
    """A fresh database on each backend: storage tests take this fixture to run on both."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"
        return
    async with postgres_database() as url:
        yield url


@pytest.fixture
async def sessions(database_url):  # noqa: ANN201 - async_sessionmaker
    """A session factory on a migrated fresh database, on each backend."""
    from ocpi_sandbox.db.migrate import migrate

    engine = create_engine(database_url)
    await migrate(engine)
    yield create_session_factory(engine)
    await engine.dispose()


def free_socket() -> socket.socket:
    """Bind a loopback socket on a free port and hand it to the server, so no other process can take the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serve_app(app_factory: Callable[[str], object], sock: socket.socket | None = None) -> AsyncIterator[str]:
    """Serve the ASGI app built by ``app_factory(base_url)`` with uvicorn on 127.0.0.1; yield the base URL."""
    sock = sock or free_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(app_factory(base_url), lifespan="on", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()  # raises the start-up error
        await asyncio.sleep(0.01)
    try:
        yield base_url
    finally:
        server.should_exit = True
        await task


class Sandbox:
    """A sandbox served over real HTTP, with an admin-authenticated client for the management API."""

    def __init__(self, base_url: str, settings: Settings, app: object = None) -> None:
        self.base_url = base_url
        self.settings = settings
        self.app = app  # the Litestar app, for reaching its in-process services (gateway, frame log, bus)
        self.api = httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        self.http = httpx.AsyncClient(base_url=base_url)

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/ocpi/versions"

    @property
    def csms_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/csms"

    def service(self, name: str):  # noqa: ANN201 - gateway, frame_log, bus, ...
        return self.app.state[name]

    async def create_party(self, country_code: str = "NL", party_id: str = "SBX", name: str = "Test CPO") -> dict:
        reply = await self.api.post("/api/parties", json={"country_code": country_code, "party_id": party_id,
                                                          "name": name})
        assert reply.status_code == 201, reply.text
        return reply.json()


@asynccontextmanager
async def run_sandbox(database_url: str, **settings_overrides: object) -> AsyncIterator[Sandbox]:
    """Migrate ``database_url``, prepare the admin token and default tenant, and serve a sandbox on it."""
    engine = create_engine(database_url)
    from ocpi_sandbox.db.migrate import migrate

    await migrate(engine)
    async with create_session_factory(engine)() as session:
        await tenant_service.ensure_admin_token(session, ADMIN_TOKEN)
        await tenant_service.ensure_default_tenant(session)
    await engine.dispose()
    sock = free_socket()
    port = sock.getsockname()[1]
    settings = Settings(database_url=database_url, port=port, admin_token=ADMIN_TOKEN,
                        **{"ocpi_token_grace_seconds": 0, **settings_overrides})
    app = create_app(settings)
    async with serve_app(lambda _base: app, sock) as base_url:
        sandbox = Sandbox(base_url, settings, app)
        try:
            yield sandbox
        finally:
            await sandbox.api.aclose()
            await sandbox.http.aclose()


@pytest.fixture
async def sandbox(sqlite_url) -> AsyncIterator[Sandbox]:
    async with run_sandbox(sqlite_url) as sb:
        yield sb
