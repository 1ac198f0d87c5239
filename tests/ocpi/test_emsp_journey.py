"""The whole journey of an eMSP team against a bundle, over real HTTP and WebSockets: it registers with the
bundle's token A, pulls every module following Link headers, pushes tokens, starts sessions by command on an OCPP
1.6 and an OCPP 2.0.1 charger, gets the CommandResults, the Session PUT/PATCHes and the CDRs (whose cost it
recomputes from the tariff it pulled), authorizes a card swipe in real time, reserves, unlocks, and sees a
command on an offline charger fail. Everything the sandbox sends it is valid against ocpi_modules' schemas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import run_sandbox
from tests.peers.bundle import charger_of, ready_bundle, registered_with_bundle
from tests.peers.waiting import eventually
from tests.peers.registration import RegisteredEmsp
from tests.peers.tariff_check import recompute_cost

APP_TOKEN = {"country_code": "DE", "party_id": "EMP", "type": "APP_USER", "contract_id": "DE-EMP-C0001",
             "issuer": "Test eMSP", "valid": True, "whitelist": "NEVER", "last_updated": "2026-11-01T10:00:00Z"}


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


async def pull_all(reg: RegisteredEmsp, module: str, query: str = "") -> list[dict]:
    """GET a Sender list page by page, following Link rel="next" as an eMSP must (limit 2 forces pages)."""
    url, items, total = reg.url(f"{module}?limit=2{query}"), [], None
    while url:
        reply = await reg.client.get(url)
        assert reply.status_code == 200 and reply.json()["status_code"] == 1000, reply.text
        items += reply.json()["data"]
        total = int(reply.headers["X-Total-Count"])
        link = reply.headers.get("Link")
        url = None
        if link:
            target = link.split(";")[0].strip("<>")
            assert 'rel="next"' in link and "limit=2" in target
            url = urlsplit(target)._replace(scheme="", netloc="").geturl()
    assert len(items) == total, (module, len(items), total)
    return items


async def command(reg: RegisteredEmsp, name: str, ref: str, body: dict) -> dict:
    reply = await reg.client.post(reg.url(f"commands/{name}"), json={"response_url": reg.emsp.response_url(ref),
                                                                        **body})
    assert reply.status_code == 200, reply.text
    return reply.json()["data"]


async def result(reg: RegisteredEmsp, ref: str, timeout: float = 60.0) -> dict:
    return await eventually(lambda: reg.emsp.command_results.get(ref), timeout, what=f"CommandResult {ref}")


def session_pushes(reg: RegisteredEmsp, session_id: str) -> list[tuple[str, dict]]:
    return [(m, body) for m, path, body in reg.emsp.pushes if path.endswith(f"/sessions/NL/MXC/{session_id}")]


def cdr_of(reg: RegisteredEmsp, session_id: str) -> dict | None:
    return next((body for m, path, body in reg.emsp.pushes if m == "POST" and body["session_id"] == session_id), None)


async def session_by_evse(reg: RegisteredEmsp, evse_uid: str) -> dict | None:
    found = (await reg.client.get(reg.url("sessions?date_from=2020-01-01T00:00:00Z"))).json()["data"]
    return next((s for s in found if s["evse_uid"] == evse_uid), None)


def check_cdr_cost(cdr: dict, tariffs: dict[str, dict], zone: str) -> None:
    tariff = tariffs[cdr["tariffs"][0]["id"]]
    expected = recompute_cost(tariff, cdr, zone)
    for key in ("excl_vat", "incl_vat"):
        assert abs(Decimal(str(cdr["total_cost"][key])) - expected[key]) <= Decimal("0.01"), (key, cdr, expected)


@pytest.fixture
async def sandbox(sqlite_url):
    # Session PATCHes at most once a second, so a short session shows several.
    async with run_sandbox(sqlite_url, ocpi_session_patch_interval=1.0) as sb:
        yield sb


async def test_emsp_journey_against_a_mixed_city_bundle(sandbox):
    bundle = await ready_bundle(sandbox.api, "mixed-city")
    async with registered_with_bundle(sandbox, bundle, "2.2.1") as reg:
        emsp = reg.emsp
        # --- pull every Sender module, page by page, following Link headers --------------------------------
        locations = await pull_all(reg, "locations")
        assert {loc["id"] for loc in locations} == {"NLMXC-AMS-ZUID", "NLMXC-LIS-ORIENTE", "NLMXC-HEL-KAMPPI"}
        assert {loc["time_zone"] for loc in locations} == {"Europe/Amsterdam", "Europe/Lisbon", "Europe/Helsinki"}
        assert all(e["status"] == "AVAILABLE" for loc in locations for e in loc["evses"])
        tariffs = {t["id"]: t for t in await pull_all(reg, "tariffs")}
        assert set(tariffs) == {"MX-AC-TOU", "MX-DC", "MX-AC-DAY"}
        assert await pull_all(reg, "sessions", "&date_from=2020-01-01T00:00:00Z") == []
        assert await pull_all(reg, "cdrs") == []
        zone = {loc["id"]: loc["time_zone"] for loc in locations}
        ams = next(loc for loc in locations if loc["id"] == "NLMXC-AMS-ZUID")
        one = await reg.client.get(reg.url(f"locations/{ams['id']}/{ams['evses'][0]['uid']}/1"))
        assert one.json()["data"]["tariff_ids"] == ["MX-AC-TOU"]

        # --- tokens: the app user's token, and a card that needs real-time authorization -------------------
        for uid, body in {"APP-0001": {**APP_TOKEN, "uid": "APP-0001"},
                          "04CARD0001": {**APP_TOKEN, "uid": "04CARD0001", "type": "RFID"}}.items():
            kind = "" if body["type"] == "RFID" else "?type=APP_USER"
            put = await reg.client.put(reg.url(f"tokens/DE/EMP/{uid}{kind}"), json=body)
            assert put.status_code == 201, put.text

        # --- START_SESSION on the 1.6 and the 2.0.1 AC charger ----------------------------------------------
        ac16, ac201 = charger_of(bundle, "AMS-AC16"), charger_of(bundle, "AMS-AC201")
        assert (ac16["ocpp_version"], ac201["ocpp_version"]) == ("1.6", "2.0.1")
        for ref, charger in (("start16", ac16), ("start201", ac201)):
            answer = await command(reg, "START_SESSION", ref, {
                "token": {**APP_TOKEN, "uid": "APP-0001"}, "location_id": ams["id"],
                "evse_uid": charger["evse_uids"][0], "authorization_reference": f"AUTH-{ref}"})
            assert answer == {"result": "ACCEPTED", "timeout": 30}
        for ref in ("start16", "start201"):
            assert (await result(reg, ref))["result"] == "ACCEPTED"
        started = {}
        for ref, charger in (("start16", ac16), ("start201", ac201)):
            s = await eventually(lambda c=charger: session_by_evse(reg, c["evse_uids"][0]), what="session")
            assert (s["auth_method"], s["authorization_reference"], s["status"]) == ("COMMAND", f"AUTH-{ref}",
                                                                                      "ACTIVE")
            started[ref] = s
            # PUT first, then PATCHes as meter values arrive (kWh, closed periods, running cost).
            await eventually(lambda s=s: any(m == "PATCH" and b.get("kwh", 0) > 0
                                             for m, b in session_pushes(reg, s["id"])), what="a running PATCH")
            pushes = session_pushes(reg, s["id"])
            assert pushes[0][0] == "PUT" and pushes[0][1]["status"] == "ACTIVE"
            assert any("total_cost" in b for m, b in pushes if m == "PATCH")

        # --- charging preferences: these EVSEs do not take them (404 + 2001, as mod_sessions says) ------------
        prefs = await reg.client.put(reg.url(f"sessions/{started['start16']['id']}/charging_preferences"),
                                     json={"profile_type": "FAST"})
        assert (prefs.status_code, prefs.json()["status_code"]) == (404, 2001)
        assert "CHARGING_PREFERENCES_CAPABLE" in prefs.json()["status_message"]
        bad = await reg.client.put(reg.url(f"sessions/{started['start16']['id']}/charging_preferences"),
                                   json={"profile_type": "SLOW"})
        assert bad.json()["status_code"] == 2001
        missing = await reg.client.put(reg.url("sessions/nope/charging_preferences"), json={"profile_type": "FAST"})
        assert missing.status_code == 404

        # --- the EVSE in use was pushed to the eMSP -----------------------------------------------------------
        await eventually(lambda: any(path.endswith(ac16["evse_uids"][0]) and body.get("status") == "CHARGING"
                                     for m, path, body in emsp.pushes), what="EVSE CHARGING pushed")

        # --- STOP_SESSION: final PATCH COMPLETED and a CDR priced from the tariff ------------------------------
        for ref, s in started.items():
            answer = await command(reg, "STOP_SESSION", f"stop-{ref}", {"session_id": s["id"]})
            assert answer["result"] == "ACCEPTED"
            assert (await result(reg, f"stop-{ref}"))["result"] == "ACCEPTED"
        for s in started.values():
            cdr = await eventually(lambda s=s: cdr_of(reg, s["id"]), what="CDR")
            pushes = session_pushes(reg, s["id"])
            assert pushes[-1][0] == "PATCH" and pushes[-1][1]["status"] == "COMPLETED"
            periods = [p for m, b in pushes if m == "PATCH" for p in b.get("charging_periods", [])]
            assert [p["start_date_time"] for p in periods] == [p["start_date_time"] for p in cdr["charging_periods"]]
            assert cdr["total_energy"] > 0 and cdr["tariffs"][0]["id"] == "MX-AC-TOU"
            check_cdr_cost(cdr, tariffs, zone[cdr["cdr_location"]["id"]])

        # --- a card swipe authorized in real time at the Lisbon 1.6 charger --------------------------------
        lisbon = charger_of(bundle, "LIS-AC")
        emsp.authorizations["04CARD0001"] = "ALLOWED"
        driven = f"/api/chargers/{lisbon['id']}/commands"
        assert (await sandbox.api.post(f"{driven}/plug-in", json={"evse_id": 1})).status_code == 200
        swiped = await sandbox.api.post(f"{driven}/swipe-card", json={"id_token": "04CARD0001", "evse_id": 1})
        assert swiped.status_code == 200, swiped.text
        card = await eventually(lambda: session_by_evse(reg, lisbon["evse_uids"][0]), what="card session")
        assert (card["auth_method"], card["authorization_reference"]) == ("AUTH_REQUEST", "REF-04CARD0001")
        assert emsp.authorize_requests[-1] == ("04CARD0001", {"location_id": "NLMXC-LIS-ORIENTE",
                                                              "evse_uids": lisbon["evse_uids"]})
        await eventually(lambda: any(m == "PATCH" and b.get("kwh", 0) > 0 for m, b in session_pushes(reg, card["id"])),
                         what="the card session charging")
        assert (await sandbox.api.post(f"{driven}/stop-transaction", json={"evse_id": 1})).status_code == 200
        card_cdr = await eventually(lambda: cdr_of(reg, card["id"]), what="card CDR")
        check_cdr_cost(card_cdr, tariffs, "Europe/Lisbon")

        # --- a reservation that expires, and one that is cancelled ------------------------------------------
        helsinki = charger_of(bundle, "HEL-AC")
        hel_evse = helsinki["evse_uids"][0]
        soon = stamp(datetime.now(UTC) + timedelta(seconds=4))
        answer = await command(reg, "RESERVE_NOW", "reserve", {
            "token": {**APP_TOKEN, "uid": "APP-0001"}, "expiry_date": soon, "reservation_id": "R-1",
            "location_id": "NLMXC-HEL-KAMPPI", "evse_uid": hel_evse, "authorization_reference": "AUTH-R-1"})
        assert answer["result"] == "ACCEPTED"
        assert (await result(reg, "reserve"))["result"] == "ACCEPTED"

        def hel_statuses() -> list[str]:
            return [b["status"] for m, p, b in emsp.pushes if p.endswith(f"/{hel_evse}") and "status" in b]

        def reservation_session(reservation_ref: str) -> dict | None:
            return next((b for m, p, b in emsp.pushes if m == "PUT" and "/sessions/" in p and b["status"] ==
                         "RESERVATION" and b["authorization_reference"] == reservation_ref), None)

        def ended(session_id: str) -> bool:
            return any(b.get("status") == "COMPLETED" for m, b in session_pushes(reg, session_id) if m == "PATCH")

        await eventually(lambda: "RESERVED" in hel_statuses(), what="EVSE RESERVED")
        reserved = await eventually(lambda: reservation_session("AUTH-R-1"), what="Session in RESERVATION")
        assert (reserved["evse_uid"], reserved["auth_method"]) == (hel_evse, "COMMAND")
        await eventually(lambda: hel_statuses()[-1] == "AVAILABLE", what="reservation expired: EVSE AVAILABLE")
        await eventually(lambda: ended(reserved["id"]), what="the expired reservation's session COMPLETED")
        late = await command(reg, "CANCEL_RESERVATION", "cancel-late", {"reservation_id": "R-1"})
        assert late["result"] == "REJECTED" and "expired" in late["message"][0]["text"]
        later = stamp(datetime.now(UTC) + timedelta(minutes=30))
        await command(reg, "RESERVE_NOW", "reserve-2", {
            "token": {**APP_TOKEN, "uid": "APP-0001"}, "expiry_date": later, "reservation_id": "R-2",
            "location_id": "NLMXC-HEL-KAMPPI", "evse_uid": hel_evse, "authorization_reference": "AUTH-R-2"})
        assert (await result(reg, "reserve-2"))["result"] == "ACCEPTED"
        cancel = await command(reg, "CANCEL_RESERVATION", "cancel", {"reservation_id": "R-2"})
        assert cancel["result"] == "ACCEPTED"
        assert (await result(reg, "cancel"))["result"] == "ACCEPTED"
        # Neither reservation was used, nor does MX-AC-DAY price reservations: both sessions end without a CDR.
        cancelled = await eventually(lambda: reservation_session("AUTH-R-2"), what="second RESERVATION session")
        await eventually(lambda: ended(cancelled["id"]), what="the cancelled reservation's session COMPLETED")

        # --- unlock a connector -----------------------------------------------------------------------------
        dc = charger_of(bundle, "AMS-DC201")
        answer = await command(reg, "UNLOCK_CONNECTOR", "unlock", {
            "location_id": ams["id"], "evse_uid": dc["evse_uids"][0], "connector_id": "1"})
        assert answer["result"] == "ACCEPTED"
        assert (await result(reg, "unlock"))["result"] == "ACCEPTED"

        # --- a command on a charger that went offline: EVSE_INOPERATIVE, and the EVSE is UNKNOWN ------------
        hpc = charger_of(bundle, "HEL-HPC")
        off = await sandbox.api.post(f"/api/chargers/{hpc['id']}/commands/disconnect", json={"stay_offline": True})
        assert off.status_code == 200, off.text
        await eventually(lambda: any(p.endswith(f"/{hpc['evse_uids'][0]}") and b.get("status") == "UNKNOWN"
                                     for m, p, b in emsp.pushes), what="offline EVSE UNKNOWN")
        answer = await command(reg, "START_SESSION", "offline", {
            "token": {**APP_TOKEN, "uid": "APP-0001"}, "location_id": "NLMXC-HEL-KAMPPI",
            "evse_uid": hpc["evse_uids"][0]})
        assert answer["result"] == "ACCEPTED"
        assert (await result(reg, "offline"))["result"] in ("EVSE_INOPERATIVE", "TIMEOUT")

        # --- what we pulled at the end agrees with what was pushed, and every body was valid --------------
        cdrs = await pull_all(reg, "cdrs")
        assert {c["session_id"] for c in cdrs} == {*(s["id"] for s in started.values()), card["id"]}
        assert emsp.schema_errors == []
        log = (await sandbox.api.get(f"/api/partners/{reg.party['partner_id']}/log", params={"limit": 500})).json()
        assert not [e for e in log["items"] if e["direction"] == "inbound" and (e["status"] or 500) >= 500]


async def test_emsp_that_wraps_objects_in_lists_and_sends_no_routing_headers_is_understood(sandbox):
    bundle = await ready_bundle(sandbox.api, "small-urban-ac")
    async with registered_with_bundle(sandbox, bundle, "2.3.0") as reg:
        # No X-Request-ID / X-Correlation-ID / OCPI-to-* headers, a token wrapped in a list, lower-case ids.
        bare = httpx.AsyncClient(base_url=sandbox.base_url, headers={
            "Authorization": reg.client.headers["Authorization"]})
        async with bare:
            token = {**APP_TOKEN, "uid": "LIST-0001", "type": "RFID", "country_code": "de", "party_id": "emp"}
            put = await bare.put(reg.url("tokens/de/emp/list-0001"), json=[token])
            assert put.status_code == 201, put.text
            got = await bare.get(reg.url("tokens/DE/EMP/LIST-0001"))
            assert got.json()["data"]["uid"] == "LIST-0001"
            loc = await bare.get(reg.url("locations/nlsua-dam/"))  # any case, trailing slash
            assert loc.status_code == 200 and loc.json()["data"]["id"] == "NLSUA-DAM"
