"""OCPI Locations, CPO as Sender: sites with their EVSEs, whose status follows the charger's own reports to the
embedded CSMS (a charge point built with the `ocpp` package, over a real WebSocket)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import jsonschema
import pytest
import websockets
from ocpp.v16 import ChargePoint as Cp16
from ocpp.v16 import call as call16
from ocpp.v201 import ChargePoint as Cp201
from ocpp.v201 import call as call201

from ocpi_sandbox.db.models import Charger
from ocpi_sandbox.paths import data_dir
from tests.conftest import Sandbox
from tests.peers.registration import registered_emsp
from tests.peers.waiting import eventually

HARDWARE = [{"evse_id": 1, "capabilities": ["REMOTE_START_STOP_CAPABLE"], "connectors": [
    {"connector_id": 1, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE",
     "max_voltage": 230, "max_amperage": 32, "max_electric_power": 22080, "tariff_ids": ["AC-1"]}]}]
SITE = {"name": "Depot", "address": "Kade 1", "city": "Rotterdam", "country": "NLD", "latitude": "51.92250",
        "longitude": "4.47917", "time_zone": "Europe/Amsterdam"}


def now() -> str:
    return datetime.now(UTC).isoformat()


async def add_charger(sandbox: Sandbox, reg, identity: str, version: str) -> dict:  # noqa: ANN001
    site = (await sandbox.api.post("/api/locations", json={**SITE, "cpo_party_id": reg.party["id"]})).json()
    async with sandbox.service("csms").sessions() as session:
        session.add(Charger(tenant_id=(await sandbox.api.get("/api/tenants")).json()[0]["id"], identity=identity,
                            location_id=site["id"], ocpp_version=version, config={}, hardware=HARDWARE))
        await session.commit()
    return site


async def evse(reg, site: dict) -> dict:  # noqa: ANN001
    reply = await reg.client.get(reg.url(f"locations/{site['ocpi_id']}"))
    assert reply.status_code == 200, reply.text
    return reply.json()["data"]["evses"][0]


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
async def test_evse_status_follows_a_16_charger(sandbox: Sandbox, version: str):
    async with registered_emsp(sandbox, version) as reg:
        site = await add_charger(sandbox, reg, "LOC-CP-16", "1.6")
        first = await evse(reg, site)
        assert first["status"] == "UNKNOWN" and first["uid"] == "LOC-CP-16-1"
        assert first["evse_id"] == "NL*SBX*ELOCCP16*1"
        async with websockets.connect(f"{sandbox.csms_url}/LOC-CP-16", subprotocols=["ocpp1.6"]) as ws:
            cp = Cp16("LOC-CP-16", ws)
            loop = asyncio.create_task(cp.start())
            await cp.call(call16.BootNotification(charge_point_vendor="T", charge_point_model="M"))
            await cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Available"))

            async def available():
                e = await evse(reg, site)
                return e if e["status"] == "AVAILABLE" else None

            before = await eventually(available)
            await cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="SuspendedEV"))

            async def charging():
                e = await evse(reg, site)
                return e if e["status"] == "CHARGING" else None

            after = await eventually(charging)
            assert after["last_updated"] >= before["last_updated"]
            loop.cancel()

        async def offline():
            e = await evse(reg, site)
            return e if e["status"] == "UNKNOWN" else None

        await eventually(offline)
        listed = (await reg.client.get(reg.url("locations"))).json()["data"]
        validator = jsonschema.Draft202012Validator(json.loads(
            (data_dir("ocpi_modules") / version / "schemas" / "Location.json").read_text()))
        for location in listed:
            validator.validate(location)
        assert listed[0]["evses"][0]["connectors"][0]["tariff_ids"] == ["AC-1"]


async def test_201_occupied_is_charging_and_single_objects_resolve(sandbox: Sandbox):
    async with registered_emsp(sandbox, "2.3.0") as reg:
        site = await add_charger(sandbox, reg, "LOC-CS-201", "2.0.1")
        async with websockets.connect(f"{sandbox.csms_url}/LOC-CS-201", subprotocols=["ocpp2.0.1"]) as ws:
            cp = Cp201("LOC-CS-201", ws)
            loop = asyncio.create_task(cp.start())
            await cp.call(call201.BootNotification(charging_station={"model": "M", "vendor_name": "V"},
                                                   reason="PowerUp"))
            await cp.call(call201.StatusNotification(timestamp=now(), connector_status="Occupied", evse_id=1,
                                                     connector_id=1))

            async def charging():
                e = await evse(reg, site)
                return e if e["status"] == "CHARGING" else None

            await eventually(charging)
            one_evse = await reg.client.get(reg.url(f"locations/{site['ocpi_id']}/LOC-CS-201-1"))
            assert one_evse.json()["data"]["status"] == "CHARGING"
            connector = await reg.client.get(reg.url(f"locations/{site['ocpi_id']}/LOC-CS-201-1/1"))
            assert connector.json()["data"]["standard"] == "IEC_62196_T2"
            missing = await reg.client.get(reg.url(f"locations/{site['ocpi_id']}/LOC-CS-201-9"))
            assert missing.status_code == 404
            loop.cancel()


async def test_locations_of_other_parties_are_not_listed(sandbox: Sandbox):
    async with registered_emsp(sandbox) as reg:
        await sandbox.api.post("/api/locations", json=SITE)  # bound to no party: not published
        assert (await reg.client.get(reg.url("locations"))).json()["data"] == []
        assert (await reg.client.get(reg.url("locations/NOPE"))).status_code == 404
