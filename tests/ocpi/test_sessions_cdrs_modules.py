"""OCPI Sessions and CDRs, CPO as Sender: a transaction with an eMSP's token, run by a charge point built with
the `ocpp` package on the embedded CSMS, comes out as a Session and a CDR priced from the connector's tariff."""

from __future__ import annotations

import asyncio
import json

import jsonschema
import pytest
import websockets
from ocpp.v16 import ChargePoint as Cp16
from ocpp.v16 import call as call16

from ocpi_sandbox.db.models import Charger
from ocpi_sandbox.paths import data_dir
from tests.conftest import Sandbox
from tests.peers.registration import registered_emsp

TARIFF = {"currency": "EUR", "tax_included": "NO", "elements": [{"price_components": [
    {"type": "ENERGY", "price": 0.30, "vat": 21.0, "step_size": 1},
    {"type": "TIME", "price": 2.00, "vat": 21.0, "step_size": 60}]}]}
HARDWARE = [{"evse_id": 1, "connectors": [
    {"connector_id": 1, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE",
     "max_voltage": 230, "max_amperage": 16, "max_electric_power": 11040, "tariff_ids": ["AC-11"]}]}]
SITE = {"name": "Office", "address": "Laan 2", "city": "Utrecht", "country": "NLD", "latitude": "52.09074",
        "longitude": "5.12142", "time_zone": "Europe/Amsterdam"}
TOKEN = {"country_code": "DE", "party_id": "EMP", "uid": "04AABBCC", "type": "RFID", "contract_id": "DE-EMP-C1",
         "issuer": "Test eMSP", "valid": True, "whitelist": "ALWAYS", "last_updated": "2026-11-01T10:00:00Z"}


def schema(version: str, name: str) -> jsonschema.Draft202012Validator:
    text = (data_dir("ocpi_modules") / version / "schemas" / f"{name}.json").read_text()
    return jsonschema.Draft202012Validator(json.loads(text))


async def run_transaction(sandbox: Sandbox, identity: str) -> None:
    """One hour at 10 kW: 10 kWh between 09:00 and 10:00 local (UTC+1 in November)."""
    async with websockets.connect(f"{sandbox.csms_url}/{identity}", subprotocols=["ocpp1.6"]) as ws:
        cp = Cp16(identity, ws)
        loop = asyncio.create_task(cp.start())
        await cp.call(call16.BootNotification(charge_point_vendor="T", charge_point_model="M"))
        start = await cp.call(call16.StartTransaction(connector_id=1, id_tag="04aabbcc", meter_start=1000,
                                                      timestamp="2026-11-02T08:00:00Z"), suppress=False)
        for minute, wh in ((20, 4333), (40, 7667)):
            await cp.call(call16.MeterValues(connector_id=1, transaction_id=start.transaction_id, meter_value=[
                {"timestamp": f"2026-11-02T08:{minute:02d}:00Z", "sampled_value": [
                    {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                    {"value": "10000", "measurand": "Power.Active.Import", "unit": "W"}]}]), suppress=False)
        await cp.call(call16.StopTransaction(meter_stop=11000, timestamp="2026-11-02T09:00:00Z",
                                             transaction_id=start.transaction_id, reason="Local"), suppress=False)
        loop.cancel()


async def pulled(reg, path: str, timeout: float = 10.0) -> list[dict]:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        reply = await reg.client.get(reg.url(path))
        assert reply.status_code == 200, reply.text
        data = reply.json()["data"]
        if data or asyncio.get_running_loop().time() > deadline:
            return data
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
async def test_transaction_with_emsp_token_becomes_session_and_priced_cdr(sandbox: Sandbox, version: str):
    async with registered_emsp(sandbox, version) as reg:
        party = reg.party["id"]
        await sandbox.api.post(f"/api/parties/{party}/tariffs", json={"id": "AC-11", "tariff": TARIFF})
        site = (await sandbox.api.post("/api/locations", json={**SITE, "cpo_party_id": party})).json()
        tenant = (await sandbox.api.get("/api/tenants")).json()[0]["id"]
        async with sandbox.service("csms").sessions() as session:
            session.add(Charger(tenant_id=tenant, identity="SES-CP-1", location_id=site["id"], ocpp_version="1.6",
                                config={}, hardware=HARDWARE))
            await session.commit()
        assert (await reg.client.put(reg.url("tokens/DE/EMP/04AABBCC"), json=TOKEN)).status_code == 201

        await run_transaction(sandbox, "SES-CP-1")

        cdrs = await pulled(reg, "cdrs")
        [sessions] = [await pulled(reg, "sessions?date_from=2026-01-01T00:00:00Z")]
        [s] = sessions
        assert (s["status"], s["kwh"], s["location_id"], s["evse_uid"]) == ("COMPLETED", 10.0, site["ocpi_id"],
                                                                          "SES-CP-1-1")
        assert s["cdr_token"]["uid"] == "04AABBCC" and s["auth_method"] == "WHITELIST"
        schema(version, "Session").validate(s)
        [cdr] = cdrs
        schema(version, "CDR").validate(cdr)
        assert cdr["session_id"] == s["id"] and cdr["total_energy"] == 10.0 and cdr["total_time"] == 1.0
        assert cdr["cdr_location"]["evse_id"] == "NL*SBX*ESESCP1*1"
        assert cdr["tariffs"][0]["id"] == "AC-11"
        # The eMSP can recompute the bill: 10 kWh x 0.30 + 1 h x 2.00 = 5.00 excl. VAT, 6.05 incl.
        if version == "2.2.1":
            assert cdr["total_cost"] == {"excl_vat": 5.0, "incl_vat": 6.05}
            assert cdr["total_energy_cost"] == {"excl_vat": 3.0, "incl_vat": 3.63}
        else:
            assert cdr["total_cost"] == {"before_taxes": 5.0, "taxes": [{"name": "VAT", "amount": 1.05}]}
        energy = sum(d["volume"] for p in cdr["charging_periods"] for d in p["dimensions"] if d["type"] == "ENERGY")
        assert energy == pytest.approx(10.0)
        no_date = await reg.client.get(reg.url("sessions"))
        assert no_date.json()["status_code"] == 2001 and "date_from" in no_date.json()["status_message"]


async def test_transactions_with_unknown_tokens_make_no_session(sandbox: Sandbox):
    async with registered_emsp(sandbox) as reg:
        site = (await sandbox.api.post("/api/locations", json={**SITE, "cpo_party_id": reg.party["id"]})).json()
        tenant = (await sandbox.api.get("/api/tenants")).json()[0]["id"]
        async with sandbox.service("csms").sessions() as session:
            session.add(Charger(tenant_id=tenant, identity="SES-CP-2", location_id=site["id"], ocpp_version="1.6",
                                config={}, hardware=HARDWARE))
            await session.commit()
        await run_transaction(sandbox, "SES-CP-2")
        await sandbox.service("bus").drain()
        assert (await reg.client.get(reg.url("sessions?date_from=2026-01-01T00:00:00Z"))).json()["data"] == []
        assert (await reg.client.get(reg.url("cdrs"))).json()["data"] == []
