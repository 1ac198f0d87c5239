"""Chargers made through the management API are live simulated stations on the embedded CSMS: they boot, report
status, and an eMSP's START_SESSION becomes a real remote start that the simulator carries out (1.6 and 2.0.1)."""

from __future__ import annotations


import pytest

from tests.conftest import Sandbox
from tests.ocpi.test_commands_module import TOKEN
from tests.peers.registration import registered_emsp
from tests.peers.waiting import eventually

SITE = {"name": "Sim Site", "address": "Simweg 1", "city": "Delft", "country": "NLD", "latitude": "52.01160",
        "longitude": "4.35710", "time_zone": "Europe/Amsterdam"}


@pytest.mark.parametrize("model, version", [("homebox-7c", "1.6"), ("homebox-7c", "2.0.1")])
async def test_api_charger_boots_and_runs_an_ocpi_remote_session(sandbox: Sandbox, model: str, version: str):
    async with registered_emsp(sandbox, "2.2.1") as reg:
        site = (await sandbox.api.post("/api/locations", json={**SITE, "cpo_party_id": reg.party["id"]})).json()
        created = await sandbox.api.post("/api/chargers", json={
            "location_id": site["id"], "brand_slug": "voltstream", "model_slug": model, "ocpp_version": version,
            "identity": f"SIM-{version}"})
        assert created.status_code == 201, created.text
        charger = created.json()

        async def booted():
            state = (await sandbox.api.get(f"/api/chargers/{charger['id']}")).json()["state"]
            return state if state["connected"] and state["boot_status"] == "Accepted" and state["connectors"] else None

        state = await eventually(booted)
        assert state["simulated"] and state["connectors"][0]["status"] == "Available"

        start = await reg.client.post(reg.url("commands/START_SESSION"), json={
            "response_url": reg.emsp.response_url("start"), "token": TOKEN, "location_id": site["ocpi_id"],
            "evse_uid": f"SIM-{version}-1"})
        assert start.json()["data"]["result"] == "ACCEPTED"

        async def result():
            return reg.emsp.command_results.get("start")

        assert (await eventually(result))["result"] == "ACCEPTED"

        async def session():
            found = (await reg.client.get(reg.url("sessions?date_from=2020-01-01T00:00:00Z"))).json()["data"]
            return found[0] if found else None

        s = await eventually(session)
        assert s["auth_method"] == "COMMAND" and s["status"] == "ACTIVE"
        stop = await reg.client.post(reg.url("commands/STOP_SESSION"), json={
            "response_url": reg.emsp.response_url("stop"), "session_id": s["id"]})
        assert stop.json()["data"]["result"] == "ACCEPTED"

        async def cdr():
            return (await reg.client.get(reg.url("cdrs"))).json()["data"]

        [the_cdr] = await eventually(cdr)
        assert the_cdr["session_id"] == s["id"]
        await sandbox.service("frame_log").flush()
        frames = (await sandbox.api.get(f"/api/chargers/{charger['id']}/logs", params={"limit": 500})).json()["items"]
        actions = {f["action"] for f in frames}
        expected = {"BootNotification", "StatusNotification"} | (
            {"RemoteStartTransaction", "StartTransaction", "StopTransaction"} if version == "1.6"
            else {"RequestStartTransaction", "TransactionEvent"})
        assert expected <= actions
        assert {f["side"] for f in frames} == {"simulator"}  # logged once, by the simulator


async def test_2_0_1_transaction_started_at_plug_in_becomes_an_ocpi_session_once_the_token_arrives(sandbox: Sandbox):
    """OCPP 2.0.1's default TxStartPoint starts the transaction when the cable goes in, before any token: the
    START_SESSION that follows authorizes it, and only then does it become the eMSP's OCPI session."""
    async with registered_emsp(sandbox, "2.2.1") as reg:
        site = (await sandbox.api.post("/api/locations", json={**SITE, "cpo_party_id": reg.party["id"]})).json()
        charger = (await sandbox.api.post("/api/chargers", json={
            "location_id": site["id"], "brand_slug": "voltstream", "model_slug": "homebox-7c", "ocpp_version": "2.0.1",
            "identity": "PLUG-FIRST"})).json()

        async def booted():
            state = (await sandbox.api.get(f"/api/chargers/{charger['id']}")).json()["state"]
            return state["connected"] and state["boot_status"] == "Accepted"

        await eventually(booted)
        plugged = await sandbox.api.post(f"/api/chargers/{charger['id']}/commands/plug-in")
        assert plugged.status_code == 200, plugged.text

        async def started_without_token():
            state = (await sandbox.api.get(f"/api/chargers/{charger['id']}")).json()["state"]
            return state["transaction"]

        assert (await eventually(started_without_token))["id_token"] is None
        start = await reg.client.post(reg.url("commands/START_SESSION"), json={
            "response_url": reg.emsp.response_url("start"), "token": TOKEN, "location_id": site["ocpi_id"],
            "evse_uid": "PLUG-FIRST-1"})
        assert start.json()["data"]["result"] == "ACCEPTED"

        async def session():
            found = (await reg.client.get(reg.url("sessions?date_from=2020-01-01T00:00:00Z"))).json()["data"]
            return found[0] if found else None

        s = await eventually(session)
        assert s["auth_method"] == "COMMAND" and s["cdr_token"]["uid"] == TOKEN["uid"]
        assert (await eventually(lambda: _result(reg)))["result"] == "ACCEPTED"


async def _result(reg):  # noqa: ANN001, ANN202
    return reg.emsp.command_results.get("start")
