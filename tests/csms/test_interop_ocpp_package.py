"""A charge point built with the third-party `ocpp` package against our embedded CSMS, 1.6 and 2.0.1:
boot, heartbeat, status, authorize, remote start, meter values, remote stop — over real WebSockets."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import websockets
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as Cp16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as Cp201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from sqlalchemy import select

from ocpi_sandbox.db.models import ChargerFrame, CsmsConnector, CsmsMeterSample, CsmsTransaction
from ocpi_sandbox.ocpp.v16 import messages as m16
from ocpi_sandbox.ocpp.v201 import messages as m201
from ocpi_sandbox.ocpp.v201.datatypes import IdTokenType
from tests.conftest import Sandbox
from tests.ocpp_schemas import validate_frames


def now() -> str:
    return datetime.now(UTC).isoformat()


class Station16(Cp16):
    """A 1.6 charge point that starts a transaction when asked remotely and stops it likewise."""

    transaction_id: int | None = None

    @on("RemoteStartTransaction")
    def remote_start(self, id_tag, connector_id=None, **kwargs):  # noqa: ANN001, ANN003
        return result16.RemoteStartTransaction(status="Accepted")

    @after("RemoteStartTransaction")
    async def run_remote_start(self, id_tag, connector_id=None, **kwargs):  # noqa: ANN001, ANN003
        await self.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Preparing"))
        reply = await self.call(call16.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=1000,
                                                        timestamp=now()), suppress=False)
        self.transaction_id = reply.transaction_id
        await self.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
        await self.call(call16.MeterValues(connector_id=1, transaction_id=reply.transaction_id, meter_value=[
            {"timestamp": now(), "sampled_value": [
                {"value": "1.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
                {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"}]}]), suppress=False)

    @on("RemoteStopTransaction")
    def remote_stop(self, transaction_id, **kwargs):  # noqa: ANN001, ANN003
        return result16.RemoteStopTransaction(status="Accepted")

    @after("RemoteStopTransaction")
    async def run_remote_stop(self, transaction_id, **kwargs):  # noqa: ANN001, ANN003
        await self.call(call16.StopTransaction(meter_stop=2500, timestamp=now(), transaction_id=transaction_id,
                                               reason="Remote"), suppress=False)
        await self.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Finishing"))


class Station201(Cp201):
    @on("RequestStartTransaction")
    def request_start(self, id_token, remote_start_id, evse_id=None, **kwargs):  # noqa: ANN001, ANN003
        return result201.RequestStartTransaction(status="Accepted")

    @after("RequestStartTransaction")
    async def run_remote_start(self, id_token, remote_start_id, evse_id=None, **kwargs):  # noqa: ANN001, ANN003
        await self.call(call201.StatusNotification(timestamp=now(), connector_status="Occupied", evse_id=1,
                                                   connector_id=1))
        await self.call(call201.TransactionEvent(
            event_type="Started", timestamp=now(), trigger_reason="RemoteStart", seq_no=0,
            transaction_info={"transaction_id": "TX-201-1", "charging_state": "Charging",
                              "remote_start_id": remote_start_id},
            id_token=id_token, evse={"id": 1, "connector_id": 1},
            meter_value=[{"timestamp": now(), "sampled_value": [
                {"value": 5000.0, "context": "Transaction.Begin"}]}]), suppress=False)
        await self.call(call201.TransactionEvent(
            event_type="Updated", timestamp=now(), trigger_reason="MeterValuePeriodic", seq_no=1,
            transaction_info={"transaction_id": "TX-201-1"},
            meter_value=[{"timestamp": now(), "sampled_value": [
                {"value": 6.25, "unit_of_measure": {"unit": "kWh"}},
                {"value": 22.0, "measurand": "Power.Active.Import", "unit_of_measure": {"unit": "W",
                                                                                      "multiplier": 3}}]}]),
            suppress=False)

    @on("RequestStopTransaction")
    def request_stop(self, transaction_id, **kwargs):  # noqa: ANN001, ANN003
        return result201.RequestStopTransaction(status="Accepted")

    @after("RequestStopTransaction")
    async def run_remote_stop(self, transaction_id, **kwargs):  # noqa: ANN001, ANN003
        await self.call(call201.TransactionEvent(
            event_type="Ended", timestamp=now(), trigger_reason="RemoteStop", seq_no=2,
            transaction_info={"transaction_id": transaction_id, "stopped_reason": "Remote",
                              "charging_state": "EVConnected"},
            meter_value=[{"timestamp": now(), "sampled_value": [
                {"value": 7500.0, "context": "Transaction.End"}]}]), suppress=False)


async def wait_for(predicate, timeout: float = 10.0) -> None:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def transaction(sandbox: Sandbox, identity: str) -> CsmsTransaction | None:
    async with sandbox.service("csms").sessions() as session:
        return await session.scalar(select(CsmsTransaction).where(CsmsTransaction.identity == identity))


async def logged_frames(sandbox: Sandbox, identity: str) -> list[ChargerFrame]:
    await sandbox.service("frame_log").flush()
    async with sandbox.service("csms").sessions() as session:
        return list((await session.scalars(select(ChargerFrame).where(ChargerFrame.identity == identity)
                                           .order_by(ChargerFrame.id))).all())


async def test_ocpp16_charge_point_runs_a_remote_transaction(sandbox: Sandbox):
    identity = "IOP-16-001"
    gateway = sandbox.service("gateway")
    async with websockets.connect(f"{sandbox.csms_url}/{identity}", subprotocols=["ocpp1.6"]) as ws:
        assert ws.subprotocol == "ocpp1.6"
        cp = Station16(identity, ws)
        loop = asyncio.create_task(cp.start())
        boot = await cp.call(call16.BootNotification(charge_point_vendor="Iop", charge_point_model="AC22"),
                             suppress=False)
        assert boot.status == "Accepted" and boot.interval == sandbox.settings.csms_heartbeat_interval
        assert (await cp.call(call16.Heartbeat(), suppress=False)).current_time
        await cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
        auth = await cp.call(call16.Authorize(id_tag="04A1B2C3"), suppress=False)
        assert auth.id_tag_info["status"] == "Accepted"

        answer = await gateway.call(identity, "RemoteStartTransaction",
                                    m16.RemoteStartTransactionRequest(id_tag="04A1B2C3", connector_id=1))
        assert answer.status == "Accepted"

        async def started() -> bool:
            tx = await transaction(sandbox, identity)
            return tx is not None and tx.meter_last_wh == 1500.0

        await wait_for(started)
        tx = await transaction(sandbox, identity)
        stop = await gateway.call(identity, "RemoteStopTransaction",
                                  m16.RemoteStopTransactionRequest(transaction_id=int(tx.transaction_id)))
        assert stop.status == "Accepted"

        async def ended_and_finishing() -> bool:
            # The station reports Finishing right after StopTransaction: wait for both to be stored.
            async with sandbox.service("csms").sessions() as session:
                status = await session.get(CsmsConnector, (identity, 1, 1))
            return not (await transaction(sandbox, identity)).active and status.status == "Finishing"

        await wait_for(ended_and_finishing)
        loop.cancel()
    tx = await transaction(sandbox, identity)
    assert (tx.meter_start_wh, tx.meter_stop_wh, tx.stop_reason, tx.id_token) == (1000.0, 2500.0, "Remote", "04A1B2C3")
    frames = await logged_frames(sandbox, identity)
    actions = [(f.direction, f.message_type, f.action) for f in frames if f.message_type == 2]
    assert ("received", 2, "RemoteStartTransaction") in actions and ("sent", 2, "StopTransaction") in actions
    # Every CALLRESULT carries the action of its CALL, and every payload is schema-valid.
    assert all(f.action for f in frames)
    assert validate_frames("1.6", [(f.frame, f.action) for f in frames]) == len(frames)


async def test_ocpp201_charging_station_runs_a_remote_transaction(sandbox: Sandbox):
    identity = "IOP-201-001"
    gateway = sandbox.service("gateway")
    async with websockets.connect(f"{sandbox.csms_url}/{identity}", subprotocols=["ocpp2.0.1", "ocpp1.6"]) as ws:
        assert ws.subprotocol == "ocpp2.0.1"
        cp = Station201(identity, ws)
        loop = asyncio.create_task(cp.start())
        boot = await cp.call(call201.BootNotification(charging_station={"model": "DC150", "vendor_name": "Iop"},
                                                      reason="PowerUp"), suppress=False)
        assert boot.status == "Accepted"
        await cp.call(call201.Heartbeat(), suppress=False)
        await cp.call(call201.StatusNotification(timestamp=now(), connector_status="Available", evse_id=1,
                                                 connector_id=1))
        auth = await cp.call(call201.Authorize(id_token={"id_token": "APP-42", "type": "Central"}), suppress=False)
        assert auth.id_token_info["status"] == "Accepted"

        answer = await gateway.call(identity, "RequestStartTransaction", m201.RequestStartTransactionRequest(
            id_token=IdTokenType(id_token="APP-42", type="Central"), remote_start_id=7, evse_id=1))
        assert answer.status == "Accepted"

        async def metered() -> bool:
            tx = await transaction(sandbox, identity)
            return tx is not None and tx.meter_last_wh == 6250.0

        await wait_for(metered)
        await gateway.call(identity, "RequestStopTransaction",
                           m201.RequestStopTransactionRequest(transaction_id="TX-201-1"))

        async def ended() -> bool:
            return not (await transaction(sandbox, identity)).active

        await wait_for(ended)
        loop.cancel()
    tx = await transaction(sandbox, identity)
    assert (tx.remote_start_id, tx.meter_start_wh, tx.meter_stop_wh) == (7, 5000.0, 7500.0)
    assert (tx.evse_id, tx.connector_id, tx.id_token, tx.stop_reason, tx.seq_nos) == (1, 1, "APP-42", "Remote",
                                                                                      [0, 1, 2])
    frames = await logged_frames(sandbox, identity)
    assert validate_frames("2.0.1", [(f.frame, f.action) for f in frames]) == len(frames)


async def test_ocpp201_meter_values_before_the_token_are_buffered_and_the_token_still_arrives(sandbox: Sandbox):
    # A 2.0.1 transaction starts at EVConnected and meters while it waits for its driver's token. Those periodic
    # values tell nothing new of the transaction: they are answered from memory like any other (thousands of EVs
    # plugged at once must not cost a database transaction each every TxUpdatedInterval), and the event with the
    # token still takes the full path, with every sample and seqNo kept.
    identity = "IOP-201-PLUG"
    meters = sandbox.service("csms").meters
    running_round, meters.flush_interval = meters.flush_interval, 3600.0
    await asyncio.sleep(running_round + 0.1)  # the flush loop's running round ends; what is buffered now stays
    await meters.flush()

    def event(seq_no: int, kind: str, trigger: str, wh: float, **fields):  # noqa: ANN003, ANN202
        return call201.TransactionEvent(
            event_type=kind, timestamp=now(), trigger_reason=trigger, seq_no=seq_no,
            meter_value=[{"timestamp": now(), "sampled_value": [{"value": wh}]}], **fields)

    async with websockets.connect(f"{sandbox.csms_url}/{identity}", subprotocols=["ocpp2.0.1"]) as ws:
        cp = Cp201(identity, ws)
        loop = asyncio.create_task(cp.start())
        await cp.call(call201.BootNotification(charging_station={"model": "AC22", "vendor_name": "Iop"},
                                               reason="PowerUp"), suppress=False)
        await cp.call(event(0, "Started", "CablePluggedIn", 1000.0, evse={"id": 1, "connector_id": 1},
                            transaction_info={"transaction_id": "TX-PLUG", "charging_state": "EVConnected"}),
                      suppress=False)
        for seq_no in (1, 2):
            await cp.call(event(seq_no, "Updated", "MeterValuePeriodic", 1000.0,
                                transaction_info={"transaction_id": "TX-PLUG"}), suppress=False)
        assert meters.pending == 2  # answered from memory, written with the next batch
        answer = await cp.call(event(3, "Updated", "Authorized", 1000.0,
                                     id_token={"id_token": "APP-7", "type": "Central"},
                                     transaction_info={"transaction_id": "TX-PLUG", "charging_state": "Charging"}),
                               suppress=False)
        assert answer.id_token_info["status"] == "Accepted"
        await cp.call(event(4, "Updated", "MeterValuePeriodic", 1400.0,
                            transaction_info={"transaction_id": "TX-PLUG"}), suppress=False)
        loop.cancel()
    await meters.flush()
    tx = await transaction(sandbox, identity)
    assert (tx.evse_id, tx.id_token, tx.charging_state, tx.meter_last_wh, tx.seq_nos) == (
        1, "APP-7", "Charging", 1400.0, [0, 1, 2, 3, 4])
    async with sandbox.service("csms").sessions() as session:
        samples = (await session.scalars(
            select(CsmsMeterSample).where(CsmsMeterSample.transaction_pk == tx.id))).all()
    assert len(samples) == 5
