"""OCPI transport rules on our own endpoints: envelope everywhere, HTTP vs OCPI status codes, IDs, slashes."""

from __future__ import annotations

import base64
import uuid

import pytest

from tests.conftest import Sandbox


def auth(token: str) -> dict[str, str]:
    return {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}


async def test_unknown_ocpi_path_is_404_in_an_envelope(sandbox: Sandbox):
    reply = await sandbox.http.get("/ocpi/2.1.1/locations")
    assert reply.status_code == 404
    body = reply.json()
    assert body["status_code"] == 2000 and "versions URL" in body["status_message"] and body["timestamp"]


async def test_method_not_offered_is_405_with_allow_header(sandbox: Sandbox):
    party = await sandbox.create_party()
    reply = await sandbox.http.patch("/ocpi/2.2.1/credentials", headers=auth(party["token_a"]), json={})
    assert reply.status_code == 405
    assert reply.json()["status_code"] == 2000
    assert "GET" in reply.headers.get("allow", "")


async def test_malformed_json_is_400_and_2001(sandbox: Sandbox):
    party = await sandbox.create_party()
    reply = await sandbox.http.post("/ocpi/2.2.1/credentials", content=b'{"token": ',
                                    headers={**auth(party["token_a"]), "Content-Type": "application/json"})
    assert reply.status_code == 400
    assert reply.json()["status_code"] == 2001 and "not valid JSON" in reply.json()["status_message"]


@pytest.mark.parametrize("body, fragment", [
    ({"url": "http://127.0.0.1:1/versions", "roles": [
        {"role": "EMSP", "party_id": "EMP", "country_code": "DE", "business_details": {"name": "x"}}]}, "token"),
    ({"token": "abc", "url": "http://127.0.0.1:1/versions", "roles": []}, "roles"),
    ({"token": "has space", "url": "http://x.example/v", "roles": [
        {"role": "EMSP", "party_id": "EMP", "country_code": "DE", "business_details": {"name": "x"}}]}, "token"),
    ({"token": "abc", "url": "http://x.example/v", "roles": [
        {"role": "PIRATE", "party_id": "EMP", "country_code": "DE", "business_details": {"name": "x"}}]}, "role"),
])
async def test_valid_json_but_invalid_credentials_is_200_with_2001(sandbox: Sandbox, body, fragment):
    party = await sandbox.create_party()
    reply = await sandbox.http.post("/ocpi/2.2.1/credentials", json=body, headers=auth(party["token_a"]))
    assert reply.status_code == 200
    assert reply.json()["status_code"] == 2001 and fragment in reply.json()["status_message"]


async def test_hub_role_is_invalid_in_230_but_valid_in_221_credentials(sandbox: Sandbox):
    party = await sandbox.create_party()
    body = {"token": "abc", "url": "http://127.0.0.1:1/versions",
            "roles": [{"role": "HUB", "party_id": "HUB", "country_code": "DE", "business_details": {"name": "x"}}]}
    in_230 = await sandbox.http.post("/ocpi/2.3.0/credentials", json=body, headers=auth(party["token_a"]))
    assert in_230.json()["status_code"] == 2001
    in_221 = await sandbox.http.post("/ocpi/2.2.1/credentials", json=body, headers=auth(party["token_a"]))
    assert in_221.json()["status_code"] == 3001  # valid object; the versions URL is then unreachable


async def test_unknown_fields_are_ignored(sandbox: Sandbox):
    party = await sandbox.create_party()
    body = {"token": "abc", "url": "http://127.0.0.1:1/versions", "x_vendor_extension": {"a": 1},
            "roles": [{"role": "EMSP", "party_id": "EMP", "country_code": "DE", "business_details": {"name": "x"},
                       "extra": True}]}
    reply = await sandbox.http.post("/ocpi/2.2.1/credentials", json=body, headers=auth(party["token_a"]))
    assert reply.json()["status_code"] == 3001  # got past validation to the callback


async def test_request_and_correlation_ids_are_echoed_or_generated(sandbox: Sandbox):
    party = await sandbox.create_party()
    request_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    echoed = await sandbox.http.get("/ocpi/versions", headers={**auth(party["token_a"]), "X-Request-ID": request_id,
                                                               "X-Correlation-ID": correlation_id})
    assert echoed.headers["x-request-id"] == request_id and echoed.headers["x-correlation-id"] == correlation_id
    generated = await sandbox.http.get("/ocpi/versions", headers=auth(party["token_a"]))
    assert uuid.UUID(generated.headers["x-request-id"]) and uuid.UUID(generated.headers["x-correlation-id"])
    log = (await sandbox.api.get(f"/api/partners/{party['partner_id']}/log")).json()["items"]
    assert any("without X-Request-ID" in w for w in log[0]["warnings"])
    assert log[1]["request_id"] == request_id and not any("X-Request-ID" in w for w in log[1]["warnings"])


@pytest.mark.parametrize("path", ["/ocpi/versions/", "/ocpi/2.2.1/", "/ocpi/2.2.1", "/ocpi/2.3.0/credentials/"])
async def test_trailing_slash_is_tolerated_without_redirect(sandbox: Sandbox, path: str):
    party = await sandbox.create_party()
    reply = await sandbox.http.get(path, headers=auth(party["token_a"]))
    assert reply.status_code == 200 and reply.json()["status_code"] == 1000


async def test_version_details_follow_the_manifest(sandbox: Sandbox):
    party = await sandbox.create_party()
    details = (await sandbox.http.get("/ocpi/2.3.0", headers=auth(party["token_a"]))).json()["data"]
    assert details["version"] == "2.3.0"
    assert {"identifier": "credentials", "role": "SENDER",
            "url": f"{sandbox.base_url}/ocpi/2.3.0/credentials"} in details["endpoints"]


async def test_timestamps_are_utc_whole_seconds(sandbox: Sandbox):
    party = await sandbox.create_party()
    stamp = (await sandbox.http.get("/ocpi/versions", headers=auth(party["token_a"]))).json()["timestamp"]
    assert stamp.endswith("Z") and len(stamp) == 20
