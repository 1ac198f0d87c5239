"""OCPI 2.2.1 Tokens module objects (mod_tokens.asciidoc): Token, AuthorizationInfo, LocationReferences, ...

``TokenType`` and ``ProfileType`` are shared with other modules and live in ``types``.
"""

from __future__ import annotations

from typing import Literal

from ..primitives import CiString, DateTime, OcpiObject, String
from .types import DisplayText, ProfileType, TokenType

__all__ = [
    "AllowedType",
    "AuthorizationInfo",
    "EnergyContract",
    "LocationReferences",
    "Token",
    "WhitelistType",
]

AllowedType = Literal["ALLOWED", "BLOCKED", "EXPIRED", "NO_CREDIT", "NOT_ALLOWED"]
WhitelistType = Literal["ALWAYS", "ALLOWED", "ALLOWED_OFFLINE", "NEVER"]


class EnergyContract(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_tokens, EnergyContract class: the driver's own energy supplier and contract."""

    supplier_name: String(64)
    contract_id: String(64) | None = None


class LocationReferences(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_tokens, LocationReferences class: where a token asks to be authorized."""

    location_id: CiString(36)
    evse_uids: list[CiString(36)] | None = None


class Token(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_tokens, Token object: a charging token issued by an eMSP."""

    country_code: CiString(2)
    party_id: CiString(3)
    uid: CiString(36)
    type: TokenType
    contract_id: CiString(36)
    visual_number: String(64) | None = None
    issuer: String(64)
    group_id: CiString(36) | None = None
    valid: bool
    whitelist: WhitelistType
    language: String(2) | None = None
    default_profile_type: ProfileType | None = None
    energy_contract: EnergyContract | None = None
    last_updated: DateTime


class AuthorizationInfo(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_tokens, AuthorizationInfo object: the eMSP's answer to a real-time authorization."""

    allowed: AllowedType
    token: Token
    location: LocationReferences | None = None
    authorization_reference: CiString(36) | None = None
    info: DisplayText | None = None
