"""Turn a power limit on a station, an EVSE or a transaction into the OCPP 2.0.1 charging profile that sets it.

The charger operations API takes limits the way fleet and energy teams think of them (``acMaxPowerA``,
``acMaxPowerKw``, ``dcMaxPowerKw``); chargers take charging profiles (OCPP 2.0.1 Part 2 K01, 1.6 §3.13):

- station: ChargingStationMaxProfile on EVSE 0. It caps the grid connection; the station shares it among its
  running sessions.
- EVSE: TxDefaultProfile on the EVSE, the default of every transaction there (a transaction's own TxProfile
  overrides it, as OCPP says).
- session: TxProfile with the transactionId, for that transaction only; the charger drops it when it ends.

Without ``chargingProfileId`` a limit gets an id from a fixed range, one per target, EVSE and stack level, so
setting it again replaces it and removing it needs no bookkeeping: ``900000`` + 10000 × kind (0 station, 1
EVSE, 2 session, 3 OCPI profile of an eMSP) + 100 × stackLevel + EVSE id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from .errors import InvalidInput

__all__ = ["Target", "LimitValue", "PROFILE_ID_BASE", "limit_profile_id", "ocpi_profile_id", "read_limit",
           "power_limit_profile"]

Target = Literal["station", "evse", "session"]
PROFILE_ID_BASE = 900_000
_KIND = {"station": 0, "evse": 1, "session": 2, "ocpi": 3}
_PURPOSE = {"station": "ChargingStationMaxProfile", "evse": "TxDefaultProfile", "session": "TxProfile"}


class LimitValue(msgspec.Struct, frozen=True, kw_only=True):
    """One limit in OCPP terms: ``unit`` A (per phase) or W (total), and its value (one decimal)."""

    unit: Literal["A", "W"]
    value: float
    dc: bool


def limit_profile_id(target: Target, stack_level: int, evse_id: int) -> int:
    """The default chargingProfileId of a power limit (see the module docstring)."""
    return PROFILE_ID_BASE + 10_000 * _KIND[target] + 100 * stack_level + evse_id


def ocpi_profile_id(evse_id: int) -> int:
    """The chargingProfileId under which an eMSP's OCPI charging profile is set on an EVSE."""
    return PROFILE_ID_BASE + 10_000 * _KIND["ocpi"] + evse_id


def read_limit(ac_max_power_a: float | None, ac_max_power_kw: float | None, dc_max_power_kw: float | None, *,
               has_ac: bool, has_dc: bool) -> LimitValue:
    """Pick the one limit given and check it fits the charger's power type; raise InvalidInput if not."""
    given = {name: value for name, value in (("acMaxPowerA", ac_max_power_a), ("acMaxPowerKw", ac_max_power_kw),
                                             ("dcMaxPowerKw", dc_max_power_kw)) if value is not None}
    if len(given) != 1:
        raise InvalidInput("give exactly one of limit.acMaxPowerA, limit.acMaxPowerKw, limit.dcMaxPowerKw "
                           f"(got {', '.join(given) or 'none'}); a charging profile has one unit")
    name, value = next(iter(given.items()))
    dc = name == "dcMaxPowerKw"
    if dc and not has_dc:
        raise InvalidInput("this charger has no DC outlet here; use limit.acMaxPowerKw or limit.acMaxPowerA")
    if not dc and not has_ac:
        raise InvalidInput("this charger has no AC outlet here; use limit.dcMaxPowerKw")
    if name == "acMaxPowerA":
        return LimitValue(unit="A", value=round(value, 1), dc=False)
    return LimitValue(unit="W", value=round(value * 1000, 1), dc=dc)


def power_limit_profile(target: Target, *, profile_id: int, stack_level: int, limit: LimitValue, now: datetime,
                        relative_delay: int | None = None, transaction_id: str | None = None,
                        rated: float | None = None) -> dict[str, Any]:
    """Return the 2.0.1 ChargingProfileType (camelCase dict) that sets ``limit`` on ``target``.

    Without ``relative_delay`` the limit holds from ``now`` (Absolute). With it the profile is Relative: the
    first ``relative_delay`` seconds of charging run at ``rated`` (the outlet's rating in the limit's unit),
    then the limit applies (OCPP 2.0.1 K01: Relative schedules count from the start of charging).
    """
    periods = [{"startPeriod": 0, "limit": limit.value}]
    schedule: dict[str, Any] = {"id": 1, "chargingRateUnit": limit.unit}
    if relative_delay:
        if target == "station":
            raise InvalidInput("relativeDelay applies to EVSE and session limits; a station limit "
                               "(ChargingStationMaxProfile) cannot be Relative (OCPP 2.0.1 K01.FR.38)")
        periods = [{"startPeriod": 0, "limit": round(max(rated or limit.value, limit.value), 1)},
                   {"startPeriod": relative_delay, "limit": limit.value}]
        kind = "Relative"
    else:
        kind = "Absolute"
        schedule["startSchedule"] = now.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    schedule["chargingSchedulePeriod"] = periods
    profile: dict[str, Any] = {"id": profile_id, "stackLevel": stack_level, "chargingProfilePurpose": _PURPOSE[target],
                               "chargingProfileKind": kind, "chargingSchedule": [schedule]}
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    return profile
