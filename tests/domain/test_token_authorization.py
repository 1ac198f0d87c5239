"""How the CSMS decides on a token a charger presents (domain.authorization), on both backends: the token rules
a charger meets, run through the prebuilt statements against a real database."""

from __future__ import annotations

from datetime import timedelta

from ocpi_sandbox.db.models import CsmsIdToken, OcpiCommand, utcnow
from ocpi_sandbox.domain import parties as party_service
from ocpi_sandbox.domain import tenants as tenant_service
from ocpi_sandbox.domain.authorization import authorize_id_token

LONG = "ABCDEFGHIJKLMNOPQRSTUVWX"  # 24 characters: a 1.6 charger presents its first 20
WILD = "WILDXXXXXXXXXXXXXXXXXXXX"  # LIKE wildcards in a presented token must match only themselves
SLASHED = "AB/CDEFGHIJKLMNOPQRSTUVW"  # and so must the LIKE escape character


async def _tenant_with_commands(sessions, name: str, *tokens: str) -> str:  # noqa: ANN001 - async_sessionmaker
    async with sessions() as session:
        tenant, _ = await tenant_service.create_tenant(session, name)
        party = await party_service.create_party(session, tenant.id, country_code="NL", party_id="AUT", name="a")
        partner, _ = await party_service.issue_registration_token(session, party)
        for token, result, age in ((LONG, None, 0), (WILD, "ACCEPTED", 0), ("REFUSED1", "REJECTED", 0),
                                   ("OLDSTART", None, 20), *((t, None, 0) for t in tokens)):
            session.add(OcpiCommand(
                tenant_id=tenant.id, partner_id=partner.id, cpo_party_id=party.id, command="START_SESSION",
                version="2.2.1", request={}, response_url="http://emsp.invalid/r", identity="CP-AUTH",
                id_token=token, result=result, created_at=utcnow() - timedelta(minutes=age)))
        session.add(CsmsIdToken(tenant_id=tenant.id, id_token="blockedcard", status="Blocked"))
        await session.commit()
    return tenant.id


async def test_tokens_a_charger_presents_are_matched_by_the_rules_of_each_source(sessions):
    tenant_id = await _tenant_with_commands(sessions, "auth-rules", SLASHED)
    other_tenant = await _tenant_with_commands(sessions, "auth-other", "OTHERTENANTCARD")
    assert other_tenant != tenant_id

    async def status(token: str, *, tenant: str = tenant_id, identity: str = "CP-AUTH",
                     evse_id: int | None = None) -> str:
        return await authorize_id_token(sessions, tenant, identity, token, realtime=None, unknown_policy="reject",
                                        evse_id=evse_id)

    # An eMSP's START_SESSION of the last 15 minutes authorized its token at that charger, on any EVSE.
    assert await status(LONG) == "Accepted"
    assert await status(LONG.lower(), evse_id=2) == "Accepted"
    assert await status(LONG[:20]) == "Accepted"  # a 1.6 idTag is the token cut to 20 characters
    assert await status(LONG[:19]) == "Invalid"  # never a shorter prefix
    assert await status(LONG, identity="CP-ELSEWHERE") == "Invalid"
    assert await status(WILD) == "Accepted"
    assert await status("WIL_" + WILD[4:20]) == "Invalid"  # "_" is not a wildcard
    assert await status("WIL%" + WILD[4:20]) == "Invalid"
    assert await status(SLASHED[:20]) == "Accepted"  # "/" is the escape character: it must stay literal
    assert await status("OTHERTENANTCARD") == "Invalid"  # another tenant's command
    assert await status("OTHERTENANTCARD", tenant=other_tenant) == "Accepted"
    assert await status("REFUSED1") == "Invalid"  # the charger refused that command
    assert await status("OLDSTART") == "Invalid"  # older than 15 minutes
    # The CSMS's own table answers with its status, case-insensitively; another tenant's rows count for nothing.
    assert await status("BLOCKEDCARD") == "Blocked"
    async with sessions() as session:
        session.add(CsmsIdToken(tenant_id=tenant_id, id_token="othercard", status="Accepted"))
        await session.commit()
    assert await status("OTHERCARD", tenant=other_tenant) == "Invalid"
    assert await status("othercard") == "Accepted"
