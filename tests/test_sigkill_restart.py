"""The sandbox process killed (SIGKILL, no shutdown at all) in the middle of a session and started again on the same
database: the simulated charger resumes its transaction, the eMSP stops the session by command, and the CDR is
delivered once. The sandbox runs as ``ocpi-sandbox serve --preset small-urban-ac`` in a subprocess; the eMSP is
served by this test over real HTTP."""

from __future__ import annotations

import asyncio
import base64
import functools

import httpx

from tests.conftest import serve_app
from tests.ocpi.test_emsp_journey import APP_TOKEN
from tests.peers.emsp import FakeEmsp
from tests.peers.waiting import eventually
from tests.sandbox_process import SandboxProcess, free_port, sandbox_process


async def ready(proc: SandboxProcess) -> dict:
    """Wait for the sandbox's bundle to be READY with every charger connected."""
    async def up() -> dict | None:
        assert proc.process.poll() is None, "the sandbox exited"
        try:
            bundles = (await proc.api.get("/api/bundles")).json()
        except httpx.HTTPError:
            return None
        if not bundles or bundles[0]["status"] != "READY":
            return None
        bundle = (await proc.api.get(f"/api/bundles/{bundles[0]['id']}")).json()
        live = all(c["connected"] for loc in bundle["locations"] for c in loc["chargers"])
        return bundle if live else None

    return await eventually(up, 120, 0.25, "sandbox up with a live bundle")


async def test_session_completes_and_its_cdr_arrives_once_after_a_sigkill(tmp_path):
    emsp = FakeEmsp()
    # The same database and port after the kill: the eMSP keeps the URLs it registered.
    start = functools.partial(sandbox_process, f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}", tmp_path,
                              args=("--preset", "small-urban-ac"), port=free_port(),
                              OCPI_SANDBOX_OCPI_SESSION_PATCH_INTERVAL="1")
    async with serve_app(emsp.app):
        async with start() as proc:
            bundle = await ready(proc)
            header = {"Authorization": "Token " + base64.b64encode(bundle["token_a"].encode()).decode()}
            registered = await proc.api.post(f"{proc.base_url}/ocpi/2.3.0/credentials", json=emsp.credentials(),
                                             headers=header)
            assert registered.json()["status_code"] == 1000, registered.text
            token_c = registered.json()["data"]["token"]
            ocpi = httpx.AsyncClient(base_url=f"{proc.base_url}/ocpi/2.3.0", timeout=30, headers={
                "Authorization": "Token " + base64.b64encode(token_c.encode()).decode()})
            charger = bundle["locations"][0]["chargers"][0]
            evse = charger["evse_uids"][0]
            started = await ocpi.post("/commands/START_SESSION", json={
                "response_url": emsp.response_url("start"), "token": {**APP_TOKEN, "uid": "APP-KILL"},
                "location_id": bundle["locations"][0]["ocpi_id"], "evse_uid": evse})
            assert started.json()["data"]["result"] == "ACCEPTED"
            await eventually(lambda: emsp.command_results.get("start"), 60, what="CommandResult")

            def session_pushes() -> list[tuple[str, dict]]:
                return [(m, b) for m, p, b in emsp.pushes if "/sessions/" in p]

            await eventually(lambda: any(m == "PATCH" and b["kwh"] > 0 for m, b in session_pushes()), 60,
                             what="a PATCH with energy")
            session_id = session_pushes()[0][1]["id"]
            before = max(b["kwh"] for _, b in session_pushes())
            await asyncio.sleep(2.5)  # one state save of the charger (every 2 s while it changes)
            proc.kill()

        async with start() as proc:
            await ready(proc)

            async def transaction_resumed() -> bool:
                state = (await proc.api.get(f"/api/chargers/{charger['id']}")).json()["state"]
                return bool(state["connected"] and state["transaction"])

            await eventually(transaction_resumed, 60, 0.25, "the charger's transaction after the restart")
            stop = await ocpi.post("/commands/STOP_SESSION", json={"response_url": emsp.response_url("stop"),
                                                                  "session_id": session_id})
            assert stop.json()["data"]["result"] == "ACCEPTED", stop.text
            assert (await eventually(lambda: emsp.command_results.get("stop"), 60))["result"] == "ACCEPTED"
            await eventually(lambda: [b for m, p, b in emsp.pushes if m == "POST"], 60, what="the CDR")

            async def drained() -> bool:
                partner = bundle["registration_partner_id"]
                return not (await proc.api.get(f"/api/partners/{partner}/pushes", params={"state": "pending"})).json()

            await eventually(drained, 60, 0.25, "every push delivered")
            await ocpi.aclose()
    cdrs = [b for m, p, b in emsp.pushes if m == "POST"]
    assert len(cdrs) == 1 and cdrs[0]["session_id"] == session_id
    final = session_pushes()[-1][1]
    assert final["status"] == "COMPLETED" and final["kwh"] >= before
    assert cdrs[0]["total_energy"] >= before - 0.01
    assert emsp.schema_errors == []
