"""Every request and response we can build validates against the official schema, and strict decoding agrees.

For each action of OCPP 1.6 and 2.0.1 we build, from our Structs alone, a minimal instance (required fields
only) and a full one (every field set), encode it, and check it with jsonschema against the OCA schema shipped
in the `ocpp` package. Then we break it (drop a required field, add an unknown one, give a field the wrong
type) and check that the schema and our strict decoder both reject it.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import cache
from importlib import resources

import jsonschema
import msgspec
import msgspec.inspect as mi
import pytest

from ocpi_sandbox.ocpp.v16.messages import ACTIONS as ACTIONS_16
from ocpi_sandbox.ocpp.v201.messages import ACTIONS as ACTIONS_201

ACTIONS = {"v16": ACTIONS_16, "v201": ACTIONS_201}
CASES = [
    (package, action, kind)
    for package, actions in ACTIONS.items()
    for action in actions
    for kind in ("Request", "Response")
]


@cache
def validator(package: str, action: str, kind: str) -> jsonschema.protocols.Validator:
    name = f"{action}.json" if package == "v16" and kind == "Request" else f"{action}{kind}.json"
    schema = json.loads((resources.files("ocpp") / package / "schemas" / name).read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


def struct_of(package: str, action: str, kind: str) -> type[msgspec.Struct]:
    return ACTIONS[package][action][0 if kind == "Request" else 1]


def example(info: mi.Type, full: bool):
    """Build a valid value for a msgspec type: required fields only, or every field when ``full``."""
    if isinstance(info, mi.UnionType):
        (info,) = [t for t in info.types if not isinstance(t, mi.NoneType)]
    if isinstance(info, mi.StructType):
        return info.cls(**{f.name: example(f.type, full) for f in info.fields if f.required or full})
    if isinstance(info, mi.ListType):
        return [example(info.item_type, full) for _ in range(max(1, info.min_length or 0))]
    if isinstance(info, mi.EnumType):
        return next(iter(info.cls))
    if isinstance(info, mi.StrType):
        return "x" * min(3, info.max_length or 3)
    if isinstance(info, (mi.IntType, mi.FloatType)):
        value = info.ge if info.ge is not None else 1
        return value if info.le is None else min(value, info.le)
    if isinstance(info, mi.BoolType):
        return True
    if isinstance(info, mi.DateTimeType):
        return datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc)
    if isinstance(info, mi.AnyType):
        return {"free": ["form", 1]}
    raise AssertionError(f"no example for {info}")


def encoded(package: str, action: str, kind: str, full: bool) -> tuple[msgspec.Struct, dict]:
    struct = struct_of(package, action, kind)
    value = example(mi.type_info(struct), full)
    return value, json.loads(msgspec.json.encode(value))


@pytest.mark.parametrize(("package", "action", "kind"), CASES)
@pytest.mark.parametrize("full", [False, True], ids=["minimal", "full"])
def test_payload_built_from_our_structs_validates_against_the_official_schema(package, action, kind, full):
    value, payload = encoded(package, action, kind, full)
    validator(package, action, kind).validate(payload)
    assert msgspec.json.decode(json.dumps(payload), type=type(value)) == value  # and it round-trips


@pytest.mark.parametrize(("package", "action", "kind"), CASES)
def test_payload_the_schema_rejects_is_rejected_by_our_strict_decoder(package, action, kind):
    struct = struct_of(package, action, kind)
    _, payload = encoded(package, action, kind, full=False)
    broken = [{**payload, "unexpectedField": 1}]
    if payload:
        first = next(iter(payload))
        broken.append({k: v for k, v in payload.items() if k != first})  # a required field missing
        broken.append({**payload, first: 12 if isinstance(payload[first], str) else "12"})  # wrong type
    for invalid in broken:
        assert not validator(package, action, kind).is_valid(invalid), invalid
        with pytest.raises(msgspec.ValidationError):
            msgspec.json.decode(json.dumps(invalid), type=struct)


def test_optional_fields_are_omitted_not_null():
    from ocpi_sandbox.ocpp.v201.enums import BootReasonEnumType
    from ocpi_sandbox.ocpp.v201.messages import BootNotificationRequest, ChargingStationType

    request = BootNotificationRequest(
        reason=BootReasonEnumType.PowerUp, charging_station=ChargingStationType(model="M1", vendor_name="V")
    )
    assert msgspec.json.encode(request) == (
        b'{"chargingStation":{"model":"M1","vendorName":"V"},"reason":"PowerUp"}'
    )


def test_custom_data_admits_vendor_properties_as_the_2_0_1_schema_does():
    from ocpi_sandbox.ocpp.v201.messages import HeartbeatRequest

    payload = b'{"customData":{"vendorId":"com.example","colour":"blue"}}'
    assert validator("v201", "Heartbeat", "Request").is_valid(json.loads(payload))
    assert msgspec.json.decode(payload, type=HeartbeatRequest).custom_data.vendor_id == "com.example"


def test_stop_transaction_sampled_values_share_the_meter_values_unit_enum_a_known_schema_gap():
    """1.6 StopTransaction.json lists every unit but 'Hertz'; our one UnitOfMeasure enum has it."""
    from ocpi_sandbox.ocpp.v16.messages import StopTransactionRequest

    payload = {
        "transactionId": 1,
        "meterStop": 10,
        "timestamp": "2024-05-01T12:30:00Z",
        "transactionData": [
            {"timestamp": "2024-05-01T12:30:00Z", "sampledValue": [{"value": "50", "unit": "Hertz"}]}
        ],
    }
    assert not validator("v16", "StopTransaction", "Request").is_valid(payload)
    assert msgspec.json.decode(json.dumps(payload), type=StopTransactionRequest).transaction_data
