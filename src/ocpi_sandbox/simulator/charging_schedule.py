"""Model charging profiles and combine them into the composite schedule of an EVSE.

The model is version-neutral and shaped like OCPP 2.0.1 ``ChargingProfileType`` (OCPP 2.0.1 Part 2 K01
SetChargingProfile); ``msgspec`` decodes the 2.0.1 wire dicts straight into it. The evaluation follows
OCPP 1.6 §3.13 Smart Charging and OCPP 2.0.1 Part 2 K08 Get Composite Schedule:

- within one purpose, the active profile with the highest ``stackLevel`` wins;
- a TxProfile overrides the TxDefaultProfile for its transaction;
- the limit is the minimum of that, ChargingStationMaxProfile, ChargingStationExternalConstraints and
  the hardware rating, every one converted to the asked unit with the phases actually in use.

Sans-I/O: no clock, no sockets; times come in as timezone-aware ``datetime`` values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import msgspec

__all__ = [
    "ChargingRateUnit",
    "ChargingProfilePurpose",
    "ChargingProfileKind",
    "RecurrencyKind",
    "ChargingSchedulePeriod",
    "ChargingSchedule",
    "ChargingProfile",
    "ElectricalSupply",
    "ChargingLimit",
    "CompositeSchedule",
    "convert_limit",
    "active_period",
    "counts_from_charging_start",
    "next_change_after",
    "governing_periods",
    "composite_limit_at",
    "composite_schedule",
]

# OCPP 2.0.1 K01 ChargingSchedulePeriodType: "numberPhases=3 will be assumed unless another number is given".
DEFAULT_NUMBER_PHASES = 3

_Seconds = Annotated[int, msgspec.Meta(ge=0)]
_Rate = Annotated[float, msgspec.Meta(ge=0)]
_Phases = Annotated[int, msgspec.Meta(ge=1, le=3)]


class ChargingRateUnit(StrEnum):
    """Name the unit of a limit: ``A`` is current per phase, ``W`` total power (1.6 ChargingRateUnitType)."""

    A = "A"
    W = "W"


class ChargingProfilePurpose(StrEnum):
    """Name what a profile limits (OCPP 2.0.1 ChargingProfilePurposeEnumType; 1.6 ChargePointMaxProfile)."""

    CHARGING_STATION_MAX_PROFILE = "ChargingStationMaxProfile"
    TX_DEFAULT_PROFILE = "TxDefaultProfile"
    TX_PROFILE = "TxProfile"
    CHARGING_STATION_EXTERNAL_CONSTRAINTS = "ChargingStationExternalConstraints"


class ChargingProfileKind(StrEnum):
    """Name what a schedule's periods count from (OCPP 2.0.1 ChargingProfileKindEnumType)."""

    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class RecurrencyKind(StrEnum):
    """Name how often a Recurring schedule restarts (OCPP 2.0.1 RecurrencyKindEnumType)."""

    DAILY = "Daily"
    WEEKLY = "Weekly"


_RECURRENCE = {RecurrencyKind.DAILY: timedelta(days=1), RecurrencyKind.WEEKLY: timedelta(weeks=1)}


class ChargingSchedulePeriod(
    msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, rename="camel"
):
    """Limit the rate from ``start_period`` seconds into the schedule until the next period starts."""

    start_period: _Seconds
    limit: _Rate
    number_phases: _Phases | None = None
    phase_to_use: _Phases | None = None


class ChargingSchedule(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    omit_defaults=True,
    rename={
        "charging_rate_unit": "chargingRateUnit",
        "periods": "chargingSchedulePeriod",
        "start_schedule": "startSchedule",
        "min_charging_rate": "minChargingRate",
    },
):
    """Hold the periods of one schedule (OCPP 2.0.1 ChargingScheduleType; salesTariff is not kept)."""

    charging_rate_unit: ChargingRateUnit
    periods: Annotated[tuple[ChargingSchedulePeriod, ...], msgspec.Meta(min_length=1, max_length=1024)]
    id: int | None = None  # required on the 2.0.1 wire, absent in 1.6
    start_schedule: datetime | None = None
    duration: _Seconds | None = None  # absent: the last period lasts until replaced (or the transaction ends)
    min_charging_rate: _Rate | None = None


class ChargingProfile(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    omit_defaults=True,
    rename={
        "stack_level": "stackLevel",
        "purpose": "chargingProfilePurpose",
        "kind": "chargingProfileKind",
        "recurrency": "recurrencyKind",
        "valid_from": "validFrom",
        "valid_to": "validTo",
        "transaction_id": "transactionId",
        "schedules": "chargingSchedule",
        "evse_id": "evseId",
    },
):
    """Describe one installed charging profile (OCPP 2.0.1 ChargingProfileType plus the EVSE it is set on).

    ``evse_id`` 0 is the whole station (1.6 connectorId 0). ``transaction_id`` is a string in both versions
    (1.6 integers are kept as their decimal text). With several schedules (ISO 15118 offers, 2.0.1 only) the
    first one is the one evaluated.
    """

    id: int
    stack_level: Annotated[int, msgspec.Meta(ge=0)]
    purpose: ChargingProfilePurpose
    kind: ChargingProfileKind
    schedules: Annotated[tuple[ChargingSchedule, ...], msgspec.Meta(min_length=1, max_length=3)]
    evse_id: Annotated[int, msgspec.Meta(ge=0)] = 0
    recurrency: RecurrencyKind | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: Annotated[str, msgspec.Meta(max_length=36)] | None = None


class ElectricalSupply(msgspec.Struct, frozen=True, kw_only=True):
    """Describe what the hardware behind an EVSE (or the whole station) can deliver.

    ``max_current`` is per phase in A; ``voltage`` is the nominal phase-to-neutral voltage used to convert
    between A and W (OCPP 1.6 §3.13 Smart Charging: 230 V or 110 V on AC). For DC, give ``phases=1`` and
    the DC voltage.
    """

    max_current: Annotated[float, msgspec.Meta(ge=0)]
    phases: _Phases = 3
    voltage: Annotated[float, msgspec.Meta(gt=0)] = 230.0


class ChargingLimit(msgspec.Struct, frozen=True, kw_only=True):
    """Give the effective limit at one instant, in ``unit`` over ``number_phases`` phases."""

    limit: float
    unit: ChargingRateUnit
    number_phases: int


class CompositeSchedule(msgspec.Struct, frozen=True, kw_only=True):
    """Hold a GetCompositeSchedule answer: periods counted from ``schedule_start`` over ``duration`` s."""

    evse_id: int
    schedule_start: datetime
    duration: int
    charging_rate_unit: ChargingRateUnit
    periods: tuple[ChargingSchedulePeriod, ...]

    def _wire_periods(self) -> list[dict[str, Any]]:
        return [
            {"startPeriod": p.start_period, "limit": p.limit, "numberPhases": p.number_phases}
            for p in self.periods
        ]

    def to_ocpp16(self) -> dict[str, Any]:
        """Return the OCPP 1.6 GetCompositeSchedule.conf payload (status Accepted)."""
        start = msgspec.to_builtins(self.schedule_start)
        return {
            "status": "Accepted",
            "connectorId": self.evse_id,
            "scheduleStart": start,
            "chargingSchedule": {
                "duration": self.duration,
                "startSchedule": start,
                "chargingRateUnit": str(self.charging_rate_unit),
                "chargingSchedulePeriod": self._wire_periods(),
            },
        }

    def to_ocpp201(self) -> dict[str, Any]:
        """Return the OCPP 2.0.1 GetCompositeScheduleResponse payload (status Accepted)."""
        return {
            "status": "Accepted",
            "schedule": {
                "evseId": self.evse_id,
                "duration": self.duration,
                "scheduleStart": msgspec.to_builtins(self.schedule_start),
                "chargingRateUnit": str(self.charging_rate_unit),
                "chargingSchedulePeriod": self._wire_periods(),
            },
        }


def convert_limit(
    limit: float, from_unit: ChargingRateUnit, to_unit: ChargingRateUnit, *, voltage: float, phases: int
) -> float:
    """Convert a limit between current per phase and total power (OCPP 1.6 §3.13, P = U × I × phases)."""
    if from_unit == to_unit:
        return limit
    if to_unit == ChargingRateUnit.W:
        return limit * voltage * phases
    return limit / (voltage * phases)


def _occurrences(
    profile: ChargingProfile, start: datetime, end: datetime, charging_start: datetime | None
) -> Iterator[tuple[datetime, datetime | None]]:
    """Yield ``(anchor, stop)`` of each run of the first schedule that can matter within ``[start, end]``."""
    schedule = profile.schedules[0]
    duration = None if schedule.duration is None else timedelta(seconds=schedule.duration)
    if profile.kind == ChargingProfileKind.RECURRING:
        if schedule.start_schedule is None or profile.recurrency is None:
            return
        every = _RECURRENCE[profile.recurrency]
        # A run never outlasts its recurrence: the next run restarts at the first period.
        span = every if duration is None else min(duration, every)
        k = max(0, (start - schedule.start_schedule) // every)
        while (anchor := schedule.start_schedule + k * every) <= end:
            yield anchor, anchor + span
            k += 1
        return
    if profile.kind == ChargingProfileKind.ABSOLUTE and schedule.start_schedule is not None:
        anchor: datetime | None = schedule.start_schedule
    else:
        # Relative, and a 1.6 Absolute without startSchedule ("relative to start of charging").
        anchor = charging_start
    if anchor is not None:
        yield anchor, None if duration is None else anchor + duration


def _is_valid_at(profile: ChargingProfile, at: datetime) -> bool:
    return (profile.valid_from is None or profile.valid_from <= at) and (
        profile.valid_to is None or at < profile.valid_to
    )


def active_period(
    profile: ChargingProfile, at: datetime, *, charging_start: datetime | None
) -> ChargingSchedulePeriod | None:
    """Return the period of ``profile`` in force at ``at``, or None when the profile is not active then.

    Active means valid (validFrom ≤ at < validTo) and inside a run of the schedule (before its duration
    ends). Relative schedules count from ``charging_start``; without it they are not active.
    """
    if not _is_valid_at(profile, at):
        return None
    for anchor, stop in _occurrences(profile, at, at, charging_start):
        if anchor <= at and (stop is None or at < stop):
            elapsed = (at - anchor).total_seconds()
            current = None
            for period in profile.schedules[0].periods:
                if period.start_period > elapsed:
                    break
                current = period
            return current
    return None


def _change_times(
    profile: ChargingProfile, start: datetime, end: datetime, charging_start: datetime | None
) -> set[datetime]:
    """Return the instants in ``[start, end)`` at which ``profile`` may start, stop or change its limit."""
    times = {t for t in (profile.valid_from, profile.valid_to) if t is not None}
    for anchor, stop in _occurrences(profile, start, end, charging_start):
        times.update(anchor + timedelta(seconds=p.start_period) for p in profile.schedules[0].periods)
        if stop is not None:
            times.add(stop)
    return {t for t in times if start <= t < end}


def counts_from_charging_start(profile: ChargingProfile) -> bool:
    """Whether ``profile``'s schedule runs from the start of charging (Relative, or a 1.6 Absolute without
    startSchedule) rather than from a date."""
    return profile.kind == ChargingProfileKind.RELATIVE or (
        profile.kind == ChargingProfileKind.ABSOLUTE and profile.schedules[0].start_schedule is None
    )


_LOOKAHEAD = timedelta(days=1)


def next_change_after(
    profiles: Sequence[ChargingProfile], at: datetime, charging_start: datetime | None
) -> datetime | None:
    """Return the first instant after ``at`` at which any of ``profiles`` may start, stop or change its limit:
    until then a limit computed at ``at`` holds. None when nothing can ever change (no profiles); at most a day
    ahead otherwise (a recurring schedule is looked at one day at a time)."""
    if not profiles:
        return None
    end = at + _LOOKAHEAD
    later = [t for p in profiles for t in _change_times(p, at, end, charging_start) if t > at]
    return min(later, default=end)


def _winner(
    profiles: Iterable[ChargingProfile], at: datetime, charging_start: datetime | None
) -> tuple[ChargingProfile, ChargingSchedulePeriod] | None:
    """Pick the active profile with the highest stack level (OCPP 1.6 §3.13.2 Stacking charging profiles)."""
    best: tuple[ChargingProfile, ChargingSchedulePeriod] | None = None
    for profile in profiles:
        period = active_period(profile, at, charging_start=charging_start)
        if period is None:
            continue
        # On a tie, a profile set on the EVSE beats one set on the station: a TxDefaultProfile on
        # connector N replaces the connector-0 one for N (OCPP 1.6 §3.13.1). 2.0.1 forbids such ties.
        if best is None or (profile.stack_level, profile.evse_id) > (best[0].stack_level, best[0].evse_id):
            best = (profile, period)
    return best


def governing_periods(
    profiles: Iterable[ChargingProfile],
    evse_id: int,
    at: datetime,
    *,
    transaction_id: str | None = None,
    charging_start: datetime | None = None,
) -> list[tuple[ChargingProfile, ChargingSchedulePeriod]]:
    """Return the profiles that limit ``evse_id`` at ``at``, each with its period in force.

    OCPP 2.0.1 Part 2 K08: the winners of ChargingStationMaxProfile and ChargingStationExternalConstraints
    (station-wide, and for an EVSE also its own), and the TxProfile of ``transaction_id`` or, when none is
    active, the TxDefaultProfile (EVSE-specific or station-wide). For ``evse_id`` 0 (the grid connection)
    only the station-wide caps apply.
    """
    by_purpose: dict[tuple[ChargingProfilePurpose, bool], list[ChargingProfile]] = {}
    for profile in profiles:
        if profile.evse_id in (0, evse_id):
            by_purpose.setdefault((profile.purpose, profile.evse_id == 0), []).append(profile)

    def winner(purpose: ChargingProfilePurpose, *, station: bool, own: bool) -> list[Any]:
        candidates = (by_purpose.get((purpose, True), []) if station else []) + (
            by_purpose.get((purpose, False), []) if own else []
        )
        found = _winner(candidates, at, charging_start)
        return [] if found is None else [found]

    external = ChargingProfilePurpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS
    governing = winner(ChargingProfilePurpose.CHARGING_STATION_MAX_PROFILE, station=True, own=False)
    governing += winner(external, station=True, own=False)
    if evse_id == 0:
        return governing
    # External constraints on the station and on the EVSE are separate limits: both cap.
    governing += winner(external, station=False, own=True)
    tx = [
        p
        for p in by_purpose.get((ChargingProfilePurpose.TX_PROFILE, False), [])
        if transaction_id is not None and p.transaction_id == transaction_id
    ]
    found = _winner(tx, at, charging_start)
    if found is not None:
        return [*governing, found]
    return governing + winner(ChargingProfilePurpose.TX_DEFAULT_PROFILE, station=True, own=True)


def composite_limit_at(
    profiles: Iterable[ChargingProfile],
    evse_id: int,
    at: datetime,
    unit: ChargingRateUnit,
    supply: ElectricalSupply,
    *,
    transaction_id: str | None = None,
    charging_start: datetime | None = None,
) -> ChargingLimit:
    """Return the effective limit of ``evse_id`` at ``at``: the least governing limit, supply included.

    The phases in use are the fewest any governing period allows (and the supply has), and every limit is
    converted to ``unit`` over those phases, so A and W limits combine (OCPP 2.0.1 Part 2 K08).
    """
    governing = governing_periods(
        profiles, evse_id, at, transaction_id=transaction_id, charging_start=charging_start
    )
    phases = min(
        [supply.phases] + [p.number_phases or DEFAULT_NUMBER_PHASES for _, p in governing]
    )
    rated = [(ChargingRateUnit.A, supply.max_current)]
    rated += [(profile.schedules[0].charging_rate_unit, p.limit) for profile, p in governing]
    limits = [convert_limit(v, u, unit, voltage=supply.voltage, phases=phases) for u, v in rated]
    return ChargingLimit(limit=min(limits), unit=unit, number_phases=phases)


def _floor_tenth(value: float) -> float:
    """Round down to one decimal, as the wire allows (1.6 multipleOf 0.1), without ever rounding up."""
    # The epsilon keeps 15.999999999 (float noise from W -> A -> W) at 16.0 instead of 15.9.
    return math.floor(value * 10 + 1e-6) / 10


def composite_schedule(
    profiles: Sequence[ChargingProfile],
    evse_id: int,
    start: datetime,
    duration_s: int,
    unit: ChargingRateUnit,
    supply: ElectricalSupply,
    *,
    transaction_id: str | None = None,
    charging_start: datetime | None = None,
) -> CompositeSchedule:
    """Compute the composite schedule of ``evse_id`` over ``[start, start + duration_s)``.

    OCPP 2.0.1 Part 2 K08 Get Composite Schedule (1.6 §5.7): one period wherever the limit or the phases
    change, equal neighbours merged, limits rounded down to one decimal. The resolution is one second:
    ``start`` is truncated to the second and changes inside a second take effect at the next one.
    Relative schedules count from ``charging_start``, or from ``start`` when there is none.
    """
    if duration_s < 0:
        raise ValueError(f"duration must be 0 or more seconds, got {duration_s}")
    start = start.replace(microsecond=0)
    end = start + timedelta(seconds=duration_s)
    anchor = charging_start if charging_start is not None else start
    relevant = [p for p in profiles if p.evse_id in (0, evse_id)]
    offsets = {0}
    for profile in relevant:
        changes = _change_times(profile, start, end, anchor)
        offsets.update(math.ceil((t - start).total_seconds()) for t in changes)
    periods: list[ChargingSchedulePeriod] = []
    for offset in sorted(o for o in offsets if o < max(duration_s, 1)):
        found = composite_limit_at(
            relevant,
            evse_id,
            start + timedelta(seconds=offset),
            unit,
            supply,
            transaction_id=transaction_id,
            charging_start=anchor,
        )
        limit = _floor_tenth(found.limit)
        if periods and (periods[-1].limit, periods[-1].number_phases) == (limit, found.number_phases):
            continue
        periods.append(
            ChargingSchedulePeriod(start_period=offset, limit=limit, number_phases=found.number_phases)
        )
    return CompositeSchedule(
        evse_id=evse_id,
        schedule_start=start,
        duration=duration_s,
        charging_rate_unit=unit,
        periods=tuple(periods),
    )
