"""What the job routes refuse, and what they show: bad bodies get a 4xx saying what to fix, and a tenant can
neither see nor touch another tenant's jobs and locations."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Sandbox
from tests.jobs.jobs_client import create_location, wait_job

HOMEBOX = {"brand_slug": "voltstream", "model_slug": "homebox-7"}


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"template": HOMEBOX}, 400, "array"),
    ([], 422, "at least one group"),
    ([{"template": {"brand_slug": "voltstream"}, "chargers_number": 1}], 400, "model_slug"),
    ([{"template": HOMEBOX, "chargers_number": 0}], 400, "chargers_number"),
    ([{"template": HOMEBOX, "chargers_number": "3"}], 400, "chargers_number"),
    ([{"template": HOMEBOX}], 422, "give chargers_number, charger_ids"),
    ([{"template": {**HOMEBOX, "model_slug": "nope"}, "chargers_number": 1}], 422, "valid models of 'voltstream'"),
    ([{"template": {**HOMEBOX, "brand_slug": "nope"}, "chargers_number": 1}], 422, "voltstream"),
    ([{"template": {**HOMEBOX, "ocpp_version": "2.0.1", "brand_slug": "voltstream", "model_slug": "homebox-7"},
       "chargers_number": 1}], 422, "speaks OCPP"),
    ([{"template": {**HOMEBOX, "connector_type": "CHADEMO"}, "chargers_number": 1}], 422, "has no 'CHADEMO'"),
    ([{"template": {**HOMEBOX, "identity_prefix": "P" * 40}, "charger_ids": ["S" * 9]}], 422, "1-48"),
    ([{"template": {**HOMEBOX, "identity_prefix": "D-"}, "charger_ids": ["1", "1"]}], 422, "asked for twice"),
    ([{"template": {**HOMEBOX, "tariff_ids": ["T9"]}, "chargers_number": 1}], 404, "tariff 'T9'"),
    ([{"template": HOMEBOX, "chargers_number": 6000}, {"template": HOMEBOX, "chargers_number": 6000}], 422,
     "at most 10000"),
])
async def test_bad_bulk_create_bodies_say_what_to_fix(sandbox: Sandbox, body, status, says):  # noqa: ANN001
    location_id = await create_location(sandbox.api)
    reply = await sandbox.api.post(f"/api/locations/{location_id}/chargers", json=body)
    assert reply.status_code == status, reply.text
    assert says in reply.json()["message"], reply.json()
    assert (await sandbox.api.get("/api/jobs")).json()["total"] == 0


async def test_bad_bulk_update_and_delete_bodies_say_what_to_fix(sandbox: Sandbox):
    location_id = await create_location(sandbox.api)
    url = f"/api/locations/{location_id}/chargers"
    cases = [
        ("PATCH", {"changes": {}}, 422, "give the changes to make"),
        ("PATCH", {"changes": {"simulate": "yes"}}, 400, "simulate"),
        ("PATCH", {"changes": {"ws_url": "http://x"}}, 400, "ws_url"),
        ("PATCH", {"charger_ids": ["NOPE-1"], "changes": {"simulate": False}}, 422, "not chargers of location"),
        ("DELETE", {"charger_ids": ["NOPE-1"]}, 422, "NOPE-1"),
        ("DELETE", {"charger_ids": "NOPE-1"}, 400, "charger_ids"),
    ]
    for method, body, status, says in cases:
        reply = await sandbox.api.request(method, url, json=body)
        assert reply.status_code == status, (method, body, reply.text)
        assert says in reply.json()["message"], (method, body, reply.json())
    missing = await sandbox.api.post("/api/locations/nope/chargers", json=[{"template": HOMEBOX,
                                                                            "chargers_number": 1}])
    assert missing.status_code == 404 and "GET /api/locations" in missing.json()["message"]
    assert (await sandbox.api.get("/api/jobs/nope")).status_code == 404


async def test_a_tenant_cannot_see_or_touch_another_tenants_jobs(sandbox: Sandbox):
    clients = {}
    for name in ("alpha", "beta"):
        tenant = (await sandbox.api.post("/api/tenants", json={"name": name})).json()
        clients[name] = httpx.AsyncClient(base_url=sandbox.base_url,
                                          headers={"Authorization": f"Bearer {tenant['token']}"})
    alpha, beta = clients["alpha"], clients["beta"]
    try:
        location_id = await create_location(alpha)
        url = f"/api/locations/{location_id}/chargers"
        group = [{"template": {**HOMEBOX, "simulate": False, "identity_prefix": "ALPHA-"}, "charger_ids": ["1"]}]
        reply = await alpha.post(url, json=group, headers={"Idempotency-Key": "k1"})
        assert reply.status_code == 202, reply.text
        job = await wait_job(alpha, reply.json()["status_url"])

        assert (await beta.get(f"/api/jobs/{job['job_id']}")).status_code == 404
        assert (await beta.get("/api/jobs")).json()["items"] == []
        for method, body in (("POST", group), ("PATCH", {"changes": {"simulate": True}}), ("DELETE", None)):
            reply = await beta.request(method, url, json=body)
            assert reply.status_code == 404 and reply.json()["error"] == "not_found", (method, reply.text)
        # The same Idempotency-Key in another tenant is another tenant's key: it names no job of alpha's.
        beta_location = await create_location(beta)
        reply = await beta.post(f"/api/locations/{beta_location}/chargers", headers={"Idempotency-Key": "k1"},
                                json=[{"template": {**HOMEBOX, "simulate": False}, "chargers_number": 1}])
        assert reply.status_code == 202 and reply.json()["job_id"] != job["job_id"]
        assert [c["identity"] for c in (await alpha.get(url)).json()] == ["ALPHA-1"]
    finally:
        await alpha.aclose()
        await beta.aclose()
