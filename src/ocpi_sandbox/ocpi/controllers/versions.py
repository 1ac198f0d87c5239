"""Versions and version details (OCPI 2.2.1 version_information_endpoint), driven by ``ocpi_modules/``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from ..caller import OcpiCaller
from ..envelope import OcpiResponse, ocpi_response
from ..manifest import SUPPORTED_VERSIONS, Manifest
from ..v221.versions import Endpoint as EndpointV221
from ..v221.versions import Version, VersionDetails
from ..v230.versions import Endpoint as EndpointV230

__all__ = ["VersionsController", "VersionDetailsController"]

_ENDPOINT = {"2.2.1": EndpointV221, "2.3.0": EndpointV230}


class VersionsController(Controller):
    """``GET /ocpi/versions``: the versions we speak, highest first."""

    path = "/ocpi/versions"
    opt = {"ocpi_module": "versions"}

    @get("/", operation_id="ocpiVersions", include_in_schema=False)
    async def versions(self, caller: OcpiCaller, base_url: str) -> Response[OcpiResponse[Any]]:
        del caller  # authentication is the point: token A or the partner's access token
        return ocpi_response([Version(version=v, url=f"{base_url}/ocpi/{v}") for v in SUPPORTED_VERSIONS])


class VersionDetailsController(Controller):
    """``GET /ocpi/{version}``: the modules of one version, as the manifest enables them."""

    path = "/"
    opt = {"ocpi_module": "versions"}

    @get("/", operation_id="ocpiVersionDetails", include_in_schema=False)
    async def details(self, request: Request, caller: OcpiCaller, base_url: str,
                      manifests: dict[str, Manifest], implemented_modules: frozenset[str]
                      ) -> Response[OcpiResponse[Any]]:
        del caller
        version = request.route_handler.opt["ocpi_version"]
        endpoint = _ENDPOINT[version]
        endpoints = [endpoint(identifier=m.id, role=m.role, url=f"{base_url}/ocpi/{version}/{m.id}")
                     for m in manifests[version].published(set(implemented_modules))]
        return ocpi_response(VersionDetails(version=version, endpoints=endpoints))
