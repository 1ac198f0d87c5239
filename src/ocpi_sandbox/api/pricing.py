"""``POST /api/pricing``: price an OCPI CDR with an OCPI Tariff, as ``ocpi-sandbox price`` does."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import post

from ..domain.pricing_check import check_cdr_price
from .errors import error_responses

__all__ = ["price_cdr"]


class PricingRequest(msgspec.Struct, kw_only=True):
    tariff: dict[str, Any]
    cdr: dict[str, Any]
    ocpi_version: Literal["2.2.1", "2.3.0"] = "2.2.1"
    time_zone: Annotated[str, msgspec.Meta(min_length=1, max_length=64, examples=["Europe/Amsterdam"],
                                           description="Where the tariff's time restrictions are read")] = "UTC"


class CostOut(msgspec.Struct):
    excl_vat: float
    incl_vat: float


class ComponentOut(msgspec.Struct):
    type: str
    category: str
    tariff_element: int
    price: float
    vat: float | None
    step_size: int
    volume: float
    billed_volume: float
    cost: CostOut


class PeriodOut(msgspec.Struct):
    start_date_time: str
    end_date_time: str
    reservation: bool
    cost: CostOut
    components: list[ComponentOut]


class TaxOut(msgspec.Struct):
    name: str
    percentage: float
    amount: float


class PricingReport(msgspec.Struct):
    currency: str
    total_cost: CostOut
    total_fixed_cost: CostOut
    total_energy_cost: CostOut
    total_time_cost: CostOut
    total_parking_cost: CostOut
    total_reservation_cost: CostOut
    total_energy: float
    total_time: float
    total_parking_time: float
    taxes: list[TaxOut]
    min_price_applied: bool
    max_price_applied: bool
    notices: list[str]
    periods: list[PeriodOut]


@post("/api/pricing", operation_id="priceCdr", tags=["pricing"], status_code=200,
      responses=error_responses(400, 401, 403, 404, 422))
async def price_cdr(data: PricingRequest, tenant_id: str) -> PricingReport:
    """Price an OCPI CDR's charging periods with an OCPI Tariff: totals excl./incl. VAT and the breakdown."""
    del tenant_id  # any authenticated caller may use the calculator; it touches no tenant data
    report = check_cdr_price(data.tariff, data.cdr, version=data.ocpi_version, time_zone=data.time_zone)
    return msgspec.convert(report, PricingReport)
