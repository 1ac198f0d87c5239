"""The Tariffs module, CPO as Sender (OCPI 2.2.1 mod_tariffs, Sender interface): the paginated tariff list."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from sqlalchemy.ext.asyncio import AsyncSession

from ...domain import tariff_records
from ..caller import OcpiCaller
from ..envelope import OcpiResponse
from ..pagination import paged_response, read_page
from ..tariff_versions import tariff_object

__all__ = ["TariffsController"]


class TariffsController(Controller):
    path = "/tariffs"
    opt = {"ocpi_module": "tariffs"}

    @get("/", operation_id="ocpiListTariffs", include_in_schema=False)
    async def list(self, request: Request, caller: OcpiCaller, db_session: AsyncSession, base_url: str,
                   settings: Any) -> Response[OcpiResponse[Any]]:
        """List the caller's CPO party's tariffs, oldest first, filtered on ``last_updated``."""
        version = request.route_handler.opt["ocpi_version"]
        params = dict(request.query_params)
        page = read_page(params, max_limit=settings.ocpi_page_limit)
        scope = dict(party_id=caller.party.id, date_from=page.date_from, date_to=page.date_to)
        rows = await tariff_records.list_tariffs(db_session, caller.party.tenant_id, offset=page.offset,
                                                 limit=page.limit, **scope)
        total = await tariff_records.count_tariffs(db_session, caller.party.tenant_id, **scope)
        return paged_response([tariff_object(row, caller.party, version) for row in rows],
                              url=f"{base_url}/ocpi/{version}/tariffs", params=params, page=page, total=total,
                              max_limit=settings.ocpi_page_limit)
