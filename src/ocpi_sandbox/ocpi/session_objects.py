"""Serve stored sessions and CDRs (kept in the OCPI 2.2.1 shape) as 2.2.1 or 2.3.0 objects.

2.3.0 changes only the Price type here (reference ocpi.md §6.1): ``{excl_vat, incl_vat}`` becomes
``{before_taxes, taxes: [TaxAmount]}``; the VAT is the difference, named "VAT". A CDR embeds the tariff it
was priced with, in the version's shape.
"""

from __future__ import annotations

from typing import Any

from ..db.models import CpoCdr, CpoParty, CpoSession
from ..domain.cpo_sessions import stamp
from .tariff_versions import tariff_json

__all__ = ["session_object", "session_object_fields", "cdr_object"]

_PRICES = ("total_cost", "total_fixed_cost", "total_energy_cost", "total_time_cost", "total_parking_cost",
           "total_reservation_cost")


def _price_230(price: dict[str, float]) -> dict[str, Any]:
    converted: dict[str, Any] = {"before_taxes": price["excl_vat"]}
    if price.get("incl_vat") is not None:
        converted["taxes"] = [{"name": "VAT", "amount": round(price["incl_vat"] - price["excl_vat"], 4)}]
    return converted


def _prices(obj: dict[str, Any], version: str) -> dict[str, Any]:
    if version == "2.3.0":
        obj = {k: (_price_230(v) if k in _PRICES and isinstance(v, dict) else v) for k, v in obj.items()}
    return obj


def session_object(row: CpoSession, party: CpoParty, version: str) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "country_code": party.country_code, "party_id": party.party_id, "id": row.id,
        "start_date_time": stamp(row.start_date_time), "kwh": row.kwh, "cdr_token": row.cdr_token,
        "auth_method": row.auth_method, "location_id": row.location_id, "evse_uid": row.evse_uid,
        "connector_id": row.connector_id, "currency": row.currency, "status": row.status,
        "last_updated": stamp(row.last_updated),
    }
    if row.end_date_time is not None:
        obj["end_date_time"] = stamp(row.end_date_time)
    if row.authorization_reference:
        obj["authorization_reference"] = row.authorization_reference
    if row.charging_periods:
        obj["charging_periods"] = row.charging_periods
    if row.total_cost:
        obj["total_cost"] = row.total_cost
    return _prices(obj, version)


def session_object_fields(snapshot: dict[str, Any], version: str) -> dict[str, Any]:
    """Render stored Session fields (2.2.1 shape) for ``version``."""
    return _prices(dict(snapshot), version)


def cdr_object(cdr: CpoCdr, party: CpoParty, version: str) -> dict[str, Any]:
    obj = _prices(dict(cdr.data), version)
    tariff = cdr.breakdown.get("tariff")
    if tariff:
        obj["tariffs"] = [tariff_json(tariff["data"], tariff["ocpi_id"], tariff["last_updated"], party, version)]
    return obj
