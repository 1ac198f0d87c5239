"""The read-only charger catalog: brands, their models, a model's details (every one simulated/fictional)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, get

from ..domain.catalog import CatalogLookupError, Model
from ..domain.chargers import catalog as load_catalog
from .errors import ApiProblem, error_responses

__all__ = ["CatalogController"]


class BrandOut(msgspec.Struct, kw_only=True):
    slug: str
    name: str
    country: str
    description: str
    models: int


class ModelSummary(msgspec.Struct, kw_only=True):
    slug: str
    brand_slug: str
    name: str
    segment: str
    region: str
    ocpp_versions: list[str]
    evses: int
    max_power_w: int
    simulated: bool


class ModelOut(ModelSummary, kw_only=True):
    description: str
    boot_vendor: str
    boot_model: str
    firmware_version: str
    phases: int
    station_max_power_w: int | None
    evse_connectors: list[list[dict[str, Any]]]
    ocpp16_configuration: dict[str, Any]
    ocpp201_variables: list[dict[str, Any]]


def _summary(m: Model) -> dict[str, Any]:
    return dict(slug=m.slug, brand_slug=m.brand, name=m.name, segment=m.segment, region=m.region,
                ocpp_versions=m.ocpp_versions, evses=len(m.evses), max_power_w=m.max_power_w, simulated=m.simulated)


def _model(brand_slug: str, model_slug: str) -> Model:
    try:
        return load_catalog().model(brand_slug, model_slug)
    except CatalogLookupError as exc:
        raise ApiProblem(404, str(exc)) from None


class CatalogController(Controller):
    path = "/api/catalog/brands"
    tags = ["catalog"]

    @get("/", operation_id="listBrands", responses=error_responses(401, 403, 404))
    async def brands(self, tenant_id: str) -> list[BrandOut]:
        """List the charger brands (fictional makers, simulated models)."""
        catalog = load_catalog()
        return [BrandOut(slug=b.slug, name=b.name, country=b.country, description=b.description,
                         models=len(catalog.models_of(b.slug))) for b in catalog.brands]

    @get("/{brand_slug:str}/models", operation_id="listModels", responses=error_responses(401, 403, 404))
    async def models(self, brand_slug: str, tenant_id: str) -> list[ModelSummary]:
        """List a brand's models."""
        try:
            models = load_catalog().models_of(brand_slug)
        except CatalogLookupError as exc:
            raise ApiProblem(404, str(exc)) from None
        return [ModelSummary(**_summary(m)) for m in models]

    @get("/{brand_slug:str}/models/{model_slug:str}", operation_id="getModel", responses=error_responses(401, 403, 404))
    async def model(self, brand_slug: str, model_slug: str, tenant_id: str) -> ModelOut:
        """Show a model: EVSEs and connectors (OCPI and OCPP 2.0.1 terms), OCPP versions and configuration."""
        m = _model(brand_slug, model_slug)
        return ModelOut(**_summary(m), description=m.description, boot_vendor=m.boot_vendor, boot_model=m.boot_model,
                        firmware_version=m.firmware_version, phases=m.phases, station_max_power_w=m.station_max_power_w,
                        evse_connectors=[[msgspec.to_builtins(c) for c in e.connectors] for e in m.evses],
                        ocpp16_configuration=m.ocpp16_configuration_strings(),
                        ocpp201_variables=[msgspec.to_builtins(v) for v in m.ocpp201_variables])
