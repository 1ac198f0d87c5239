"""Commands on simulated chargers through the management API: every command on an OCPP 1.6 and a 2.0.1 charger,
each checked in the charger's log by the unique ids the command reported; a location-wide command with an
offline, a busy and an unsimulated charger among the others; and tenant isolation of the command routes."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.conftest import Sandbox

SITE = {"name": "Depot", "address": "Laan 3", "city": "Delft", "country": "NLD", "latitude": "52.01160",
        "longitude": "4.35710", "time_zone": "Europe/Amsterdam"}
SLOW = 60.0  # a reset or reconnect includes a reboot; the machine may be busy


async def site(sandbox: Sandbox) -> dict:
    reply = await sandbox.api.post("/api/locations", json=SITE)
    assert reply.status_code == 201, reply.text
    return reply.json()


async def simulated_charger(sandbox: Sandbox, location_id: str, version: str, **extra: Any) -> dict:
    """Create a charger and wait until it is connected and its BootNotification accepted."""
    reply = await sandbox.api.post("/api/chargers", json={"location_id": location_id, "brand_slug": "northgrid",
                                                          "model_slug": "nordwall-22", "ocpp_version": version,
                                                          **extra})
    assert reply.status_code == 201, reply.text
    charger = reply.json()
    await charger_state(sandbox, charger["id"], lambda s: s["link"]["connected"] and
                        s["simulator"]["boot_status"] == "Accepted")
    return charger


async def charger_state(sandbox: Sandbox, charger_id: str, predicate, timeout: float = SLOW) -> dict:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        state = (await sandbox.api.get(f"/api/chargers/{charger_id}")).json()["state"]
        if predicate(state):
            return state
        assert asyncio.get_running_loop().time() < deadline, state
        await asyncio.sleep(0.1)


async def logged(sandbox: Sandbox, charger_id: str, frame: dict) -> dict:
    """The log entry of a frame a command reported (same unique id, action, direction and message type)."""
    await sandbox.service("frame_log").flush()
    items = (await sandbox.api.get(f"/api/chargers/{charger_id}/logs",
                                   params={"unique_id": frame["unique_id"]})).json()["items"]
    found = [i for i in items if (i["action"], i["direction"], i["message_type"]) ==
             (frame["action"], frame["direction"], frame["message_type"])]
    assert found, (frame, items)
    return found[0]


async def command(sandbox: Sandbox, charger_id: str, name: str, body: dict | None = None, *,
                  status: int = 200) -> dict:
    """Run a command; return its outcome (from the 409's details when refused), its frames checked in the log."""
    reply = await sandbox.api.post(f"/api/chargers/{charger_id}/commands/{name}", json=body, timeout=SLOW)
    assert reply.status_code == status, reply.text
    outcome = reply.json() if status == 200 else reply.json()["details"]
    for frame in outcome["frames"]:
        await logged(sandbox, charger_id, frame)
    return outcome


def actions(outcome: dict, direction: str = "sent") -> set[str]:
    return {f["action"] for f in outcome["frames"] if f["direction"] == direction and f["message_type"] == 2}


async def frame_text(sandbox: Sandbox, charger_id: str, outcome: dict, action: str) -> str:
    frame = next(f for f in outcome["frames"] if f["action"] == action and f["message_type"] == 2)
    return (await logged(sandbox, charger_id, frame))["frame"]


NAMES = {"1.6": {"heartbeat": "HeartbeatInterval", "pre_authorize": "LocalPreAuthorize", "unknown": "NoSuchKey",
                 "start": "StartTransaction", "stop": "StopTransaction", "lock_problem": "StatusNotification"},
         "2.0.1": {"heartbeat": "OCPPCommCtrlr.HeartbeatInterval", "pre_authorize": "AuthCtrlr.LocalPreAuthorize",
                   "unknown": "NoSuchCtrlr.Thing", "start": "TransactionEvent", "stop": "TransactionEvent",
                   "lock_problem": "NotifyEvent"}}


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_every_command_acts_on_the_simulated_charger_and_its_frames_are_in_the_log(sandbox: Sandbox, version):
    names = NAMES[version]
    location = await site(sandbox)
    charger = await simulated_charger(sandbox, location["id"], version)
    cid = charger["id"]

    # update-configuration: a one-second heartbeat shows in the log; an unknown key is refused by name.
    configured = await command(sandbox, cid, "update-configuration", {"configuration": {
        names["heartbeat"]: "1", names["pre_authorize"]: "true"}})
    assert {k: v["status"] for k, v in configured["result"]["keys"].items()} == {
        names["heartbeat"]: "Accepted", names["pre_authorize"]: "Accepted"}
    deadline = asyncio.get_running_loop().time() + SLOW
    while not (await sandbox.api.get(f"/api/chargers/{cid}/logs", params={"action": "Heartbeat"})).json()["items"]:
        assert asyncio.get_running_loop().time() < deadline, "no Heartbeat after HeartbeatInterval=1"
        await sandbox.service("frame_log").flush()
        await asyncio.sleep(0.2)
    await command(sandbox, cid, "update-configuration", {"configuration": {names["heartbeat"]: "3600"}})
    unknown = await command(sandbox, cid, "update-configuration", {"configuration": {names["unknown"]: "1"}},
                            status=409)
    assert unknown["error"] == "refused" and names["unknown"] in unknown["message"]

    # set-local-auth-list: with LocalPreAuthorize, a listed card starts charging without asking the CSMS.
    listed = await command(sandbox, cid, "set-local-auth-list", {"id_tokens": [
        {"id_token": "LOCAL1", "status": "Accepted"}, {"id_token": "BLOCKED1", "status": "Blocked"}]})
    assert listed["result"] == {"status": "Accepted", "list_version": 1, "entries": 2}
    plugged = await command(sandbox, cid, "plug-in")
    assert "StatusNotification" in actions(plugged) and plugged["settled"]
    swiped = await command(sandbox, cid, "swipe-card", {"id_token": "LOCAL1"})
    assert swiped["result"]["result"] == "authorized"
    assert "Authorize" not in actions(swiped) and names["start"] in actions(swiped)
    stopped = await command(sandbox, cid, "stop-transaction")
    assert names["stop"] in actions(stopped)

    # start-transaction with a card the list does not hold: Authorize goes to the CSMS first.
    started = await command(sandbox, cid, "start-transaction", {"id_token": "AB12"})
    assert {"Authorize", names["start"]} <= actions(started) and started["result"]["ok"]

    # unlock-connector: 1.6 ends the transaction (reason UnlockCommand); 2.0.1 refuses while it is authorized.
    if version == "1.6":
        unlocked = await command(sandbox, cid, "unlock-connector")
        assert unlocked["result"]["status"] == "Unlocked"
        assert '"UnlockCommand"' in await frame_text(sandbox, cid, unlocked, "StopTransaction")
    else:
        refused = await command(sandbox, cid, "unlock-connector", status=409)
        assert refused["result"]["status"] == "OngoingAuthorizedTransaction"
        await command(sandbox, cid, "stop-transaction")
        assert (await command(sandbox, cid, "unlock-connector"))["result"]["status"] == "Unlocked"
    # A stuck lock (chaos switch) makes the unlock fail, and the charger reports the problem.
    assert (await sandbox.api.put(f"/api/chargers/{cid}/chaos", json={"lock_failure": True})).status_code == 200
    stuck = await command(sandbox, cid, "unlock-connector", status=409)
    assert stuck["result"]["status"] == "UnlockFailed" and names["lock_problem"] in actions(stuck)
    assert "ConnectorLockFailure" in await frame_text(sandbox, cid, stuck, names["lock_problem"])
    await sandbox.api.put(f"/api/chargers/{cid}/chaos", json={})
    assert "StatusNotification" in actions(await command(sandbox, cid, "unplug"))

    # inject-fault / clear-fault: the connector goes Faulted and back.
    faulted = await command(sandbox, cid, "inject-fault", {"error_code": "GroundFailure"})
    assert '"Faulted"' in await frame_text(sandbox, cid, faulted, "StatusNotification")
    cleared = await command(sandbox, cid, "clear-fault")
    assert '"Available"' in await frame_text(sandbox, cid, cleared, "StatusNotification")
    no_fault = await command(sandbox, cid, "clear-fault", status=409)
    assert "has no fault" in no_fault["message"]

    # reset: the charger reboots (a local reset, as 2.0.1 says in its BootNotification) and boots again.
    reset = await command(sandbox, cid, "reset", {"type": "Soft"})
    assert "BootNotification" in actions(reset) and reset["settled"]
    if version == "2.0.1":
        assert '"LocalReset"' in await frame_text(sandbox, cid, reset, "BootNotification")

    # power-loss: the socket dies with the power; the charger comes back and boots.
    power = await command(sandbox, cid, "power-loss")
    assert "BootNotification" in actions(power)

    # disconnect/reconnect: offline, a command needs allow_offline; what happened offline follows the reconnect.
    down = await command(sandbox, cid, "disconnect", {"stay_offline": True})
    assert down["result"]["was_connected"] is True
    await charger_state(sandbox, cid, lambda s: not s["link"]["connected"])
    offline = await command(sandbox, cid, "plug-in", status=409)
    assert offline["error"] == "offline" and "allow_offline" in offline["message"]
    plugged_offline = await command(sandbox, cid, "plug-in", {"allow_offline": True})
    assert plugged_offline["result"]["ok"] and plugged_offline["frames"] == []
    back = await command(sandbox, cid, "reconnect")
    assert back["result"]["was_connected"] is False
    assert ("StatusNotification" if version == "1.6" else "TransactionEvent") in actions(back)
    await charger_state(sandbox, cid, lambda s: s["link"]["connected"])


async def test_commands_say_what_is_wrong_with_their_input(sandbox: Sandbox):
    location = await site(sandbox)
    charger = (await sandbox.api.post("/api/chargers", json={"location_id": location["id"], "brand_slug": "northgrid",
                                                             "model_slug": "nordwall-22", "simulate": False})).json()
    unknown = await sandbox.api.post(f"/api/chargers/{charger['id']}/commands/teleport")
    assert unknown.status_code == 404 and "plug-in" in unknown.json()["message"]
    empty = await sandbox.api.post(f"/api/chargers/{charger['id']}/commands/update-configuration", json={})
    assert empty.status_code == 422 and "configuration" in empty.json()["message"]
    full_without_status = await sandbox.api.post(
        f"/api/chargers/{charger['id']}/commands/set-local-auth-list",
        json={"id_tokens": [{"id_token": "A", "status": None}]})
    assert full_without_status.status_code == 422 and "Differential" in full_without_status.json()["message"]
    wrong_type = await sandbox.api.post(f"/api/chargers/{charger['id']}/commands/reset", json={"type": "Gentle"})
    assert wrong_type.status_code == 400 and "type" in wrong_type.json()["message"]
    not_simulated = await sandbox.api.post(f"/api/chargers/{charger['id']}/commands/plug-in")
    assert not_simulated.status_code == 409 and not_simulated.json()["details"]["error"] == "not_simulated"


async def test_a_location_command_reports_each_charger_and_offline_busy_or_unknown_ones_do_not_fail_it(
        sandbox: Sandbox):
    location = await site(sandbox)
    first = await simulated_charger(sandbox, location["id"], "1.6", identity="FAN-1")
    second = await simulated_charger(sandbox, location["id"], "2.0.1", identity="FAN-2")
    offline = await simulated_charger(sandbox, location["id"], "1.6", identity="FAN-3")
    own = (await sandbox.api.post("/api/chargers", json={"location_id": location["id"], "brand_slug": "northgrid",
                                                         "model_slug": "nordwall-22", "identity": "FAN-OWN",
                                                         "simulate": False})).json()
    await command(sandbox, offline["id"], "disconnect", {"stay_offline": True})
    url = f"/api/locations/{location['id']}/chargers/commands"

    reply = await sandbox.api.post(f"{url}/plug-in", timeout=SLOW)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    by_identity = {r["identity"]: r for r in body["results"]}
    assert (body["total"], body["succeeded"], body["failed"]) == (4, 2, 2)
    for charger in (first, second):
        outcome = by_identity[charger["identity"]]
        assert outcome["ok"] and outcome["charger_id"] == charger["id"] and "StatusNotification" in actions(outcome)
        for frame in outcome["frames"]:
            await logged(sandbox, charger["id"], frame)
    assert by_identity["FAN-3"]["error"] == "offline" and not by_identity["FAN-3"]["ok"]
    assert by_identity["FAN-OWN"]["error"] == "not_simulated" and by_identity["FAN-OWN"]["charger_id"] == own["id"]

    # A subset by id or identity; a name that is not at this location is reported, not fatal.
    subset = (await sandbox.api.post(f"{url}/unplug", json={"charger_ids": [first["id"], "FAN-2", "FAN-2", "NOPE"]},
                                     timeout=SLOW)).json()
    assert [(r["identity"], r["ok"], r["error"]) for r in subset["results"]] == [
        ("FAN-1", True, None), ("FAN-2", True, None), ("NOPE", False, "not_found")]

    # A charger busy with a command answers "busy", alone or in a location command.
    commands = sandbox.service("fleet_commands")
    resetting = asyncio.create_task(sandbox.api.post(f"/api/chargers/{first['id']}/commands/reset", timeout=SLOW))
    deadline = asyncio.get_running_loop().time() + SLOW
    while commands.busy_with("FAN-1") != "reset":
        assert asyncio.get_running_loop().time() < deadline and not resetting.done()
        await asyncio.sleep(0.01)
    busy = await sandbox.api.post(f"/api/chargers/{first['id']}/commands/plug-in", timeout=SLOW)
    assert busy.status_code == 409 and busy.json()["details"]["error"] == "busy"
    fanned = (await sandbox.api.post(f"{url}/swipe-card", json={"charger_ids": ["FAN-1"]}, timeout=SLOW)).json()
    assert fanned["results"][0]["error"] == "busy"
    assert (await resetting).status_code == 200

    missing = await sandbox.api.post("/api/locations/no-such-location/chargers/commands/plug-in")
    assert missing.status_code == 404
    bad = await sandbox.api.post(f"{url}/update-configuration", json={})
    assert bad.status_code == 422


async def test_command_routes_hide_other_tenants_chargers_and_locations(sandbox: Sandbox):
    tokens = {}
    for name in ("alpha", "beta"):
        tokens[name] = (await sandbox.api.post("/api/tenants", json={"name": name})).json()["token"]
    alpha = httpx.AsyncClient(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {tokens['alpha']}"})
    beta = httpx.AsyncClient(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {tokens['beta']}"})
    try:
        location = (await alpha.post("/api/locations", json=SITE)).json()
        charger = (await alpha.post("/api/chargers", json={"location_id": location["id"], "brand_slug": "northgrid",
                                                           "model_slug": "nordwall-22", "identity": "ALPHA-1"})).json()
        for url in (f"/api/chargers/{charger['id']}/commands/plug-in",
                    f"/api/locations/{location['id']}/chargers/commands/plug-in"):
            reply = await beta.post(url, timeout=SLOW)
            assert reply.status_code == 404 and reply.json()["error"] == "not_found", (url, reply.text)
        # Naming alpha's charger in beta's own location reaches nothing either.
        beta_site = (await beta.post("/api/locations", json=SITE)).json()
        reply = await beta.post(f"/api/locations/{beta_site['id']}/chargers/commands/plug-in",
                                json={"charger_ids": [charger["id"], "ALPHA-1"]}, timeout=SLOW)
        assert [r["error"] for r in reply.json()["results"]] == ["not_found", "not_found"]
        assert sandbox.service("fleet_commands").busy_with("ALPHA-1") is None
    finally:
        await alpha.aclose()
        await beta.aclose()
