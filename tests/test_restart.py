"""A sandbox restarted mid-transaction brings its simulated chargers back: they reconnect to the embedded CSMS and
the transaction goes on from the saved state (same transaction, meter register never going back)."""

from __future__ import annotations

import asyncio

from tests.conftest import run_sandbox

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
