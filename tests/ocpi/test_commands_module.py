"""OCPI Commands, CPO as Receiver: START_SESSION, STOP_SESSION and UNLOCK_CONNECTOR become real OCPP requests
on a charge point (built with the `ocpp` package, on the embedded CSMS); the CommandResult comes to the eMSP's
response_url, and the session started by command is the eMSP's with auth_method COMMAND."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import websockets
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as Cp16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16

from ocpi_sandbox.db.models import Charger
from tests.conftest import Sandbox
from tests.peers.registration import RegisteredEmsp, registered_emsp

HARDWARE = [{"evse_id": 1, "connectors": [
    {"connector_id": 1, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE",
     "max_voltage": 230, "max_amperage": 32, "max_electric_power": 22080}]}]
SITE = {"name": "Square", "address": "Plein 3", "city": "Den Haag", "country": "NLD", "latitude": "52.08000",
        "longitude": "4.31000", "time_zone": "Europe/Amsterdam"}
TOKEN = {"country_code": "DE", "party_id": "EMP", "uid": "APP-USER-0001", "type": "APP_USER",
         "contract_id": "DE-EMP-C2", "issuer": "Test eMSP", "valid": True, "whitelist": "NEVER",
         "last_updated": "2026-11-01T10:00:00Z"}


def now() -> str:
    return datetime.now(UTC).isoformat()


class Station(Cp16):
    @on("RemoteStartTransaction")
    def remote_start(self, id_tag, connector_id=None, **kwargs):  # noqa: ANN001, ANN003
        return result16.RemoteStartTransaction(status="Accepted")

    @after("RemoteStartTransaction")
    async def begin(self, id_tag, connector_id=None, **kwargs):  # noqa: ANN001, ANN003
        reply = await self.call(call16.StartTransaction(connector_id=connector_id or 1, id_tag=id_tag,
                                                        meter_start=0, timestamp=now()), suppress=False)
        self.transaction_id = reply.transaction_id

    @on("RemoteStopTransaction")
    def remote_stop(self, transaction_id, **kwargs):  # noqa: ANN001, ANN003
        return result16.RemoteStopTransaction(status="Accepted")

    @after("RemoteStopTransaction")
    async def end(self, transaction_id, **kwargs):  # noqa: ANN001, ANN003
        await self.call(call16.StopTransaction(meter_stop=1500, timestamp=now(), transaction_id=transaction_id,
                                               reason="Remote"), suppress=False)

    @on("UnlockConnector")
    def unlock(self, connector_id, **kwargs):  # noqa: ANN001, ANN003
        return result16.UnlockConnector(status="Unlocked")


async def site_with_charger(sandbox: Sandbox, reg: RegisteredEmsp, identity: str) -> dict:
    site = (await sandbox.api.post("/api/locations", json={**SITE, "cpo_party_id": reg.party["id"]})).json()
    tenant = (await sandbox.api.get("/api/tenants")).json()[0]["id"]
    async with sandbox.service("csms").sessions() as session:
        session.add(Charger(tenant_id=tenant, identity=identity, location_id=site["id"], ocpp_version="1.6",
                            config={}, hardware=HARDWARE))
        await session.commit()
    return site


async def result_of(reg: RegisteredEmsp, ref: str, timeout: float = 10.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while ref not in reg.emsp.command_results:
        assert asyncio.get_running_loop().time() < deadline, f"no CommandResult for {ref}"
        await asyncio.sleep(0.05)
    return reg.emsp.command_results[ref]


async def test_start_stop_and_unlock_by_command(sandbox: Sandbox):
    async with registered_emsp(sandbox, "2.2.1") as reg:
        site = await site_with_charger(sandbox, reg, "CMD-CP-1")
        async with websockets.connect(f"{sandbox.csms_url}/CMD-CP-1", subprotocols=["ocpp1.6"]) as ws:
            cp = Station("CMD-CP-1", ws)
            loop = asyncio.create_task(cp.start())
            await cp.call(call16.BootNotification(charge_point_vendor="T", charge_point_model="M"))

            start = await reg.client.post(reg.url("commands/START_SESSION"), json={
                "response_url": reg.emsp.response_url("start"), "token": TOKEN, "location_id": site["ocpi_id"],
                "evse_uid": "CMD-CP-1-1", "authorization_reference": "AUTH-77"})
            assert start.json()["data"] == {"result": "ACCEPTED", "timeout": 30}
            assert (await result_of(reg, "start"))["result"] == "ACCEPTED"

            async def active_session() -> list:
                reply = await reg.client.get(reg.url("sessions?date_from=2020-01-01T00:00:00Z"))
                return reply.json()["data"]

            deadline = asyncio.get_running_loop().time() + 10
            while not (sessions := await active_session()):
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.05)
            [s] = sessions
            assert (s["auth_method"], s["authorization_reference"], s["cdr_token"]["uid"]) == \
                ("COMMAND", "AUTH-77", "APP-USER-0001")

            stop = await reg.client.post(reg.url("commands/STOP_SESSION"), json={
                "response_url": reg.emsp.response_url("stop"), "session_id": s["id"]})
            assert stop.json()["data"]["result"] == "ACCEPTED"
            assert (await result_of(reg, "stop"))["result"] == "ACCEPTED"

            unlock = await reg.client.post(reg.url("commands/UNLOCK_CONNECTOR"), json={
                "response_url": reg.emsp.response_url("unlock"), "location_id": site["ocpi_id"],
                "evse_uid": "CMD-CP-1-1", "connector_id": "1"})
            assert unlock.json()["data"]["result"] == "ACCEPTED"
            assert (await result_of(reg, "unlock"))["result"] == "ACCEPTED"
            loop.cancel()
        deadline = asyncio.get_running_loop().time() + 10
        while not (await reg.client.get(reg.url("cdrs"))).json()["data"]:
            assert asyncio.get_running_loop().time() < deadline, "no CDR"
            await asyncio.sleep(0.05)
        log = (await sandbox.api.get(f"/api/partners/{reg.party['partner_id']}/log")).json()["items"]
        assert any(e["direction"] == "outbound" and e["url"].endswith("/emsp/results/start") for e in log)


async def test_offline_charger_unknown_location_and_unknown_session(sandbox: Sandbox):
    async with registered_emsp(sandbox, "2.3.0") as reg:
        site = await site_with_charger(sandbox, reg, "CMD-OFFLINE")
        accepted = await reg.client.post(reg.url("commands/START_SESSION"), json={
            "response_url": reg.emsp.response_url("offline"), "token": TOKEN, "location_id": site["ocpi_id"]})
        assert accepted.json()["data"]["result"] == "ACCEPTED"
        result = await result_of(reg, "offline")
        assert result["result"] == "EVSE_INOPERATIVE" and "not connected" in result["message"][0]["text"]
        unknown = await reg.client.post(reg.url("commands/START_SESSION"), json={
            "response_url": reg.emsp.response_url("x"), "token": TOKEN, "location_id": "NOWHERE"})
        assert unknown.status_code == 200 and unknown.json()["status_code"] == 2003
        assert unknown.json()["data"]["result"] == "REJECTED"
        no_session = await reg.client.post(reg.url("commands/STOP_SESSION"), json={
            "response_url": reg.emsp.response_url("y"), "session_id": "nope"})
        assert no_session.json()["data"]["result"] == "UNKNOWN_SESSION"
        weird = await reg.client.post(reg.url("commands/TELEPORT"), json={})
        assert weird.json()["data"]["result"] == "NOT_SUPPORTED"
        bad = await reg.client.post(reg.url("commands/START_SESSION"), json={"token": TOKEN})
        assert bad.json()["status_code"] == 2001
