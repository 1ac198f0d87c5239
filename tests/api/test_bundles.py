"""Presets and bundles in the management API: a preset becomes a live CPO (party, tariffs, locations, chargers
booted on the embedded CSMS, versions URL and token A) through a durable job, and DELETE takes it all away."""

from __future__ import annotations

import json

import pytest

from ocpi_sandbox.domain.presets import PresetError, list_presets, parse_preset
from tests.conftest import Sandbox
from tests.peers.bundle import ready_bundle, registered_with_bundle
from tests.peers.waiting import eventually


def test_every_preset_loads_and_the_four_kinds_exist():
    presets = {p.name: p for p in list_presets()}
    assert {"small-urban-ac", "highway-dc-hub", "fleet-depot", "mixed-city"} <= set(presets)
    fleet = presets["fleet-depot"]
    assert {g.ocpp_version for loc in fleet.locations for g in loc.chargers} == {"2.0.1"}
    assert sum(g.count for loc in fleet.locations for g in loc.chargers) >= 10
    mixed = presets["mixed-city"]
    assert {g.ocpp_version for loc in mixed.locations for g in loc.chargers} == {"1.6", "2.0.1"}
    assert len({loc.time_zone for loc in mixed.locations}) >= 3
    components = {c["type"] for t in mixed.tariffs for e in t.elements for c in e["price_components"]}
    assert components == {"FLAT", "ENERGY", "TIME", "PARKING_TIME"}
    assert any("start_time" in (e.get("restrictions") or {}) for t in mixed.tariffs for e in t.elements)


@pytest.mark.parametrize("old, new, fragment", [
    ('model = "citypost-duo-11"', 'model = "no-such-model"', "unknown model"),
    ('tariff_ids = ["AC-STREET"]', 'tariff_ids = ["NOPE"]', "not one of this preset's tariffs"),
    ('time_zone = "Europe/Amsterdam"', 'time_zone = "Mars/Olympus"', "not an IANA time zone"),
    ('model = "citypost-duo-11"\n  ocpp_version = "1.6"', 'model = "citypost-duo-11"\n  ocpp_version = "2.0.1"',
     "speaks OCPP 1.6, not 2.0.1"),
    ('[cpo]', '[cpo]\nlogo = "x"', "Object contains unknown field `logo`"),
])
def test_a_broken_preset_is_refused_naming_what_to_fix(old, new, fragment):
    from ocpi_sandbox.paths import data_dir

    text = (data_dir("presets") / "small-urban-ac.toml").read_text()
    assert old in text
    with pytest.raises(PresetError, match=fragment):
        parse_preset(text.replace(old, new, 1), "small-urban-ac.toml")


async def test_presets_are_listed_with_their_shape(sandbox: Sandbox):
    presets = {p["name"]: p for p in (await sandbox.api.get("/api/presets")).json()}
    hub = presets["highway-dc-hub"]
    assert hub["power_types"] == ["DC"] and hub["locations"] == 1 and hub["cpo"]["party_id"] == "HWY"
    assert presets["mixed-city"]["ocpp_versions"] == ["1.6", "2.0.1"]
    one = (await sandbox.api.get("/api/presets/fleet-depot")).json()
    assert one["preset"]["locations"][0]["chargers"][0]["ocpp_version"] == "2.0.1"
    missing = await sandbox.api.get("/api/presets/nope")
    assert missing.status_code == 404 and "small-urban-ac" in missing.json()["message"]


async def test_bundle_from_a_preset_is_live_and_delete_tears_it_down(sandbox: Sandbox):
    bundle = await ready_bundle(sandbox.api, "small-urban-ac")
    assert bundle["party"]["country_code"] == "NL" and bundle["party"]["party_id"] == "SUA"
    assert bundle["versions_url"] == sandbox.versions_url and bundle["token_a"].startswith("sbx-a-")
    assert [loc["ocpi_id"] for loc in bundle["locations"]] == ["NLSUA-DAM", "NLSUA-JORDAAN", "NLSUA-OOST"]
    chargers = [c for loc in bundle["locations"] for c in loc["chargers"]]
    assert len(chargers) == 4 and all(c["connected"] and c["boot_status"] == "Accepted" for c in chargers)
    assert {c["ocpp_version"] for c in chargers} == {"1.6", "2.0.1"}
    assert [t["ocpi_id"] for t in bundle["tariffs"]] == ["AC-STREET"] and bundle["test_tokens"]
    fleet = sandbox.service("charger_fleet").fleet
    assert all(fleet.link(c["identity"]) is not None for c in chargers)
    # Token A works at the versions endpoint (and only there, until an eMSP registers with it).
    versions = await sandbox.http.get(bundle["versions_url"], headers={"Authorization": f"Token {bundle['token_a']}"})
    assert versions.status_code == 200

    listed = (await sandbox.api.get("/api/bundles")).json()
    assert [(b["id"], b["status"]) for b in listed] == [(bundle["id"], "READY")] and listed[0]["locations"] is None

    gone = await sandbox.api.delete(f"/api/bundles/{bundle['id']}")
    assert gone.status_code == 204
    assert (await sandbox.api.get(f"/api/bundles/{bundle['id']}")).status_code == 404
    assert (await sandbox.api.get(f"/api/parties/{bundle['party']['id']}")).status_code == 404
    assert (await sandbox.api.get("/api/locations")).json()["items"] == []
    assert all(fleet.link(c["identity"]) is None for c in chargers)
    assert (await sandbox.api.get(f"/api/chargers/{chargers[0]['id']}")).status_code == 404


async def test_a_preset_runs_twice_with_another_identity_and_the_same_one_is_409(sandbox: Sandbox):
    first = await ready_bundle(sandbox.api, "small-urban-ac")
    again = await sandbox.api.post("/api/bundles", json={"preset": "small-urban-ac"})
    assert again.status_code == 409 and "party_id" in again.json()["message"]
    second = await ready_bundle(sandbox.api, "small-urban-ac", party_id="sub", name="Second")
    assert second["party"]["party_id"] == "SUB" and second["name"] == "Second"
    assert second["locations"][0]["ocpi_id"] == "NLSUB-DAM"
    identities = {c["identity"] for b in (first, second) for loc in b["locations"] for c in loc["chargers"]}
    assert len(identities) == 8


async def test_bundle_requests_are_checked_and_idempotent(sandbox: Sandbox):
    unknown = await sandbox.api.post("/api/bundles", json={"preset": "no-such-preset"})
    assert unknown.status_code == 404 and "small-urban-ac" in unknown.json()["message"]
    bad = await sandbox.api.post("/api/bundles", json={"preset": "small-urban-ac", "party_id": "TOOLONG"})
    assert bad.status_code == 400
    headers = {"Idempotency-Key": "bundle-once"}
    one = await sandbox.api.post("/api/bundles", json={"preset": "small-urban-ac"}, headers=headers)
    two = await sandbox.api.post("/api/bundles", json={"preset": "small-urban-ac"}, headers=headers)
    assert one.status_code == two.status_code == 202
    assert one.json()["job_id"] == two.json()["job_id"] and one.json()["bundle_id"] == two.json()["bundle_id"]

    async def ready() -> bool:
        return (await sandbox.api.get(one.json()["status_url"])).json()["status"] == "READY"

    await eventually(ready, 120, 0.2, "bundle READY")
    jobs = (await sandbox.api.get("/api/jobs")).json()["items"]
    assert [j["kind"] for j in jobs] == ["bundle"]


async def swipe(sandbox: Sandbox, charger: dict, uid: str, evse_id: int, *, plug: bool = False) -> str:
    """Present a card at a bundle charger's EVSE; return the status the CSMS answered its Authorize with."""
    commands = f"/api/chargers/{charger['id']}/commands"
    if plug:
        assert (await sandbox.api.post(f"{commands}/plug-in", json={"evse_id": evse_id})).status_code == 200
    reply = await sandbox.api.post(f"{commands}/swipe-card", json={"id_token": uid, "evse_id": evse_id}, timeout=60)
    assert reply.status_code == 200, reply.text
    call = next(f for f in reply.json()["frames"] if f["action"] == "Authorize" and f["message_type"] == 2)
    await sandbox.service("frame_log").flush()
    log = (await sandbox.api.get(f"/api/chargers/{charger['id']}/logs",
                                 params={"unique_id": call["unique_id"]})).json()["items"]
    answer = next(json.loads(i["frame"]) for i in log if i["message_type"] == 3)
    return answer[2]["idTagInfo"]["status"]


async def test_preset_test_cards_are_tokens_of_the_emsp_that_registers_with_the_bundle(sandbox: Sandbox):
    bundle = await ready_bundle(sandbox.api, "small-urban-ac")
    cards = {t["uid"]: t for t in bundle["test_tokens"]}
    assert set(cards) == {"04A1B2C3D4E5F6", "04F6E5D4C3B2A1"}
    assert all(t["stored"] and (t["country_code"], t["party_id"]) == ("NL", "TST") for t in cards.values())
    assert cards["04A1B2C3D4E5F6"]["contract_id"] == "NL-TST-C04A1B2C3D4E5F6"
    dam, dam2 = bundle["locations"][0]["chargers"]
    jordaan = bundle["locations"][1]["chargers"][0]
    assert {c["ocpp_version"] for c in (dam, dam2, jordaan)} == {"1.6"}

    # No eMSP yet: the whitelisted card is authorized locally; the NEVER card has nobody to ask, so it is refused.
    assert await swipe(sandbox, dam, "04A1B2C3D4E5F6", 1) == "Accepted"
    assert await swipe(sandbox, dam, "04F6E5D4C3B2A1", 2) == "Invalid"

    async with registered_with_bundle(sandbox, bundle) as reg:
        emsp = reg.emsp
        emsp.authorizations["04F6E5D4C3B2A1"] = "BLOCKED"
        # The NEVER card is now asked of the eMSP that registered with the bundle, whose answer decides.
        assert await swipe(sandbox, dam2, "04F6E5D4C3B2A1", 1) == "Blocked"
        assert [uid for uid, _ in emsp.authorize_requests] == ["04F6E5D4C3B2A1"]
        # An unknown card: asked of the eMSP, which does not know it either; then the unknown-token policy (accept).
        assert await swipe(sandbox, dam2, "04UNKNOWN00001", 2) == "Accepted"
        assert [uid for uid, _ in emsp.authorize_requests] == ["04F6E5D4C3B2A1", "04UNKNOWN00001"]
        # The whitelisted card charges without asking anyone, and its session is the eMSP's.
        assert await swipe(sandbox, jordaan, "04A1B2C3D4E5F6", 1, plug=True) == "Accepted"
        put = await eventually(lambda: next((b for m, p, b in emsp.pushes if m == "PUT" and "/sessions/" in p), None),
                               30, what="Session PUT of the test card")
        assert put["auth_method"] == "WHITELIST" and put["evse_uid"] == jordaan["evse_uids"][0]
        assert put["cdr_token"] == {"country_code": "NL", "party_id": "TST", "uid": "04A1B2C3D4E5F6", "type": "RFID",
                                    "contract_id": "NL-TST-C04A1B2C3D4E5F6"}
        assert len(emsp.authorize_requests) == 2 and emsp.schema_errors == []
