"""What a registered eMSP is pushed when the CPO's data changes (OCPI mod_locations and mod_tariffs, Receiver
interfaces): a new site as a Location PUT, a changed site as a PUT, a new charger's EVSEs as EVSE PUTs then status
PATCHes, a deleted charger's EVSEs as REMOVED; a new or changed tariff as a Tariff PUT, a deleted one as DELETE.
And Session PATCHes go no more often than ``ocpi_session_patch_interval``."""

from __future__ import annotations

from datetime import datetime

import pytest

from ocpi_sandbox.domain.chargers import delete_charger
from tests.conftest import run_sandbox
from tests.ocpi.test_emsp_journey import APP_TOKEN, command, result, session_by_evse
from tests.peers.bundle import charger_of, ready_bundle, registered_with_bundle
from tests.peers.waiting import eventually

SITE = {"name": "Nieuw", "address": "Nieuwmarkt 4", "city": "Amsterdam", "country": "NLD", "latitude": "52.37260",
        "longitude": "4.90040", "time_zone": "Europe/Amsterdam"}
TARIFF = {"currency": "EUR", "tax_included": "NO",
          "elements": [{"price_components": [{"type": "ENERGY", "price": 0.31, "vat": 21.0, "step_size": 1}]}]}


def pushes_to(reg, fragment: str) -> list[tuple[str, str, dict | None]]:  # noqa: ANN001
    return [(m, p, b) for m, p, b in reg.emsp.pushes if fragment in p]


async def test_new_and_changed_sites_chargers_and_tariffs_are_pushed(sandbox):
    bundle = await ready_bundle(sandbox.api, "small-urban-ac")
    async with registered_with_bundle(sandbox, bundle, "2.3.0") as reg:
        party = bundle["party"]["id"]
        # A new site of the party: the whole Location, PUT.
        site = (await sandbox.api.post("/api/locations", json={**SITE, "cpo_party_id": party})).json()
        put = await eventually(lambda: pushes_to(reg, f"/locations/NL/SUA/{site['ocpi_id']}"), what="Location PUT")
        assert put[0][0] == "PUT" and put[0][2]["id"] == site["ocpi_id"] and put[0][2]["evses"] == []
        # A changed site: PUT again, with the change.
        await sandbox.api.patch(f"/api/locations/{site['id']}", json={"name": "Nieuwmarkt"})
        await eventually(lambda: any(b["name"] == "Nieuwmarkt" for m, _, b in
                                     pushes_to(reg, f"/locations/NL/SUA/{site['ocpi_id']}") if m == "PUT"),
                         what="Location PUT with the new name")
        # A new charger there: its EVSE, PUT in full once it is up, then status PATCHes.
        created = await sandbox.api.post("/api/chargers", json={
            "location_id": site["id"], "brand_slug": "voltstream", "model_slug": "officebox-11",
            "ocpp_version": "2.0.1", "identity": "PUSH-NEW-1", "tariff_ids": ["AC-STREET"]})
        assert created.status_code == 201, created.text
        evse_path = f"/locations/NL/SUA/{site['ocpi_id']}/PUSH-NEW-1-1"
        evse_put = await eventually(lambda: [x for x in pushes_to(reg, evse_path) if x[0] == "PUT"], what="EVSE PUT")
        assert evse_put[0][2]["uid"] == "PUSH-NEW-1-1" and evse_put[0][2]["connectors"][0]["tariff_ids"] == \
            ["AC-STREET"]
        await eventually(lambda: any(m == "PATCH" and b["status"] == "AVAILABLE" for m, _, b in pushes_to(reg, evse_path))
                         or evse_put[0][2]["status"] == "AVAILABLE", what="EVSE AVAILABLE")
        # Deleted: OCPI has no DELETE for EVSEs, the status becomes REMOVED.
        # What DELETE /api/chargers/{id} does, step by step: stop the simulator, then delete the charger.
        await sandbox.service("charger_fleet").remove("PUSH-NEW-1")
        async with sandbox.service("csms").sessions() as session:
            tenant = (await sandbox.api.get("/api/tenants")).json()[0]["id"]
            await delete_charger(session, tenant, created.json()["id"])
        await eventually(lambda: any(m == "PATCH" and b["status"] == "REMOVED" for m, _, b in pushes_to(reg, evse_path)),
                         what="EVSE REMOVED")

        # Tariffs: new -> PUT, replaced -> PUT with the new price, deleted -> DELETE.
        made = await sandbox.api.post(f"/api/parties/{party}/tariffs", json={"id": "AC-NEW", "tariff": TARIFF})
        assert made.status_code == 201, made.text
        await eventually(lambda: pushes_to(reg, "/tariffs/NL/SUA/AC-NEW"), what="Tariff PUT")
        cheaper = {**TARIFF, "elements": [{"price_components": [{"type": "ENERGY", "price": 0.25, "vat": 21.0,
                                                                 "step_size": 1}]}]}
        await sandbox.api.put(f"/api/tariffs/{made.json()['id']}", json={"tariff": cheaper})
        await eventually(lambda: len(pushes_to(reg, "/tariffs/NL/SUA/AC-NEW")) >= 2, what="second Tariff PUT")
        assert (await sandbox.api.delete(f"/api/tariffs/{made.json()['id']}")).status_code == 204
        await eventually(lambda: [m for m, _, _ in pushes_to(reg, "/tariffs/NL/SUA/AC-NEW")] == ["PUT", "PUT", "DELETE"],
                         what="Tariff DELETE after the PUTs")
        puts = [b for m, _, b in pushes_to(reg, "/tariffs/NL/SUA/AC-NEW") if m == "PUT"]
        assert puts[1]["elements"][0]["price_components"][0]["price"] == 0.25 and puts[1]["tax_included"] == "NO"
        assert reg.emsp.schema_errors == []


@pytest.fixture
async def sandbox(sqlite_url):
    async with run_sandbox(sqlite_url, ocpi_session_patch_interval=4.0) as sb:
        yield sb


async def test_session_patches_are_throttled_to_the_setting_and_the_final_one_is_immediate(sandbox):
    bundle = await ready_bundle(sandbox.api, "small-urban-ac")
    async with registered_with_bundle(sandbox, bundle, "2.2.1") as reg:
        evse = charger_of(bundle, "OOST")["evse_uids"][0]  # 2.0.1, meter values every 5 s
        arrivals: dict[int, float] = {}
        loop_time = __import__("asyncio").get_running_loop().time
        answer = await command(reg, "START_SESSION", "start", {"token": {**APP_TOKEN, "uid": "APP-THR"},
                                                               "location_id": "NLSUA-OOST", "evse_uid": evse})
        assert answer["result"] == "ACCEPTED" and (await result(reg, "start"))["result"] == "ACCEPTED"
        session = await eventually(lambda: session_by_evse(reg, evse), what="session")

        def patches() -> list[dict]:
            found = [b for m, p, b in reg.emsp.pushes if m == "PATCH" and p.endswith(session["id"])]
            for i in range(len(found)):
                arrivals.setdefault(i, loop_time())
            return found

        await eventually(lambda: len(patches()) >= 3, 90, 0.05, "three running PATCHes")
        running = patches()
        stamps = [datetime.fromisoformat(b["last_updated"].replace("Z", "+00:00")) for b in running]
        # At most one PATCH per 4 s: they carry meter samples at least that far apart (plus rounding to 1 s).
        assert all((b - a).total_seconds() >= 3 for a, b in zip(stamps, stamps[1:])), stamps
        assert all(arrivals[i + 1] - arrivals[i] >= 3 for i in range(2)), arrivals
        stop = await command(reg, "STOP_SESSION", "stop", {"session_id": session["id"]})
        assert stop["result"] == "ACCEPTED"
        final = await eventually(lambda: [b for b in patches() if b["status"] == "COMPLETED"], 60, 0.05,
                                 "the COMPLETED PATCH")
        assert final[0]["end_date_time"] and reg.emsp.schema_errors == []
