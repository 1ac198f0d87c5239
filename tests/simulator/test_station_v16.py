"""The simulated OCPP 1.6 charge point, driven without sockets; every frame it emits is schema-checked."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import msgspec
import pytest

from ocpi_sandbox.ocpp.rpc import CallErrorReply
from ocpi_sandbox.ocpp.v16.messages import ACTIONS
from ocpi_sandbox.simulator.ev import EvProfile
from ocpi_sandbox.simulator.station import FAULT_CODES, Station

from .station_harness import T0, Harness, make_config, minimal_instance, sampled, schema

V = "1.6"
# Actions only a charge point sends, and the certificate messages of the security whitepaper we do not simulate.
NOT_SUPPORTED = {"Authorize", "BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification",
                 "Heartbeat", "MeterValues", "StartTransaction", "StatusNotification", "StopTransaction",
                 "SecurityEventNotification", "SignCertificate", "LogStatusNotification",
                 "SignedFirmwareStatusNotification", "CertificateSigned", "DeleteCertificate",
                 "GetInstalledCertificateIds", "InstallCertificate", "SignedUpdateFirmware"}


def iso(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def charging(h: Harness, token: str = "CARD1", evse: int = 1) -> Harness:
    h.plug(evse)
    h.swipe(token, evse)
    return h


def statuses(h: Harness, since: int = 0, connector: int = 1) -> list[str]:
    return [c.data["status"] for c in h.of("StatusNotification", since) if c.data["connectorId"] == connector]


def test_full_transaction_plug_swipe_meter_values_stop_unplug() -> None:
    h = Harness(make_config(V))
    assert h.actions() == ["BootNotification", "StatusNotification", "StatusNotification"]
    mark = h.mark()
    charging(h)
    assert h.actions(mark) == ["StatusNotification", "Authorize", "StartTransaction", "StatusNotification"]
    assert statuses(h, mark) == ["Preparing", "Charging"]
    start = h.of("StartTransaction")[0].data
    assert start["idTag"] == "CARD1" and start["meterStart"] == 0 and start["connectorId"] == 1

    h.advance(300)
    values = h.of("MeterValues", mark)
    assert [c.at - values[0].at for c in values] == [0, 60, 120, 180, 240]
    assert values[0].at == h.of("StartTransaction")[0].at + 60  # MeterValueSampleInterval from the start
    assert {c.data["transactionId"] for c in values} == {101}
    readings = [c.data["meterValue"][0] for c in values]
    energy = [sampled(r, "Energy.Active.Import.Register") for r in readings]
    power = [sampled(r, "Power.Active.Import") for r in readings]
    integral = (power[0] * 60 + sum(p * 60 for p in power[:-1])) / 3600  # ∫P dt from the start
    assert energy == sorted(energy)
    assert abs(energy[-1] - start["meterStart"] - integral) <= 0.01 * integral
    assert sampled(readings[-1], "Current.Import", "L2") == pytest.approx(power[-1] / (230 * 3), rel=1e-3)
    assert sampled(readings[-1], "Voltage", "L1-N") == 230

    mark = h.mark()
    h.swipe("CARD1")
    stop = h.of("StopTransaction", mark)[0].data
    register = h.station.evses[0].connectors[0].register_wh
    assert stop["transactionId"] == 101 and stop["reason"] == "Local" and stop["idTag"] == "CARD1"
    assert stop["meterStop"] == math.floor(register)
    assert [v["sampledValue"][0]["context"] for v in stop["transactionData"]] == ["Transaction.Begin",
                                                                                 "Transaction.End"]
    assert statuses(h, mark) == ["Finishing"]
    h.unplug()
    assert statuses(h, mark) == ["Finishing", "Available"]
    assert h.station.view()["evses"][0]["transaction"] is None


def test_dc_meter_values_report_soc_rising_with_energy() -> None:
    config = make_config(V, dc=True, configuration={
        "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC"})
    h = charging(Harness(config))
    h.advance(180)
    readings = [c.data["meterValue"][0] for c in h.of("MeterValues")]
    soc = [sampled(r, "SoC") for r in readings]
    energy = [sampled(r, "Energy.Active.Import.Register") for r in readings]
    assert soc == sorted(soc) and soc[-1] > soc[0] and energy[-1] > energy[0]
    last = readings[-1]
    assert 300 < sampled(last, "Voltage") < 450  # the battery's voltage, not the EVSE's 920 V rating
    assert sampled(last, "Current.Import") == pytest.approx(sampled(last, "Power.Active.Import")
                                                           / sampled(last, "Voltage"), rel=1e-3)
    assert sampled(last, "Power.Active.Import") <= 150_000


def test_remote_start_waits_for_the_cable_then_starts() -> None:
    h = Harness(make_config(V))
    mark = h.mark()
    assert h.call("RemoteStartTransaction", {"idTag": "APP1", "connectorId": 1}) == {"status": "Accepted"}
    assert statuses(h, mark) == ["Preparing"] and not h.of("StartTransaction")
    h.advance(20)
    h.plug()
    assert h.of("StartTransaction")[0].data["idTag"] == "APP1"
    assert statuses(h, mark)[-1] == "Charging"


def test_remote_start_gives_up_after_connection_timeout() -> None:
    h = Harness(make_config(V, configuration={"ConnectionTimeOut": "30"}))
    mark = h.mark()
    h.call("RemoteStartTransaction", {"idTag": "APP1"})
    h.advance(29)
    assert statuses(h, mark) == ["Preparing"]
    h.advance(2)
    assert statuses(h, mark) == ["Preparing", "Available"]
    h.plug()
    assert not h.of("StartTransaction") and statuses(h, mark)[-1] == "Preparing"


def test_remote_start_plugs_the_default_ev_when_configured() -> None:
    h = Harness(make_config(V, auto_plug_on_remote_start=True))
    h.call("RemoteStartTransaction", {"idTag": "APP1", "connectorId": 1})
    assert h.of("StartTransaction")[0].data["idTag"] == "APP1"
    assert h.station.view()["evses"][0]["state"] == "Charging"


def test_remote_start_authorizes_first_when_authorize_remote_tx_requests() -> None:
    h = Harness(make_config(V, auto_plug_on_remote_start=True, configuration={"AuthorizeRemoteTxRequests": "true"}))
    h.auth["BLOCKED"] = "Blocked"
    h.call("RemoteStartTransaction", {"idTag": "BLOCKED", "connectorId": 1})
    assert h.actions()[-2:] != ["StartTransaction"] and not h.of("StartTransaction")
    assert h.of("Authorize")[0].data == {"idTag": "BLOCKED"}
    h.unplug()
    h.call("RemoteStartTransaction", {"idTag": "GOOD", "connectorId": 1})
    assert [c.action for c in h.sent if c.action in ("Authorize", "StartTransaction")][-2:] == [
        "Authorize", "StartTransaction"]


def test_remote_stop_ends_the_transaction_with_reason_remote() -> None:
    h = charging(Harness(make_config(V)))
    assert h.call("RemoteStopTransaction", {"transactionId": 999}) == {"status": "Rejected"}
    assert h.call("RemoteStopTransaction", {"transactionId": 101}) == {"status": "Accepted"}
    assert h.of("StopTransaction")[0].data["reason"] == "Remote"


def test_smart_charging_limit_lowers_power_within_one_interval() -> None:
    h = charging(Harness(make_config(V)))
    h.advance(60)
    assert sampled(h.of("MeterValues")[-1].data["meterValue"][0], "Power.Active.Import") == 11040
    profile = {"chargingProfileId": 7, "stackLevel": 1, "chargingProfilePurpose": "TxProfile",
               "chargingProfileKind": "Relative", "transactionId": 101,
               "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0,
                                                                                         "limit": 10.0}]}}
    h.advance(10)
    assert h.call("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile}) == {"status": "Accepted"}
    assert h.station.view()["evses"][0]["power_w"] == pytest.approx(10 * 230 * 3)
    h.advance(50)
    reading = h.of("MeterValues")[-1].data["meterValue"][0]
    assert sampled(reading, "Power.Active.Import") == pytest.approx(6900)
    assert sampled(reading, "Current.Import", "L1") == pytest.approx(10)
    composite = h.call("GetCompositeSchedule", {"connectorId": 1, "duration": 600, "chargingRateUnit": "A"})
    assert composite["status"] == "Accepted"
    assert composite["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 10.0

    mark = h.mark()
    below_minimum = {**profile, "chargingProfileId": 8, "stackLevel": 2,
                     "chargingSchedule": {"chargingRateUnit": "W", "chargingSchedulePeriod": [
                         {"startPeriod": 0, "limit": 3000.0}]}}
    h.call("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": below_minimum})
    assert statuses(h, mark) == ["SuspendedEVSE"]  # 3 kW over 3 phases is 4.3 A, under the 6 A minimum
    assert h.call("ClearChargingProfile", {}) == {"status": "Accepted"}
    assert statuses(h, mark) == ["SuspendedEVSE", "Charging"]
    assert h.station.view()["evses"][0]["power_w"] == 11040


def test_tx_profile_without_a_transaction_is_rejected_and_default_profile_applies() -> None:
    h = Harness(make_config(V))
    tx_profile = {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
                  "chargingProfileKind": "Relative",
                  "chargingSchedule": {"chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0,
                                                                                            "limit": 7000.0}]}}
    assert h.call("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": tx_profile})["status"] == "Rejected"
    default = {**tx_profile, "chargingProfilePurpose": "TxDefaultProfile"}
    assert h.call("SetChargingProfile", {"connectorId": 0, "csChargingProfiles": default})["status"] == "Accepted"
    charging(h)
    assert h.station.view()["evses"][0]["power_w"] == pytest.approx(7000)


def test_suspended_ev_when_the_battery_is_full() -> None:
    small = EvProfile(name="almost-full", battery_kwh=10, ac_max_w=11_000, initial_soc=99.5, target_soc=100)
    h = Harness(make_config(V))
    mark = h.mark()
    h.plug(ev=small)
    h.swipe("CARD1")
    h.advance(400)  # the last half percent tapers (AC curve: 10 % of the maximum at 100 %)
    assert statuses(h, mark)[-2:] == ["Charging", "SuspendedEV"]
    register = h.station.evses[0].connectors[0].register_wh
    h.advance(120)
    assert h.station.evses[0].connectors[0].register_wh == register
    assert sampled(h.of("MeterValues")[-1].data["meterValue"][0], "Power.Active.Import") == 0


def _example(action: str) -> dict:
    profile = {"chargingProfileId": 3, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
               "chargingProfileKind": "Absolute",
               "chargingSchedule": {"chargingRateUnit": "W", "startSchedule": iso(0),
                                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}]}}
    return {
        "CancelReservation": {"reservationId": 7},
        "ChangeAvailability": {"connectorId": 2, "type": "Inoperative"},
        "ChangeConfiguration": {"key": "HeartbeatInterval", "value": "120"},
        "DataTransfer": {"vendorId": "ocpi-sandbox", "messageId": "Echo", "data": "ping"},
        "GetCompositeSchedule": {"connectorId": 1, "duration": 3600},
        "GetDiagnostics": {"location": "https://logs.example.com/upload"},
        "GetLog": {"log": {"remoteLocation": "https://logs.example.com/"}, "logType": "DiagnosticsLog",
                   "requestId": 4},
        "RemoteStartTransaction": {"idTag": "APP2", "connectorId": 2},
        "RemoteStopTransaction": {"transactionId": 101},
        "ReserveNow": {"connectorId": 2, "expiryDate": iso(4000), "idTag": "R1", "reservationId": 7},
        "Reset": {"type": "Soft"},
        "SendLocalList": {"listVersion": 3, "updateType": "Full", "localAuthorizationList": [
            {"idTag": "LOCAL1", "idTagInfo": {"status": "Accepted"}}]},
        "SetChargingProfile": {"connectorId": 1, "csChargingProfiles": profile},
        "TriggerMessage": {"requestedMessage": "MeterValues", "connectorId": 1},
        "ExtendedTriggerMessage": {"requestedMessage": "StatusNotification"},
        "UnlockConnector": {"connectorId": 2},
        "UpdateFirmware": {"location": "https://fw.example.com/sim-2.0.1.bin", "retrieveDate": iso(1000)},
    }.get(action) or minimal_instance(V, schema(V, action))


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("realistic", [True, False], ids=["example", "minimal"])
def test_every_central_system_action_gets_a_schema_valid_answer(action: str, realistic: bool) -> None:
    h = charging(Harness(make_config(V, evses=2)))
    payload = _example(action) if realistic else minimal_instance(V, schema(V, action))
    answer = h.call(action, payload)
    if action in NOT_SUPPORTED:
        assert isinstance(answer, CallErrorReply) and answer.error_code == "NotSupported"
    else:
        assert not isinstance(answer, CallErrorReply), answer
    h.advance(30)  # follow-up messages (statuses, uploads, firmware steps) are schema-checked too


@pytest.mark.parametrize("message", ["BootNotification", "DiagnosticsStatusNotification",
                                     "FirmwareStatusNotification", "Heartbeat", "MeterValues",
                                     "StatusNotification"])
def test_trigger_message_sends_the_requested_message(message: str) -> None:
    h = charging(Harness(make_config(V)))
    mark = h.mark()
    assert h.call("TriggerMessage", {"requestedMessage": message, "connectorId": 1}) == {"status": "Accepted"}
    assert message in h.actions(mark)
    if message == "MeterValues":
        assert h.of("MeterValues", mark)[0].data["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"


def test_transaction_messages_queue_offline_and_replay_in_order() -> None:
    h = charging(Harness(make_config(V)))
    h.advance(30)
    h.disconnect()
    mark = h.mark()
    h.advance(200)
    h.swipe("CARD1")
    assert h.mark() == mark  # nothing goes out while offline
    assert h.station.view()["queued_transaction_messages"] == 4
    h.connect()
    sent = h.actions(mark)
    assert "BootNotification" not in sent  # a reconnect is not a reboot
    replay = [c for c in h.sent[mark:] if c.action in ("MeterValues", "StopTransaction")]
    assert [c.action for c in replay] == ["MeterValues"] * 3 + ["StopTransaction"]
    assert {c.data["transactionId"] for c in replay} == {101}
    stamps = [c.data["meterValue"][0]["timestamp"] for c in replay[:3]] + [replay[3].data["timestamp"]]
    assert stamps == sorted(stamps)
    assert statuses(h, mark) == ["Finishing"]  # the true status, announced once online again


def test_reconnect_announces_charging_not_available() -> None:
    h = charging(Harness(make_config(V)))
    h.disconnect()
    h.advance(10)
    mark = h.mark()
    h.connect()
    assert statuses(h, mark) == ["Charging"]
    assert statuses(h, mark, connector=0) == ["Available"]


def test_transaction_started_offline_gets_its_id_before_its_meter_values() -> None:
    h = Harness(make_config(V, configuration={"AllowOfflineTxForUnknownId": "true"}))
    h.disconnect()
    assert charging(h).swipe("OTHER", 1)["result"] == "rejected"  # EVSE busy: a new card cannot start
    h.advance(125)
    mark = h.mark()
    h.connect()
    replay = [c for c in h.sent[mark:] if c.action in ("StartTransaction", "MeterValues")]
    assert [c.action for c in replay] == ["StartTransaction", "MeterValues", "MeterValues"]
    assert replay[0].data["timestamp"] == iso(1000)
    assert {c.data["transactionId"] for c in replay[1:]} == {101}


def test_failed_transaction_message_is_retried_then_dropped() -> None:
    h = charging(Harness(make_config(V, configuration={"TransactionMessageAttempts": "2",
                                                       "TransactionMessageRetryInterval": "10"})))
    first = {}

    def failing(call):
        if call.action == "MeterValues" and not first:
            first["at"] = call.at
        return "MeterValues failed: InternalError" if call.action == "MeterValues" and call.at < 1075 else None

    h.fail = failing
    h.advance(125)
    times = [c.at for c in h.of("MeterValues")]
    assert times[:2] == [1060, 1070]  # failed, retried after 10 s, failed again: dropped
    assert times[2:] == [1120]  # the next one goes normally
    assert h.station.view()["queued_transaction_messages"] == 0


def test_snapshot_restore_mid_transaction_is_equal_and_resumes() -> None:
    config = make_config(V)
    h = charging(Harness(config))
    h.advance(90)
    snap = json.loads(json.dumps(h.station.snapshot()))
    restored = Station.restore(config, snap, 50_000.0, h.wall)
    assert json.loads(json.dumps(restored.snapshot())) == snap
    register = h.station.evses[0].connectors[0].register_wh
    h.station, h.now = restored, 50_000.0
    h.connected = False
    mark = h.mark()
    h.connect()
    assert "BootNotification" not in h.actions(mark) and statuses(h, mark) == ["Charging"]
    h.advance(60)
    value = h.of("MeterValues", mark)[0]
    assert value.data["transactionId"] == 101
    assert sampled(value.data["meterValue"][0], "Energy.Active.Import.Register") > register
    h.swipe("CARD1")
    assert h.of("StopTransaction", mark)[0].data["transactionId"] == 101


@pytest.mark.parametrize("code", FAULT_CODES)
def test_fault_is_reported_with_its_error_code_and_cleared(code: str) -> None:
    h = Harness(make_config(V))
    mark = h.mark()
    assert h.station.inject_fault(1, 1, code, h.now)["ok"]
    h.pump()
    fault = h.of("StatusNotification", mark)[-1].data
    assert (fault["status"], fault["errorCode"]) == ("Faulted", code)
    assert h.station.clear_fault(1, 1, h.now)["ok"]
    h.pump()
    cleared = h.of("StatusNotification", mark)[-1].data
    assert (cleared["status"], cleared["errorCode"]) == ("Available", "NoError")


def test_fault_while_charging_stops_energy_until_cleared() -> None:
    h = charging(Harness(make_config(V)))
    h.station.inject_fault(1, 1, "GroundFailure", h.now)
    h.pump()
    assert h.station.view()["evses"][0]["power_w"] == 0
    assert statuses(h)[-1] == "Faulted"
    assert h.station.inject_fault(1, 1, "NoSuchCode", h.now)["ok"] is False
    h.station.clear_fault(1, 1, h.now)
    h.pump()
    assert statuses(h)[-1] == "Charging" and h.station.view()["evses"][0]["power_w"] == 11040


def test_unlock_stops_the_transaction_and_lock_failure_switch_fails_it() -> None:
    h = charging(Harness(make_config(V)))
    h.station.set_switch("lock_failure", True, h.now)
    assert h.call("UnlockConnector", {"connectorId": 1}) == {"status": "UnlockFailed"}
    assert h.of("StatusNotification")[-1].data["errorCode"] == "ConnectorLockFailure"
    h.station.set_switch("lock_failure", False, h.now)
    assert h.call("UnlockConnector", {"connectorId": 1}) == {"status": "Unlocked"}
    assert h.of("StopTransaction")[0].data["reason"] == "UnlockCommand"
    assert h.call("UnlockConnector", {"connectorId": 9}) == {"status": "NotSupported"}


def test_power_loss_reboots_and_reports_the_transaction_after_boot() -> None:
    h = charging(Harness(make_config(V)))
    h.advance(30)
    mark = h.mark()
    result = h.station.power_loss(h.now)
    h.pump()
    assert result["ended_transactions"] and result["reconnect"]
    sent = h.actions(mark)
    assert sent.index("BootNotification") < sent.index("StopTransaction")
    assert h.of("StopTransaction", mark)[0].data["reason"] == "PowerLoss"
    assert statuses(h, mark)[-1] == "Preparing"  # the EV is still plugged, its session is gone


def test_boot_pending_answers_the_csms_and_boots_again_after_the_interval() -> None:
    h = Harness(make_config(V), boot="Pending", boot_interval=60)
    assert h.actions() == ["BootNotification"]
    answer = h.call("GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]})
    assert answer["unknownKey"] == ["Nope"]
    assert h.call("RemoteStartTransaction", {"idTag": "X"}) == {"status": "Rejected"}
    h.plug()
    assert h.actions() == ["BootNotification"]  # nothing unsolicited while Pending
    h.boot_status = "Accepted"
    h.advance(60)
    assert h.actions()[1] == "BootNotification" and statuses(h) == ["Preparing"]


def test_boot_rejected_station_refuses_calls_and_retries() -> None:
    h = Harness(make_config(V), boot="Rejected", boot_interval=100)
    assert isinstance(h.call("GetConfiguration", {}), CallErrorReply)
    h.advance(99)
    assert h.actions() == ["BootNotification"]
    h.boot_status = "Accepted"
    h.advance(1)
    assert h.actions()[:2] == ["BootNotification", "BootNotification"] and "StatusNotification" in h.actions()


def test_duplicate_boot_switch_sends_boot_on_every_reconnect() -> None:
    h = Harness(make_config(V))
    h.station.set_switch("duplicate_boot", True, h.now)
    h.disconnect()
    mark = h.mark()
    h.connect()
    assert h.actions(mark)[0] == "BootNotification"


def test_heartbeat_after_the_idle_interval_the_boot_gave() -> None:
    h = Harness(make_config(V), boot_interval=120)
    h.advance(119)
    assert not h.of("Heartbeat")
    h.advance(1)
    assert [c.at for c in h.of("Heartbeat")] == [1120]
    h.disconnect()
    h.connect()  # a reconnect is not a reboot: no BootNotification, the interval stays
    assert len(h.of("BootNotification")) == 1
    assert h.call("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "50"}) == {"status": "Accepted"}
    h.advance(50)
    assert [c.at for c in h.of("Heartbeat")] == [1120, 1170]


def test_reservation_blocks_other_tokens_and_expires() -> None:
    h = Harness(make_config(V))
    mark = h.mark()
    assert h.call("ReserveNow", {"connectorId": 1, "expiryDate": iso(1100), "idTag": "RES1",
                                 "reservationId": 5}) == {"status": "Accepted"}
    assert statuses(h, mark) == ["Reserved"]
    assert h.swipe("OTHER")["result"] == "rejected"
    h.advance(101)
    assert statuses(h, mark) == ["Reserved", "Available"]
    h.call("ReserveNow", {"connectorId": 1, "expiryDate": iso(2000), "idTag": "RES1", "reservationId": 6})
    charging(h, "RES1")
    assert h.of("StartTransaction")[0].data["reservationId"] == 6
    assert h.call("ReserveNow", {"connectorId": 0, "expiryDate": iso(2000), "idTag": "Z",
                                 "reservationId": 9}) == {"status": "Rejected"}


def test_firmware_update_reports_each_step_and_boots_the_new_version() -> None:
    h = Harness(make_config(V))
    h.call("UpdateFirmware", {"location": "https://fw.example.com/sim-2.5.0.bin", "retrieveDate": iso(1010)})
    h.advance(60)
    steps = [c.data["status"] for c in h.of("FirmwareStatusNotification")]
    assert steps == ["Downloading", "Downloaded", "Installing", "Installed"]
    boots = h.of("BootNotification")
    assert len(boots) == 2 and boots[1].data["firmwareVersion"] == "2.5.0"
    assert h.actions().index("BootNotification", 1) < len(h.actions()) - 1


def test_diagnostics_upload_reports_uploading_then_the_outcome() -> None:
    h = Harness(make_config(V))
    assert h.call("GetDiagnostics", {"location": "https://fail.example.com/"})["fileName"].endswith(".log")
    h.advance(10)
    assert [c.data["status"] for c in h.of("DiagnosticsStatusNotification")] == ["Uploading", "UploadFailed"]


def test_local_list_authorizes_without_the_csms_when_pre_authorize() -> None:
    h = Harness(make_config(V, configuration={"LocalPreAuthorize": "true"}))
    assert h.call("SendLocalList", {"listVersion": 2, "updateType": "Full", "localAuthorizationList": [
        {"idTag": "LOCAL1", "idTagInfo": {"status": "Accepted"}}]}) == {"status": "Accepted"}
    assert h.call("GetLocalListVersion", {}) == {"listVersion": 2}
    assert h.call("SendLocalList", {"listVersion": 2, "updateType": "Differential"}) == {"status": "VersionMismatch"}
    charging(h, "LOCAL1")
    assert not h.of("Authorize") and h.of("StartTransaction")


def test_configuration_drives_the_sample_interval_and_measurands() -> None:
    h = Harness(make_config(V))
    assert h.call("ChangeConfiguration", {"key": "MeterValuesSampledData", "value": "Foo"}) == {"status": "Rejected"}
    assert h.call("ChangeConfiguration", {"key": "NumberOfConnectors", "value": "4"}) == {"status": "Rejected"}
    assert h.call("ChangeConfiguration", {"key": "Unknown", "value": "1"}) == {"status": "NotSupported"}
    h.call("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "30"})
    h.call("ChangeConfiguration", {"key": "MeterValuesSampledData", "value": "Energy.Active.Import.Register"})
    charging(h)
    h.advance(90)
    values = h.of("MeterValues")
    assert len(values) == 3 and all(len(c.data["meterValue"][0]["sampledValue"]) == 1 for c in values)
    keys = {k["key"]: k for k in h.call("GetConfiguration", {})["configurationKey"]}
    assert keys["MeterValueSampleInterval"]["value"] == "30" and keys["NumberOfConnectors"]["readonly"]


def test_unplug_without_stop_on_ev_side_disconnect_keeps_the_transaction() -> None:
    h = charging(Harness(make_config(V, configuration={"StopTransactionOnEVSideDisconnect": "false"})))
    h.unplug()
    assert not h.of("StopTransaction") and statuses(h)[-1] == "SuspendedEV"
    h.plug()
    assert statuses(h)[-1] == "Charging"
    h.swipe("CARD1")
    assert h.of("StopTransaction")[0].data["reason"] == "Local"


def test_change_availability_is_scheduled_during_a_transaction() -> None:
    h = charging(Harness(make_config(V)))
    assert h.call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}) == {"status": "Scheduled"}
    assert statuses(h)[-1] == "Charging"
    h.swipe("CARD1")
    h.unplug()
    assert statuses(h)[-2:] == ["Charging", "Unavailable"]  # the scheduled change applies as the transaction ends
    assert h.swipe("CARD1")["result"] == "rejected"
    assert h.call("ChangeAvailability", {"connectorId": 0, "type": "Operative"}) == {"status": "Accepted"}
    assert h.call("ChangeAvailability", {"connectorId": 1, "type": "Operative"}) == {"status": "Accepted"}
    assert statuses(h)[-1] == "Available"


def test_shared_dc_pool_splits_power_between_evses() -> None:
    h = Harness(make_config(V, evses=2, dc=True, station_max_power_w=150_000))
    fast = EvProfile(name="fast", battery_kwh=100, ac_max_w=11_000, dc_max_w=150_000, dc_ramp_s=0,
                     initial_soc=20)
    h.plug(1, ev=fast)
    h.swipe("A", 1)
    h.advance(2)
    alone = h.station.view()["evses"][0]["power_w"]
    assert 100_000 < alone <= 150_000  # 375 A at the battery's ~360 V
    h.plug(2, ev=fast)
    h.swipe("B", 2)
    h.advance(2)
    powers = [e["power_w"] for e in h.station.view()["evses"]]
    assert powers == pytest.approx([75_000, 75_000], rel=0.01) and sum(powers) <= 150_000 + 1


def test_remote_start_profile_limits_the_transaction_it_starts() -> None:
    h = Harness(make_config(V, auto_plug_on_remote_start=True))
    profile = {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
               "chargingProfileKind": "Relative",
               "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0,
                                                                                         "limit": 8.0}]}}
    assert h.call("RemoteStartTransaction", {"idTag": "APP1", "connectorId": 1, "chargingProfile": profile}
                  ) == {"status": "Accepted"}
    assert h.station.view()["evses"][0]["power_w"] == pytest.approx(8 * 230 * 3)
    wrong = {**profile, "chargingProfilePurpose": "TxDefaultProfile"}
    assert h.call("RemoteStartTransaction", {"idTag": "APP2", "chargingProfile": wrong}) == {"status": "Rejected"}


def test_clock_aligned_meter_values_fall_on_the_quarter_hour() -> None:
    h = charging(Harness(make_config(V, configuration={
        "ClockAlignedDataInterval": "900", "MeterValueSampleInterval": "0",
        "MeterValuesAlignedData": "Energy.Active.Import.Register,Power.Active.Import"})))
    h.advance(1000)  # from 08:16:40 to 08:33:20
    aligned = h.of("MeterValues")
    assert [c.data["meterValue"][0]["timestamp"] for c in aligned] == ["2026-03-02T08:30:00Z"]
    values = aligned[0].data["meterValue"][0]["sampledValue"]
    assert {v["context"] for v in values} == {"Sample.Clock"} and len(values) == 2


def test_connectors_are_numbered_across_evses_and_config_round_trips_as_json() -> None:
    config = make_config(V, evses=2, connectors=2)
    assert msgspec.json.decode(msgspec.json.encode(config), type=type(config)) == config
    h = Harness(config)
    assert sorted({c.data["connectorId"] for c in h.of("StatusNotification")}) == [0, 1, 2, 3, 4]
    h.plug(2, 2)  # EVSE 2, connector 2 is 1.6 connector 4; connector 3 shares its EVSE
    assert statuses(h, connector=4)[-1] == "Preparing" and statuses(h, connector=3)[-1] == "Unavailable"
    h.swipe("CARD1", 2)
    assert h.of("StartTransaction")[0].data["connectorId"] == 4
    view = h.station.view()["evses"][1]
    assert view["plugged_connector"] == 2 and view["transaction"]["csms_id"] == 101


@pytest.mark.parametrize("stop_on_invalid", ["true", "false"])
def test_token_rejected_in_start_transaction_stops_or_suspends(stop_on_invalid: str) -> None:
    h = Harness(make_config(V, configuration={"LocalPreAuthorize": "true",
                                              "StopTransactionOnInvalidId": stop_on_invalid}))
    h.call("SendLocalList", {"listVersion": 1, "updateType": "Full", "localAuthorizationList": [
        {"idTag": "STALE", "idTagInfo": {"status": "Accepted"}}]})
    h.auth["STALE"] = "Invalid"  # the local list is out of date: the Central System knows better
    charging(h, "STALE")
    if stop_on_invalid == "true":
        assert h.of("StopTransaction")[0].data["reason"] == "DeAuthorized"
    else:
        assert not h.of("StopTransaction") and statuses(h)[-1] == "SuspendedEVSE"
        assert h.station.view()["evses"][0]["power_w"] == 0


def test_authorize_rejected_leaves_the_ev_waiting() -> None:
    h = Harness(make_config(V))
    h.auth["BAD"] = "Blocked"
    h.plug()
    assert h.swipe("BAD")["result"] == "authorizing"
    assert not h.of("StartTransaction") and statuses(h)[-1] == "Preparing"
    assert h.swipe("GOOD")["result"] == "authorizing" and h.of("StartTransaction")
