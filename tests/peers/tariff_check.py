"""An eMSP's own check of a CDR's cost: recompute it from the Tariff it pulled (OCPI 2.2.1 JSON), written apart
from the sandbox's pricing engine so the two can disagree (reference ocpi.md §5.3-§5.5).

Covers what the presets use: FLAT, ENERGY, TIME and PARKING_TIME components; start/end time, day-of-week,
duration and kWh restrictions in the location's time zone; step_size on session totals; VAT; min/max price.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import ROUND_CEILING, Decimal
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["recompute_cost"]

_DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _hhmm(text: str) -> time:
    return time(int(text[:2]), int(text[3:5]))


def _matches(restrictions: dict[str, Any] | None, local: datetime, elapsed_s: float, kwh_before: Decimal) -> bool:
    r = restrictions or {}
    now = local.time()
    if "start_time" in r or "end_time" in r:
        start, end = _hhmm(r.get("start_time", "00:00")), _hhmm(r.get("end_time", "00:00"))
        if end == time(0, 0) and start != time(0, 0):
            inside = now >= start
        elif end < start:
            inside = now >= start or now < end
        else:
            inside = start <= now < end
        if not inside:
            return False
    if r.get("day_of_week") and _DAYS[local.weekday()] not in r["day_of_week"]:
        return False
    if "min_duration" in r and elapsed_s < r["min_duration"]:
        return False
    if "max_duration" in r and elapsed_s >= r["max_duration"]:
        return False
    if "min_kwh" in r and kwh_before < Decimal(str(r["min_kwh"])):
        return False
    return not ("max_kwh" in r and kwh_before >= Decimal(str(r["max_kwh"])))


def recompute_cost(tariff: dict[str, Any], cdr: dict[str, Any], time_zone: str) -> dict[str, Decimal]:
    """Return ``{"excl_vat", "incl_vat"}`` of the CDR's periods priced with ``tariff``."""
    zone = ZoneInfo(time_zone)
    start = _at(cdr["start_date_time"])
    periods = sorted(cdr["charging_periods"], key=lambda p: p["start_date_time"])
    lines: list[dict[str, Any]] = []  # one per (period, dimension): volume and the component pricing it
    flat_done, kwh_before = False, Decimal(0)
    for i, period in enumerate(periods):
        begin = _at(period["start_date_time"])
        volumes = {d["type"]: Decimal(str(d["volume"])) for d in period["dimensions"]}
        local, elapsed = begin.astimezone(zone), (begin - start).total_seconds()
        for dimension in ("FLAT", "ENERGY", "TIME", "PARKING_TIME"):
            if dimension == "FLAT" and flat_done:
                continue  # once per session, in the first period where a FLAT component is active
            component = next((c for e in tariff["elements"] if _matches(e.get("restrictions"), local, elapsed,
                                                                         kwh_before)
                              for c in e["price_components"] if c["type"] == dimension), None)
            if component is None:
                continue
            volume = Decimal(1) if dimension == "FLAT" else volumes.get(dimension, Decimal(0))
            if dimension == "FLAT":
                flat_done = True
            lines.append({"period": i, "type": dimension, "volume": volume, "component": component})
        kwh_before += volumes.get("ENERGY", Decimal(0))
    # step_size: once per session, on the totals, with the last component's step (§5.4).
    parking = [line for line in lines if line["type"] == "PARKING_TIME"]
    # ENERGY steps are Wh (volumes kWh); TIME and PARKING_TIME share one rounding in seconds, parking first.
    rounded = [("ENERGY", Decimal(1000)), ("PARKING_TIME" if parking else "TIME", Decimal(3600))]
    for dimension, per_unit in rounded:
        billed = [line for line in lines if line["type"] == dimension]
        if not billed:
            continue
        step = Decimal(max(billed[-1]["component"]["step_size"], 1))
        total = sum((line["volume"] for line in billed), Decimal(0)) * per_unit
        extra = ((total / step).to_integral_value(ROUND_CEILING) * step - total) / per_unit
        billed[-1]["volume"] += extra
    excl = incl = Decimal(0)
    for line in lines:
        component = line["component"]
        cost = line["volume"] * Decimal(str(component["price"]))
        excl += cost
        vat = component.get("vat")
        incl += cost * (1 + Decimal(str(vat)) / 100) if vat is not None else cost
    for key, clamp in (("max_price", min), ("min_price", max)):
        limit = tariff.get(key)
        if limit:
            excl = clamp(excl, Decimal(str(limit["excl_vat"])))
            if limit.get("incl_vat") is not None:
                incl = clamp(incl, Decimal(str(limit["incl_vat"])))
    return {"excl_vat": excl, "incl_vat": incl}
