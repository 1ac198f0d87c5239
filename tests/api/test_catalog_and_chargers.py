"""Catalog and chargers through the management API: a charger made from a catalog model is published as OCPI
EVSEs, and an OCPP client connecting as its identity brings its state and its frame log to life."""

from __future__ import annotations

import asyncio

import websockets
from ocpp.v16 import ChargePoint as Cp16
from ocpp.v16 import call as call16

from ocpi_sandbox.domain.catalog import load_catalog
from tests.conftest import Sandbox
from tests.peers.registration import registered_emsp

SITE = {"name": "Hub", "address": "Weg 9", "city": "Eindhoven", "country": "NLD", "latitude": "51.44164",
        "longitude": "5.46972", "time_zone": "Europe/Amsterdam"}


def test_catalog_covers_the_segments_the_issue_asks_for():
    catalog = load_catalog()
    assert len(catalog.brands) >= 8 and len(catalog.models) >= 20
    assert all(m.simulated for m in catalog.models)
    standards = {c.standard for m in catalog.models for e in m.evses for c in e.connectors}
    assert {"IEC_62196_T2", "IEC_62196_T2_COMBO", "CHADEMO", "IEC_62196_T1", "IEC_62196_T1_COMBO", "SAE_J3400"} <= standards
    powers = {m.max_power_w for m in catalog.models}
    assert any(p >= 300_000 for p in powers) and any(m.station_max_power_w for m in catalog.models)


async def test_catalog_routes(sandbox: Sandbox):
    brands = (await sandbox.api.get("/api/catalog/brands")).json()
    assert len(brands) >= 8 and all(b["models"] > 0 for b in brands)
    models = (await sandbox.api.get(f"/api/catalog/brands/{brands[0]['slug']}/models")).json()
    detail = (await sandbox.api.get(f"/api/catalog/brands/{brands[0]['slug']}/models/{models[0]['slug']}")).json()
    assert detail["evse_connectors"] and detail["ocpp16_configuration"]["HeartbeatInterval"]
    missing = await sandbox.api.get("/api/catalog/brands/nope/models")
    assert missing.status_code == 404 and "valid brands" in missing.json()["message"]


async def test_charger_from_a_model_is_published_and_comes_alive(sandbox: Sandbox):
    async with registered_emsp(sandbox, "2.2.1") as reg:
        site = (await sandbox.api.post("/api/locations", json={**SITE, "cpo_party_id": reg.party["id"]})).json()
        unknown_tariff = await sandbox.api.post("/api/chargers", json={
            "location_id": site["id"], "brand_slug": "voltstream", "model_slug": "homebox-7", "tariff_ids": ["AC-1"]})
        assert unknown_tariff.status_code == 404 and "AC-1" in unknown_tariff.json()["message"]
        await sandbox.api.post(f"/api/parties/{reg.party['id']}/tariffs", json={"id": "AC-1", "tariff": {
            "currency": "EUR", "tax_included": "NO", "elements": [{"price_components": [
                {"type": "ENERGY", "price": 0.3, "step_size": 1}]}]}})
        bad = await sandbox.api.post("/api/chargers", json={"location_id": site["id"], "brand_slug": "voltstream",
                                                            "model_slug": "mega-9000"})
        assert bad.status_code == 422 and "homebox-7" in bad.json()["message"]
        created = await sandbox.api.post("/api/chargers", json={
            "location_id": site["id"], "brand_slug": "voltstream", "model_slug": "homebox-7", "identity": "HB-1",
            "tariff_ids": ["AC-1"], "simulate": False})  # this test connects its own charge point as HB-1
        assert created.status_code == 201, created.text
        charger = created.json()
        assert charger["ocpp_version"] == "1.6" and charger["state"]["connected"] is False
        dup = await sandbox.api.post("/api/chargers", json={"location_id": site["id"], "brand_slug": "voltstream",
                                                            "model_slug": "homebox-7", "identity": "HB-1"})
        assert dup.status_code == 409
        [evse] = (await reg.client.get(reg.url(f"locations/{site['ocpi_id']}"))).json()["data"]["evses"]
        assert evse["connectors"][0]["max_electric_power"] == 7360 and evse["connectors"][0]["tariff_ids"] == ["AC-1"]

        async with websockets.connect(f"{sandbox.csms_url}/HB-1", subprotocols=["ocpp1.6"]) as ws:
            cp = Cp16("HB-1", ws)
            loop = asyncio.create_task(cp.start())
            await cp.call(call16.BootNotification(charge_point_vendor="Voltstream", charge_point_model="HB7-S1P32"))
            await cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
            state = (await sandbox.api.get(f"/api/chargers/{charger['id']}")).json()["state"]
            assert state["connected"] and state["boot_status"] == "Accepted"
            assert state["connectors"] == [{"evse_id": 1, "connector_id": 1, "status": "Available", "error_code": None}]
            loop.cancel()
        await sandbox.service("frame_log").flush()
        page = (await sandbox.api.get(f"/api/chargers/{charger['id']}/logs", params={"limit": 2})).json()
        assert len(page["items"]) == 2 and page["next_before"]
        boot = (await sandbox.api.get(f"/api/chargers/{charger['id']}/logs",
                                      params={"action": "BootNotification"})).json()["items"]
        assert [(f["direction"], f["message_type"]) for f in boot] == [("received", 3), ("sent", 2)]
        at_site = (await sandbox.api.get(f"/api/locations/{site['id']}/chargers")).json()
        assert [c["identity"] for c in at_site] == ["HB-1"]
        assert (await sandbox.api.delete(f"/api/chargers/{charger['id']}")).status_code == 204
