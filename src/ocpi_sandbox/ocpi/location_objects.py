"""Turn a ``LocationView`` into an OCPI 2.2.1 or 2.3.0 Location / EVSE / Connector object.

The objects are built as plain JSON and checked against the version's Structs before they leave, so a shape
error is ours to see (a 500 in our log), never the eMSP's to puzzle over.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from ..db.models import CpoParty
from ..domain.location_view import EvseView, LocationView
from .primitives import ocpi_time
from .v221 import locations as v221
from .v230 import locations as v230

__all__ = ["location_object", "evse_object", "connector_object"]

_TYPES = {"2.2.1": v221, "2.3.0": v230}


def _stamp(value: datetime) -> str:
    return ocpi_time(value).isoformat().replace("+00:00", "Z")


def connector_object(connector: dict[str, Any], last_updated: datetime, version: str) -> dict[str, Any]:
    obj = {"id": str(connector["connector_id"]), "standard": connector["standard"], "format": connector["format"],
           "power_type": connector["power_type"], "max_voltage": connector["max_voltage"],
           "max_amperage": connector["max_amperage"], "last_updated": _stamp(last_updated)}
    if version == "2.2.1" and connector.get("standard_v221"):
        obj["standard"] = connector["standard_v221"]  # e.g. SAE_J3400 exists only from 2.3.0 on
    if connector.get("max_electric_power"):
        obj["max_electric_power"] = connector["max_electric_power"]
    if connector.get("tariff_ids"):
        obj["tariff_ids"] = connector["tariff_ids"]
    return obj


def evse_object(evse: EvseView, version: str) -> dict[str, Any]:
    obj = {"uid": evse.uid, "evse_id": evse.evse_id, "status": evse.status,
           "connectors": [connector_object(c, evse.last_updated, version) for c in evse.connectors],
           "last_updated": _stamp(evse.last_updated)}
    if evse.capabilities:
        obj["capabilities"] = evse.capabilities
    return obj


def location_object(view: LocationView, party: CpoParty, version: str) -> dict[str, Any]:
    loc = view.location
    obj: dict[str, Any] = {
        "country_code": party.country_code, "party_id": party.party_id, "id": loc.ocpi_id, "publish": True,
        "name": loc.name, "address": loc.address, "city": loc.city, "country": loc.country,
        "coordinates": {"latitude": loc.latitude, "longitude": loc.longitude}, "time_zone": loc.time_zone,
        "evses": [evse_object(e, version) for e in view.evses], "last_updated": _stamp(view.last_updated),
    }
    optional = {"postal_code": loc.postal_code, "state": loc.state, "parking_type": loc.parking_type,
                "opening_times": loc.opening_times, "facilities": loc.facilities or None}
    obj.update({k: v for k, v in optional.items() if v is not None})
    if loc.operator_name:
        obj["operator"] = {"name": loc.operator_name}
    if loc.owner_name:
        obj["owner"] = {"name": loc.owner_name}
    # Checked, not converted: what we send is exactly this JSON.
    msgspec.convert(obj, _TYPES[version].Location, strict=False)
    return obj
