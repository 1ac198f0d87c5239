"""schemathesis over the management API's OpenAPI: no 5xx, and every response matches the document.

Runs in-process (ASGI). Outbound OCPI calls go to a transport that refuses every connection, so generated
versions URLs never leave the process.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import httpx
import schemathesis
from hypothesis import HealthCheck, settings

from ocpi_sandbox.app import create_app
from ocpi_sandbox.db.engine import create_engine, create_session_factory
from ocpi_sandbox.db.migrate import migrate
from ocpi_sandbox.domain import tenants as tenant_service
from ocpi_sandbox.settings import Settings
from tests.conftest import ADMIN_TOKEN


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("outbound calls are disabled in this test", request=request)


# Removed when the interpreter exits (the object's finalizer), so runs leave nothing in /tmp.
_DIRECTORY = tempfile.TemporaryDirectory(prefix="ocpi-sandbox-contract-")


def _app():
    # Built at import: schemathesis's fixture loader does not work with pytest 9 (no Function._nodeid).
    url = f"sqlite+aiosqlite:///{Path(_DIRECTORY.name) / 'sandbox.db'}"

    async def prepare() -> None:
        engine = create_engine(url)
        await migrate(engine)
        async with create_session_factory(engine)() as session:
            await tenant_service.ensure_admin_token(session, ADMIN_TOKEN)
            await tenant_service.ensure_default_tenant(session)
        await engine.dispose()

    asyncio.run(prepare())
    return create_app(Settings(database_url=url, admin_token=ADMIN_TOKEN), http_transport=httpx.MockTransport(_refuse))


schema = schemathesis.openapi.from_asgi("/api/schema/openapi.json", _app())


@schema.auth()
class AdminToken:
    """Authenticate as the admin through schemathesis's auth hook: it then knows which cases deliberately lack
    credentials, instead of us re-adding them to every case (a false "negative data accepted")."""

    def get(self, case, context):  # noqa: ANN001, ANN201
        return ADMIN_TOKEN

    def set(self, case, data, context):  # noqa: ANN001, ANN201
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.parametrize()
# Random on a developer's machine (it keeps finding new inputs); fixed in CI (CI=true), so a run is reproducible.
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=os.environ.get("CI") == "true")
def test_management_api_conforms_to_its_openapi(case):
    # Litestar 2 lists only some methods in Allow on a 405 (litestar#4169, fixed in 3.x): not ours to fix.
    excluded = [schemathesis.checks.allow_header_conformance]
    if case.operation.path == "/api/pricing":
        # The calculator takes any OCPI Tariff/CDR JSON and says in a 422 what is wrong with it: an arbitrary
        # JSON object is schema-valid there but not a tariff, so "valid data accepted" cannot hold.
        excluded.append(schemathesis.checks.positive_data_acceptance)
    case.call_and_validate(excluded_checks=excluded)
