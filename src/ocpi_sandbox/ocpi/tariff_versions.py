"""Serve a stored tariff (kept in the OCPI 2.3.0 shape) as a 2.3.0 or 2.2.1 Tariff object.

2.2.1 differs in three places (reference ocpi.md §6.1): no ``tax_included`` (prices are excl. VAT), ``min_price``/
``max_price`` are a Price ``{excl_vat, incl_vat}`` instead of ``{before_taxes, after_taxes}``, and no
``preauthorize_amount``. A 2.3.0 tariff whose prices include tax is converted to excl. VAT with each
component's ``vat`` (a price without ``vat`` cannot be split and is left as it is).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..db.models import CpoParty, TariffRecord
from .primitives import ocpi_time

__all__ = ["tariff_object", "tariff_json"]


def _limit_221(limit: dict[str, Any] | None) -> dict[str, Any] | None:
    if limit is None:
        return None
    price = {"excl_vat": limit["before_taxes"]}
    if limit.get("after_taxes") is not None:
        price["incl_vat"] = limit["after_taxes"]
    return price


def _excl_vat(component: dict[str, Any]) -> dict[str, Any]:
    vat = component.get("vat")
    if vat is None:
        return component
    return {**component, "price": round(component["price"] / (1 + vat / 100), 4)}


def tariff_object(row: TariffRecord, party: CpoParty, version: str) -> dict[str, Any]:
    """Return the Tariff as OCPI ``version`` JSON (a dict, ready to encode)."""
    stamp: datetime = ocpi_time(row.last_updated)
    return tariff_json(row.data, row.ocpi_id, stamp.isoformat().replace("+00:00", "Z"), party, version)


def tariff_json(body: dict[str, Any], ocpi_id: str, last_updated: str, party: CpoParty, version: str
                ) -> dict[str, Any]:
    """Return a tariff body (2.3.0 shape, as stored) as a full OCPI ``version`` Tariff."""
    data = {**body, "country_code": party.country_code, "party_id": party.party_id, "id": ocpi_id,
            "last_updated": last_updated}
    if version == "2.3.0":
        return data
    tax_included = data.pop("tax_included", "NO")
    data.pop("preauthorize_amount", None)
    for key in ("min_price", "max_price"):
        if key in data:
            data[key] = _limit_221(data[key])
    if tax_included == "YES":
        data["elements"] = [{**e, "price_components": [_excl_vat(c) for c in e["price_components"]]}
                            for e in data["elements"]]
    return data
