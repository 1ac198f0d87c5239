"""OCPI 2.3.0 Sessions module objects (mod_sessions.asciidoc), plus the CDR parts a Session carries.

``CdrToken``, ``ChargingPeriod``, ``CdrDimension`` and ``AuthMethod`` are defined in mod_cdrs but used
first by a Session, so they live here and ``cdrs`` imports them.

Energy (``kwh``, ``CdrDimension.volume``) is ``float`` on the wire; the pricing engine works in ``Decimal``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from ..primitives import CiString, DateTime, OcpiObject, String
from .types import Price, ProfileType, TokenType

__all__ = [
    "AuthMethod",
    "CdrDimension",
    "CdrDimensionType",
    "CdrToken",
    "ChargingPeriod",
    "ChargingPreferences",
    "ChargingPreferencesResponse",
    "Session",
    "SessionStatus",
]

SessionStatus = Literal["ACTIVE", "COMPLETED", "INVALID", "PENDING", "RESERVATION"]
ChargingPreferencesResponse = Literal[
    "ACCEPTED", "DEPARTURE_REQUIRED", "ENERGY_NEED_REQUIRED", "NOT_POSSIBLE", "PROFILE_TYPE_NOT_SUPPORTED"
]
AuthMethod = Literal["AUTH_REQUEST", "COMMAND", "WHITELIST"]
# CURRENT, ENERGY_EXPORT, ENERGY_IMPORT, POWER and STATE_OF_CHARGE are Session-only: not allowed in a CDR.
CdrDimensionType = Literal[
    "CURRENT",
    "ENERGY",
    "ENERGY_EXPORT",
    "ENERGY_IMPORT",
    "MAX_CURRENT",
    "MIN_CURRENT",
    "MAX_POWER",
    "MIN_POWER",
    "PARKING_TIME",
    "POWER",
    "RESERVATION_TIME",
    "STATE_OF_CHARGE",
    "TIME",
]


class CdrToken(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_cdrs, CdrToken class: the token that started a Session or CDR, with its eMSP."""

    country_code: CiString(2)
    party_id: CiString(3)
    uid: CiString(36)
    type: TokenType
    contract_id: CiString(36)


class CdrDimension(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_cdrs, CdrDimension class: one quantity measured in a charging period.

    ``volume`` is ``float`` on the wire.
    """

    type: CdrDimensionType
    volume: float


class ChargingPeriod(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_cdrs, ChargingPeriod class: a period with constant dimensions and tariff."""

    start_date_time: DateTime
    dimensions: Annotated[list[CdrDimension], msgspec.Meta(min_length=1)]
    tariff_id: CiString(36) | None = None


class ChargingPreferences(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_sessions, ChargingPreferences object: the driver's wishes for a session."""

    profile_type: ProfileType
    departure_time: DateTime | None = None
    energy_need: float | None = None
    discharge_allowed: bool | None = None


class Session(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_sessions, Session object: a charging session, live while it lasts.

    ``kwh`` and ``total_cost`` amounts are ``float`` on the wire.
    """

    country_code: CiString(2)
    party_id: CiString(3)
    id: CiString(36)
    start_date_time: DateTime
    end_date_time: DateTime | None = None
    kwh: float
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: CiString(36) | None = None
    location_id: CiString(36)
    evse_uid: CiString(36)
    connector_id: CiString(36)
    meter_id: String(255) | None = None
    currency: String(3)
    charging_periods: list[ChargingPeriod] | None = None
    total_cost: Price | None = None
    status: SessionStatus
    last_updated: DateTime
