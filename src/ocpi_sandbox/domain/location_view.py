"""Assemble what a CPO publishes about its sites: each location with its chargers' EVSEs, their live status,
and the connectors' tariffs (the version-neutral input of the OCPI Locations module).

EVSE status comes from what the charger last reported to the embedded CSMS, read the way OCPI wants it
(reference ocpp.md §3.4): a charger that is not connected is UNKNOWN; an EVSE's status is the most significant
of its connectors'.
"""

from __future__ import annotations

import re
from datetime import datetime

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Charger, CpoParty, CsmsConnector, CsmsStation, Location, Partner, utcnow
from . import outbox

__all__ = ["EvseView", "LocationView", "load_location_views", "load_location_view", "count_location_views",
           "evse_status", "touch_charger_locations", "emi3_evse_id", "announce_removed_evses"]

# OCPI EVSE status of a connector status of either OCPP version.
_OCPI_STATUS = {
    "Available": "AVAILABLE", "Preparing": "CHARGING", "Charging": "CHARGING", "SuspendedEV": "CHARGING",
    "SuspendedEVSE": "CHARGING", "Finishing": "CHARGING", "Occupied": "CHARGING", "Reserved": "RESERVED",
    "Unavailable": "INOPERATIVE", "Faulted": "OUTOFORDER",
}
# When connectors of one EVSE disagree, the first of these wins (one in use makes the EVSE in use).
_SIGNIFICANCE = ("CHARGING", "RESERVED", "BLOCKED", "OUTOFORDER", "INOPERATIVE", "AVAILABLE", "UNKNOWN")


class EvseView(msgspec.Struct, kw_only=True):
    uid: str
    evse_id: str
    status: str
    capabilities: list[str]
    connectors: list[dict]
    last_updated: datetime


class LocationView(msgspec.Struct, kw_only=True):
    location: Location
    evses: list[EvseView]
    last_updated: datetime


def evse_status(connector_statuses: list[str], connected: bool) -> str:
    if not connected:
        return "UNKNOWN"
    mapped = {_OCPI_STATUS.get(s, "UNKNOWN") for s in connector_statuses} or {"AVAILABLE"}
    return next(s for s in _SIGNIFICANCE if s in mapped)


def emi3_evse_id(country_code: str, party_id: str, identity: str, evse: int) -> str:
    # eMI3 EVSE ID: <country>*<operator>*E<id>; the id part allows letters, digits and '*' only.
    clean = re.sub(r"[^A-Z0-9]", "", identity.upper())[:26] or "X"
    return f"{country_code}*{party_id}*E{clean}*{evse}"


async def _evses_of(session: AsyncSession, locations: list[Location], country_code: str, party_id: str
                    ) -> dict[str, list[EvseView]]:
    """The EVSEs of several locations (by location pk) in three queries, whatever the number of locations."""
    if not locations:
        return {}
    chargers = list((await session.scalars(select(Charger).where(Charger.location_id.in_([loc.id for loc in locations]))
                                           .order_by(Charger.created_at, Charger.id))).all())
    evses: dict[str, list[EvseView]] = {loc.id: [] for loc in locations}
    for location_id, views in (await _evses_of_chargers(session, chargers, country_code, party_id)).items():
        evses[location_id] = views
    return evses


async def _evses_of_chargers(session: AsyncSession, chargers: list[Charger], country_code: str, party_id: str
                             ) -> dict[str, list[EvseView]]:
    """The EVSEs of these chargers, by location pk, in two queries."""
    identities = [c.identity for c in chargers]
    statuses: dict[tuple[str, int], list[CsmsConnector]] = {}
    connected: dict[str, bool] = {}
    if identities:
        for row in await session.scalars(select(CsmsConnector).where(CsmsConnector.identity.in_(identities))):
            statuses.setdefault((row.identity, row.evse_id), []).append(row)
        connected = {s.identity: s.connected for s in
                     await session.scalars(select(CsmsStation).where(CsmsStation.identity.in_(identities)))}
    evses: dict[str, list[EvseView]] = {}
    for charger in chargers:
        for evse in charger.hardware or []:
            reported = statuses.get((charger.identity, evse["evse_id"]), [])
            stamp = max([charger.updated_at, *(r.updated_at for r in reported)])
            evses.setdefault(charger.location_id, []).append(EvseView(
                uid=f"{charger.identity}-{evse['evse_id']}", evse_id=emi3_evse_id(country_code, party_id, charger.identity,
                                                                          evse["evse_id"]),
                status=evse_status([r.status for r in reported], connected.get(charger.identity, False)),
                capabilities=evse.get("capabilities", []), connectors=evse["connectors"], last_updated=stamp))
    return evses


async def _evses(session: AsyncSession, location: Location, country_code: str, party_id: str) -> list[EvseView]:
    return (await _evses_of(session, [location], country_code, party_id))[location.id]


def _view_of(location: Location, evses: list[EvseView]) -> LocationView:
    stamp = max([location.updated_at, *(e.last_updated for e in evses)])
    return LocationView(location=location, evses=evses, last_updated=stamp)


async def _view(session: AsyncSession, location: Location, country_code: str, party_id: str) -> LocationView:
    return _view_of(location, await _evses(session, location, country_code, party_id))


def _published(party_pk: str, date_from: datetime | None, date_to: datetime | None):  # noqa: ANN202
    query = select(Location).where(Location.cpo_party_id == party_pk)
    # Location.updated_at is bumped whenever a connector below it changes (touch_charger_location), so it is
    # the Location's last_updated and the date filters can run in SQL.
    if date_from is not None:
        query = query.where(Location.updated_at >= date_from)
    if date_to is not None:
        query = query.where(Location.updated_at < date_to)
    return query


async def load_location_views(session: AsyncSession, party_pk: str, country_code: str, party_id: str, *,
                              date_from: datetime | None, date_to: datetime | None, offset: int, limit: int
                              ) -> list[LocationView]:
    query = _published(party_pk, date_from, date_to).order_by(Location.created_at, Location.id)
    locations = list((await session.scalars(query.offset(offset).limit(limit))).all())
    evses = await _evses_of(session, locations, country_code, party_id)  # one page, three queries
    return [_view_of(loc, evses[loc.id]) for loc in locations]


async def count_location_views(session: AsyncSession, party_pk: str, *, date_from: datetime | None,
                               date_to: datetime | None) -> int:
    return await session.scalar(_published(party_pk, date_from, date_to).with_only_columns(func.count()))


async def load_location_view(session: AsyncSession, party_pk: str, country_code: str, party_id: str,
                             ocpi_id: str) -> LocationView | None:
    location = await session.scalar(select(Location).where(
        Location.cpo_party_id == party_pk, func.upper(Location.ocpi_id) == ocpi_id.upper()))
    return None if location is None else await _view(session, location, country_code, party_id)


async def touch_charger_locations(session: AsyncSession, touches: dict[str, datetime]) -> None:
    """Move last_updated of each charger (by identity) and its location to the given time, at least (OCPI:
    Connector -> EVSE -> Location), and queue what every registered eMSP of the location's party is owed (OCPI
    mod_locations, Receiver interface). One transaction for a burst of events, whatever their number.

    An eMSP gets the EVSE's new status as a PATCH; an EVSE it cannot know yet (its charger appeared after the
    eMSP registered, and nothing of it was pushed) comes as a full EVSE PUT, and a whole location it cannot
    know as a Location PUT. Each push carries the status as it is now, so an eMSP that was down still gets
    every status, in order. Only the touched chargers' EVSEs are rendered, not the whole location's.
    """
    chargers = [c for c in (await session.scalars(select(Charger).where(Charger.identity.in_(list(touches))))).all()
                if c.location_id is not None]
    if not chargers:
        return
    for charger in chargers:
        charger.updated_at = max(charger.updated_at, touches[charger.identity])
    locations = {loc.id: loc for loc in await session.scalars(
        select(Location).where(Location.id.in_({c.location_id for c in chargers})))}
    for charger in chargers:
        location = locations.get(charger.location_id)
        if location is not None:
            location.updated_at = max(location.updated_at, charger.updated_at)
    party_ids = {loc.cpo_party_id for loc in locations.values() if loc.cpo_party_id}
    parties = {p.id: p for p in await session.scalars(select(CpoParty).where(CpoParty.id.in_(party_ids)))} \
        if party_ids else {}
    for party in parties.values():
        published = [c for c in chargers if c.location_id in locations
                     and locations[c.location_id].cpo_party_id == party.id]
        receivers = await outbox.receivers(session, party.id)
        if not receivers:
            continue
        await session.flush()
        views = await _evses_of_chargers(session, published, party.country_code, party.party_id)
        evses = {e.uid: e for location_views in views.values() for e in location_views}
        for partner in receivers:
            sent: dict[str, dict[str, datetime]] = {}  # per location: read once, kept up to date below
            for charger in published:
                location = locations[charger.location_id]
                if location.ocpi_id not in sent:
                    sent[location.ocpi_id] = await outbox.location_pushes_sent(session, partner.id, location.ocpi_id)
                _push_evses(session, partner, location, charger, evses, sent[location.ocpi_id])
    await session.commit()


def _new_to(partner: Partner, created_at: datetime) -> bool:
    return partner.registered_at is not None and created_at > partner.registered_at


def _push_evses(session: AsyncSession, partner: Partner, location: Location, charger: Charger,
                evses: dict[str, EvseView], sent: dict[str, datetime]) -> None:
    """Queue the pushes of one charger's EVSEs; ``sent`` (``outbox.location_pushes_sent``) is updated with them."""
    if not sent and _new_to(partner, location.created_at):
        # The eMSP has never heard of this site: the whole Location, rendered when sent, says everything.
        outbox.enqueue(session, partner, "location_put", location.ocpi_id)
        sent[location.ocpi_id] = utcnow()
        return
    for evse in charger.hardware or []:
        uid = f"{charger.identity}-{evse['evse_id']}"
        view = evses.get(uid)
        snapshot = {"status": view.status, "last_updated": view.last_updated.replace(
            microsecond=0).isoformat().replace("+00:00", "Z")} if view else None
        object_id = f"{location.ocpi_id}/{uid}"
        # Known to the eMSP: pushed before, or part of a Location PUT queued after the charger existed.
        known = object_id in sent or (location.ocpi_id in sent and sent[location.ocpi_id] >= charger.created_at)
        kind = "evse_put" if not known and _new_to(partner, charger.created_at) else "evse_patch"
        outbox.enqueue(session, partner, kind, object_id, "locations", snapshot)
        sent.setdefault(object_id, utcnow())


async def announce_removed_evses(session: AsyncSession, charger: Charger) -> None:
    """Queue ``status: REMOVED`` for a charger's EVSEs that is about to be deleted (OCPI has no DELETE for
    EVSEs: mod_locations, "an EVSE is removed by setting its status to REMOVED"). The caller commits."""
    location = await session.get(Location, charger.location_id) if charger.location_id else None
    if location is None or location.cpo_party_id is None:
        return
    stamp = utcnow().replace(microsecond=0).isoformat().replace("+00:00", "Z")
    for partner in await outbox.receivers(session, location.cpo_party_id):
        for evse in charger.hardware or []:
            outbox.enqueue(session, partner, "evse_patch", f"{location.ocpi_id}/{charger.identity}-{evse['evse_id']}",
                           "locations", {"status": "REMOVED", "last_updated": stamp})
