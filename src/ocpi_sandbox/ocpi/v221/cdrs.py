"""OCPI 2.2.1 CDRs module objects (mod_cdrs.asciidoc): CDR, CdrLocation, SignedData, SignedValue.

``CdrToken``, ``ChargingPeriod``, ``CdrDimension`` and ``AuthMethod`` (also mod_cdrs) live in ``sessions``.
Money, energy and time totals are ``float`` on the wire; the pricing engine works in ``Decimal``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from ..primitives import CiString, DateTime, OcpiObject, String
from .sessions import AuthMethod, CdrToken, ChargingPeriod
from .tariffs import Tariff
from .types import ConnectorFormat, ConnectorType, GeoLocation, PowerType, Price

__all__ = ["CDR", "CdrLocation", "SignedData", "SignedValue"]


class CdrLocation(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_cdrs, CdrLocation class: the Location, EVSE and Connector of a CDR.

    Note the shorter ``address`` (45) and ``state`` (20) than in Location: copy deliberately.
    ``evse_uid``, ``evse_id`` and ``connector_id`` may be ``#NA`` for a reservation without a session.
    """

    id: CiString(36)
    name: String(255) | None = None
    address: String(45)
    city: String(45)
    postal_code: String(10) | None = None
    state: String(20) | None = None
    country: String(3)
    coordinates: GeoLocation
    evse_uid: CiString(36)
    evse_id: CiString(48)
    connector_id: CiString(36)
    connector_standard: ConnectorType
    connector_format: ConnectorFormat
    connector_power_type: PowerType


class SignedValue(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_cdrs, SignedValue class: one signed meter value, e.g. the start reading."""

    nature: CiString(32)
    plain_data: String(5000)
    signed_data: String(5000)


class SignedData(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_cdrs, SignedData class: calibration-law signed meter data for a CDR."""

    encoding_method: CiString(36)
    encoding_method_version: int | None = None
    public_key: String(512) | None = None
    signed_values: Annotated[list[SignedValue], msgspec.Meta(min_length=1)]
    url: String(512) | None = None


class CDR(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_cdrs, CDR object: the immutable bill of one charging session.

    ``id`` allows 39 characters so that a credit CDR can carry a suffix; ``total_energy`` is in kWh and
    ``total_time`` / ``total_parking_time`` in hours.
    """

    country_code: CiString(2)
    party_id: CiString(3)
    id: CiString(39)
    start_date_time: DateTime
    end_date_time: DateTime
    session_id: CiString(36) | None = None
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: CiString(36) | None = None
    cdr_location: CdrLocation
    meter_id: String(255) | None = None
    currency: String(3)
    tariffs: list[Tariff] | None = None
    charging_periods: Annotated[list[ChargingPeriod], msgspec.Meta(min_length=1)]
    signed_data: SignedData | None = None
    total_cost: Price
    total_fixed_cost: Price | None = None
    total_energy: float
    total_energy_cost: Price | None = None
    total_time: float
    total_time_cost: Price | None = None
    total_parking_time: float | None = None
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None
    remark: String(255) | None = None
    invoice_reference_id: CiString(39) | None = None
    credit: bool | None = None
    credit_reference_id: CiString(39) | None = None
    home_charging_compensation: bool | None = None
    last_updated: DateTime
