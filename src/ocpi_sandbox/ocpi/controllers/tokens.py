"""The Tokens module, CPO as Receiver (OCPI 2.2.1 mod_tokens, Receiver interface; reference ocpi.md §4.5).

``{tokens_url}/{country_code}/{party_id}/{token_uid}[?type=]``: PUT stores a token (201 new, 200 replaced), PATCH
changes fields of a stored one (``last_updated`` required), GET returns it as pushed. The country code and
party id must be one of the caller's registered roles; URL and body must agree; ``type`` defaults to RFID.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, put
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from ...domain import emsp_tokens
from ...domain.errors import Conflict
from ..caller import OcpiCaller
from ..envelope import OcpiResponse, ocpi_response
from ..errors import OcpiError
from ..request_body import decode_body
from ..status import OcpiStatus
from ..v221.tokens import Token as TokenV221
from ..v230.tokens import Token as TokenV230

__all__ = ["TokensController"]

_TOKEN = {"2.2.1": TokenV221, "2.3.0": TokenV230}
TokenTypeParam = Annotated[str, Parameter(query="type", required=False)]


def _version(request: Request) -> str:
    return request.route_handler.opt["ocpi_version"]


def _own_role(caller: OcpiCaller, country_code: str, party_id: str) -> None:
    for role in caller.partner.roles or []:
        if role["country_code"].upper() == country_code.upper() and role["party_id"].upper() == party_id.upper():
            return
    raise OcpiError(OcpiStatus.CLIENT_ERROR, f"{country_code}/{party_id} is not one of the roles you registered "
                    "with; push only your own tokens", http_status=404)


def _same_key(token: Any, country_code: str, party_id: str, uid: str, token_type: str) -> None:
    mismatches = [f"{name} {body!r} in the body but {url!r} in the URL"
                  for name, body, url in (("country_code", token.country_code, country_code),
                                          ("party_id", token.party_id, party_id), ("uid", token.uid, uid))
                  if body.upper() != url.upper()]
    if token.type != token_type:
        mismatches.append(f"type {token.type!r} in the body but {token_type!r} in the URL (?type= defaults to RFID)")
    if mismatches:
        raise OcpiError.invalid("the token does not match its URL: " + "; ".join(mismatches))


class TokensController(Controller):
    path = "/tokens"
    opt = {"ocpi_module": "tokens"}

    @get("/{country_code:str}/{party_id:str}/{token_uid:str}", operation_id="ocpiGetToken", include_in_schema=False)
    async def show(self, caller: OcpiCaller, db_session: AsyncSession, country_code: str, party_id: str,
                   token_uid: str, token_type: TokenTypeParam = "RFID") -> Response[OcpiResponse[Any]]:
        _own_role(caller, country_code, party_id)
        row = await emsp_tokens.find_token(db_session, caller.partner.id, country_code, party_id, token_uid, token_type)
        if row is None:
            raise OcpiError.not_found(f"no {token_type} token {country_code}/{party_id}/{token_uid} was pushed")
        return ocpi_response(row.data)

    @put("/{country_code:str}/{party_id:str}/{token_uid:str}", operation_id="ocpiPutToken", include_in_schema=False)
    async def store(self, request: Request, caller: OcpiCaller, db_session: AsyncSession, country_code: str,
                    party_id: str, token_uid: str, token_type: TokenTypeParam = "RFID") -> Response[OcpiResponse[Any]]:
        _own_role(caller, country_code, party_id)
        raw = await request.body()
        token = decode_body(raw, _TOKEN[_version(request)])
        _same_key(token, country_code, party_id, token_uid, token_type)
        try:
            data = msgspec.json.decode(raw)
            data = data[0] if isinstance(data, list) else data  # decode_body accepted a list of one
            created = await emsp_tokens.store_token(db_session, caller.partner, data=data,
                                                    version=_version(request), last_updated=token.last_updated)
        except Conflict as exc:
            raise OcpiError(OcpiStatus.SERVER_ERROR, exc.message) from None
        return ocpi_response(http_status=201 if created else 200)

    @patch("/{country_code:str}/{party_id:str}/{token_uid:str}", operation_id="ocpiPatchToken",
           include_in_schema=False)
    async def change(self, request: Request, caller: OcpiCaller, db_session: AsyncSession, country_code: str,
                     party_id: str, token_uid: str, token_type: TokenTypeParam = "RFID"
                     ) -> Response[OcpiResponse[Any]]:
        _own_role(caller, country_code, party_id)
        changes = decode_body(await request.body(), dict[str, Any])
        if "last_updated" not in changes:
            raise OcpiError.invalid("a PATCH must carry last_updated (OCPI mod_tokens)")
        row = await emsp_tokens.find_token(db_session, caller.partner.id, country_code, party_id, token_uid, token_type)
        if row is None:
            raise OcpiError.not_found(f"no {token_type} token {country_code}/{party_id}/{token_uid}; PUT it first")
        merged = {**row.data, **changes}
        try:
            token = msgspec.convert(merged, _TOKEN[_version(request)], strict=True)
        except msgspec.ValidationError as exc:
            raise OcpiError.invalid(f"the patched token is not valid: {exc}") from None
        _same_key(token, country_code, party_id, token_uid, token_type)
        await emsp_tokens.store_token(db_session, caller.partner, data=merged, version=_version(request),
                                      last_updated=token.last_updated)
        return ocpi_response()
