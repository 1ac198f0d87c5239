"""Decide whether an ID token presented at a charger may charge (OCPI mod_tokens whitelist rules;
reference ocpi.md §4.5, §8.14).

In order: a token an eMSP's START_SESSION sent to this charger in the last 15 minutes, or the token of a
reservation in force at this charger (RESERVE_NOW), is not checked again (OCPI mod_commands: already authorized);
a token in the CSMS's own table answers from it; a token an eMSP pushed follows its whitelist (ALWAYS: local;
ALLOWED: local; ALLOWED_OFFLINE: ask the eMSP, allow a valid token if it cannot be reached; NEVER: ask the eMSP);
an unknown token is asked of the registered eMSPs of the location's CPO, then the unknown-token policy decides.
The answer is an OCPP-neutral status: Accepted, Blocked, Expired, Invalid or NoCredit.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.engine import read_only
from ..db.models import (
    Charger,
    CpoSession,
    CsmsIdToken,
    Location,
    OcpiCommand,
    Partner,
    PartnerState,
    RealtimeAuthorization,
    utcnow,
)
from .emsp_tokens import find_token_by_uid

__all__ = ["RealTimeAuthorizer", "authorize_id_token", "STATUS_OF_ALLOWED", "same_id_token", "id_token_is",
           "id_token_params", "IDTAG_16_LENGTH"]

# An OCPP 1.6 idTag is a CiString20: a longer token reaches a 1.6 charger cut to this length, and comes back so.
IDTAG_16_LENGTH = 20

# OCPI AllowedType -> OCPP authorization status (2.0.1 has NoCredit; 1.6 reads it as Invalid).
STATUS_OF_ALLOWED = {"ALLOWED": "Accepted", "BLOCKED": "Blocked", "EXPIRED": "Expired", "NO_CREDIT": "NoCredit",
                     "NOT_ALLOWED": "Invalid"}


def same_id_token(stored: str | None, presented: str | None) -> bool:
    """Whether a charger presenting ``presented`` means the token ``stored`` (case-insensitive): the same token, or
    a token longer than a 1.6 idTag cut to it. Never a shorter prefix: a card "0" is not the token "0123"."""
    token, known = (presented or "").upper(), (stored or "").upper()
    return bool(token) and (known == token or (len(token) == IDTAG_16_LENGTH and known.startswith(token)))


def id_token_is(column: Any) -> ColumnElement[bool]:
    """``same_id_token`` as a SQL condition on a token column, with the bound parameters of ``id_token_params``."""
    return or_(func.upper(column) == bindparam("token"),
               func.upper(column).like(bindparam("token_prefix"), escape="/"))


def id_token_params(presented: str) -> dict[str, str]:
    """Bind ``id_token_is`` to a presented token: exactly it, or, for a full-length 1.6 idTag, any token that
    starts with it (LIKE wildcards in the token are literal)."""
    token = presented.upper()
    escaped = token.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return {"token": token, "token_prefix": escaped + "%" if len(token) == IDTAG_16_LENGTH else escaped}


class RealTimeAuthorizer(Protocol):
    async def authorize(self, partner: Partner, uid: str, token_type: str, location_id: str | None,
                        evse_uids: list[str]) -> dict[str, Any] | None:
        """Ask the eMSP; return its AuthorizationInfo, {} when it does not know the token, None if unreachable."""


# The statements every token presentation runs, built once: building a statement from ORM attributes costs more
# CPU than running it (measured with py-spy in a storm of starts: half of the authorization).
_CHARGER_AND_LOCATION = select(Charger, Location).outerjoin(Location, Location.id == Charger.location_id).where(
    Charger.identity == bindparam("identity"))
_LOCAL_TOKEN = select(CsmsIdToken).where(CsmsIdToken.tenant_id == bindparam("tenant_id"),
                                         func.upper(CsmsIdToken.id_token) == bindparam("token"))
_REGISTERED_PARTNERS = select(Partner).where(Partner.cpo_party_id == bindparam("cpo_party_id"),
                                             Partner.state == PartnerState.REGISTERED)


def _commanded_statement(on_evse: bool) -> Select[tuple[int]]:
    started = and_(OcpiCommand.command == "START_SESSION", OcpiCommand.created_at >= bindparam("since"),
                   or_(OcpiCommand.result.is_(None), OcpiCommand.result == "ACCEPTED"))
    reserved = and_(OcpiCommand.command == "RESERVE_NOW", exists().where(
        CpoSession.reservation_command_id == OcpiCommand.id, CpoSession.status == "RESERVATION"))
    if on_evse:
        reserved = and_(reserved, or_(OcpiCommand.evse_id.is_(None), OcpiCommand.evse_id == bindparam("evse_id")))
    # One query for both: every charger's start asks this, and most chargers have no command at all.
    return select(OcpiCommand.id).where(
        OcpiCommand.tenant_id == bindparam("tenant_id"), OcpiCommand.identity == bindparam("identity"),
        id_token_is(OcpiCommand.id_token), or_(started, reserved)).limit(1)


_COMMANDED = {on_evse: _commanded_statement(on_evse) for on_evse in (False, True)}


async def _where(session: AsyncSession, identity: str) -> tuple[Charger | None, Location | None]:
    row = (await session.execute(_CHARGER_AND_LOCATION, {"identity": identity})).first()
    return (row[0], row[1]) if row else (None, None)


async def _ask(sessions: async_sessionmaker[AsyncSession], realtime: RealTimeAuthorizer, partner: Partner,
               identity: str, uid: str, token_type: str, location: Location | None, charger: Charger | None
               ) -> dict[str, Any] | None:
    evse_uids = [f"{charger.identity}-{e['evse_id']}" for e in charger.hardware or []] if charger else []
    info = await realtime.authorize(partner, uid, token_type, location.ocpi_id if location else None, evse_uids)
    if info:
        async with sessions() as session:
            session.add(RealtimeAuthorization(identity=identity, id_token=uid.upper(), partner_id=partner.id,
                                              allowed=info.get("allowed", "NOT_ALLOWED"),
                                              authorization_reference=info.get("authorization_reference"),
                                              token=info.get("token") or {}))
            await session.commit()
    return info


async def _commanded(session: AsyncSession, tenant_id: str, identity: str, id_token: str, evse_id: int | None
                     ) -> bool:
    """Whether an eMSP's command already authorized this token here: a START_SESSION of the last 15 minutes the
    charger did not refuse, or a reservation in force (on this EVSE, when the charger says which)."""
    params = {"tenant_id": tenant_id, "identity": identity, "since": utcnow() - timedelta(minutes=15),
              **id_token_params(id_token), **({"evse_id": evse_id} if evse_id else {})}
    return await session.scalar(_COMMANDED[bool(evse_id)], params) is not None


async def authorize_id_token(sessions: async_sessionmaker[AsyncSession], tenant_id: str | None, identity: str,
                             id_token: str, *, realtime: RealTimeAuthorizer | None, unknown_policy: str = "accept",
                             evse_id: int | None = None) -> str:
    """Return the OCPP-neutral status for ``id_token`` presented at charger ``identity`` (on ``evse_id``, when the
    charger says: a StartTransaction or TransactionEvent does, an Authorize does not)."""
    async with read_only(sessions) as session:  # every charger's start asks: it must not hold the write lock
        if tenant_id and await _commanded(session, tenant_id, identity, id_token, evse_id):
            await session.commit()
            return "Accepted"
        local = await session.scalar(_LOCAL_TOKEN, {"tenant_id": tenant_id, "token": id_token.upper()}
                                     ) if tenant_id else None
        if local is not None:
            return local.status
        charger, location = await _where(session, identity)
        pushed = await find_token_by_uid(session, tenant_id, id_token, location.cpo_party_id if location else None
                                         ) if tenant_id else None
        candidates: list[Partner] = []
        if pushed is None and realtime is not None and location is not None and location.cpo_party_id is not None:
            candidates = list((await session.scalars(_REGISTERED_PARTNERS,
                                                     {"cpo_party_id": location.cpo_party_id})).all())
        await session.commit()
    if pushed is not None:
        token, partner = pushed
        valid, whitelist = token.valid, token.whitelist
        if whitelist in ("ALWAYS", "ALLOWED") or realtime is None:
            return "Accepted" if valid else "Invalid"
        info = await _ask(sessions, realtime, partner, identity, token.data["uid"], token.type, location, charger)
        if info is None:  # the eMSP cannot be reached
            return "Accepted" if valid and whitelist == "ALLOWED_OFFLINE" else "Invalid"
        return STATUS_OF_ALLOWED.get(info.get("allowed", ""), "Invalid") if info else "Invalid"
    if realtime is not None:
        for partner in candidates:
            info = await _ask(sessions, realtime, partner, identity, id_token, "RFID", location, charger)
            if info:
                return STATUS_OF_ALLOWED.get(info.get("allowed", ""), "Invalid")
    return "Accepted" if unknown_policy == "accept" else "Invalid"
