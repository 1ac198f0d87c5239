"""Write OCPP 2.0.1 charging profiles as OCPP 1.6 ones, for the chargers that speak 1.6.

The management API and the OCPI module speak the 2.0.1 ChargingProfileType (OCPP 2.0.1 Part 2 K01); a 1.6
charger takes ``csChargingProfiles`` (OCPP 1.6 §7.13). The differences: 1.6 calls the station cap
ChargePointMaxProfile and has no ChargingStationExternalConstraints, carries exactly one schedule without an
``id``, has no ``phaseToUse`` or ``salesTariff``, and numbers transactions with integers.
"""

from __future__ import annotations

import msgspec

from ..domain.charger_commands import ProfileNotExpressible
from ..ocpp.v16.datatypes import ChargingProfile as ChargingProfile16
from ..ocpp.v201.datatypes import ChargingProfileType

__all__ = ["profile_201", "profile_16", "purpose_16"]

_PURPOSES_16 = {"ChargingStationMaxProfile": "ChargePointMaxProfile", "TxDefaultProfile": "TxDefaultProfile",
                "TxProfile": "TxProfile"}


def profile_201(profile: dict) -> ChargingProfileType:
    """Read a 2.0.1 ChargingProfileType dict (camelCase, as on the wire); raise ProfileNotExpressible if invalid."""
    try:
        return msgspec.convert(profile, ChargingProfileType)
    except msgspec.ValidationError as exc:
        raise ProfileNotExpressible(f"invalid chargingProfile: {exc}") from None


def purpose_16(purpose: str) -> str:
    """Name a 2.0.1 ChargingProfilePurpose as 1.6 does."""
    try:
        return _PURPOSES_16[purpose]
    except KeyError:
        raise ProfileNotExpressible(f"OCPP 1.6 has no charging profile purpose {purpose}; use "
                                    f"{', '.join(_PURPOSES_16)}") from None


def profile_16(profile: ChargingProfileType) -> ChargingProfile16:
    """Translate ``profile`` to the 1.6 ChargingProfile, or say what has no 1.6 equivalent."""
    if len(profile.charging_schedule) != 1:
        raise ProfileNotExpressible("an OCPP 1.6 charging profile carries exactly one chargingSchedule")
    schedule = profile.charging_schedule[0]
    if any(p.phase_to_use is not None for p in schedule.charging_schedule_period):
        raise ProfileNotExpressible("phaseToUse has no OCPP 1.6 equivalent; leave it out for a 1.6 charger")
    transaction_id = None
    if profile.transaction_id is not None:
        if not profile.transaction_id.isdigit():
            raise ProfileNotExpressible(f"transactionId {profile.transaction_id!r} is not an OCPP 1.6 integer "
                                        "transaction id")
        transaction_id = int(profile.transaction_id)
    wire = {
        "chargingProfileId": profile.id, "stackLevel": profile.stack_level,
        "chargingProfilePurpose": purpose_16(str(profile.charging_profile_purpose)),
        "chargingProfileKind": str(profile.charging_profile_kind),
        "recurrencyKind": None if profile.recurrency_kind is None else str(profile.recurrency_kind),
        "validFrom": profile.valid_from, "validTo": profile.valid_to, "transactionId": transaction_id,
        "chargingSchedule": {
            "duration": schedule.duration, "startSchedule": schedule.start_schedule,
            "chargingRateUnit": str(schedule.charging_rate_unit),
            "minChargingRate": schedule.min_charging_rate,
            "chargingSchedulePeriod": [{"startPeriod": p.start_period, "limit": p.limit,
                                        "numberPhases": p.number_phases}
                                       for p in schedule.charging_schedule_period]},
    }
    return msgspec.convert(_without_none(wire), ChargingProfile16)


def _without_none(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value
