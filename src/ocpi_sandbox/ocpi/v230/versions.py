"""OCPI 2.3.0 versions module (version_information_endpoint): Version, VersionDetails, Endpoint.

VersionNumber and ModuleID are OpenEnums in 2.3.0: unknown values are legal and ignored by us.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from ..primitives import URL, OcpiObject

__all__ = ["Version", "VersionDetails", "Endpoint", "VersionNumber", "ModuleID", "InterfaceRole"]

VersionNumber = str
ModuleID = str
InterfaceRole = Literal["SENDER", "RECEIVER"]


class Version(OcpiObject, kw_only=True):
    """OCPI 2.3.0 versions, Version: a version and the URL of its details."""

    version: VersionNumber
    url: URL


class Endpoint(OcpiObject, kw_only=True):
    """OCPI 2.3.0 versions, Endpoint: one module interface and its URL."""

    identifier: ModuleID
    role: InterfaceRole
    url: URL


class VersionDetails(OcpiObject, kw_only=True):
    """OCPI 2.3.0 versions, VersionDetails: the endpoints of one version."""

    version: VersionNumber
    endpoints: Annotated[list[Endpoint], msgspec.Meta(min_length=1)]
