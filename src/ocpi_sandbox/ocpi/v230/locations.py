"""OCPI 2.3.0 Locations module objects (mod_locations.asciidoc): Location, EVSE, Connector and their parts.

Shared pieces (GeoLocation, Hours, EnergyMix, Image, BusinessDetails, ConnectorType, ...) live in ``types``.
New in 2.3.0: ``Parking`` and ``EVSEParking`` (AFIR reporting), ``Location.help_phone``,
``EVSE.accepted_service_providers`` and ``Connector.capabilities``. Capability, ConnectorCapability,
Facility, ParkingRestriction, ParkingType and VehicleType are OpenEnums: plain ``str``, with a tuple of the
known values each.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from ..primitives import URL, CiString, DateTime, OcpiObject, String
from .types import (
    AdditionalGeoLocation,
    BusinessDetails,
    ConnectorFormat,
    ConnectorType,
    DisplayText,
    EnergyMix,
    GeoLocation,
    Hours,
    Image,
    PowerType,
    TokenType,
    UnboundedCiString,
)

__all__ = [
    "CAPABILITIES",
    "CONNECTOR_CAPABILITIES",
    "Capability",
    "Connector",
    "ConnectorCapability",
    "EVSE",
    "EVSEParking",
    "EVSEPosition",
    "FACILITIES",
    "Facility",
    "Location",
    "PARKING_RESTRICTIONS",
    "PARKING_TYPES",
    "Parking",
    "ParkingDirection",
    "ParkingRestriction",
    "ParkingType",
    "PublishTokenType",
    "Status",
    "StatusSchedule",
    "VEHICLE_TYPES",
    "VehicleType",
]

Status = Literal[
    "AVAILABLE",
    "BLOCKED",
    "CHARGING",
    "INOPERATIVE",
    "OUTOFORDER",
    "PLANNED",
    "REMOVED",
    "RESERVED",
    "UNKNOWN",
]
# OpenEnums below: plain strings on the wire, with the values the spec knows.
Capability = str
CAPABILITIES = (
    "CHARGING_PROFILE_CAPABLE",
    "CHARGING_PREFERENCES_CAPABLE",
    "CHIP_CARD_SUPPORT",
    "CONTACTLESS_CARD_SUPPORT",
    "CREDIT_CARD_PAYABLE",
    "DEBIT_CARD_PAYABLE",
    "PED_TERMINAL",
    "REMOTE_START_STOP_CAPABLE",
    "RESERVABLE",
    "RFID_READER",
    "START_SESSION_CONNECTOR_REQUIRED",
    "TOKEN_GROUP_CAPABLE",
    "UNLOCK_CAPABLE",
)
ConnectorCapability = str
CONNECTOR_CAPABILITIES = ("ISO_15118_2_PLUG_AND_CHARGE", "ISO_15118_20_PLUG_AND_CHARGE")
Facility = str
FACILITIES = (
    "HOTEL",
    "RESTAURANT",
    "CAFE",
    "MALL",
    "SUPERMARKET",
    "SPORT",
    "RECREATION_AREA",
    "NATURE",
    "MUSEUM",
    "BIKE_SHARING",
    "BUS_STOP",
    "TAXI_STAND",
    "TRAM_STOP",
    "METRO_STATION",
    "TRAIN_STATION",
    "AIRPORT",
    "PARKING_LOT",
    "CARPOOL_PARKING",
    "FUEL_STATION",
    "WIFI",
)
ParkingType = str
PARKING_TYPES = (
    "ALONG_MOTORWAY", "PARKING_GARAGE", "PARKING_LOT", "ON_DRIVEWAY", "ON_STREET", "UNDERGROUND_GARAGE"
)
ParkingRestriction = str
PARKING_RESTRICTIONS = (
    "EV_ONLY", "PLUGGED", "DISABLED", "CUSTOMERS", "MOTORCYCLES", "EMPLOYEES", "TAXIS", "TENANTS"
)
VehicleType = str
VEHICLE_TYPES = (
    "MOTORCYCLE",
    "PERSONAL_VEHICLE",
    "PERSONAL_VEHICLE_WITH_TRAILER",
    "VAN",
    "SEMI_TRACTOR",
    "RIGID",
    "TRUCK_WITH_TRAILER",
    "BUS",
    "DISABLED",
)
# Closed enums new in 2.3.0.
EVSEPosition = Literal["LEFT", "RIGHT", "CENTER"]
ParkingDirection = Literal["PARALLEL", "PERPENDICULAR", "ANGLE"]


class PublishTokenType(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_locations, PublishTokenType class: a token allowed to see an unpublished Location.

    The spec asks for at least one of ``uid``, ``visual_number``, ``group_id``; callers check that.
    """

    uid: CiString(36) | None = None
    type: TokenType | None = None
    visual_number: String(64) | None = None
    issuer: String(64) | None = None
    group_id: CiString(36) | None = None


class StatusSchedule(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_locations, StatusSchedule class: a planned EVSE status, informational only."""

    period_begin: DateTime
    period_end: DateTime | None = None
    status: Status


class Parking(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_locations, Parking class: one parking place at a Location, for AFIR reporting.

    Weights are in kg, lengths in cm, ``time_limit`` in minutes; the vehicle limits "should" be given unless
    ``vehicle_types`` holds only PERSONAL_VEHICLE and MOTORCYCLE.
    """

    id: CiString(36)
    physical_reference: String(12) | None = None
    vehicle_types: Annotated[list[VehicleType], msgspec.Meta(min_length=1)]
    max_vehicle_weight: float | None = None
    max_vehicle_height: float | None = None
    max_vehicle_length: float | None = None
    max_vehicle_width: float | None = None
    parking_space_length: float | None = None
    parking_space_width: float | None = None
    dangerous_goods_allowed: bool | None = None
    direction: ParkingDirection | None = None
    drive_through: bool | None = None
    restricted_to_type: bool
    reservation_required: bool
    time_limit: float | None = None
    roofed: bool | None = None
    images: list[Image] | None = None
    lighting: bool | None = None
    refrigeration_outlet: bool | None = None
    standards: list[CiString(36)] | None = None
    apds_reference: UnboundedCiString | None = None


class EVSEParking(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_locations, EVSEParking class: a Parking place an EVSE serves, and on which side."""

    parking_id: CiString(36)
    evse_position: EVSEPosition | None = None


class Connector(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_locations, Connector object: a socket or cable on an EVSE, without a status."""

    id: CiString(36)
    standard: ConnectorType
    format: ConnectorFormat
    power_type: PowerType
    max_voltage: int
    max_amperage: int
    max_electric_power: int | None = None
    tariff_ids: list[CiString(36)] | None = None
    terms_and_conditions: URL | None = None
    capabilities: list[ConnectorCapability] | None = None
    last_updated: DateTime


class EVSE(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_locations, EVSE object: one charging point that charges one EV at a time."""

    uid: CiString(36)
    evse_id: CiString(48) | None = None
    status: Status
    status_schedule: list[StatusSchedule] | None = None
    capabilities: list[Capability] | None = None
    connectors: Annotated[list[Connector], msgspec.Meta(min_length=1)]
    floor_level: String(4) | None = None
    coordinates: GeoLocation | None = None
    physical_reference: String(16) | None = None
    directions: list[DisplayText] | None = None
    parking_restrictions: list[ParkingRestriction] | None = None
    parking: list[EVSEParking] | None = None
    images: list[Image] | None = None
    accepted_service_providers: list[String(50)] | None = None
    last_updated: DateTime


class Location(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_locations, Location object: a charging site with its EVSEs."""

    country_code: CiString(2)
    party_id: CiString(3)
    id: CiString(36)
    publish: bool
    publish_allowed_to: list[PublishTokenType] | None = None
    name: String(255) | None = None
    address: String(255)
    city: String(45)
    postal_code: String(10) | None = None
    state: String(45) | None = None
    country: String(3)
    coordinates: GeoLocation
    related_locations: list[AdditionalGeoLocation] | None = None
    parking_type: ParkingType | None = None
    evses: list[EVSE] | None = None
    directions: list[DisplayText] | None = None
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[Facility] | None = None
    time_zone: String(255)
    opening_times: Hours | None = None
    charging_when_closed: bool | None = None
    images: list[Image] | None = None
    energy_mix: EnergyMix | None = None
    parking_places: list[Parking] | None = None
    help_phone: CiString(25) | None = None
    last_updated: DateTime
