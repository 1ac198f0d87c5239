"""Ask an eMSP to authorize a token in real time (OCPI 2.2.1 mod_tokens, Sender interface, "Real-time
authorization"): ``POST {tokens_url}/{uid}/authorize?type=`` with the location references."""

from __future__ import annotations

from typing import Any

from ..db.models import Partner
from .client import OcpiCallError, OcpiClient, join_url

__all__ = ["EmspAuthorizer"]


class EmspAuthorizer:
    def __init__(self, client: OcpiClient) -> None:
        self._client = client

    async def authorize(self, partner: Partner, uid: str, token_type: str, location_id: str | None,
                        evse_uids: list[str]) -> dict[str, Any] | None:
        base = next((e["url"] for e in partner.endpoints or [] if e["identifier"] == "tokens"
                     and e.get("role") == "SENDER"), None)
        if base is None or partner.outbound_token is None:
            return None
        body = {"location_id": location_id, "evse_uids": evse_uids} if location_id else None
        url = join_url(base, uid, "authorize") + f"?type={token_type}"
        try:
            reply = await self._client.call("POST", url, token=partner.outbound_token, version=partner.version,
                                            encoding=partner.outbound_token_encoding, json=body,
                                            partner_id=partner.id, tenant_id=partner.tenant_id)
        except OcpiCallError as exc:
            reply = exc.reply
            if reply is not None and (reply.status_code == 2004 or reply.http_status == 404):
                return {}  # the eMSP does not know the token (mod_tokens: 404 / 2004)
            return None
        return reply.single if isinstance(reply.single, dict) else None
