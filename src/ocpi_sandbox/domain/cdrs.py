"""Make the CDR of a finished session: its charging periods priced with the session's tariff (OCPI 2.2.1
mod_cdrs; reference ocpi.md §4.3, §5), with the cost breakdown per period kept beside it.

A CDR freezes the Location, EVSE, Tariff and Token as they were; it is stored in the OCPI 2.2.1 shape (the OCPI
layer derives 2.3.0 when it serves) and POSTed to the eMSP through the outbox by the caller.
"""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Charger, CpoCdr, CpoParty, CpoSession, Location, TariffRecord, new_id, utcnow
from .charging_periods import ChargingPeriod
from .location_view import emi3_evse_id
from .pricing import Cost, SessionCosts, price_session
from .tariffs import Tariff

__all__ = ["stamp", "price_json", "periods_json", "make_cdr"]

log = logging.getLogger(__name__)

_FOUR = Decimal("0.0001")


def stamp(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def price_json(cost: Cost) -> dict[str, float]:
    """A cost as an OCPI 2.2.1 Price."""
    return {"excl_vat": float(cost.before_taxes.quantize(_FOUR)), "incl_vat": float(cost.after_taxes.quantize(_FOUR))}


def periods_json(periods: list[ChargingPeriod]) -> list[dict[str, Any]]:
    """Charging periods as OCPI ChargingPeriod objects."""
    return [{"start_date_time": stamp(p.start_date_time), **({"tariff_id": p.tariff_id} if p.tariff_id else {}),
             "dimensions": [{"type": d.value, "volume": float(v.quantize(_FOUR))} for d, v in p.dimensions.items()]}
            for p in periods]


def _breakdown(tariff_row: TariffRecord, costs: SessionCosts) -> dict[str, Any]:
    return {"tariff": {"ocpi_id": tariff_row.ocpi_id, "data": tariff_row.data, "last_updated": stamp(tariff_row.last_updated)},
            "periods": [{"start_date_time": stamp(p.start_date_time), "cost": price_json(p.cost),
                         "components": [{"type": c.dimension.value, "category": c.category.value,
                                         "volume": float(c.quantity.quantize(_FOUR)),
                                         "billed_volume": float(c.billed_quantity.quantize(_FOUR)),
                                         "price": float(c.price), "cost": price_json(c.cost)}
                                        for c in p.components]} for p in costs.periods],
            "notices": list(costs.notices)}


def _totals(costs: SessionCosts, reserved: bool) -> dict[str, Any]:
    totals = {"total_cost": price_json(costs.total_cost), "total_fixed_cost": price_json(costs.total_fixed_cost),
              "total_energy": float(costs.total_energy.quantize(_FOUR)),
              "total_energy_cost": price_json(costs.total_energy_cost),
              "total_time": float(costs.total_time.quantize(_FOUR)), "total_time_cost": price_json(costs.total_time_cost),
              "total_parking_time": float(costs.total_parking_time.quantize(_FOUR)),
              "total_parking_cost": price_json(costs.total_parking_cost)}
    if reserved:
        totals["total_reservation_cost"] = price_json(costs.total_reservation_cost)
    return totals


async def make_cdr(session: AsyncSession, row: CpoSession, party: CpoParty, *, periods: list[ChargingPeriod],
                   start: datetime, end: datetime, identity: str, evse_id: int, zone: tzinfo,
                   tariff_row: TariffRecord | None, tariff: Tariff | None, reservation_expired: bool = False,
                   costs: SessionCosts | None = None) -> tuple[CpoCdr | None, SessionCosts | None]:
    """Price ``periods`` and add the CDR of ``row`` to ``session`` (not committed); return it with the costs.

    ``start`` is the CDR's start: the session's, or the reservation's when the session began as one (OCPI
    mod_cdrs, CDR.start_date_time). A priced session gets ``row.total_cost``; ``reservation_expired`` prices a
    reservation that ended unused with RESERVATION_EXPIRES elements first (mod_tariffs, ReservationRestrictionType).
    ``costs``: the caller priced the periods already (the same way). No CDR (None) when the session's location
    has been deleted: a CDR freezes a location the sandbox no longer knows; the session still gets its cost.
    """
    location = await session.scalar(select(Location).where(Location.cpo_party_id == row.cpo_party_id,
                                                           Location.ocpi_id == row.location_id))
    charger = await session.scalar(select(Charger).where(Charger.identity == identity,
                                                         Charger.tenant_id == row.tenant_id))
    connectors = [c for e in (charger.hardware if charger else None) or [] if e["evse_id"] == evse_id
                  for c in e["connectors"]]
    connector = next((c for c in connectors if str(c["connector_id"]) == row.connector_id),
                     connectors[0] if connectors else {})
    breakdown: dict[str, Any] = {"tariff": None, "periods": []}
    totals: dict[str, Any] = {"total_cost": {"excl_vat": 0.0, "incl_vat": 0.0}, "total_energy": row.kwh,
                              "total_time": round((end - start).total_seconds() / 3600, 4)}
    if tariff is not None and tariff_row is not None and periods:
        costs = costs or price_session(tariff, zone, periods, start, end, reservation_expired=reservation_expired)
        totals = _totals(costs, any(p.reservation for p in costs.periods))
        breakdown = _breakdown(tariff_row, costs)
        row.total_cost = totals["total_cost"]
    else:
        costs = None
    if location is None:
        log.warning("session %s: location %s was deleted, so no CDR is made", row.id, row.location_id)
        return None, costs
    cdr = CpoCdr(id=new_id(), tenant_id=row.tenant_id, cpo_party_id=row.cpo_party_id, partner_id=row.partner_id,
                 session_id=row.id, breakdown=breakdown, last_updated=utcnow())
    wire_periods = periods_json(periods) or [
        {"start_date_time": stamp(start), "dimensions": [{"type": "ENERGY", "volume": row.kwh}]}]
    cdr.data = {
        "country_code": party.country_code, "party_id": party.party_id, "id": cdr.id,
        "start_date_time": stamp(start), "end_date_time": stamp(end), "session_id": row.id,
        "cdr_token": row.cdr_token, "auth_method": row.auth_method,
        **({"authorization_reference": row.authorization_reference} if row.authorization_reference else {}),
        "cdr_location": {
            "id": location.ocpi_id, "name": location.name[:255], "address": location.address[:45],
            "city": location.city[:45], "postal_code": (location.postal_code or "")[:10] or None,
            "country": location.country, "coordinates": {"latitude": location.latitude,
                                                         "longitude": location.longitude},
            "evse_uid": row.evse_uid,
            "evse_id": emi3_evse_id(party.country_code, party.party_id, identity, evse_id),
            "connector_id": row.connector_id,
            "connector_standard": connector.get("standard", "IEC_62196_T2"),
            "connector_format": connector.get("format", "SOCKET"),
            "connector_power_type": connector.get("power_type", "AC_3_PHASE")},
        "currency": row.currency, "charging_periods": wire_periods,
        **totals, "last_updated": stamp(cdr.last_updated),
    }
    cdr.data["cdr_location"] = {k: v for k, v in cdr.data["cdr_location"].items() if v is not None}
    session.add(cdr)
    return cdr, costs
