"""The generated OCPP types match the official JSON schemas field for field, and a fresh generator run."""

from __future__ import annotations

import importlib.util
import json
import sys
from importlib import resources
from pathlib import Path

import msgspec
import msgspec.inspect as mi
import pytest

from ocpi_sandbox.ocpp.v16.messages import ACTIONS as ACTIONS_16
from ocpi_sandbox.ocpp.v201.messages import ACTIONS as ACTIONS_201

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "ocpi_sandbox" / "ocpp"
MODULES = ["enums.py", "datatypes.py", "messages.py"]


def load_generator():
    """Import scripts/generate_ocpp_types.py, which is a script, not part of the package."""
    name = "generate_ocpp_types"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "generate_ocpp_types.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its dataclasses look their module up while being defined
        spec.loader.exec_module(module)
    return sys.modules[name]


def schema_of(package: str, action: str, kind: str) -> dict:
    name = f"{action}.json" if package == "v16" and kind == "Request" else f"{action}{kind}.json"
    return json.loads((resources.files("ocpp") / package / "schemas" / name).read_text(encoding="utf-8"))


def test_committed_modules_match_a_fresh_run_of_the_generator(tmp_path):
    load_generator().generate(tmp_path)
    for package in ("v16", "v201"):
        for module in MODULES:
            fresh = (tmp_path / package / module).read_text(encoding="utf-8")
            committed = (PACKAGE / package / module).read_text(encoding="utf-8")
            assert fresh == committed, (
                f"{package}/{module} drifted from the schemas or the generator; "
                "run .venv/bin/python scripts/generate_ocpp_types.py"
            )


def test_generator_gives_identical_files_when_run_twice(tmp_path):
    generator = load_generator()
    first, second = tmp_path / "first", tmp_path / "second"
    generator.generate(first)
    generator.generate(second)
    for package in ("v16", "v201"):
        for module in MODULES:
            assert (first / package / module).read_bytes() == (second / package / module).read_bytes()


def test_every_action_of_both_versions_is_generated():
    schemas_16 = {p.name for p in (resources.files("ocpp") / "v16" / "schemas").iterdir()}
    schemas_201 = {p.name for p in (resources.files("ocpp") / "v201" / "schemas").iterdir()}
    assert len(ACTIONS_16) * 2 == len([n for n in schemas_16 if n.endswith(".json")]) == 78
    assert len(ACTIONS_201) * 2 == len([n for n in schemas_201 if n.endswith(".json")]) == 128
    assert ACTIONS_201["BootNotification"][0].__name__ == "BootNotificationRequest"
    assert ACTIONS_16["StartTransaction"][1].__name__ == "StartTransactionResponse"


# Known, documented departures from a single schema (see ENUM_UNIONS / STRUCT_ERRATA in the generator).
UNIONED_ENUM_VALUES = {("v16", "StopTransaction", "Hertz")}
LOOSER_IN_SCHEMA = {("v16", "StopTransaction", ".transactionData[].sampledValue")}


def assert_matches(info: mi.Type, node: dict, definitions: dict, where: tuple, path: str = "") -> None:
    """Compare one msgspec type with the schema node it was generated from, recursively."""
    where_path = (*where, path)
    if "$ref" in node:
        node = definitions[node["$ref"].rsplit("/", 1)[-1]]
    if isinstance(info, mi.UnionType):  # optional: X | None
        (info,) = [t for t in info.types if not isinstance(t, mi.NoneType)]
    if "enum" in node:
        assert isinstance(info, mi.EnumType)
        values = {member.value for member in info.cls}
        extra = {(where[0], where[1], value) for value in values - set(node["enum"])}
        assert set(node["enum"]) <= values, (where_path, values, node["enum"])
        assert extra <= UNIONED_ENUM_VALUES, where_path
        return
    kind = node.get("type")
    if kind == "object":
        assert isinstance(info, mi.StructType), where_path
        fields = {f.encode_name: f for f in info.fields}
        assert set(fields) == set(node.get("properties", {})), (where_path, info.cls.__name__)
        assert {name for name, f in fields.items() if f.required} == set(node.get("required", [])), where_path
        assert info.forbid_unknown_fields == (node.get("additionalProperties", True) is False), where_path
        for name, prop in node.get("properties", {}).items():
            assert_matches(fields[name].type, prop, definitions, where, f"{path}.{name}")
    elif kind == "array":
        assert isinstance(info, mi.ListType), where_path
        if where_path in LOOSER_IN_SCHEMA:
            assert info.min_length == 1 and "minItems" not in node, where_path
        else:
            assert info.min_length == node.get("minItems"), where_path
        assert info.max_length == node.get("maxItems"), where_path
        assert_matches(info.item_type, node["items"], definitions, where, f"{path}[]")
    elif kind == "string" and node.get("format") == "date-time":
        assert isinstance(info, mi.DateTimeType), where_path
    elif kind == "string":
        assert isinstance(info, mi.StrType) and info.max_length == node.get("maxLength"), where_path
    elif kind in ("integer", "number"):
        assert isinstance(info, mi.IntType if kind == "integer" else mi.FloatType), where_path
        assert info.ge == node.get("minimum") and info.le == node.get("maximum"), where_path
    elif kind == "boolean":
        assert isinstance(info, mi.BoolType), where_path
    else:
        assert kind is None and isinstance(info, mi.AnyType), where_path


@pytest.mark.parametrize(
    ("package", "action", "kind"),
    [("v16", a, k) for a in ACTIONS_16 for k in ("Request", "Response")]
    + [("v201", a, k) for a in ACTIONS_201 for k in ("Request", "Response")],
)
def test_struct_has_the_schema_wire_names_requirements_and_constraints(package, action, kind):
    actions = ACTIONS_16 if package == "v16" else ACTIONS_201
    struct = actions[action][0 if kind == "Request" else 1]
    schema = schema_of(package, action, kind)
    assert_matches(mi.type_info(struct), schema, schema.get("definitions", {}), (package, action))


def test_names_that_camel_case_cannot_produce_are_spelled_out():
    from ocpi_sandbox.ocpp.v201.datatypes import DCChargingParametersType, OCSPRequestDataType

    encoded = msgspec.json.encode(DCChargingParametersType(ev_max_current=1, ev_max_voltage=2, full_soc=90))
    assert encoded == b'{"evMaxCurrent":1,"evMaxVoltage":2,"fullSoC":90}'
    names = {f.encode_name for f in msgspec.structs.fields(OCSPRequestDataType)}
    assert "responderURL" in names
