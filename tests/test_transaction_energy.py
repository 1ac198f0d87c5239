"""A whole transaction on a simulated charger, over real WebSockets to the embedded CSMS, read back from the
charger's frame log: the frames come in the order the protocol prescribes, and the energy register grows by the
integral of the power the charger reports (kWh = ∫P dt, within 1 %)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.conftest import Sandbox
from tests.peers.waiting import eventually

SITE = {"name": "Energy", "address": "Joulestraat 1", "city": "Arnhem", "country": "NLD", "latitude": "51.98510",
        "longitude": "5.89870", "time_zone": "Europe/Amsterdam"}
MEASURANDS = "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage"
CONFIG = {
    "1.6": {"MeterValueSampleInterval": "1", "MeterValuesSampledData": MEASURANDS},
    "2.0.1": {"SampledDataCtrlr.TxUpdatedInterval": "1", "SampledDataCtrlr.TxUpdatedMeasurands": MEASURANDS},
}
SAMPLES = 8


def _calls(frames: list[dict]) -> list[tuple[str, dict]]:
    """(action, payload) of the CALLs the charger sent, oldest first."""
    sent = [f for f in reversed(frames) if f["direction"] == "sent" and f["message_type"] == 2]
    return [(f["action"], json.loads(f["frame"])[3]) for f in sent]


def _samples(calls: list[tuple[str, dict]], version: str) -> list[tuple[datetime, float, float]]:
    """(timestamp, power W, register Wh) of every meter value carrying both, from MeterValues/TransactionEvent."""
    out = []
    for action, payload in calls:
        if action not in ("MeterValues", "TransactionEvent"):
            continue
        for meter_value in payload.get("meterValue") or payload.get("meter_value") or []:
            values = {v.get("measurand"): float(v["value"]) for v in meter_value["sampledValue"]
                      if v.get("phase") is None}
            if "Power.Active.Import" in values and "Energy.Active.Import.Register" in values:
                at = datetime.fromisoformat(meter_value["timestamp"].replace("Z", "+00:00"))
                out.append((at, values["Power.Active.Import"], values["Energy.Active.Import.Register"]))
    return out


@pytest.mark.parametrize("model, version", [("nordwall-22", "1.6"), ("rapide-50", "2.0.1"), ("rapide-50", "1.6")])
async def test_transaction_frames_and_energy_arithmetic(sandbox: Sandbox, model: str, version: str):
    brand = "northgrid" if model.startswith("nordwall") else "ampervale"
    site = (await sandbox.api.post("/api/locations", json=SITE)).json()
    created = await sandbox.api.post("/api/chargers", json={
        "location_id": site["id"], "brand_slug": brand, "model_slug": model, "ocpp_version": version,
        "identity": f"KWH-{model}-{version}", "configuration": CONFIG[version]})
    assert created.status_code == 201, created.text
    charger = created.json()
    url = f"/api/chargers/{charger['id']}"

    async def state():
        return (await sandbox.api.get(url)).json()["state"]

    await eventually(lambda: _booted(state))
    plugged = await sandbox.api.post(f"{url}/commands/plug-in", json={"evse_id": 1, "connector_id": 1})
    assert plugged.status_code == 200, plugged.text
    started = await sandbox.api.post(f"{url}/commands/start-transaction", json={"evse_id": 1, "id_token": "KWH00001"})
    assert started.status_code == 200, started.text

    async def enough_samples():
        await sandbox.service("frame_log").flush()
        frames = (await sandbox.api.get(f"{url}/logs", params={"limit": 1000})).json()["items"]
        return len(_samples(_calls(frames), version)) >= SAMPLES

    await eventually(enough_samples)
    stopped = await sandbox.api.post(f"{url}/commands/stop-transaction", json={"evse_id": 1})
    assert stopped.status_code == 200, stopped.text

    async def ended():
        await sandbox.service("frame_log").flush()
        frames = (await sandbox.api.get(f"{url}/logs", params={"limit": 1000})).json()["items"]
        calls = _calls(frames)
        done = any(a == "StopTransaction" or (a == "TransactionEvent" and p["eventType"] == "Ended") for a, p in calls)
        return calls if done else None

    calls = await eventually(ended)
    actions = [a for a, _ in calls]
    if version == "1.6":
        start, stop = actions.index("StartTransaction"), actions.index("StopTransaction")
        assert actions[0] == "BootNotification" and "StatusNotification" in actions[1:start]
        assert set(actions[start + 1:stop]) <= {"StatusNotification", "MeterValues", "Heartbeat"}
        statuses = [p["status"] for a, p in calls if a == "StatusNotification" and p["connectorId"] == 1]
        assert statuses[-3:] in (["Preparing", "Charging", "Finishing"], ["Charging", "SuspendedEV", "Finishing"])
        start_payload, stop_payload = calls[start][1], calls[stop][1]
        assert stop_payload["meterStop"] > start_payload["meterStart"] and stop_payload["reason"] == "Local"
    else:
        events = [p for a, p in calls if a == "TransactionEvent"]
        assert [e["eventType"] for e in events][0] == "Started" and events[-1]["eventType"] == "Ended"
        assert set(e["eventType"] for e in events[1:-1]) == {"Updated"}
        assert [e["seqNo"] for e in events] == list(range(len(events)))
        assert events[-1]["transactionInfo"]["stoppedReason"] == "Local"
        assert {e["transactionInfo"]["transactionId"] for e in events} == {events[0]["transactionInfo"]["transactionId"]}
        assert "Charging" in {e["transactionInfo"].get("chargingState") for e in events}

    samples = _samples(calls, version)
    assert len(samples) >= SAMPLES
    registers = [wh for _, _, wh in samples]
    assert registers == sorted(registers), "the energy register never goes back"
    # Trapezoidal integral of the reported power between the first and the last sample, against the register.
    integral_wh = sum((t2 - t1).total_seconds() / 3600 * (p1 + p2) / 2
                      for (t1, p1, _), (t2, p2, _) in zip(samples, samples[1:]))
    metered_wh = registers[-1] - registers[0]
    assert metered_wh > 0
    assert abs(integral_wh - metered_wh) <= 0.01 * metered_wh, (integral_wh, metered_wh, samples)


async def _booted(state) -> bool:  # noqa: ANN001
    s = await state()
    return s["connected"] and s["boot_status"] == "Accepted" and bool(s["connectors"])
