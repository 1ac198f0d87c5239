"""OCPI Tokens, CPO as Receiver: an eMSP pushes, patches and reads back its tokens (2.2.1 and 2.3.0)."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import Sandbox
from tests.peers.registration import registered_emsp


def token(uid: str = "04A1B2C3D4", **changes) -> dict:  # noqa: ANN003
    return {"country_code": "DE", "party_id": "EMP", "uid": uid, "type": "RFID", "contract_id": "DE-EMP-C12345-6",
            "issuer": "Test eMSP", "valid": True, "whitelist": "ALLOWED", "last_updated": "2026-11-01T10:00:00Z",
            **changes}


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
async def test_push_patch_and_read_back_a_token(sandbox: Sandbox, version: str):
    async with registered_emsp(sandbox, version) as reg:
        url = reg.url("tokens/DE/EMP/04A1B2C3D4")
        created = await reg.client.put(url, json=token())
        assert created.status_code == 201 and created.json()["status_code"] == 1000 and "data" not in created.json()
        replaced = await reg.client.put(url, json=token(visual_number="CARD 42"))
        assert replaced.status_code == 200
        patched = await reg.client.patch(url, json={"valid": False, "last_updated": "2026-11-02T10:00:00Z"})
        assert patched.status_code == 200 and patched.json()["status_code"] == 1000
        # CiStrings compare case-insensitively: lower-case URL segments find the token.
        shown = await reg.client.get(reg.url("tokens/de/emp/04a1b2c3d4"))
        assert shown.status_code == 200
        assert shown.json()["data"] == token(visual_number="CARD 42", valid=False,
                                             last_updated="2026-11-02T10:00:00Z")
        # Version details now advertise the tokens Receiver.
        details = (await reg.client.get(f"/ocpi/{version}")).json()["data"]["endpoints"]
        assert {"identifier": "tokens", "role": "RECEIVER", "url": f"{sandbox.base_url}/ocpi/{version}/tokens"} \
            in details


async def test_token_type_comes_from_the_query_and_defaults_to_rfid(sandbox: Sandbox):
    async with registered_emsp(sandbox) as reg:
        app_token = token("APP-USER-1", type="APP_USER", whitelist="NEVER")
        wrong = await reg.client.put(reg.url("tokens/DE/EMP/APP-USER-1"), json=app_token)
        assert wrong.status_code == 200 and wrong.json()["status_code"] == 2001
        assert "defaults to RFID" in wrong.json()["status_message"]
        right = await reg.client.put(reg.url("tokens/DE/EMP/APP-USER-1?type=APP_USER"), json=app_token)
        assert right.status_code == 201
        assert (await reg.client.get(reg.url("tokens/DE/EMP/APP-USER-1"))).status_code == 404
        assert (await reg.client.get(reg.url("tokens/DE/EMP/APP-USER-1?type=APP_USER"))).status_code == 200


@pytest.mark.parametrize("body, fragment", [
    (token(uid="OTHER"), "uid"),
    (token(party_id="XYZ"), "party_id"),
    ({k: v for k, v in token().items() if k != "whitelist"}, "whitelist"),
    (token(valid="yes"), "valid"),
])
async def test_invalid_pushes_are_2001_with_a_reason(sandbox: Sandbox, body, fragment):
    async with registered_emsp(sandbox) as reg:
        reply = await reg.client.put(reg.url("tokens/DE/EMP/04A1B2C3D4"), json=body)
        assert reply.status_code == 200 and reply.json()["status_code"] == 2001
        assert fragment in reply.json()["status_message"]


async def test_patch_rules(sandbox: Sandbox):
    async with registered_emsp(sandbox) as reg:
        url = reg.url("tokens/DE/EMP/04A1B2C3D4")
        unknown = await reg.client.patch(url, json={"valid": False, "last_updated": "2026-11-02T10:00:00Z"})
        assert unknown.status_code == 404
        await reg.client.put(url, json=token())
        no_stamp = await reg.client.patch(url, json={"valid": False})
        assert no_stamp.json()["status_code"] == 2001 and "last_updated" in no_stamp.json()["status_message"]
        bad = await reg.client.patch(url, json={"whitelist": "SOMETIMES", "last_updated": "2026-11-02T10:00:00Z"})
        assert bad.json()["status_code"] == 2001


async def test_only_own_roles_and_only_with_token_c(sandbox: Sandbox):
    async with registered_emsp(sandbox) as reg:
        others = await reg.client.put(reg.url("tokens/NL/XYZ/04A1B2C3D4"),
                                      json=token(country_code="NL", party_id="XYZ"))
        assert others.status_code == 404 and "not one of the roles" in others.json()["status_message"]
        # A fresh token A (another eMSP still registering) may not use functional modules.
        minted = (await sandbox.api.post(f"/api/parties/{reg.party['id']}/registration-tokens")).json()
        header = {"Authorization": "Token " + base64.b64encode(minted["token_a"].encode()).decode()}
        refused = await sandbox.http.get(reg.url("tokens/DE/EMP/04A1B2C3D4"), headers=header)
        assert refused.status_code == 401 and "only be used on versions and credentials" in \
            refused.json()["status_message"]
        malformed = await reg.client.put(reg.url("tokens/DE/EMP/04A1B2C3D4"), content=b"{nope",
                                         headers={"Content-Type": "application/json"})
        assert malformed.status_code == 400 and malformed.json()["status_code"] == 2001
