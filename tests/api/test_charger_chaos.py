"""Chaos switches make a simulated charger misbehave towards its CSMS, over the real WebSocket: the CSMS sees
CALLERRORs, silence, a failing lock and malformed frames, and both sides keep going."""

from __future__ import annotations


import pytest

from ocpi_sandbox.csms.gateway import CallFailed, CallTimeout
from ocpi_sandbox.ocpp.v16 import messages as v16
from tests.conftest import Sandbox
from tests.peers.waiting import eventually

SITE = {"name": "Chaos", "address": "Chaosweg 1", "city": "Delft", "country": "NLD", "latitude": "52.01160",
        "longitude": "4.35710", "time_zone": "Europe/Amsterdam"}


async def booted_charger(sandbox: Sandbox, identity: str) -> dict:
    site = (await sandbox.api.post("/api/locations", json=SITE)).json()
    charger = (await sandbox.api.post("/api/chargers", json={
        "location_id": site["id"], "brand_slug": "voltstream", "model_slug": "homebox-7c", "ocpp_version": "1.6",
        "identity": identity})).json()

    async def ready():
        state = (await sandbox.api.get(f"/api/chargers/{charger['id']}")).json()["state"]
        return state["connected"] and state["boot_status"] == "Accepted"

    await eventually(ready)
    return charger


async def frames(sandbox: Sandbox, charger_id: str, **params) -> list[dict]:
    await sandbox.service("frame_log").flush()
    return (await sandbox.api.get(f"/api/chargers/{charger_id}/logs", params={"limit": 500, **params})).json()["items"]


async def test_chaos_switches_reach_the_csms_and_switch_off_again(sandbox: Sandbox):
    charger = await booted_charger(sandbox, "CHAOS-1")
    url = f"/api/chargers/{charger['id']}/chaos"
    gateway = sandbox.service("gateway")
    assert (await sandbox.api.get(url)).json() == {"response_delay": 0.0, "drop_responses": 0.0,
                                                   "callerror_responses": 0.0, "lock_failure": False,
                                                   "duplicate_boot": False}

    set_ = await sandbox.api.put(url, json={"callerror_responses": 1, "lock_failure": True})
    assert set_.status_code == 200 and set_.json()["callerror_responses"] == 1
    with pytest.raises(CallFailed):
        await gateway.call("CHAOS-1", "GetConfiguration", v16.GetConfigurationRequest())
    errors = await frames(sandbox, charger["id"], action="GetConfiguration", direction="sent")
    assert [f["message_type"] for f in errors] == [4]  # the charger answered CALLERROR

    await sandbox.api.put(url, json={"drop_responses": 1})
    with pytest.raises(CallTimeout):
        await gateway.call("CHAOS-1", "GetConfiguration", v16.GetConfigurationRequest(), timeout=1)

    await sandbox.api.put(url, json={"lock_failure": True, "response_delay": 0})
    # The unanswered CALL above still holds the charger's side (one CALL at a time per direction) until it is
    # dropped by the reconnect below; OCPP-J leaves a lost CALL to the connection.
    connects = (await sandbox.api.get(f"/api/chargers/{charger['id']}")).json()["state"]["link"]["connects"]
    await sandbox.api.post(f"/api/chargers/{charger['id']}/commands/disconnect")

    async def reconnected():
        state = (await sandbox.api.get(f"/api/chargers/{charger['id']}")).json()["state"]
        return state["link"]["connects"] > connects and state["connected"] and gateway.connected("CHAOS-1")

    await eventually(reconnected)
    unlocked = await gateway.call("CHAOS-1", "UnlockConnector", v16.UnlockConnectorRequest(connector_id=1))
    assert unlocked.status == "UnlockFailed"

    assert (await sandbox.api.put(url, json={})).json()["lock_failure"] is False
    answered = await gateway.call("CHAOS-1", "GetConfiguration", v16.GetConfigurationRequest(key=["HeartbeatInterval"]))
    assert answered.configuration_key[0].key == "HeartbeatInterval"


# OCPP-J 1.6 §4.2.3 error codes; 1.6 ignores an unknown message type and a result nobody asked for.
@pytest.mark.parametrize("kind, answer", [("not-json", "FormationViolation"), ("not-an-array", "FormationViolation"),
                                          ("unknown-message-type", None), ("unknown-action", "NotImplemented"),
                                          ("invalid-payload", "TypeConstraintViolation"), ("unexpected-result", None)])
async def test_malformed_frames_draw_callerrors_and_the_charger_stays_connected(sandbox: Sandbox, kind: str,
                                                                                answer: str | None):
    charger = await booted_charger(sandbox, f"CHAOS-{kind}")
    sent = await sandbox.api.post(f"/api/chargers/{charger['id']}/chaos/malformed-frame", json={"kind": kind})
    assert sent.status_code == 200, sent.text

    async def answered():
        received = await frames(sandbox, charger["id"], direction="received")
        return [f for f in received if f["message_type"] == 4] if answer else received

    if answer:
        [error] = await eventually(answered)
        assert f'"{answer}"' in error["frame"]
    # The CSMS kept the connection: it still answers the charger.
    gateway = sandbox.service("gateway")
    answered_call = await gateway.call(f"CHAOS-{kind}", "GetConfiguration", v16.GetConfigurationRequest())
    assert answered_call.configuration_key


async def test_chaos_needs_a_simulated_charger_and_valid_settings(sandbox: Sandbox):
    site = (await sandbox.api.post("/api/locations", json=SITE)).json()
    own = (await sandbox.api.post("/api/chargers", json={
        "location_id": site["id"], "brand_slug": "voltstream", "model_slug": "homebox-7c", "identity": "OWN-1",
        "simulate": False})).json()
    refused = await sandbox.api.get(f"/api/chargers/{own['id']}/chaos")
    assert refused.status_code == 409 and "simulate" in refused.json()["message"]
    charger = await booted_charger(sandbox, "CHAOS-V")
    bad = await sandbox.api.put(f"/api/chargers/{charger['id']}/chaos", json={"drop_responses": 2})
    assert bad.status_code == 400 and "drop_responses" in bad.text
    unknown = await sandbox.api.post(f"/api/chargers/{charger['id']}/chaos/malformed-frame", json={"kind": "x"})
    assert unknown.status_code == 400
    other = await sandbox.api.get("/api/chargers/nope/chaos")
    assert other.status_code == 404
