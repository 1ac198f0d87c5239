"""Charging periods are cut where the charging limit changed, whether by a new profile or by a later step of one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ocpi_sandbox.db.models import ChargingLimitChange
from ocpi_sandbox.domain.charger_commands import CompositePeriod, CompositeSchedule
from ocpi_sandbox.domain.charging_periods import CdrDimensionType, MeterSample, charging_periods_from_samples
from ocpi_sandbox.domain.limit_changes import limit_at, schedule_in_watts

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def change(id_: int, seconds: int, schedule: list | None) -> ChargingLimitChange:
    return ChargingLimitChange(id=id_, transaction_pk="tx", at=T0 + timedelta(seconds=seconds), source="api",
                               schedule=schedule)


def test_composite_in_amps_becomes_watts_with_absolute_start_times():
    composite = CompositeSchedule(start=T0, duration=600, unit="A", periods=[
        CompositePeriod(start_period=0, limit=16.0, number_phases=3), CompositePeriod(start_period=300, limit=10.0,
                                                                                     number_phases=1)])
    assert schedule_in_watts(composite) == [{"start": T0.isoformat(), "limit_w": 11040.0},
                                            {"start": (T0 + timedelta(seconds=300)).isoformat(), "limit_w": 2300.0}]


def test_limit_in_force_follows_the_latest_change_and_its_later_steps():
    steps = [{"start": (T0 + timedelta(seconds=60)).isoformat(), "limit_w": 11000.0},
             {"start": (T0 + timedelta(seconds=600)).isoformat(), "limit_w": 7000.0}]
    changes = [change(1, 60, steps), change(2, 900, None)]
    assert limit_at(changes, T0) is None
    assert limit_at(changes, T0 + timedelta(seconds=61)) == Decimal("11000.0")
    assert limit_at(changes, T0 + timedelta(seconds=700)) == Decimal("7000.0")
    assert limit_at(changes, T0 + timedelta(seconds=901)) == Decimal(-2)  # unknown value: still a new situation


def test_periods_are_cut_where_the_limit_changes_and_nowhere_else():
    def sample(minute: int, wh: int, kw: int, limit: int | None) -> MeterSample:
        return MeterSample(timestamp=T0 + timedelta(minutes=minute), energy_wh=Decimal(wh), charging=True,
                           power_w=Decimal(kw * 1000), limit_w=None if limit is None else Decimal(limit))

    samples = [sample(0, 0, 22, None), sample(10, 3680, 22, None), sample(20, 7360, 11, 11000),
               sample(30, 9193, 11, 11000), sample(40, 11027, 22, 22080), sample(50, 14707, 22, 22080)]
    periods = charging_periods_from_samples(samples, None, ZoneInfo("Europe/Amsterdam"))
    assert [p.start_date_time for p in periods] == [T0, T0 + timedelta(minutes=20), T0 + timedelta(minutes=40)]
    assert [p.volume(CdrDimensionType.MAX_POWER) for p in periods] == [Decimal(22), Decimal(11), Decimal(22)]
