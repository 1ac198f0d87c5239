"""Tariffs of a CPO party, as OCPI 2.3.0 Tariff objects (served to eMSPs in 2.2.1 or 2.3.0 shape)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, delete, get, post, put
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import TariffRecord
from ..domain import parties as party_service
from ..domain import tariff_records
from ..ocpi.v230.tariffs import Tariff as TariffV230
from .errors import ApiProblem, error_responses

__all__ = ["TariffsController", "PartyTariffsController"]

OcpiId = Annotated[str, msgspec.Meta(pattern=r"^[\x21-\x7E]{1,36}$", examples=["AC-STANDARD"])]


class TariffCreate(msgspec.Struct, kw_only=True):
    id: OcpiId
    # An OCPI 2.3.0 Tariff; country_code, party_id, id and last_updated are filled in by the sandbox.
    tariff: dict[str, Any]


class TariffReplace(msgspec.Struct, kw_only=True):
    tariff: dict[str, Any]


class TariffOut(msgspec.Struct, kw_only=True):
    id: str
    ocpi_id: str
    cpo_party_id: str
    tariff: dict[str, Any]
    last_updated: datetime


def _out(row: TariffRecord) -> TariffOut:
    return TariffOut(id=row.id, ocpi_id=row.ocpi_id, cpo_party_id=row.cpo_party_id, tariff=row.data,
                     last_updated=row.last_updated)


def _validated(ocpi_id: str, tariff: dict[str, Any]) -> dict[str, Any]:
    """Check the object is an OCPI 2.3.0 Tariff (with placeholders for the fields the sandbox owns)."""
    full = {**tariff, "country_code": "XX", "party_id": "XXX", "id": ocpi_id, "last_updated": "2026-01-01T00:00:00Z"}
    try:
        msgspec.convert(full, TariffV230, strict=True)
    except msgspec.ValidationError as exc:
        raise ApiProblem(422, f"not an OCPI 2.3.0 Tariff: {exc}") from None
    return tariff


class PartyTariffsController(Controller):
    path = "/api/parties/{party_ref:str}/tariffs"
    tags = ["tariffs"]

    @post("/", operation_id="createTariff", responses=error_responses(400, 401, 403, 404, 409, 422))
    async def create(self, party_ref: str, data: TariffCreate, tenant_id: str, db_session: AsyncSession
                     ) -> TariffOut:
        """Publish a tariff for a CPO party (OCPI 2.3.0 shape; 2.2.1 eMSPs get it converted)."""
        party = await party_service.get_party(db_session, tenant_id, party_ref)
        row = await tariff_records.create_tariff(db_session, party, data.id, _validated(data.id, data.tariff))
        return _out(row)

    @get("/", operation_id="listPartyTariffs", responses=error_responses(401, 403, 404))
    async def list(self, party_ref: str, tenant_id: str, db_session: AsyncSession) -> list[TariffOut]:
        """List a CPO party's tariffs."""
        party = await party_service.get_party(db_session, tenant_id, party_ref)
        return [_out(r) for r in await tariff_records.tariffs_for_party(db_session, party.id)]


class TariffsController(Controller):
    path = "/api/tariffs"
    tags = ["tariffs"]

    @get("/{id:str}", operation_id="getTariff", responses=error_responses(401, 403, 404))
    async def show(self, id: str, tenant_id: str, db_session: AsyncSession) -> TariffOut:  # noqa: A002
        """Show one tariff."""
        return _out(await tariff_records.get_tariff(db_session, tenant_id, id))

    @put("/{id:str}", operation_id="replaceTariff", responses=error_responses(400, 401, 403, 404, 422))
    async def replace(self, id: str, data: TariffReplace, tenant_id: str, db_session: AsyncSession  # noqa: A002
                      ) -> TariffOut:
        """Replace a tariff's content (its last_updated moves, so eMSPs syncing with date_from see it)."""
        row = await tariff_records.get_tariff(db_session, tenant_id, id)
        party = await party_service.get_party(db_session, tenant_id, row.cpo_party_id)
        return _out(await tariff_records.replace_tariff(db_session, row, party, _validated(row.ocpi_id, data.tariff)))

    @delete("/{id:str}", operation_id="deleteTariff", responses=error_responses(401, 403, 404))
    async def remove(self, id: str, tenant_id: str, db_session: AsyncSession) -> Response[None]:  # noqa: A002
        """Delete a tariff."""
        await tariff_records.delete_tariff(db_session, tenant_id, id)
        return Response(None, status_code=204)
