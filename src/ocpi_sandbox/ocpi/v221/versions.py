"""OCPI 2.2.1 versions module (version_information_endpoint): Version, VersionDetails, Endpoint.

VersionNumber and ModuleID are closed enums in 2.2.1.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from ..primitives import URL, OcpiObject

__all__ = ["Version", "VersionDetails", "Endpoint", "VersionNumber", "ModuleID", "InterfaceRole"]

VersionNumber = Literal["2.0", "2.1", "2.1.1", "2.2", "2.2.1", "2.3.0"]
ModuleID = Literal["cdrs", "chargingprofiles", "commands", "credentials", "hubclientinfo", "locations", "sessions", "tariffs", "tokens"]
InterfaceRole = Literal["SENDER", "RECEIVER"]


class Version(OcpiObject, kw_only=True):
    """OCPI 2.2.1 versions, Version: a version and the URL of its details."""

    version: VersionNumber
    url: URL


class Endpoint(OcpiObject, kw_only=True):
    """OCPI 2.2.1 versions, Endpoint: one module interface and its URL."""

    identifier: ModuleID
    role: InterfaceRole
    url: URL


class VersionDetails(OcpiObject, kw_only=True):
    """OCPI 2.2.1 versions, VersionDetails: the endpoints of one version."""

    version: VersionNumber
    endpoints: Annotated[list[Endpoint], msgspec.Meta(min_length=1)]
