"""The management API: tenants, parties, registration tokens, partners; errors that say what to fix."""

from __future__ import annotations

import httpx

from tests.conftest import ADMIN_TOKEN, Sandbox


async def test_health_answers_without_a_token(sandbox: Sandbox):
    reply = await sandbox.http.get("/api/health")
    assert reply.status_code == 200 and reply.json()["status"] == "ok"


async def test_missing_or_unknown_token_is_401_with_advice(sandbox: Sandbox):
    assert (await sandbox.http.get("/api/parties")).status_code == 401
    reply = await sandbox.http.get("/api/parties", headers={"Authorization": "Bearer nope"})
    assert reply.status_code == 401 and reply.json()["error"] == "unauthorized" and "token" in reply.json()["message"]


async def test_create_party_returns_versions_url_and_token_a(sandbox: Sandbox):
    reply = await sandbox.api.post("/api/parties", json={"country_code": "de", "party_id": "abc", "name": "CPO DE"})
    assert reply.status_code == 201
    party = reply.json()
    assert (party["country_code"], party["party_id"]) == ("DE", "ABC")  # CiStrings emitted upper-case
    assert party["versions_url"] == sandbox.versions_url and party["token_a"].startswith("sbx-a-")
    listed = (await sandbox.api.get("/api/parties")).json()
    assert [p["id"] for p in listed] == [party["id"]] and "token_a" not in listed[0]


async def test_duplicate_party_is_409_and_bad_codes_are_400(sandbox: Sandbox):
    await sandbox.create_party("NL", "ABC")
    dup = await sandbox.api.post("/api/parties", json={"country_code": "nl", "party_id": "abc", "name": "again"})
    assert dup.status_code == 409 and "already has a CPO party NL*ABC" in dup.json()["message"]
    bad = await sandbox.api.post("/api/parties", json={"country_code": "N1", "party_id": "ABC", "name": "x"})
    assert bad.status_code == 400 and "country_code" in bad.json()["message"]


async def test_bad_bodies_are_400_naming_the_field(sandbox: Sandbox):
    wrong_type = await sandbox.api.post("/api/parties", json={"country_code": "NL", "party_id": "ABC", "name": 5})
    assert wrong_type.status_code == 400 and "name" in str(wrong_type.json())
    not_json = await sandbox.api.post("/api/parties", content=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400
    missing = await sandbox.api.post("/api/parties", json={"countrycode": "NL", "party_id": "ABC", "name": "x"})
    assert missing.status_code == 400 and "country_code" in str(missing.json())


async def test_mint_more_tokens_a_each_a_pending_partner(sandbox: Sandbox):
    party = await sandbox.create_party()
    minted = await sandbox.api.post(f"/api/parties/{party['id']}/registration-tokens", json={"label": "eMSP two"})
    assert minted.status_code == 201
    second = minted.json()
    assert second["token_a"] != party["token_a"] and second["versions_url"] == sandbox.versions_url
    no_body = await sandbox.api.post(f"/api/parties/{party['id']}/registration-tokens")
    assert no_body.status_code == 201
    partners = (await sandbox.api.get(f"/api/parties/{party['id']}/partners")).json()
    assert [p["state"] for p in partners] == ["PENDING"] * 3
    assert [p["label"] for p in partners if p.get("label")] == ["eMSP two"]
    # Each token A opens the versions endpoint.
    versions = await sandbox.http.get("/ocpi/versions", headers={"Authorization": f"Token {second['token_a']}"})
    assert versions.status_code == 200


async def test_revoking_a_pending_partner_kills_its_token_a(sandbox: Sandbox):
    party = await sandbox.create_party()
    reply = await sandbox.api.delete(f"/api/partners/{party['partner_id']}")
    assert reply.status_code == 200 and reply.json()["state"] == "UNREGISTERED"
    versions = await sandbox.http.get("/ocpi/versions", headers={"Authorization": f"Token {party['token_a']}"})
    assert versions.status_code == 401


async def test_partner_token_encoding_override(sandbox: Sandbox):
    party = await sandbox.create_party()
    reply = await sandbox.api.patch(f"/api/partners/{party['partner_id']}", json={"token_encoding": "raw"})
    assert reply.status_code == 200 and reply.json()["token_encoding"] == "raw"
    bad = await sandbox.api.patch(f"/api/partners/{party['partner_id']}", json={"token_encoding": "rot13"})
    assert bad.status_code == 400


async def test_tenants_admin_flow_and_x_organization_id(sandbox: Sandbox):
    created = await sandbox.api.post("/api/tenants", json={"name": "acme"})
    assert created.status_code == 201
    tenant = created.json()
    assert tenant["token"].startswith("sbx-tenant-")
    assert (await sandbox.api.post("/api/tenants", json={"name": "acme"})).status_code == 409
    # The admin acts on acme with X-Organization-Id; acme's own token sees the same party.
    party = await sandbox.api.post("/api/parties", json={"country_code": "NL", "party_id": "ACM", "name": "Acme"},
                                   headers={"X-Organization-Id": tenant["id"]})
    assert party.status_code == 201
    async with httpx.AsyncClient(base_url=sandbox.base_url,
                                 headers={"Authorization": f"Bearer {tenant['token']}"}) as acme:
        assert [p["party_id"] for p in (await acme.get("/api/parties")).json()] == ["ACM"]
        assert (await acme.get(f"/api/tenants/{tenant['id']}")).status_code == 200
        assert (await acme.get("/api/tenants")).status_code == 403
    # Without the header the admin works on the default tenant, which does not see Acme's party.
    assert [p["party_id"] for p in (await sandbox.api.get("/api/parties")).json()] == []
    unknown = await sandbox.api.get("/api/parties", headers={"X-Organization-Id": "nope"})
    assert unknown.status_code == 404 and "GET /api/tenants" in unknown.json()["message"]


async def test_openapi_document_is_served(sandbox: Sandbox):
    schema = (await sandbox.http.get("/api/schema/openapi.json")).json()
    assert "/api/parties/{id}/registration-tokens" in schema["paths"]
    assert not any(path.startswith("/ocpi") for path in schema["paths"])
    assert ADMIN_TOKEN not in str(schema)
