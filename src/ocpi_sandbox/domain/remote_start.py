"""A remote start the CPO makes on an eMSP's behalf: whose OCPI session the transaction becomes.

The charger operations API starts transactions like a CSMS vendor's API does for the CPO's own OCPI platform,
with OCPI context: the eMSP party, its ``authorization_reference`` and ``contract_id``. The transaction then
becomes that eMSP's session exactly as after its own START_SESSION (OCPI 2.2.1 mod_commands): the start is kept
as a START_SESSION command of the partner, which ``cpo_sessions.open_session`` (session, token, auth method
COMMAND, authorization reference) and ``authorization.authorize_id_token`` (no second authorization of the
token at that charger for 15 minutes) already read. No CommandResult is owed: the eMSP did not send the command,
so the command has no ``response_url``.
"""

from __future__ import annotations

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Charger, CpoParty, Location, OcpiCommand, OcpiToken, Partner, PartnerState, utcnow
from .errors import InvalidInput

__all__ = ["OcpiContext", "OnBehalfOf", "emsp_of", "record_start", "finish_start", "ocpi_token_type"]

# OCPP 2.0.1 IdTokenEnumType -> OCPI TokenType (stored in the 2.2.1 shape; EMAID exists from 2.3.0 on).
_TOKEN_TYPES = {"ISO14443": "RFID", "ISO15693": "RFID", "Central": "APP_USER", "eMAID": "EMAID"}


class OcpiContext(msgspec.Struct, kw_only=True):
    """The OCPI side of a remote start: the eMSP party and what its Session and CDR carry."""

    authorization_reference: str | None = None
    contract_id: str | None = None
    country_code: str | None = None
    party_id: str | None = None


class OnBehalfOf(msgspec.Struct, kw_only=True):
    """The eMSP partner whose session the transaction becomes, and the OCPI Token its Session carries."""

    partner_id: str
    cpo_party_id: str
    version: str
    location_id: str
    token: dict
    authorization_reference: str | None = None


def ocpi_token_type(id_token_type: str, version: str) -> str:
    """The OCPI TokenType of an OCPP 2.0.1 IdTokenEnumType (2.2.1 has no EMAID: OTHER there)."""
    kind = _TOKEN_TYPES.get(id_token_type, "OTHER")
    return "OTHER" if kind == "EMAID" and version != "2.3.0" else kind


def _party(country_code: str, party_id: str) -> str:
    return f"{country_code.upper()}*{party_id.upper()}"


def _emsp_parties(partners: list[Partner]) -> str:
    names = [f"{_party(r['country_code'], r['party_id'])} (partner {p.id})" for p in partners
             for r in p.roles or [] if r.get("role") == "EMSP"]
    return ", ".join(names) or "none"


async def emsp_of(session: AsyncSession, charger_id: str, context: OcpiContext, *, id_token: str,
                  id_token_type: str) -> OnBehalfOf:
    """Find the registered eMSP partner the context names (or, without a party, the one that pushed the token)
    among the partners of the CPO party publishing the charger's location; InvalidInput says what is missing."""
    if (context.country_code is None) != (context.party_id is None):
        raise InvalidInput("ocpi.countryCode and ocpi.partyId name the eMSP together: give both, or neither (then "
                           "the eMSP is the one that pushed the token)")
    charger = await session.get(Charger, charger_id)
    location = await session.get(Location, charger.location_id) if charger.location_id else None
    if location is None or location.cpo_party_id is None:
        raise InvalidInput(f"charger {charger.identity} is at no location a CPO party publishes, so its transaction "
                           "cannot become an OCPI session; set the location's cpo_party_id, or start without `ocpi`")
    cpo = await session.get(CpoParty, location.cpo_party_id)
    partners = list((await session.scalars(select(Partner).where(
        Partner.cpo_party_id == location.cpo_party_id, Partner.state == PartnerState.REGISTERED)
        .order_by(Partner.created_at))).all())
    known = f"registered eMSP parties of CPO {_party(cpo.country_code, cpo.party_id)}: {_emsp_parties(partners)}"
    pushed = None
    if context.country_code is not None and context.party_id is not None:
        wanted = (context.country_code.upper(), context.party_id.upper())
        partner = next((p for p in partners for r in p.roles or [] if r.get("role") == "EMSP"
                        and (r["country_code"].upper(), r["party_id"].upper()) == wanted), None)
        if partner is None:
            raise InvalidInput(f"no registered partner is eMSP {_party(*wanted)}; {known}. Name one of them, or "
                               "register the eMSP first")
    else:
        pushed = await session.scalar(select(OcpiToken).where(
            OcpiToken.partner_id.in_([p.id for p in partners]), OcpiToken.uid == id_token.upper())
            .order_by(OcpiToken.last_updated.desc()).limit(1))
        if pushed is None:
            raise InvalidInput(f"no registered eMSP pushed token {id_token}, so the OCPI context must name the eMSP "
                               f"with ocpi.countryCode and ocpi.partyId; {known}")
        partner = next(p for p in partners if p.id == pushed.partner_id)
        wanted = (pushed.country_code, pushed.party_id)
    version = partner.version or "2.2.1"
    if pushed is None:  # the eMSP's own Token when it pushed this one, so the CDR names it as the eMSP does
        pushed = await session.scalar(select(OcpiToken).where(
            OcpiToken.partner_id == partner.id, OcpiToken.country_code == wanted[0],
            OcpiToken.party_id == wanted[1], OcpiToken.uid == id_token.upper()).limit(1))
    token = dict(pushed.data) if pushed is not None else {
        "country_code": wanted[0], "party_id": wanted[1], "uid": id_token,
        "type": ocpi_token_type(id_token_type, version), "contract_id": id_token}
    if context.contract_id:
        token["contract_id"] = context.contract_id
    return OnBehalfOf(partner_id=partner.id, cpo_party_id=location.cpo_party_id, version=version,
                      location_id=location.ocpi_id, token=token,
                      authorization_reference=context.authorization_reference)


async def record_start(session: AsyncSession, tenant_id: str, on_behalf: OnBehalfOf, *, identity: str, evse_id: int,
                       connector_id: int | None, id_token: str) -> int:
    """Keep the start as the partner's START_SESSION before the charger is asked (the transaction may start
    before its answer arrives); return the command's number, the default remoteStartId."""
    # No response_url: the eMSP did not send this command, so no CommandResult is owed (that marks it ours).
    request = {"token": on_behalf.token, "location_id": on_behalf.location_id, "evse_uid": f"{identity}-{evse_id}"}
    if on_behalf.authorization_reference:
        request["authorization_reference"] = on_behalf.authorization_reference
    row = OcpiCommand(tenant_id=tenant_id, partner_id=on_behalf.partner_id, cpo_party_id=on_behalf.cpo_party_id,
                      command="START_SESSION", version=on_behalf.version, request=request, response_url="",
                      identity=identity, evse_id=evse_id, connector_id=connector_id, id_token=id_token)
    session.add(row)
    await session.commit()
    return row.id


async def finish_start(session: AsyncSession, command_id: int, result: str, detail: str) -> None:
    """Record the charger's answer: only an ACCEPTED start turns the transaction into the partner's session."""
    row = await session.get(OcpiCommand, command_id)
    if row is not None:
        row.result, row.detail, row.finished_at = result, detail[:2000], utcnow()
    await session.commit()
