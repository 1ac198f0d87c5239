"""Validate OCPI bodies against the JSON Schemas we publish in ``ocpi_modules/<version>/schemas/`` (what an eMSP
team would validate our pushes with)."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import jsonschema

from ocpi_sandbox.paths import data_dir

__all__ = ["schema_problems"]


@cache
def _validator(version: str, name: str, partial: bool) -> jsonschema.Draft202012Validator:
    schema = json.loads((data_dir("ocpi_modules") / version / "schemas" / f"{name}.json").read_text())
    if partial:  # a PATCH carries only what changed: the object's own required list does not apply
        schema = copy.deepcopy(schema)
        schema["$defs"][name].pop("required", None)
    return jsonschema.Draft202012Validator(schema)


def schema_problems(version: str, name: str, body: Any, *, partial: bool = False) -> list[str]:
    """Every way ``body`` violates OCPI ``version`` object ``name`` (empty when it is valid)."""
    return [f"{version} {name}{' (PATCH)' if partial else ''} at /{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in _validator(version, name, partial).iter_errors(body)]
