"""The charger catalog: what presets/catalog.toml holds, how lookups fail, and what the loader refuses."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ocpi_sandbox.domain.catalog import (
    Catalog,
    CatalogError,
    CatalogLookupError,
    Model,
    default_catalog_path,
    load_catalog,
    parse_catalog,
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _connectors(model: Model):
    return [c for evse in model.evses for c in evse.connectors]


def test_default_catalog_is_the_repository_presets_file():
    path = default_catalog_path()
    assert path.name == "catalog.toml" and path.parent.name == "presets"
    assert load_catalog(path).path == path


def test_catalog_has_enough_fictional_brands_and_models(catalog: Catalog):
    assert len(catalog.brands) >= 8
    assert len(catalog.models) >= 20
    for model in catalog.models:
        assert model.simulated
        assert "not a real product" in model.description
    for brand in catalog.brands:
        assert "Simulated brand" in brand.description
        assert catalog.models_of(brand.slug), f"brand {brand.slug} has no model"


def test_catalog_covers_every_archetype_asked_for(catalog: Catalog):
    models = catalog.models

    def ac(model: Model, power_type: str, watts: int) -> bool:
        return any(c.power_type == power_type and c.max_electric_power == watts for c in _connectors(model))

    assert any(ac(m, "AC_1_PHASE", 7360) and m.segment == "home-ac" for m in models)
    assert any(ac(m, "AC_3_PHASE", 11040) for m in models)
    assert any(ac(m, "AC_3_PHASE", 22080) for m in models)
    assert any(
        m.segment == "public-ac" and len(m.evses) >= 2 and all(c.format == "SOCKET" for c in _connectors(m))
        for m in models
    ), "a dual-socket public AC post"
    assert any(
        {"IEC_62196_T2_COMBO", "CHADEMO"} <= {c.standard for c in _connectors(m)} and m.max_power_w == 50_000
        for m in models
    ), "a 50 kW DC charger with CCS2 and CHAdeMO"
    assert any(
        m.shares_power and 150_000 <= (m.station_max_power_w or 0) <= 180_000 and all(c.is_dc for c in _connectors(m))
        for m in models
    ), "a 150-180 kW DC station sharing power between EVSEs"
    assert any(m.segment == "dc-hpc" and max(e.max_power_w for e in m.evses) >= 300_000 for m in models)
    north_american = {c.standard for m in models if m.region == "NA" for c in _connectors(m)}
    assert {"IEC_62196_T1", "IEC_62196_T1_COMBO", "SAE_J3400"} <= north_american


def test_every_ac_connector_power_is_voltage_times_current_times_phases(catalog: Catalog):
    for model in catalog.models:
        for connector in _connectors(model):
            if connector.is_dc:
                assert connector.max_electric_power <= connector.max_voltage * connector.max_amperage
                continue
            nameplate = connector.phase_voltage * connector.max_amperage * connector.phases
            assert connector.max_electric_power == pytest.approx(nameplate, rel=0.02), (model.slug, connector)


def test_split_phase_connector_is_two_120_volt_legs(catalog: Catalog):
    connector = catalog.model("prairie-charge", "homestead-48").evses[0].connectors[0]
    assert connector.power_type == "AC_2_PHASE_SPLIT"
    assert (connector.phases, connector.phase_voltage, connector.max_voltage) == (2, 120.0, 240)


def test_sae_j3400_falls_back_to_tesla_s_in_ocpi_221(catalog: Catalog):
    nacs = [c for m in catalog.models for c in _connectors(m) if c.standard == "SAE_J3400"]
    assert nacs
    for connector in nacs:
        assert connector.ocpi_standard("2.3.0") == "SAE_J3400"
        assert connector.ocpi_standard("2.2.1") == "TESLA_S"
        assert connector.ocpp201_type == "cTesla"
    ccs2 = catalog.model("ampervale", "rapide-50").evses[0].connectors[0]
    assert ccs2.ocpi_standard("2.2.1") == ccs2.ocpi_standard("2.3.0") == "IEC_62196_T2_COMBO"


def test_boot_strings_fit_ocpp_16_boot_notification(catalog: Catalog):
    for model in catalog.models:
        assert 0 < len(model.boot_vendor) <= 20 and 0 < len(model.boot_model) <= 20
        assert len(model.firmware_version) <= 50 and model.firmware_version.endswith("-sim")


def test_model_configuration_merges_defaults_under_its_own_keys(catalog: Catalog):
    nordwall = catalog.model("northgrid", "nordwall-22")
    strings = nordwall.ocpp16_configuration_strings()
    assert strings["HeartbeatInterval"] == "300"
    assert strings["AuthorizeRemoteTxRequests"] == "false"
    assert strings["MaxAvailableCurrent"] == "32"

    rapide = catalog.model("ampervale", "rapide-50")
    assert rapide.ocpp16_configuration["MeterValuesSampledData"].endswith(",SoC")
    measurands = [v for v in rapide.ocpp201_variables if v.key == ("SampledDataCtrlr", None, "TxUpdatedMeasurands", None)]
    assert len(measurands) == 1 and measurands[0].wire_value.endswith(",SoC")
    attempts = [v for v in rapide.ocpp201_variables if v.variable == "MessageAttempts"]
    assert attempts[0].variable_instance == "TransactionEvent" and attempts[0].wire_value == "3"


def test_configuration_exists_only_for_the_versions_a_model_speaks(catalog: Catalog):
    only_16 = catalog.model("voltstream", "homebox-7")
    assert only_16.ocpp16_configuration and not only_16.ocpp201_variables
    only_201 = catalog.model("tidewatt", "tide-360")
    assert only_201.ocpp201_variables and not only_201.ocpp16_configuration


def test_shared_power_station_caps_the_sum_of_its_evses(catalog: Catalog):
    tide = catalog.model("tidewatt", "tide-180")
    assert tide.shares_power and tide.max_power_w == 180_000
    assert sum(e.max_power_w for e in tide.evses) > 180_000
    citypost = catalog.model("lumenpost", "citypost-duo-22")
    assert not citypost.shares_power and citypost.max_power_w == 44_160


def test_unknown_brand_lists_the_valid_brands(catalog: Catalog):
    with pytest.raises(CatalogLookupError) as caught:
        catalog.brand("teslo")
    message = str(caught.value)
    assert "unknown brand 'teslo'" in message and "voltstream" in message and "zephyra" in message


def test_unknown_model_lists_the_brand_models(catalog: Catalog):
    with pytest.raises(CatalogLookupError) as caught:
        catalog.model("voltstream", "mega-9000")
    message = str(caught.value)
    assert "mega-9000" in message and "homebox-7" in message and "officebox-11" in message
    assert "forge-150" not in message  # only the brand's own models
    with pytest.raises(CatalogLookupError, match="valid brands"):
        catalog.model("nope", "homebox-7")


# --- what the loader refuses ---------------------------------------------------------------------------

_BRAND = """
[[brands]]
slug = "acme"
name = "Acme"
country = "DE"
"""


def _model(slug: str = "box", connector: str = "", **fields: str) -> str:
    head = {
        "slug": f'"{slug}"', "brand": '"acme"', "name": '"Box"', "segment": '"home-ac"', "region": '"EU"',
        "simulated": "true", "description": '"Simulated test model."', "ocpp_versions": '["1.6"]',
        "boot_vendor": '"Acme"', "boot_model": '"B1"', "firmware_version": '"1.0-sim"', "serial_prefix": '"AB"',
        "phases": "1",
    }
    head.update(fields)
    lines = "\n".join(f"{k} = {v}" for k, v in head.items())
    connector = connector or """
standard = "IEC_62196_T2"
format = "SOCKET"
power_type = "AC_1_PHASE"
max_voltage = 230
max_amperage = 32
max_electric_power = 7360
ocpp201_type = "sType2"
"""
    return f"\n[[models]]\n{lines}\n\n[[models.evses]]\n[[models.evses.connectors]]\n{connector}"


def _parse(*models: str, brands: str = _BRAND) -> Catalog:
    return parse_catalog("schema_version = 1\n" + brands + "".join(models))


def test_a_minimal_catalog_loads():
    catalog = _parse(_model())
    assert catalog.model("acme", "box").max_power_w == 7360


def test_duplicate_slugs_are_refused():
    with pytest.raises(CatalogError, match="duplicate model slug 'box'"):
        _parse(_model(), _model())
    with pytest.raises(CatalogError, match="duplicate brand slug 'acme'"):
        _parse(_model(), brands=_BRAND + _BRAND)


def test_model_of_unknown_brand_is_refused():
    with pytest.raises(CatalogError, match="unknown brand 'zeta'"):
        _parse(_model(brand='"zeta"'))


def test_incoherent_ac_power_is_refused():
    connector = """
standard = "IEC_62196_T2"
format = "SOCKET"
power_type = "AC_3_PHASE"
max_voltage = 230
max_amperage = 16
max_electric_power = 22000
ocpp201_type = "sType2"
"""
    with pytest.raises(CatalogError, match=r"AC power 22000 W is not 230 V x 16 A x 3 = 11040 W"):
        _parse(_model(connector=connector, phases="3"))


def test_three_phase_connector_on_single_phase_supply_is_refused():
    connector = """
standard = "IEC_62196_T2"
format = "SOCKET"
power_type = "AC_3_PHASE"
max_voltage = 230
max_amperage = 16
max_electric_power = 11040
ocpp201_type = "sType2"
"""
    with pytest.raises(CatalogError, match="needs 3 supply phases"):
        _parse(_model(connector=connector, phases="1"))


def test_dc_power_above_its_voltage_and_current_is_refused():
    connector = """
standard = "IEC_62196_T2_COMBO"
format = "CABLE"
power_type = "DC"
max_voltage = 500
max_amperage = 125
max_electric_power = 150000
ocpp201_type = "cCCS2"
"""
    with pytest.raises(CatalogError, match=r"DC power 150000 W exceeds .* 62500 W"):
        _parse(_model(connector=connector, segment='"dc-fast"', phases="3"))


def test_j3400_without_its_221_fallback_is_refused():
    connector = """
standard = "SAE_J3400"
format = "CABLE"
power_type = "DC"
max_voltage = 1000
max_amperage = 350
max_electric_power = 150000
ocpp201_type = "cTesla"
"""
    with pytest.raises(CatalogError, match="exists only in OCPI 2.3.0: set standard_v221"):
        _parse(_model(connector=connector, segment='"dc-fast"', phases="3"))


def test_ocpp201_type_must_describe_the_same_plug():
    connector = """
standard = "CHADEMO"
format = "CABLE"
power_type = "DC"
max_voltage = 500
max_amperage = 125
max_electric_power = 50000
ocpp201_type = "cCCS2"
"""
    with pytest.raises(CatalogError, match=r"ocpp201_type cCCS2 does not describe CHADEMO; use \['cG105'\]"):
        _parse(_model(connector=connector, segment='"dc-fast"', phases="3"))


def test_non_simulated_model_is_refused():
    with pytest.raises(CatalogError, match="simulated must be true"):
        _parse(_model(simulated="false"))


def test_unknown_field_and_bad_enum_name_the_path():
    with pytest.raises(CatalogError, match=r"unknown field `max_power`"):
        _parse(_model(max_power="7400"))
    with pytest.raises(CatalogError, match=r"models\[0\]\.evses\[0\]\.connectors\[0\]\.standard"):
        _parse(_model(connector=_model().split("[[models.evses.connectors]]")[1].replace("IEC_62196_T2", "TYPE2")))


def test_boot_model_longer_than_ocpp_16_allows_is_refused():
    with pytest.raises(CatalogError, match=r"boot_model"):
        _parse(_model(boot_model='"A-MODEL-NAME-TOO-LONG-FOR-16"'))


def test_shared_pool_that_shares_nothing_is_refused():
    with pytest.raises(CatalogError, match="needs at least two EVSEs"):
        _parse(_model(station_max_power_w="7360"))


def test_all_problems_are_reported_at_once():
    connector = """
standard = "IEC_62196_T2"
format = "CABLE"
power_type = "AC_1_PHASE"
max_voltage = 230
max_amperage = 4
max_electric_power = 920
ocpp201_type = "sType2"
"""
    with pytest.raises(CatalogError) as caught:
        _parse(_model(connector=connector, simulated="false"))
    message = str(caught.value)
    assert "3 problem(s)" in message
    assert "simulated must be true" in message and "below the 6 A minimum" in message
    assert "contradicts format CABLE" in message


def test_missing_file_says_what_to_do(tmp_path: Path):
    with pytest.raises(CatalogError, match="cannot read catalog"):
        load_catalog(tmp_path / "nope.toml")


def test_broken_toml_is_a_catalog_error(tmp_path: Path):
    path = tmp_path / "catalog.toml"
    path.write_text("schema_version = \n")
    with pytest.raises(CatalogError, match="not valid TOML"):
        load_catalog(path)


def test_catalog_module_imports_no_web_or_network_library():
    code = textwrap.dedent(
        """
        import sys
        import ocpi_sandbox.domain.catalog
        loaded = {name.split(".")[0] for name in sys.modules}
        print(sorted(loaded & {"litestar", "httpx", "websockets", "socket", "sqlalchemy"}))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
