"""The credentials handshake over HTTP, both directions (OCPI 2.2.1 credentials; reference ocpi.md §3.4–§3.5).

Case A, an eMSP registers with us: it POSTs its credentials (token B, its versions URL) with token A; before
answering we fetch its versions and version details *with token B*, then return our token C.
Case B, we register with an eMSP: given its versions URL and token A, we fetch its version details, POST our
credentials (our token B) and keep the token C it returns.

No database session is held across a network call: state changes are the short transactions of
``domain.partners``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import CpoParty, Partner
from ..domain import partners as partner_service
from ..domain.errors import Conflict
from . import v221, v230
from .client import OcpiCallError, OcpiClient
from .errors import OcpiError
from .manifest import SUPPORTED_VERSIONS
from .status import OcpiStatus
from .v221 import credentials as credentials_v221
from .v221 import types as types_v221
from .v230 import credentials as credentials_v230
from .v230 import types as types_v230
from .v230.versions import Endpoint as AnyEndpoint
from .v230.versions import Version as AnyVersion

__all__ = ["Registrar", "RegistrationFailed", "credentials_type", "our_credentials", "Discovery"]

_CREDENTIALS = {"2.2.1": credentials_v221, "2.3.0": credentials_v230}
_TYPES = {"2.2.1": types_v221, "2.3.0": types_v230}
assert v221 and v230  # the version packages are imported for their modules above


def credentials_type(version: str) -> type:
    return _CREDENTIALS[version].Credentials


def our_credentials(party: CpoParty, *, token: str, version: str, versions_url: str) -> msgspec.Struct:
    """Build our Credentials object for ``version``: the token the partner must use, our URL, our CPO role."""
    module, types = _CREDENTIALS[version], _TYPES[version]
    details = types.BusinessDetails(name=party.name, website=party.website)
    role = module.CredentialsRole(role="CPO", business_details=details, party_id=party.party_id,
                                  country_code=party.country_code)
    return module.Credentials(token=token, url=versions_url, roles=[role])


class Discovery(msgspec.Struct, kw_only=True):
    """What we learned from a partner's versions and version-details endpoints."""

    version: str
    details_url: str
    endpoints: list[dict]

    def endpoint(self, identifier: str) -> str | None:
        for e in self.endpoints:
            if e["identifier"] == identifier:
                return e["url"]
        return None


class RegistrationFailed(Exception):
    """Registering with a partner failed; ``partner_id`` names the partner whose log shows why."""

    def __init__(self, message: str, partner_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.partner_id = partner_id


class Registrar:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], client: OcpiClient, *, versions_url: str,
                 token_grace: timedelta) -> None:
        self._sessions = sessions
        self._client = client
        self._versions_url = versions_url
        self._grace = token_grace

    async def discover(self, versions_url: str, token: str, *, wanted: str | None, partner: Partner | None = None,
                       tenant_id: str | None = None, encoding: str | None = None,
                       correlation_id: str | None = None) -> Discovery:
        """Fetch a partner's versions and the details of ``wanted`` (or of the highest common version).

        Raises OcpiError 3001 when the partner's API cannot be used, 3002 when there is no common version.
        """
        call = dict(token=token, encoding=encoding or (partner.outbound_token_encoding if partner else None),
                    partner_id=partner.id if partner else None,
                    tenant_id=partner.tenant_id if partner else tenant_id, correlation_id=correlation_id)
        try:
            reply = await self._client.call("GET", versions_url, version=wanted, **call)
            versions = msgspec.convert(reply.data, list[AnyVersion], strict=True)
        except OcpiCallError as exc:
            raise OcpiError(OcpiStatus.UNABLE_TO_USE_CLIENT_API,
                            f"could not fetch your versions from {versions_url} with the token you gave: "
                            f"{exc.message}") from None
        except msgspec.ValidationError as exc:
            raise OcpiError(OcpiStatus.UNABLE_TO_USE_CLIENT_API,
                            f"your versions endpoint {versions_url} did not answer a list of Version: {exc}"
                            ) from None
        offered = {v.version: v.url for v in versions}
        candidates = [wanted] if wanted else list(SUPPORTED_VERSIONS)
        version = next((v for v in candidates if v in offered), None)
        if version is None:
            raise OcpiError(OcpiStatus.UNSUPPORTED_VERSION,
                            f"no common OCPI version: your versions endpoint lists {sorted(offered) or 'none'}, "
                            f"we need {' or '.join(candidates)}")
        details_url = offered[version]
        try:
            reply = await self._client.call("GET", details_url, version=version, **call)
            endpoints = msgspec.convert(reply.single.get("endpoints") if isinstance(reply.single, dict) else None,
                                        list[AnyEndpoint], strict=True)
        except OcpiCallError as exc:
            raise OcpiError(OcpiStatus.UNABLE_TO_USE_CLIENT_API,
                            f"could not fetch your {version} version details from {details_url}: {exc.message}"
                            ) from None
        except msgspec.ValidationError as exc:
            raise OcpiError(OcpiStatus.UNABLE_TO_USE_CLIENT_API,
                            f"your {version} version details at {details_url} have no valid endpoints: {exc}"
                            ) from None
        return Discovery(version=version, details_url=details_url, endpoints=msgspec.to_builtins(endpoints))

    # --- case A: the partner registers with us ------------------------------------------------------------

    async def accept_registration(self, partner: Partner, party: CpoParty, version: str, body: msgspec.Struct,
                                  correlation_id: str | None) -> msgspec.Struct:
        """Handle a credentials POST (token A) on ``version``: call the partner back, return our token C."""
        discovery = await self.discover(body.url, body.token, wanted=version, partner=partner,
                                        correlation_id=correlation_id)
        roles = msgspec.to_builtins(body.roles)
        async with self._sessions() as session:
            try:
                token_c = await partner_service.complete_registration(
                    session, partner.id, version=version, versions_url=body.url, token_b=body.token, roles=roles,
                    endpoints=discovery.endpoints)
            except Conflict as exc:
                if "already registered; use PUT" in exc.message:
                    raise OcpiError.method_not_allowed(exc.message) from None
                raise OcpiError.invalid(exc.message) from None
        return our_credentials(party, token=token_c, version=version, versions_url=self._versions_url)

    async def accept_update(self, partner: Partner, party: CpoParty, version: str, body: msgspec.Struct,
                            correlation_id: str | None) -> msgspec.Struct:
        """Handle a credentials PUT: re-fetch the partner's endpoints, switch version, issue a new token."""
        discovery = await self.discover(body.url, body.token, wanted=version, partner=partner,
                                        correlation_id=correlation_id)
        async with self._sessions() as session:
            try:
                new_token = await partner_service.rotate_credentials(
                    session, partner.id, version=version, versions_url=body.url, token=body.token,
                    roles=msgspec.to_builtins(body.roles), endpoints=discovery.endpoints, grace=self._grace)
            except Conflict as exc:
                raise OcpiError.method_not_allowed(exc.message) from None
        return our_credentials(party, token=new_token, version=version, versions_url=self._versions_url)

    # --- case B: we register with the partner -------------------------------------------------------------

    async def register_at(self, party: CpoParty, *, versions_url: str, token_a: str, label: str | None,
                          encoding: str | None) -> Partner:
        """Register ``party`` at a partner given its versions URL and token A; return the registered partner."""
        correlation_id = str(uuid.uuid4())
        # The partner row exists before the first call, so every exchange, and a failure, is in its log.
        async with self._sessions() as session:
            partner, token_b = await partner_service.start_outbound_registration(
                session, party, label=label, versions_url=versions_url, encoding=encoding)

        async def fail(message: str) -> RegistrationFailed:
            async with self._sessions() as session:
                await partner_service.fail_outbound_registration(session, partner.id, message)
            return RegistrationFailed(message, partner.id)

        try:
            discovery = await self.discover(versions_url, token_a, wanted=None, partner=partner,
                                            encoding=encoding, correlation_id=correlation_id)
        except OcpiError as exc:
            raise await fail(exc.message) from None
        credentials_url = discovery.endpoint("credentials")
        if credentials_url is None:
            raise await fail(f"the partner's {discovery.version} version details at {discovery.details_url} "
                             "list no credentials endpoint")
        body = our_credentials(party, token=token_b, version=discovery.version, versions_url=self._versions_url)
        try:
            reply = await self._client.call(
                "POST", credentials_url, token=token_a, version=discovery.version, encoding=encoding, json=body,
                partner_id=partner.id, tenant_id=partner.tenant_id, correlation_id=correlation_id)
            theirs = msgspec.convert(reply.single, credentials_type(discovery.version), strict=True)
        except (OcpiCallError, msgspec.ValidationError) as exc:
            message = exc.message if isinstance(exc, OcpiCallError) else f"invalid Credentials in the answer: {exc}"
            raise await fail(f"the partner refused or failed our credentials POST: {message}") from None
        async with self._sessions() as session:
            return await partner_service.finish_outbound_registration(
                session, partner.id, token_c=theirs.token, roles=msgspec.to_builtins(theirs.roles),
                version=discovery.version, endpoints=discovery.endpoints)

    async def notify_unregister(self, partner: Partner) -> str | None:
        """Tell a registered partner we end the registration (DELETE on its credentials); return any problem."""
        url = next((e["url"] for e in partner.endpoints or [] if e["identifier"] == "credentials"), None)
        if url is None or partner.outbound_token is None:
            return "the partner published no credentials endpoint; it was not told"
        try:
            await self._client.call("DELETE", url, token=partner.outbound_token, version=partner.version,
                                    encoding=partner.outbound_token_encoding, partner_id=partner.id,
                                    tenant_id=partner.tenant_id)
        except OcpiCallError as exc:
            return exc.message
        return None
