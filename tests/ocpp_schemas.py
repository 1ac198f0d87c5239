"""Validate OCPP-J frames against the official JSON schemas shipped in the `ocpp` package."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema
import ocpp

SCHEMAS = {"1.6": Path(ocpp.__file__).parent / "v16" / "schemas",
           "2.0.1": Path(ocpp.__file__).parent / "v201" / "schemas"}


@functools.cache
def _validator(version: str, name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS[version] / f"{name}.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def validate_payload(version: str, action: str, payload: dict, *, response: bool) -> None:
    """Raise jsonschema.ValidationError unless ``payload`` is a valid request/response of ``action``."""
    if version == "1.6":
        name = f"{action}Response" if response else action
    else:
        name = f"{action}{'Response' if response else 'Request'}"
    _validator(version, name).validate(payload)


def validate_frames(version: str, frames: list[tuple[str, str | None]]) -> int:
    """Validate (raw frame, action) pairs as logged; return how many payloads were checked."""
    checked = 0
    for raw, action in frames:
        message = json.loads(raw)
        if message[0] == 2:
            validate_payload(version, message[2], message[3], response=False)
            checked += 1
        elif message[0] == 3 and action:
            validate_payload(version, action, message[2], response=True)
            checked += 1
    return checked
