"""How a charger looks in the management API (shared by the chargers and locations controllers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from ..db.models import Charger

__all__ = ["ChargerOut", "charger_out"]


class ChargerOut(msgspec.Struct, kw_only=True):
    id: str
    identity: str
    location_id: str | None
    ocpp_version: str
    brand_slug: str | None
    model_slug: str | None
    ws_url: str | None          # null: the embedded CSMS
    enabled: bool
    has_password: bool
    created_at: datetime
    # The live view of the simulator (connection, boot status, connectors, transaction, power, energy, SoC).
    state: dict[str, Any] | None = None


def charger_out(charger: Charger, state: dict[str, Any] | None = None) -> ChargerOut:
    return ChargerOut(id=charger.id, identity=charger.identity, location_id=charger.location_id,
                      ocpp_version=charger.ocpp_version, brand_slug=charger.brand_slug, model_slug=charger.model_slug,
                      ws_url=charger.ws_url, enabled=charger.enabled, has_password=bool(charger.password),
                      created_at=charger.created_at, state=state)
