"""Tariffs of a CPO party: create, list, read, replace, delete (what OCPI Tariffs publishes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import CpoParty, TariffRecord, utcnow
from . import outbox
from .errors import Conflict, InvalidInput, NotFound
from .tariffs import TariffFormatError, tariff_from_ocpi

__all__ = ["create_tariff", "replace_tariff", "list_tariffs", "count_tariffs", "get_tariff", "delete_tariff",
           "tariffs_for_party"]

_OWNED = ("country_code", "party_id", "id", "last_updated")


def _checked(party: CpoParty, ocpi_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Check ``data`` prices as an OCPI 2.3.0 tariff (the pricing engine must understand what we publish)."""
    body = {k: v for k, v in data.items() if k not in _OWNED}
    full = {**body, "country_code": party.country_code, "party_id": party.party_id, "id": ocpi_id,
            "last_updated": "2026-01-01T00:00:00Z"}
    try:
        tariff_from_ocpi(full, "2.3.0")
    except TariffFormatError as exc:
        raise InvalidInput(f"the tariff cannot be priced: {exc}") from None
    return body


async def create_tariff(session: AsyncSession, party: CpoParty, ocpi_id: str, data: dict[str, Any],
                        last_updated: datetime | None = None) -> TariffRecord:
    row = TariffRecord(tenant_id=party.tenant_id, cpo_party_id=party.id, ocpi_id=ocpi_id,
                       data=_checked(party, ocpi_id, data), last_updated=last_updated or utcnow())
    session.add(row)
    # Read before committing: a rollback expires every loaded object, and reloading would need I/O here.
    owner = f"{party.country_code}*{party.party_id}"
    try:
        await outbox.announce_tariff(session, party, ocpi_id)  # mod_tariffs: the CPO PUTs new tariffs
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"CPO party {owner} already has a tariff {ocpi_id!r}") from None
    return row


async def replace_tariff(session: AsyncSession, row: TariffRecord, party: CpoParty, data: dict[str, Any]
                         ) -> TariffRecord:
    row.data, row.last_updated = _checked(party, row.ocpi_id, data), utcnow()
    await outbox.announce_tariff(session, party, row.ocpi_id)
    await session.commit()
    return row


def _visible(tenant_id: str, party_id: str | None, date_from: datetime | None, date_to: datetime | None):  # noqa: ANN202
    query = select(TariffRecord).where(TariffRecord.tenant_id == tenant_id)
    if party_id is not None:
        query = query.where(TariffRecord.cpo_party_id == party_id)
    if date_from is not None:
        query = query.where(TariffRecord.last_updated >= date_from)
    if date_to is not None:
        query = query.where(TariffRecord.last_updated < date_to)
    return query


async def list_tariffs(session: AsyncSession, tenant_id: str, *, party_id: str | None = None,
                       date_from: datetime | None = None, date_to: datetime | None = None, offset: int = 0,
                       limit: int = 100) -> list[TariffRecord]:
    """Oldest first, so pages stay stable as new tariffs are added (OCPI pagination advice)."""
    query = _visible(tenant_id, party_id, date_from, date_to).order_by(TariffRecord.created_at, TariffRecord.id)
    return list((await session.scalars(query.offset(offset).limit(limit))).all())


async def count_tariffs(session: AsyncSession, tenant_id: str, *, party_id: str | None = None,
                        date_from: datetime | None = None, date_to: datetime | None = None) -> int:
    query = _visible(tenant_id, party_id, date_from, date_to).with_only_columns(func.count())
    return await session.scalar(query)


async def tariffs_for_party(session: AsyncSession, party_id: str) -> list[TariffRecord]:
    return list((await session.scalars(select(TariffRecord).where(TariffRecord.cpo_party_id == party_id)
                                       .order_by(TariffRecord.created_at))).all())


async def get_tariff(session: AsyncSession, tenant_id: str, tariff_id: str) -> TariffRecord:
    row = await session.get(TariffRecord, tariff_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound(f"no tariff {tariff_id} in this tenant; list them with GET /api/parties/{{id}}/tariffs")
    return row


async def delete_tariff(session: AsyncSession, tenant_id: str, tariff_id: str) -> None:
    row = await get_tariff(session, tenant_id, tariff_id)
    party = await session.get(CpoParty, row.cpo_party_id)
    if party is not None:  # mod_tariffs: the CPO DELETEs a tariff it no longer uses at each eMSP
        await outbox.announce_tariff(session, party, row.ocpi_id, deleted=True)
    await session.delete(row)
    await session.commit()
