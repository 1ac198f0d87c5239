"""Price an OCPI CDR against an OCPI Tariff and report the result: the "check a CPO's bill" tool.

Input is plain decoded JSON of OCPI 2.2.1 or 2.3.0 (as ``ocpi-sandbox price`` and ``POST /api/pricing`` receive
it); output is a JSON-ready report with the totals a CDR carries, excl./incl. VAT, and the per-period
breakdown. A CdrLocation has no time zone (ocpi/ocpi#517), so the caller says which one the tariff's time
restrictions are read in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from .charging_periods import CdrDimensionType, ChargingPeriod
from .errors import InvalidInput
from .pricing import Cost, SessionCosts, price_session
from .tariffs import TariffFormatError, tariff_from_ocpi

__all__ = ["check_cdr_price", "periods_from_ocpi_cdr"]

_FOUR = Decimal("0.0001")


def _datetime(value: Any, where: str) -> datetime:
    try:
        parsed = msgspec.convert(value, datetime)
    except msgspec.ValidationError:
        raise InvalidInput(f"{where} must be an OCPI DateTime such as 2026-01-31T12:00:00Z, got {value!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def periods_from_ocpi_cdr(cdr: dict[str, Any]) -> tuple[datetime, datetime, list[ChargingPeriod]]:
    """Read start, end and charging periods of an OCPI CDR (the same shape in 2.2.1 and 2.3.0)."""
    if not isinstance(cdr, dict):
        raise InvalidInput("the CDR must be a JSON object")
    start = _datetime(cdr.get("start_date_time"), "cdr.start_date_time")
    end = _datetime(cdr.get("end_date_time"), "cdr.end_date_time")
    raw_periods = cdr.get("charging_periods")
    if not isinstance(raw_periods, list) or not raw_periods:
        raise InvalidInput("cdr.charging_periods must be a non-empty list")
    periods = []
    for i, raw in enumerate(raw_periods):
        where = f"cdr.charging_periods[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("dimensions"), list):
            raise InvalidInput(f"{where} needs start_date_time and a list of dimensions")
        dimensions: dict[CdrDimensionType, Decimal] = {}
        for j, dim in enumerate(raw["dimensions"]):
            try:
                kind = CdrDimensionType(dim["type"])
                volume = dim["volume"]
                if isinstance(volume, bool) or not isinstance(volume, (int, float)):
                    raise TypeError
            except (KeyError, TypeError, ValueError):
                raise InvalidInput(f"{where}.dimensions[{j}] must be {{type: CdrDimensionType, volume: number}}, "
                                   f"got {dim!r}") from None
            dimensions[kind] = Decimal(str(volume))
        periods.append(ChargingPeriod(start_date_time=_datetime(raw.get("start_date_time"), f"{where}.start_date_time"),
                                      dimensions=dimensions, tariff_id=raw.get("tariff_id")))
    return start, end, periods


def _money(value: Decimal) -> float:
    return float(value.quantize(_FOUR))


def _cost(cost: Cost) -> dict[str, float]:
    return {"excl_vat": _money(cost.before_taxes), "incl_vat": _money(cost.after_taxes)}


def _report(costs: SessionCosts) -> dict[str, Any]:
    return {
        "currency": costs.currency,
        "total_cost": _cost(costs.total_cost),
        "total_fixed_cost": _cost(costs.total_fixed_cost),
        "total_energy_cost": _cost(costs.total_energy_cost),
        "total_time_cost": _cost(costs.total_time_cost),
        "total_parking_cost": _cost(costs.total_parking_cost),
        "total_reservation_cost": _cost(costs.total_reservation_cost),
        "total_energy": _money(costs.total_energy),
        "total_time": _money(costs.total_time),
        "total_parking_time": _money(costs.total_parking_time),
        "taxes": [{"name": t.name, "percentage": float(t.percentage), "amount": _money(t.amount)}
                  for t in costs.taxes],
        "min_price_applied": costs.min_price_applied,
        "max_price_applied": costs.max_price_applied,
        "notices": list(costs.notices),
        "periods": [{
            "start_date_time": p.start_date_time.isoformat().replace("+00:00", "Z"),
            "end_date_time": p.end_date_time.isoformat().replace("+00:00", "Z"),
            "reservation": p.reservation,
            "cost": _cost(p.cost),
            "components": [{
                "type": c.dimension.value, "category": c.category.value, "tariff_element": c.element_index,
                "price": float(c.price), "vat": float(c.vat) if c.vat is not None else None,
                "step_size": c.step_size, "volume": _money(c.quantity), "billed_volume": _money(c.billed_quantity),
                "cost": _cost(c.cost),
            } for c in p.components],
        } for p in costs.periods],
    }


def check_cdr_price(tariff: dict[str, Any], cdr: dict[str, Any], *, version: str, time_zone: str = "UTC"
                    ) -> dict[str, Any]:
    """Price ``cdr`` with ``tariff`` (OCPI ``version`` JSON) and return the report; InvalidInput says what to fix."""
    if version not in ("2.2.1", "2.3.0"):
        raise InvalidInput(f"version must be 2.2.1 or 2.3.0, got {version!r}")
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"time_zone {time_zone!r} is not an IANA time zone such as 'Europe/Amsterdam'") from None
    try:
        parsed = tariff_from_ocpi(tariff, version)
    except TariffFormatError as exc:
        raise InvalidInput(f"invalid OCPI {version} tariff: {exc}") from None
    start, end, periods = periods_from_ocpi_cdr(cdr)
    try:
        costs = price_session(parsed, zone, periods, start, end)
    except ValueError as exc:
        raise InvalidInput(f"cannot price this CDR: {exc}") from None
    return _report(costs)
