"""OCPI ChargingProfiles, CPO as Receiver: an eMSP over loopback sets, reads and clears the charging profile of its
session on a simulated charger (2.0.1 and 1.6), gets every result at its response_url, and is told with an
unsolicited ActiveChargingProfile PUT when the CPO changes the limit; unknown sessions, invalid requests and a
charger that rejects the profile get the answers the spec gives them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ocpi_sandbox.db.models import CpoSession, CsmsMeterSample
from tests.conftest import Sandbox, run_sandbox
from tests.ocpi.test_commands_module import TOKEN
from tests.peers.registration import RegisteredEmsp, registered_emsp
from tests.peers.waiting import eventually
from tests.test_simulated_chargers import SITE
from tests.test_smart_charging import FAST_METER

# Chargers that take limits in W only, so a profile in A is one they reject.
WATTS_ONLY = {"1.6": {"ChargingScheduleAllowedChargingRateUnit": "Power"},
              "2.0.1": {"SmartChargingCtrlr.RateUnit": "W"}}


async def result(reg: RegisteredEmsp, ref: str) -> dict:
    async def arrived():
        return reg.emsp.profile_results.get(ref)
    return await eventually(arrived, 30)


async def latest_power(sandbox: Sandbox, session_id: str) -> float | None:
    async with sandbox.service("sessions")() as db:
        tx_pk = (await db.get(CpoSession, session_id)).transaction_pk
        sample = await db.scalar(select(CsmsMeterSample).where(
            CsmsMeterSample.transaction_pk == tx_pk, CsmsMeterSample.power_w.is_not(None))
            .order_by(CsmsMeterSample.at.desc()).limit(1))
        await db.commit()
    return None if sample is None else sample.power_w


@pytest.mark.parametrize("ocpi_version, ocpp_version", [("2.2.1", "2.0.1"), ("2.3.0", "1.6")])
async def test_emsp_sets_reads_and_clears_the_profile_of_its_session(sandbox: Sandbox, ocpi_version: str,
                                                                      ocpp_version: str):
    async with registered_emsp(sandbox, ocpi_version) as reg:
        details = (await reg.client.get(f"/ocpi/{ocpi_version}")).json()["data"]["endpoints"]
        assert {"identifier": "chargingprofiles", "role": "RECEIVER",
                "url": f"{sandbox.base_url}/ocpi/{ocpi_version}/chargingprofiles"} in details
        charger, session_id = await session_on_a_charger(
            sandbox, reg, f"CP-{ocpp_version}", ocpp_version,
            configuration={**FAST_METER[ocpp_version], **WATTS_ONLY[ocpp_version]})

        # PUT: a 7 kW limit for the session; the car (11 kW on board) slows down to it.
        put = await reg.client.put(reg.url(f"chargingprofiles/{session_id}"), json={
            "response_url": reg.emsp.profile_result_url("set", "put-1"),
            "charging_profile": {"charging_rate_unit": "W", "charging_profile_period": [
                {"start_period": 0, "limit": 7000.0}]}})
        assert put.json()["status_code"] == 1000 and put.json()["data"] == {"result": "ACCEPTED", "timeout": 30}
        assert (await result(reg, "put-1")) == {"result": "ACCEPTED"}

        async def slowed():
            return await latest_power(sandbox, session_id) == pytest.approx(7000, rel=0.01)

        await eventually(slowed, 30)

        # GET: the ActiveChargingProfile as the charger computes it.
        get = await reg.client.get(reg.url(f"chargingprofiles/{session_id}"), params={
            "duration": 900, "response_url": reg.emsp.profile_result_url("active", "get-1")})
        assert get.json()["data"]["result"] == "ACCEPTED"
        active = await result(reg, "get-1")
        assert active["result"] == "ACCEPTED"
        profile = active["profile"]["charging_profile"]
        assert profile["charging_rate_unit"] == "W" and profile["duration"] == 900
        assert profile["charging_profile_period"][0] == {"start_period": 0, "limit": 7000.0}

        # The CPO lowers the station's limit: the eMSP that set a profile hears of it unasked.
        limited = await sandbox.api.put(f"/api/chargers/{charger['id']}/power-limit",
                                        json={"limit": {"acMaxPowerKw": 5}, "comment": "grid congestion"})
        assert limited.status_code == 200 and limited.json()["status"] == "Accepted", limited.text

        async def told():
            return [b for m, path, b in reg.emsp.pushes
                    if m == "PUT" and path == f"/emsp/{ocpi_version}/chargingprofiles/{session_id}"]

        [unasked] = await eventually(told, 30)
        assert unasked["charging_profile"]["charging_profile_period"][0]["limit"] == 5000.0

        # A profile in A on a charger that takes W only: accepted for processing, rejected by the charger.
        in_amps = await reg.client.put(reg.url(f"chargingprofiles/{session_id}"), json={
            "response_url": reg.emsp.profile_result_url("set", "put-2"),
            "charging_profile": {"charging_rate_unit": "A", "charging_profile_period": [
                {"start_period": 0, "limit": 10.0}]}})
        assert in_amps.json()["data"]["result"] == "ACCEPTED"
        assert (await result(reg, "put-2")) == {"result": "REJECTED"}

        # DELETE: the eMSP's profile goes; only the station's 5 kW remains.
        cleared = await reg.client.delete(reg.url(f"chargingprofiles/{session_id}"), params={
            "response_url": reg.emsp.profile_result_url("clear", "del-1")})
        assert cleared.json()["data"]["result"] == "ACCEPTED"
        assert (await result(reg, "del-1")) == {"result": "ACCEPTED"}
        assert (await sandbox.api.delete(f"/api/chargers/{charger['id']}/power-limit")).status_code == 200

        assert reg.emsp.schema_errors == []
        log = (await sandbox.api.get(f"/api/partners/{reg.party['partner_id']}/log")).json()["items"]
        assert any(e["direction"] == "outbound" and e["url"].endswith("/profile-results/set/put-1") for e in log)


async def test_unknown_sessions_and_invalid_requests_get_ocpi_answers(sandbox: Sandbox):
    async with registered_emsp(sandbox, "2.2.1") as reg:
        profile = {"charging_rate_unit": "W", "charging_profile_period": [{"start_period": 0, "limit": 3000.0}]}
        unknown = await reg.client.put(reg.url("chargingprofiles/NO-SUCH-SESSION"), json={
            "response_url": reg.emsp.profile_result_url("set", "x"), "charging_profile": profile})
        assert unknown.status_code == 200 and unknown.json()["data"] == {"result": "UNKNOWN_SESSION", "timeout": 30}
        unknown_get = await reg.client.get(reg.url("chargingprofiles/NO-SUCH-SESSION"), params={
            "duration": 60, "response_url": reg.emsp.profile_result_url("active", "y")})
        assert unknown_get.json()["data"]["result"] == "UNKNOWN_SESSION"
        unknown_delete = await reg.client.delete(reg.url("chargingprofiles/NO-SUCH-SESSION"), params={
            "response_url": reg.emsp.profile_result_url("clear", "z")})
        assert unknown_delete.json()["data"]["result"] == "UNKNOWN_SESSION"

        no_unit = await reg.client.put(reg.url("chargingprofiles/S1"), json={
            "response_url": reg.emsp.profile_result_url("set", "x"),
            "charging_profile": {"charging_profile_period": []}})
        assert no_unit.json()["status_code"] == 2001 and "charging_rate_unit" in no_unit.json()["status_message"]
        no_periods = await reg.client.put(reg.url("chargingprofiles/S1"), json={
            "response_url": reg.emsp.profile_result_url("set", "x"),
            "charging_profile": {"charging_rate_unit": "W", "charging_profile_period": []}})
        assert no_periods.json()["status_code"] == 2001
        no_duration = await reg.client.get(reg.url("chargingprofiles/S1"), params={
            "response_url": reg.emsp.profile_result_url("active", "y")})
        assert no_duration.json()["status_code"] == 2001 and "duration" in no_duration.json()["status_message"]
        no_url = await reg.client.delete(reg.url("chargingprofiles/S1"))
        assert no_url.json()["status_code"] == 2001 and "response_url" in no_url.json()["status_message"]
        assert reg.emsp.profile_results == {}


async def session_on_a_charger(sandbox: Sandbox, reg: RegisteredEmsp, identity: str, ocpp_version: str = "2.0.1",
                               *, configuration: dict | None = None) -> tuple[dict, str]:
    """A charger of the eMSP's CPO party (default: 2.0.1, fast meter values) with a session the eMSP started: the
    charger and the session id."""
    site = (await sandbox.api.post("/api/locations", json={**SITE, "cpo_party_id": reg.party["id"]})).json()
    created = await sandbox.api.post("/api/chargers", json={
        "location_id": site["id"], "brand_slug": "northgrid", "model_slug": "nordwall-22",
        "ocpp_version": ocpp_version, "identity": identity,
        "configuration": configuration if configuration is not None else FAST_METER[ocpp_version]})
    assert created.status_code == 201, created.text
    charger = created.json()

    async def booted():
        state = (await sandbox.api.get(f"/api/chargers/{charger['id']}")).json()["state"]
        return state["connected"] and state["boot_status"] == "Accepted"

    await eventually(booted, 60)
    start = await reg.client.post(reg.url("commands/START_SESSION"), json={
        "response_url": reg.emsp.response_url("start"), "token": TOKEN, "location_id": site["ocpi_id"],
        "evse_uid": f"{identity}-1"})
    assert start.json()["data"]["result"] == "ACCEPTED"

    async def active_session():
        found = (await reg.client.get(reg.url("sessions?date_from=2020-01-01T00:00:00Z"))).json()["data"]
        return found[0]["id"] if found else None

    return charger, await eventually(active_session, 30)


SEVEN_KW = {"charging_rate_unit": "W", "charging_profile_period": [{"start_period": 0, "limit": 7000.0}]}


async def test_a_profile_request_while_the_previous_is_carried_out_is_too_often(sandbox: Sandbox):
    async with registered_emsp(sandbox, "2.2.1") as reg:
        charger, session_id = await session_on_a_charger(sandbox, reg, "CP-BUSY")
        # The charger takes two seconds to answer: the first PUT is still being carried out meanwhile.
        slow = await sandbox.api.put(f"/api/chargers/{charger['id']}/chaos", json={"response_delay": 2})
        assert slow.status_code == 200, slow.text
        first = await reg.client.put(reg.url(f"chargingprofiles/{session_id}"), json={
            "response_url": reg.emsp.profile_result_url("set", "first"), "charging_profile": SEVEN_KW})
        assert first.json()["data"] == {"result": "ACCEPTED", "timeout": 30}

        again = await reg.client.put(reg.url(f"chargingprofiles/{session_id}"), json={
            "response_url": reg.emsp.profile_result_url("set", "again"), "charging_profile": SEVEN_KW})
        # A valid answer, not an error: HTTP 200, envelope 1000, ChargingProfileResponse TOO_OFTEN.
        assert again.status_code == 200
        assert again.json()["status_code"] == 1000 and again.json()["data"] == {"result": "TOO_OFTEN", "timeout": 30}
        cleared = await reg.client.delete(reg.url(f"chargingprofiles/{session_id}"), params={
            "response_url": reg.emsp.profile_result_url("clear", "clear")})
        assert cleared.json()["data"]["result"] == "TOO_OFTEN"
        # Reading the active profile changes nothing on the charger: never too often.
        read = await reg.client.get(reg.url(f"chargingprofiles/{session_id}"), params={
            "duration": 60, "response_url": reg.emsp.profile_result_url("active", "read")})
        assert read.json()["data"]["result"] == "ACCEPTED"

        assert (await result(reg, "first")) == {"result": "ACCEPTED"}
        # Requests answered TOO_OFTEN were not carried out: no result follows for them.
        assert "again" not in reg.emsp.profile_results and "clear" not in reg.emsp.profile_results
        await sandbox.api.put(f"/api/chargers/{charger['id']}/chaos", json={})
        # The first one is done; with no minimum interval set the next one is taken at once.
        after = await reg.client.delete(reg.url(f"chargingprofiles/{session_id}"), params={
            "response_url": reg.emsp.profile_result_url("clear", "after")})
        assert after.json()["data"]["result"] == "ACCEPTED"
        assert (await result(reg, "after")) == {"result": "ACCEPTED"}
        assert reg.emsp.schema_errors == []


async def test_a_profile_request_within_the_minimum_interval_is_too_often(sqlite_url: str):
    async with run_sandbox(sqlite_url, ocpi_charging_profile_min_interval=60) as sandbox, \
            registered_emsp(sandbox, "2.2.1") as reg:
        _, session_id = await session_on_a_charger(sandbox, reg, "CP-CALM")
        first = await reg.client.put(reg.url(f"chargingprofiles/{session_id}"), json={
            "response_url": reg.emsp.profile_result_url("set", "first"), "charging_profile": SEVEN_KW})
        assert first.json()["data"]["result"] == "ACCEPTED"
        assert (await result(reg, "first")) == {"result": "ACCEPTED"}
        # Carried out already, but less than a minute ago.
        soon = await reg.client.delete(reg.url(f"chargingprofiles/{session_id}"), params={
            "response_url": reg.emsp.profile_result_url("clear", "soon")})
        assert soon.json()["status_code"] == 1000 and soon.json()["data"] == {"result": "TOO_OFTEN", "timeout": 30}
