"""The sandbox process killed (SIGKILL, no shutdown at all) in the middle of a session and started again on the same
database: the simulated charger resumes its transaction, the eMSP stops the session by command, and the CDR is
delivered once. The sandbox runs as ``ocpi-sandbox serve --preset small-urban-ac`` in a subprocess; the eMSP is
served by this test over real HTTP."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import ADMIN_TOKEN, free_socket, serve_app
from tests.ocpi.test_emsp_journey import APP_TOKEN
from tests.peers.bundle import eventually
from tests.peers.emsp import FakeEmsp


class SandboxProcess:
    def __init__(self, tmp_path: Path) -> None:
        sock = free_socket()
        self.port = sock.getsockname()[1]
        sock.close()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.database_url = f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"
        self.log = tmp_path / "sandbox.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "OCPI_SANDBOX_ADMIN_TOKEN": ADMIN_TOKEN, "OCPI_SANDBOX_OCPI_SESSION_PATCH_INTERVAL": "1"}
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ocpi_sandbox", "serve", "--preset", "small-urban-ac", "--port", str(self.port),
                 "--database-url", self.database_url, "--log-level", "warning"],
                stdout=log, stderr=subprocess.STDOUT, env=env)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


async def ready(api: httpx.AsyncClient, proc: SandboxProcess) -> dict:
    """Wait for the server and for its bundle to be READY with every charger connected."""
    async def up() -> dict | None:
        assert proc.process.poll() is None, proc.log.read_text()[-3000:]
        try:
            bundles = (await api.get("/api/bundles")).json()
        except httpx.HTTPError:
            return None
        if not bundles or bundles[0]["status"] != "READY":
            return None
        bundle = (await api.get(f"/api/bundles/{bundles[0]['id']}")).json()
        live = all(c["connected"] for loc in bundle["locations"] for c in loc["chargers"])
        return bundle if live else None

    return await eventually(up, 120, 0.25, "sandbox up with a live bundle")


async def test_session_completes_and_its_cdr_arrives_once_after_a_sigkill(tmp_path):
    proc = SandboxProcess(tmp_path)
    emsp = FakeEmsp()
    api = httpx.AsyncClient(base_url=proc.base_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30)
    proc.start()
    try:
        async with serve_app(emsp.app):
            bundle = await ready(api, proc)
            header = {"Authorization": "Token " + base64.b64encode(bundle["token_a"].encode()).decode()}
            registered = await api.post(f"{proc.base_url}/ocpi/2.3.0/credentials", json=emsp.credentials(),
                                        headers=header)
            assert registered.json()["status_code"] == 1000, registered.text
            token_c = registered.json()["data"]["token"]
            ocpi = httpx.AsyncClient(base_url=f"{proc.base_url}/ocpi/2.3.0", timeout=30, headers={
                "Authorization": "Token " + base64.b64encode(token_c.encode()).decode()})
            charger = bundle["locations"][0]["chargers"][0]
            evse = charger["evse_uids"][0]
            start = await ocpi.post("/commands/START_SESSION", json={
                "response_url": emsp.response_url("start"), "token": {**APP_TOKEN, "uid": "APP-KILL"},
                "location_id": bundle["locations"][0]["ocpi_id"], "evse_uid": evse})
            assert start.json()["data"]["result"] == "ACCEPTED"
            await eventually(lambda: emsp.command_results.get("start"), 60, what="CommandResult")

            def session_pushes() -> list[tuple[str, dict]]:
                return [(m, b) for m, p, b in emsp.pushes if "/sessions/" in p]

            await eventually(lambda: any(m == "PATCH" and b["kwh"] > 0 for m, b in session_pushes()), 60,
                             what="a PATCH with energy")
            session_id = session_pushes()[0][1]["id"]
            before = max(b["kwh"] for _, b in session_pushes())
            await asyncio.sleep(2.5)  # one state save of the charger (every 2 s while it changes)

            proc.kill()
            proc.start()
            await ready(api, proc)

            async def transaction_resumed() -> bool:
                state = (await api.get(f"/api/chargers/{charger['id']}")).json()["state"]
                return bool(state["connected"] and state["transaction"])

            await eventually(transaction_resumed, 60, 0.25, "the charger's transaction after the restart")
            stop = await ocpi.post("/commands/STOP_SESSION", json={"response_url": emsp.response_url("stop"),
                                                                  "session_id": session_id})
            assert stop.json()["data"]["result"] == "ACCEPTED", stop.text
            assert (await eventually(lambda: emsp.command_results.get("stop"), 60))["result"] == "ACCEPTED"
            cdrs = await eventually(lambda: [b for m, p, b in emsp.pushes if m == "POST"], 60, what="the CDR")

            async def drained() -> bool:
                partner = bundle["registration_partner_id"]
                return not (await api.get(f"/api/partners/{partner}/pushes", params={"state": "pending"})).json()

            await eventually(drained, 60, 0.25, "every push delivered")
            cdrs = [b for m, p, b in emsp.pushes if m == "POST"]
            assert len(cdrs) == 1 and cdrs[0]["session_id"] == session_id
            final = session_pushes()[-1][1]
            assert final["status"] == "COMPLETED" and final["kwh"] >= before
            assert cdrs[0]["total_energy"] >= before - 0.01
            assert emsp.schema_errors == []
            await ocpi.aclose()
    finally:
        proc.stop()
        await api.aclose()
