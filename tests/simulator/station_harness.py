"""Drive a simulated ``Station`` without sockets: a fake CSMS, a hand-turned clock, schema checks on every frame.

``Harness`` plays the transport and the CSMS at once. Every CALL the station releases and every answer it gives
is encoded to JSON exactly as the wire would carry it and validated against the official OCPP JSON schema
(shipped in the ``ocpp`` package); numbers are read as Decimal, as the ``ocpp`` package does, so 1.6's
``multipleOf: 0.1`` checks are exact.
"""

from __future__ import annotations

import decimal
import functools
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import ocpp

from ocpi_sandbox.ocpp.rpc import CallErrorReply
from ocpi_sandbox.ocpp.v16.messages import ACTIONS as ACTIONS_16
from ocpi_sandbox.ocpp.v201.messages import ACTIONS as ACTIONS_201
from ocpi_sandbox.simulator.ev import EvProfile
from ocpi_sandbox.simulator.station import ConnectorConfig, EvseConfig, Station, StationConfig

T0 = datetime(2026, 3, 2, 8, 0, 0, tzinfo=timezone.utc)
ACTIONS = {"1.6": ACTIONS_16, "2.0.1": ACTIONS_201}
SCHEMAS = {"1.6": Path(ocpp.__file__).parent / "v16" / "schemas",
           "2.0.1": Path(ocpp.__file__).parent / "v201" / "schemas"}
ERROR_CODES = {
    "1.6": {"NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError", "FormationViolation",
            "PropertyConstraintViolation", "OccurenceConstraintViolation", "TypeConstraintViolation", "GenericError"},
    "2.0.1": {"NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError", "FormatViolation",
              "PropertyConstraintViolation", "OccurrenceConstraintViolation", "TypeConstraintViolation",
              "GenericError", "MessageTypeNotSupported", "RpcFrameworkError"},
}
# A 22 kW-capable EV that charges flat at the EVSE's limit (the AC curve tapers only above 92 %).
STEADY_EV = EvProfile(name="steady", battery_kwh=80, ac_max_w=22_000, ac_max_current_a=32, dc_max_w=150_000,
                      initial_soc=20, target_soc=100)


def schema_name(version: str, action: str, *, response: bool) -> str:
    if version == "1.6":
        return f"{action}Response" if response else action
    return f"{action}{'Response' if response else 'Request'}"


@functools.cache
def schema(version: str, name: str) -> dict:
    return json.loads((SCHEMAS[version] / f"{name}.json").read_text(), parse_float=decimal.Decimal)


def validate(version: str, action: str, payload: msgspec.Struct, *, response: bool) -> dict:
    """Encode ``payload`` as on the wire, check it against the official schema, return it as JSON data."""
    data = json.loads(msgspec.json.encode(payload), parse_float=decimal.Decimal)
    name = schema_name(version, action, response=response)
    jsonschema.validators.validator_for(schema(version, name))(schema(version, name)).validate(data)
    return json.loads(msgspec.json.encode(payload))


def decode_request(version: str, action: str, data: dict) -> msgspec.Struct:
    """Decode a CSMS request as the session would (strictly, into the generated Struct)."""
    return msgspec.json.decode(json.dumps(data).encode(), type=ACTIONS[version][action][0])


def make_config(version: str, *, evses: int = 1, connectors: int = 1, dc: bool = False,
                max_power_w: float | None = None, configuration: dict[str, str] | None = None,
                **extra: Any) -> StationConfig:
    """A station with ``evses`` AC 11 kW (or DC 150 kW) EVSEs; clock-aligned data off unless configured."""
    aligned = {"ClockAlignedDataInterval": "0"} if version == "1.6" else {"AlignedDataCtrlr.Interval": "0"}
    if dc:
        connector = dict(type="cCCS2", standard="IEC_62196_T2_COMBO", format="CABLE", power_type="DC")
        evse_args = dict(max_power_w=max_power_w or 150_000, phases=3, voltage=920)
    else:
        connector = dict(type="sType2", standard="IEC_62196_T2", format="SOCKET", power_type="AC_3_PHASE")
        evse_args = dict(max_power_w=max_power_w or 11_040, phases=3, voltage=230)
    return StationConfig(
        identity=f"SIM-{version.replace('.', '')}", ocpp_version=version, vendor="SimVendor", model="SimModel",
        serial_number="SN-0001", firmware_version="1.0.0",
        evses=[EvseConfig(id=i, connectors=[ConnectorConfig(id=j, **connector) for j in range(1, connectors + 1)],
                          **evse_args) for i in range(1, evses + 1)],
        configuration={**aligned, **(configuration or {})}, default_ev=extra.pop("default_ev", STEADY_EV),
        **extra)


class Sent(msgspec.Struct):
    """A CALL the station sent, with the time and its JSON payload."""

    at: float
    action: str
    payload: msgspec.Struct
    data: dict


class Harness:
    """The transport and a fake CSMS around one station; time moves only when the test says so."""

    def __init__(self, config: StationConfig, *, connect: bool = True, boot: str = "Accepted",
                 boot_interval: int = 300, start: float = 1000.0) -> None:
        self.version = config.ocpp_version
        self.now = start
        self.station = Station(config, self.now, self.wall)
        self.sent: list[Sent] = []
        self.boot_status = boot
        self.boot_interval = boot_interval
        self.auth: dict[str, str] = {}  # token -> status the fake CSMS answers (default Accepted)
        self.fail: Callable[[Sent], str | None] = lambda call: None  # return a reason to fail the CALL
        self.hold = False  # True: leave CALLs unanswered (they stay in flight)
        self.in_flight: list[Sent] = []
        self.tx_counter = 100
        self.connected = False
        if connect:
            self.connect()

    # -- time and connection --

    def wall(self) -> datetime:
        return T0 + timedelta(seconds=self.now)

    def connect(self) -> None:
        self.connected = True
        self.station.on_connected(self.now)
        self.pump()

    def disconnect(self) -> None:
        self.connected = False
        lost, self.in_flight = self.in_flight, []
        for call in lost:  # the transport fails what was in flight when the socket closed
            self.station.handle_failure(call.action, call.payload, "the connection closed before the answer came",
                                        self.now)
        self.station.on_disconnected(self.now)

    def advance(self, seconds: float, *, step: float = 1.0) -> None:
        """Let time pass, ticking the station as the fleet's 1 s beat would, pumping CALLs after each tick."""
        end = self.now + seconds
        while self.now < end - 1e-9:
            self.now = min(end, self.now + step)
            self.station.tick(self.now)
            self.pump()

    # -- the fake CSMS --

    def pump(self) -> None:
        """Send what the station releases and answer it, until it has nothing more to say."""
        if not self.connected:
            return
        for _ in range(1000):
            calls = self.station.take_calls()
            if not calls:
                return
            for action, payload in calls:
                call = Sent(self.now, action, payload, validate(self.version, action, payload, response=False))
                self.sent.append(call)
                if self.hold:
                    self.in_flight.append(call)
                    continue
                self.answer(call)
        raise AssertionError("the station keeps sending without end")

    def answer(self, call: Sent) -> None:
        reason = self.fail(call)
        if reason is not None:
            self.station.handle_failure(call.action, call.payload, reason, self.now)
            return
        data = self.response_for(call)
        response = msgspec.json.decode(json.dumps(data).encode(), type=ACTIONS[self.version][call.action][1])
        self.station.handle_result(call.action, call.payload, response, self.now)

    def release(self) -> None:
        """Answer the CALLs left in flight while ``hold`` was on, in order."""
        self.hold = False
        calls, self.in_flight = self.in_flight, []
        for call in calls:
            self.answer(call)
        self.pump()

    def response_for(self, call: Sent) -> dict:
        now = self.wall().isoformat()
        data, action = call.data, call.action
        if action == "BootNotification":
            return {"status": self.boot_status, "currentTime": now, "interval": self.boot_interval}
        if action == "Heartbeat":
            return {"currentTime": now}
        if self.version == "1.6":
            if action == "Authorize":
                return {"idTagInfo": {"status": self.auth.get(data["idTag"], "Accepted")}}
            if action == "StartTransaction":
                self.tx_counter += 1
                return {"transactionId": self.tx_counter,
                        "idTagInfo": {"status": self.auth.get(data["idTag"], "Accepted")}}
            if action == "DataTransfer":
                return {"status": "Accepted"}
            return {}
        if action == "Authorize":
            return {"idTokenInfo": {"status": self.auth.get(data["idToken"]["idToken"], "Accepted")}}
        if action == "TransactionEvent" and "idToken" in data:
            return {"idTokenInfo": {"status": self.auth.get(data["idToken"]["idToken"], "Accepted")}}
        if action == "DataTransfer":
            return {"status": "Accepted"}
        if action in ("NotifyEVChargingNeeds", "NotifyEVChargingSchedule", "SignCertificate"):
            return {"status": "Accepted"}
        return {}

    def call(self, action: str, data: dict) -> Any:
        """Send a CSMS CALL; return the answer's JSON data (or the CallErrorReply), validated."""
        request = decode_request(self.version, action, data)
        answer = self.station.handle_call(action, request, self.now)
        if isinstance(answer, CallErrorReply):
            assert answer.error_code in ERROR_CODES[self.version], answer
            self.pump()
            return answer
        result = validate(self.version, action, answer, response=True)
        self.pump()
        return result

    # -- driver actions, pumped --

    def plug(self, evse: int = 1, connector: int = 1, ev: EvProfile | None = None) -> dict:
        result = self.station.plug_in(evse, connector, ev, self.now)
        self.pump()
        return result

    def unplug(self, evse: int = 1, connector: int = 1) -> dict:
        result = self.station.unplug(evse, connector, self.now)
        self.pump()
        return result

    def swipe(self, token: str, evse: int | None = 1) -> dict:
        result = self.station.swipe_card(token, evse, self.now)
        self.pump()
        return result

    # -- reading what was sent --

    def actions(self, since: int = 0) -> list[str]:
        return [c.action for c in self.sent[since:]]

    def of(self, action: str, since: int = 0) -> list[Sent]:
        return [c for c in self.sent[since:] if c.action == action]

    def mark(self) -> int:
        return len(self.sent)


def sampled(meter_value: dict, measurand: str, phase: str | None = None) -> float:
    """The value of ``measurand`` (and ``phase``) in one wire MeterValue, as a number."""
    for sv in meter_value["sampledValue"]:
        if sv.get("measurand", "Energy.Active.Import.Register") == measurand and sv.get("phase") == phase:
            return float(sv["value"])
    raise KeyError(f"{measurand} {phase or ''} not in {meter_value}")


def minimal_instance(version: str, schema_doc: dict, node: dict | None = None) -> Any:
    """Build the smallest payload a schema accepts: required properties only, first enum values, one item."""
    node = schema_doc if node is None else node
    if "$ref" in node:
        ref = node["$ref"].split("/")[-1]
        return minimal_instance(version, schema_doc, schema_doc["definitions"][ref])
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "object":
        return {name: minimal_instance(version, schema_doc, node["properties"][name])
                for name in node.get("required", [])}
    if kind == "array":
        return [minimal_instance(version, schema_doc, node["items"])] * max(1, node.get("minItems", 1))
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if node.get("format") == "date-time":
        return (T0 + timedelta(hours=1)).isoformat()
    return "x" if node.get("maxLength", 10) >= 1 else ""
