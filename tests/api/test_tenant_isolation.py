"""Every management route, called with another tenant's token, answers as if the object did not exist."""

from __future__ import annotations

import httpx

from tests.conftest import Sandbox

# Admin-only routes answer 403 to any tenant token; every route with an object id answers 404 for another
# tenant's object. The test fails when a route is added without being listed here.
ADMIN_ONLY = {("POST", "/api/tenants"), ("GET", "/api/tenants")}
NO_OBJECT = {("GET", "/api/health"), ("GET", "/api/parties"), ("POST", "/api/parties"), ("GET", "/api/locations"),
             ("POST", "/api/locations"), ("POST", "/api/pricing"), ("GET", "/api/chargers"),
             ("POST", "/api/chargers"), ("GET", "/api/catalog/brands"), ("GET", "/api/catalog/brands/{brand_slug}/models"),
             ("GET", "/api/catalog/brands/{brand_slug}/models/{model_slug}"), ("GET", "/api/jobs"),
             ("GET", "/api/presets"), ("GET", "/api/presets/{name}"), ("POST", "/api/bundles"), ("GET", "/api/bundles")}


def charger_operations(charger: str) -> dict[tuple[str, str], tuple[str, str, object]]:
    """The charger operations routes (smart charging), on alpha's charger; a session id of alpha's would do the
    same (tests/test_smart_charging.py checks that one)."""
    limit, profile = {"limit": {"acMaxPowerA": 16}}, {"chargingProfile": {
        "id": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Relative",
        "chargingSchedule": [{"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}]}}
    base, evse = f"/api/chargers/{charger}", f"/api/chargers/{charger}/evses/1"
    return {
        ("PUT", "/api/chargers/{id}/power-limit"): ("PUT", f"{base}/power-limit", limit),
        ("DELETE", "/api/chargers/{id}/power-limit"): ("DELETE", f"{base}/power-limit", None),
        ("PUT", "/api/chargers/{id}/evses/{evse_id}/power-limit"): ("PUT", f"{evse}/power-limit", limit),
        ("DELETE", "/api/chargers/{id}/evses/{evse_id}/power-limit"): ("DELETE", f"{evse}/power-limit", None),
        ("PUT", "/api/sessions/{session_id}/power-limit"): ("PUT", f"/api/sessions/{charger}/power-limit", limit),
        ("DELETE", "/api/sessions/{session_id}/power-limit"): ("DELETE", f"/api/sessions/{charger}/power-limit", None),
        ("PUT", "/api/chargers/{id}/charging-profiles"): ("PUT", f"{base}/charging-profiles", profile),
        ("DELETE", "/api/chargers/{id}/charging-profiles"): ("DELETE", f"{base}/charging-profiles", None),
        ("PUT", "/api/chargers/{id}/evses/{evse_id}/charging-profiles"): ("PUT", f"{evse}/charging-profiles", profile),
        ("DELETE", "/api/chargers/{id}/evses/{evse_id}/charging-profiles"):
            ("DELETE", f"{evse}/charging-profiles", None),
        ("POST", "/api/chargers/{id}/evses/{evse_id}/availability"):
            ("POST", f"{evse}/availability", {"operationalStatus": "Inoperative", "reason": "maintenance"}),
        ("POST", "/api/chargers/{id}/restart"): ("POST", f"{base}/restart", {"type": "OnIdle"}),
        ("POST", "/api/chargers/{id}/evses/{evse_id}/start-transaction"):
            ("POST", f"{evse}/start-transaction",
             {"idToken": "CARD-1", "ocpi": {"countryCode": "NL", "partyId": "ALP"}}),
        ("POST", "/api/chargers/{id}/transactions/{transaction_id}/stop"):
            ("POST", f"{base}/transactions/1/stop", None),
        ("GET", "/api/chargers/{id}/evses/{evse_id}/composite-schedule"):
            ("GET", f"{evse}/composite-schedule?duration=60", None),
    }


async def test_every_route_hides_other_tenants_objects(sandbox: Sandbox):
    tenants = {}
    for name in ("alpha", "beta"):
        tenant = (await sandbox.api.post("/api/tenants", json={"name": name})).json()
        tenants[name] = httpx.AsyncClient(base_url=sandbox.base_url,
                                          headers={"Authorization": f"Bearer {tenant['token']}"})
    alpha, beta = tenants["alpha"], tenants["beta"]
    try:
        party = (await alpha.post("/api/parties", json={"country_code": "NL", "party_id": "ALP",
                                                         "name": "Alpha"})).json()
        alpha_tenant = (await sandbox.api.get("/api/tenants")).json()
        alpha_id = next(t["id"] for t in alpha_tenant if t["name"] == "alpha")
        location = (await alpha.post("/api/locations", json={
            "name": "Alpha site", "address": "A 1", "city": "Utrecht", "country": "NLD", "latitude": "52.09000",
            "longitude": "5.12000", "time_zone": "Europe/Amsterdam"})).json()
        created_tariff = (await alpha.post(f"/api/parties/{party['id']}/tariffs", json={"id": "T1", "tariff": {
            "currency": "EUR", "tax_included": "NO", "elements": [{"price_components": [
                {"type": "ENERGY", "price": 0.3, "step_size": 1}]}]}})).json()
        charger = (await alpha.post("/api/chargers", json={"location_id": location["id"], "brand_slug": "voltstream",
                                                            "model_slug": "homebox-7"})).json()
        group = [{"template": {"brand_slug": "voltstream", "model_slug": "homebox-7", "simulate": False},
                  "chargers_number": 1}]
        job = (await alpha.post(f"/api/locations/{location['id']}/chargers", json=group)).json()
        bundle = (await alpha.post("/api/bundles", json={"preset": "small-urban-ac", "party_id": "ALB"})).json()
        ids = {"party": party["id"], "partner": party["partner_id"], "tenant": alpha_id, "location": location["id"],
               "tariff": created_tariff["id"], "charger": charger["id"], "job": job["job_id"],
               "bundle": bundle["bundle_id"]}
        calls = {
            ("POST", "/api/locations/{id}/chargers"): ("POST", f"/api/locations/{ids['location']}/chargers", group),
            ("PATCH", "/api/locations/{id}/chargers"):
                ("PATCH", f"/api/locations/{ids['location']}/chargers", {"changes": {"simulate": True}}),
            ("DELETE", "/api/locations/{id}/chargers"): ("DELETE", f"/api/locations/{ids['location']}/chargers", None),
            ("GET", "/api/jobs/{id}"): ("GET", f"/api/jobs/{ids['job']}", None),
            ("GET", "/api/bundles/{id}"): ("GET", f"/api/bundles/{ids['bundle']}", None),
            ("DELETE", "/api/bundles/{id}"): ("DELETE", f"/api/bundles/{ids['bundle']}", None),
            ("GET", "/api/tenants/{id}"): ("GET", f"/api/tenants/{ids['tenant']}", None),
            ("GET", "/api/parties/{id}"): ("GET", f"/api/parties/{ids['party']}", None),
            ("POST", "/api/parties/{id}/registration-tokens"):
                ("POST", f"/api/parties/{ids['party']}/registration-tokens", {}),
            ("GET", "/api/parties/{id}/partners"): ("GET", f"/api/parties/{ids['party']}/partners", None),
            ("POST", "/api/parties/{id}/registrations"):
                ("POST", f"/api/parties/{ids['party']}/registrations",
                 {"versions_url": "http://127.0.0.1:9/versions", "token": "t"}),
            ("GET", "/api/partners/{id}"): ("GET", f"/api/partners/{ids['partner']}", None),
            ("PATCH", "/api/partners/{id}"): ("PATCH", f"/api/partners/{ids['partner']}", {"token_encoding": "raw"}),
            ("DELETE", "/api/partners/{id}"): ("DELETE", f"/api/partners/{ids['partner']}", None),
            ("GET", "/api/partners/{id}/log"): ("GET", f"/api/partners/{ids['partner']}/log", None),
            ("GET", "/api/locations/{id}"): ("GET", f"/api/locations/{ids['location']}", None),
            ("PATCH", "/api/locations/{id}"): ("PATCH", f"/api/locations/{ids['location']}", {"name": "x"}),
            ("DELETE", "/api/locations/{id}"): ("DELETE", f"/api/locations/{ids['location']}", None),
            ("GET", "/api/locations/{id}/chargers"): ("GET", f"/api/locations/{ids['location']}/chargers", None),
            ("POST", "/api/parties/{party_ref}/tariffs"): ("POST", f"/api/parties/{ids['party']}/tariffs", {
                "id": "T2", "tariff": {"currency": "EUR"}}),
            ("GET", "/api/parties/{party_ref}/tariffs"): ("GET", f"/api/parties/{ids['party']}/tariffs", None),
            ("GET", "/api/tariffs/{id}"): ("GET", f"/api/tariffs/{ids['tariff']}", None),
            ("PUT", "/api/tariffs/{id}"): ("PUT", f"/api/tariffs/{ids['tariff']}", {"tariff": {"currency": "EUR"}}),
            ("DELETE", "/api/tariffs/{id}"): ("DELETE", f"/api/tariffs/{ids['tariff']}", None),
            ("GET", "/api/partners/{id}/pushes"): ("GET", f"/api/partners/{ids['partner']}/pushes", None),
            ("GET", "/api/chargers/{id}"): ("GET", f"/api/chargers/{ids['charger']}", None),
            ("DELETE", "/api/chargers/{id}"): ("DELETE", f"/api/chargers/{ids['charger']}", None),
            ("GET", "/api/chargers/{id}/logs"): ("GET", f"/api/chargers/{ids['charger']}/logs", None),
            ("POST", "/api/chargers/{id}/commands/{command}"):
                ("POST", f"/api/chargers/{ids['charger']}/commands/plug-in", None),
            ("POST", "/api/locations/{location_id}/chargers/commands/{command}"):
                ("POST", f"/api/locations/{ids['location']}/chargers/commands/plug-in", None),
            ("GET", "/api/chargers/{id}/logs.jsonl"): ("GET", f"/api/chargers/{ids['charger']}/logs.jsonl", None),
            ("GET", "/api/chargers/{id}/logs/stream"): ("GET", f"/api/chargers/{ids['charger']}/logs/stream", None),
            ("POST", "/api/partners/{id}/pushes/{push_id}/retry"):
                ("POST", f"/api/partners/{ids['partner']}/pushes/1/retry", None),
            ("GET", "/api/chargers/{charger_id}/chaos"): ("GET", f"/api/chargers/{ids['charger']}/chaos", None),
            ("PUT", "/api/chargers/{charger_id}/chaos"): ("PUT", f"/api/chargers/{ids['charger']}/chaos", {}),
            ("POST", "/api/chargers/{charger_id}/chaos/malformed-frame"):
                ("POST", f"/api/chargers/{ids['charger']}/chaos/malformed-frame", {}),
            **charger_operations(ids["charger"]),
        }
        schema = (await sandbox.http.get("/api/schema/openapi.json")).json()
        documented = {(m.upper(), path) for path, item in schema["paths"].items() for m in item}
        assert documented == set(calls) | ADMIN_ONLY | NO_OBJECT, "list the new route in this test"
        for (method, url, body) in calls.values():
            reply = await beta.request(method, url, json=body)
            assert reply.status_code == 404, (method, url, reply.text)
            assert reply.json()["error"] == "not_found"
            if url.startswith("/api/tenants/"):
                continue  # the admin reads any tenant record by id; that route is not tenant-scoped
            # The admin naming beta's organization does not reach alpha's objects either.
            admin_as_beta = await sandbox.api.request(method, url, json=body, headers={
                "X-Organization-Id": next(t["id"] for t in alpha_tenant if t["name"] == "beta")})
            assert admin_as_beta.status_code == 404, (method, url, admin_as_beta.text)
        for method, url in ADMIN_ONLY:
            reply = await beta.request(method, url, json={"name": "x"} if method == "POST" else None)
            assert reply.status_code == 403
        # Lists only show one's own; a tenant cannot switch organization with the header.
        assert (await beta.get("/api/parties")).json() == []
        switched = await beta.get("/api/parties", headers={"X-Organization-Id": alpha_id})
        assert switched.status_code == 403
        # Alpha's objects are intact and still reachable by alpha.
        assert (await alpha.get(f"/api/partners/{ids['partner']}")).json()["state"] == "PENDING"
    finally:
        await alpha.aclose()
        await beta.aclose()
