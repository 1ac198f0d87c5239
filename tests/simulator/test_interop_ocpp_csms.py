"""Our simulated station, on its real WebSocket transport, against a CSMS built with the third-party `ocpp`
package (which validates every frame it receives against the official schemas): boot, status, remote start,
meter values with a rising register, remote stop — OCPP 1.6 and 2.0.1, over real WebSockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import msgspec
import pytest
import websockets
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as Cp16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as Cp201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201

from ocpi_sandbox.domain.chargers import catalog, station_config
from ocpi_sandbox.simulator.fleet import Fleet
from ocpi_sandbox.simulator.station import Station
from ocpi_sandbox.simulator.station_config import StationConfig


def now() -> str:
    return datetime.now(UTC).isoformat()


class Csms16(Cp16):
    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.seen: list[str] = []
        self.registers: list[float] = []
        self.transaction_id: int | None = None

    @on("BootNotification")
    def boot(self, **kwargs):  # noqa: ANN003
        self.seen.append("BootNotification")
        return result16.BootNotification(current_time=now(), interval=300, status="Accepted")

    @after("BootNotification")
    async def start_remotely(self, **kwargs) -> None:  # noqa: ANN003
        await asyncio.sleep(0.2)
        reply = await self.call(call16.RemoteStartTransaction(id_tag="IOPTAG01", connector_id=1), suppress=False)
        self.seen.append(f"RemoteStartTransaction:{reply.status}")

    @on("StatusNotification")
    def status(self, status, **kwargs):  # noqa: ANN001, ANN003
        self.seen.append(f"StatusNotification:{status}")
        return result16.StatusNotification()

    @on("Heartbeat")
    def heartbeat(self, **kwargs):  # noqa: ANN003
        return result16.Heartbeat(current_time=now())

    @on("Authorize")
    def authorize(self, id_tag, **kwargs):  # noqa: ANN001, ANN003
        self.seen.append("Authorize")
        return result16.Authorize(id_tag_info={"status": "Accepted"})

    @on("StartTransaction")
    def start_transaction(self, meter_start, **kwargs):  # noqa: ANN001, ANN003
        self.seen.append("StartTransaction")
        self.transaction_id = 4242
        self.registers.append(float(meter_start))
        return result16.StartTransaction(transaction_id=4242, id_tag_info={"status": "Accepted"})

    @on("MeterValues")
    def meter_values(self, meter_value, **kwargs):  # noqa: ANN001, ANN003
        self.seen.append("MeterValues")
        for mv in meter_value:
            for sv in mv["sampled_value"]:
                if sv.get("measurand", "Energy.Active.Import.Register") == "Energy.Active.Import.Register":
                    self.registers.append(float(sv["value"]) * (1000 if sv.get("unit") == "kWh" else 1))
        return result16.MeterValues()

    @on("StopTransaction")
    def stop_transaction(self, meter_stop, reason=None, **kwargs):  # noqa: ANN001, ANN003
        self.seen.append(f"StopTransaction:{reason}")
        self.registers.append(float(meter_stop))
        return result16.StopTransaction()


class Csms201(Cp201):
    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.seen: list[str] = []
        self.transaction_id: str | None = None
        self.seq_nos: list[int] = []

    @on("BootNotification")
    def boot(self, **kwargs):  # noqa: ANN003
        self.seen.append("BootNotification")
        return result201.BootNotification(current_time=now(), interval=300, status="Accepted")

    @after("BootNotification")
    async def start_remotely(self, **kwargs) -> None:  # noqa: ANN003
        await asyncio.sleep(0.2)
        reply = await self.call(call201.RequestStartTransaction(
            id_token={"id_token": "IOPTAG01", "type": "ISO14443"}, remote_start_id=9, evse_id=1), suppress=False)
        self.seen.append(f"RequestStartTransaction:{reply.status}")

    @on("StatusNotification")
    def status(self, connector_status, **kwargs):  # noqa: ANN001, ANN003
        self.seen.append(f"StatusNotification:{connector_status}")
        return result201.StatusNotification()

    @on("Heartbeat")
    def heartbeat(self, **kwargs):  # noqa: ANN003
        return result201.Heartbeat(current_time=now())

    @on("Authorize")
    def authorize(self, id_token, **kwargs):  # noqa: ANN001, ANN003
        return result201.Authorize(id_token_info={"status": "Accepted"})

    @on("NotifyEvent")
    def notify_event(self, **kwargs):  # noqa: ANN003
        return result201.NotifyEvent()

    @on("TransactionEvent")
    def transaction_event(self, event_type, transaction_info, seq_no, **kwargs):  # noqa: ANN001, ANN003
        self.seen.append(f"TransactionEvent:{event_type}")
        self.transaction_id = transaction_info["transaction_id"]
        self.seq_nos.append(seq_no)
        return result201.TransactionEvent()


async def run(version: str, csms_class: type, identity: str) -> Cp16 | Cp201:
    connected: asyncio.Future = asyncio.get_running_loop().create_future()

    async def handler(ws) -> None:  # noqa: ANN001
        cp = csms_class(identity, ws)
        connected.set_result(cp)
        try:
            await cp.start()
        except websockets.ConnectionClosed:
            pass

    interval = {"1.6": {"MeterValueSampleInterval": "1"}, "2.0.1": {"SampledDataCtrlr.TxUpdatedInterval": "1"}}
    config = station_config(catalog().model("voltstream", "homebox-7c"), identity, version)
    config["configuration"].update(interval[version])
    station = Station(msgspec.convert(config, StationConfig), asyncio.get_running_loop().time(),
                      lambda: datetime.now(UTC))
    fleet = Fleet(tick_interval=0.2, clock=asyncio.get_running_loop().time)
    async with websockets.serve(handler, "127.0.0.1", 0, subprotocols=[f"ocpp{version}"]) as server:
        port = server.sockets[0].getsockname()[1]
        fleet.add(station, csms_url=f"ws://127.0.0.1:{port}/ocpp", identity=identity, version=version)
        fleet.start()
        cp = await asyncio.wait_for(connected, 10)
        deadline = asyncio.get_running_loop().time() + 20
        while sum(1 for s in cp.seen if s.startswith(("MeterValues", "TransactionEvent:Updated"))) < 2:
            assert asyncio.get_running_loop().time() < deadline, cp.seen
            await asyncio.sleep(0.1)
        if version == "1.6":
            reply = await cp.call(call16.RemoteStopTransaction(transaction_id=cp.transaction_id), suppress=False)
        else:
            reply = await cp.call(call201.RequestStopTransaction(transaction_id=cp.transaction_id), suppress=False)
        assert reply.status == "Accepted"
        ended = "StopTransaction" if version == "1.6" else "TransactionEvent:Ended"
        while not any(s.startswith(ended) for s in cp.seen):
            assert asyncio.get_running_loop().time() < deadline, cp.seen
            await asyncio.sleep(0.1)
        await fleet.close()
    return cp


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_our_station_runs_a_remote_transaction_against_an_ocpp_package_csms(version: str):
    if version == "1.6":
        cp = await run("1.6", Csms16, "OUR-SIM-16")
        assert cp.seen[0] == "BootNotification" and "RemoteStartTransaction:Accepted" in cp.seen
        assert cp.seen.index("StartTransaction") < cp.seen.index("MeterValues") < cp.seen.index("StopTransaction:Remote")
        assert "StatusNotification:Charging" in cp.seen
        assert cp.registers == sorted(cp.registers) and cp.registers[-1] > cp.registers[0]  # energy flowed
    else:
        cp = await run("2.0.1", Csms201, "OUR-SIM-201")
        assert "RequestStartTransaction:Accepted" in cp.seen and "StatusNotification:Occupied" in cp.seen
        events = [s for s in cp.seen if s.startswith("TransactionEvent")]
        assert events[0] == "TransactionEvent:Started" and events[-1] == "TransactionEvent:Ended"
        assert cp.seq_nos == list(range(len(cp.seq_nos)))  # seqNo from 0, no gaps, in order
