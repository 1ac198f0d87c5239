"""Bulk create, update and delete of a location's chargers as durable jobs, over the real management API with
the chargers simulated in the sandbox and connected to its embedded CSMS."""

from __future__ import annotations

import re

from tests.conftest import Sandbox
from tests.jobs.jobs_client import charger_states, create_location, wait_job

HOMEBOX = {"brand_slug": "voltstream", "model_slug": "homebox-7", "ocpp_version": "1.6"}


async def submit(sandbox: Sandbox, location_id: str, groups: list, **headers: str) -> dict:
    reply = await sandbox.api.post(f"/api/locations/{location_id}/chargers", json=groups, headers=headers)
    assert reply.status_code == 202, reply.text
    accepted = reply.json()
    assert accepted["status_url"] == f"/api/jobs/{accepted['job_id']}"
    assert accepted["status"] in ("PENDING", "PROVISIONING", "READY")
    return accepted


async def test_500_charger_job_reaches_ready_with_every_charger_connected_to_the_embedded_csms(sandbox: Sandbox):
    location_id = await create_location(sandbox.api)
    accepted = await submit(sandbox, location_id, [
        {"template": {**HOMEBOX, "identity_prefix": "BULK-"}, "chargers_number": 300},
        {"template": {"brand_slug": "northgrid", "model_slug": "nordwall-22", "ocpp_version": "2.0.1",
                      "identity_prefix": "BULK201-"}, "chargers_number": 200}])

    job = await wait_job(sandbox.api, accepted["status_url"], timeout=180)

    assert job["status"] == "READY", job["results"]["failed"][:5]
    assert job["progress"] == {"total": 500, "done": 500, "failed": 0}
    assert job["kind"] == "bulk_create_chargers" and job["results"]["failed"] == []
    created = job["results"]["created"]
    assert len({c["identity"] for c in created}) == 500
    assert sum(c["identity"].startswith("BULK201-") for c in created) == 200
    listed = (await sandbox.api.get(f"/api/locations/{location_id}/chargers")).json()
    assert {c["id"] for c in listed} == {c["id"] for c in created}
    states = await charger_states(sandbox.api, [c["id"] for c in created])
    assert all(s["connected"] and s["boot_status"] == "Accepted" for s in states)


async def test_group_suffixes_are_truncated_to_chargers_number_and_padded_with_random_hex(sandbox: Sandbox):
    location_id = await create_location(sandbox.api)
    accepted = await submit(sandbox, location_id, [
        {"template": {**HOMEBOX, "identity_prefix": "CUT-", "simulate": False}, "charger_ids": ["A", "B", "C"],
         "chargers_number": 2},
        {"template": {**HOMEBOX, "identity_prefix": "PAD-", "simulate": False}, "charger_ids": ["X"],
         "chargers_number": 3},
        {"template": {**HOMEBOX, "identity_prefix": "IDS-", "simulate": False}, "charger_ids": ["1", "2"]}])

    job = await wait_job(sandbox.api, accepted["status_url"])

    identities = [c["identity"] for c in job["results"]["created"]]
    assert identities[:3] == ["CUT-A", "CUT-B", "PAD-X"] and identities[5:] == ["IDS-1", "IDS-2"]
    assert all(re.fullmatch(r"PAD-[0-9A-F]{8}", i) for i in identities[3:5]) and identities[3] != identities[4]
    assert job["status"] == "READY" and job["progress"] == {"total": 7, "done": 7, "failed": 0}


async def test_same_idempotency_key_returns_the_same_job_and_creates_chargers_once(sandbox: Sandbox):
    location_id = await create_location(sandbox.api)
    groups = [{"template": {**HOMEBOX, "simulate": False}, "chargers_number": 3}]

    first = await submit(sandbox, location_id, groups, **{"Idempotency-Key": "order-42"})
    await wait_job(sandbox.api, first["status_url"])
    again = await submit(sandbox, location_id, groups, **{"Idempotency-Key": "order-42"})
    other = await submit(sandbox, location_id, groups, **{"Idempotency-Key": "order-43"})
    misused = await sandbox.api.post(f"/api/locations/{location_id}/chargers", headers={"Idempotency-Key": "order-42"},
                                     json=[{"template": HOMEBOX, "chargers_number": 4}])

    assert again["job_id"] == first["job_id"] and again["status"] == "READY"
    assert other["job_id"] != first["job_id"]
    assert misused.status_code == 409 and "different request" in misused.json()["message"]
    await wait_job(sandbox.api, other["status_url"])
    assert len((await sandbox.api.get(f"/api/locations/{location_id}/chargers")).json()) == 6


async def test_an_identity_already_taken_fails_its_item_while_the_others_are_created(sandbox: Sandbox):
    location_id = await create_location(sandbox.api)
    taken = await sandbox.api.post("/api/chargers", json={"location_id": location_id, **HOMEBOX,
                                                          "identity": "DUP-2", "simulate": False})
    assert taken.status_code == 201, taken.text

    accepted = await submit(sandbox, location_id, [{"template": {**HOMEBOX, "identity_prefix": "DUP-"},
                                                    "charger_ids": ["1", "2", "3"]}])
    job = await wait_job(sandbox.api, accepted["status_url"])

    assert job["status"] == "READY" and job["progress"] == {"total": 3, "done": 2, "failed": 1}
    [failure] = job["results"]["failed"]
    assert failure["identity"] == "DUP-2" and "already exists" in failure["error"]
    assert [c["identity"] for c in job["results"]["created"]] == ["DUP-1", "DUP-3"]
    states = await charger_states(sandbox.api, [c["id"] for c in job["results"]["created"]])
    assert all(s["connected"] and s["boot_status"] == "Accepted" for s in states)


async def test_a_job_whose_every_item_fails_ends_failed(sandbox: Sandbox):
    location_id = await create_location(sandbox.api)
    first = await submit(sandbox, location_id, [{"template": {**HOMEBOX, "simulate": False, "identity_prefix": "ONE-"},
                                                 "charger_ids": ["1"]}])
    await wait_job(sandbox.api, first["status_url"])
    again = await submit(sandbox, location_id, [{"template": {**HOMEBOX, "simulate": False,
                                                              "identity_prefix": "ONE-"}, "charger_ids": ["1"]}])
    job = await wait_job(sandbox.api, again["status_url"])
    assert job["status"] == "FAILED" and job["progress"] == {"total": 1, "done": 0, "failed": 1}
    assert "results.failed" in job["error"]


async def test_bulk_update_restarts_changed_simulators_and_bulk_delete_removes_chargers(sandbox: Sandbox):
    location_id = await create_location(sandbox.api)
    accepted = await submit(sandbox, location_id, [{"template": {**HOMEBOX, "identity_prefix": "UPD-"},
                                                    "charger_ids": ["1", "2", "3", "4"]}])
    created = (await wait_job(sandbox.api, accepted["status_url"]))["results"]["created"]
    url = f"/api/locations/{location_id}/chargers"
    fleet = sandbox.service("charger_fleet").fleet

    # Switch two chargers off (one named by id, one by identity): their simulators stop.
    reply = await sandbox.api.patch(url, json={"charger_ids": [created[0]["id"], "UPD-2"],
                                               "changes": {"simulate": False}})
    assert reply.status_code == 202, reply.text
    job = await wait_job(sandbox.api, reply.json()["status_url"])
    assert job["kind"] == "bulk_update_chargers" and job["progress"] == {"total": 2, "done": 2, "failed": 0}
    assert [c["enabled"] for c in job["results"]["updated"]] == [False, False]
    assert fleet.link("UPD-1") is None and fleet.link("UPD-2") is None and fleet.link("UPD-3") is not None

    # Every charger on again with a new configuration: READY once each has booted again.
    reply = await sandbox.api.patch(url, json={"changes": {"simulate": True,
                                                           "configuration": {"MeterValueSampleInterval": "5"}}})
    job = await wait_job(sandbox.api, reply.json()["status_url"])
    assert job["status"] == "READY" and job["progress"]["done"] == 4
    states = await charger_states(sandbox.api, [c["id"] for c in created])
    assert all(s["connected"] and s["boot_status"] == "Accepted" for s in states)
    assert fleet.link("UPD-1").station.config.configuration["MeterValueSampleInterval"] == "5"

    reply = await sandbox.api.request("DELETE", url, json={"charger_ids": ["UPD-4"]})
    assert reply.status_code == 202, reply.text
    job = await wait_job(sandbox.api, reply.json()["status_url"])
    assert job["results"]["deleted"] == [{"id": created[3]["id"], "identity": "UPD-4"}]
    assert (await sandbox.api.get(f"/api/chargers/{created[3]['id']}")).status_code == 404
    assert fleet.link("UPD-4") is None

    reply = await sandbox.api.delete(url)  # no body: every charger of the location
    job = await wait_job(sandbox.api, reply.json()["status_url"])
    assert job["kind"] == "bulk_delete_chargers" and job["progress"] == {"total": 3, "done": 3, "failed": 0}
    assert (await sandbox.api.get(url)).json() == []
    assert not any(fleet.link(c["identity"]) for c in created)


async def test_jobs_are_listed_newest_first_and_polled_without_results(sandbox: Sandbox):
    location_id = await create_location(sandbox.api)
    first = await submit(sandbox, location_id, [{"template": {**HOMEBOX, "simulate": False}, "chargers_number": 1}])
    second = await submit(sandbox, location_id, [{"template": {**HOMEBOX, "simulate": False}, "chargers_number": 1}])
    page = (await sandbox.api.get("/api/jobs")).json()
    assert [j["job_id"] for j in page["items"]][:2] == [second["job_id"], first["job_id"]]
    assert page["total"] == 2 and all(j["results"] is None for j in page["items"])
    brief = (await sandbox.api.get(first["status_url"], params={"results": "false"})).json()
    assert brief["results"] is None and brief["progress"]["total"] == 1
