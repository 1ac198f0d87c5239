"""Hold a version-neutral OCPI Tariff, decide which of its components are active, and read it from OCPI JSON.

One model serves OCPI 2.2.1 and 2.3.0 (mod_tariffs, Tariff/TariffElement/PriceComponent/TariffRestrictions):

* 2.2.1 prices are excluding VAT, so a 2.2.1 tariff is read as ``tax_included = NO``;
  2.3.0 says so explicitly with ``Tariff.tax_included`` (YES / NO / N/A).
* 2.2.1 ``min_price``/``max_price`` are ``Price {excl_vat, incl_vat?}``; 2.3.0 uses
  ``PriceLimit {before_taxes, after_taxes?}``. Both become :class:`PriceLimit`.

All numbers are :class:`~decimal.Decimal` (money, kWh, kW, A); durations are whole seconds as in the spec.
Restrictions are evaluated against a :class:`RestrictionContext` (reference ocpi.md §5.3); the same evaluation
drives both the pricer and the charging-period cutter, so the periods we publish price the way we priced them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any

import msgspec

__all__ = [
    "ActiveComponent",
    "DayOfWeek",
    "PriceComponent",
    "PriceLimit",
    "ReservationRestrictionType",
    "RestrictionContext",
    "Tariff",
    "TariffDimensionType",
    "TariffElement",
    "TariffFormatError",
    "TariffRestrictions",
    "TariffType",
    "TaxIncluded",
    "tariff_from_ocpi",
]

SUPPORTED_VERSIONS = ("2.2.1", "2.3.0")


class TariffDimensionType(enum.Enum):
    """What a price component charges for (OCPI 2.2.1 mod_tariffs, TariffDimensionType)."""

    ENERGY = "ENERGY"  # per kWh, step_size in Wh
    FLAT = "FLAT"  # fixed amount, no step unit
    PARKING_TIME = "PARKING_TIME"  # per hour while the EV requests no power, step_size in seconds
    TIME = "TIME"  # per hour while charging (or reserved, with a reservation restriction), step in seconds


class DayOfWeek(enum.Enum):
    """A local weekday, in ``datetime.weekday()`` order (OCPI 2.2.1 mod_tariffs, DayOfWeek)."""

    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"

    @classmethod
    def of(cls, day: date) -> DayOfWeek:
        """Return the weekday of a (local) date."""
        return _WEEKDAYS[day.weekday()]


_WEEKDAYS = tuple(DayOfWeek)


class ReservationRestrictionType(enum.Enum):
    """Which part of a reservation an element prices (OCPI 2.2.1 mod_tariffs, ReservationRestrictionType)."""

    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


class TariffType(enum.Enum):
    """The kind of session a tariff is for (OCPI 2.2.1 mod_tariffs, TariffType)."""

    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


class TaxIncluded(enum.Enum):
    """Whether component prices already include taxes (OCPI 2.3.0 mod_tariffs, TaxIncluded)."""

    YES = "YES"
    NO = "NO"
    NOT_APPLICABLE = "N/A"  # "N/A" is not an identifier, hence the explicit name


class PriceComponent(msgspec.Struct, frozen=True, kw_only=True):
    """Price one dimension (OCPI 2.2.1 mod_tariffs, PriceComponent).

    ``price`` is per kWh (ENERGY), per hour (TIME, PARKING_TIME) or absolute (FLAT); whether it includes
    tax is decided by the owning :class:`Tariff`'s ``tax_included``. ``vat`` is a percentage; ``None`` means
    no VAT is known to apply (2.2.1: "absent is not the same as 0.0").
    """

    type: TariffDimensionType
    price: Decimal
    step_size: int = 1
    vat: Decimal | None = None


class RestrictionContext(msgspec.Struct, frozen=True, kw_only=True):
    """Describe the session at the start of a charging period, as restrictions see it (reference §5.3).

    ``local`` is the period start in the Location's time zone. ``energy_kwh`` and ``elapsed_seconds`` are the
    session's totals *before* the period. Current and power bounds are the period's MIN/MAX readings; ``None``
    means "not known", and a restriction on an unknown reading is treated as satisfied (as the tandemdrive
    reference pricer does), so missing data never moves a period to a later element.
    ``reservation`` is ``None`` for charging/parking periods.
    """

    local: datetime
    energy_kwh: Decimal = Decimal(0)
    elapsed_seconds: Decimal = Decimal(0)
    min_current: Decimal | None = None
    max_current: Decimal | None = None
    min_power: Decimal | None = None
    max_power: Decimal | None = None
    reservation: ReservationRestrictionType | None = None


class TariffRestrictions(msgspec.Struct, frozen=True, kw_only=True):
    """Say when an element is active during a session; all present fields must hold (OCPI 2.2.1 mod_tariffs,
    TariffRestrictions).

    Times and dates are local wall-clock values of the Location's time zone. ``end_time`` 00:00 means "until
    the end of the day"; ``end_time`` at or before ``start_time`` wraps past midnight. ``end_date`` is
    exclusive. Thresholds: ``min_*`` is inclusive (``>=``), ``max_*`` exclusive (``<``).
    """

    start_time: time | None = None
    end_time: time | None = None
    start_date: date | None = None
    end_date: date | None = None
    min_kwh: Decimal | None = None
    max_kwh: Decimal | None = None
    min_current: Decimal | None = None
    max_current: Decimal | None = None
    min_power: Decimal | None = None
    max_power: Decimal | None = None
    min_duration: int | None = None
    max_duration: int | None = None
    day_of_week: tuple[DayOfWeek, ...] = ()
    reservation: ReservationRestrictionType | None = None

    def is_active(self, context: RestrictionContext) -> bool:
        """Return whether every restriction except ``reservation`` holds in ``context``."""
        local = context.local
        if (self.start_time or self.end_time) and not _in_time_window(
            local.time(), self.start_time, self.end_time
        ):
            return False
        today = local.date()
        if self.start_date is not None and today < self.start_date:
            return False
        if self.end_date is not None and today >= self.end_date:
            return False
        if self.day_of_week and DayOfWeek.of(today) not in self.day_of_week:
            return False
        return (
            _at_least(context.energy_kwh, self.min_kwh)
            and _below(context.energy_kwh, self.max_kwh)
            and _at_least(context.elapsed_seconds, self.min_duration)
            and _below(context.elapsed_seconds, self.max_duration)
            and _at_least(context.min_current, self.min_current)
            and _below(context.max_current, self.max_current)
            and _at_least(context.min_power, self.min_power)
            and _below(context.max_power, self.max_power)
        )

    @property
    def boundary_times(self) -> tuple[time, ...]:
        """Return the local wall-clock times at which this restriction can switch on or off."""
        found = {t for t in (self.start_time, self.end_time) if t is not None}
        if found or self.start_date or self.end_date or self.day_of_week:
            found.add(time(0))  # a day or date change happens at local midnight
        return tuple(sorted(found))

    @property
    def kwh_thresholds(self) -> tuple[Decimal, ...]:
        """Return the session energies (kWh) at which this restriction can switch."""
        return tuple(v for v in (self.min_kwh, self.max_kwh) if v is not None)

    @property
    def duration_thresholds(self) -> tuple[int, ...]:
        """Return the elapsed session times (s) at which this restriction can switch."""
        return tuple(v for v in (self.min_duration, self.max_duration) if v is not None)


def _in_time_window(now: time, start: time | None, end: time | None) -> bool:
    begin = start or time(0)
    if end is None or end == time(0):
        return now >= begin
    if end > begin:
        return begin <= now < end
    # end <= start: the window wraps past midnight (end == start: all day, the only non-empty reading).
    return now >= begin or now < end


def _at_least(value: Decimal | None, bound: Decimal | int | None) -> bool:
    return bound is None or value is None or value >= bound


def _below(value: Decimal | None, bound: Decimal | int | None) -> bool:
    return bound is None or value is None or value < bound


class TariffElement(msgspec.Struct, frozen=True, kw_only=True):
    """Group price components under one set of restrictions (OCPI 2.2.1 mod_tariffs, TariffElement)."""

    price_components: tuple[PriceComponent, ...]
    restrictions: TariffRestrictions | None = None


class PriceLimit(msgspec.Struct, frozen=True, kw_only=True):
    """Bound a session's total cost (2.2.1 ``Price`` excl/incl VAT, 2.3.0 ``PriceLimit`` before/after tax)."""

    before_taxes: Decimal
    after_taxes: Decimal | None = None


class ActiveComponent(msgspec.Struct, frozen=True, kw_only=True):
    """Name the component that prices a dimension, and the index of the element it came from."""

    element_index: int
    component: PriceComponent


class Tariff(msgspec.Struct, frozen=True, kw_only=True):
    """Describe how a CPO prices sessions, whatever the OCPI version (OCPI 2.2.1/2.3.0 mod_tariffs)."""

    id: str
    currency: str
    elements: tuple[TariffElement, ...]
    tax_included: TaxIncluded = TaxIncluded.NO
    country_code: str = ""
    party_id: str = ""
    type: TariffType | None = None
    min_price: PriceLimit | None = None
    max_price: PriceLimit | None = None
    start_date_time: datetime | None = None
    end_date_time: datetime | None = None

    def is_valid_at(self, instant: datetime) -> bool:
        """Return whether the tariff is in force at ``instant`` (start inclusive, end exclusive; UTC)."""
        if self.start_date_time is not None and instant < self.start_date_time:
            return False
        return self.end_date_time is None or instant < self.end_date_time

    def active_components(self, context: RestrictionContext) -> dict[TariffDimensionType, ActiveComponent]:
        """Return, per dimension, the component of the first active element that prices it (reference §5.3).

        Elements with a ``reservation`` restriction only price reservation periods and the others never do.
        For an expired reservation, ``RESERVATION_EXPIRES`` elements are consulted first and ``RESERVATION``
        elements supply what they leave open ("its TIME component overrides the RESERVATION one").
        """
        if context.reservation is None:
            passes: tuple[ReservationRestrictionType | None, ...] = (None,)
        elif context.reservation is ReservationRestrictionType.RESERVATION:
            passes = (ReservationRestrictionType.RESERVATION,)
        else:
            passes = (ReservationRestrictionType.RESERVATION_EXPIRES, ReservationRestrictionType.RESERVATION)
        chosen: dict[TariffDimensionType, ActiveComponent] = {}
        for kind in passes:
            for index, element in enumerate(self.elements):
                restrictions = element.restrictions
                if (restrictions.reservation if restrictions else None) is not kind:
                    continue
                if restrictions is not None and not restrictions.is_active(context):
                    continue
                for component in element.price_components:
                    active = ActiveComponent(element_index=index, component=component)
                    chosen.setdefault(component.type, active)
        return chosen


class TariffFormatError(ValueError):
    """An OCPI Tariff object could not be read; the message names the field and what it should be."""


# ------------------------------------------------------------------------------------------------------------
# Reading OCPI JSON


_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def tariff_from_ocpi(obj: Mapping[str, Any], version: str) -> Tariff:
    """Read an OCPI 2.2.1 or 2.3.0 Tariff object (decoded JSON) into a :class:`Tariff`.

    Raises :class:`TariffFormatError` naming the offending field. Unknown fields are ignored, as OCPI 2.3.0
    transport requires. Negative prices, VAT and step sizes are refused: the sandbox does not model them.
    """
    if version not in SUPPORTED_VERSIONS:
        raise TariffFormatError(f"OCPI version {version!r} is not supported; use one of {SUPPORTED_VERSIONS}")
    if not isinstance(obj, Mapping):
        raise TariffFormatError(f"a Tariff must be a JSON object, got {type(obj).__name__}")
    if version == "2.2.1":
        tax_included = TaxIncluded.NO  # 2.2.1 PriceComponent.price is "excl. VAT"
        limit_keys = ("excl_vat", "incl_vat")
    else:
        tax_included = _enum(TaxIncluded, obj.get("tax_included"), "tax_included", required=True)
        limit_keys = ("before_taxes", "after_taxes")
    raw_elements = obj.get("elements")
    if not isinstance(raw_elements, list) or not raw_elements:
        raise TariffFormatError("elements: a Tariff needs at least one TariffElement (cardinality +)")
    return Tariff(
        id=_string(obj.get("id"), "id"),
        currency=_string(obj.get("currency"), "currency"),
        elements=tuple(_element(e, f"elements[{i}]") for i, e in enumerate(raw_elements)),
        tax_included=tax_included,
        country_code=str(obj.get("country_code") or ""),
        party_id=str(obj.get("party_id") or ""),
        type=_enum(TariffType, obj.get("type"), "type"),
        min_price=_limit(obj.get("min_price"), "min_price", limit_keys),
        max_price=_limit(obj.get("max_price"), "max_price", limit_keys),
        start_date_time=_datetime(obj.get("start_date_time"), "start_date_time"),
        end_date_time=_datetime(obj.get("end_date_time"), "end_date_time"),
    )


def _element(raw: Any, where: str) -> TariffElement:
    if not isinstance(raw, Mapping):
        raise TariffFormatError(f"{where}: a TariffElement must be a JSON object")
    components = raw.get("price_components")
    if not isinstance(components, list) or not components:
        raise TariffFormatError(f"{where}.price_components: needs at least one PriceComponent")
    parsed = tuple(_component(c, f"{where}.price_components[{i}]") for i, c in enumerate(components))
    restrictions = _restrictions(raw.get("restrictions"), f"{where}.restrictions")
    if restrictions is not None and restrictions.reservation is not None:
        allowed = (TariffDimensionType.FLAT, TariffDimensionType.TIME)
        wrong = [c.type.value for c in parsed if c.type not in allowed]
        if wrong:
            raise TariffFormatError(
                f"{where}: a reservation element may only hold FLAT and TIME components, found {wrong}"
            )
    return TariffElement(price_components=parsed, restrictions=restrictions)


def _component(raw: Any, where: str) -> PriceComponent:
    if not isinstance(raw, Mapping):
        raise TariffFormatError(f"{where}: a PriceComponent must be a JSON object")
    step = raw.get("step_size")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise TariffFormatError(f"{where}.step_size: required non-negative integer, got {step!r}")
    return PriceComponent(
        type=_enum(TariffDimensionType, raw.get("type"), f"{where}.type", required=True),
        price=_number(raw.get("price"), f"{where}.price", required=True, minimum=Decimal(0)),
        step_size=step,
        vat=_number(raw.get("vat"), f"{where}.vat", minimum=Decimal(0)),
    )


def _restrictions(raw: Any, where: str) -> TariffRestrictions | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise TariffFormatError(f"{where}: TariffRestrictions must be a JSON object")
    days = raw.get("day_of_week") or []
    if not isinstance(days, list):
        raise TariffFormatError(f"{where}.day_of_week: must be a list of DayOfWeek values")
    return TariffRestrictions(
        start_time=_time(raw.get("start_time"), f"{where}.start_time"),
        end_time=_time(raw.get("end_time"), f"{where}.end_time"),
        start_date=_date(raw.get("start_date"), f"{where}.start_date"),
        end_date=_date(raw.get("end_date"), f"{where}.end_date"),
        min_kwh=_number(raw.get("min_kwh"), f"{where}.min_kwh"),
        max_kwh=_number(raw.get("max_kwh"), f"{where}.max_kwh"),
        min_current=_number(raw.get("min_current"), f"{where}.min_current"),
        max_current=_number(raw.get("max_current"), f"{where}.max_current"),
        min_power=_number(raw.get("min_power"), f"{where}.min_power"),
        max_power=_number(raw.get("max_power"), f"{where}.max_power"),
        min_duration=_seconds(raw.get("min_duration"), f"{where}.min_duration"),
        max_duration=_seconds(raw.get("max_duration"), f"{where}.max_duration"),
        day_of_week=tuple(_enum(DayOfWeek, d, f"{where}.day_of_week", required=True) for d in days),
        reservation=_enum(ReservationRestrictionType, raw.get("reservation"), f"{where}.reservation"),
    )


def _limit(raw: Any, where: str, keys: tuple[str, str]) -> PriceLimit | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise TariffFormatError(f"{where}: must be a JSON object with {keys[0]!r} (optionally {keys[1]!r})")
    return PriceLimit(
        before_taxes=_number(raw.get(keys[0]), f"{where}.{keys[0]}", required=True, minimum=Decimal(0)),
        after_taxes=_number(raw.get(keys[1]), f"{where}.{keys[1]}", minimum=Decimal(0)),
    )


def _string(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise TariffFormatError(f"{where}: required non-empty string, got {raw!r}")
    return raw


def _number(raw: Any, where: str, *, required: bool = False, minimum: Decimal | None = None) -> Any:
    if raw is None:
        if required:
            raise TariffFormatError(f"{where}: required JSON number is missing")
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
        raise TariffFormatError(f"{where}: must be a JSON number, got {raw!r}")
    # str() of a float is its shortest round-trip form, so 0.1 becomes Decimal("0.1"), not the binary value.
    value = raw if isinstance(raw, Decimal) else Decimal(str(raw))
    if not value.is_finite() or (minimum is not None and value < minimum):
        raise TariffFormatError(f"{where}: must be a finite number >= {minimum}, got {raw!r}")
    return value


def _seconds(raw: Any, where: str) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise TariffFormatError(f"{where}: must be a non-negative integer number of seconds, got {raw!r}")
    return raw


def _time(raw: Any, where: str) -> time | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not _TIME.match(raw):
        raise TariffFormatError(f"{where}: must be local time 'HH:MM' (00:00-23:59), got {raw!r}")
    return time(int(raw[:2]), int(raw[3:]))


def _date(raw: Any, where: str) -> date | None:
    if raw is None:
        return None
    try:
        if not isinstance(raw, str) or not _DATE.match(raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise TariffFormatError(f"{where}: must be a local date 'YYYY-MM-DD', got {raw!r}") from None


def _datetime(raw: Any, where: str) -> datetime | None:
    if raw is None:
        return None
    try:
        # Python 3.11 fromisoformat accepts "Z" and 1-6 fractional digits; no offset means UTC (OCPI).
        parsed = datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        raise TariffFormatError(f"{where}: must be an RFC 3339 UTC DateTime, got {raw!r}") from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def _enum(kind: type[enum.Enum], raw: Any, where: str, *, required: bool = False) -> Any:
    if raw is None:
        if required:
            raise TariffFormatError(f"{where}: required, one of {[m.value for m in kind]}")
        return None
    try:
        return kind(raw)
    except ValueError:
        raise TariffFormatError(f"{where}: {raw!r} is not one of {[m.value for m in kind]}") from None

