"""A sandbox restarted mid-transaction brings its simulated chargers back: they reconnect to the embedded CSMS and
the transaction goes on from the saved state (same transaction, meter register never going back)."""

from __future__ import annotations

import asyncio
import json

from tests.conftest import run_sandbox
from tests.sandbox_process import sandbox_process

SITE = {"name": "Restart", "address": "Herstart 1", "city": "Breda", "country": "NLD", "latitude": "51.58960",
        "longitude": "4.77600", "time_zone": "Europe/Amsterdam"}


async def wait_state(sandbox, charger_id: str, predicate, timeout: float = 20.0) -> dict:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        state = (await sandbox.api.get(f"/api/chargers/{charger_id}")).json()["state"]
        if predicate(state):
            return state
        assert asyncio.get_running_loop().time() < deadline, state
        await asyncio.sleep(0.1)


async def test_chargers_resume_their_transaction_after_a_restart(sqlite_url):
    async with run_sandbox(sqlite_url) as sandbox:
        site = (await sandbox.api.post("/api/locations", json=SITE)).json()
        charger = (await sandbox.api.post("/api/chargers", json={
            "location_id": site["id"], "brand_slug": "northgrid", "model_slug": "nordwall-22", "ocpp_version": "2.0.1",
            "identity": "RESTART-1", "configuration": {"SampledDataCtrlr.TxUpdatedInterval": "1"}})).json()
        await wait_state(sandbox, charger["id"], lambda s: s["connected"] and s["boot_status"] == "Accepted")
        await sandbox.api.post(f"/api/chargers/{charger['id']}/commands/start-transaction", json={"id_token": "AB12"})
        before = await wait_state(sandbox, charger["id"],
                                  lambda s: s["transaction"] and s["transaction"]["energy_wh"] > 0)
    # Shut down (snapshots saved), then start again on the same database.
    async with run_sandbox(sqlite_url) as sandbox:
        after = await wait_state(sandbox, charger["id"], lambda s: s["connected"] and s["transaction"] and
                                 s["transaction"]["energy_wh"] > before["transaction"]["energy_wh"])
        assert after["transaction"]["transaction_id"] == before["transaction"]["transaction_id"]
        evse = after["simulator"]["evses"][0]
        assert evse["transaction"]["id"] == before["transaction"]["transaction_id"] and evse["state"] == "Charging"


async def test_chargers_resume_their_transaction_after_the_sandbox_is_killed(sqlite_url, tmp_path):
    """SIGKILL: no shutdown hook saves anything; what survives is what the sandbox saved as it went."""
    async with sandbox_process(sqlite_url, tmp_path) as sandbox:
        site = (await sandbox.api.post("/api/locations", json=SITE)).json()
        charger = (await sandbox.api.post("/api/chargers", json={
            "location_id": site["id"], "brand_slug": "northgrid", "model_slug": "nordwall-22", "ocpp_version": "1.6",
            "identity": "KILLED-1", "configuration": {"MeterValueSampleInterval": "1"}})).json()
        await wait_state(sandbox, charger["id"], lambda s: s["connected"] and s["boot_status"] == "Accepted")
        await sandbox.api.post(f"/api/chargers/{charger['id']}/commands/start-transaction", json={"id_token": "AB12"})
        before = await wait_state(sandbox, charger["id"],
                                  lambda s: s["transaction"] and s["transaction"]["energy_wh"] > 0)
        await asyncio.sleep(3)  # past one save of changed chargers (every 2 s)
        sent = (await wait_state(sandbox, charger["id"], lambda s: True))["transaction"]["energy_wh"]
        sandbox.kill()
    async with sandbox_process(sqlite_url, tmp_path) as sandbox:
        after = await wait_state(sandbox, charger["id"], lambda s: s["connected"] and s["transaction"] and
                                 s["transaction"]["energy_wh"] > sent, timeout=40)
        assert after["transaction"]["transaction_id"] == before["transaction"]["transaction_id"]
        evse = after["simulator"]["evses"][0]
        # 1.6: the CSMS numbered the transaction; the charger kept that number across the kill.
        assert str(evse["transaction"]["csms_id"]) == before["transaction"]["transaction_id"]
        assert evse["state"] == "Charging"
        chargers = (await sandbox.api.get("/api/chargers")).json()
        assert [c["identity"] for c in chargers] == ["KILLED-1"]
        # Across the kill, the register the CSMS was sent never went back.
        frames = (await sandbox.api.get(f"/api/chargers/{charger['id']}/logs",
                                        params={"action": "MeterValues", "direction": "sent", "limit": 1000})).json()
        registers = [float(value["value"]) for f in reversed(frames["items"]) if f["message_type"] == 2
                     for meter_value in json.loads(f["frame"])[3]["meterValue"] for value in meter_value["sampledValue"]
                     if value.get("measurand", "Energy.Active.Import.Register") == "Energy.Active.Import.Register"]
        assert len(registers) > 3 and registers == sorted(registers), registers
