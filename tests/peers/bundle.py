"""Start a bundle through the management API and register a test eMSP with it, as an eMSP team would: with the
bundle's versions URL and token A, over real HTTP."""

from __future__ import annotations

import base64
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import httpx

from tests.conftest import Sandbox, serve_app
from tests.peers.emsp import FakeEmsp
from tests.peers.registration import RegisteredEmsp
from tests.peers.waiting import eventually

__all__ = ["ready_bundle", "registered_with_bundle", "charger_of"]


async def ready_bundle(client: httpx.AsyncClient, preset: str, timeout: float = 120.0, **request: Any
                       ) -> dict[str, Any]:
    """POST /api/bundles, follow the job until READY, and return GET /api/bundles/{id}."""
    accepted = await client.post("/api/bundles", json={"preset": preset, **request})
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()

    async def finished() -> dict | None:
        job = (await client.get(body["status_url"])).json()
        return job if job["status"] in ("READY", "FAILED") else None

    job = await eventually(finished, timeout, 0.2, f"bundle {preset} READY")
    assert job["status"] == "READY" and not job["results"]["failed"], job
    assert job["result"] == {"bundle_id": body["bundle_id"]}
    bundle = (await client.get(body["bundle_url"])).json()
    assert bundle["status"] == "READY", bundle
    return bundle


def charger_of(bundle: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The bundle's charger whose identity ends in ``-<prefix><n>`` (e.g. "AMS-AC16" finds "...-AMS-AC161")."""
    return next(c for loc in bundle["locations"] for c in loc["chargers"] if c["identity"].split("-", 1)[1]
                .startswith(prefix))


@asynccontextmanager
async def registered_with_bundle(sandbox: Sandbox, bundle: dict[str, Any], version: str = "2.2.1",
                                 emsp: FakeEmsp | None = None) -> AsyncIterator[RegisteredEmsp]:
    """Register a test eMSP with the bundle's token A at its versions URL; it serves until the block ends."""
    emsp = emsp or FakeEmsp()
    header = {"Authorization": "Token " + base64.b64encode(bundle["token_a"].encode()).decode()}
    async with serve_app(emsp.app):
        details = await sandbox.http.get(bundle["versions_url"], headers=header)
        url = next(v["url"] for v in details.json()["data"] if v["version"] == version)
        endpoints = (await sandbox.http.get(url, headers=header)).json()["data"]["endpoints"]
        credentials_url = next(e["url"] for e in endpoints if e["identifier"] == "credentials")
        reply = await sandbox.http.post(credentials_url, json=emsp.credentials(), headers=header)
        assert reply.json()["status_code"] == 1000, reply.text
        token_c = reply.json()["data"]["token"]
        client = httpx.AsyncClient(base_url=sandbox.base_url, timeout=30, headers={
            "Authorization": "Token " + base64.b64encode(token_c.encode()).decode(),
            "X-Request-ID": "test", "X-Correlation-ID": "test"})
        party = {**bundle["party"], "partner_id": bundle["registration_partner_id"]}
        try:
            yield RegisteredEmsp(emsp=emsp, party=party, token_c=token_c, version=version, client=client)
        finally:
            await client.aclose()
