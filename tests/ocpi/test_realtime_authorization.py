"""A card swipe at a charger (Authorize from a charge point built with the `ocpp` package) is decided by the
eMSP's token rules: whitelist tokens locally, NEVER and unknown tokens by real-time authorization, and the
session that follows carries the eMSP's authorization reference."""

from __future__ import annotations

import asyncio

import websockets
from ocpp.v16 import ChargePoint as Cp16
from ocpp.v16 import call as call16

from ocpi_sandbox.db.models import Charger
from tests.conftest import Sandbox
from tests.ocpi.test_sessions_cdrs_modules import HARDWARE, SITE, TOKEN
from tests.peers.registration import registered_emsp


async def test_swipes_follow_whitelist_rules_and_realtime_answers(sandbox: Sandbox):
    async with registered_emsp(sandbox, "2.2.1") as reg:
        site = (await sandbox.api.post("/api/locations", json={**SITE, "cpo_party_id": reg.party["id"]})).json()
        tenant = (await sandbox.api.get("/api/tenants")).json()[0]["id"]
        async with sandbox.service("csms").sessions() as session:
            session.add(Charger(tenant_id=tenant, identity="RTA-CP", location_id=site["id"], ocpp_version="1.6",
                                config={}, hardware=HARDWARE))
            await session.commit()
        tokens = {"NEVER01": ("NEVER", True), "ALWAYS01": ("ALWAYS", False), "OFFLINE01": ("ALLOWED_OFFLINE", True)}
        for uid, (whitelist, valid) in tokens.items():
            body = {**TOKEN, "uid": uid, "whitelist": whitelist, "valid": valid}
            assert (await reg.client.put(reg.url(f"tokens/DE/EMP/{uid}"), json=body)).status_code == 201
        reg.emsp.authorizations = {"NEVER01": "ALLOWED", "STRANGER1": "BLOCKED"}

        async with websockets.connect(f"{sandbox.csms_url}/RTA-CP", subprotocols=["ocpp1.6"]) as ws:
            cp = Cp16("RTA-CP", ws)
            loop = asyncio.create_task(cp.start())
            await cp.call(call16.BootNotification(charge_point_vendor="T", charge_point_model="M"))

            async def swipe(uid: str) -> str:
                return (await cp.call(call16.Authorize(id_tag=uid), suppress=False)).id_tag_info["status"]

            assert await swipe("NEVER01") == "Accepted"          # asked the eMSP: ALLOWED
            assert await swipe("ALWAYS01") == "Invalid"          # whitelist ALWAYS, valid=false: refused locally
            assert await swipe("STRANGER1") == "Blocked"         # unknown here: the eMSP knows it, BLOCKED
            reg.emsp.down = True
            assert await swipe("OFFLINE01") == "Accepted"        # eMSP unreachable, ALLOWED_OFFLINE and valid
            reg.emsp.down = False
            asked = [uid for uid, _ in reg.emsp.authorize_requests]
            assert "ALWAYS01" not in asked and asked[:2] == ["NEVER01", "STRANGER1"]
            assert reg.emsp.authorize_requests[0][1] == {"location_id": site["ocpi_id"], "evse_uids": ["RTA-CP-1"]}

            start = await cp.call(call16.StartTransaction(connector_id=1, id_tag="NEVER01", meter_start=0,
                                                          timestamp="2026-11-23T10:00:00Z"), suppress=False)
            assert start.id_tag_info["status"] == "Accepted"
            loop.cancel()

        deadline = asyncio.get_running_loop().time() + 10
        while not (found := (await reg.client.get(reg.url("sessions?date_from=2020-01-01T00:00:00Z"))).json()["data"]):
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
        assert (found[0]["auth_method"], found[0]["authorization_reference"]) == ("AUTH_REQUEST", "REF-NEVER01")
