"""OCPI 2.3.0 ChargingProfiles module objects (mod_charging_profiles.asciidoc).

Limits and rates are ``float`` on the wire (A per phase or W, at most one decimal per the spec).
"""

from __future__ import annotations

from typing import Literal

from ..primitives import URL, DateTime, OcpiObject

__all__ = [
    "ActiveChargingProfile",
    "ActiveChargingProfileResult",
    "ChargingProfile",
    "ChargingProfilePeriod",
    "ChargingProfileResponse",
    "ChargingProfileResponseType",
    "ChargingProfileResult",
    "ChargingProfileResultType",
    "ChargingRateUnit",
    "ClearProfileResult",
    "SetChargingProfile",
]

ChargingRateUnit = Literal["W", "A"]
ChargingProfileResponseType = Literal["ACCEPTED", "NOT_SUPPORTED", "REJECTED", "TOO_OFTEN", "UNKNOWN_SESSION"]
ChargingProfileResultType = Literal["ACCEPTED", "REJECTED", "UNKNOWN"]


class ChargingProfilePeriod(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_charging_profiles, ChargingProfilePeriod class: a limit from start_period seconds on."""

    start_period: int
    limit: float


class ChargingProfile(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_charging_profiles, ChargingProfile class: a power or current limit schedule.

    Without ``start_date_time`` the periods are relative to the start of charging; ``duration`` is in seconds.
    """

    start_date_time: DateTime | None = None
    duration: int | None = None
    charging_rate_unit: ChargingRateUnit
    min_charging_rate: float | None = None
    charging_profile_period: list[ChargingProfilePeriod] | None = None


class ActiveChargingProfile(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_charging_profiles, ActiveChargingProfile object: the profile in effect."""

    start_date_time: DateTime
    charging_profile: ChargingProfile


class SetChargingProfile(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_charging_profiles, SetChargingProfile object: set a charging profile on a session."""

    charging_profile: ChargingProfile
    response_url: URL


class ChargingProfileResponse(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_charging_profiles, ChargingProfileResponse object: the CPO's immediate answer."""

    result: ChargingProfileResponseType
    timeout: int


class ActiveChargingProfileResult(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_charging_profiles, ActiveChargingProfileResult object: async answer to a GET.

    ``profile`` is present when ``result`` is ACCEPTED.
    """

    result: ChargingProfileResultType
    profile: ActiveChargingProfile | None = None


class ChargingProfileResult(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_charging_profiles, ChargingProfileResult object: async answer to a PUT."""

    result: ChargingProfileResultType


class ClearProfileResult(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_charging_profiles, ClearProfileResult object: async answer to a DELETE."""

    result: ChargingProfileResultType
