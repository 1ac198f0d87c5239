"""Pushes to the eMSP's own Receiver endpoints: Session PUT then PATCHes, the CDR POST, EVSE status PATCHes —
in order per object, queued while the eMSP is down and delivered once it is back, visible in the management
API."""

from __future__ import annotations

import asyncio

import websockets
from ocpp.v16 import ChargePoint as Cp16
from ocpp.v16 import call as call16

from ocpi_sandbox.db.models import Charger
from tests.conftest import Sandbox
from tests.ocpi.test_sessions_cdrs_modules import HARDWARE, SITE, TARIFF, TOKEN
from tests.peers.registration import registered_emsp
from tests.peers.waiting import eventually


async def test_session_and_cdr_pushes_survive_an_emsp_outage_in_order(sandbox: Sandbox):
    async with registered_emsp(sandbox, "2.2.1") as reg:
        party = reg.party["id"]
        await sandbox.api.post(f"/api/parties/{party}/tariffs", json={"id": "AC-11", "tariff": TARIFF})
        site = (await sandbox.api.post("/api/locations", json={**SITE, "cpo_party_id": party})).json()
        tenant = (await sandbox.api.get("/api/tenants")).json()[0]["id"]
        async with sandbox.service("csms").sessions() as session:
            session.add(Charger(tenant_id=tenant, identity="PUSH-CP", location_id=site["id"], ocpp_version="1.6",
                                config={}, hardware=HARDWARE))
            await session.commit()
        await reg.client.put(reg.url("tokens/DE/EMP/04AABBCC"), json=TOKEN)
        reg.emsp.down = True  # the eMSP is in maintenance for the whole session
        async with websockets.connect(f"{sandbox.csms_url}/PUSH-CP", subprotocols=["ocpp1.6"]) as ws:
            cp = Cp16("PUSH-CP", ws)
            loop = asyncio.create_task(cp.start())
            await cp.call(call16.BootNotification(charge_point_vendor="T", charge_point_model="M"))
            await cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
            start = await cp.call(call16.StartTransaction(connector_id=1, id_tag="04AABBCC", meter_start=0,
                                                          timestamp="2026-11-02T08:00:00Z"), suppress=False)
            await cp.call(call16.MeterValues(connector_id=1, transaction_id=start.transaction_id, meter_value=[
                {"timestamp": "2026-11-02T08:30:00Z", "sampled_value": [{"value": "5000"}]}]))
            await cp.call(call16.StopTransaction(meter_stop=9000, timestamp="2026-11-02T09:00:00Z",
                                                 transaction_id=start.transaction_id), suppress=False)
            # The charger's events are handled (its EVSE rendered CHARGING) before it hangs up: a batch of location
            # touches handled after the hang-up renders the state then (UNKNOWN), not the one it passed through.
            await sandbox.service("bus").drain()
            loop.cancel()
        pushes_api = f"/api/partners/{reg.party['partner_id']}/pushes"

        def pending_seen() -> bool:  # the session PUT was tried (and refused) at least once
            return any(r["method"] == "PUT" and "/sessions/" in r["path"] for r in reg.emsp.received)

        await eventually(pending_seen, 15, 0.05, "a session PUT refused")

        async def all_pending() -> list[dict] | None:
            # The CDR is made once the transaction's end has gone through the event bus: it may be queued a moment
            # after the session's PUT was first refused.
            waiting = (await sandbox.api.get(pushes_api, params={"state": "pending"})).json()
            return waiting if {p["kind"] for p in waiting} >= {"session_put", "cdr_post", "evse_patch"} else None

        waiting = await eventually(all_pending, 15, 0.05, "session PUT, CDR POST and EVSE PATCH pending")
        assert any(p["last_status"] == 503 for p in waiting)
        reg.emsp.down = False
        await eventually(lambda: any(m == "POST" for m, _, _ in reg.emsp.pushes), 15, 0.05, "the CDR POST")
        await eventually(lambda: len([p for p in reg.emsp.pushes if "/sessions/" in p[1]]) >= 2, 15, 0.05,
                         "two session pushes")
        session_pushes = [(m, body) for m, path, body in reg.emsp.pushes if "/sessions/" in path]
        assert session_pushes[0][0] == "PUT" and session_pushes[0][1]["status"] == "ACTIVE"
        assert session_pushes[-1][0] == "PATCH" and session_pushes[-1][1]["status"] == "COMPLETED"
        assert session_pushes[-1][1]["kwh"] == 9.0
        [cdr] = [body for m, _, body in reg.emsp.pushes if m == "POST"]
        assert cdr["total_energy"] == 9.0 and cdr["session_id"] == session_pushes[0][1]["id"]

        async def drained() -> bool:
            return not (await sandbox.api.get(pushes_api, params={"state": "pending"})).json()

        await eventually(drained, 30, 0.2, "every push sent (none pending)")
        # The site was new to the eMSP: a Location PUT first, then its EVSE, then status PATCHes, in order.
        locations = [(m, path, body) for m, path, body in reg.emsp.pushes if "/locations/" in path]
        assert locations[0][0] == "PUT" and locations[0][2]["id"] == site["ocpi_id"]
        statuses = [body["status"] for m, path, body in locations[1:]]
        # ...CHARGING while the transaction ran, UNKNOWN once the charge point hung up (offline: OCPI UNKNOWN).
        assert "CHARGING" in statuses and statuses[-1] == "UNKNOWN", statuses
        assert reg.emsp.schema_errors == []
        delivered = (await sandbox.api.get(pushes_api, params={"state": "delivered"})).json()
        cdr_push = next(p for p in delivered if p["kind"] == "cdr_post")
        assert cdr_push["location"].endswith(f"/emsp/cdrs/{cdr['id']}")
        # The session PUT was queued while the eMSP answered 503: it got there on a later attempt.
        assert next(p for p in delivered if p["kind"] == "session_put")["attempts"] >= 2
        again = await sandbox.api.post(f"{pushes_api}/{cdr_push['id']}/retry")
        assert again.status_code == 200 and again.json()["state"] == "pending"
        await eventually(lambda: len([1 for m, _, _ in reg.emsp.pushes if m == "POST"]) == 2, 15, 0.05,
                         "two CDR POSTs")
