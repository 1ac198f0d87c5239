"""Generate the OCPP 1.6 and 2.0.1 message types from the official JSON schemas.

The schemas are the OCA ones shipped inside the installed ``ocpp`` package (``ocpp/v16/schemas``,
``ocpp/v201/schemas``). For each version this writes three modules that mirror each other file for file:

- ``enums.py``: one ``StrEnum`` per enumeration, members spelled as the values are on the wire;
- ``datatypes.py``: the ``OcppObject`` base and one ``msgspec.Struct`` per nested object type;
- ``messages.py``: ``<Action>Request`` / ``<Action>Response`` for every action, and ``ACTIONS``.

Usage (from the repository root)::

    .venv/bin/python scripts/generate_ocpp_types.py            # writes src/ocpi_sandbox/ocpp/v16, v201
    .venv/bin/python scripts/generate_ocpp_types.py --out DIR  # writes DIR/v16, DIR/v201

The output depends only on the schemas, so running it twice gives identical files; tests/ocpp checks that the
committed modules match a fresh run.
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import textwrap
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any

LINE_LENGTH = 110  # as [tool.ruff] in pyproject.toml
COMMAND = ".venv/bin/python scripts/generate_ocpp_types.py"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "src" / "ocpi_sandbox" / "ocpp"

# OCPP 1.6 schemas declare nested objects and enums inline, without names. We name them as the 1.6
# specification does (OCPP 1.6 edition 2, §7 "Types"). Keys are "<message>.<path>" for names that depend on
# the message, else the end of the path ("[]" marks array items); the longest match wins. A missing name stops
# the generator.
NAMES_16 = {
    # Objects (§7).
    "idTagInfo": "IdTagInfo",
    "meterValue[]": "MeterValue",
    "transactionData[]": "MeterValue",
    "sampledValue[]": "SampledValue",
    "chargingProfile": "ChargingProfile",
    "csChargingProfiles": "ChargingProfile",
    "chargingSchedule": "ChargingSchedule",
    "chargingSchedulePeriod[]": "ChargingSchedulePeriod",
    "configurationKey[]": "KeyValue",
    "localAuthorizationList[]": "AuthorizationData",
    # Enums shared by several messages (§7).
    "idTagInfo.status": "AuthorizationStatus",
    "context": "ReadingContext",
    "format": "ValueFormat",
    "measurand": "Measurand",
    "phase": "Phase",
    "location": "Location",
    "unit": "UnitOfMeasure",
    "chargingProfilePurpose": "ChargingProfilePurposeType",
    "chargingProfileKind": "ChargingProfileKindType",
    "recurrencyKind": "RecurrencyKindType",
    "chargingRateUnit": "ChargingRateUnitType",
    "updateType": "UpdateType",
    # Enums that belong to one message (§7).
    "BootNotificationResponse.status": "RegistrationStatus",
    "CancelReservationResponse.status": "CancelReservationStatus",
    "ChangeAvailabilityRequest.type": "AvailabilityType",
    "ChangeAvailabilityResponse.status": "AvailabilityStatus",
    "ChangeConfigurationResponse.status": "ConfigurationStatus",
    "ClearCacheResponse.status": "ClearCacheStatus",
    "ClearChargingProfileResponse.status": "ClearChargingProfileStatus",
    "DataTransferResponse.status": "DataTransferStatus",
    "DiagnosticsStatusNotificationRequest.status": "DiagnosticsStatus",
    "FirmwareStatusNotificationRequest.status": "FirmwareStatus",
    "GetCompositeScheduleResponse.status": "GetCompositeScheduleStatus",
    "RemoteStartTransactionResponse.status": "RemoteStartStopStatus",
    "RemoteStopTransactionResponse.status": "RemoteStartStopStatus",
    "ReserveNowResponse.status": "ReservationStatus",
    "ResetRequest.type": "ResetType",
    "ResetResponse.status": "ResetStatus",
    "SendLocalListResponse.status": "UpdateStatus",
    "SetChargingProfileResponse.status": "ChargingProfileStatus",
    "StatusNotificationRequest.errorCode": "ChargePointErrorCode",
    "StatusNotificationRequest.status": "ChargePointStatus",
    "StopTransactionRequest.reason": "Reason",
    "TriggerMessageRequest.requestedMessage": "MessageTrigger",
    "TriggerMessageResponse.status": "TriggerMessageStatus",
    "UnlockConnectorResponse.status": "UnlockStatus",
}

# Enums that the schemas spell differently in different messages although the spec defines one type. We keep
# the union of the values so that the one Struct type (e.g. SampledValue) can carry both.
ENUM_UNIONS = {
    "UnitOfMeasure": "StopTransaction.json omits 'Hertz', which MeterValues.json lists",
}

# Objects that one schema constrains less than the others and than the spec. We keep the first definition
# (alphabetical by schema file), which is the spec's.
STRUCT_ERRATA = {
    "MeterValue": "StopTransaction.json drops minItems 1 on sampledValue, which MeterValues.json and the "
    "spec (1.6 §7, MeterValue: sampledValue 1..*) require",
}

# A Struct attribute name is the snake_case of the wire name; "SoC" is one word, not "So" + "C".
_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(wire_name: str) -> str:
    """Return the Python attribute name for a camelCase wire name."""
    name = _WORD_BOUNDARY.sub("_", wire_name.replace("SoC", "Soc")).lower()
    return name + "_" if keyword.iskeyword(name) else name


def camel_case(snake_name: str) -> str:
    """Return what msgspec's ``rename="camel"`` makes of an attribute name."""
    head, *rest = snake_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def member_name(value: str) -> str:
    """Return an enum member name that keeps the wire spelling: ``L1-N`` -> ``L1_N``."""
    name = re.sub(r"[^0-9A-Za-z_]", "_", value)
    name = "_" + name if name[0].isdigit() else name + "_" if keyword.iskeyword(name) else name
    if name in ("name", "value", "mro"):  # would shadow Enum attributes
        raise SystemExit(f"enum value {value!r} does not make a usable member name")
    return name


def docstring_from(description: str | None) -> str | None:
    """Return the prose of a 2.0.1 schema description, without its data-dictionary header and URNs."""
    if not description:
        return None
    lines = [line.strip() for line in description.replace("\r", "").split("\n")]
    if len(lines) > 1 and lines[1].startswith("urn:"):
        lines = lines[2:]  # "Charge_ Point" + "urn:x-oca:..." name the element in the data dictionary
    prose = " ".join(line for line in lines if line and not line.startswith("urn:"))
    prose = re.sub(r"\s+", " ", prose).replace("\\", "/").replace('"""', "'''").strip()
    if not prose:
        return None
    return prose if prose.endswith((".", "?", "!")) else prose + "."  # also keeps '"' off the closing quotes


@dataclass
class EnumType:
    name: str
    values: list[str]
    doc: str


@dataclass
class StructField:
    wire_name: str
    attribute: str
    annotation: str
    required: bool
    comment: str = ""


@dataclass
class StructType:
    name: str
    fields: list[StructField]
    doc: str
    open_: bool  # the schema allows properties it does not list

    def shape(self) -> tuple:
        return (self.open_, [(f.wire_name, f.annotation, f.required) for f in self.fields])


@dataclass
class Version:
    package: str  # "v16"
    label: str  # "1.6"
    enums: dict[str, EnumType] = field(default_factory=dict)
    datatypes: dict[str, StructType] = field(default_factory=dict)
    messages: dict[str, StructType] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)


class SchemaReader:
    """Turn the schemas of one OCPP version into enum and Struct descriptions."""

    def __init__(self, version: Version) -> None:
        self.version = version
        self.uses: dict[str, set[str]] = {}  # type name -> the type names its fields refer to

    def read_message(self, action: str, kind: str, schema: dict[str, Any], filename: str) -> None:
        name = f"{action}{kind}"
        doc = f"{kind} of the {action} action (OCPP {self.version.label}, schema {filename})."
        struct = self._struct(name, schema, path=name, definitions=schema.get("definitions", {}), doc=doc)
        self.version.messages[name] = struct

    def _struct(self, name: str, node: dict, path: str, definitions: dict, doc: str) -> StructType:
        required = set(node.get("required", []))
        fields = []
        refs: set[str] = set()
        for wire_name, prop in node.get("properties", {}).items():
            annotation, comment = self._annotation(prop, f"{path}.{wire_name}", definitions, refs)
            attribute = snake_case(wire_name)
            fields.append(StructField(wire_name, attribute, annotation, wire_name in required, comment))
        self.uses[name] = refs
        return StructType(name, fields, doc, open_=node.get("additionalProperties", True) is not False)

    def _annotation(self, prop: dict, path: str, definitions: dict, refs: set[str]) -> tuple[str, str]:
        comment = f"schema default: {json.dumps(prop['default'])}" if "default" in prop else ""
        if "$ref" in prop:
            ref = prop["$ref"].rsplit("/", 1)[-1]
            target = definitions[ref]
            if "default" in target:
                comment = f"schema default: {json.dumps(target['default'])}"
            refs.add(self._named(ref, target, path, definitions))
            return ref, comment
        if "enum" in prop or prop.get("type") == "object":
            name = self._name_16(path)
            refs.add(self._named(name, prop, path, definitions))
            return name, comment
        kind = prop.get("type")
        meta: list[str] = []
        if kind == "array":
            item, _ = self._annotation(prop["items"], path + "[]", definitions, refs)
            meta += [f"min_length={prop['minItems']}"] if "minItems" in prop else []
            meta += [f"max_length={prop['maxItems']}"] if "maxItems" in prop else []
            base = f"list[{item}]"
        elif kind == "string":
            if prop.get("format") == "date-time":
                return "datetime", comment
            meta += [f"max_length={prop['maxLength']}"] if "maxLength" in prop else []
            base = "str"
        elif kind in ("integer", "number"):
            number = int if kind == "integer" else float  # 2.0.1 writes integer bounds as 0.0, 100.0
            meta += [f"ge={number(prop['minimum'])!r}"] if "minimum" in prop else []
            meta += [f"le={number(prop['maximum'])!r}"] if "maximum" in prop else []
            if "multipleOf" in prop:
                # Not a Meta(multiple_of=...): binary floats make 0.3 % 0.1 != 0, so valid values would fail.
                comment = f"schema: multipleOf {prop['multipleOf']} (not checked: float rounding)"
            base = "int" if kind == "integer" else "float"
        elif kind == "boolean":
            base = "bool"
        elif kind is None:
            return "Any", comment  # "anyType" in 2.0.1 DataTransfer.data
        else:
            raise SystemExit(f"{path}: unsupported schema type {kind!r}")
        return (f"Annotated[{base}, Meta({', '.join(meta)})]" if meta else base), comment

    def _name_16(self, path: str) -> str:
        title, _, rest = path.partition(".")
        segments = rest.split(".")
        for key in (f"{title}.{rest}", *(".".join(segments[i:]) for i in range(len(segments)))):
            if key in NAMES_16:
                return NAMES_16[key]
        raise SystemExit(f"{path}: inline type without a name; add it to NAMES_16 in {__file__}")

    def _named(self, name: str, node: dict, path: str, definitions: dict) -> str:
        """Register the enum or Struct ``name`` described by ``node`` and return its name."""
        if "enum" in node:
            doc = docstring_from(node.get("description")) or (
                f"OCPP {self.version.label} {name} (first seen in {path.split('.', 1)[0]})."
            )
            if "default" in node and "default" not in doc.lower():
                doc += f" Default when absent: {node['default']}."
            self._add_enum(EnumType(name, list(node["enum"]), doc))
            return name
        first_seen = path.split(".", 1)[0]
        doc = docstring_from(node.get("description")) or (
            f"OCPP {self.version.label} {name} (first seen in {first_seen})."
        )
        struct = self._struct(name, node, path, definitions, doc)
        known = self.version.datatypes.get(name)
        if known is None:
            self.version.datatypes[name] = struct
        elif known.shape() != struct.shape() and name not in STRUCT_ERRATA:
            raise SystemExit(f"{path}: {name} differs from an earlier definition of the same name")
        return name

    def _add_enum(self, enum: EnumType) -> None:
        known = self.version.enums.get(enum.name)
        if known is None:
            self.version.enums[enum.name] = enum
        elif known.values != enum.values:
            if enum.name not in ENUM_UNIONS:
                raise SystemExit(f"enum {enum.name} has different values in different schemas")
            known.values += [value for value in enum.values if value not in known.values]


def read_version(package: str, label: str) -> Version:
    """Read every request/response schema of one version, in file-name order."""
    version = Version(package, label)
    reader = SchemaReader(version)
    directory = resources.files("ocpp") / package / "schemas"
    files = sorted(entry.name for entry in directory.iterdir() if entry.name.endswith(".json"))
    for filename in files:
        stem = filename.removesuffix(".json")
        if stem.endswith("Response"):
            action, kind = stem.removesuffix("Response"), "Response"
        else:  # 1.6 names requests after the action, 2.0.1 appends "Request"
            action, kind = stem.removesuffix("Request"), "Request"
        schema = json.loads((directory / filename).read_text(encoding="utf-8"))
        reader.read_message(action, kind, schema, filename)
        if kind == "Request":
            version.actions.append(action)
    for action in version.actions:
        if f"{action}Response" not in version.messages:
            raise SystemExit(f"{package}: {action} has a request schema but no response schema")
    order = _dependency_order(version.datatypes, reader)
    version.datatypes = {name: version.datatypes[name] for name in order}
    return version


def _dependency_order(datatypes: dict[str, StructType], reader: SchemaReader) -> list[str]:
    """Order Structs so each is defined after the Structs it refers to (alphabetical where free)."""
    ordered: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or name not in datatypes:
            return
        seen.add(name)
        for dependency in sorted(reader.uses[name]):
            visit(dependency)
        ordered.append(name)

    for name in sorted(datatypes):
        visit(name)
    return ordered


# ----------------------------------------------------------------------------------------------- rendering


def header(version: Version, what: str) -> list[str]:
    ocpp_version = metadata.version("ocpp")
    return [
        f'"""{what} of OCPP {version.label}, generated from the official JSON schemas."""',
        "",
        f"# Generated by `{COMMAND}` from the schemas in the `ocpp` {ocpp_version} package",
        f"# (ocpp/{version.package}/schemas). Do not edit by hand: change the generator and run it again.",
        "",
    ]


def render_enums(version: Version) -> str:
    lines = header(version, "Enumerations")
    lines += ["from enum import StrEnum", ""]
    names = sorted(version.enums)
    lines += ["__all__ = [", *(f'    "{name}",' for name in names), "]", ""]
    for name in names:
        enum = version.enums[name]
        lines += ["", f"class {name}(StrEnum):", *docstring(enum.doc), ""]
        if name in ENUM_UNIONS:
            lines += [f"    # Union of the schemas' values: {ENUM_UNIONS[name]}."]
        lines += [f'    {member_name(value)} = "{value}"' for value in enum.values]
        lines.append("")
    return "\n".join(lines)


def render_struct(struct: StructType, base: str) -> list[str]:
    # kw_only applies to the fields a class declares, so every class repeats it; the rest is inherited.
    options = ", kw_only=True" + (", forbid_unknown_fields=False" if struct.open_ else "")
    lines = ["", f"class {struct.name}({base}{options}):", *docstring(struct.doc), ""]
    if struct.name in STRUCT_ERRATA:
        lines += wrap_comment(f"Kept as first defined: {STRUCT_ERRATA[struct.name]}.")
    if struct.open_:
        lines.append("    # The schema admits extra vendor properties here; they are ignored on decode.")
    for f in struct.fields:
        explicit = camel_case(f.attribute) != f.wire_name  # rename="camel" would not give the wire name back
        if f.required:
            annotation, value = f.annotation, f' = field(name="{f.wire_name}")' if explicit else ""
        else:
            # "Any" already admits None (2.0.1 DataTransfer.data).
            annotation = f.annotation if f.annotation == "Any" else f"{f.annotation} | None"
            value = f' = field(default=None, name="{f.wire_name}")' if explicit else " = None"
        line = f"    {f.attribute}: {annotation}{value}"
        if len(line) > LINE_LENGTH:  # the layout ruff format gives a long annotation
            line = f"    {f.attribute}: (\n        {annotation}\n    ){value}"
        if f.comment and len(f"{line}  # {f.comment}") <= LINE_LENGTH:
            line += f"  # {f.comment}"
        elif f.comment:
            lines += wrap_comment(f.comment)
        lines.append(line)
    lines.append("")
    return lines


def docstring(text: str, indent: str = "    ") -> list[str]:
    """Return ``text`` as a class docstring that fits the line length."""
    if len(f'{indent}"""{text}"""') <= LINE_LENGTH:
        return [f'{indent}"""{text}"""']
    parts = textwrap.wrap(text, LINE_LENGTH - len(indent) - 3)
    return [f'{indent}"""{parts[0]}', *(f"{indent}{part}" for part in parts[1:]), f'{indent}"""']


def wrap_comment(text: str, indent: str = "    ") -> list[str]:
    """Return ``text`` as comment lines that fit the line length."""
    return [f"{indent}# {part}" for part in textwrap.wrap(text, LINE_LENGTH - len(indent) - 2)]


def msgspec_import(structs: list[StructType], *extra: str) -> list[str]:
    annotations = " ".join(f.annotation for struct in structs for f in struct.fields)
    explicit = any(camel_case(f.attribute) != f.wire_name for struct in structs for f in struct.fields)
    needed = [*(["Meta"] if "Meta(" in annotations else []), *extra, *(["field"] if explicit else [])]
    return ["", f"from msgspec import {', '.join(needed)}", ""]


def typing_imports(structs: list[StructType]) -> list[str]:
    annotations = " ".join(f.annotation for struct in structs for f in struct.fields)
    needed = [name for name in ("Annotated", "Any") if re.search(rf"\b{name}\b", annotations)]
    lines = ["from datetime import datetime"] if re.search(r"\bdatetime\b", annotations) else []
    lines += [f"from typing import {', '.join(needed)}"] if needed else []
    return lines


def referenced(structs: list[StructType], names: dict) -> list[str]:
    annotations = " ".join(f.annotation for struct in structs for f in struct.fields)
    return sorted(name for name in names if re.search(rf"\b{name}\b", annotations))


def import_block(module: str, names: list[str]) -> list[str]:
    return [f"from .{module} import (", *(f"    {name}," for name in names), ")"] if names else []


def render_datatypes(version: Version) -> str:
    structs = list(version.datatypes.values())
    lines = header(version, "Datatypes (nested objects)") + ["from __future__ import annotations", ""]
    lines += typing_imports(structs)
    lines += msgspec_import(structs, "Struct")
    lines += import_block("enums", referenced(structs, version.enums))
    lines += ["", "__all__ = [", '    "OcppObject",', *(f'    "{s.name}",' for s in structs), "]", ""]
    lines += [
        "",
        "class OcppObject(",
        '    Struct, kw_only=True, omit_defaults=True, rename="camel", forbid_unknown_fields=True',
        "):",
        f'    """Base of every OCPP {version.label} object: camelCase on the wire, absent optionals omitted.',
        "",
        "    Unknown fields are rejected because the schemas set ``additionalProperties: false``.",
        '    """',
        "",
    ]
    for struct in structs:
        lines += render_struct(struct, "OcppObject")
    return "\n".join(lines)


def render_messages(version: Version) -> str:
    structs = list(version.messages.values())
    lines = header(version, "Requests and responses") + ["from __future__ import annotations", ""]
    lines += typing_imports(structs)
    lines += msgspec_import(structs, "Struct")
    lines += import_block("datatypes", ["OcppObject", *referenced(structs, version.datatypes)])
    lines += import_block("enums", referenced(structs, version.enums))
    names = ["ACTIONS", *sorted(version.messages)]
    lines += ["", "__all__ = [", *(f'    "{name}",' for name in names), "]", ""]
    for action in version.actions:
        for kind in ("Request", "Response"):
            lines += render_struct(version.messages[f"{action}{kind}"], "OcppObject")
    lines += [
        "",
        "# Action name (the CALL's second field) -> (request type, response type).",
        "ACTIONS: dict[str, tuple[type[Struct], type[Struct]]] = {",
        *(action_entry(action) for action in version.actions),
        "}",
        "",
    ]
    return "\n".join(lines)


def action_entry(action: str) -> str:
    line = f'    "{action}": ({action}Request, {action}Response),'
    if len(line) <= LINE_LENGTH:
        return line
    return f'    "{action}": (\n        {action}Request,\n        {action}Response,\n    ),'


def generate(out: Path) -> list[Path]:
    """Write the modules of both versions under ``out`` and return their paths."""
    written = []
    for package, label in (("v16", "1.6"), ("v201", "2.0.1")):
        version = read_version(package, label)
        directory = out / package
        directory.mkdir(parents=True, exist_ok=True)
        modules = (("enums", render_enums), ("datatypes", render_datatypes), ("messages", render_messages))
        for module, render in modules:
            path = directory / f"{module}.py"
            path.write_text(render(version), encoding="utf-8")
            written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="target directory (default: ours)")
    for path in generate(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    main()
