"""Load the bundle presets in ``presets/*.toml``: a CPO identity, its tariffs, its locations with chargers from
the catalog, and optional test cards. A bundle (``domain.bundles``) is a preset made live.

Presets are decoded strictly with ``msgspec.toml.decode`` (an unknown key is an error: a typo must not
silently drop a charger), then checked for what types cannot say: catalog models and OCPP versions exist,
tariff references resolve, tariffs price with our engine (OCPI 2.3.0 shape), time zones and coordinates are
valid. ``catalog.toml`` in the same directory is the catalog, not a preset.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from ..paths import data_dir
from .catalog import Catalog, CatalogLookupError
from .chargers import catalog as default_catalog
from .tariffs import TariffFormatError, tariff_from_ocpi

__all__ = ["Preset", "PresetCpo", "PresetTariff", "PresetLocation", "PresetChargers", "PresetToken", "PresetEmsp",
           "PresetError", "PresetNotFound", "load_preset", "list_presets", "parse_preset", "preset_summary",
           "expanded_locations"]

_LAT = re.compile(r"^-?[0-9]{1,2}\.[0-9]{5,7}$")
_LON = re.compile(r"^-?[0-9]{1,3}\.[0-9]{5,7}$")

Name = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")]
# Location ids get "<cc><pid>-" (6 characters) in front in a bundle; OCPI allows 36 in all.
LocalId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,25}$")]
IdentityPrefix = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,11}$")]
ConfigValue = str | int | bool


class _Entry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class PresetCpo(_Entry, kw_only=True):
    country_code: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
    party_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9]{3}$")]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    website: str | None = None


class PresetTariff(_Entry, kw_only=True):
    """An OCPI 2.3.0 Tariff without country_code, party_id and last_updated (the bundle's party gives those)."""

    id: Annotated[str, msgspec.Meta(pattern=r"^[\x21-\x7E]{1,36}$")]
    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
    tax_included: Literal["YES", "NO", "N/A"]
    elements: Annotated[list[dict[str, Any]], msgspec.Meta(min_length=1)]
    type: Literal["AD_HOC_PAYMENT", "PROFILE_CHEAP", "PROFILE_FAST", "PROFILE_GREEN", "REGULAR"] | None = None
    tariff_alt_text: list[dict[str, str]] | None = None
    tariff_alt_url: str | None = None
    min_price: dict[str, float] | None = None
    max_price: dict[str, float] | None = None

    def ocpi_body(self) -> dict[str, Any]:
        """The tariff as stored by ``domain.tariff_records`` (OCPI 2.3.0, without the owner's fields)."""
        body = msgspec.to_builtins(self)
        body.pop("id")
        return {k: v for k, v in body.items() if v is not None}


class PresetChargers(_Entry, kw_only=True):
    """``count`` chargers of one catalog model at a location."""

    brand: str
    model: str
    ocpp_version: Literal["1.6", "2.0.1"] | None = None
    count: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1
    identity_prefix: IdentityPrefix | None = None  # default: the location's id
    tariff_ids: list[str] = []
    # OCPP configuration overrides: 1.6 keys or 2.0.1 "Component.Variable" names.
    configuration: dict[str, ConfigValue] = {}
    simulate: bool = True


class PresetLocation(_Entry, kw_only=True):
    id: LocalId
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    address: Annotated[str, msgspec.Meta(min_length=1, max_length=45)]
    city: Annotated[str, msgspec.Meta(min_length=1, max_length=45)]
    country: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
    latitude: str
    longitude: str
    time_zone: str
    postal_code: Annotated[str, msgspec.Meta(max_length=10)] | None = None
    state: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    parking_type: Literal["ALONG_MOTORWAY", "PARKING_GARAGE", "PARKING_LOT", "ON_DRIVEWAY", "ON_STREET",
                          "UNDERGROUND_GARAGE"] | None = None
    facilities: list[str] = []
    operator_name: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    # Repeat this location: ids get a -001, -002 ... suffix (load tests).
    copies: Annotated[int, msgspec.Meta(ge=1, le=10000)] = 1
    chargers: list[PresetChargers] = []


class PresetToken(_Entry, kw_only=True):
    """A card to try against the bundle: a bundle keeps it as a token of the eMSP that registers with it
    (``domain.preset_tokens``), so a user swipes it at a simulated charger without pushing it first."""

    uid: Annotated[str, msgspec.Meta(pattern=r"^[\x21-\x7E]{1,36}$")]
    type: Literal["RFID", "APP_USER", "AD_HOC_USER", "OTHER"] = "RFID"
    whitelist: Literal["ALWAYS", "ALLOWED", "ALLOWED_OFFLINE", "NEVER"] = "ALLOWED"
    note: str | None = None
    valid: bool = True
    # OCPI Token fields; contract_id defaults to "<cc>-<pid>-C<uid>" of the issuing test eMSP.
    contract_id: Annotated[str, msgspec.Meta(pattern=r"^[\x21-\x7E]{1,36}$")] | None = None
    visual_number: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    group_id: Annotated[str, msgspec.Meta(pattern=r"^[\x21-\x7E]{1,36}$")] | None = None


class PresetEmsp(_Entry, kw_only=True):
    """The placeholder eMSP party that issues a preset's test cards (their Token country_code, party_id, issuer)."""

    country_code: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
    party_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9]{3}$")] = "TST"
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "Sandbox test cards"


class Preset(_Entry, kw_only=True):
    name: Name
    title: str
    description: str
    cpo: PresetCpo
    tariffs: list[PresetTariff] = []
    locations: Annotated[list[PresetLocation], msgspec.Meta(min_length=1)]
    tokens: list[PresetToken] = []
    test_emsp: PresetEmsp | None = None  # who issues ``tokens``; by default <the CPO's country_code>*TST

    def issuer_of_test_tokens(self) -> PresetEmsp:
        return self.test_emsp or PresetEmsp(country_code=self.cpo.country_code)


class PresetError(ValueError):
    """A preset file that cannot be used; the message names the file and what to fix."""


class PresetNotFound(LookupError):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"no preset {name!r}; presets: {', '.join(known) or 'none'}")
        self.message = str(self)


def _problems(preset: Preset, catalog: Catalog) -> list[str]:
    problems: list[str] = []
    tariff_ids = [t.id for t in preset.tariffs]
    if len(set(tariff_ids)) != len(tariff_ids):
        problems.append("tariffs: ids must be unique")
    for i, tariff in enumerate(preset.tariffs):
        full = {**tariff.ocpi_body(), "id": tariff.id, "country_code": preset.cpo.country_code,
                "party_id": preset.cpo.party_id, "last_updated": "2026-01-01T00:00:00Z"}
        try:
            tariff_from_ocpi(full, "2.3.0")
        except TariffFormatError as exc:
            problems.append(f"tariffs[{i}] ({tariff.id}): {exc}")
    cards = [(t.uid.upper(), t.type) for t in preset.tokens]
    if len(set(cards)) != len(cards):
        problems.append("tokens: each uid (case-insensitively) may appear once per type")
    location_ids = [loc.id.upper() for loc in preset.locations]
    if len(set(location_ids)) != len(location_ids):
        problems.append("locations: ids must be unique (case-insensitively)")
    for i, loc in enumerate(preset.locations):
        where = f"locations[{i}] ({loc.id})"
        try:
            ZoneInfo(loc.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"{where}: time_zone {loc.time_zone!r} is not an IANA time zone")
        if not _LAT.match(loc.latitude) or abs(float(loc.latitude)) > 90:
            problems.append(f"{where}: latitude {loc.latitude!r} must be a string with 5-7 decimals")
        if not _LON.match(loc.longitude) or abs(float(loc.longitude)) > 180:
            problems.append(f"{where}: longitude {loc.longitude!r} must be a string with 5-7 decimals")
        for j, group in enumerate(loc.chargers):
            here = f"{where}.chargers[{j}]"
            try:
                model = catalog.model(group.brand, group.model)
            except CatalogLookupError as exc:
                problems.append(f"{here}: {exc}")
                continue
            if group.ocpp_version and group.ocpp_version not in model.ocpp_versions:
                problems.append(f"{here}: {group.brand}/{group.model} speaks OCPP {', '.join(model.ocpp_versions)}, "
                                f"not {group.ocpp_version}")
            for tariff_id in group.tariff_ids:
                if tariff_id not in tariff_ids:
                    problems.append(f"{here}: tariff {tariff_id!r} is not one of this preset's tariffs")
    return problems


def parse_preset(document: bytes | str, source: str = "<preset>", catalog: Catalog | None = None) -> Preset:
    """Decode and check one preset document; errors name ``source`` and the offending entry."""
    try:
        preset = msgspec.toml.decode(document, type=Preset)
    except msgspec.ValidationError as exc:
        raise PresetError(f"{source}: {exc}") from None
    except msgspec.DecodeError as exc:
        raise PresetError(f"{source}: not valid TOML: {exc}") from None
    problems = _problems(preset, catalog or default_catalog())
    if problems:
        raise PresetError(f"{source}: " + "; ".join(problems))
    return preset


def _directory() -> Path:
    return data_dir("presets")


@cache
def _load(path: Path, mtime: float) -> Preset:  # noqa: ARG001 - mtime makes an edited file load again
    preset = parse_preset(path.read_bytes(), str(path))
    if preset.name != path.stem:
        raise PresetError(f"{path}: name {preset.name!r} must equal the file name {path.stem!r}")
    return preset


def _paths() -> dict[str, Path]:
    return {p.stem: p for p in sorted(_directory().glob("*.toml")) if p.stem != "catalog"}


def list_presets() -> list[Preset]:
    """Every preset, by name."""
    return [_load(p, p.stat().st_mtime) for p in _paths().values()]


def load_preset(name: str) -> Preset:
    paths = _paths()
    if name not in paths:
        raise PresetNotFound(name, sorted(paths))
    return _load(paths[name], paths[name].stat().st_mtime)


def expanded_locations(preset: Preset) -> list[PresetLocation]:
    """The preset's locations with ``copies`` unrolled (ids -001..., coordinates moved 0.001 degrees each)."""
    result = []
    for loc in preset.locations:
        if loc.copies == 1:
            result.append(loc)
            continue
        width = max(3, len(str(loc.copies)))
        for n in range(1, loc.copies + 1):
            lat = f"{float(loc.latitude) + 0.001 * (n % 100):.5f}"
            lon = f"{float(loc.longitude) + 0.001 * (n // 100):.5f}"
            result.append(msgspec.structs.replace(loc, id=f"{loc.id}-{n:0{width}d}", name=f"{loc.name} {n}",
                                                  latitude=lat, longitude=lon, copies=1))
    return result


def preset_summary(preset: Preset) -> dict[str, Any]:
    """What ``GET /api/presets`` shows of a preset: identity, sizes, versions, countries, time zones, tariffs."""
    catalog = default_catalog()
    chargers = evses = 0
    versions: set[str] = set()
    power: set[str] = set()
    for loc in preset.locations:
        for group in loc.chargers:
            model = catalog.model(group.brand, group.model)
            chargers += group.count * loc.copies
            evses += group.count * loc.copies * len(model.evses)
            versions.add(group.ocpp_version or model.ocpp_versions[-1])
            power |= {"DC" if c.is_dc else "AC" for e in model.evses for c in e.connectors}
    return {
        "name": preset.name, "title": preset.title, "description": preset.description,
        "cpo": msgspec.to_builtins(preset.cpo),
        "locations": sum(loc.copies for loc in preset.locations), "chargers": chargers, "evses": evses,
        "ocpp_versions": sorted(versions), "power_types": sorted(power),
        "countries": sorted({loc.country for loc in preset.locations}),
        "time_zones": sorted({loc.time_zone for loc in preset.locations}),
        "tariffs": [t.id for t in preset.tariffs], "tokens": len(preset.tokens),
    }
