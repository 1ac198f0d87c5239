"""Price a session's charging periods with a tariff: per-period, per-component costs and the CDR totals.

Pure function of (tariff, Location time zone, charging periods, session start/end); the procedure is the one
in reference ocpi.md §5 (OCPI 2.2.1 mod_tariffs and mod_cdrs do not give one):

1. Per period and per dimension, the first active element with a component for that dimension prices it
   (:meth:`Tariff.active_components`, evaluated at the period start in local time, §5.3).
2. ``step_size`` is applied once per session to the total of a dimension, with the step of the last period
   that billed it, and the extra goes to that period (§5.4). TIME and PARKING_TIME share one rounding: if
   parking was billed only parking is rounded, otherwise charging time. Reservation time is rounded apart.
3. FLAT is billed once for the charging part (first period where a FLAT is active) and once for the
   reservation part (§5.4, spec tariff 16).
4. ``min_price``/``max_price`` clamp only ``total_cost``, before and after taxes independently (§4.4, §5.5);
   subtotals stay unclamped.

Rounding (the spec leaves it open, ocpi/ocpi#401): all arithmetic is exact :class:`~decimal.Decimal` in a
60-digit context; each component line's before-tax and after-tax cost is then rounded once to 4 decimals (the
precision of an OCPI ``number``), ROUND_HALF_UP, each from the unrounded amount. Every total is the exact sum
of rounded lines, so totals always add up; a serializer may round further (e.g. to cents) for display.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from decimal import ROUND_CEILING, ROUND_HALF_UP, Context, Decimal, localcontext

import msgspec

from .charging_periods import CdrDimensionType, ChargingPeriod
from .tariffs import (
    ActiveComponent,
    PriceLimit,
    ReservationRestrictionType,
    RestrictionContext,
    Tariff,
    TariffDimensionType,
    TaxIncluded,
)

__all__ = [
    "ComponentCost", "Cost", "CostCategory", "PeriodCost", "SessionCosts", "TaxAmount", "price_session",
]

MONEY_PLACES = Decimal("0.0001")
_MICRO = Decimal("0.000001")
_EXACT = Context(prec=60)
_ZERO = Decimal(0)

_D = CdrDimensionType
_T = TariffDimensionType


class Cost(msgspec.Struct, frozen=True):
    """Hold an amount before and after taxes (2.2.1 Price excl/incl_vat, 2.3.0 Price before_taxes/taxes)."""

    before_taxes: Decimal = _ZERO
    after_taxes: Decimal = _ZERO

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.before_taxes + other.before_taxes, self.after_taxes + other.after_taxes)


class CostCategory(enum.Enum):
    """Name the CDR subtotal a cost belongs to (OCPI 2.2.1 mod_cdrs, CDR total_*_cost)."""

    FIXED = "FIXED"  # total_fixed_cost: FLAT except parking and reservation fees
    ENERGY = "ENERGY"  # total_energy_cost
    TIME = "TIME"  # total_time_cost: charging time
    PARKING = "PARKING"  # total_parking_cost: PARKING_TIME and FLATs first billed in a parking-only period
    RESERVATION = "RESERVATION"  # total_reservation_cost: reservation TIME and FLAT


class ComponentCost(msgspec.Struct, frozen=True, kw_only=True):
    """Price one component in one period.

    ``quantity`` is the period's volume (kWh for ENERGY, hours for TIME/PARKING_TIME/reservation, 1 for FLAT);
    ``billed_quantity`` adds the session's step_size rounding where it landed in this period.
    """

    dimension: TariffDimensionType
    category: CostCategory
    element_index: int
    price: Decimal
    vat: Decimal | None
    step_size: int
    quantity: Decimal
    billed_quantity: Decimal
    cost: Cost


class PeriodCost(msgspec.Struct, frozen=True, kw_only=True):
    """Hold the priced components of one charging period ``[start_date_time, end_date_time)``."""

    start_date_time: datetime
    end_date_time: datetime
    reservation: bool
    components: tuple[ComponentCost, ...]

    @property
    def cost(self) -> Cost:
        """Return the sum of this period's component costs."""
        return sum((c.cost for c in self.components), Cost())


class TaxAmount(msgspec.Struct, frozen=True, kw_only=True):
    """Sum the tax of every component line with one VAT rate (OCPI 2.3.0 types, TaxAmount), unclamped."""

    name: str
    percentage: Decimal
    amount: Decimal


class SessionCosts(msgspec.Struct, frozen=True, kw_only=True):
    """Hold a priced session: the period breakdown and the CDR totals (OCPI 2.2.1 mod_cdrs, CDR).

    ``total_cost`` is after min/max clamping; ``unclamped_total_cost`` is the exact sum of the subtotals.
    Volumes are kWh and hours; ``billed_*`` are after step_size rounding.
    """

    currency: str
    periods: tuple[PeriodCost, ...]
    total_cost: Cost
    unclamped_total_cost: Cost
    total_fixed_cost: Cost
    total_energy_cost: Cost
    total_time_cost: Cost
    total_parking_cost: Cost
    total_reservation_cost: Cost
    total_energy: Decimal
    total_time: Decimal
    total_parking_time: Decimal
    total_reservation_time: Decimal
    billed_energy: Decimal
    billed_time: Decimal
    billed_parking_time: Decimal
    taxes: tuple[TaxAmount, ...]
    min_price_applied: bool
    max_price_applied: bool
    notices: tuple[str, ...] = ()


class _Line:
    """A component being priced: mutable until step_size rounding is done."""

    def __init__(
        self, period: int, active: ActiveComponent, category: CostCategory, quantity: Decimal
    ) -> None:
        self.period = period
        self.active = active
        self.category = category
        self.quantity = quantity  # OCPI unit: kWh, hours, or 1 (FLAT)
        self.extra = _ZERO  # step_size rounding, in the same unit


def price_session(
    tariff: Tariff,
    time_zone: tzinfo,
    periods: Sequence[ChargingPeriod],
    start: datetime,
    end: datetime,
    *,
    reservation_expired: bool = False,
) -> SessionCosts:
    """Price a session's charging periods with ``tariff`` (reference ocpi.md §5; OCPI 2.2.1 mod_cdrs).

    ``time_zone`` is the Location's (restrictions are local time); ``start``/``end`` are the CDR's
    ``start_date_time``/``end_date_time`` (UTC). A period with a RESERVATION_TIME dimension is a reservation
    period; ``reservation_expired`` says the reservation ended without a session (RESERVATION_EXPIRES).
    Duration restrictions count from the first non-reservation period, energy restrictions from all energy
    before the period. Raises ValueError when the periods are out of order or carry negative volumes.
    """
    _check(periods, start, end)
    notices: list[str] = []
    if not tariff.is_valid_at(start):
        notices.append(f"tariff {tariff.id} is not in force at session start {start.isoformat()}")
    with localcontext(_EXACT):
        lines, bounds = _select(tariff, time_zone, periods, start, end, reservation_expired)
        _round_steps(lines)
        costs = [_cost(line, tariff.tax_included, notices) for line in lines]
        return _totals(tariff, periods, bounds, start, end, lines, costs, notices)


def _check(periods: Sequence[ChargingPeriod], start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("session start and end must be timezone-aware UTC datetimes")
    if end < start:
        raise ValueError(f"session end {end.isoformat()} is before its start {start.isoformat()}")
    previous = start
    for i, period in enumerate(periods):
        if period.start_date_time < previous or period.start_date_time > end:
            raise ValueError(f"charging_periods[{i}] starts at {period.start_date_time.isoformat()}, outside "
                             f"the session or before the previous period; sort periods by start_date_time")
        previous = period.start_date_time
        # Only billed volumes must be non-negative; negative current/power readings (V2G) are just readings.
        negative = [d.value for d in _BILLED if (period.volume(d) or _ZERO) < 0]
        if negative:
            raise ValueError(f"charging_periods[{i}] has negative {negative}; discharging (V2G) is not "
                             f"priced")


_BILLED = (_D.ENERGY, _D.TIME, _D.PARKING_TIME, _D.RESERVATION_TIME)


def _select(
    tariff: Tariff,
    time_zone: tzinfo,
    periods: Sequence[ChargingPeriod],
    start: datetime,
    end: datetime,
    reservation_expired: bool,
) -> tuple[list[_Line], list[tuple[datetime, datetime]]]:
    """Choose each period's components and return the lines to bill plus each period's [start, end)."""
    is_reservation = [_D.RESERVATION_TIME in p.dimensions for p in periods]
    charging_start = next((p.start_date_time for p, r in zip(periods, is_reservation) if not r), start)
    kind = ReservationRestrictionType.RESERVATION_EXPIRES if reservation_expired else (
        ReservationRestrictionType.RESERVATION)
    lines: list[_Line] = []
    bounds: list[tuple[datetime, datetime]] = []
    # FLAT is billed once for the charging part and once for the reservation part.
    flat_billed = {False: False, True: False}
    energy_before = _ZERO
    for index, period in enumerate(periods):
        period_end = periods[index + 1].start_date_time if index + 1 < len(periods) else end
        bounds.append((period.start_date_time, period_end))
        reservation = is_reservation[index]
        origin = start if reservation else charging_start
        context = RestrictionContext(
            local=period.start_date_time.astimezone(time_zone),
            energy_kwh=energy_before,
            elapsed_seconds=max(_ZERO, _seconds(period.start_date_time - origin)),
            min_current=_first(period, _D.MIN_CURRENT, _D.CURRENT, _D.MAX_CURRENT),
            max_current=_first(period, _D.MAX_CURRENT, _D.CURRENT, _D.MIN_CURRENT),
            min_power=_first(period, _D.MIN_POWER, _D.POWER, _D.MAX_POWER),
            max_power=_first(period, _D.MAX_POWER, _D.POWER, _D.MIN_POWER),
            reservation=kind if reservation else None,
        )
        energy_before += period.volume(_D.ENERGY) or _ZERO
        chosen = tariff.active_components(context)
        if _T.FLAT in chosen and not flat_billed[reservation]:
            flat_billed[reservation] = True
            lines.append(_Line(index, chosen[_T.FLAT], _flat_category(period, reservation), Decimal(1)))
        if reservation:
            volumes = {_T.TIME: period.volume(_D.RESERVATION_TIME)}
        else:
            volumes = {
                _T.ENERGY: period.volume(_D.ENERGY),
                _T.TIME: period.volume(_D.TIME),
                _T.PARKING_TIME: period.volume(_D.PARKING_TIME),
            }
        for dimension, volume in volumes.items():
            if dimension in chosen and volume:
                category = CostCategory.RESERVATION if reservation else _CATEGORY[dimension]
                lines.append(_Line(index, chosen[dimension], category, volume))
    return lines, bounds


_CATEGORY = {
    _T.ENERGY: CostCategory.ENERGY, _T.TIME: CostCategory.TIME, _T.PARKING_TIME: CostCategory.PARKING,
}


def _flat_category(period: ChargingPeriod, reservation: bool) -> CostCategory:
    if reservation:
        return CostCategory.RESERVATION
    # A FLAT first billed while the EV only parks (an overstay fee) is a fixed parking fee (CDR
    # total_parking_cost "including fixed price components"); otherwise a fixed cost such as a start fee.
    charging = period.volume(_D.TIME) or period.volume(_D.ENERGY)
    parking_only = bool(period.volume(_D.PARKING_TIME)) and not charging
    return CostCategory.PARKING if parking_only else CostCategory.FIXED


def _first(period: ChargingPeriod, *dimensions: CdrDimensionType) -> Decimal | None:
    """Return the first of ``dimensions`` the period carries: a min-restriction reads MIN_*, a max one MAX_*,
    so an element is only active if its condition held for the whole period."""
    return next((v for d in dimensions if (v := period.volume(d)) is not None), None)


def _round_steps(lines: list[_Line]) -> None:
    """Apply step_size once per session on totals, extra to the last billing period (reference §5.4)."""
    charging = [line for line in lines if line.category is not CostCategory.RESERVATION]
    energy = [line for line in charging if line.active.component.type is _T.ENERGY]
    time = [line for line in charging if line.active.component.type is _T.TIME]
    parking = [line for line in charging if line.active.component.type is _T.PARKING_TIME]
    reserved = [line for line in lines if line.category is CostCategory.RESERVATION
                and line.active.component.type is _T.TIME]
    _round_up(energy, unit=Decimal(1000))  # kWh volumes, step in Wh
    # One shared rounding for TIME and PARKING_TIME: parking wins, charging time is then left as is.
    _round_up(parking or time, unit=Decimal(3600))  # hours, step in seconds
    _round_up(reserved, unit=Decimal(3600))


def _round_up(lines: list[_Line], unit: Decimal) -> None:
    if not lines:
        return
    last = lines[-1]
    step = last.active.component.step_size or 1  # the free-of-charge example uses step_size 0: treat as 1
    total = sum(line.quantity for line in lines) * unit
    # Decide on a microsecond / micro-Wh grid, so 1/3600-style residues of decimal hours never add a step.
    steps = (total.quantize(_MICRO) / step).to_integral_value(ROUND_CEILING)
    extra = steps * step - total
    if extra > 0:  # never round down, even by a residue
        last.extra = extra / unit


def _cost(line: _Line, tax_included: TaxIncluded, notices: list[str]) -> Cost:
    component = line.active.component
    billed = line.quantity + line.extra
    amount = billed * component.price  # per kWh, per hour, or FLAT x 1
    rate = 1 + component.vat / 100 if component.vat is not None else None
    if tax_included is TaxIncluded.NOT_APPLICABLE or rate is None:
        before = after = amount
        if tax_included is TaxIncluded.YES:
            notices.append(f"element {line.active.element_index} {component.type.value}: price includes "
                           f"taxes but has no vat, so before_taxes is reported equal to after_taxes")
    elif tax_included is TaxIncluded.YES:
        before, after = amount / rate, amount
    else:
        before, after = amount, amount * rate
    return Cost(_money(before), _money(after))


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(MONEY_PLACES, ROUND_HALF_UP)


def _totals(
    tariff: Tariff,
    periods: Sequence[ChargingPeriod],
    bounds: list[tuple[datetime, datetime]],
    start: datetime,
    end: datetime,
    lines: list[_Line],
    costs: list[Cost],
    notices: list[str],
) -> SessionCosts:
    by_category = {category: Cost() for category in CostCategory}
    taxes: dict[Decimal, Decimal] = {}
    per_period: list[list[ComponentCost]] = [[] for _ in periods]
    for line, cost in zip(lines, costs):
        component = line.active.component
        by_category[line.category] += cost
        if component.vat is not None and tariff.tax_included is not TaxIncluded.NOT_APPLICABLE:
            taxes[component.vat] = taxes.get(component.vat, _ZERO) + cost.after_taxes - cost.before_taxes
        per_period[line.period].append(ComponentCost(
            dimension=component.type,
            category=line.category,
            element_index=line.active.element_index,
            price=component.price,
            vat=component.vat,
            step_size=component.step_size,
            quantity=line.quantity,
            billed_quantity=line.quantity + line.extra,
            cost=cost,
        ))
    unclamped = sum(by_category.values(), Cost())
    total, min_applied, max_applied = _apply_limits(unclamped, tariff.min_price, tariff.max_price)

    def volume(dimension: CdrDimensionType) -> Decimal:
        return sum((p.volume(dimension) or _ZERO for p in periods), _ZERO)

    def billed(dimension: TariffDimensionType) -> Decimal:
        return sum((line.quantity + line.extra for line in lines if line.active.component.type is dimension
                    and line.category is not CostCategory.RESERVATION), _ZERO)

    return SessionCosts(
        currency=tariff.currency,
        periods=tuple(
            PeriodCost(start_date_time=a, end_date_time=b, reservation=_D.RESERVATION_TIME in p.dimensions,
                       components=tuple(components))
            for p, (a, b), components in zip(periods, bounds, per_period)
        ),
        total_cost=total,
        unclamped_total_cost=unclamped,
        total_fixed_cost=by_category[CostCategory.FIXED],
        total_energy_cost=by_category[CostCategory.ENERGY],
        total_time_cost=by_category[CostCategory.TIME],
        total_parking_cost=by_category[CostCategory.PARKING],
        total_reservation_cost=by_category[CostCategory.RESERVATION],
        total_energy=volume(_D.ENERGY),
        total_time=_seconds(end - start) / 3600,
        total_parking_time=volume(_D.PARKING_TIME),
        total_reservation_time=volume(_D.RESERVATION_TIME),
        billed_energy=billed(_T.ENERGY),
        billed_time=billed(_T.TIME),
        billed_parking_time=billed(_T.PARKING_TIME),
        taxes=tuple(TaxAmount(name="VAT", percentage=rate, amount=amount) for rate, amount in taxes.items()),
        min_price_applied=min_applied,
        max_price_applied=max_applied,
        notices=tuple(dict.fromkeys(notices)),
    )


def _apply_limits(total: Cost, low: PriceLimit | None, high: PriceLimit | None) -> tuple[Cost, bool, bool]:
    """Clamp the total before and after taxes independently (reference §4.4 "Min/max price rule").

    A limit without an after-tax value (2.2.1 ``incl_vat`` and 2.3.0 ``after_taxes`` are optional) is turned
    into one with the session's own tax ratio, so the after-tax total moves with the before-tax one. A minimum
    above the maximum cannot be honoured; the maximum wins.
    """
    before, after = total.before_taxes, total.after_taxes
    min_applied = max_applied = False
    if low is not None:
        floor_before, floor_after = low.before_taxes, _after_taxes_limit(low, total)
        if before < floor_before or after < floor_after:
            min_applied = True
            before, after = max(before, floor_before), max(after, floor_after)
    if high is not None:
        cap_before, cap_after = high.before_taxes, _after_taxes_limit(high, total)
        if before > cap_before or after > cap_after:
            max_applied = True
            before, after = min(before, cap_before), min(after, cap_after)
    return Cost(_money(before), _money(after)), min_applied, max_applied


def _after_taxes_limit(limit: PriceLimit, total: Cost) -> Decimal:
    if limit.after_taxes is not None:
        return limit.after_taxes
    if total.before_taxes:
        return limit.before_taxes * total.after_taxes / total.before_taxes
    return limit.before_taxes  # nothing priced, so no tax ratio is known


def _seconds(delta: timedelta) -> Decimal:
    """Return a timedelta as exact Decimal seconds (``total_seconds()`` is a float)."""
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) * _MICRO
