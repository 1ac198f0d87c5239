"""A simulated charger pointed at an external CSMS (``ws_url``), driven through the management API: the CSMS here
is built with the third-party ``ocpp`` package, which validates every frame it receives against the official
schemas. Each command's frames reach that CSMS under the unique ids the command reported and the charger's log
holds; a reset shows up at the CSMS as a new BootNotification."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as Cp16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as Cp201
from ocpp.v201 import call_result as result201

from tests.api.test_charger_commands import actions, charger_state, command, site
from tests.conftest import Sandbox


def now() -> str:
    return datetime.now(UTC).isoformat()


class Recording:
    """Keeps every raw frame the CSMS received, to find the charger's unique ids in it."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.received: list[str] = []

    async def route_message(self, raw_msg):  # noqa: ANN001, ANN201
        self.received.append(raw_msg)
        return await super().route_message(raw_msg)


class Csms16(Recording, Cp16):
    @on("BootNotification")
    def boot(self, **kwargs):  # noqa: ANN003
        return result16.BootNotification(current_time=now(), interval=300, status="Accepted")

    @on("StatusNotification")
    def status(self, **kwargs):  # noqa: ANN003
        return result16.StatusNotification()

    @on("Heartbeat")
    def heartbeat(self, **kwargs):  # noqa: ANN003
        return result16.Heartbeat(current_time=now())

    @on("Authorize")
    def authorize(self, **kwargs):  # noqa: ANN003
        return result16.Authorize(id_tag_info={"status": "Accepted"})

    @on("StartTransaction")
    def start_transaction(self, **kwargs):  # noqa: ANN003
        return result16.StartTransaction(transaction_id=77, id_tag_info={"status": "Accepted"})

    @on("MeterValues")
    def meter_values(self, **kwargs):  # noqa: ANN003
        return result16.MeterValues()

    @on("StopTransaction")
    def stop_transaction(self, **kwargs):  # noqa: ANN003
        return result16.StopTransaction()


class Csms201(Recording, Cp201):
    @on("BootNotification")
    def boot(self, **kwargs):  # noqa: ANN003
        return result201.BootNotification(current_time=now(), interval=300, status="Accepted")

    @on("StatusNotification")
    def status(self, **kwargs):  # noqa: ANN003
        return result201.StatusNotification()

    @on("Heartbeat")
    def heartbeat(self, **kwargs):  # noqa: ANN003
        return result201.Heartbeat(current_time=now())

    @on("Authorize")
    def authorize(self, **kwargs):  # noqa: ANN003
        return result201.Authorize(id_token_info={"status": "Accepted"})

    @on("TransactionEvent")
    def transaction_event(self, **kwargs):  # noqa: ANN003
        return result201.TransactionEvent()

    @on("NotifyEvent")
    def notify_event(self, **kwargs):  # noqa: ANN003
        return result201.NotifyEvent()

    @on("SecurityEventNotification")
    def security_event(self, **kwargs):  # noqa: ANN003
        return result201.SecurityEventNotification()

    @on("MeterValues")
    def meter_values(self, **kwargs):  # noqa: ANN003
        return result201.MeterValues()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_commands_drive_a_charger_connected_to_an_external_csms(sandbox: Sandbox, version):
    connections: list[Recording] = []

    async def serve(ws) -> None:  # noqa: ANN001
        identity = ws.request.path.rstrip("/").rsplit("/", 1)[-1]
        point = (Csms16 if version == "1.6" else Csms201)(identity, ws)
        connections.append(point)
        try:
            await point.start()
        except websockets.ConnectionClosed:
            pass

    async with websockets.serve(serve, "127.0.0.1", 0, subprotocols=[f"ocpp{version}"]) as server:
        port = server.sockets[0].getsockname()[1]
        location = await site(sandbox)
        created = await sandbox.api.post("/api/chargers", json={
            "location_id": location["id"], "brand_slug": "northgrid", "model_slug": "nordwall-22",
            "ocpp_version": version, "identity": f"EXT-{version}", "ws_url": f"ws://127.0.0.1:{port}/ocpp"})
        assert created.status_code == 201, created.text
        charger = created.json()
        assert charger["ws_url"] == f"ws://127.0.0.1:{port}/ocpp"
        await charger_state(sandbox, charger["id"], lambda s: s["link"]["connected"] and
                            s["simulator"]["boot_status"] == "Accepted")
        # The embedded CSMS never saw it: the charger talks only to the CSMS it was pointed at.
        assert (await sandbox.api.get(f"/api/chargers/{charger['id']}")).json()["state"]["connected"] is False

        outcomes = [await command(sandbox, charger["id"], "plug-in"),
                    await command(sandbox, charger["id"], "start-transaction", {"id_token": "EXT-TAG"}),
                    await command(sandbox, charger["id"], "stop-transaction"),
                    await command(sandbox, charger["id"], "unplug"),
                    await command(sandbox, charger["id"], "reset", {"type": "Hard"})]
        assert "Authorize" in actions(outcomes[1]) and "BootNotification" in actions(outcomes[4])
        received = "\n".join(raw for point in connections for raw in point.received)
        sent_calls = [f for o in outcomes for f in o["frames"] if f["direction"] == "sent" and f["message_type"] == 2]
        assert sent_calls
        for frame in sent_calls:  # each CALL the command reported reached the external CSMS, by unique id
            assert f'"{frame["unique_id"]}"' in received, frame
        boots = [raw for raw in received.splitlines() if '"BootNotification"' in raw]
        assert len(boots) == 2
        if version == "2.0.1":
            assert '"LocalReset"' in boots[1]
