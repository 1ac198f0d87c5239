"""CPO parties: create one, mint registration tokens (token A) for eMSPs, list partners, register outward."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import CpoParty
from ..domain import parties as party_service
from ..domain import partners as partner_service
from ..ocpi.registration import Registrar, RegistrationFailed
from .errors import ApiProblem, error_responses
from .partners import PartnerOut, partner_out

__all__ = ["PartiesController"]

# Printable ASCII only: the same set in Python's and in ECMA (JSON Schema) regex, unlike \S.
Url = Annotated[str, msgspec.Meta(max_length=255, pattern=r"^https?://[\x21-\x7E]+$")]
Label = Annotated[str, msgspec.Meta(max_length=100)]


class PartyCreate(msgspec.Struct):
    country_code: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2}$", examples=["NL"],
                                              description="ISO 3166-1 alpha-2; stored upper-case")]
    party_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9]{3}$", examples=["SBX"],
                                          description="3 letters or digits; stored upper-case")]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"[^ \t\r\n]", examples=["Sandbox CPO"])]
    website: Url | None = None


class PartyOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    country_code: str
    party_id: str
    name: str
    website: str | None = None
    versions_url: str
    created_at: datetime
    # Only when a token A was minted by this request: give it, with versions_url, to one eMSP.
    token_a: str | None = None
    partner_id: str | None = None


class RegistrationTokenCreate(msgspec.Struct):
    label: Label | None = None


class RegistrationTokenOut(msgspec.Struct, kw_only=True):
    partner_id: str
    token_a: str
    versions_url: str


class RegistrationCreate(msgspec.Struct):
    versions_url: Url
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[\x21-\x7E]+$")]
    label: Label | None = None
    # How to send the token in Authorization: Base64 (the 2.2+ rule, default) or raw for peers that differ.
    token_encoding: Literal["base64", "raw"] | None = None


def _out(party: CpoParty, versions_url: str, *, token_a: str | None = None, partner_id: str | None = None
         ) -> PartyOut:
    return PartyOut(id=party.id, country_code=party.country_code, party_id=party.party_id, name=party.name,
                    website=party.website, versions_url=versions_url, created_at=party.created_at,
                    token_a=token_a, partner_id=partner_id)


class PartiesController(Controller):
    path = "/api/parties"
    tags = ["parties"]

    @post("/", operation_id="createParty", responses=error_responses(400, 401, 403, 404, 409, 422))
    async def create(self, data: PartyCreate, tenant_id: str, db_session: AsyncSession, versions_url: str
                     ) -> PartyOut:
        """Create a CPO party; the answer carries a first token A for an eMSP, with the versions URL."""
        party = await party_service.create_party(db_session, tenant_id, country_code=data.country_code,
                                                 party_id=data.party_id, name=data.name.strip(),
                                                 website=data.website)
        partner, token = await party_service.issue_registration_token(db_session, party)
        return _out(party, versions_url, token_a=token, partner_id=partner.id)

    @get("/", operation_id="listParties", responses=error_responses(401, 403, 404))
    async def list(self, tenant_id: str, db_session: AsyncSession, versions_url: str) -> list[PartyOut]:
        """List this tenant's CPO parties."""
        return [_out(p, versions_url) for p in await party_service.list_parties(db_session, tenant_id)]

    @get("/{id:str}", operation_id="getParty", responses=error_responses(401, 403, 404))
    async def show(self, id: str, tenant_id: str, db_session: AsyncSession, versions_url: str) -> PartyOut:  # noqa: A002
        """Show one CPO party."""
        return _out(await party_service.get_party(db_session, tenant_id, id), versions_url)

    @post("/{id:str}/registration-tokens", operation_id="createRegistrationToken",
          responses=error_responses(400, 401, 403, 404))
    async def mint_token(self, id: str, tenant_id: str, db_session: AsyncSession, versions_url: str,  # noqa: A002
                         data: RegistrationTokenCreate | None = None) -> RegistrationTokenOut:
        """Mint a fresh token A for one more eMSP; each token registers exactly one partner."""
        party = await party_service.get_party(db_session, tenant_id, id)
        partner, token = await party_service.issue_registration_token(db_session, party,
                                                                      label=data.label if data else None)
        return RegistrationTokenOut(partner_id=partner.id, token_a=token, versions_url=versions_url)

    @get("/{id:str}/partners", operation_id="listPartners", responses=error_responses(401, 403, 404))
    async def partners(self, id: str, tenant_id: str, db_session: AsyncSession) -> list[PartnerOut]:  # noqa: A002
        """List the partners of a CPO party with their registration state."""
        party = await party_service.get_party(db_session, tenant_id, id)
        return [partner_out(p) for p in await partner_service.list_partners(db_session, tenant_id, party.id)]

    @post("/{id:str}/registrations", operation_id="registerAtPartner",
          responses=error_responses(400, 401, 403, 404, 502))
    async def register(self, id: str, data: RegistrationCreate, tenant_id: str, db_session: AsyncSession,  # noqa: A002
                       registrar: Registrar) -> PartnerOut:
        """Register this CPO party at an eMSP, given the eMSP's versions URL and the token A it gave you."""
        party = await party_service.get_party(db_session, tenant_id, id)
        await db_session.commit()  # no transaction may stay open across the calls to the partner
        try:
            partner = await registrar.register_at(party, versions_url=data.versions_url, token_a=data.token,
                                                  label=data.label, encoding=data.token_encoding)
        except RegistrationFailed as exc:
            details = {"partner_id": exc.partner_id, "log": f"/api/partners/{exc.partner_id}/log"} \
                if exc.partner_id else None
            raise ApiProblem(502, exc.message, details=details) from None
        return partner_out(partner)
