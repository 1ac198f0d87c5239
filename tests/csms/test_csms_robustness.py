"""The embedded CSMS under bad input: malformed frames get CALLERRORs and the connection lives on; handshakes
that must fail, fail."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import InvalidStatus

from ocpi_sandbox.db.models import CsmsStation
from tests.conftest import Sandbox, run_sandbox

HEARTBEAT = '[2,"hb-1","Heartbeat",{}]'


async def answer(ws, frame: str) -> list:  # noqa: ANN001
    await ws.send(frame)
    return json.loads(await ws.recv())


@pytest.mark.parametrize("version, frame, code", [
    ("1.6", "not json", "FormationViolation"),
    ("2.0.1", "not json", "RpcFrameworkError"),
    ("2.0.1", "[9, \"x\", \"Heartbeat\", {}]", "MessageTypeNotSupported"),
    ("1.6", '[2, "a1", "NoSuchAction", {}]', "NotImplemented"),
    ("2.0.1", '[2, "a1", "NoSuchAction", {}]', "NotImplemented"),
    ("1.6", '[2, "a2", "BootNotification", {"chargePointVendor": 5, "chargePointModel": "m"}]',
     "TypeConstraintViolation"),
    ("1.6", '[2, "a3", "BootNotification", {"chargePointModel": "m"}]', "OccurenceConstraintViolation"),
    ("2.0.1", '[2, "a3", "BootNotification", {"reason": "PowerUp"}]', "OccurrenceConstraintViolation"),
    ("2.0.1", '[2, "a4", "StatusNotification", {"timestamp": "2026-01-01T00:00:00Z", "connectorStatus": "Sleepy",'
              ' "evseId": 1, "connectorId": 1}]', "PropertyConstraintViolation"),
])
async def test_malformed_frames_get_the_versions_callerror_and_the_connection_survives(
        sandbox: Sandbox, version: str, frame: str, code: str):
    async with websockets.connect(f"{sandbox.csms_url}/FUZZ-{version}", subprotocols=[f"ocpp{version}"]) as ws:
        reply = await answer(ws, frame)
        assert reply[0] == 4 and reply[2] == code, reply
        assert (await answer(ws, HEARTBEAT))[0] == 3  # still served


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.one_of(st.text(max_size=200), st.lists(st.one_of(st.integers(), st.text(max_size=20), st.none(),
                                                                 st.floats(allow_nan=False)), max_size=6)
                      .map(json.dumps)))
async def test_fuzzed_frames_never_break_the_csms(sandbox: Sandbox, junk: str):
    async with websockets.connect(f"{sandbox.csms_url}/FUZZ-X", subprotocols=["ocpp2.0.1"]) as ws:
        await ws.send(junk)
        await ws.send(HEARTBEAT)
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if message[:2] == [3, "hb-1"]:
                break
            assert message[0] == 4, message  # anything else must be a CALLERROR


async def test_unsupported_subprotocol_is_refused(sandbox: Sandbox):
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(f"{sandbox.csms_url}/OLD-1", subprotocols=["ocpp1.5"]):
            pass
    assert refused.value.response.status_code == 403


async def test_basic_auth_is_required_when_the_station_has_a_password(sandbox: Sandbox):
    async with sandbox.service("csms").sessions() as session:
        session.add(CsmsStation(identity="SECURE-1", password="s3cret-password-16"))
        await session.commit()
    with pytest.raises(InvalidStatus):
        async with websockets.connect(f"{sandbox.csms_url}/SECURE-1", subprotocols=["ocpp1.6"]):
            pass
    good = base64.b64encode(b"SECURE-1:s3cret-password-16").decode()
    async with websockets.connect(f"{sandbox.csms_url}/SECURE-1", subprotocols=["ocpp1.6"],
                                  additional_headers={"Authorization": f"Basic {good}"}) as ws:
        assert (await answer(ws, HEARTBEAT))[0] == 3


async def test_unknown_chargers_can_be_refused(sqlite_url):
    async with run_sandbox(sqlite_url, csms_unknown_chargers="reject") as sandbox:
        with pytest.raises(InvalidStatus):
            async with websockets.connect(f"{sandbox.csms_url}/STRANGER", subprotocols=["ocpp1.6"]):
                pass
