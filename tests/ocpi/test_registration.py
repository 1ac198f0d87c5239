"""The credentials handshake both ways, 2.2.1 and 2.3.0, against a test eMSP over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.conftest import Sandbox, free_socket, run_sandbox, serve_app
from tests.peers.emsp import FakeEmsp


def b64(token: str) -> str:
    return base64.b64encode(token.encode()).decode()


def auth(token: str, *, raw: bool = False) -> dict[str, str]:
    return {"Authorization": f"Token {token if raw else b64(token)}"}


async def served_emsp(emsp: FakeEmsp):
    return serve_app(emsp.app)


async def register(sandbox: Sandbox, emsp: FakeEmsp, token_a: str, version: str, *, raw: bool = False) -> httpx.Response:
    """Do what an eMSP does: versions, version details, then POST credentials with token A."""
    versions = await sandbox.http.get("/ocpi/versions", headers=auth(token_a, raw=raw))
    assert versions.status_code == 200, versions.text
    details_url = next(v["url"] for v in versions.json()["data"] if v["version"] == version)
    details = await sandbox.http.get(details_url, headers=auth(token_a, raw=raw))
    assert details.status_code == 200, details.text
    credentials_url = next(e["url"] for e in details.json()["data"]["endpoints"] if e["identifier"] == "credentials")
    return await sandbox.http.post(credentials_url, json=emsp.credentials(), headers=auth(token_a, raw=raw))


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
async def test_emsp_registers_and_gets_token_c(sandbox: Sandbox, version: str):
    party = await sandbox.create_party()
    emsp = FakeEmsp()
    async with serve_app(emsp.app):
        reply = await register(sandbox, emsp, party["token_a"], version)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["status_code"] == 1000
        ours = body["data"]
        assert ours["url"] == sandbox.versions_url
        assert ours["roles"] == [{"role": "CPO", "business_details": {"name": "Test CPO"}, "party_id": "SBX",
                                  "country_code": "NL"}]
        token_c = ours["token"]
        assert token_c != party["token_a"] and len(token_c) >= 32
        # The sandbox called us back with token B, Base64-encoded, on versions then version details.
        assert emsp.received[:2] == [
            {"method": "GET", "path": "/emsp/versions", "authorization": f"Token {b64(emsp.token_b)}"},
            {"method": "GET", "path": f"/emsp/{version}", "authorization": f"Token {b64(emsp.token_b)}"},
        ]
    # Token C opens the credentials module; token A is dead.
    shown = await sandbox.http.get(f"/ocpi/{version}/credentials", headers=auth(token_c))
    assert shown.status_code == 200 and shown.json()["data"]["token"] == token_c
    dead = await sandbox.http.get("/ocpi/versions", headers=auth(party["token_a"]))
    assert dead.status_code == 401
    partners = (await sandbox.api.get(f"/api/parties/{party['id']}/partners")).json()
    assert [(p["state"], p["version"]) for p in partners] == [("REGISTERED", version)]
    assert partners[0]["roles"][0]["party_id"] == "EMP"
    assert {e["identifier"] for e in partners[0]["endpoints"]} == {"credentials", "locations", "tokens", "sessions",
                                                                  "cdrs", "tariffs", "chargingprofiles"}


async def test_raw_token_is_accepted_and_noted_in_the_partner_log(sandbox: Sandbox):
    party = await sandbox.create_party()
    emsp = FakeEmsp()
    async with serve_app(emsp.app):
        reply = await register(sandbox, emsp, party["token_a"], "2.2.1", raw=True)
    assert reply.json()["status_code"] == 1000
    log = (await sandbox.api.get(f"/api/partners/{party['partner_id']}/log")).json()["items"]
    inbound = [e for e in log if e["direction"] == "inbound"]
    assert inbound and all(any("without Base64" in w for w in e["warnings"]) for e in inbound)


async def test_base64_token_with_trailing_newline_is_accepted(sandbox: Sandbox):
    party = await sandbox.create_party()
    header = {"Authorization": "Token " + base64.b64encode((party["token_a"] + "\n").encode()).decode()}
    reply = await sandbox.http.get("/ocpi/versions", headers=header)
    assert reply.status_code == 200


@pytest.mark.parametrize("header", [None, "Token wrong-token-a-0123456789abcdef", "Bearer x", "Token"])
async def test_wrong_or_missing_token_a_is_401_with_envelope(sandbox: Sandbox, header: str | None):
    await sandbox.create_party()
    reply = await sandbox.http.get("/ocpi/versions", headers={"Authorization": header} if header else {})
    assert reply.status_code == 401
    assert reply.json()["status_code"] == 2000 and "status_message" in reply.json()


async def test_second_post_is_405_and_put_with_token_a_is_405(sandbox: Sandbox):
    party = await sandbox.create_party()
    emsp = FakeEmsp()
    async with serve_app(emsp.app):
        pending_put = await sandbox.http.put("/ocpi/2.2.1/credentials", json=emsp.credentials(),
                                             headers=auth(party["token_a"]))
        assert pending_put.status_code == 405
        pending_delete = await sandbox.http.delete("/ocpi/2.2.1/credentials", headers=auth(party["token_a"]))
        assert pending_delete.status_code == 405
        token_c = (await register(sandbox, emsp, party["token_a"], "2.2.1")).json()["data"]["token"]
        again = await sandbox.http.post("/ocpi/2.2.1/credentials", json=emsp.credentials(), headers=auth(token_c))
    assert again.status_code == 405
    assert again.json()["status_code"] == 2000 and "already registered" in again.json()["status_message"]


async def test_put_rotates_the_token_and_switches_version(sandbox: Sandbox):
    party = await sandbox.create_party()
    emsp = FakeEmsp()
    async with serve_app(emsp.app):
        token_c = (await register(sandbox, emsp, party["token_a"], "2.2.1")).json()["data"]["token"]
        new_b = "emsp-token-b2-rotated"
        emsp.accepted_tokens.add(new_b)
        reply = await sandbox.http.put("/ocpi/2.3.0/credentials", json=emsp.credentials(new_b), headers=auth(token_c))
        assert reply.status_code == 200, reply.text
        new_c = reply.json()["data"]["token"]
        assert new_c != token_c
        # The sandbox re-fetched our versions and 2.3.0 details with the new token.
        assert emsp.received[-2:] == [
            {"method": "GET", "path": "/emsp/versions", "authorization": f"Token {b64(new_b)}"},
            {"method": "GET", "path": "/emsp/2.3.0", "authorization": f"Token {b64(new_b)}"},
        ]
    assert (await sandbox.http.get("/ocpi/2.3.0/credentials", headers=auth(token_c))).status_code == 401
    assert (await sandbox.http.get("/ocpi/2.3.0/credentials", headers=auth(new_c))).status_code == 200
    partner = (await sandbox.api.get(f"/api/partners/{party['partner_id']}")).json()
    assert partner["version"] == "2.3.0" and partner["state"] == "REGISTERED"


async def test_old_token_keeps_working_during_the_grace_period(sqlite_url):
    async with run_sandbox(sqlite_url, ocpi_token_grace_seconds=300) as sandbox:
        party = await sandbox.create_party()
        emsp = FakeEmsp()
        async with serve_app(emsp.app):
            token_c = (await register(sandbox, emsp, party["token_a"], "2.2.1")).json()["data"]["token"]
            reply = await sandbox.http.put("/ocpi/2.2.1/credentials", json=emsp.credentials(), headers=auth(token_c))
            new_c = reply.json()["data"]["token"]
        assert (await sandbox.http.get("/ocpi/versions", headers=auth(token_c))).status_code == 200
        assert (await sandbox.http.get("/ocpi/versions", headers=auth(new_c))).status_code == 200


async def test_delete_unregisters_and_invalidates_the_token(sandbox: Sandbox):
    party = await sandbox.create_party()
    emsp = FakeEmsp()
    async with serve_app(emsp.app):
        token_c = (await register(sandbox, emsp, party["token_a"], "2.2.1")).json()["data"]["token"]
    reply = await sandbox.http.delete("/ocpi/2.2.1/credentials", headers=auth(token_c))
    assert reply.status_code == 200 and reply.json()["status_code"] == 1000 and "data" not in reply.json()
    assert (await sandbox.http.get("/ocpi/versions", headers=auth(token_c))).status_code == 401
    partner = (await sandbox.api.get(f"/api/partners/{party['partner_id']}")).json()
    assert partner["state"] == "UNREGISTERED"


async def test_emsp_with_only_221_negotiates_221(sandbox: Sandbox):
    party = await sandbox.create_party()
    emsp = FakeEmsp(versions=("2.2.1",))
    async with serve_app(emsp.app):
        # It POSTs on our 2.3.0 endpoint although it does not offer 2.3.0 itself: no common version there.
        wrong = await sandbox.http.post("/ocpi/2.3.0/credentials", json=emsp.credentials(),
                                        headers=auth(party["token_a"]))
        assert wrong.status_code == 200 and wrong.json()["status_code"] == 3002
        assert "2.2.1" in wrong.json()["status_message"]
        # Token A is still good after a failed attempt: nothing was finalised.
        right = await register(sandbox, emsp, party["token_a"], "2.2.1")
    assert right.json()["status_code"] == 1000


async def test_emsp_versions_url_down_is_3001(sandbox: Sandbox):
    party = await sandbox.create_party()
    closed = free_socket()  # bound, never listening: connections are refused
    credentials = {"token": "emsp-token-b", "url": f"http://127.0.0.1:{closed.getsockname()[1]}/versions",
                   "roles": [{"role": "EMSP", "party_id": "EMP", "country_code": "DE",
                              "business_details": {"name": "Down eMSP"}}]}
    reply = await sandbox.http.post("/ocpi/2.2.1/credentials", json=credentials, headers=auth(party["token_a"]))
    closed.close()
    assert reply.status_code == 200 and reply.json()["status_code"] == 3001
    assert "could not fetch your versions" in reply.json()["status_message"]


async def test_emsp_without_a_common_version_is_3002(sandbox: Sandbox):
    party = await sandbox.create_party()
    emsp = FakeEmsp(versions=("2.1.1",))
    async with serve_app(emsp.app):
        reply = await sandbox.http.post("/ocpi/2.2.1/credentials", json=emsp.credentials(),
                                        headers=auth(party["token_a"]))
    assert reply.json()["status_code"] == 3002


@pytest.mark.parametrize("offered, expected", [(("2.2.1", "2.3.0"), "2.3.0"), (("2.2.1",), "2.2.1")])
async def test_sandbox_registers_at_an_emsp(sandbox: Sandbox, offered, expected):
    party = await sandbox.create_party()
    emsp = FakeEmsp(versions=offered)
    async with serve_app(emsp.app):
        reply = await sandbox.api.post(f"/api/parties/{party['id']}/registrations",
                                       json={"versions_url": emsp.versions_url, "token": emsp.token_a,
                                             "label": "test eMSP"})
        assert reply.status_code == 201, reply.text
        partner = reply.json()
        assert partner["state"] == "REGISTERED" and partner["version"] == expected
        assert partner["initiated_by"] == "sandbox" and partner["roles"][0]["party_id"] == "EMP"
        # During our POST the eMSP fetched our versions with the token B we gave it, successfully.
        assert emsp.callback_status == 200
        # That token now opens our version details for it.
        assert (await sandbox.http.get("/ocpi/versions", headers=auth(emsp.sandbox_token))).status_code == 200
        # We called it with its token A (Base64) until we got its token C.
        assert {a for a in emsp.authorization_values()} == {f"Token {b64(emsp.token_a)}"}
    log = (await sandbox.api.get(f"/api/partners/{partner['id']}/log")).json()["items"]
    # Our discovery and POST, the eMSP's callback during the POST, and this test's own GET with that token.
    assert sorted((e["direction"], e["method"]) for e in log) == [
        ("inbound", "GET"), ("inbound", "GET"), ("outbound", "GET"), ("outbound", "GET"), ("outbound", "POST")]
    assert len({e["correlation_id"] for e in log if e["direction"] == "outbound"}) == 1


async def test_registering_at_an_unreachable_emsp_is_502_with_advice(sandbox: Sandbox):
    party = await sandbox.create_party()
    closed = free_socket()
    reply = await sandbox.api.post(f"/api/parties/{party['id']}/registrations",
                                   json={"versions_url": f"http://127.0.0.1:{closed.getsockname()[1]}/versions",
                                         "token": "whatever-token-a"})
    closed.close()
    assert reply.status_code == 502
    assert "could not fetch your versions" in reply.json()["message"]
    # The failed attempt is a partner whose log shows the refused connection.
    partner_id = reply.json()["details"]["partner_id"]
    log = (await sandbox.api.get(f"/api/partners/{partner_id}/log")).json()["items"]
    assert log[0]["direction"] == "outbound" and "ConnectError" in log[0]["error"]
    assert (await sandbox.api.get(f"/api/partners/{partner_id}")).json()["state"] == "UNREGISTERED"


async def test_revoking_a_partner_tells_it_and_kills_its_token(sandbox: Sandbox):
    party = await sandbox.create_party()
    emsp = FakeEmsp()
    async with serve_app(emsp.app):
        token_c = (await register(sandbox, emsp, party["token_a"], "2.2.1")).json()["data"]["token"]
        reply = await sandbox.api.delete(f"/api/partners/{party['partner_id']}")
        assert reply.status_code == 200 and reply.json()["state"] == "UNREGISTERED"
        assert emsp.received[-1]["method"] == "DELETE"
    assert (await sandbox.http.get("/ocpi/versions", headers=auth(token_c))).status_code == 401


async def test_partner_log_shows_both_directions_with_ids_and_status(sandbox: Sandbox):
    party = await sandbox.create_party()
    emsp = FakeEmsp()
    async with serve_app(emsp.app):
        await register(sandbox, emsp, party["token_a"], "2.2.1")
    page = (await sandbox.api.get(f"/api/partners/{party['partner_id']}/log", params={"limit": 3})).json()
    assert len(page["items"]) == 3 and page["next_before"]
    rest = (await sandbox.api.get(f"/api/partners/{party['partner_id']}/log",
                                  params={"before": page["next_before"]})).json()
    entries = list(reversed(page["items"] + rest["items"]))
    assert [(e["direction"], e["method"]) for e in entries] == [
        ("inbound", "GET"), ("inbound", "GET"), ("outbound", "GET"), ("outbound", "GET"), ("inbound", "POST")]
    post = entries[-1]
    assert post["status"] == 200 and post["ocpi_status"] == 1000 and post["duration_ms"] > 0
    assert post["request_headers"]["authorization"].startswith("Token ...")  # masked
    assert party["token_a"] not in str(entries)
    # Tokens inside credentials bodies are masked too: token B in our POST, token C in our answer.
    assert emsp.token_b not in str(entries) and post["response_body"].count('"token":"...') == 1
    assert entries[2]["correlation_id"] == entries[3]["correlation_id"]
