"""OCPI Commands, CPO as Receiver: START_SESSION, STOP_SESSION and UNLOCK_CONNECTOR become real OCPP requests
on a charge point (built with the `ocpp` package, on the embedded CSMS); the CommandResult comes to the eMSP's
response_url, and the session started by command is the eMSP's with auth_method COMMAND. A RESERVE_NOW the charger
accepts is a Session in RESERVATION: used, it turns ACTIVE; unused, it ends COMPLETED (with a CDR when the tariff
prices reservations); dropped by the charger, it is COMPLETED free and without a CDR, and the eMSP hears
CANCELED_RESERVATION."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
import websockets
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as Cp16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as Cp201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201

from sqlalchemy import delete, select

from ocpi_sandbox.db.models import Charger, CpoCdr, CpoSession, Location, OcpiCommand
from ocpi_sandbox.domain import held_reservations, reservations
from ocpi_sandbox.domain.authorization import authorize_id_token
from tests.conftest import Sandbox
from tests.peers.registration import RegisteredEmsp, registered_emsp
from tests.peers.waiting import eventually

HARDWARE = [{"evse_id": 1, "connectors": [
    {"connector_id": 1, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE",
     "max_voltage": 230, "max_amperage": 32, "max_electric_power": 22080}]}]
SITE = {"name": "Square", "address": "Plein 3", "city": "Den Haag", "country": "NLD", "latitude": "52.08000",
        "longitude": "4.31000", "time_zone": "Europe/Amsterdam"}
TOKEN = {"country_code": "DE", "party_id": "EMP", "uid": "APP-USER-0001", "type": "APP_USER",
         "contract_id": "DE-EMP-C2", "issuer": "Test eMSP", "valid": True, "whitelist": "NEVER",
         "last_updated": "2026-11-01T10:00:00Z"}


def now() -> str:
    return datetime.now(UTC).isoformat()


class Station(Cp16):
    @on("RemoteStartTransaction")
    def remote_start(self, id_tag, connector_id=None, **kwargs):  # noqa: ANN001, ANN003
        return result16.RemoteStartTransaction(status="Accepted")

    @after("RemoteStartTransaction")
    async def begin(self, id_tag, connector_id=None, **kwargs):  # noqa: ANN001, ANN003
        reply = await self.call(call16.StartTransaction(connector_id=connector_id or 1, id_tag=id_tag,
                                                        meter_start=0, timestamp=now()), suppress=False)
        self.transaction_id = reply.transaction_id

    @on("RemoteStopTransaction")
    def remote_stop(self, transaction_id, **kwargs):  # noqa: ANN001, ANN003
        return result16.RemoteStopTransaction(status="Accepted")

    @after("RemoteStopTransaction")
    async def end(self, transaction_id, **kwargs):  # noqa: ANN001, ANN003
        await self.call(call16.StopTransaction(meter_stop=1500, timestamp=now(), transaction_id=transaction_id,
                                               reason="Remote"), suppress=False)

    @on("UnlockConnector")
    def unlock(self, connector_id, **kwargs):  # noqa: ANN001, ANN003
        return result16.UnlockConnector(status="Unlocked")


async def site_with_charger(sandbox: Sandbox, reg: RegisteredEmsp, identity: str) -> dict:
    site = (await sandbox.api.post("/api/locations", json={**SITE, "cpo_party_id": reg.party["id"]})).json()
    tenant = (await sandbox.api.get("/api/tenants")).json()[0]["id"]
    async with sandbox.service("csms").sessions() as session:
        session.add(Charger(tenant_id=tenant, identity=identity, location_id=site["id"], ocpp_version="1.6",
                            config={}, hardware=HARDWARE))
        await session.commit()
    return site


async def result_of(reg: RegisteredEmsp, ref: str, timeout: float = 10.0) -> dict:
    return await eventually(lambda: reg.emsp.command_results.get(ref), timeout, 0.05, f"CommandResult for {ref}")


async def test_start_stop_and_unlock_by_command(sandbox: Sandbox):
    async with registered_emsp(sandbox, "2.2.1") as reg:
        site = await site_with_charger(sandbox, reg, "CMD-CP-1")
        async with websockets.connect(f"{sandbox.csms_url}/CMD-CP-1", subprotocols=["ocpp1.6"]) as ws:
            cp = Station("CMD-CP-1", ws)
            loop = asyncio.create_task(cp.start())
            await cp.call(call16.BootNotification(charge_point_vendor="T", charge_point_model="M"))

            start = await reg.client.post(reg.url("commands/START_SESSION"), json={
                "response_url": reg.emsp.response_url("start"), "token": TOKEN, "location_id": site["ocpi_id"],
                "evse_uid": "CMD-CP-1-1", "authorization_reference": "AUTH-77"})
            assert start.json()["data"] == {"result": "ACCEPTED", "timeout": 30}
            assert (await result_of(reg, "start"))["result"] == "ACCEPTED"

            async def active_session() -> list:
                reply = await reg.client.get(reg.url("sessions?date_from=2020-01-01T00:00:00Z"))
                return reply.json()["data"]

            [s] = await eventually(active_session, 10, 0.05, "the session")
            assert (s["auth_method"], s["authorization_reference"], s["cdr_token"]["uid"]) == \
                ("COMMAND", "AUTH-77", "APP-USER-0001")

            stop = await reg.client.post(reg.url("commands/STOP_SESSION"), json={
                "response_url": reg.emsp.response_url("stop"), "session_id": s["id"]})
            assert stop.json()["data"]["result"] == "ACCEPTED"
            assert (await result_of(reg, "stop"))["result"] == "ACCEPTED"

            unlock = await reg.client.post(reg.url("commands/UNLOCK_CONNECTOR"), json={
                "response_url": reg.emsp.response_url("unlock"), "location_id": site["ocpi_id"],
                "evse_uid": "CMD-CP-1-1", "connector_id": "1"})
            assert unlock.json()["data"]["result"] == "ACCEPTED"
            assert (await result_of(reg, "unlock"))["result"] == "ACCEPTED"
            loop.cancel()

        async def cdrs() -> list:
            return (await reg.client.get(reg.url("cdrs"))).json()["data"]

        await eventually(cdrs, 10, 0.05, "a CDR")
        log = (await sandbox.api.get(f"/api/partners/{reg.party['partner_id']}/log")).json()["items"]
        assert any(e["direction"] == "outbound" and e["url"].endswith("/emsp/results/start") for e in log)


async def test_offline_charger_unknown_location_and_unknown_session(sandbox: Sandbox):
    async with registered_emsp(sandbox, "2.3.0") as reg:
        site = await site_with_charger(sandbox, reg, "CMD-OFFLINE")
        accepted = await reg.client.post(reg.url("commands/START_SESSION"), json={
            "response_url": reg.emsp.response_url("offline"), "token": TOKEN, "location_id": site["ocpi_id"]})
        assert accepted.json()["data"]["result"] == "ACCEPTED"
        result = await result_of(reg, "offline")
        assert result["result"] == "EVSE_INOPERATIVE" and "not connected" in result["message"][0]["text"]
        unknown = await reg.client.post(reg.url("commands/START_SESSION"), json={
            "response_url": reg.emsp.response_url("x"), "token": TOKEN, "location_id": "NOWHERE"})
        assert unknown.status_code == 200 and unknown.json()["status_code"] == 2003
        assert unknown.json()["data"]["result"] == "REJECTED"
        no_session = await reg.client.post(reg.url("commands/STOP_SESSION"), json={
            "response_url": reg.emsp.response_url("y"), "session_id": "nope"})
        assert no_session.json()["data"]["result"] == "UNKNOWN_SESSION"
        weird = await reg.client.post(reg.url("commands/TELEPORT"), json={})
        assert weird.json()["data"]["result"] == "NOT_SUPPORTED"
        bad = await reg.client.post(reg.url("commands/START_SESSION"), json={"token": TOKEN})
        assert bad.json()["status_code"] == 2001


# --- reservations: a RESERVATION session that is used, expires, is cancelled, or is removed by the charger ------

RESERVED_TOKEN = {**TOKEN, "uid": "RES-USER-0001"}
# Spec tariff 15: reservation time priced by the hour, then a start fee and energy (reference ocpi.md §5.6 ex. 8).
RESERVATION_TARIFF = {"currency": "EUR", "tax_included": "NO", "elements": [
    {"price_components": [{"type": "TIME", "price": 6.00, "vat": 20.0, "step_size": 60}],
     "restrictions": {"reservation": "RESERVATION"}},
    {"price_components": [{"type": "FLAT", "price": 0.50, "vat": 20.0, "step_size": 1},
                          {"type": "ENERGY", "price": 0.25, "vat": 10.0, "step_size": 1}]}]}
# Spec tariff 17: an expired reservation costs a fee plus its time.
EXPIRES_TARIFF = {"currency": "EUR", "tax_included": "NO", "elements": [
    {"price_components": [{"type": "FLAT", "price": 4.00, "vat": 20.0, "step_size": 1}],
     "restrictions": {"reservation": "RESERVATION_EXPIRES"}},
    {"price_components": [{"type": "TIME", "price": 2.00, "vat": 20.0, "step_size": 600}],
     "restrictions": {"reservation": "RESERVATION"}},
    {"price_components": [{"type": "ENERGY", "price": 0.25, "vat": 10.0, "step_size": 1}]}]}
FREE_RESERVATIONS_TARIFF = {"currency": "EUR", "tax_included": "NO", "elements": [
    {"price_components": [{"type": "ENERGY", "price": 0.30, "vat": 21.0, "step_size": 1}]}]}


class ReservingStation(Station):
    """A 1.6 charge point that takes reservations and lets the driver start on one (StartTransaction with it)."""

    reservations: dict[int, str]

    @on("ReserveNow")
    def reserve(self, connector_id, expiry_date, id_tag, reservation_id, **kwargs):  # noqa: ANN001, ANN003
        self.reservations = {**getattr(self, "reservations", {}), reservation_id: id_tag}
        return result16.ReserveNow(status="Accepted")

    @on("CancelReservation")
    def cancel(self, reservation_id, **kwargs):  # noqa: ANN001, ANN003
        return result16.CancelReservation(status="Accepted")


class ReservingStation201(Cp201):
    reservations: dict[int, str]

    @on("ReserveNow")
    def reserve(self, id, expiry_date_time, id_token, **kwargs):  # noqa: A002, ANN001, ANN003
        self.reservations = {**getattr(self, "reservations", {}), id: id_token["id_token"]}
        return result201.ReserveNow(status="Accepted")


@asynccontextmanager
async def reserving_station(sandbox: Sandbox, identity: str, version: str = "1.6"
                            ) -> AsyncIterator[ReservingStation | ReservingStation201]:
    """A booted ``ReservingStation`` (1.6) or ``ReservingStation201`` on the sandbox's CSMS, for the block's
    length."""
    async with websockets.connect(f"{sandbox.csms_url}/{identity}", subprotocols=[f"ocpp{version}"]) as ws:
        if version == "1.6":
            cp = ReservingStation(identity, ws)
            boot = call16.BootNotification(charge_point_vendor="T", charge_point_model="M")
        else:
            cp = ReservingStation201(identity, ws)
            boot = call201.BootNotification(charging_station={"model": "M", "vendor_name": "T"}, reason="PowerUp")
        loop = asyncio.create_task(cp.start())
        await cp.call(boot)
        try:
            yield cp
        finally:
            loop.cancel()


async def reservation_site(sandbox: Sandbox, reg: RegisteredEmsp, identity: str, tariff: dict | None,
                           version: str = "1.6") -> dict:
    """A location with one single-connector charger whose connector has ``tariff`` (id RES-T)."""
    hardware = HARDWARE
    if tariff is not None:
        reply = await sandbox.api.post(f"/api/parties/{reg.party['id']}/tariffs", json={"id": "RES-T", "tariff": tariff})
        assert reply.status_code == 201, reply.text
        hardware = [{**HARDWARE[0], "connectors": [{**HARDWARE[0]["connectors"][0], "tariff_ids": ["RES-T"]}]}]
    site = (await sandbox.api.post("/api/locations", json={**SITE, "cpo_party_id": reg.party["id"]})).json()
    tenant = (await sandbox.api.get("/api/tenants")).json()[0]["id"]
    async with sandbox.service("csms").sessions() as session:
        session.add(Charger(tenant_id=tenant, identity=identity, location_id=site["id"], ocpp_version=version,
                            config={}, hardware=hardware))
        await session.commit()
    return site


async def reserve(reg: RegisteredEmsp, site: dict, evse_uid: str, ref: str, *, seconds: float,
                  reservation_id: str = "R-1", token: dict = RESERVED_TOKEN) -> dict:
    expiry = (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)
    answer = await reg.client.post(reg.url("commands/RESERVE_NOW"), json={
        "response_url": reg.emsp.response_url(ref), "token": token,
        "expiry_date": expiry.isoformat().replace("+00:00", "Z"), "reservation_id": reservation_id,
        "location_id": site["ocpi_id"], "evse_uid": evse_uid, "authorization_reference": "AUTH-RES"})
    assert answer.json()["data"]["result"] == "ACCEPTED", answer.text
    assert (await result_of(reg, ref))["result"] == "ACCEPTED"
    return await pushed(reg, lambda m, body: m == "PUT" and body.get("status") == "RESERVATION"
                        and body.get("evse_uid") == evse_uid, "Session PUT")


async def pushed(reg: RegisteredEmsp, match, what: str, timeout: float = 15.0) -> dict:  # noqa: ANN001
    def found() -> list[dict]:
        return [body for m, path, body in reg.emsp.pushes if ("/sessions/" in path or path.endswith("/cdrs"))
                and match(m, body)]

    return (await eventually(found, timeout, 0.05, what))[-1]


def session_pushes(reg: RegisteredEmsp, session_id: str) -> list[tuple[str, dict]]:
    return [(m, body) for m, path, body in reg.emsp.pushes if path.endswith(f"/sessions/NL/SBX/{session_id}")]


async def test_reservation_is_a_session_that_turns_active_when_its_token_charges(sandbox: Sandbox):
    async with registered_emsp(sandbox, "2.2.1") as reg:
        site = await reservation_site(sandbox, reg, "RES-CP-1", RESERVATION_TARIFF)
        async with reserving_station(sandbox, "RES-CP-1") as cp:
            reserved = await reserve(reg, site, "RES-CP-1-1", "reserve", seconds=1800)
            assert (reserved["evse_uid"], reserved["connector_id"], reserved["kwh"]) == ("RES-CP-1-1", "1", 0)
            assert (reserved["auth_method"], reserved["authorization_reference"], reserved["cdr_token"]["uid"]) == \
                ("COMMAND", "AUTH-RES", "RES-USER-0001")
            [(number, id_tag)] = cp.reservations.items()

            # The driver arrives: the charger accepts the reserved token and starts on the reservation.
            start = await cp.call(call16.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=0,
                                                          reservation_id=number, timestamp=now()), suppress=False)
            assert start.id_tag_info["status"] == "Accepted"
            active = await pushed(reg, lambda m, b: m == "PUT" and b.get("status") == "ACTIVE", "ACTIVE PUT")
            assert active["id"] == reserved["id"]
            assert active["start_date_time"] >= reserved["start_date_time"]
            [reservation_period] = active["charging_periods"]
            assert reservation_period["start_date_time"] == reserved["start_date_time"]
            assert [d["type"] for d in reservation_period["dimensions"]] == ["RESERVATION_TIME"]
            await cp.call(call16.StopTransaction(meter_stop=1500, timestamp=now(),
                                                 transaction_id=start.transaction_id, reason="Local"), suppress=False)
            cdr = await pushed(reg, lambda m, b: m == "POST", "CDR")
        assert cdr["session_id"] == reserved["id"] and cdr["start_date_time"] == reserved["start_date_time"]
        assert cdr["charging_periods"][0]["dimensions"][0]["type"] == "RESERVATION_TIME"
        assert "ENERGY" in {d["type"] for p in cdr["charging_periods"][1:] for d in p["dimensions"]}
        # A minute of reservation (step 60 s) at 6.00/h, the 0.50 start fee, 1.5 kWh at 0.25.
        assert cdr["total_reservation_cost"] == {"excl_vat": 0.1, "incl_vat": 0.12}
        assert cdr["total_cost"] == {"excl_vat": 0.975, "incl_vat": 1.1325}
        [(final, body)] = [(m, b) for m, b in session_pushes(reg, reserved["id"]) if b.get("status") == "COMPLETED"]
        assert final == "PATCH" and body["total_cost"] == cdr["total_cost"]
        assert reg.emsp.schema_errors == []


async def test_unused_reservation_expires_completed_with_the_cdr_its_tariff_prices(sandbox: Sandbox):
    async with registered_emsp(sandbox, "2.2.1") as reg:
        site = await reservation_site(sandbox, reg, "RES-CP-2", EXPIRES_TARIFF)
        async with reserving_station(sandbox, "RES-CP-2") as cp:
            reserved = await reserve(reg, site, "RES-CP-2-1", "reserve", seconds=2)
            # Nobody comes: at its expiry_date the reservation ends (a 1.6 charger says nothing about it).
            ended = await pushed(reg, lambda m, b: m == "PATCH" and b.get("status") == "COMPLETED", "COMPLETED")
            cdr = await pushed(reg, lambda m, b: m == "POST", "CDR")
            late = await reg.client.post(reg.url("commands/CANCEL_RESERVATION"), json={
                "response_url": reg.emsp.response_url("late"), "reservation_id": "R-1"})
        assert late.json()["data"]["result"] == "REJECTED"
        assert cdr["session_id"] == reserved["id"]
        assert (cdr["start_date_time"], cdr["end_date_time"]) == (reserved["start_date_time"], ended["end_date_time"])
        assert [[d["type"] for d in p["dimensions"]] for p in cdr["charging_periods"]] == [["RESERVATION_TIME"]]
        # RESERVATION_EXPIRES: the 4.00 fee; RESERVATION: its time rounded up to 10 minutes at 2.00/h.
        assert cdr["total_reservation_cost"] == cdr["total_cost"] == {"excl_vat": 4.3333, "incl_vat": 5.2}
        assert ended["total_cost"] == cdr["total_cost"] and ended["charging_periods"] == cdr["charging_periods"]
        assert cdr["total_energy"] == 0 and cdr["cdr_location"]["evse_uid"] == "RES-CP-2-1"
        assert reg.emsp.schema_errors == []


async def test_cancelled_free_reservation_is_completed_without_a_cdr(sandbox: Sandbox):
    async with registered_emsp(sandbox, "2.3.0") as reg:
        site = await reservation_site(sandbox, reg, "RES-CP-3", FREE_RESERVATIONS_TARIFF)
        async with reserving_station(sandbox, "RES-CP-3"):
            reserved = await reserve(reg, site, "RES-CP-3-1", "reserve", seconds=1800)
            # The same reservation_id at the same location replaces the reservation: the same session, PUT again.
            await reserve(reg, site, "RES-CP-3-1", "reserve-again", seconds=3600)
            await eventually(lambda: len([m for m, b in session_pushes(reg, reserved["id"]) if m == "PUT"]) >= 2,
                             10, 0.05, "a second PUT of the replaced reservation")
            assert len({b["id"] for m, p, b in reg.emsp.pushes if "/sessions/" in p}) == 1
            stop = await reg.client.post(reg.url("commands/STOP_SESSION"), json={
                "response_url": reg.emsp.response_url("stop"), "session_id": reserved["id"]})
            assert stop.json()["data"]["result"] == "REJECTED"
            assert "CANCEL_RESERVATION" in stop.json()["data"]["message"][0]["text"]
            cancel = await reg.client.post(reg.url("commands/CANCEL_RESERVATION"), json={
                "response_url": reg.emsp.response_url("cancel"), "reservation_id": "R-1"})
            assert cancel.json()["data"]["result"] == "ACCEPTED"
            assert (await result_of(reg, "cancel"))["result"] == "ACCEPTED"
            ended = await pushed(reg, lambda m, b: m == "PATCH" and b.get("status") == "COMPLETED", "COMPLETED")
        assert ended["total_cost"] == {"before_taxes": 0.0, "taxes": [{"name": "VAT", "amount": 0.0}]}
        assert [d["type"] for d in ended["charging_periods"][0]["dimensions"]] == ["RESERVATION_TIME"]
        await sandbox.service("push_dispatcher").dispatch_due()  # a CDR would have been queued with the PATCH
        assert not [b for m, p, b in reg.emsp.pushes if m == "POST"]
        assert (await reg.client.get(reg.url("cdrs"))).json()["data"] == []
        assert reg.emsp.schema_errors == []


@pytest.mark.parametrize("ocpp_version", ["1.6", "2.0.1"])
async def test_reservation_the_charger_drops_is_canceled_reservation_and_not_billed(sandbox: Sandbox,
                                                                                    ocpp_version: str):
    identity = f"RES-DROP-{ocpp_version.replace('.', '')}"
    async with registered_emsp(sandbox, "2.2.1") as reg:
        site = await reservation_site(sandbox, reg, identity, RESERVATION_TARIFF, ocpp_version)
        async with reserving_station(sandbox, identity, ocpp_version) as cp:
            reserved = await reserve(reg, site, f"{identity}-1", "reserve", seconds=1800)
            if ocpp_version == "1.6":
                # 1.6 has no message for it: the reserved connector becoming Faulted is the charger letting go.
                await cp.call(call16.StatusNotification(connector_id=1, error_code="GroundFailure", status="Faulted"))
            else:
                [number] = cp.reservations
                await cp.call(call201.ReservationStatusUpdate(reservation_id=number,
                                                              reservation_update_status="Removed"))
            await eventually(lambda: reg.emsp.command_results["reserve"]["result"] == "CANCELED_RESERVATION",
                             10, 0.05, "CANCELED_RESERVATION")
            ended = await pushed(reg, lambda m, b: m == "PATCH" and b.get("status") == "COMPLETED", "COMPLETED")
            again = await reg.client.post(reg.url("commands/CANCEL_RESERVATION"), json={
                "response_url": reg.emsp.response_url("again"), "reservation_id": "R-1"})
        assert "end_date_time" in ended and reg.emsp.command_results["reserve"]["message"][0]["text"]
        # The CPO cancelled it: an unused reservation ends COMPLETED (mod_sessions), here free and without a CDR,
        # and it is no longer there to cancel.
        assert ended["total_cost"] == {"excl_vat": 0.0, "incl_vat": 0.0}
        assert [m for m, b in session_pushes(reg, reserved["id"])] == ["PUT", "PATCH"]
        assert not [b for m, p, b in reg.emsp.pushes if m == "POST"]
        assert again.json()["data"]["result"] == "REJECTED"
        assert reg.emsp.schema_errors == []


async def test_a_reservation_ends_once_when_charger_timer_and_sweep_all_see_it_expire(sandbox: Sandbox):
    runner = sandbox.service("command_runner")
    async with registered_emsp(sandbox, "2.2.1") as reg:
        site = await reservation_site(sandbox, reg, "RES-ONCE", EXPIRES_TARIFF, "2.0.1")
        async with reserving_station(sandbox, "RES-ONCE", "2.0.1") as cp:
            reserved = await reserve(reg, site, "RES-ONCE-1", "reserve", seconds=1)
            [number] = cp.reservations
            await asyncio.sleep(1.0)  # past its expiry_date (now + 1 s, whole seconds)
            # The charger reports the expiry while the sandbox's timer and its periodic sweep end it too.
            await asyncio.gather(cp.call(call201.ReservationStatusUpdate(reservation_id=number,
                                                                         reservation_update_status="Expired")),
                                 runner.expire_due(), runner.expire_due())
            await pushed(reg, lambda m, b: m == "POST", "CDR")
            await sandbox.service("bus").drain()
            await sandbox.service("push_dispatcher").dispatch_due()
        finals = [b for m, b in session_pushes(reg, reserved["id"]) if b.get("status") == "COMPLETED"]
        assert len(finals) == 1 and len([b for m, p, b in reg.emsp.pushes if m == "POST"]) == 1
        assert reg.emsp.command_results["reserve"]["result"] == "ACCEPTED"  # expiry is not a cancellation


# --- reservations: what must not end one, attach to one, or skip authorization ------------------------------

TWO_CONNECTORS = [{"evse_id": 1, "connectors": [
    {**HARDWARE[0]["connectors"][0], "connector_id": 1, "standard": "IEC_62196_T2_COMBO", "format": "CABLE"},
    {**HARDWARE[0]["connectors"][0], "connector_id": 2, "standard": "CHADEMO", "format": "CABLE"}]}]


async def reservation_state(sandbox: Sandbox, session_id: str) -> tuple[str, str | None]:
    """The reservation session's status and its RESERVE_NOW's result, as stored."""
    async with sandbox.service("csms").sessions() as session:
        row = await session.get(CpoSession, session_id)
        command = await session.get(OcpiCommand, row.reservation_command_id) if row.reservation_command_id else None
        await session.commit()
    return row.status, command.result if command else None


async def authorize(sandbox: Sandbox, tenant_id: str, identity: str, token: str, evse_id: int | None = None) -> str:
    """How the CSMS answers a token at a charger when unknown tokens are refused (the sandbox accepts them)."""
    return await authorize_id_token(sandbox.service("csms").sessions, tenant_id, identity, token, realtime=None,
                                    unknown_policy="reject", evse_id=evse_id)


@pytest.mark.parametrize("ocpp_version", ["1.6", "2.0.1"])
async def test_the_other_connector_of_a_reserved_evse_in_use_does_not_end_the_reservation(sandbox: Sandbox,
                                                                                         ocpp_version: str):
    # The reserved driver plugs into the EVSE: its other connector reports Unavailable (the simulators do so);
    # on 1.6 the reserved connector itself may report Unavailable while the driver uses the other one.
    identity = f"RES-PLUG-{ocpp_version.replace('.', '')}"
    async with registered_emsp(sandbox, "2.2.1") as reg:
        site = await reservation_site(sandbox, reg, identity, None, ocpp_version)
        async with sandbox.service("csms").sessions() as session:
            charger = await session.scalar(select(Charger).where(Charger.identity == identity))
            charger.hardware = TWO_CONNECTORS
            await session.commit()
        async with reserving_station(sandbox, identity, ocpp_version) as cp:
            reserved = await reserve(reg, site, f"{identity}-1", "reserve", seconds=1800)
            [(number, id_tag)] = cp.reservations.items()
            if ocpp_version == "1.6":
                for connector, status in ((1, "Unavailable"), (2, "Preparing"), (2, "Faulted")):
                    await cp.call(call16.StatusNotification(connector_id=connector, error_code="NoError",
                                                            status=status))
                await sandbox.service("bus").drain()
                assert await reservation_state(sandbox, reserved["id"]) == ("RESERVATION", "ACCEPTED")
                await cp.call(call16.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=0,
                                                      reservation_id=number, timestamp=now()), suppress=False)
            else:
                for connector, status in ((2, "Unavailable"), (1, "Occupied")):
                    await cp.call(call201.StatusNotification(timestamp=now(), connector_status=status, evse_id=1,
                                                             connector_id=connector))
                await sandbox.service("bus").drain()
                assert await reservation_state(sandbox, reserved["id"]) == ("RESERVATION", "ACCEPTED")
                await cp.call(call201.TransactionEvent(
                    event_type="Started", timestamp=now(), trigger_reason="Authorized", seq_no=0,
                    transaction_info={"transaction_id": f"{identity}-T1"}, evse={"id": 1, "connector_id": 1},
                    id_token={"id_token": id_tag, "type": "Central"}, reservation_id=number))
            active = await pushed(reg, lambda m, b: m == "PUT" and b.get("status") == "ACTIVE", "ACTIVE PUT")
        assert active["id"] == reserved["id"]
        assert reg.emsp.command_results["reserve"]["result"] == "ACCEPTED"  # no CANCELED_RESERVATION


async def test_deleted_locations_and_a_failing_reservation_do_not_stop_the_others_from_expiring(sandbox: Sandbox):
    async with registered_emsp(sandbox, "2.2.1") as reg, contextlib.AsyncExitStack() as stack:
        reserved = {}
        for name in ("A", "B", "C"):  # three sites, their connectors all priced with one tariff (RES-T)
            site = await reservation_site(sandbox, reg, f"RES-GONE-{name}", EXPIRES_TARIFF if name == "A" else None)
            async with sandbox.service("csms").sessions() as session:
                charger = await session.scalar(select(Charger).where(Charger.identity == f"RES-GONE-{name}"))
                charger.hardware = [{**HARDWARE[0], "connectors": [{**HARDWARE[0]["connectors"][0],
                                                                    "tariff_ids": ["RES-T"]}]}]
                await session.commit()
            await stack.enter_async_context(reserving_station(sandbox, f"RES-GONE-{name}"))
            reserved[name] = (site, await reserve(reg, site, f"RES-GONE-{name}-1", f"reserve-{name}", seconds=1800,
                                                  reservation_id=f"R-{name}"))
        # A: its location is deleted through the API: the reservation there ends, removed by the CPO.
        assert (await sandbox.api.delete(f"/api/locations/{reserved['A'][0]['id']}")).status_code == 204
        assert await reservation_state(sandbox, reserved["A"][1]["id"]) == ("COMPLETED", "CANCELED_RESERVATION")
        assert await reservation_state(sandbox, reserved["B"][1]["id"]) == ("RESERVATION", "ACCEPTED")
        cancel = await reg.client.post(reg.url("commands/CANCEL_RESERVATION"), json={
            "response_url": reg.emsp.response_url("cancel-A"), "reservation_id": "R-A"})
        assert cancel.json()["data"]["result"] == "REJECTED"
        async with sandbox.service("csms").sessions() as session:
            # B: its location vanished some other way (a reservation from before deletes ended them): no CDR then.
            await session.execute(delete(Location).where(Location.id == reserved["B"][0]["id"]))
            # C: a session the sweep cannot end (here: a time zone it cannot price in).
            row = await session.get(CpoSession, reserved["C"][1]["id"])
            row.time_zone = "Nowhere/Atlantis"
            await session.commit()
        async with sandbox.service("csms").sessions() as session:
            later = datetime.now(UTC) + timedelta(hours=1)
            assert await reservations.expire_reservations(session, now=later) == 1
            cdrs = list(await session.scalars(select(CpoCdr.session_id)))
        assert await reservation_state(sandbox, reserved["B"][1]["id"]) == ("COMPLETED", "ACCEPTED")
        assert await reservation_state(sandbox, reserved["C"][1]["id"]) == ("RESERVATION", "ACCEPTED")
        assert cdrs == []
        await sandbox.service("push_dispatcher").dispatch_due()
        [removed] = [b for m, b in session_pushes(reg, reserved["A"][1]["id"]) if b.get("status") == "COMPLETED"]
        assert removed["total_cost"] == {"excl_vat": 0.0, "incl_vat": 0.0}  # the CPO removed it: not billed
        [expired] = [b for m, b in session_pushes(reg, reserved["B"][1]["id"]) if b.get("status") == "COMPLETED"]
        # Priced (the 4.00 fee, and its 30 minutes at 2.00/h), though no CDR can be made.
        assert expired["total_cost"] == {"excl_vat": 5.0, "incl_vat": 6.0}


async def test_a_sweep_that_read_a_replaced_reservation_does_not_end_the_replacement(sandbox: Sandbox):
    async with registered_emsp(sandbox, "2.2.1") as reg:
        site = await reservation_site(sandbox, reg, "RES-STALE", EXPIRES_TARIFF)
        async with reserving_station(sandbox, "RES-STALE") as cp:
            reserved = await reserve(reg, site, "RES-STALE-1", "reserve", seconds=60)
            async with sandbox.service("csms").sessions() as session:  # what a sweep read before the replacement
                [(stale_row, stale_command)] = await held_reservations.held(session, tenant_id=None,
                                                                            identity="RES-STALE")
                await session.commit()
            await reserve(reg, site, "RES-STALE-1", "reserve-again", seconds=3600)  # the same R-1, later expiry
        assert len(cp.reservations) == 1  # the charger replaced it too: the same reservation number
        async with sandbox.service("csms").sessions() as session:
            row = await session.get(CpoSession, stale_row.id)
            assert not await reservations.end_reservation(session, row, stale_command, ended_by="expired",
                                                          at=datetime.now(UTC))
            await session.commit()
            # Past the first expiry_date, before the second: nothing is due.
            assert await reservations.expire_reservations(session, now=datetime.now(UTC) + timedelta(minutes=5)) == 0
        assert (await reservation_state(sandbox, reserved["id"]))[0] == "RESERVATION"


async def test_only_the_reserved_token_on_the_reserved_evse_skips_authorization(sandbox: Sandbox):
    long_token = {**RESERVED_TOKEN, "uid": "LONG-RESERVED-CARD-0001-XYZ"}  # more than a 1.6 idTag holds
    async with registered_emsp(sandbox, "2.2.1") as reg:
        site = await reservation_site(sandbox, reg, "RES-AUTH", None)
        tenant = (await sandbox.api.get("/api/tenants")).json()[0]["id"]
        async with reserving_station(sandbox, "RES-AUTH") as cp:
            await reserve(reg, site, "RES-AUTH-1", "reserve", seconds=1800)
            await reserve(reg, site, "RES-AUTH-1", "reserve-long", seconds=1800, reservation_id="R-2",
                          token=long_token)
        assert sorted(cp.reservations.values()) == ["LONG-RESERVED-CARD-0", "RES-USER-0001"]
        for presented in ("RES-USER-0001", "res-user-0001", "LONG-RESERVED-CARD-0"):
            assert await authorize(sandbox, tenant, "RES-AUTH", presented) == "Accepted", presented
            assert await authorize(sandbox, tenant, "RES-AUTH", presented, evse_id=1) == "Accepted", presented
        # Prefixes, LIKE wildcards, and the reserved token on an EVSE it did not reserve are checked as any other.
        for presented, evse_id in (("0", None), ("R", None), ("RES-USER-000", None), ("%", None), ("_%", None),
                                   ("LONG-RESERVED-CARD-", None), ("RES-USER-0001", 2)):
            assert await authorize(sandbox, tenant, "RES-AUTH", presented, evse_id) == "Invalid", presented


class RefusingStation(Cp16):
    @on("RemoteStartTransaction")
    def remote_start(self, id_tag, connector_id=None, **kwargs):  # noqa: ANN001, ANN003
        return result16.RemoteStartTransaction(status="Rejected")


async def test_a_start_session_the_charger_refused_does_not_authorize_its_token(sandbox: Sandbox):
    async with registered_emsp(sandbox, "2.2.1") as reg:
        site = await site_with_charger(sandbox, reg, "CMD-REFUSE")
        tenant = (await sandbox.api.get("/api/tenants")).json()[0]["id"]
        async with websockets.connect(f"{sandbox.csms_url}/CMD-REFUSE", subprotocols=["ocpp1.6"]) as ws:
            cp = RefusingStation("CMD-REFUSE", ws)
            loop = asyncio.create_task(cp.start())
            await cp.call(call16.BootNotification(charge_point_vendor="T", charge_point_model="M"))
            await reg.client.post(reg.url("commands/START_SESSION"), json={
                "response_url": reg.emsp.response_url("start"), "token": TOKEN, "location_id": site["ocpi_id"]})
            assert (await result_of(reg, "start"))["result"] == "REJECTED"
            loop.cancel()
        assert await authorize(sandbox, tenant, "CMD-REFUSE", TOKEN["uid"]) == "Invalid"


async def test_a_reservation_is_the_tenants_whose_charger_held_it(sandbox: Sandbox):
    beta = (await sandbox.api.post("/api/tenants", json={"name": "beta"})).json()["id"]
    runner = sandbox.service("command_runner")
    async with registered_emsp(sandbox, "2.2.1") as reg:
        site = await reservation_site(sandbox, reg, "RES-TENANT", None)
        alpha = (await sandbox.api.get("/api/tenants")).json()[0]["id"]
        async with reserving_station(sandbox, "RES-TENANT") as cp:
            reserved = await reserve(reg, site, "RES-TENANT-1", "reserve", seconds=1800)
        [(number, id_tag)] = cp.reservations.items()
        # The identity as another tenant's charger would have it: nothing of alpha's reservation is its.
        assert await authorize(sandbox, beta, "RES-TENANT", id_tag) == "Invalid"
        assert await authorize(sandbox, alpha, "RES-TENANT", id_tag) == "Accepted"
        async with sandbox.service("csms").sessions() as session:
            assert await held_reservations.used_by(session, beta, "RES-TENANT", number=number, id_token=id_tag,
                                                   evse_id=1) is None
            await session.commit()
        assert not await runner.reservation_dropped("RES-TENANT", beta, number=number, why="another tenant's")
        assert await reservation_state(sandbox, reserved["id"]) == ("RESERVATION", "ACCEPTED")
        # Deleting the charger (so that its identity may come back elsewhere) ends the reservation it held.
        charger_id = (await sandbox.api.get("/api/chargers")).json()
        charger_id = next(c["id"] for c in charger_id if c["identity"] == "RES-TENANT")
        assert (await sandbox.api.delete(f"/api/chargers/{charger_id}")).status_code == 204
        assert await reservation_state(sandbox, reserved["id"]) == ("COMPLETED", "CANCELED_RESERVATION")


class CancellingStation(ReservingStation):
    cancelled: list[int]

    @on("CancelReservation")
    def cancel(self, reservation_id, **kwargs):  # noqa: ANN001, ANN003
        self.cancelled = [*getattr(self, "cancelled", []), reservation_id]
        return result16.CancelReservation(status="Accepted")


async def test_a_reservation_moved_to_another_charger_of_the_location_is_cancelled_on_the_first(sandbox: Sandbox):
    async with registered_emsp(sandbox, "2.2.1") as reg:
        site = await reservation_site(sandbox, reg, "RES-MOVE-X", None)
        async with sandbox.service("csms").sessions() as session:
            first = await session.scalar(select(Charger).where(Charger.identity == "RES-MOVE-X"))
            session.add(Charger(tenant_id=first.tenant_id, identity="RES-MOVE-Y", location_id=first.location_id,
                                ocpp_version="1.6", config={}, hardware=HARDWARE))
            await session.commit()
        async with websockets.connect(f"{sandbox.csms_url}/RES-MOVE-X", subprotocols=["ocpp1.6"]) as ws_x, \
                websockets.connect(f"{sandbox.csms_url}/RES-MOVE-Y", subprotocols=["ocpp1.6"]) as ws_y:
            x, y = CancellingStation("RES-MOVE-X", ws_x), CancellingStation("RES-MOVE-Y", ws_y)
            loops = [asyncio.create_task(x.start()), asyncio.create_task(y.start())]
            for cp in (x, y):
                await cp.call(call16.BootNotification(charge_point_vendor="T", charge_point_model="M"))
            reserved = await reserve(reg, site, "RES-MOVE-X-1", "reserve", seconds=1800)
            moved = await reserve(reg, site, "RES-MOVE-Y-1", "reserve-there", seconds=1800)
            cancel = await reg.client.post(reg.url("commands/CANCEL_RESERVATION"), json={
                "response_url": reg.emsp.response_url("cancel"), "reservation_id": "R-1"})
            assert (await result_of(reg, "cancel"))["result"] == "ACCEPTED"
            for loop in loops:
                loop.cancel()
        assert moved["id"] == reserved["id"]  # the same reservation, so the same session
        [number_x] = x.reservations
        [number_y] = y.reservations
        # X let it go when Y took it; the eMSP's cancel then went to Y, where the reservation is.
        assert x.cancelled == [number_x] and y.cancelled == [number_y]
        assert cancel.json()["data"]["result"] == "ACCEPTED"
        assert (await reservation_state(sandbox, reserved["id"]))[0] == "COMPLETED"
