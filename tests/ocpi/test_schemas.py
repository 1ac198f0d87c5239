"""The JSON Schemas in ocpi_modules/ are exactly what the code exports (`ocpi-sandbox export-schemas`)."""

from __future__ import annotations

from ocpi_sandbox.ocpi.schemas import VERSION_PACKAGES, render_schemas
from ocpi_sandbox.paths import data_dir


def test_checked_in_schemas_match_the_code():
    root = data_dir("ocpi_modules")
    for version in VERSION_PACKAGES:
        expected = render_schemas(version)
        directory = root / version / "schemas"
        present = {p.name for p in directory.glob("*.json")}
        assert present == set(expected), f"run `ocpi-sandbox export-schemas`: {present ^ set(expected)} differ"
        for name, text in expected.items():
            assert (directory / name).read_text() == text, (
                f"{version}/schemas/{name} is stale; run `ocpi-sandbox export-schemas`")


def test_core_objects_are_exported_for_both_versions():
    for version in VERSION_PACKAGES:
        names = set(render_schemas(version))
        assert {"Credentials.json", "VersionDetails.json", "Location.json", "CDR.json", "Tariff.json"} <= names
