"""Smart charging end to end: power limits set through the charger operations API reach simulated chargers on the
embedded CSMS as charging profiles (1.6 and 2.0.1), the chargers' meter values follow them within one interval,
and the OCPI session and CDR show the effect (kWh growth, charging periods cut at the limit changes)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from ocpi_sandbox.db.models import CpoSession, CsmsMeterSample, CsmsTransaction
from ocpi_sandbox.simulator.ev import GENERIC_EVS, EvProfile
from tests.conftest import Sandbox
from tests.ocpi.test_commands_module import TOKEN
from tests.peers.registration import registered_emsp
from tests.peers.waiting import eventually
from tests.test_simulated_chargers import SITE

# Meter values every second, so "within one interval" is a second and the test runs in seconds.
FAST_METER = {"1.6": {"MeterValueSampleInterval": "1"}, "2.0.1": {"SampledDataCtrlr.TxUpdatedInterval": "1"}}
# The car is plugged in before the eMSP's START_SESSION: the transaction starts when the driver is authorized.
AUTHORIZED_START = {"1.6": {}, "2.0.1": {"TxCtrlr.TxStartPoint": "Authorized"}}
AC_22KW_EV = GENERIC_EVS["sedan-800v-84"]  # a 22 kW on-board charger: the 22 kW wallbox is the limit


async def create_charger(sandbox: Sandbox, site: dict, model: str, version: str, identity: str) -> dict:
    created = await sandbox.api.post("/api/chargers", json={
        "location_id": site["id"], "brand_slug": "northgrid" if model.startswith("nordwall") else "ionforge",
        "model_slug": model, "ocpp_version": version, "identity": identity,
        "configuration": {**FAST_METER[version], **AUTHORIZED_START[version]}})
    assert created.status_code == 201, created.text
    charger = created.json()

    async def booted():
        state = (await sandbox.api.get(f"/api/chargers/{charger['id']}")).json()["state"]
        return state["connected"] and state["boot_status"] == "Accepted" and state["connectors"]

    await eventually(booted, 60)
    return charger


def plug(sandbox: Sandbox, identity: str, evse_id: int, ev: EvProfile) -> None:
    """The driver plugs a particular car in (the API's plug-in command plugs the default one)."""
    link = sandbox.service("charger_fleet").fleet.link(identity)
    link.station.plug_in(evse_id, 1, ev, time.monotonic())
    link.pump()


async def samples_since(sandbox: Sandbox, transaction_pk: str, since: datetime) -> list[CsmsMeterSample]:
    async with sandbox.service("sessions")() as session:
        rows = (await session.scalars(select(CsmsMeterSample).where(
            CsmsMeterSample.transaction_pk == transaction_pk, CsmsMeterSample.at >= since,
            CsmsMeterSample.power_w.is_not(None)).order_by(CsmsMeterSample.at))).all()
        await session.commit()
    return list(rows)


async def power_settles(sandbox: Sandbox, transaction_pk: str, since: datetime, watts: float,
                        count: int = 3) -> list[CsmsMeterSample]:
    """Wait for ``count`` meter samples after ``since`` that all show ``watts`` (1 %), and return them."""
    async def settled():
        rows = await samples_since(sandbox, transaction_pk, since)
        return rows if len(rows) >= count and all(r.power_w == pytest.approx(watts, rel=0.01) for r in rows) \
            else None
    return await eventually(settled, 60)


def growth_kw(rows: list[CsmsMeterSample]) -> float:
    """The mean power the energy register shows between the first and last sample."""
    hours = (rows[-1].at - rows[0].at).total_seconds() / 3600
    return (rows[-1].energy_wh - rows[0].energy_wh) / 1000 / hours


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_22kw_ac_session_limited_to_11kw_mid_session_then_restored(sandbox: Sandbox, version: str):
    async with registered_emsp(sandbox, "2.2.1") as reg:
        site = (await sandbox.api.post("/api/locations", json={**SITE, "cpo_party_id": reg.party["id"]})).json()
        identity = f"SC-AC-{version}"
        charger = await create_charger(sandbox, site, "nordwall-22", version, identity)
        plug(sandbox, identity, 1, AC_22KW_EV)
        start = await reg.client.post(reg.url("commands/START_SESSION"), json={
            "response_url": reg.emsp.response_url("start"), "token": TOKEN, "location_id": site["ocpi_id"],
            "evse_uid": f"{identity}-1"})
        assert start.json()["data"]["result"] == "ACCEPTED"

        async def ocpi_session():
            found = (await reg.client.get(reg.url("sessions?date_from=2020-01-01T00:00:00Z"))).json()["data"]
            return found[0] if found else None

        session_id = (await eventually(ocpi_session))["id"]
        async with sandbox.service("sessions")() as db:
            tx_pk = (await db.get(CpoSession, session_id)).transaction_pk
            await db.commit()
        before = await power_settles(sandbox, tx_pk, datetime.now().astimezone() - timedelta(minutes=1), 22_080)
        assert growth_kw(before) == pytest.approx(22.08, rel=0.1)

        # Another organization cannot touch the session (it does not exist for them).
        other = (await sandbox.api.post("/api/tenants", json={"name": "other"})).json()
        foreign = await sandbox.http.put(f"/api/sessions/{session_id}/power-limit", json={"limit": {"acMaxPowerA": 6}},
                                         headers={"Authorization": f"Bearer {other['token']}"})
        assert foreign.status_code == 404 and foreign.json()["error"] == "not_found"

        # Limit the session to 11 kW: every meter value from one interval after the charger's answer shows it.
        reply = await sandbox.api.put(f"/api/sessions/{session_id}/power-limit", json={"limit": {"acMaxPowerKw": 11}})
        limited_at = datetime.now().astimezone()
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["status"] == "Accepted" and body["chargingProfileId"] == 920_001
        assert body["chargingProfile"]["chargingProfilePurpose"] == "TxProfile"
        sent = body["stationResponse"]["request"]
        assert ("csChargingProfiles" if version == "1.6" else "chargingProfile") in sent
        limited = await power_settles(sandbox, tx_pk, limited_at + timedelta(seconds=1), 11_000, count=4)
        assert growth_kw(limited) == pytest.approx(11.0, rel=0.1)
        kwh_then = (await ocpi_session())["kwh"]
        await asyncio.sleep(6)
        kwh_grown = (await ocpi_session())["kwh"] - kwh_then
        assert kwh_grown == pytest.approx(11.0 * 6 / 3600, rel=0.4)  # half what 22 kW would add

        composite = await sandbox.api.get(f"/api/chargers/{charger['id']}/evses/1/composite-schedule",
                                          params={"duration": 600})
        assert composite.status_code == 200, composite.text
        assert composite.json()["periods"][0]["limitW"] == pytest.approx(11_000)

        # Remove the limit: back to 22 kW within one interval.
        removed = await sandbox.api.delete(f"/api/sessions/{session_id}/power-limit")
        cleared_at = datetime.now().astimezone()
        assert removed.status_code == 200 and removed.json()["status"] == "Accepted", removed.text
        restored = await power_settles(sandbox, tx_pk, cleared_at + timedelta(seconds=1), 22_080, count=4)
        assert growth_kw(restored) == pytest.approx(22.08, rel=0.1)

        stop = await reg.client.post(reg.url("commands/STOP_SESSION"), json={
            "response_url": reg.emsp.response_url("stop"), "session_id": session_id})
        assert stop.json()["data"]["result"] == "ACCEPTED"

        async def cdr():
            found = (await reg.client.get(reg.url("cdrs"))).json()["data"]
            return found[0] if found else None

        periods = [{d["type"]: d["volume"] for d in p["dimensions"]} for p in (await eventually(cdr))["charging_periods"]]
        charging = [p for p in periods if "TIME" in p and p.get("MAX_POWER")]
        # Cut where the limit changed: 22 kW, then 11 kW, then 22 kW again. (A meter value taken while the
        # charger was still applying the change may fall on either side of a cut, hence MIN for the middle.)
        assert len(charging) == 3, periods
        assert [charging[0]["MAX_POWER"], charging[1]["MIN_POWER"], charging[2]["MAX_POWER"]] == [
            pytest.approx(22.08, rel=0.02), pytest.approx(11.0, rel=0.02), pytest.approx(22.08, rel=0.02)]
        for period in charging:  # the kWh of each period match the power it was limited to
            assert period["ENERGY"] / period["TIME"] == pytest.approx(period["MIN_POWER"], rel=0.15)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_dc_station_limit_is_split_between_its_two_sessions(sandbox: Sandbox, version: str):
    site = (await sandbox.api.post("/api/locations", json=SITE)).json()
    identity = f"SC-DC-{version}"
    charger = await create_charger(sandbox, site, "forge-150", version, identity)
    fast = EvProfile(name="fast-dc", battery_kwh=100, ac_max_w=11_000, dc_max_w=150_000, dc_ramp_s=0,
                     initial_soc=20)
    link = sandbox.service("charger_fleet").fleet.link(identity)
    for evse_id, token in ((1, "DC-CARD-1"), (2, "DC-CARD-2")):
        plug(sandbox, identity, evse_id, fast)
        link.station.swipe_card(token, evse_id, time.monotonic())
        link.pump()

    def powers() -> list[float]:
        return [e["power_w"] for e in link.station.view()["evses"]]

    async def both_charging():
        return all(p > 40_000 for p in powers())

    await eventually(both_charging, 30)
    reply = await sandbox.api.put(f"/api/chargers/{charger['id']}/power-limit", json={"limit": {"dcMaxPowerKw": 60}})
    assert reply.status_code == 200 and reply.json()["status"] == "Accepted", reply.text
    assert reply.json()["chargingProfile"]["chargingProfilePurpose"] == "ChargingStationMaxProfile"

    async def split():
        return powers() == [pytest.approx(30_000, rel=0.02), pytest.approx(30_000, rel=0.02)]

    await eventually(split, 10)
    async with sandbox.service("sessions")() as db:
        txs = (await db.scalars(select(CsmsTransaction).where(CsmsTransaction.identity == identity,
                                                              CsmsTransaction.active.is_(True)))).all()
        await db.commit()
    assert len(txs) == 2
    since = datetime.now().astimezone() + timedelta(seconds=1.5)
    for tx in txs:  # the meter values the CSMS receives show the split too
        await power_settles(sandbox, tx.id, since, 30_000, count=2)
    composite = (await sandbox.api.get(f"/api/chargers/{charger['id']}/evses/0/composite-schedule",
                                       params={"duration": 300, "chargingRateUnit": "W"})).json()
    assert composite["periods"][0]["limitW"] == pytest.approx(60_000)

    removed = await sandbox.api.delete(f"/api/chargers/{charger['id']}/power-limit")
    assert removed.status_code == 200 and removed.json()["status"] == "Accepted"

    async def unlimited():
        return all(p > 50_000 for p in powers())

    await eventually(unlimited, 10)


async def test_operations_on_a_charger_not_on_the_embedded_csms_say_so(sandbox: Sandbox):
    site = (await sandbox.api.post("/api/locations", json=SITE)).json()
    created = await sandbox.api.post("/api/chargers", json={
        "location_id": site["id"], "brand_slug": "northgrid", "model_slug": "nordwall-22", "identity": "SC-OFF",
        "simulate": False})
    charger = created.json()
    offline = await sandbox.api.put(f"/api/chargers/{charger['id']}/power-limit", json={"limit": {"acMaxPowerA": 16}})
    assert offline.status_code == 409 and "not connected to the embedded CSMS" in offline.json()["message"]
    restart = await sandbox.api.post(f"/api/chargers/{charger['id']}/restart", json={"type": "OnIdle"})
    assert restart.status_code == 409
    both = await sandbox.api.put(f"/api/chargers/{charger['id']}/evses/1/power-limit",
                                 json={"limit": {"acMaxPowerA": 16, "acMaxPowerKw": 11}})
    assert both.status_code == 422 and "exactly one" in both.json()["message"]
    dc_on_ac = await sandbox.api.put(f"/api/chargers/{charger['id']}/evses/1/power-limit",
                                     json={"limit": {"dcMaxPowerKw": 50}})
    assert dc_on_ac.status_code == 422 and "acMaxPowerKw" in dc_on_ac.json()["message"]
    no_evse = await sandbox.api.put(f"/api/chargers/{charger['id']}/evses/9/power-limit",
                                    json={"limit": {"acMaxPowerA": 16}})
    assert no_evse.status_code == 404 and "EVSE 9" in no_evse.json()["message"]
    bad_profile = await sandbox.api.put(f"/api/chargers/{charger['id']}/charging-profiles", json={
        "chargingProfile": {"id": 1, "stackLevel": 0, "chargingProfilePurpose": "Max", "chargingProfileKind":
                            "Absolute", "chargingSchedule": []}})
    assert bad_profile.status_code == 400 and "chargingProfilePurpose" in bad_profile.json()["message"]
    no_session = await sandbox.api.put("/api/sessions/nope/power-limit", json={"limit": {"acMaxPowerA": 16}})
    assert no_session.status_code == 404
    evse = f"/api/chargers/{charger['id']}/evses/1"
    start = await sandbox.api.post(f"{evse}/start-transaction", json={"idToken": "CARD-1"})
    assert start.status_code == 409 and "not connected to the embedded CSMS" in start.json()["message"]
    no_cpo = await sandbox.api.post(f"{evse}/start-transaction", json={"idToken": "CARD-1", "ocpi": {}})
    assert no_cpo.status_code == 422 and "cpo_party_id" in no_cpo.json()["message"]
    no_connector = await sandbox.api.post(f"{evse}/start-transaction", json={"idToken": "CARD-1", "connectorId": 5})
    assert no_connector.status_code == 404 and "no connector 5" in no_connector.json()["message"]
    no_tx = await sandbox.api.post(f"/api/chargers/{charger['id']}/transactions/42/stop")
    assert no_tx.status_code == 404 and "no transaction 42" in no_tx.json()["message"]


ELEVEN_KW_TX_PROFILE = {"id": 77, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
                        "chargingProfileKind": "Relative", "chargingSchedule": [
                            {"chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11_000}]}]}


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_remote_start_with_a_tx_profile_and_ocpi_context_then_remote_stop(sandbox: Sandbox, version: str):
    async with registered_emsp(sandbox, "2.2.1") as reg:
        site = (await sandbox.api.post("/api/locations", json={**SITE, "cpo_party_id": reg.party["id"]})).json()
        identity = f"SC-RS-{version}"
        charger = await create_charger(sandbox, site, "nordwall-22", version, identity)
        evse = f"/api/chargers/{charger['id']}/evses/1"
        plug(sandbox, identity, 1, AC_22KW_EV)

        # The OCPI context must name a registered eMSP of the location's CPO: the answer lists the ones there are.
        stranger = await sandbox.api.post(f"{evse}/start-transaction", json={
            "idToken": "OPS-CARD-1", "ocpi": {"countryCode": "NL", "partyId": "XYZ"}})
        assert stranger.status_code == 422 and "NL*XYZ" in stranger.json()["message"]
        assert "DE*EMP" in stranger.json()["message"]
        not_tx = await sandbox.api.post(f"{evse}/start-transaction", json={
            "idToken": "OPS-CARD-1", "chargingProfile": {**ELEVEN_KW_TX_PROFILE,
                                                         "chargingProfilePurpose": "TxDefaultProfile"}})
        assert not_tx.status_code == 422 and "TxProfile" in not_tx.json()["message"]
        if version == "1.6":
            too_long = await sandbox.api.post(f"{evse}/start-transaction", json={"idToken": "A" * 21})
            assert too_long.status_code == 422 and "20 characters" in too_long.json()["message"]

        started = await sandbox.api.post(f"{evse}/start-transaction", json={
            "idToken": "OPS-CARD-1", "idTokenType": "ISO14443", "chargingProfile": ELEVEN_KW_TX_PROFILE,
            "ocpi": {"countryCode": "DE", "partyId": "EMP", "authorizationReference": "AUTH-REF-42",
                     "contractId": "DE-EMP-C9"}})
        assert started.status_code == 200, started.text
        body = started.json()
        assert body["status"] == "Accepted" and body["ocpiPartnerId"] == reg.party["partner_id"]
        sent = body["stationResponse"]["request"]
        if version == "1.6":
            assert body["stationResponse"]["action"] == "RemoteStartTransaction"
            assert sent["idTag"] == "OPS-CARD-1" and sent["chargingProfile"]["chargingSchedule"][
                "chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 11_000}]
        else:
            assert body["stationResponse"]["action"] == "RequestStartTransaction"
            assert sent["idToken"] == {"idToken": "OPS-CARD-1", "type": "ISO14443"}
            assert sent["remoteStartId"] == body["remoteStartId"] and sent["chargingProfile"]["id"] == 77

        async def transaction():
            async with sandbox.service("sessions")() as db:
                found = await db.scalar(select(CsmsTransaction).where(CsmsTransaction.identity == identity))
                await db.commit()
            return found

        tx = await eventually(transaction, 30)
        # The transaction charges at the profile's 11 kW, not the 22 kW the car and the wallbox could do.
        await power_settles(sandbox, tx.id, datetime.now().astimezone() - timedelta(minutes=1), 11_000)

        # It is the eMSP's session, with the OCPI context, pushed to the eMSP as after its own START_SESSION.
        async def ocpi_session():
            async with sandbox.service("sessions")() as db:
                found = await db.scalar(select(CpoSession).where(CpoSession.transaction_pk == tx.id))
                await db.commit()
            return found

        session = await eventually(ocpi_session, 30)
        assert session.partner_id == reg.party["partner_id"] and session.auth_method == "COMMAND"
        assert session.authorization_reference == "AUTH-REF-42"
        assert session.cdr_token == {"country_code": "DE", "party_id": "EMP", "uid": "OPS-CARD-1", "type": "RFID",
                                     "contract_id": "DE-EMP-C9"}

        async def pushed():
            return [b for m, path, b in reg.emsp.pushes
                    if m == "PUT" and path.endswith(f"/sessions/NL/SBX/{session.id}")]

        [put] = await eventually(pushed, 30)
        assert put["authorization_reference"] == "AUTH-REF-42"

        unknown = await sandbox.api.post(f"/api/chargers/{charger['id']}/transactions/NO-SUCH-TX/stop")
        assert unknown.status_code == 404 and "no transaction NO-SUCH-TX" in unknown.json()["message"]
        assert tx.transaction_id in unknown.json()["message"]  # it names the running ones
        stopped = await sandbox.api.post(f"/api/chargers/{charger['id']}/transactions/{tx.transaction_id}/stop")
        assert stopped.status_code == 200 and stopped.json()["status"] == "Accepted", stopped.text
        assert stopped.json()["action"] == ("RemoteStopTransaction" if version == "1.6" else "RequestStopTransaction")

        async def ended():
            found = await ocpi_session()
            return found.status == "COMPLETED" and not (await transaction()).active

        await eventually(ended, 30)
        again = await sandbox.api.post(f"/api/chargers/{charger['id']}/transactions/{tx.transaction_id}/stop")
        assert again.status_code == 409 and "ended" in again.json()["message"]
        assert reg.emsp.schema_errors == []
