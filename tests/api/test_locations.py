"""Locations through the management API."""

from __future__ import annotations

from tests.conftest import Sandbox

AMSTERDAM = {"name": "Dam Square", "address": "Dam 1", "city": "Amsterdam", "postal_code": "1012JS",
             "country": "nld", "latitude": "52.37310", "longitude": "4.89300", "time_zone": "Europe/Amsterdam",
             "facilities": ["CAFE", "METRO_STATION"],
             "opening_times": {"twentyfourseven": False, "regular_hours": [
                 {"weekday": 1, "period_begin": "08:00", "period_end": "20:00"}]}}


async def test_location_crud(sandbox: Sandbox):
    created = await sandbox.api.post("/api/locations", json=AMSTERDAM)
    assert created.status_code == 201, created.text
    loc = created.json()
    assert loc["country"] == "NLD" and loc["ocpi_id"].startswith("LOC-") and loc["facilities"] == ["CAFE",
                                                                                                  "METRO_STATION"]
    page = (await sandbox.api.get("/api/locations")).json()
    assert page["total"] == 1 and page["items"][0]["id"] == loc["id"]
    changed = await sandbox.api.patch(f"/api/locations/{loc['id']}", json={"name": "Dam Square North"})
    assert changed.status_code == 200 and changed.json()["name"] == "Dam Square North"
    assert changed.json()["city"] == "Amsterdam"
    assert (await sandbox.api.get(f"/api/locations/{loc['id']}/chargers")).json() == []
    assert (await sandbox.api.delete(f"/api/locations/{loc['id']}")).status_code == 204
    assert (await sandbox.api.get(f"/api/locations/{loc['id']}")).status_code == 404


async def test_location_validation_says_what_to_fix(sandbox: Sandbox):
    bad_zone = await sandbox.api.post("/api/locations", json={**AMSTERDAM, "time_zone": "Mars/Olympus"})
    assert bad_zone.status_code == 400 and "time_zone" in bad_zone.json()["message"]
    bad_lat = await sandbox.api.post("/api/locations", json={**AMSTERDAM, "latitude": "52.3"})
    assert bad_lat.status_code == 400 and "latitude" in bad_lat.json()["message"]
    bad_party = await sandbox.api.post("/api/locations", json={**AMSTERDAM, "cpo_party_id": "nope"})
    assert bad_party.status_code == 404 and "GET /api/parties" in bad_party.json()["message"]
    await sandbox.api.post("/api/locations", json={**AMSTERDAM, "ocpi_id": "LOC-1"})
    dup = await sandbox.api.post("/api/locations", json={**AMSTERDAM, "ocpi_id": "LOC-1"})
    assert dup.status_code == 409


async def test_location_bound_to_a_cpo_party(sandbox: Sandbox):
    party = await sandbox.create_party()
    loc = (await sandbox.api.post("/api/locations", json={**AMSTERDAM, "cpo_party_id": party["id"]})).json()
    assert loc["cpo_party_id"] == party["id"]
