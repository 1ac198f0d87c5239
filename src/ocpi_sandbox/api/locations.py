"""Locations: CRUD and the chargers standing at each."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

import msgspec
from litestar import Controller, Response, delete, get, patch, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Location
from ..domain import locations as location_service
from .chargers_view import ChargerOut, charger_out
from .errors import error_responses

__all__ = ["LocationsController"]

# OCPI 2.2.1 mod_locations Facility values (2.3.0 treats the list as open; these are the known ones).
Facility = Literal["HOTEL", "RESTAURANT", "CAFE", "MALL", "SUPERMARKET", "SPORT", "RECREATION_AREA", "NATURE",
                   "MUSEUM", "BIKE_SHARING", "BUS_STOP", "TAXI_STAND", "TRAM_STOP", "METRO_STATION",
                   "TRAIN_STATION", "AIRPORT", "PARKING_LOT", "CARPOOL_PARKING", "FUEL_STATION", "WIFI"]
ParkingType = Literal["ALONG_MOTORWAY", "PARKING_GARAGE", "PARKING_LOT", "ON_DRIVEWAY", "ON_STREET",
                      "UNDERGROUND_GARAGE"]
HourMinute = Annotated[str, msgspec.Meta(pattern=r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$", examples=["08:00"])]
# OCPI GeoLocation strings (5-7 decimals), with the ranges -90..90 and -180..180 in the pattern itself.
Lat = Annotated[str, msgspec.Meta(pattern=r"^-?([0-8]?[0-9]\.[0-9]{5,7}|90\.0{5,7})$", examples=["52.37403"])]
Lon = Annotated[str, msgspec.Meta(pattern=r"^-?((1[0-7][0-9]|[0-9]?[0-9])\.[0-9]{5,7}|180\.0{5,7})$",
                                  examples=["4.88969"])]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=r"[^ \t\r\n]")]
# The IANA names this Python knows (from the tzdata package): the schema lists exactly what is accepted.
TimeZone = StrEnum("TimeZone", {name: name for name in sorted(available_timezones())})


class RegularHours(msgspec.Struct):
    weekday: Annotated[int, msgspec.Meta(ge=1, le=7)]
    period_begin: HourMinute
    period_end: HourMinute


class ExceptionalPeriod(msgspec.Struct):
    period_begin: datetime
    period_end: datetime


class Hours(msgspec.Struct, kw_only=True):
    """Opening times as OCPI's Hours object; times are local to the location's time zone."""

    twentyfourseven: bool
    regular_hours: list[RegularHours] | None = None
    exceptional_openings: list[ExceptionalPeriod] | None = None
    exceptional_closings: list[ExceptionalPeriod] | None = None


class LocationCreate(msgspec.Struct, kw_only=True):
    name: Text
    address: Text
    city: Annotated[str, msgspec.Meta(min_length=1, max_length=45)]
    country: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{3}$", examples=["NLD"],
                                         description="ISO 3166-1 alpha-3, as OCPI Location.country")]
    latitude: Lat
    longitude: Lon
    time_zone: Annotated[TimeZone, msgspec.Meta(examples=["Europe/Amsterdam"])]
    postal_code: Annotated[str, msgspec.Meta(max_length=10)] | None = None
    state: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    ocpi_id: Annotated[str, msgspec.Meta(pattern=r"^[\x21-\x7E]{1,36}$")] | None = None
    cpo_party_id: str | None = None
    operator_name: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    owner_name: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    opening_times: Hours | None = None
    facilities: list[Facility] | None = None
    parking_type: ParkingType | None = None


class LocationUpdate(msgspec.Struct, kw_only=True):
    """Fields to change; absent or null fields stay as they are."""

    name: Text | None = None
    address: Text | None = None
    city: Annotated[str, msgspec.Meta(min_length=1, max_length=45)] | None = None
    country: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{3}$")] | None = None
    latitude: Lat | None = None
    longitude: Lon | None = None
    time_zone: TimeZone | None = None
    postal_code: Annotated[str, msgspec.Meta(max_length=10)] | None = None
    state: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    ocpi_id: Annotated[str, msgspec.Meta(pattern=r"^[\x21-\x7E]{1,36}$")] | None = None
    cpo_party_id: str | None = None
    operator_name: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    owner_name: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    opening_times: Hours | None = None
    facilities: list[Facility] | None = None
    parking_type: ParkingType | None = None


class LocationOut(msgspec.Struct, kw_only=True):
    id: str
    ocpi_id: str
    cpo_party_id: str | None
    name: str
    address: str
    city: str
    postal_code: str | None
    state: str | None
    country: str
    latitude: str
    longitude: str
    time_zone: str
    operator_name: str | None
    owner_name: str | None
    opening_times: dict[str, Any] | None
    facilities: list[str]
    parking_type: str | None
    created_at: datetime
    updated_at: datetime


class LocationPage(msgspec.Struct, kw_only=True):
    items: list[LocationOut]
    total: int
    offset: int
    limit: int


def location_out(loc: Location) -> LocationOut:
    return LocationOut(id=loc.id, ocpi_id=loc.ocpi_id, cpo_party_id=loc.cpo_party_id, name=loc.name,
                       address=loc.address, city=loc.city, postal_code=loc.postal_code, state=loc.state,
                       country=loc.country, latitude=loc.latitude, longitude=loc.longitude, time_zone=loc.time_zone,
                       operator_name=loc.operator_name, owner_name=loc.owner_name, opening_times=loc.opening_times,
                       facilities=loc.facilities or [], parking_type=loc.parking_type, created_at=loc.created_at,
                       updated_at=loc.updated_at)


def _values(data: msgspec.Struct) -> dict[str, Any]:
    return {k: v for k, v in msgspec.to_builtins(data).items() if v is not None}


class LocationsController(Controller):
    path = "/api/locations"
    tags = ["locations"]

    @post("/", operation_id="createLocation", responses=error_responses(400, 401, 403, 404, 409, 422))
    async def create(self, data: LocationCreate, tenant_id: str, db_session: AsyncSession) -> LocationOut:
        """Create a location (a charging site)."""
        return location_out(await location_service.create_location(db_session, tenant_id, _values(data)))

    @get("/", operation_id="listLocations", responses=error_responses(400, 401, 403, 404))
    async def list(self, tenant_id: str, db_session: AsyncSession,
                   offset: Annotated[int, Parameter(ge=0, le=1_000_000_000)] = 0,
                   limit: Annotated[int, Parameter(ge=1, le=1000)] = 100) -> LocationPage:
        """List this tenant's locations, oldest first."""
        items = await location_service.list_locations(db_session, tenant_id, offset=offset, limit=limit)
        total = await location_service.count_locations(db_session, tenant_id)
        return LocationPage(items=[location_out(i) for i in items], total=total, offset=offset, limit=limit)

    @get("/{id:str}", operation_id="getLocation", responses=error_responses(401, 403, 404))
    async def show(self, id: str, tenant_id: str, db_session: AsyncSession) -> LocationOut:  # noqa: A002
        """Show one location."""
        return location_out(await location_service.get_location(db_session, tenant_id, id))

    @patch("/{id:str}", operation_id="updateLocation", responses=error_responses(400, 401, 403, 404, 409, 422))
    async def update(self, id: str, data: LocationUpdate, tenant_id: str, db_session: AsyncSession  # noqa: A002
                     ) -> LocationOut:
        """Change some fields of a location."""
        return location_out(await location_service.update_location(db_session, tenant_id, id, _values(data)))

    @delete("/{id:str}", operation_id="deleteLocation", responses=error_responses(401, 403, 404))
    async def remove(self, id: str, tenant_id: str, db_session: AsyncSession) -> Response[None]:  # noqa: A002
        """Delete a location and every charger at it."""
        await location_service.delete_location(db_session, tenant_id, id)
        return Response(None, status_code=204)

    @get("/{id:str}/chargers", operation_id="listLocationChargers", responses=error_responses(401, 403, 404))
    async def chargers(self, id: str, tenant_id: str, db_session: AsyncSession) -> list[ChargerOut]:  # noqa: A002
        """List the chargers at a location."""
        return [charger_out(c) for c in await location_service.location_chargers(db_session, tenant_id, id)]
