"""OCPI 2.2.1 common types (types.asciidoc) and the enums several modules share.

Numbers that are money or energy (``Price.excl_vat``, ``EnergySource.percentage``, ...) are ``float``
on the wire, as the JSON ``number`` they are; the pricing engine converts them to ``Decimal`` itself.

Enums used by more than one module (``TokenType``, ``ProfileType``, ``ConnectorType``, ``ConnectorFormat``,
``PowerType``) live here so that modules do not import each other in circles. Enums that are OpenEnums in
2.3.0 also get a tuple of their values (``CONNECTOR_TYPES``, ...), named as in v230, so callers check values
the same way in both versions.

Every Struct sets ``kw_only=True`` itself: msgspec does not inherit it from ``OcpiObject``, and it lets
required fields follow optional ones in the spec's field order.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

import msgspec

from ..primitives import URL, CiString, DateTime, OcpiObject, String

__all__ = [
    "AdditionalGeoLocation",
    "BusinessDetails",
    "CONNECTOR_TYPES",
    "ConnectorFormat",
    "ConnectorType",
    "DisplayText",
    "ENVIRONMENTAL_IMPACT_CATEGORIES",
    "EnergyMix",
    "EnergySource",
    "EnergySourceCategory",
    "EnvironmentalImpact",
    "EnvironmentalImpactCategory",
    "ExceptionalPeriod",
    "GeoLocation",
    "Hours",
    "IMAGE_CATEGORIES",
    "Image",
    "ImageCategory",
    "Latitude",
    "Longitude",
    "PowerType",
    "Price",
    "ProfileType",
    "RegularHours",
    "Role",
    "TOKEN_TYPES",
    "TimeOfDay",
    "TokenType",
]

ImageCategory = Literal["CHARGER", "ENTRANCE", "LOCATION", "NETWORK", "OPERATOR", "OTHER", "OWNER"]
IMAGE_CATEGORIES: tuple[str, ...] = get_args(ImageCategory)
Role = Literal["CPO", "EMSP", "HUB", "NAP", "NSP", "OTHER", "SCSP"]

EnergySourceCategory = Literal[
    "NUCLEAR", "GENERAL_FOSSIL", "COAL", "GAS", "GENERAL_GREEN", "SOLAR", "WIND", "WATER"
]
EnvironmentalImpactCategory = Literal["NUCLEAR_WASTE", "CARBON_DIOXIDE"]
ENVIRONMENTAL_IMPACT_CATEGORIES: tuple[str, ...] = get_args(EnvironmentalImpactCategory)

# mod_tokens TokenType; also used by mod_cdrs CdrToken and mod_locations PublishTokenType.
TokenType = Literal["AD_HOC_USER", "APP_USER", "OTHER", "RFID"]
TOKEN_TYPES: tuple[str, ...] = get_args(TokenType)
# mod_sessions ProfileType; also used by mod_tokens Token.default_profile_type.
ProfileType = Literal["CHEAP", "FAST", "GREEN", "REGULAR"]

# mod_locations ConnectorType, ConnectorFormat, PowerType; also used by mod_cdrs CdrLocation.
ConnectorType = Literal[
    "CHADEMO",
    "CHAOJI",
    "DOMESTIC_A",
    "DOMESTIC_B",
    "DOMESTIC_C",
    "DOMESTIC_D",
    "DOMESTIC_E",
    "DOMESTIC_F",
    "DOMESTIC_G",
    "DOMESTIC_H",
    "DOMESTIC_I",
    "DOMESTIC_J",
    "DOMESTIC_K",
    "DOMESTIC_L",
    "DOMESTIC_M",
    "DOMESTIC_N",
    "DOMESTIC_O",
    "GBT_AC",
    "GBT_DC",
    "IEC_60309_2_single_16",
    "IEC_60309_2_three_16",
    "IEC_60309_2_three_32",
    "IEC_60309_2_three_64",
    "IEC_62196_T1",
    "IEC_62196_T1_COMBO",
    "IEC_62196_T2",
    "IEC_62196_T2_COMBO",
    "IEC_62196_T3A",
    "IEC_62196_T3C",
    "NEMA_5_20",
    "NEMA_6_30",
    "NEMA_6_50",
    "NEMA_10_30",
    "NEMA_10_50",
    "NEMA_14_30",
    "NEMA_14_50",
    "PANTOGRAPH_BOTTOM_UP",
    "PANTOGRAPH_TOP_DOWN",
    "TESLA_R",
    "TESLA_S",
]
CONNECTOR_TYPES: tuple[str, ...] = get_args(ConnectorType)
ConnectorFormat = Literal["SOCKET", "CABLE"]
PowerType = Literal["AC_1_PHASE", "AC_2_PHASE", "AC_2_PHASE_SPLIT", "AC_3_PHASE", "DC"]

# GeoLocation coordinates are strings with 5 to 7 decimals, not JSON numbers (types, GeoLocation class).
Latitude = Annotated[str, msgspec.Meta(max_length=10, pattern=r"^-?[0-9]{1,2}\.[0-9]{5,7}$")]
Longitude = Annotated[str, msgspec.Meta(max_length=11, pattern=r"^-?[0-9]{1,3}\.[0-9]{5,7}$")]
# "HH:MM" local time, as RegularHours and TariffRestrictions write it.
TimeOfDay = Annotated[str, msgspec.Meta(max_length=5, pattern=r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")]


class DisplayText(OcpiObject, kw_only=True):
    """OCPI 2.2.1 types, DisplayText class: text in one language."""

    language: String(2)
    text: String(512)


class Image(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_locations, Image class: a reference to an image."""

    url: URL
    category: ImageCategory
    type: CiString(4)
    thumbnail: URL | None = None
    width: int | None = None
    height: int | None = None


class BusinessDetails(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_locations, BusinessDetails class: name, website and logo of a business."""

    name: String(100)
    website: URL | None = None
    logo: Image | None = None


class Price(OcpiObject, kw_only=True):
    """OCPI 2.2.1 types, Price class: a price excluding and, when known, including VAT.

    Amounts are ``float`` on the wire; the pricing engine works in ``Decimal``.
    """

    excl_vat: float
    incl_vat: float | None = None


class GeoLocation(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_locations, GeoLocation class: a WGS 84 point, coordinates as decimal strings."""

    latitude: Latitude
    longitude: Longitude


class AdditionalGeoLocation(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_locations, AdditionalGeoLocation class: a named point related to a Location."""

    latitude: Latitude
    longitude: Longitude
    name: DisplayText | None = None


class EnergySource(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_locations, EnergySource class: one source's share of an energy mix, in percent."""

    source: EnergySourceCategory
    percentage: Annotated[float, msgspec.Meta(ge=0, le=100)]


class EnvironmentalImpact(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_locations, EnvironmentalImpact class: an environmental impact in g/kWh."""

    category: EnvironmentalImpactCategory
    amount: float


class EnergyMix(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_locations, EnergyMix class: the energy supplied at a Location or by a Tariff."""

    is_green_energy: bool
    energy_sources: list[EnergySource] | None = None
    environ_impact: list[EnvironmentalImpact] | None = None
    supplier_name: String(64) | None = None
    energy_product_name: String(64) | None = None


class RegularHours(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_locations, RegularHours class: opening hours on one weekday, local time.

    ``weekday`` runs from 1 (Monday) to 7 (Sunday).
    """

    weekday: Annotated[int, msgspec.Meta(ge=1, le=7)]
    period_begin: TimeOfDay
    period_end: TimeOfDay


class ExceptionalPeriod(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_locations, ExceptionalPeriod class: a UTC period of exceptional opening or closing."""

    period_begin: DateTime
    period_end: DateTime


class Hours(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_locations, Hours class: opening and access hours of a Location.

    ``regular_hours`` is only meaningful when ``twentyfourseven`` is false; callers check that
    cross-field rule, decoding does not.
    """

    twentyfourseven: bool
    regular_hours: list[RegularHours] | None = None
    exceptional_openings: list[ExceptionalPeriod] | None = None
    exceptional_closings: list[ExceptionalPeriod] | None = None
