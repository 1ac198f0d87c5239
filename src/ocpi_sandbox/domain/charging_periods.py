"""Cut a session's meter samples into OCPI charging periods at every tariff and charging-state change.

OCPI 2.2.1 mod_cdrs, ChargingPeriod / CdrDimension, and reference ocpi.md §5.2: "A new ChargingPeriod SHALL
start at every moment a different price component becomes active" -- time-of-day, day and date boundaries in
the Location's time zone, kWh and duration thresholds, current/power thresholds, and the switch between
charging and parking.

Model of the samples: between two samples the meter's cumulative energy grows linearly, and power, current
and the charging state hold the earlier sample's value (sample-and-hold). Power and current thresholds are
therefore crossed at sample instants; kWh thresholds are interpolated inside a sample interval.

A cut is made only where the *selection* changes: the charging state, the charging limit (smart charging), or,
for any dimension, the index of the tariff element that supplies its component (:meth:`Tariff.active_components`). We evaluate the selection
at every instant where it can change, so each period is uniform, and the pricer -- which looks at a period's
start and its MIN/MAX readings -- picks the same elements the cutter saw.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal

import msgspec

from .tariffs import RestrictionContext, Tariff

__all__ = ["CdrDimensionType", "ChargingPeriod", "MeterSample", "charging_periods_from_samples"]

_MICRO = Decimal("0.000001")
_MILLI_WH = Decimal("0.001")  # interpolated meter values are kept to 1 mWh: exact, and plenty for kWh billing


class CdrDimensionType(enum.Enum):
    """What a charging-period volume measures (OCPI 2.2.1 mod_cdrs, CdrDimensionType).

    Units: ENERGY* kWh, *_CURRENT/CURRENT A (sum over phases), *_POWER/POWER kW, *_TIME hours, SoC percent.
    CURRENT, ENERGY_EXPORT, ENERGY_IMPORT, POWER and STATE_OF_CHARGE are Session-only (never in CDRs).
    """

    CURRENT = "CURRENT"
    ENERGY = "ENERGY"
    ENERGY_EXPORT = "ENERGY_EXPORT"
    ENERGY_IMPORT = "ENERGY_IMPORT"
    MAX_CURRENT = "MAX_CURRENT"
    MIN_CURRENT = "MIN_CURRENT"
    MAX_POWER = "MAX_POWER"
    MIN_POWER = "MIN_POWER"
    PARKING_TIME = "PARKING_TIME"
    POWER = "POWER"
    RESERVATION_TIME = "RESERVATION_TIME"
    STATE_OF_CHARGE = "STATE_OF_CHARGE"
    TIME = "TIME"


class ChargingPeriod(msgspec.Struct, frozen=True, kw_only=True):
    """Hold one charging period: it starts at ``start_date_time`` (UTC) and ends where the next one starts or
    at session end (OCPI 2.2.1 mod_cdrs, ChargingPeriod). Volumes are in OCPI units (kWh, hours, kW, A)."""

    start_date_time: datetime
    dimensions: Mapping[CdrDimensionType, Decimal]
    tariff_id: str | None = None

    def volume(self, dimension: CdrDimensionType) -> Decimal | None:
        """Return the volume of ``dimension`` in this period, or ``None`` if the period does not carry it."""
        return self.dimensions.get(dimension)


class MeterSample(msgspec.Struct, frozen=True, kw_only=True):
    """Record one meter reading of a session.

    ``energy_wh`` is the cumulative import register (it must not decrease); ``power_w`` and ``current_a``
    (summed over phases) are the instantaneous values, held until the next sample. ``charging`` is whether
    the EV is requesting power: False is parking time (OCPI 2.2.1 CdrDimensionType PARKING_TIME, as corrected
    in 2025: "not requesting power", so a smart-charging pause with the EV still requesting is charging).
    """

    timestamp: datetime
    energy_wh: Decimal
    charging: bool
    power_w: Decimal | None = None
    current_a: Decimal | None = None
    # The charging limit in force (W), when known: a period is cut where it changes, so a CDR shows smart
    # charging as it happened (the CSMS learns it from the charging profiles it set, domain.limit_changes).
    limit_w: Decimal | None = None


def charging_periods_from_samples(
    samples: Sequence[MeterSample],
    tariff: Tariff | None,
    time_zone: tzinfo,
    *,
    tariff_id: str | None = None,
) -> list[ChargingPeriod]:
    """Return the charging periods of a session from its first to its last sample (OCPI 2.2.1 mod_cdrs).

    ``time_zone`` is the Location's ``time_zone`` (a :class:`zoneinfo.ZoneInfo`). Each period carries
    ENERGY (kWh; omitted only in a parking period without energy), TIME or PARKING_TIME (hours), and
    MIN/MAX_POWER and MIN/MAX_CURRENT when the samples have them. ``tariff_id`` defaults to ``tariff.id``.
    With no tariff, periods are cut only where charging turns into parking or back, or the limit changes.
    """
    _check(samples)
    meter = _Meter(samples)
    start, end = samples[0].timestamp, samples[-1].timestamp
    candidates = {s.timestamp for s in samples[1:-1]}
    if tariff is not None:
        candidates |= _wall_clock_boundaries(tariff, time_zone, start, end)
        candidates |= _duration_boundaries(tariff, start, end)
        candidates |= meter.kwh_crossings(tariff)
    cuts = [start]
    current = meter.selection(start, tariff, time_zone)
    for instant in sorted(c for c in candidates if start < c < end):
        selection = meter.selection(instant, tariff, time_zone)
        if selection != current:
            cuts.append(instant)
            current = selection
    cuts.append(end)
    label = tariff_id if tariff_id is not None else (tariff.id if tariff is not None else None)
    return [meter.period(a, b, label) for a, b in zip(cuts, cuts[1:])]


def _check(samples: Sequence[MeterSample]) -> None:
    if len(samples) < 2:
        raise ValueError("need at least two meter samples (session start and end) to build charging periods")
    for before, after in zip(samples, samples[1:]):
        if before.timestamp.tzinfo is None or after.timestamp.tzinfo is None:
            raise ValueError("meter sample timestamps must be timezone-aware UTC datetimes")
        if after.timestamp <= before.timestamp:
            raise ValueError(f"meter samples must be strictly increasing in time: {after.timestamp} follows "
                             f"{before.timestamp}; sort them and drop duplicates")
        if after.energy_wh < before.energy_wh:
            raise ValueError(f"cumulative energy decreased at {after.timestamp} ({before.energy_wh} Wh -> "
                             f"{after.energy_wh} Wh); pass the import register, not a per-interval value")


class _Meter:
    """Interpolate the sample series: energy at any instant, held readings over any interval."""

    def __init__(self, samples: Sequence[MeterSample]) -> None:
        self.samples = samples
        self.times = [s.timestamp for s in samples]
        self.start_wh = samples[0].energy_wh
        # Energy pinned at kWh-threshold cuts, so the session energy there is exactly the threshold.
        self.pinned: dict[datetime, Decimal] = {}

    def index(self, instant: datetime) -> int:
        """Return the index of the sample whose reading holds at ``instant``."""
        low, high = 0, len(self.times) - 2
        while low < high:
            middle = (low + high + 1) // 2
            if self.times[middle] <= instant:
                low = middle
            else:
                high = middle - 1
        return low

    def energy_wh(self, instant: datetime) -> Decimal:
        if instant in self.pinned:
            return self.pinned[instant]
        i = self.index(instant)
        a, b = self.samples[i], self.samples[i + 1]
        if instant >= b.timestamp:
            return b.energy_wh
        fraction = _seconds(instant - a.timestamp) / _seconds(b.timestamp - a.timestamp)
        value = (a.energy_wh + (b.energy_wh - a.energy_wh) * fraction).quantize(_MILLI_WH, ROUND_HALF_EVEN)
        return min(max(value, a.energy_wh), b.energy_wh)

    def kwh_crossings(self, tariff: Tariff) -> set[datetime]:
        """Return the instants at which session energy reaches a kWh threshold of the tariff."""
        found: set[datetime] = set()
        thresholds = {t for e in tariff.elements if e.restrictions for t in e.restrictions.kwh_thresholds}
        for kwh in thresholds:
            target = self.start_wh + kwh * 1000
            if kwh <= 0 or target > self.samples[-1].energy_wh:
                continue
            i = next(k for k in range(len(self.samples) - 1) if self.samples[k + 1].energy_wh >= target)
            a, b = self.samples[i], self.samples[i + 1]
            if a.energy_wh >= target:
                continue  # reached exactly at sample i, already a candidate
            span = _seconds(b.timestamp - a.timestamp) * (target - a.energy_wh) / (b.energy_wh - a.energy_wh)
            # Round up to the microsecond so that at the cut the threshold has been reached, never not quite.
            micros = int((span / _MICRO).to_integral_value(ROUND_CEILING))
            instant = a.timestamp + timedelta(microseconds=micros)
            self.pinned[instant] = target
            found.add(instant)
        return found

    def readings(self, start: datetime, end: datetime) -> list[MeterSample]:
        """Return the samples whose readings hold somewhere in ``[start, end)``."""
        first = self.index(start)
        return [s for s in self.samples[first:-1] if s.timestamp < end]

    def selection(self, instant: datetime, tariff: Tariff | None, time_zone: tzinfo) -> tuple:
        held = self.samples[self.index(instant)]
        if tariff is None:
            return (held.charging, held.limit_w)
        power = held.power_w / 1000 if held.power_w is not None else None
        context = RestrictionContext(
            local=instant.astimezone(time_zone),
            energy_kwh=(self.energy_wh(instant) - self.start_wh) / 1000,
            elapsed_seconds=_seconds(instant - self.times[0]),
            min_current=held.current_a,
            max_current=held.current_a,
            min_power=power,
            max_power=power,
        )
        chosen = tariff.active_components(context)
        return (held.charging, held.limit_w, tuple(sorted((d.value, c.element_index) for d, c in chosen.items())))

    def period(self, start: datetime, end: datetime, tariff_id: str | None) -> ChargingPeriod:
        readings = self.readings(start, end)
        charging = readings[0].charging
        energy = (self.energy_wh(end) - self.energy_wh(start)) / 1000
        hours = _seconds(end - start) / 3600
        dims: dict[CdrDimensionType, Decimal] = {}
        if charging or energy:
            dims[CdrDimensionType.ENERGY] = energy
        dims[CdrDimensionType.TIME if charging else CdrDimensionType.PARKING_TIME] = hours
        powers = [s.power_w / 1000 for s in readings if s.power_w is not None]
        if powers:
            dims[CdrDimensionType.MIN_POWER] = min(powers)
            dims[CdrDimensionType.MAX_POWER] = max(powers)
        currents = [s.current_a for s in readings if s.current_a is not None]
        if currents:
            dims[CdrDimensionType.MIN_CURRENT] = min(currents)
            dims[CdrDimensionType.MAX_CURRENT] = max(currents)
        return ChargingPeriod(start_date_time=start, dimensions=dims, tariff_id=tariff_id)


def _wall_clock_boundaries(
    tariff: Tariff, time_zone: tzinfo, start: datetime, end: datetime
) -> set[datetime]:
    """Return the UTC instants in ``(start, end)`` at which a local time, day or date restriction can flip.

    A local wall time maps to zero, one or two instants across DST changes, so each boundary is taken with
    ``fold`` 0 and 1, and the UTC-offset changes themselves are added: a boundary inside a spring-forward gap
    (02:30 in Amsterdam on the last Sunday of March) takes effect at the jump, not at either mapping.
    """
    times = {t for e in tariff.elements if e.restrictions for t in e.restrictions.boundary_times}
    if not times:
        return set()
    found = set(_offset_changes(time_zone, start, end))
    day: date = start.astimezone(time_zone).date() - timedelta(days=1)
    last = end.astimezone(time_zone).date() + timedelta(days=1)
    while day <= last:
        for wall in times:
            for fold in (0, 1):
                local = datetime.combine(day, wall, tzinfo=time_zone).replace(fold=fold)
                instant = local.astimezone(timezone.utc)
                if start < instant < end:
                    found.add(instant)
        day += timedelta(days=1)
    return found


def _offset_changes(time_zone: tzinfo, start: datetime, end: datetime) -> list[datetime]:
    """Return the instants in ``(start, end)`` where the zone's UTC offset changes (tz database changes fall
    on whole seconds)."""
    step = timedelta(hours=1)  # no zone changes its offset twice within an hour

    def offset(instant: datetime) -> timedelta | None:
        return instant.astimezone(time_zone).utcoffset()

    found = []
    probe = start
    while probe < end:
        nxt = min(probe + step, end)
        if offset(probe) != offset(nxt):
            low, high = probe, nxt  # invariant: low has the old offset, high the new one
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) // 2
                if offset(middle) == offset(low):
                    low = middle
                else:
                    high = middle
            # The change T is a whole second with low < T <= high < low + 1 s, so flooring high gives T.
            found.append(high.replace(microsecond=0))
        probe = nxt
    return found


def _duration_boundaries(tariff: Tariff, start: datetime, end: datetime) -> set[datetime]:
    seconds = {s for e in tariff.elements if e.restrictions for s in e.restrictions.duration_thresholds}
    return {start + timedelta(seconds=s) for s in seconds if start < start + timedelta(seconds=s) < end}


def _seconds(delta: timedelta) -> Decimal:
    """Return a timedelta as exact Decimal seconds (``total_seconds()`` is a float)."""
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) * _MICRO

