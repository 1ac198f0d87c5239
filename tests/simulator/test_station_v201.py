"""The simulated OCPP 2.0.1 charging station, driven without sockets; every frame it emits is schema-checked."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ocpi_sandbox.ocpp.rpc import CallErrorReply
from ocpi_sandbox.ocpp.v201.messages import ACTIONS
from ocpi_sandbox.simulator.ev import EvProfile
from ocpi_sandbox.simulator.station import FAULT_CODES, Station

from .station_harness import T0, Harness, make_config, minimal_instance, sampled, schema

V = "2.0.1"
# Messages only a station sends, and the blocks we do not simulate (certificates, display messages, monitoring,
# customer information, local-controller firmware publishing, network profiles).
STATION_SENDS = {"Authorize", "BootNotification", "ClearedChargingLimit", "FirmwareStatusNotification",
                 "Get15118EVCertificate", "GetCertificateStatus", "Heartbeat", "LogStatusNotification",
                 "MeterValues", "NotifyChargingLimit", "NotifyCustomerInformation", "NotifyDisplayMessages",
                 "NotifyEVChargingNeeds", "NotifyEVChargingSchedule", "NotifyEvent", "NotifyMonitoringReport",
                 "NotifyReport", "PublishFirmwareStatusNotification", "ReportChargingProfiles",
                 "ReservationStatusUpdate", "SecurityEventNotification", "SignCertificate", "StatusNotification",
                 "TransactionEvent"}
NOT_SIMULATED = {"CertificateSigned", "ClearDisplayMessage", "ClearVariableMonitoring", "CustomerInformation",
                 "DeleteCertificate", "GetDisplayMessages", "GetInstalledCertificateIds", "GetMonitoringReport",
                 "InstallCertificate", "PublishFirmware", "SetDisplayMessage", "SetMonitoringBase",
                 "SetMonitoringLevel", "SetNetworkProfile", "SetVariableMonitoring", "UnpublishFirmware"}
NOT_SUPPORTED = STATION_SENDS | NOT_SIMULATED


def iso(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def events(h: Harness, since: int = 0) -> list[dict]:
    return [c.data for c in h.of("TransactionEvent", since)]


def statuses(h: Harness, since: int = 0, evse: int = 1, connector: int = 1) -> list[str]:
    return [c.data["connectorStatus"] for c in h.of("StatusNotification", since)
            if (c.data["evseId"], c.data["connectorId"]) == (evse, connector)]


def charging(h: Harness, token: str = "CARD1", evse: int = 1) -> Harness:
    h.plug(evse)
    h.swipe(token, evse)
    return h


def variable(component: str, name: str, instance: str | None = None, evse: dict | None = None) -> dict:
    comp = {"name": component, **({"evse": evse} if evse else {})}
    return {"component": comp, "variable": {"name": name, **({"instance": instance} if instance else {})}}


def test_full_transaction_plug_swipe_meter_values_stop_unplug() -> None:
    h = Harness(make_config(V))
    assert h.actions() == ["BootNotification", "SecurityEventNotification", "StatusNotification"]
    assert h.of("BootNotification")[0].data["reason"] == "PowerUp"
    mark = h.mark()
    h.plug()
    started = events(h, mark)[0]
    assert (started["eventType"], started["triggerReason"], started["seqNo"]) == ("Started", "CablePluggedIn", 0)
    assert started["transactionInfo"]["chargingState"] == "EVConnected"  # TxStartPoint EVConnected,Authorized
    assert started["evse"] == {"id": 1, "connectorId": 1}
    assert started["meterValue"][0]["sampledValue"][0]["context"] == "Transaction.Begin"
    assert statuses(h, mark) == ["Occupied"]
    h.swipe("CARD1")
    authorized = events(h, mark)[1]
    assert h.of("Authorize", mark)[0].data["idToken"] == {"idToken": "CARD1", "type": "ISO14443"}
    assert authorized["triggerReason"] == "Authorized" and authorized["transactionInfo"]["chargingState"] == "Charging"
    assert authorized["idToken"]["idToken"] == "CARD1" and "evse" not in authorized

    h.advance(300)
    periodic = [e for e in events(h, mark) if e["triggerReason"] == "MeterValuePeriodic"]
    assert len(periodic) == 5
    stamps = [e["timestamp"] for e in periodic]
    assert stamps == [iso(1000 + 60 * k) for k in range(1, 6)]
    readings = [e["meterValue"][0] for e in periodic]
    energy = [sampled(r, "Energy.Active.Import.Register") for r in readings]
    power = [sampled(r, "Power.Active.Import") for r in readings]
    integral = (power[0] * 60 + sum(p * 60 for p in power[:-1])) / 3600
    assert abs(energy[-1] - integral) <= 0.01 * integral
    assert readings[0]["sampledValue"][0]["unitOfMeasure"] == {"unit": "Wh"}
    assert all("chargingState" not in e["transactionInfo"] for e in periodic)  # only sent when it changes

    h.swipe("CARD1")
    ended = events(h, mark)[-1]
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "StopAuthorized")
    assert ended["transactionInfo"]["stoppedReason"] == "Local" and ended["idToken"]["idToken"] == "CARD1"
    assert ended["transactionInfo"]["timeSpentCharging"] == 300
    assert ended["meterValue"][0]["sampledValue"][0]["context"] == "Transaction.End"
    assert [e["seqNo"] for e in events(h, mark)] == list(range(len(events(h, mark))))
    assert len({e["transactionInfo"]["transactionId"] for e in events(h, mark)}) == 1
    h.unplug()
    assert statuses(h, mark) == ["Occupied", "Available"]


def test_power_path_closed_start_point_starts_when_cable_and_driver_are_there() -> None:
    h = Harness(make_config(V, configuration={"TxCtrlr.TxStartPoint": "PowerPathClosed",
                                              "TxCtrlr.TxStopPoint": "PowerPathClosed"}))
    h.plug()
    assert not events(h)
    h.swipe("CARD1")
    started = events(h)[0]
    assert (started["eventType"], started["triggerReason"]) == ("Started", "Authorized")
    assert started["transactionInfo"]["chargingState"] == "Charging" and started["idToken"]["idToken"] == "CARD1"
    h.unplug()
    ended = events(h)[-1]
    assert (ended["triggerReason"], ended["transactionInfo"]["stoppedReason"]) == ("EVCommunicationLost",
                                                                                 "EVDisconnected")


def test_remote_start_waits_for_the_cable_then_charges() -> None:
    h = Harness(make_config(V))
    answer = h.call("RequestStartTransaction", {"idToken": {"idToken": "APP1", "type": "Central"},
                                                "remoteStartId": 42, "evseId": 1})
    assert answer == {"status": "Accepted"}
    started = events(h)[0]  # start point Authorized: the transaction exists before the cable
    assert (started["triggerReason"], started["transactionInfo"]["chargingState"]) == ("RemoteStart", "Idle")
    assert started["transactionInfo"]["remoteStartId"] == 42 and started["idToken"]["idToken"] == "APP1"
    h.advance(10)
    h.plug()
    plugged = events(h)[-1]
    assert (plugged["triggerReason"], plugged["transactionInfo"]["chargingState"]) == ("CablePluggedIn", "Charging")
    assert plugged["evse"] == {"id": 1, "connectorId": 1}


def test_remote_start_ends_with_ev_connect_timeout_without_a_cable() -> None:
    h = Harness(make_config(V, configuration={"TxCtrlr.EVConnectionTimeOut": "30"}))
    h.call("RequestStartTransaction", {"idToken": {"idToken": "APP1", "type": "Central"}, "remoteStartId": 1})
    h.advance(31)
    ended = events(h)[-1]
    assert (ended["eventType"], ended["triggerReason"], ended["transactionInfo"]["stoppedReason"]) == (
        "Ended", "EVConnectTimeout", "Timeout")


def test_remote_start_joins_a_cable_first_transaction_and_plugs_when_configured() -> None:
    h = Harness(make_config(V))
    h.plug()
    tx_id = events(h)[0]["transactionInfo"]["transactionId"]
    answer = h.call("RequestStartTransaction", {"idToken": {"idToken": "APP1", "type": "Central"},
                                                "remoteStartId": 5, "evseId": 1})
    assert answer == {"status": "Accepted", "transactionId": tx_id}
    assert events(h)[-1]["triggerReason"] == "RemoteStart" and events(h)[-1]["transactionInfo"]["remoteStartId"] == 5
    auto = Harness(make_config(V, auto_plug_on_remote_start=True))
    auto.call("RequestStartTransaction", {"idToken": {"idToken": "APP1", "type": "Central"}, "remoteStartId": 6})
    assert auto.station.view()["evses"][0]["state"] == "Charging"


def test_request_stop_ends_with_remote_stop() -> None:
    h = charging(Harness(make_config(V)))
    tx_id = events(h)[0]["transactionInfo"]["transactionId"]
    assert h.call("RequestStopTransaction", {"transactionId": "nope"}) == {"status": "Rejected"}
    assert h.call("RequestStopTransaction", {"transactionId": tx_id}) == {"status": "Accepted"}
    ended = events(h)[-1]
    assert (ended["triggerReason"], ended["transactionInfo"]["stoppedReason"]) == ("RemoteStop", "Remote")


def test_smart_charging_limit_lowers_power_within_one_interval() -> None:
    h = charging(Harness(make_config(V)))
    tx_id = events(h)[0]["transactionInfo"]["transactionId"]
    h.advance(30)
    profile = {"id": 9, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
               "transactionId": tx_id, "chargingSchedule": [{"id": 1, "chargingRateUnit": "A",
                                                             "chargingSchedulePeriod": [{"startPeriod": 0,
                                                                                         "limit": 10.0}]}]}
    mark = h.mark()
    assert h.call("SetChargingProfile", {"evseId": 1, "chargingProfile": profile}) == {"status": "Accepted"}
    assert events(h, mark)[-1]["triggerReason"] == "ChargingRateChanged"
    assert h.station.view()["evses"][0]["power_w"] == pytest.approx(6900)
    h.advance(30)
    reading = events(h, mark)[-1]["meterValue"][0]
    assert sampled(reading, "Power.Active.Import") == pytest.approx(6900)
    assert sampled(reading, "Current.Import", "L3") == pytest.approx(10)
    composite = h.call("GetCompositeSchedule", {"duration": 300, "evseId": 1, "chargingRateUnit": "W"})
    assert composite["status"] == "Accepted"
    assert composite["schedule"]["chargingSchedulePeriod"][0]["limit"] == pytest.approx(6900)
    assert h.call("GetCompositeSchedule", {"duration": 300, "evseId": 7})["status"] == "Rejected"

    mark = h.mark()
    low = {**profile, "id": 10, "stackLevel": 1, "chargingSchedule": [
        {"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 4.0}]}]}
    h.call("SetChargingProfile", {"evseId": 1, "chargingProfile": low})
    changed = [e for e in events(h, mark) if e["triggerReason"] == "ChargingStateChanged"]
    assert changed[0]["transactionInfo"]["chargingState"] == "SuspendedEVSE"
    assert h.call("GetChargingProfiles", {"requestId": 3, "chargingProfile": {"chargingProfilePurpose": "TxProfile"}}
                  ) == {"status": "Accepted"}
    report = h.of("ReportChargingProfiles", mark)[0].data
    assert report["requestId"] == 3 and sorted(p["id"] for p in report["chargingProfile"]) == [9, 10]
    mark = h.mark()
    assert h.call("ClearChargingProfile", {"chargingProfileId": 10}) == {"status": "Accepted"}
    assert [e["triggerReason"] for e in events(h, mark)] == ["ChargingStateChanged", "ChargingRateChanged"]
    assert events(h, mark)[0]["transactionInfo"]["chargingState"] == "Charging"
    missing_tx = {**profile, "id": 11, "stackLevel": 3}
    del missing_tx["transactionId"]
    rejected = h.call("SetChargingProfile", {"evseId": 1, "chargingProfile": missing_tx})
    assert rejected["status"] == "Rejected" and rejected["statusInfo"]["reasonCode"] == "MissingParam"


def test_suspended_ev_when_the_battery_is_full() -> None:
    small = EvProfile(name="almost-full", battery_kwh=10, ac_max_w=11_000, initial_soc=99.5, target_soc=100)
    h = Harness(make_config(V))
    h.plug(ev=small)
    h.swipe("CARD1")
    h.advance(400)
    changed = [e for e in events(h) if e["triggerReason"] == "ChargingStateChanged"]
    assert changed[-1]["transactionInfo"]["chargingState"] == "SuspendedEV"
    assert sampled(events(h)[-1]["meterValue"][0], "Power.Active.Import") == 0


def _example(action: str) -> dict:
    token = {"idToken": "APP2", "type": "Central"}
    return {
        "CancelReservation": {"reservationId": 7},
        "ChangeAvailability": {"operationalStatus": "Inoperative", "evse": {"id": 2}},
        "ClearChargingProfile": {"chargingProfileCriteria": {"evseId": 1}},
        "CostUpdated": {"totalCost": 1.5, "transactionId": "x"},
        "DataTransfer": {"vendorId": "ocpi-sandbox", "messageId": "Echo", "data": {"a": 1}},
        "GetBaseReport": {"requestId": 1, "reportBase": "FullInventory"},
        "GetChargingProfiles": {"requestId": 2, "chargingProfile": {}},
        "GetCompositeSchedule": {"duration": 600, "evseId": 1},
        "GetLog": {"log": {"remoteLocation": "https://logs.example.com/"}, "logType": "DiagnosticsLog",
                   "requestId": 4},
        "GetReport": {"requestId": 5, "componentVariable": [{"component": {"name": "TxCtrlr"}}]},
        "GetTransactionStatus": {},
        "GetVariables": {"getVariableData": [variable("OCPPCommCtrlr", "HeartbeatInterval")]},
        "RequestStartTransaction": {"idToken": token, "remoteStartId": 3, "evseId": 2},
        "ReserveNow": {"id": 7, "expiryDateTime": iso(4000), "idToken": token, "evseId": 2},
        "Reset": {"type": "OnIdle"},
        "SendLocalList": {"versionNumber": 3, "updateType": "Full", "localAuthorizationList": [
            {"idToken": {"idToken": "LOCAL1", "type": "ISO14443"}, "idTokenInfo": {"status": "Accepted"}}]},
        "SetChargingProfile": {"evseId": 0, "chargingProfile": {
            "id": 4, "stackLevel": 0, "chargingProfilePurpose": "ChargingStationMaxProfile",
            "chargingProfileKind": "Absolute", "chargingSchedule": [{
                "id": 1, "startSchedule": iso(0), "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 15000.0}]}]}},
        "SetVariables": {"setVariableData": [{**variable("SampledDataCtrlr", "TxUpdatedInterval"),
                                              "attributeValue": "30"}]},
        "TriggerMessage": {"requestedMessage": "TransactionEvent", "evse": {"id": 1}},
        "UnlockConnector": {"evseId": 2, "connectorId": 1},
        "UpdateFirmware": {"requestId": 8, "firmware": {"location": "https://fw.example.com/sim-3.1.0.bin",
                                                        "retrieveDateTime": iso(1000)}},
    }.get(action) or minimal_instance(V, schema(V, f"{action}Request"))


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("realistic", [True, False], ids=["example", "minimal"])
def test_every_csms_action_gets_a_schema_valid_answer(action: str, realistic: bool) -> None:
    h = charging(Harness(make_config(V, evses=2)))
    payload = _example(action) if realistic else minimal_instance(V, schema(V, f"{action}Request"))
    answer = h.call(action, payload)
    if action in NOT_SUPPORTED:
        assert isinstance(answer, CallErrorReply) and answer.error_code == "NotSupported"
    else:
        assert not isinstance(answer, CallErrorReply), answer
    h.advance(30)  # follow-up messages (reports, statuses, uploads, firmware steps) are schema-checked too


@pytest.mark.parametrize("message,status", [
    ("BootNotification", "Rejected"), ("LogStatusNotification", "Accepted"),
    ("FirmwareStatusNotification", "Accepted"), ("Heartbeat", "Accepted"), ("MeterValues", "Accepted"),
    ("StatusNotification", "Accepted"), ("TransactionEvent", "Accepted"),
    ("SignChargingStationCertificate", "NotImplemented"), ("PublishFirmwareStatusNotification", "NotImplemented")])
def test_trigger_message_sends_every_message_the_station_sends(message: str, status: str) -> None:
    h = charging(Harness(make_config(V)))
    mark = h.mark()
    assert h.call("TriggerMessage", {"requestedMessage": message, "evse": {"id": 1}})["status"] == status
    if status == "Accepted":
        assert message in h.actions(mark)
    if message == "TransactionEvent":
        assert events(h, mark)[0]["triggerReason"] == "Trigger"


def test_events_made_offline_are_marked_and_replayed_in_order() -> None:
    h = charging(Harness(make_config(V, configuration={"OCPPCommCtrlr.OfflineThreshold": "60"})))
    h.advance(20)
    h.disconnect()
    mark = h.mark()
    h.advance(130)
    h.swipe("CARD1")
    assert h.mark() == mark
    h.connect()
    assert "BootNotification" not in h.actions(mark)
    replay = events(h, mark)
    assert [e["triggerReason"] for e in replay] == ["MeterValuePeriodic", "MeterValuePeriodic", "StopAuthorized"]
    assert all(e["offline"] is True for e in replay)
    assert [e["seqNo"] for e in replay] == [2, 3, 4]
    assert statuses(h, mark) == ["Occupied"]  # offline past OfflineThreshold: every connector re-announced


def test_short_offline_period_announces_only_changes() -> None:
    h = charging(Harness(make_config(V, configuration={"OCPPCommCtrlr.OfflineThreshold": "60"})))
    h.disconnect()
    h.advance(5)
    mark = h.mark()
    h.connect()
    assert statuses(h, mark) == []  # still Occupied, as last reported


def test_transaction_message_retry_and_transaction_status() -> None:
    h = charging(Harness(make_config(V, configuration={
        "OCPPCommCtrlr.MessageAttempts.TransactionEvent": "3",
        "OCPPCommCtrlr.MessageAttemptInterval.TransactionEvent": "5"})))
    tx_id = events(h)[0]["transactionInfo"]["transactionId"]
    h.hold = True
    h.advance(60)
    assert h.call("GetTransactionStatus", {"transactionId": tx_id}) == {"ongoingIndicator": True,
                                                                          "messagesInQueue": True}
    h.release()
    assert h.call("GetTransactionStatus", {"transactionId": tx_id}) == {"ongoingIndicator": True,
                                                                          "messagesInQueue": False}
    h.fail = lambda call: "TransactionEvent failed: InternalError" if call.at < 1125 else None
    h.advance(70)
    tries = [c.at for c in h.of("TransactionEvent") if c.data["seqNo"] == 3]
    assert tries == [1120, 1125]  # failed once, succeeded on the retry 5 s later


def test_snapshot_restore_mid_transaction_is_equal_and_resumes() -> None:
    config = make_config(V)
    h = charging(Harness(config))
    h.advance(90)
    snap = json.loads(json.dumps(h.station.snapshot()))
    restored = Station.restore(config, snap, 77_000.0, h.wall)
    assert json.loads(json.dumps(restored.snapshot())) == snap
    register = h.station.evses[0].connectors[0].register_wh
    last_seq = events(h)[-1]["seqNo"]
    h.station, h.now, h.connected = restored, 77_000.0, False
    mark = h.mark()
    h.connect()
    assert "BootNotification" not in h.actions(mark)
    h.advance(60)
    resumed = events(h, mark)[0]
    assert resumed["seqNo"] == last_seq + 1
    assert sampled(resumed["meterValue"][0], "Energy.Active.Import.Register") > register


@pytest.mark.parametrize("code", FAULT_CODES)
def test_fault_is_reported_by_notify_event_and_status(code: str) -> None:
    h = Harness(make_config(V))
    mark = h.mark()
    h.station.inject_fault(1, 1, code, h.now)
    h.pump()
    event = h.of("NotifyEvent", mark)[0].data["eventData"][0]
    assert event["component"] == {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}
    assert (event["variable"]["name"], event["actualValue"], event["techCode"]) == ("Problem", "true", code)
    assert statuses(h, mark) == ["Faulted"]
    h.station.clear_fault(1, 1, h.now)
    h.pump()
    cleared = h.of("NotifyEvent", mark)[1].data["eventData"][0]
    assert (cleared["actualValue"], cleared["cleared"]) == ("false", True)
    assert statuses(h, mark) == ["Faulted", "Available"]


def test_fault_while_charging_suspends_the_evse() -> None:
    h = charging(Harness(make_config(V)))
    h.station.inject_fault(1, 1, "OverCurrentFailure", h.now)
    h.pump()
    assert events(h)[-1]["transactionInfo"]["chargingState"] == "SuspendedEVSE"
    assert statuses(h)[-1] == "Faulted"
    h.station.clear_fault(1, 1, h.now)
    h.pump()
    assert events(h)[-1]["transactionInfo"]["chargingState"] == "Charging" and statuses(h)[-1] == "Occupied"


def test_base_report_is_chunked_and_describes_the_device_model() -> None:
    h = Harness(make_config(V, evses=2))
    mark = h.mark()
    assert h.call("GetBaseReport", {"requestId": 11, "reportBase": "FullInventory"}) == {"status": "Accepted"}
    reports = [c.data for c in h.of("NotifyReport", mark)]
    assert [r["seqNo"] for r in reports] == list(range(len(reports))) and len(reports) > 2
    assert all(r.get("tbc") for r in reports[:-1]) and not reports[-1].get("tbc")
    assert all(len(r["reportData"]) <= 20 for r in reports)
    entries = [d for r in reports for d in r["reportData"]]
    names = {(d["component"]["name"], d["variable"]["name"]) for d in entries}
    assert {("OCPPCommCtrlr", "HeartbeatInterval"), ("TxCtrlr", "TxStartPoint"), ("EVSE", "Power"),
            ("Connector", "ConnectorType"), ("SecurityCtrlr", "Identity")} <= names
    password = next(d for d in entries if d["variable"]["name"] == "BasicAuthPassword")
    assert "value" not in password["variableAttribute"][0]  # write-only
    mark = h.mark()
    h.call("GetBaseReport", {"requestId": 12, "reportBase": "SummaryInventory"})
    summary = [d for c in h.of("NotifyReport", mark) for d in c.data["reportData"]]
    assert {d["variable"]["name"] for d in summary} == {"AvailabilityState", "Problem"}


def test_variables_drive_behaviour_and_report_their_status() -> None:
    h = Harness(make_config(V))
    answer = h.call("SetVariables", {"setVariableData": [
        {**variable("SampledDataCtrlr", "TxUpdatedInterval"), "attributeValue": "15"},
        {**variable("SampledDataCtrlr", "TxUpdatedMeasurands"), "attributeValue": "Power.Active.Import,Nope"},
        {**variable("SecurityCtrlr", "Identity"), "attributeValue": "x"},
        {**variable("NoSuchCtrlr", "X"), "attributeValue": "1"},
        {**variable("TxCtrlr", "Nope"), "attributeValue": "1"},
        {**variable("TxCtrlr", "EVConnectionTimeOut"), "attributeValue": "5", "attributeType": "Target"}]})
    assert [r["attributeStatus"] for r in answer["setVariableResult"]] == [
        "Accepted", "Rejected", "Rejected", "UnknownComponent", "UnknownVariable", "NotSupportedAttributeType"]
    got = h.call("GetVariables", {"getVariableData": [
        variable("SampledDataCtrlr", "TxUpdatedInterval"), variable("SecurityCtrlr", "BasicAuthPassword"),
        variable("Connector", "AvailabilityState", evse={"id": 1, "connectorId": 1})]})
    results = got["getVariableResult"]
    assert (results[0]["attributeStatus"], results[0]["attributeValue"]) == ("Accepted", "15")
    assert results[1]["attributeStatus"] == "Rejected"  # write-only
    assert results[2]["attributeValue"] == "Available"
    charging(h)
    h.advance(45)
    assert [e["triggerReason"] for e in events(h)].count("MeterValuePeriodic") == 3


def test_reservation_expires_is_used_and_is_removed_on_fault() -> None:
    h = Harness(make_config(V))
    token = {"idToken": "RES1", "type": "ISO14443"}
    assert h.call("ReserveNow", {"id": 1, "expiryDateTime": iso(1100), "idToken": token, "evseId": 1}) == {
        "status": "Accepted"}
    assert statuses(h) [-1] == "Reserved" and h.swipe("OTHER")["result"] == "rejected"
    h.advance(101)
    assert h.of("ReservationStatusUpdate")[0].data == {"reservationId": 1, "reservationUpdateStatus": "Expired"}
    h.call("ReserveNow", {"id": 2, "expiryDateTime": iso(5000), "idToken": token})  # any EVSE
    h.station.inject_fault(1, 1, "HighTemperature", h.now)
    h.pump()
    assert h.of("ReservationStatusUpdate")[-1].data == {"reservationId": 2, "reservationUpdateStatus": "Removed"}
    h.station.clear_fault(1, 1, h.now)
    h.call("ReserveNow", {"id": 3, "expiryDateTime": iso(5000), "idToken": token, "evseId": 1})
    h.swipe("RES1")
    assert events(h)[0]["reservationId"] == 3


def test_unlock_refuses_during_an_authorized_transaction_and_lock_failure_switch() -> None:
    h = charging(Harness(make_config(V)))
    assert h.call("UnlockConnector", {"evseId": 1, "connectorId": 1}) == {"status": "OngoingAuthorizedTransaction"}
    assert h.call("UnlockConnector", {"evseId": 3, "connectorId": 1}) == {"status": "UnknownConnector"}
    h.station.set_switch("lock_failure", True, h.now)
    assert h.call("UnlockConnector", {"evseId": 1, "connectorId": 1}) == {"status": "UnlockFailed"}
    assert h.of("NotifyEvent")[-1].data["eventData"][0]["component"]["name"] == "ConnectorPlugRetentionLock"


def test_reset_immediate_and_on_idle() -> None:
    h = charging(Harness(make_config(V)))
    assert h.call("Reset", {"type": "OnIdle"}) == {"status": "Scheduled"}
    mark = h.mark()
    h.swipe("CARD1")
    h.advance(3)
    assert h.of("BootNotification", mark)[0].data["reason"] == "RemoteReset"
    h2 = charging(Harness(make_config(V)))
    assert h2.call("Reset", {"type": "Immediate"}) == {"status": "Accepted"}
    ended = events(h2)[-1]
    assert (ended["triggerReason"], ended["transactionInfo"]["stoppedReason"]) == ("ResetCommand", "ImmediateReset")
    h2.advance(3)
    assert h2.of("SecurityEventNotification")[-1].data["type"] == "ResetOrReboot"


def test_power_loss_reports_the_transaction_after_boot_as_offline() -> None:
    h = charging(Harness(make_config(V)))
    mark = h.mark()
    h.station.power_loss(h.now)
    h.pump()
    sent = h.actions(mark)
    assert sent.index("BootNotification") < sent.index("TransactionEvent")
    ended = events(h, mark)[0]
    assert ended["transactionInfo"]["stoppedReason"] == "PowerLoss" and ended["offline"] is True
    assert h.of("BootNotification", mark)[0].data["reason"] == "PowerUp"


def test_firmware_update_and_log_upload_report_their_steps() -> None:
    h = Harness(make_config(V))
    h.call("UpdateFirmware", {"requestId": 8, "firmware": {"location": "https://fw.example.com/sim-3.1.0.bin",
                                                           "retrieveDateTime": iso(1005)}})
    h.advance(60)
    steps = [(c.data["status"], c.data["requestId"]) for c in h.of("FirmwareStatusNotification")]
    assert steps == [(s, 8) for s in ("Downloading", "Downloaded", "Installing", "InstallRebooting", "Installed")]
    boot = h.of("BootNotification")[-1].data
    assert boot["reason"] == "FirmwareUpdate" and boot["chargingStation"]["firmwareVersion"] == "3.1.0"
    assert h.of("SecurityEventNotification")[-1].data["type"] == "FirmwareUpdated"
    answer = h.call("GetLog", {"log": {"remoteLocation": "https://logs.example.com/"}, "logType": "SecurityLog",
                               "requestId": 21})
    assert answer["status"] == "Accepted" and answer["filename"].endswith(".log")
    h.advance(10)
    assert [(c.data["status"], c.data["requestId"]) for c in h.of("LogStatusNotification")] == [
        ("Uploading", 21), ("Uploaded", 21)]


def test_local_list_and_disabled_authorization() -> None:
    h = Harness(make_config(V, configuration={"AuthCtrlr.DisableRemoteAuthorization": "true"}))
    h.call("SendLocalList", {"versionNumber": 1, "updateType": "Full", "localAuthorizationList": [
        {"idToken": {"idToken": "LOCAL1", "type": "ISO14443"}, "idTokenInfo": {"status": "Accepted"}}]})
    assert h.call("GetLocalListVersion", {}) == {"versionNumber": 1}
    h.plug()
    assert h.swipe("UNKNOWN")["result"] == "rejected" and not h.of("Authorize")
    assert h.swipe("LOCAL1")["result"] == "authorized"
    free = Harness(make_config(V, configuration={"AuthCtrlr.Enabled": "false"}))
    free.plug()
    assert free.station.view()["evses"][0]["state"] == "Charging"
    assert events(free)[0]["idToken"] == {"idToken": "", "type": "NoAuthorization"}


def test_boot_pending_still_answers_reports() -> None:
    h = Harness(make_config(V), boot="Pending", boot_interval=30)
    assert h.call("GetBaseReport", {"requestId": 1, "reportBase": "ConfigurationInventory"}) == {"status": "Accepted"}
    assert h.of("NotifyReport")  # what the CSMS asked for goes out while Pending
    assert h.call("RequestStartTransaction", {"idToken": {"idToken": "A", "type": "Central"},
                                              "remoteStartId": 1})["status"] == "Rejected"
    h.boot_status = "Accepted"
    h.advance(30)
    assert [c.data["reason"] for c in h.of("BootNotification")] == ["PowerUp", "PowerUp"]
    assert h.of("StatusNotification")


def test_request_start_profile_limits_the_transaction_it_starts() -> None:
    h = Harness(make_config(V, auto_plug_on_remote_start=True))
    profile = {"id": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
               "chargingSchedule": [{"id": 1, "chargingRateUnit": "W",
                                     "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7000.0}]}]}
    answer = h.call("RequestStartTransaction", {"idToken": {"idToken": "APP1", "type": "Central"},
                                                "remoteStartId": 9, "evseId": 1, "chargingProfile": profile})
    assert answer == {"status": "Accepted"}
    assert h.station.view()["evses"][0]["power_w"] == pytest.approx(7000)
    bad = {**profile, "transactionId": "abc"}
    rejected = h.call("RequestStartTransaction", {"idToken": {"idToken": "APP2", "type": "Central"},
                                                  "remoteStartId": 10, "chargingProfile": bad})
    assert rejected["status"] == "Rejected" and rejected["statusInfo"]["reasonCode"] == "InvalidProfile"


def test_clock_aligned_values_go_in_transaction_events_and_idle_meter_values() -> None:
    h = Harness(make_config(V, evses=2, configuration={
        "AlignedDataCtrlr.Interval": "900", "AlignedDataCtrlr.SendDuringIdle": "true",
        "SampledDataCtrlr.TxUpdatedInterval": "0"}))
    charging(h)
    h.advance(1000)  # from 08:16:40 past 08:30:00
    clock = [e for e in events(h) if e["triggerReason"] == "MeterValueClock"]
    assert [e["meterValue"][0]["timestamp"] for e in clock] == ["2026-03-02T08:30:00Z"]
    idle = [c.data for c in h.of("MeterValues")]
    assert [(m["evseId"], m["meterValue"][0]["sampledValue"][0]["context"]) for m in idle] == [(2, "Sample.Clock")]


def test_other_connectors_of_a_used_evse_are_unavailable() -> None:
    h = Harness(make_config(V, connectors=2))
    mark = h.mark()
    h.plug(1, 2)
    assert statuses(h, mark, connector=2) == ["Occupied"] and statuses(h, mark, connector=1) == ["Unavailable"]
    assert events(h, mark)[0]["evse"] == {"id": 1, "connectorId": 2}
    assert h.plug(1, 1)["ok"] is False  # one EV per EVSE
    h.unplug(1, 2)
    assert statuses(h, mark, connector=1) == ["Unavailable", "Available"]


@pytest.mark.parametrize("stop_on_invalid", ["true", "false"])
def test_token_rejected_in_transaction_event_answer_stops_or_suspends(stop_on_invalid: str) -> None:
    h = Harness(make_config(V, configuration={"AuthCtrlr.LocalPreAuthorize": "true",
                                              "TxCtrlr.StopTxOnInvalidId": stop_on_invalid}))
    h.call("SendLocalList", {"versionNumber": 1, "updateType": "Full", "localAuthorizationList": [
        {"idToken": {"idToken": "STALE", "type": "ISO14443"}, "idTokenInfo": {"status": "Accepted"}}]})
    h.auth["STALE"] = "Invalid"
    charging(h, "STALE")
    if stop_on_invalid == "true":
        ended = events(h)[-1]
        assert (ended["eventType"], ended["triggerReason"], ended["transactionInfo"]["stoppedReason"]) == (
            "Ended", "Deauthorized", "DeAuthorized")
    else:
        assert events(h)[-1]["transactionInfo"]["chargingState"] == "SuspendedEVSE"


def test_basic_auth_password_set_by_the_csms_is_write_only_and_exposed_to_the_transport() -> None:
    h = Harness(make_config(V))
    assert h.station.basic_auth_password is None
    answer = h.call("SetVariables", {"setVariableData": [
        {**variable("SecurityCtrlr", "BasicAuthPassword"), "attributeValue": "a-new-password-0123"}]})
    assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
    assert h.station.basic_auth_password == "a-new-password-0123"
    got = h.call("GetVariables", {"getVariableData": [variable("SecurityCtrlr", "BasicAuthPassword")]})
    assert got["getVariableResult"][0]["attributeStatus"] == "Rejected"
