"""Authenticate an OCPI request: which partner is calling, with which kind of token (reference ocpi.md §1.3).

Token A (registration) and the token of a partner still registering open only ``versions`` and
``credentials``; everything else needs a registered partner's token (401 otherwise, OCPI 2.2.1
transport_and_format, Authorization).
"""

from __future__ import annotations

import msgspec
from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import CpoParty, Partner, PartnerState, TokenKind
from ..domain.partners import find_token_owner
from .authorization import read_authorization
from .errors import OcpiError
from .middleware import note_exchange

__all__ = ["OcpiCaller", "authenticate_caller", "CONFIGURATION_MODULES"]

CONFIGURATION_MODULES = frozenset({"versions", "credentials"})


class OcpiCaller(msgspec.Struct, kw_only=True):
    token: str  # as the partner presented it, decoded
    encoding: str
    kind: str
    partner: Partner
    party: CpoParty

    @property
    def registered(self) -> bool:
        return self.partner.state == PartnerState.REGISTERED and self.kind == TokenKind.ACCESS


async def authenticate_caller(request: Request, session: AsyncSession, module: str) -> OcpiCaller:
    header = request.headers.get("authorization")
    candidates = read_authorization(header)
    if not candidates:
        raise OcpiError.unauthorized(
            "missing or malformed Authorization header; send 'Authorization: Token <Base64 of your token>'")
    found = await find_token_owner(session, [c.token for c in candidates])
    # End the read transaction now: on SQLite every transaction holds the write lock (BEGIN IMMEDIATE), and
    # handlers such as credentials POST call the partner, which calls us back, before they return.
    await session.commit()
    if found is None:
        raise OcpiError.unauthorized(
            "unknown token; use the token A you were given to register, then the token C the credentials "
            "response returned")
    token, owner = found
    candidate = next(c for c in candidates if c.token == token)
    note_exchange(request.scope, partner_id=owner.partner.id, tenant_id=owner.partner.tenant_id,
                  warnings=candidate.warnings)
    caller = OcpiCaller(token=token, encoding=candidate.encoding, kind=owner.kind, partner=owner.partner,
                        party=owner.party)
    if module not in CONFIGURATION_MODULES and not caller.registered:
        raise OcpiError.unauthorized(
            f"this token may only be used on versions and credentials, not on {module}; complete the "
            "credentials handshake and use the token C it returns")
    return caller
