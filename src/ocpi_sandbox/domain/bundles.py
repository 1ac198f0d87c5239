"""Bundles: a preset (``domain.presets``) made live for a tenant -- a CPO party, its tariffs, its locations, their
chargers from the catalog, a token A for one eMSP, and the preset's test cards as that eMSP's tokens
(``domain.preset_tokens``).

Provisioning is a durable job (``jobs.bundles``) of idempotent steps planned here: every id and identity is
fixed when the bundle is requested, so a step that runs again after a crash finds what it made instead of
making it twice. Each ``provision_*`` function works in the caller's transaction and never commits (the job
runner commits a step's effect together with its record).

Names in a bundle: location ids are ``<country_code><party_id>-<preset id>`` (unique in the tenant because the
party is); charger identities ``<party_id><tag>-<prefix><n>``, where the random ``tag`` keeps bundles of one
preset apart across tenants (identities are unique in the whole sandbox: they name the WebSocket URL).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import msgspec
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import (
    Bundle,
    Charger,
    CpoParty,
    CredentialsToken,
    CsmsStation,
    Job,
    Location,
    Partner,
    PartnerState,
    TariffRecord,
    TokenKind,
    new_id,
    utcnow,
)
from . import chargers as charger_service
from . import preset_tokens
from .errors import Conflict, InvalidInput, NotFound
from .parties import find_party
from .presets import Preset, PresetChargers, PresetLocation, PresetNotFound, expanded_locations, load_preset
from .secrets import generate_token, hash_token, token_hint

__all__ = ["plan_bundle", "provision_party", "provision_tariff", "provision_location", "build_bundle_charger",
           "provision_registration", "get_bundle", "list_bundles", "bundle_view", "bundle_identities",
           "remove_bundle", "charger_identity", "location_ocpi_id"]

_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_PARTY = re.compile(r"^[A-Za-z0-9]{3}$")


def location_ocpi_id(bundle: Bundle, local_id: str) -> str:
    return f"{bundle.country_code}{bundle.party_id}-{local_id}"


def charger_identity(party_id: str, tag: str, prefix: str, n: int) -> str:
    # EVSE uids are "<identity>-<evse>" and OCPI allows 36 characters: keep identities to 33.
    return f"{party_id}{tag}-{prefix[:16]}{n}"


async def plan_bundle(session: AsyncSession, tenant_id: str, preset_name: str, *, country_code: str | None,
                      party_id: str | None, name: str | None) -> tuple[Bundle, dict[str, Any],
                                                                       list[tuple[str, dict[str, Any]]]]:
    """Check a bundle request and plan it: the Bundle row (added to ``session``, not committed), the job's params
    and one step per object to make, in the order they depend on each other."""
    try:
        preset = load_preset(preset_name)
    except PresetNotFound as exc:
        raise NotFound(exc.message + "; list them with GET /api/presets") from None
    cc = (country_code or preset.cpo.country_code)
    pid = (party_id or preset.cpo.party_id)
    if not _COUNTRY.match(cc):
        raise InvalidInput(f"country_code {cc!r} must be an ISO 3166-1 alpha-2 code such as 'NL'")
    if not _PARTY.match(pid):
        raise InvalidInput(f"party_id {pid!r} must be 3 letters or digits such as 'SBX'")
    cc, pid = cc.upper(), pid.upper()
    if await find_party(session, tenant_id, cc, pid) is not None:
        raise Conflict(f"this tenant already has a CPO party {cc}*{pid}; start the bundle with another party_id "
                       "(POST /api/bundles {\"preset\": ..., \"party_id\": \"XYZ\"}), or delete that party's bundle")
    pending = await session.scalar(select(Bundle.id).where(
        Bundle.tenant_id == tenant_id, Bundle.country_code == cc, Bundle.party_id == pid))
    if pending is not None:
        raise Conflict(f"bundle {pending} is already being made for CPO {cc}*{pid}; see GET /api/bundles/{pending}")
    bundle = Bundle(id=new_id(), tenant_id=tenant_id, preset=preset.name, name=(name or preset.title)[:100],
                    country_code=cc, party_id=pid, tag=secrets.token_hex(2).upper(), created_at=utcnow())
    session.add(bundle)
    items: list[tuple[str, dict[str, Any]]] = [(f"party {cc}*{pid}", {"type": "party"})]
    items += [(f"tariff {t.id}", {"type": "tariff", "index": i}) for i, t in enumerate(preset.tariffs)]
    locations = expanded_locations(preset)
    counters: dict[str, int] = {}
    chargers: list[tuple[str, dict[str, Any]]] = []
    for i, loc in enumerate(locations):
        items.append((f"location {location_ocpi_id(bundle, loc.id)}", {"type": "location", "index": i}))
        for g, group in enumerate(loc.chargers):
            prefix = group.identity_prefix or loc.id
            for _ in range(group.count):
                counters[prefix] = counters.get(prefix, 0) + 1
                identity = charger_identity(pid, bundle.tag, prefix, counters[prefix])
                chargers.append((identity, {"type": "charger", "location": i, "group": g, "charger_id": new_id()}))
    items += chargers
    items.append(("token A", {"type": "registration"}))
    if preset.tokens:  # owned by the partner token A registers, so after it
        items.append(("test tokens", {"type": "test_tokens"}))
    params = {"bundle_id": bundle.id, "preset": msgspec.to_builtins(preset)}
    return bundle, params, items


def preset_of(params: dict[str, Any]) -> Preset:
    """The preset as it was when the bundle was requested (a later edit of the file does not change a job)."""
    return msgspec.convert(params["preset"], Preset)


async def _party(session: AsyncSession, bundle: Bundle) -> CpoParty | None:
    return await session.get(CpoParty, bundle.cpo_party_id) if bundle.cpo_party_id else None


async def provision_party(session: AsyncSession, bundle: Bundle, preset: Preset) -> dict[str, Any]:
    party = await _party(session, bundle)
    if party is None:
        if await find_party(session, bundle.tenant_id, bundle.country_code, bundle.party_id) is not None:
            raise Conflict(f"CPO party {bundle.country_code}*{bundle.party_id} was created by someone else meanwhile")
        party = CpoParty(id=new_id(), tenant_id=bundle.tenant_id, country_code=bundle.country_code,
                         party_id=bundle.party_id, name=preset.cpo.name, website=preset.cpo.website)
        session.add(party)
        await session.flush()  # no ORM relationship orders the two writes: the party row must exist first
        bundle.cpo_party_id = party.id
    return {"type": "party", "id": party.id, "country_code": party.country_code, "party_id": party.party_id}


async def _require_party(session: AsyncSession, bundle: Bundle) -> CpoParty:
    party = await _party(session, bundle)
    if party is None:
        raise NotFound("the bundle's CPO party is not there (yet)")
    return party


async def provision_tariff(session: AsyncSession, bundle: Bundle, preset: Preset, index: int) -> dict[str, Any]:
    party = await _require_party(session, bundle)
    tariff = preset.tariffs[index]
    row = await session.scalar(select(TariffRecord).where(TariffRecord.cpo_party_id == party.id,
                                                          TariffRecord.ocpi_id == tariff.id))
    if row is None:
        row = TariffRecord(id=new_id(), tenant_id=bundle.tenant_id, cpo_party_id=party.id, ocpi_id=tariff.id,
                           data=tariff.ocpi_body(), created_at=utcnow(), last_updated=utcnow())
        session.add(row)
    return {"type": "tariff", "id": row.id, "ocpi_id": row.ocpi_id}


async def provision_location(session: AsyncSession, bundle: Bundle, preset_location: PresetLocation
                             ) -> dict[str, Any]:
    party = await _require_party(session, bundle)
    ocpi_id = location_ocpi_id(bundle, preset_location.id)
    row = await session.scalar(select(Location).where(Location.tenant_id == bundle.tenant_id,
                                                      Location.ocpi_id == ocpi_id))
    if row is not None and row.cpo_party_id != party.id:
        raise Conflict(f"a location with ocpi_id {ocpi_id!r} already exists in this tenant")
    if row is None:
        loc = preset_location
        row = Location(id=new_id(), tenant_id=bundle.tenant_id, cpo_party_id=party.id, ocpi_id=ocpi_id,
                       name=loc.name, address=loc.address, city=loc.city, postal_code=loc.postal_code,
                       state=loc.state, country=loc.country, latitude=loc.latitude, longitude=loc.longitude,
                       time_zone=loc.time_zone, operator_name=loc.operator_name, facilities=list(loc.facilities),
                       parking_type=loc.parking_type, created_at=utcnow(), updated_at=utcnow())
        session.add(row)
    return {"type": "location", "id": row.id, "ocpi_id": ocpi_id}


async def build_bundle_charger(session: AsyncSession, bundle: Bundle, preset_location: PresetLocation,
                               group: PresetChargers, identity: str, charger_id: str) -> Charger:
    """The charger of one step, unsaved (``charger_service.build_charger`` checks model, version, tariffs)."""
    ocpi_id = location_ocpi_id(bundle, preset_location.id)
    location = await session.scalar(select(Location).where(Location.tenant_id == bundle.tenant_id,
                                                           Location.ocpi_id == ocpi_id))
    if location is None:
        raise NotFound(f"location {ocpi_id} is not there (yet)")
    return await charger_service.build_charger(
        session, bundle.tenant_id, location_id=location.id, brand_slug=group.brand, model_slug=group.model,
        ocpp_version=group.ocpp_version, identity=identity, tariff_ids=list(group.tariff_ids),
        simulate=group.simulate, configuration={k: _config_value(v) for k, v in group.configuration.items()},
        charger_id=charger_id)


def _config_value(value: str | int | bool) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


async def _pending_registration(session: AsyncSession, bundle: Bundle) -> Partner | None:
    if bundle.registration_partner_id is None or bundle.token_a is None:
        return None
    partner = await session.get(Partner, bundle.registration_partner_id)
    return partner if partner is not None and partner.state == PartnerState.PENDING else None


async def provision_registration(session: AsyncSession, bundle: Bundle) -> dict[str, Any]:
    """Make sure the bundle holds a token A that still registers an eMSP (a used one is replaced)."""
    party = await _require_party(session, bundle)
    partner = await _pending_registration(session, bundle)
    if partner is None:
        token = generate_token("sbx-a")
        partner = Partner(id=new_id(), tenant_id=bundle.tenant_id, cpo_party_id=party.id,
                          label=f"bundle {bundle.name}"[:100], state=PartnerState.PENDING, initiated_by="partner")
        session.add(partner)
        await session.flush()
        session.add(CredentialsToken(partner_id=partner.id, token_hash=hash_token(token), kind=TokenKind.REGISTRATION,
                                     hint=token_hint(token)))
        bundle.token_a, bundle.registration_partner_id = token, partner.id
    return {"type": "registration", "partner_id": partner.id}


async def get_bundle(session: AsyncSession, tenant_id: str, bundle_id: str) -> Bundle:
    bundle = await session.get(Bundle, bundle_id)
    if bundle is None or bundle.tenant_id != tenant_id:
        raise NotFound(f"no bundle {bundle_id} in this tenant; list them with GET /api/bundles")
    return bundle


async def list_bundles(session: AsyncSession, tenant_id: str) -> list[Bundle]:
    return list((await session.scalars(select(Bundle).where(Bundle.tenant_id == tenant_id)
                                       .order_by(Bundle.created_at, Bundle.id))).all())


async def _locations(session: AsyncSession, bundle: Bundle) -> list[Location]:
    if bundle.cpo_party_id is None:
        return []
    return list((await session.scalars(select(Location).where(Location.cpo_party_id == bundle.cpo_party_id)
                                       .order_by(Location.created_at, Location.ocpi_id))).all())


async def bundle_view(session: AsyncSession, bundle: Bundle, *, detail: bool = True) -> dict[str, Any]:
    """The bundle with its job's status, party, token A (while unused) and, with ``detail``, its tariffs,
    locations and chargers with their live connection to the embedded CSMS."""
    job = await session.get(Job, bundle.job_id) if bundle.job_id else None
    party = await _party(session, bundle)
    pending = await _pending_registration(session, bundle)
    view: dict[str, Any] = {
        "id": bundle.id, "name": bundle.name, "preset": bundle.preset,
        "status": job.status if job else "FAILED", "job_id": bundle.job_id,
        "status_url": f"/api/jobs/{bundle.job_id}" if bundle.job_id else None,
        "error": job.error if job else "the provisioning job is gone",
        "party": None if party is None else {"id": party.id, "country_code": party.country_code,
                                             "party_id": party.party_id, "name": party.name,
                                             "website": party.website},
        "token_a": bundle.token_a if pending is not None else None,
        "registration_partner_id": bundle.registration_partner_id, "created_at": bundle.created_at,
    }
    if not detail:
        return view
    locations = await _locations(session, bundle)
    chargers = list((await session.scalars(select(Charger).where(
        Charger.location_id.in_([loc.id for loc in locations])).order_by(Charger.created_at, Charger.identity))
    ).all()) if locations else []
    stations = {s.identity: s for s in (await session.scalars(select(CsmsStation).where(
        CsmsStation.identity.in_([c.identity for c in chargers])))).all()} if chargers else {}
    by_location: dict[str, list[dict[str, Any]]] = {}
    for c in chargers:
        station = stations.get(c.identity)
        by_location.setdefault(c.location_id, []).append({
            "id": c.id, "identity": c.identity, "ocpp_version": c.ocpp_version, "brand_slug": c.brand_slug,
            "model_slug": c.model_slug, "simulated": c.enabled,
            "evse_uids": [f"{c.identity}-{e['evse_id']}" for e in c.hardware or []],
            "connected": bool(station and station.connected),
            "boot_status": station.registration_status if station else None})
    tariffs = list((await session.scalars(select(TariffRecord).where(TariffRecord.cpo_party_id == party.id)
                                          .order_by(TariffRecord.created_at))).all()) if party else []
    preset = _preset_or_none(bundle.preset)
    view.update({
        "locations": [{"id": loc.id, "ocpi_id": loc.ocpi_id, "name": loc.name, "city": loc.city,
                       "country": loc.country, "time_zone": loc.time_zone, "chargers": by_location.get(loc.id, [])}
                      for loc in locations],
        "tariffs": [{"id": t.id, "ocpi_id": t.ocpi_id, "tariff": t.data} for t in tariffs],
        "test_tokens": await _test_tokens(session, bundle, preset),
    })
    return view


async def _test_tokens(session: AsyncSession, bundle: Bundle, preset: Preset | None) -> list[dict[str, Any]]:
    """The preset's cards with the Token each is stored as (``stored``: False for a bundle made before cards were
    stored, or while its job has not reached them)."""
    stored = {(t.uid, t.type): t for t in await preset_tokens.stored_test_tokens(session, bundle)}
    cards = []
    for card in preset.tokens if preset else []:
        token = stored.get((card.uid.upper(), card.type))
        data = token.data if token else preset_tokens.token_object(preset, card, bundle.created_at)
        cards.append({**msgspec.to_builtins(card), "country_code": data["country_code"], "party_id": data["party_id"],
                      "contract_id": data["contract_id"], "stored": token is not None})
    return cards


def _preset_or_none(name: str) -> Preset | None:
    try:
        return load_preset(name)
    except (PresetNotFound, ValueError):
        return None


async def bundle_identities(session: AsyncSession, bundle: Bundle) -> list[str]:
    """The identities of the bundle's chargers (their simulators stop before the rows go)."""
    locations = await _locations(session, bundle)
    if not locations:
        return []
    return list((await session.scalars(select(Charger.identity).where(
        Charger.location_id.in_([loc.id for loc in locations])))).all())


async def remove_bundle(session: AsyncSession, bundle: Bundle) -> None:
    """Delete the bundle and everything it made: its job (so a provisioning still running stops committing),
    its locations (their chargers go with them) and its CPO party (tariffs, partners, sessions, CDRs and
    pushes go with it)."""
    if bundle.job_id:
        await session.execute(delete(Job).where(Job.id == bundle.job_id))
    party_id = bundle.cpo_party_id
    if party_id is not None:
        await session.execute(delete(Location).where(Location.cpo_party_id == party_id))
        await session.execute(delete(CpoParty).where(CpoParty.id == party_id))
    await session.delete(bundle)
    await session.commit()


async def count_bundles(session: AsyncSession, tenant_id: str) -> int:
    return await session.scalar(select(func.count()).select_from(Bundle).where(Bundle.tenant_id == tenant_id)) or 0
