"""Locations of a tenant: create, read, update, delete (the charging sites OCPI publishes)."""

from __future__ import annotations

import re
import secrets
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Charger, CpoParty, Location
from . import outbox
from .errors import Conflict, InvalidInput, NotFound
from .reservations import remove_reservations

__all__ = ["create_location", "list_locations", "count_locations", "get_location", "update_location",
           "delete_location", "location_chargers", "EDITABLE"]

EDITABLE = ("cpo_party_id", "ocpi_id", "name", "address", "city", "postal_code", "state", "country", "latitude",
            "longitude", "time_zone", "operator_name", "owner_name", "opening_times", "facilities", "parking_type")
_LAT = re.compile(r"^-?[0-9]{1,2}\.[0-9]{5,7}$")
_LON = re.compile(r"^-?[0-9]{1,3}\.[0-9]{5,7}$")


def _check(values: dict[str, Any]) -> None:
    if "time_zone" in values:
        try:
            ZoneInfo(values["time_zone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(f"time_zone {values['time_zone']!r} is not an IANA time zone such as "
                               "'Europe/Amsterdam'") from None
    if "latitude" in values and not _LAT.match(values["latitude"]):
        raise InvalidInput(f"latitude {values['latitude']!r} must be a string with 5-7 decimals, e.g. '52.37403'")
    if "longitude" in values and not _LON.match(values["longitude"]):
        raise InvalidInput(f"longitude {values['longitude']!r} must be a string with 5-7 decimals, e.g. '4.88969'")
    if "latitude" in values and abs(float(values["latitude"])) > 90:
        raise InvalidInput("latitude must be between -90 and 90")
    if "longitude" in values and abs(float(values["longitude"])) > 180:
        raise InvalidInput("longitude must be between -180 and 180")


async def _check_party(session: AsyncSession, tenant_id: str, party_id: str | None) -> None:
    if party_id is None:
        return
    party = await session.get(CpoParty, party_id)
    if party is None or party.tenant_id != tenant_id:
        raise NotFound(f"cpo_party_id {party_id!r} is not a CPO party of this tenant; see GET /api/parties")


async def create_location(session: AsyncSession, tenant_id: str, values: dict[str, Any]) -> Location:
    _check(values)
    await _check_party(session, tenant_id, values.get("cpo_party_id"))
    values = {k: v for k, v in values.items() if k in EDITABLE}
    values.setdefault("ocpi_id", f"LOC-{secrets.token_hex(4).upper()}")
    values["country"] = values["country"].upper()
    location = Location(tenant_id=tenant_id, **values)
    session.add(location)
    try:
        await outbox.announce_location(session, location)  # mod_locations: a new Location is PUT to each eMSP
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"a location with ocpi_id {values['ocpi_id']!r} already exists in this tenant") from None
    return location


async def list_locations(session: AsyncSession, tenant_id: str, *, offset: int = 0, limit: int = 100
                         ) -> list[Location]:
    query = (select(Location).where(Location.tenant_id == tenant_id).order_by(Location.created_at, Location.id)
             .offset(offset).limit(limit))
    return list((await session.scalars(query)).all())


async def count_locations(session: AsyncSession, tenant_id: str) -> int:
    return await session.scalar(select(func.count()).select_from(Location).where(Location.tenant_id == tenant_id))


async def get_location(session: AsyncSession, tenant_id: str, location_id: str) -> Location:
    location = await session.get(Location, location_id)
    if location is None or location.tenant_id != tenant_id:
        raise NotFound(f"no location {location_id} in this tenant; list them with GET /api/locations")
    return location


async def update_location(session: AsyncSession, tenant_id: str, location_id: str, changes: dict[str, Any]
                          ) -> Location:
    location = await get_location(session, tenant_id, location_id)
    _check(changes)
    if "cpo_party_id" in changes:
        await _check_party(session, tenant_id, changes["cpo_party_id"])
    for key, value in changes.items():
        if key in EDITABLE:
            setattr(location, key, value.upper() if key == "country" else value)
    try:
        await outbox.announce_location(session, location)  # the changed Location, whole (never a partial array)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"a location with ocpi_id {changes.get('ocpi_id')!r} already exists in this tenant") from None
    return location


async def delete_location(session: AsyncSession, tenant_id: str, location_id: str) -> None:
    location = await get_location(session, tenant_id, location_id)
    identities = list(await session.scalars(select(Charger.identity).where(Charger.location_id == location.id)))
    # Its chargers go with it, and the reservations held there end (removed by the CPO).
    await remove_reservations(session, tenant_id, identities=identities, location=location,
                              why=f"location {location.ocpi_id} was deleted")
    await session.delete(location)
    await session.commit()


async def location_chargers(session: AsyncSession, tenant_id: str, location_id: str) -> list[Charger]:
    location = await get_location(session, tenant_id, location_id)
    query = select(Charger).where(Charger.location_id == location.id).order_by(Charger.created_at, Charger.id)
    return list((await session.scalars(query)).all())
