"""Register a test eMSP with a sandbox over real HTTP and hand back what later tests need."""

from __future__ import annotations

import base64
from contextlib import asynccontextmanager
from typing import AsyncIterator

import httpx
import msgspec

from tests.conftest import Sandbox, serve_app
from tests.peers.emsp import FakeEmsp


class RegisteredEmsp(msgspec.Struct, kw_only=True):
    emsp: FakeEmsp
    party: dict
    token_c: str
    version: str
    client: httpx.AsyncClient  # calls the sandbox with token C, Base64, and the IDs OCPI wants

    def url(self, path: str) -> str:
        return f"/ocpi/{self.version}/{path.lstrip('/')}"


@asynccontextmanager
async def registered_emsp(sandbox: Sandbox, version: str = "2.2.1") -> AsyncIterator[RegisteredEmsp]:
    """Register a test eMSP; it keeps serving (it receives CommandResults and pushes) until the block ends."""
    party = await sandbox.create_party()
    emsp = FakeEmsp()
    header = {"Authorization": "Token " + base64.b64encode(party["token_a"].encode()).decode()}
    async with serve_app(emsp.app):
        reply = await sandbox.http.post(f"/ocpi/{version}/credentials", json=emsp.credentials(), headers=header)
        assert reply.json()["status_code"] == 1000, reply.text
        token_c = reply.json()["data"]["token"]
        client = httpx.AsyncClient(base_url=sandbox.base_url, headers={
            "Authorization": "Token " + base64.b64encode(token_c.encode()).decode(),
            "X-Request-ID": "test", "X-Correlation-ID": "test"})
        try:
            yield RegisteredEmsp(emsp=emsp, party=party, token_c=token_c, version=version, client=client)
        finally:
            await client.aclose()
