"""Chargers of a tenant, built from catalog models and bound to a location.

A charger's ``hardware`` is what OCPI publishes (EVSEs, connectors, tariffs), its ``config`` what a simulator needs
(boot data, EVSEs, OCPP configuration); its live state is what it reported to the embedded CSMS. Any OCPP client
that connects as the charger's identity is that charger.
"""

from __future__ import annotations

import re
import secrets
from functools import cache
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..paths import data_dir
from ..db.models import (Charger, ChargerFrame, CsmsConnector, CsmsStation, CsmsTransaction, Location, TariffRecord,
                         new_id, utcnow)
from .catalog import Catalog, CatalogLookupError, Model, load_catalog
from .errors import Conflict, InvalidInput, NotFound
from . import location_view
from .locations import get_location
from .reservations import remove_reservations

@cache
def catalog() -> Catalog:
    """The catalog, read once per process; found like every data file (checkout, wheel, OCPI_SANDBOX_DATA_DIR)."""
    return load_catalog(data_dir("presets") / "catalog.toml")


__all__ = ["catalog", "station_config", "create_charger", "build_charger", "change_charger", "list_chargers",
           "get_charger", "delete_charger", "charger_state", "charger_frames", "hardware_of", "CHANGEABLE"]

_IDENTITY = re.compile(r"^[A-Za-z0-9._\-*]{1,48}$")
CAPABILITIES = ["REMOTE_START_STOP_CAPABLE", "UNLOCK_CAPABLE", "RESERVABLE", "RFID_READER", "CHARGING_PROFILE_CAPABLE"]


def hardware_of(model: Model, tariff_ids: list[str]) -> list[dict[str, Any]]:
    """The EVSEs and connectors of a model, as OCPI publishes them (1-based ids as OCPP numbers them)."""
    return [{"evse_id": i, "capabilities": CAPABILITIES, "connectors": [
        {"connector_id": j, "standard": c.standard, "format": c.format, "power_type": c.power_type,
         "max_voltage": c.max_voltage, "max_amperage": c.max_amperage, "max_electric_power": c.max_electric_power,
         "ocpp201_type": c.ocpp201_type, **({"standard_v221": c.standard_v221} if c.standard_v221 else {}),
         **({"tariff_ids": tariff_ids} if tariff_ids else {})}
        for j, c in enumerate(evse.connectors, start=1)]} for i, evse in enumerate(model.evses, start=1)]


def station_config(model: Model, identity: str, version: str) -> dict[str, Any]:
    """The simulator's StationConfig (as JSON) for a charger of ``model``: boot data, EVSEs, OCPP settings."""
    if version == "1.6":
        configuration = model.ocpp16_configuration_strings()
    else:
        configuration = {".".join(p for p in (v.component, v.variable, v.variable_instance) if p): v.wire_value
                         for v in model.ocpp201_variables if v.component_instance is None}
    evses = []
    for i, evse in enumerate(model.evses, start=1):
        first = evse.connectors[0]
        evses.append({
            "id": i, "max_power_w": float(evse.max_power_w),
            "phases": 1 if first.is_dc else first.phases, "voltage": float(first.phase_voltage),
            "connectors": [{"id": j, "type": c.ocpp201_type, "standard": c.standard, "format": c.format,
                            "power_type": c.power_type} for j, c in enumerate(evse.connectors, start=1)]})
    return {"identity": identity, "ocpp_version": version, "vendor": model.boot_vendor, "model": model.boot_model,
            "serial_number": f"{model.serial_prefix}{secrets.token_hex(4).upper()}"[:25],
            "firmware_version": model.firmware_version, "station_max_power_w": model.station_max_power_w,
            "evses": evses, "configuration": configuration,
            # A remote start plugs the virtual EV by itself, so an OCPI START_SESSION gives a session at once.
            "auto_plug_on_remote_start": True}


async def create_charger(session: AsyncSession, tenant_id: str, *, location_id: str, brand_slug: str,
                         model_slug: str, ocpp_version: str | None = None, identity: str | None = None,
                         ws_url: str | None = None, password: str | None = None,
                         tariff_ids: list[str] | None = None, simulate: bool = True,
                         configuration: dict[str, str] | None = None) -> Charger:
    charger = await build_charger(session, tenant_id, location_id=location_id, brand_slug=brand_slug,
                                  model_slug=model_slug, ocpp_version=ocpp_version, identity=identity, ws_url=ws_url,
                                  password=password, tariff_ids=tariff_ids, simulate=simulate,
                                  configuration=configuration)
    session.add(charger)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"a charger with identity {charger.identity!r} already exists; identities are unique "
                       "across the sandbox (they name the WebSocket URL)") from None
    return charger


async def build_charger(session: AsyncSession, tenant_id: str, *, location_id: str, brand_slug: str,
                        model_slug: str, ocpp_version: str | None = None, identity: str | None = None,
                        ws_url: str | None = None, password: str | None = None,
                        tariff_ids: list[str] | None = None, simulate: bool = True,
                        configuration: dict[str, str] | None = None, charger_id: str | None = None) -> Charger:
    """Validate a new charger and build it, unsaved: bulk jobs add many in one transaction.

    ``charger_id`` fixes the id in advance, so a retried job step can tell its own charger from another's.
    """
    location = await get_location(session, tenant_id, location_id)
    try:
        model = catalog().model(brand_slug, model_slug)
    except CatalogLookupError as exc:
        raise InvalidInput(str(exc)) from None
    await _check_tariffs(session, location, tariff_ids)
    version = ocpp_version or model.ocpp_versions[-1]
    if version not in model.ocpp_versions:
        raise InvalidInput(f"model {brand_slug}/{model_slug} speaks OCPP {', '.join(model.ocpp_versions)}, "
                           f"not {version}")
    identity = identity or f"{model.serial_prefix}-{secrets.token_hex(3).upper()}"
    if not _IDENTITY.match(identity):
        raise InvalidInput(f"identity {identity!r} must be 1-48 letters, digits or . _ - * (it ends the WebSocket "
                           "URL, and OCPP 2.0.1 forbids ':')")
    config = station_config(model, identity, version)
    config["configuration"].update(configuration or {})
    return Charger(id=charger_id or new_id(), tenant_id=tenant_id, location_id=location.id, identity=identity,
                   ocpp_version=version, brand_slug=brand_slug, model_slug=model_slug, ws_url=ws_url,
                   password=password, config=config, hardware=hardware_of(model, tariff_ids or []), enabled=simulate)


async def _check_tariffs(session: AsyncSession, location: Location, tariff_ids: list[str] | None) -> None:
    for tariff_id in tariff_ids or []:
        known = await session.scalar(select(TariffRecord.id).where(
            TariffRecord.cpo_party_id == location.cpo_party_id, TariffRecord.ocpi_id == tariff_id)
        ) if location.cpo_party_id else None
        if known is None:
            raise NotFound(f"tariff {tariff_id!r} is not a tariff of this location's CPO party; create it with "
                           "POST /api/parties/{id}/tariffs (and bind the location to that party)")


# What a charger update may change, as create_charger names it; "simulate" is stored as ``enabled``.
CHANGEABLE = ("ws_url", "password", "simulate", "configuration", "tariff_ids")


async def change_charger(session: AsyncSession, tenant_id: str, charger: Charger, changes: dict[str, Any]) -> bool:
    """Apply ``changes`` (keys of CHANGEABLE; a key present with None clears ws_url/password) without committing.

    Return whether the charger's simulator has to restart to see them (where it connects, how, its OCPP
    configuration); tariffs only change what OCPI publishes.
    """
    restart = False
    if "ws_url" in changes and changes["ws_url"] != charger.ws_url:
        charger.ws_url, restart = changes["ws_url"], True
    if "password" in changes and changes["password"] != charger.password:
        charger.password, restart = changes["password"], True
    if "simulate" in changes and bool(changes["simulate"]) != charger.enabled:
        charger.enabled, restart = bool(changes["simulate"]), True
    overrides = changes.get("configuration") or {}
    if any(charger.config["configuration"].get(k) != v for k, v in overrides.items()):
        # A new dict, not an in-place edit: the JSON column notices assignments only.
        charger.config = {**charger.config, "configuration": {**charger.config["configuration"], **overrides}}
        restart = True
    if "tariff_ids" in changes:
        tariff_ids = changes["tariff_ids"] or []
        location = await get_location(session, tenant_id, charger.location_id) if charger.location_id else None
        if location is None:
            raise InvalidInput(f"charger {charger.identity} has no location, so no CPO party whose tariffs to use")
        await _check_tariffs(session, location, tariff_ids)
        charger.hardware = [{**evse, "connectors": [
            {**{k: v for k, v in c.items() if k != "tariff_ids"}, **({"tariff_ids": tariff_ids} if tariff_ids else {})}
            for c in evse["connectors"]]} for evse in charger.hardware]
    charger.updated_at = utcnow()
    return restart


async def list_chargers(session: AsyncSession, tenant_id: str, *, location_id: str | None = None) -> list[Charger]:
    query = select(Charger).where(Charger.tenant_id == tenant_id)
    if location_id is not None:
        query = query.where(Charger.location_id == location_id)
    return list((await session.scalars(query.order_by(Charger.created_at, Charger.id))).all())


async def get_charger(session: AsyncSession, tenant_id: str, charger_id: str) -> Charger:
    charger = await session.get(Charger, charger_id)
    if charger is None or charger.tenant_id != tenant_id:
        raise NotFound(f"no charger {charger_id} in this tenant; list them with GET /api/chargers")
    return charger


async def delete_charger(session: AsyncSession, tenant_id: str, charger_id: str) -> Charger:
    charger = await get_charger(session, tenant_id, charger_id)
    # OCPI has no EVSE delete: the eMSPs get status REMOVED (in the same transaction as the delete).
    await location_view.announce_removed_evses(session, charger)
    await remove_reservations(session, tenant_id, identities=[charger.identity],
                              why=f"charger {charger.identity} was deleted")
    await session.delete(charger)
    await session.commit()
    return charger


async def charger_state(session: AsyncSession, charger: Charger) -> dict[str, Any]:
    """What the embedded CSMS knows of the charger: connection, boot, each connector, the running transaction."""
    station = await session.get(CsmsStation, charger.identity)
    connectors = (await session.scalars(select(CsmsConnector).where(CsmsConnector.identity == charger.identity)
                                        .order_by(CsmsConnector.evse_id, CsmsConnector.connector_id))).all()
    tx = await session.scalar(select(CsmsTransaction).where(
        CsmsTransaction.identity == charger.identity, CsmsTransaction.active.is_(True))
        .order_by(CsmsTransaction.started_at.desc()))
    return {
        "connected": bool(station and station.connected),
        "boot_status": station.registration_status if station else None,
        "last_boot_at": station.last_boot_at.isoformat() if station and station.last_boot_at else None,
        "connectors": [{"evse_id": c.evse_id, "connector_id": c.connector_id, "status": c.status,
                        "error_code": c.error_code} for c in connectors],
        "transaction": None if tx is None else {
            "transaction_id": tx.transaction_id, "evse_id": tx.evse_id, "id_token": tx.id_token,
            "started_at": tx.started_at.isoformat() if tx.started_at else None, "charging_state": tx.charging_state,
            "energy_wh": round((tx.meter_last_wh or 0) - (tx.meter_start_wh or 0), 1)},
    }


async def charger_frames(session: AsyncSession, charger: Charger, *, action: str | None, direction: str | None,
                         since: datetime | None, until: datetime | None, before: int | None, limit: int,
                         unique_id: str | None = None, after: int | None = None, oldest_first: bool = False
                         ) -> list[ChargerFrame]:
    """A page of the charger's OCPP frames, newest first (cursor ``before``: the smallest id of the previous page),
    or oldest first (cursor ``after``: the largest id of the previous page)."""
    query = select(ChargerFrame).where(ChargerFrame.identity == charger.identity)
    if action is not None:
        query = query.where(ChargerFrame.action == action)
    if direction is not None:
        query = query.where(ChargerFrame.direction == direction)
    if unique_id is not None:
        query = query.where(ChargerFrame.unique_id == unique_id)
    if since is not None:
        query = query.where(ChargerFrame.at >= since)
    if until is not None:
        query = query.where(ChargerFrame.at < until)
    if before is not None:
        query = query.where(ChargerFrame.id < before)
    if after is not None:
        query = query.where(ChargerFrame.id > after)
    order = ChargerFrame.id.asc() if oldest_first else ChargerFrame.id.desc()
    return list((await session.scalars(query.order_by(order).limit(limit))).all())
