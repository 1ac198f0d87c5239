"""OCPI 2.3.0 credentials module: Credentials (adds ``hub_party_id``) and CredentialsRole."""

from __future__ import annotations

from typing import Annotated

import msgspec

from ..primitives import URL, CiString, OcpiObject
from .types import BusinessDetails, Role

__all__ = ["Credentials", "CredentialsRole", "CredentialsTokenValue"]

# string(64) of printable, non-whitespace ASCII (credentials, Credentials object).
CredentialsTokenValue = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[\x21-\x7E]+$")]


class CredentialsRole(OcpiObject, kw_only=True):
    """OCPI 2.3.0 credentials, CredentialsRole: one role a platform hosts, with its identity."""

    role: Role
    business_details: BusinessDetails
    party_id: CiString(3)
    country_code: CiString(2)


class Credentials(OcpiObject, kw_only=True):
    """OCPI 2.3.0 credentials, Credentials: token, versions URL, roles, and the hub's id if it is one."""

    token: CredentialsTokenValue
    url: URL
    roles: Annotated[list[CredentialsRole], msgspec.Meta(min_length=1)]
    hub_party_id: CiString(5) | None = None
