"""An eMSP that goes down in the middle of a session (answering 503 with Retry-After) loses nothing: the Session
PATCHes, the final COMPLETED and the CDR wait in the outbox and arrive in order once it is back."""

from __future__ import annotations

import pytest

from tests.conftest import run_sandbox
from tests.ocpi.test_emsp_journey import APP_TOKEN, cdr_of, command, result, session_by_evse
from tests.peers.bundle import charger_of, ready_bundle, registered_with_bundle
from tests.peers.waiting import eventually


@pytest.fixture
async def sandbox(sqlite_url):
    async with run_sandbox(sqlite_url, ocpi_session_patch_interval=1.0) as sb:
        yield sb


def party_pushes(reg, session_id: str) -> list[tuple[str, dict]]:  # noqa: ANN001
    return [(m, b) for m, p, b in reg.emsp.pushes if p.endswith(f"/sessions/NL/SUA/{session_id}")]


async def test_pushes_queued_while_the_emsp_is_down_arrive_in_order_once_it_is_back(sandbox):
    bundle = await ready_bundle(sandbox.api, "small-urban-ac")
    async with registered_with_bundle(sandbox, bundle, "2.2.1") as reg:
        emsp, charger = reg.emsp, charger_of(bundle, "DAM")
        evse = charger["evse_uids"][0]
        answer = await command(reg, "START_SESSION", "start", {"token": {**APP_TOKEN, "uid": "APP-DOWN"},
                                                               "location_id": "NLSUA-DAM", "evse_uid": evse})
        assert answer["result"] == "ACCEPTED" and (await result(reg, "start"))["result"] == "ACCEPTED"
        session = await eventually(lambda: session_by_evse(reg, evse), what="session")
        await eventually(lambda: party_pushes(reg, session["id"]), what="the Session PUT")

        emsp.down = True  # maintenance: 503 + Retry-After: 1 on every push from now on
        refused = len(emsp.received)
        partner = reg.party["partner_id"]

        async def refused_patches() -> bool:
            pending = (await sandbox.api.get(f"/api/partners/{partner}/pushes", params={"state": "pending"})).json()
            return sum(p["kind"] == "session_patch" and p["last_status"] == 503 for p in pending) >= 1 and \
                len([p for p in pending if p["kind"] == "session_patch"]) >= 2

        await eventually(refused_patches, what="PATCHes refused and queued")
        stop = await command(reg, "STOP_SESSION", "stop", {"session_id": session["id"]})
        assert stop["result"] == "ACCEPTED" and (await result(reg, "stop"))["result"] == "ACCEPTED"

        async def completed_and_cdr_queued() -> bool:
            pending = (await sandbox.api.get(f"/api/partners/{partner}/pushes", params={"state": "pending"})).json()
            return any(p["kind"] == "cdr_post" for p in pending)

        await eventually(completed_and_cdr_queued, what="the CDR queued")
        assert cdr_of(reg, session["id"]) is None and len(emsp.received) > refused
        emsp.down = False

        cdr = await eventually(lambda: cdr_of(reg, session["id"]), what="the CDR after the outage")
        pushes = party_pushes(reg, session["id"])
        assert pushes[0][0] == "PUT" and all(m == "PATCH" for m, _ in pushes[1:])
        kwh = [b["kwh"] for _, b in pushes]
        assert kwh == sorted(kwh) and len(pushes) >= 3  # each queued PATCH, in the order it was queued
        assert [b["status"] for _, b in pushes][-1] == "COMPLETED"
        assert "COMPLETED" not in [b["status"] for _, b in pushes[:-1]]
        # The CDR came after the session's last PATCH (one line per session), and its periods are the ones
        # the PATCHes appended.
        cdr_index = next(i for i, (m, p, b) in enumerate(emsp.pushes) if m == "POST")
        last_patch = max(i for i, (m, p, b) in enumerate(emsp.pushes) if p.endswith(session["id"]))
        assert cdr_index > last_patch
        appended = [p["start_date_time"] for _, b in pushes for p in b.get("charging_periods", [])]
        assert appended == [p["start_date_time"] for p in cdr["charging_periods"]]
        assert abs(cdr["total_energy"] - pushes[-1][1]["kwh"]) < 0.01
        assert emsp.schema_errors == []
        assert (await sandbox.api.get(f"/api/partners/{partner}/pushes", params={"state": "failed"})).json() == []
