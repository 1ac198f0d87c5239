"""Remember when the CSMS changed the limit of running transactions, and read the limit back at any instant.

The embedded CSMS sets charging profiles (management API power limits and profiles, eMSPs' OCPI charging
profiles); each accepted change is recorded per affected transaction with the charger's composite schedule in W,
as GetCompositeSchedule returned it right after the change. Charging periods are cut where that limit changes
(OCPI 2.2.1 mod_cdrs: a period per distinct situation; reference ocpi.md §5.2), so sessions and CDRs show smart
charging as it happened, whether the charger reports ``Power.Offered`` or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import ChargingLimitChange
from .charger_commands import CompositeSchedule
from .charging_periods import MeterSample

__all__ = ["schedule_in_watts", "record_change", "changes_of", "limit_at", "with_limits", "NOMINAL_VOLTAGE"]

# OCPP 1.6 §3.13 converts A to W with the nominal phase voltage; a composite in A (a charger that only does A)
# is read with 230 V and the phases it names (3 when absent, as OCPP assumes).
NOMINAL_VOLTAGE = 230.0


def schedule_in_watts(schedule: CompositeSchedule) -> list[dict[str, Any]]:
    """Turn a composite schedule into ``[{"start": ISO time, "limit_w": float}]`` with absolute start times."""
    out = []
    for period in schedule.periods:
        limit = period.limit
        if schedule.unit == "A":
            limit = limit * NOMINAL_VOLTAGE * (period.number_phases or 3)
        start = schedule.start + timedelta(seconds=period.start_period)
        out.append({"start": start.isoformat(), "limit_w": round(limit, 1)})
    return out


async def record_change(session: AsyncSession, transaction_pks: Sequence[str], at: datetime, source: str,
                        schedule: CompositeSchedule | None) -> None:
    """Record a limit change at ``at`` for each transaction (the caller commits)."""
    steps = schedule_in_watts(schedule) if schedule is not None else None
    for pk in transaction_pks:
        session.add(ChargingLimitChange(transaction_pk=pk, at=at, source=source, schedule=steps))


async def changes_of(session: AsyncSession, transaction_pk: str) -> list[ChargingLimitChange]:
    """The limit changes of a transaction, oldest first."""
    return list((await session.scalars(select(ChargingLimitChange).where(
        ChargingLimitChange.transaction_pk == transaction_pk).order_by(ChargingLimitChange.at,
                                                                       ChargingLimitChange.id))).all())


def limit_at(changes: Sequence[ChargingLimitChange], at: datetime) -> Decimal | None:
    """The limit in W in force at ``at`` by the latest change made before it (None before the first one).

    A change whose schedule is unknown (the charger did not answer GetCompositeSchedule) still marks a new
    situation: it yields a negative number unique to it, so periods are cut there all the same.
    """
    latest = None
    for change in changes:
        if change.at <= at:
            latest = change
    if latest is None:
        return None
    if not latest.schedule:
        return Decimal(-latest.id)
    value = latest.schedule[0]["limit_w"]
    for step in latest.schedule:
        if datetime.fromisoformat(step["start"]) <= at:
            value = step["limit_w"]
    return Decimal(str(value))


async def with_limits(session: AsyncSession, transaction_pk: str, samples: list[MeterSample]) -> list[MeterSample]:
    """Return ``samples`` each with the limit in force at its timestamp."""
    changes = await changes_of(session, transaction_pk)
    if not changes:
        return samples
    return [msgspec.structs.replace(s, limit_w=limit_at(changes, s.timestamp)) for s in samples]
