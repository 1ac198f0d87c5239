"""Load the brand/model catalog of simulated chargers from ``presets/catalog.toml`` and check it.

Every brand and model in the catalog is fictional (``simulated = true``): plausible nameplate values per
market archetype, not a real product's data. Connector fields follow OCPI 2.2.1/2.3.0 mod_locations,
Connector; connector kinds for OCPP 2.0.1 follow ConnectorEnumType.

The file is decoded strictly with ``msgspec.toml.decode`` (unknown fields are errors: a typo in a preset
must not silently drop a rating), then checked for what types cannot say: unique slugs, known brands,
and every connector's power coherent with its voltage and current.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import msgspec

from ..paths import data_dir

__all__ = [
    "CATALOG_FILENAME",
    "Brand",
    "Catalog",
    "CatalogError",
    "CatalogLookupError",
    "Connector",
    "ConnectorFormat",
    "ConnectorStandard",
    "DeviceVariable",
    "Evse",
    "Model",
    "Ocpp201ConnectorType",
    "OcppVersion",
    "PowerType",
    "default_catalog_path",
    "load_catalog",
    "parse_catalog",
]

CATALOG_FILENAME = "catalog.toml"

# OCPI 2.3.0 mod_locations ConnectorType; MCS and SAE_J3400 are new in 2.3.0.
ConnectorStandard = Literal[
    "CHADEMO", "CHAOJI",
    "DOMESTIC_A", "DOMESTIC_B", "DOMESTIC_C", "DOMESTIC_D", "DOMESTIC_E", "DOMESTIC_F", "DOMESTIC_G",
    "DOMESTIC_H", "DOMESTIC_I", "DOMESTIC_J", "DOMESTIC_K", "DOMESTIC_L", "DOMESTIC_M", "DOMESTIC_N",
    "DOMESTIC_O",
    "GBT_AC", "GBT_DC",
    "IEC_60309_2_single_16", "IEC_60309_2_three_16", "IEC_60309_2_three_32", "IEC_60309_2_three_64",
    "IEC_62196_T1", "IEC_62196_T1_COMBO", "IEC_62196_T2", "IEC_62196_T2_COMBO", "IEC_62196_T3A",
    "IEC_62196_T3C",
    "MCS",
    "NEMA_5_20", "NEMA_6_30", "NEMA_6_50", "NEMA_10_30", "NEMA_10_50", "NEMA_14_30", "NEMA_14_50",
    "PANTOGRAPH_BOTTOM_UP", "PANTOGRAPH_TOP_DOWN",
    "SAE_J3400",
    "TESLA_R", "TESLA_S",
]
ConnectorFormat = Literal["SOCKET", "CABLE"]
PowerType = Literal["AC_1_PHASE", "AC_2_PHASE", "AC_2_PHASE_SPLIT", "AC_3_PHASE", "DC"]
# OCPP 2.0.1 ConnectorEnumType, exactly the schema's enum (CHAdeMO is cG105; there is no NACS value).
Ocpp201ConnectorType = Literal[
    "cCCS1", "cCCS2", "cG105", "cTesla", "cType1", "cType2",
    "s309-1P-16A", "s309-1P-32A", "s309-3P-16A", "s309-3P-32A", "sBS1361", "sCEE-7-7", "sType2", "sType3",
    "Other1PhMax16A", "Other1PhOver16A", "Other3Ph", "Pan", "wInductive", "wResonant", "Undetermined",
    "Unknown",
]
OcppVersion = Literal["1.6", "2.0.1"]
Segment = Literal["home-ac", "wallbox-ac", "public-ac", "dc-fast", "dc-shared", "dc-hpc"]
Region = Literal["EU", "NA"]
ConfigValue = str | int | bool

Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=48)]
# OCPP 1.6 BootNotification: chargePointVendor and chargePointModel are CiString20 (2.0.1 allows 50/20).
BootString20 = Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
Positive = Annotated[int, msgspec.Meta(gt=0)]

# Standards that exist only in OCPI 2.3.0; a connector using one must name its 2.2.1 fallback.
OCPI_230_ONLY_STANDARDS = frozenset({"MCS", "SAE_J3400"})
_DC_ONLY_STANDARDS = frozenset({"IEC_62196_T1_COMBO", "IEC_62196_T2_COMBO", "CHADEMO", "CHAOJI", "GBT_DC", "MCS"})
_AC_ONLY_STANDARDS = frozenset({"IEC_62196_T1", "IEC_62196_T2", "IEC_62196_T3A", "IEC_62196_T3C", "GBT_AC"})
# Which OCPP 2.0.1 connector kinds describe which OCPI standard, so the two views of a plug cannot disagree.
_OCPP201_TYPES_BY_STANDARD: dict[str, frozenset[str]] = {
    "IEC_62196_T1": frozenset({"cType1"}),
    "IEC_62196_T1_COMBO": frozenset({"cCCS1"}),
    "IEC_62196_T2": frozenset({"cType2", "sType2"}),
    "IEC_62196_T2_COMBO": frozenset({"cCCS2"}),
    "IEC_62196_T3A": frozenset({"sType3"}),
    "IEC_62196_T3C": frozenset({"sType3"}),
    "CHADEMO": frozenset({"cG105"}),
    "SAE_J3400": frozenset({"cTesla"}),
    "TESLA_S": frozenset({"cTesla"}),
    "TESLA_R": frozenset({"cTesla"}),
}
# How many times V x A one connector can draw: AC_2_PHASE_SPLIT's max_voltage is the 240 V line-to-line
# voltage of one circuit, the others' is line-to-neutral per phase (OCPI Connector.max_voltage).
_POWER_MULTIPLIER = {"AC_1_PHASE": 1, "AC_2_PHASE": 2, "AC_2_PHASE_SPLIT": 1, "AC_3_PHASE": 3}
# Supply phases (Model.phases) each AC power type needs.
_SUPPLY_PHASES_NEEDED = {"AC_1_PHASE": 1, "AC_2_PHASE": 2, "AC_2_PHASE_SPLIT": 2, "AC_3_PHASE": 3}
# Nameplate power may be a little under V x A x phases (rounding, e.g. 7.4 kW on 230 V x 32 A) but no more.
_AC_POWER_TOLERANCE = 0.02
# IEC 61851-1: the EVSE cannot signal less than 6 A, so an AC connector rated below it could never charge.
_MIN_AC_AMPERAGE = 6


class CatalogError(ValueError):
    """The catalog file cannot be used: it does not decode, or an entry is incoherent."""


class CatalogLookupError(LookupError):
    """A brand or model slug is not in the catalog; the message lists the valid slugs."""

    def __str__(self) -> str:
        # LookupError would repr() a single argument with quotes; show the message as written.
        return str(self.args[0]) if self.args else ""


class _Entry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of catalog entries: keyword construction, immutable, typos in the TOML are errors."""


class Connector(_Entry, kw_only=True):
    """One plug of an EVSE, as OCPI describes it (mod_locations, Connector) plus its OCPP 2.0.1 kind."""

    standard: ConnectorStandard
    # What OCPI 2.2.1 shows when `standard` exists only in 2.3.0 (SAE_J3400 -> TESLA_S).
    standard_v221: ConnectorStandard | None = None
    format: ConnectorFormat
    power_type: PowerType
    max_voltage: Positive
    max_amperage: Positive
    max_electric_power: Positive
    ocpp201_type: Ocpp201ConnectorType

    @property
    def is_dc(self) -> bool:
        """Tell whether the connector delivers direct current."""
        return self.power_type == "DC"

    @property
    def phases(self) -> int:
        """Return the AC conductors carrying the charging current (0 for DC; 2 for 120/240 V split phase)."""
        return 0 if self.power_type == "DC" else _SUPPLY_PHASES_NEEDED[self.power_type]

    @property
    def phase_voltage(self) -> float:
        """Return the voltage each phase current flows against: line-to-neutral AC, the maximum for DC.

        With it, AC power is ``phase_voltage x current x phases`` for every power type: a 240 V split-phase
        connector is two 120 V legs carrying the same current.
        """
        if self.power_type == "AC_2_PHASE_SPLIT":
            return self.max_voltage / 2
        return float(self.max_voltage)

    def ocpi_standard(self, version: str) -> str:
        """Return the ConnectorType to publish in OCPI ``version`` ("2.2.1" or "2.3.0")."""
        if version.startswith("2.2") and self.standard in OCPI_230_ONLY_STANDARDS:
            assert self.standard_v221 is not None  # checked when the catalog loads
            return self.standard_v221
        return self.standard


class Evse(_Entry, kw_only=True):
    """One EVSE: connectors of which one at a time delivers energy (OCPP 2.0.1 EVSE, OCPI EVSE)."""

    connectors: Annotated[list[Connector], msgspec.Meta(min_length=1)]

    @property
    def max_power_w(self) -> int:
        """Return the most this EVSE can deliver through any of its connectors, in W."""
        return max(c.max_electric_power for c in self.connectors)


class DeviceVariable(_Entry, kw_only=True, omit_defaults=True):
    """One OCPP 2.0.1 device-model variable's Actual value, keyed on component and variable."""

    component: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    variable: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    value: ConfigValue
    component_instance: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    variable_instance: Annotated[str, msgspec.Meta(max_length=50)] | None = None

    @property
    def key(self) -> tuple[str, str | None, str, str | None]:
        """Return (component, component instance, variable, variable instance)."""
        return (self.component, self.component_instance, self.variable, self.variable_instance)

    @property
    def wire_value(self) -> str:
        """Return the value as OCPP sends it: booleans as "true"/"false", numbers in decimal."""
        return _wire_value(self.value)


class Brand(_Entry, kw_only=True):
    """A (fictional) charger manufacturer."""

    slug: Slug
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    country: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
    description: str = ""


class Model(_Entry, kw_only=True):
    """A (fictional) charger model: its EVSEs and connectors, OCPP identity and default configuration."""

    slug: Slug
    brand: Slug
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    segment: Segment
    region: Region
    simulated: bool
    description: Annotated[str, msgspec.Meta(min_length=1)]
    ocpp_versions: Annotated[list[OcppVersion], msgspec.Meta(min_length=1)]
    boot_vendor: BootString20
    boot_model: BootString20
    firmware_version: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    # Start of generated serial numbers (BootNotification chargePointSerialNumber, at most 25 characters).
    serial_prefix: Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9]{1,12}$")]
    # AC phases of the station's supply: 1, 2 (120/240 V split phase) or 3.
    phases: Literal[1, 2, 3]
    # A power pool shared by all EVSEs; None means each EVSE delivers up to its own rating.
    station_max_power_w: Positive | None = None
    evses: Annotated[list[Evse], msgspec.Meta(min_length=1)]
    # Overrides of the catalog-wide defaults; after loading they hold the merged configuration.
    ocpp16_configuration: dict[str, ConfigValue] = msgspec.field(default_factory=dict)
    ocpp201_variables: list[DeviceVariable] = msgspec.field(default_factory=list)

    @property
    def shares_power(self) -> bool:
        """Tell whether the EVSEs draw from one pool smaller than the sum of their ratings."""
        return self.station_max_power_w is not None

    @property
    def max_power_w(self) -> int:
        """Return the most the whole station can deliver at once, in W."""
        total = sum(evse.max_power_w for evse in self.evses)
        return min(total, self.station_max_power_w) if self.station_max_power_w else total

    @property
    def connector_count(self) -> int:
        """Return the number of connectors over all EVSEs."""
        return sum(len(evse.connectors) for evse in self.evses)

    def ocpp16_configuration_strings(self) -> dict[str, str]:
        """Return the OCPP 1.6 configuration as GetConfiguration reports it: every value a string."""
        return {key: _wire_value(value) for key, value in self.ocpp16_configuration.items()}


class _CatalogFile(_Entry, kw_only=True):
    """The TOML document as written."""

    schema_version: Literal[1]
    brands: list[Brand]
    models: list[Model]
    ocpp16_defaults: dict[str, ConfigValue] = msgspec.field(default_factory=dict)
    ocpp201_defaults: list[DeviceVariable] = msgspec.field(default_factory=list)


class Catalog:
    """The loaded, checked catalog: brands and models, looked up by slug."""

    __slots__ = ("_brands", "_models", "path")

    def __init__(self, brands: list[Brand], models: list[Model], path: Path | None = None) -> None:
        self._brands = {brand.slug: brand for brand in brands}
        self._models = {(model.brand, model.slug): model for model in models}
        self.path = path

    @property
    def brands(self) -> tuple[Brand, ...]:
        """Return every brand, in file order."""
        return tuple(self._brands.values())

    @property
    def models(self) -> tuple[Model, ...]:
        """Return every model, in file order."""
        return tuple(self._models.values())

    def brand(self, slug: str) -> Brand:
        """Return the brand ``slug``, or raise CatalogLookupError listing the valid brand slugs."""
        try:
            return self._brands[slug]
        except KeyError:
            valid = ", ".join(sorted(self._brands))
            raise CatalogLookupError(f"unknown brand {slug!r}; valid brands: {valid}") from None

    def model(self, brand_slug: str, model_slug: str) -> Model:
        """Return model ``model_slug`` of brand ``brand_slug``; raise CatalogLookupError with the valid slugs."""
        self.brand(brand_slug)
        try:
            return self._models[(brand_slug, model_slug)]
        except KeyError:
            valid = ", ".join(sorted(m.slug for m in self.models_of(brand_slug)))
            raise CatalogLookupError(
                f"unknown model {model_slug!r} of brand {brand_slug!r}; valid models of {brand_slug!r}: {valid}"
            ) from None

    def models_of(self, brand_slug: str) -> tuple[Model, ...]:
        """Return the models of one brand, in file order."""
        self.brand(brand_slug)
        return tuple(model for (brand, _), model in self._models.items() if brand == brand_slug)

    def __len__(self) -> int:
        return len(self._models)

    def __repr__(self) -> str:
        return f"<Catalog {len(self._brands)} brands, {len(self._models)} models from {self.path}>"


def default_catalog_path() -> Path:
    """Return the shipped ``presets/catalog.toml``, located like every data file of the package.

    ``paths.data_dir`` looks in ``OCPI_SANDBOX_DATA_DIR``, then at the repository root next to ``src/`` (a
    checkout or an editable install), then in the wheel's packaged data.
    """
    try:
        return data_dir("presets") / CATALOG_FILENAME
    except FileNotFoundError as exc:
        raise CatalogError(f"{exc}; or pass the catalog's path to load_catalog(path=...)") from None


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Decode, check and return the catalog at ``path`` (default: the repository's presets/catalog.toml)."""
    source = Path(path) if path is not None else default_catalog_path()
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise CatalogError(f"cannot read catalog {source}: {exc.strerror or exc}") from exc
    return parse_catalog(raw, source)


def parse_catalog(document: bytes | str, source: Path | None = None) -> Catalog:
    """Decode and check a catalog TOML document; ``source`` only names it in errors."""
    where = str(source) if source is not None else "<catalog>"
    try:
        decoded = msgspec.toml.decode(document, type=_CatalogFile)
    except msgspec.ValidationError as exc:
        raise CatalogError(f"{where}: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise CatalogError(f"{where}: not valid TOML: {exc}") from exc
    problems = _problems(decoded)
    if problems:
        listing = "\n  - ".join(problems)
        raise CatalogError(f"{where}: {len(problems)} problem(s):\n  - {listing}")
    models = [_with_defaults(model, decoded) for model in decoded.models]
    return Catalog(decoded.brands, models, source)


def _wire_value(value: ConfigValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _with_defaults(model: Model, catalog: _CatalogFile) -> Model:
    """Return ``model`` with the catalog-wide defaults under its own overrides, for the versions it speaks."""
    ocpp16: dict[str, ConfigValue] = {}
    if "1.6" in model.ocpp_versions:
        ocpp16 = {**catalog.ocpp16_defaults, **model.ocpp16_configuration}
    variables: list[DeviceVariable] = []
    if "2.0.1" in model.ocpp_versions:
        overrides = {variable.key: variable for variable in model.ocpp201_variables}
        variables = [overrides.pop(default.key, default) for default in catalog.ocpp201_defaults]
        variables.extend(overrides.values())
    return msgspec.structs.replace(model, ocpp16_configuration=ocpp16, ocpp201_variables=variables)


def _problems(catalog: _CatalogFile) -> list[str]:
    """Return every incoherence in the catalog, each prefixed with where it is."""
    problems: list[str] = []
    brand_slugs: set[str] = set()
    for i, brand in enumerate(catalog.brands):
        if brand.slug in brand_slugs:
            problems.append(f"brands[{i}]: duplicate brand slug {brand.slug!r}")
        brand_slugs.add(brand.slug)
    seen_models: set[tuple[str, str]] = set()
    for i, model in enumerate(catalog.models):
        at = f"models[{i}] ({model.brand}/{model.slug})"
        if model.brand not in brand_slugs:
            problems.append(f"{at}: unknown brand {model.brand!r}; valid brands: {', '.join(sorted(brand_slugs))}")
        if (model.brand, model.slug) in seen_models:
            problems.append(f"{at}: duplicate model slug {model.slug!r} in brand {model.brand!r}")
        seen_models.add((model.brand, model.slug))
        problems.extend(f"{at}: {problem}" for problem in _model_problems(model))
    for key, value in catalog.ocpp16_defaults.items():
        problems.extend(f"ocpp16_defaults: {p}" for p in _ocpp16_key_problems(key, value))
    return problems


def _model_problems(model: Model) -> list[str]:
    problems: list[str] = []
    if not model.simulated:
        problems.append("simulated must be true: the catalog only holds fictional models")
    if len(set(model.ocpp_versions)) != len(model.ocpp_versions):
        problems.append(f"ocpp_versions lists a version twice: {model.ocpp_versions}")
    if model.ocpp16_configuration and "1.6" not in model.ocpp_versions:
        problems.append("ocpp16_configuration given but the model does not speak OCPP 1.6")
    if model.ocpp201_variables and "2.0.1" not in model.ocpp_versions:
        problems.append("ocpp201_variables given but the model does not speak OCPP 2.0.1")
    for key, value in model.ocpp16_configuration.items():
        problems.extend(f"ocpp16_configuration: {p}" for p in _ocpp16_key_problems(key, value))
    if model.station_max_power_w is not None:
        largest = max(evse.max_power_w for evse in model.evses)
        total = sum(evse.max_power_w for evse in model.evses)
        if len(model.evses) < 2:
            problems.append("station_max_power_w needs at least two EVSEs to share it")
        elif not largest <= model.station_max_power_w < total:
            problems.append(
                f"station_max_power_w {model.station_max_power_w} W must be at least the largest EVSE "
                f"({largest} W) and below the sum of the EVSEs ({total} W), else nothing is shared"
            )
    for e, evse in enumerate(model.evses):
        for c, connector in enumerate(evse.connectors):
            at = f"evses[{e}].connectors[{c}]"
            problems.extend(f"{at}: {p}" for p in _connector_problems(connector, model.phases))
    return problems


def _ocpp16_key_problems(key: str, value: ConfigValue) -> list[str]:
    # OCPP 1.6 ChangeConfiguration/GetConfiguration: key CiString50, value CiString500.
    problems = []
    if not 0 < len(key) <= 50:
        problems.append(f"key {key!r} must be 1 to 50 characters")
    if len(_wire_value(value)) > 500:
        problems.append(f"value of {key!r} is longer than 500 characters")
    return problems


def _connector_problems(connector: Connector, supply_phases: int) -> list[str]:
    problems: list[str] = []
    standard, power_type = connector.standard, connector.power_type
    volts, amps, watts = connector.max_voltage, connector.max_amperage, connector.max_electric_power

    if standard in OCPI_230_ONLY_STANDARDS:
        if connector.standard_v221 is None:
            problems.append(f"{standard} exists only in OCPI 2.3.0: set standard_v221 (e.g. TESLA_S for SAE_J3400)")
        elif connector.standard_v221 in OCPI_230_ONLY_STANDARDS:
            problems.append(f"standard_v221 {connector.standard_v221} is itself 2.3.0-only")
    elif connector.standard_v221 is not None:
        problems.append(f"standard_v221 is only for 2.3.0-only standards, and {standard} exists in 2.2.1")

    allowed = _OCPP201_TYPES_BY_STANDARD.get(standard)
    if allowed is not None and connector.ocpp201_type not in allowed:
        problems.append(f"ocpp201_type {connector.ocpp201_type} does not describe {standard}; use {sorted(allowed)}")
    prefix = connector.ocpp201_type[0]
    if (prefix == "c" and connector.format != "CABLE") or (prefix == "s" and connector.format != "SOCKET"):
        problems.append(f"ocpp201_type {connector.ocpp201_type} contradicts format {connector.format}")

    if power_type == "DC":
        if standard in _AC_ONLY_STANDARDS:
            problems.append(f"{standard} is an AC connector but power_type is DC")
        if watts > volts * amps:
            problems.append(f"DC power {watts} W exceeds max_voltage x max_amperage = {volts * amps} W")
        return problems

    if standard in _DC_ONLY_STANDARDS:
        problems.append(f"{standard} is a DC connector but power_type is {power_type}")
    if amps < _MIN_AC_AMPERAGE:
        problems.append(f"AC max_amperage {amps} A is below the {_MIN_AC_AMPERAGE} A minimum of IEC 61851-1")
    needed = _SUPPLY_PHASES_NEEDED[power_type]
    if needed > supply_phases:
        problems.append(f"{power_type} needs {needed} supply phases but the model has phases = {supply_phases}")
    multiplier = _POWER_MULTIPLIER[power_type]
    nameplate = volts * amps * multiplier
    if not nameplate * (1 - _AC_POWER_TOLERANCE) <= watts <= nameplate * (1 + _AC_POWER_TOLERANCE):
        problems.append(
            f"AC power {watts} W is not {volts} V x {amps} A x {multiplier} = {nameplate} W "
            f"(within {_AC_POWER_TOLERANCE:.0%})"
        )
    return problems
