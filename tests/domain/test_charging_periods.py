"""Cut meter samples into charging periods wherever the tariff selection or charging state changes (§5.2)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocpi_sandbox.domain.charging_periods import CdrDimensionType as Dim
from ocpi_sandbox.domain.charging_periods import MeterSample, charging_periods_from_samples
from ocpi_sandbox.domain.pricing import Cost, price_session
from ocpi_sandbox.domain.tariffs import RestrictionContext, Tariff, tariff_from_ocpi

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def tariff(*elements: dict) -> Tariff:
    return tariff_from_ocpi({"id": "T1", "currency": "EUR", "elements": list(elements)}, "2.2.1")


def energy(price: float, **restrictions) -> dict:
    element = {"price_components": [{"type": "ENERGY", "price": price, "step_size": 1}]}
    if restrictions:
        element["restrictions"] = restrictions
    return element


def constant_charge(
    start: str, minutes: int, every: int = 5, kw: str = "11", charging_minutes: int | None = None
) -> list[MeterSample]:
    """Return samples of a session charging at ``kw`` (then parked after ``charging_minutes``)."""
    samples, wh = [], D(0)
    first = utc(start)
    for m in range(0, minutes + 1, every):
        charging = charging_minutes is None or m < charging_minutes
        samples.append(MeterSample(timestamp=first + timedelta(minutes=m), energy_wh=wh, charging=charging,
                                   power_w=D(kw) * 1000 if charging else D(0),
                                   current_a=(D(kw) * 1000 / 690).quantize(D("0.1")) if charging else D(0)))
        if charging:
            wh += (D(kw) * 1000 * every / 60).quantize(D(1))  # a meter register counts whole Wh
    return samples


def starts(periods) -> list[datetime]:
    return [p.start_date_time for p in periods]


# ------------------------------------------------------------------------------------------------------------


def test_time_of_day_boundary_cuts_a_period_at_local_17_00_and_splits_the_energy():
    rate = tariff(energy(0.20, end_time="17:00"), energy(0.27, start_time="17:00"))
    samples = constant_charge("2025-03-03T15:32", 40, every=5)  # 16:32-17:12 local

    periods = charging_periods_from_samples(samples, rate, AMSTERDAM)

    assert starts(periods) == [utc("2025-03-03T15:32"), utc("2025-03-03T16:00")]
    assert periods[0].volume(Dim.TIME) == D(28) / 60
    assert periods[0].volume(Dim.ENERGY) + periods[1].volume(Dim.ENERGY) == samples[-1].energy_wh / 1000
    assert {p.tariff_id for p in periods} == {"T1"}


def test_switch_from_charging_to_parking_cuts_a_period_and_parking_has_no_energy():
    samples = constant_charge("2025-03-03T08:00", 60, every=10, charging_minutes=40)

    periods = charging_periods_from_samples(samples, tariff(energy(0.25)), AMSTERDAM)

    assert starts(periods) == [utc("2025-03-03T08:00"), utc("2025-03-03T08:40")]
    assert Dim.TIME in periods[0].dimensions and Dim.PARKING_TIME not in periods[0].dimensions
    assert periods[1].dimensions[Dim.PARKING_TIME] == D(20) / 60
    assert Dim.ENERGY not in periods[1].dimensions


def test_without_a_tariff_only_the_charging_state_cuts():
    samples = constant_charge("2025-03-03T15:30", 90, every=10, charging_minutes=60)

    periods = charging_periods_from_samples(samples, None, AMSTERDAM)

    assert len(periods) == 2 and periods[0].tariff_id is None


def test_kwh_threshold_is_crossed_inside_a_sample_interval_and_the_period_gets_exactly_the_threshold():
    first_10_kwh_free = tariff(energy(0.00, max_kwh=10), energy(0.30))
    samples = [
        MeterSample(timestamp=utc("2025-03-03T08:00"), energy_wh=D(0), charging=True, power_w=D(36000)),
        MeterSample(timestamp=utc("2025-03-03T08:10"), energy_wh=D(6000), charging=True, power_w=D(36000)),
        MeterSample(timestamp=utc("2025-03-03T08:20"), energy_wh=D(12000), charging=True, power_w=D(36000)),
    ]

    periods = charging_periods_from_samples(samples, first_10_kwh_free, AMSTERDAM)

    assert starts(periods) == [utc("2025-03-03T08:00"), utc("2025-03-03T08:16:40")]
    assert [p.volume(Dim.ENERGY) for p in periods] == [D(10), D(2)]
    costs = price_session(first_10_kwh_free, AMSTERDAM, periods, samples[0].timestamp, samples[-1].timestamp)
    assert costs.total_energy_cost == Cost(D("0.60"), D("0.60"))


def test_duration_threshold_cuts_at_session_start_plus_seconds():
    first_hour = tariff(
        {"price_components": [{"type": "TIME", "price": 1, "step_size": 1}],
         "restrictions": {"max_duration": 3600}},
        {"price_components": [{"type": "TIME", "price": 3, "step_size": 1}]},
    )
    samples = constant_charge("2025-03-03T08:07", 100, every=25)  # no sample at 09:07

    periods = charging_periods_from_samples(samples, first_hour, AMSTERDAM)

    assert starts(periods) == [utc("2025-03-03T08:07"), utc("2025-03-03T09:07")]


def test_power_bands_cut_where_the_power_crosses_and_price_as_in_reference_example_7():
    bands = tariff(energy(0.20, max_power=16), energy(0.35, max_power=32), energy(0.50))
    t0 = utc("2025-03-03T08:00")
    samples = [  # 1 kWh at 6 kW, 40 kWh at 48 kW, 0.5 kWh at 4 kW (reference §5.6 example 7)
        MeterSample(timestamp=t0, energy_wh=D(0), charging=True, power_w=D(6000)),
        MeterSample(timestamp=t0 + timedelta(minutes=10), energy_wh=D(1000), charging=True, power_w=D(48000)),
        MeterSample(timestamp=t0 + timedelta(minutes=60), energy_wh=D(41000), charging=True, power_w=D(4000)),
        MeterSample(timestamp=t0 + timedelta(minutes=67, seconds=30), energy_wh=D(41500), charging=False),
    ]

    periods = charging_periods_from_samples(samples, bands, AMSTERDAM)
    costs = price_session(bands, AMSTERDAM, periods, samples[0].timestamp, samples[-1].timestamp)

    assert len(periods) == 3
    assert [p.volume(Dim.MAX_POWER) for p in periods] == [D(6), D(48), D(4)]
    assert costs.total_energy_cost.before_taxes == D("20.30")


def test_power_changes_that_keep_the_same_element_do_not_cut():
    bands = tariff(energy(0.20, max_power=16), energy(0.50))
    t0 = utc("2025-03-03T08:00")
    samples = [
        MeterSample(timestamp=t0 + timedelta(minutes=10 * i), energy_wh=D(5000 * i), charging=True,
                    power_w=D(p))
        for i, p in enumerate([20000, 30000, 40000, 30000])
    ]

    periods = charging_periods_from_samples(samples, bands, AMSTERDAM)

    assert len(periods) == 1
    assert (periods[0].volume(Dim.MIN_POWER), periods[0].volume(Dim.MAX_POWER)) == (D(20), D(40))


def test_day_of_week_cuts_at_local_midnight():
    weekend = tariff(energy(0.10, day_of_week=["SUNDAY"]), energy(0.30))
    samples = constant_charge("2025-03-08T22:30", 60, every=15)  # Saturday 23:30 -> Sunday 00:30 local

    periods = charging_periods_from_samples(samples, weekend, AMSTERDAM)

    assert starts(periods) == [utc("2025-03-08T22:30"), utc("2025-03-08T23:00")]


def test_spring_forward_boundary_inside_the_gap_takes_effect_at_the_jump():
    # Amsterdam, 30 March 2025: 02:00 CET jumps to 03:00 CEST at 01:00Z; local 02:30 never exists.
    night = tariff(energy(0.10, start_time="02:30", end_time="06:00"), energy(0.30))
    samples = constant_charge("2025-03-30T00:00", 120, every=20)

    periods = charging_periods_from_samples(samples, night, AMSTERDAM)

    assert starts(periods) == [utc("2025-03-30T00:00"), utc("2025-03-30T01:00")]


def test_fall_back_repeats_the_local_hour_and_a_restriction_switches_on_and_off_twice():
    # Amsterdam, 26 October 2025: 03:00 CEST falls back to 02:00 CET at 01:00Z; 02:00-02:59 happens twice.
    early = tariff(energy(0.10, end_time="02:30"), energy(0.30))
    samples = constant_charge("2025-10-26T00:00", 120, every=20)

    periods = charging_periods_from_samples(samples, early, AMSTERDAM)

    # 02:30 CEST (00:30Z) off, 02:00 CET (01:00Z) on again, 02:30 CET (01:30Z) off.
    assert starts(periods) == [utc(f"2025-10-26T{t}") for t in ("00:00", "00:30", "01:00", "01:30")]
    costs = price_session(early, AMSTERDAM, periods, samples[0].timestamp, samples[-1].timestamp)
    assert [c.element_index for p in costs.periods for c in p.components] == [0, 1, 0, 1]


@pytest.mark.parametrize(
    "samples",
    [
        [MeterSample(timestamp=utc("2025-03-03T08:00"), energy_wh=D(0), charging=True)],
        [MeterSample(timestamp=utc("2025-03-03T08:00"), energy_wh=D(5), charging=True),
         MeterSample(timestamp=utc("2025-03-03T08:10"), energy_wh=D(4), charging=True)],
        [MeterSample(timestamp=utc("2025-03-03T08:10"), energy_wh=D(0), charging=True),
         MeterSample(timestamp=utc("2025-03-03T08:00"), energy_wh=D(4), charging=True)],
    ],
)
def test_unusable_sample_series_are_refused(samples):
    with pytest.raises(ValueError):
        charging_periods_from_samples(samples, None, AMSTERDAM)


# ------------------------------------------------------------------------------------------------------------
# Properties


@st.composite
def sample_series(draw, start: datetime | None = None, max_samples: int = 30):
    if start is None:
        start = draw(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2025, 12, 31)))
        start = start.replace(second=0, microsecond=0, tzinfo=timezone.utc)
    samples, instant, wh = [], start, D(draw(st.integers(0, 10**6)))
    for _ in range(draw(st.integers(2, max_samples))):
        charging = draw(st.booleans())
        power = D(draw(st.sampled_from([0, 3700, 7400, 11000, 22000, 50000]))) if charging else D(0)
        samples.append(MeterSample(timestamp=instant, energy_wh=wh, charging=charging, power_w=power,
                                   current_a=(power / 230).quantize(D("0.1"))))
        minutes = draw(st.integers(1, 45))
        instant += timedelta(minutes=minutes)
        wh += (power * minutes / 60).quantize(D(1)) + draw(st.integers(0, 5))
    return samples


BOUNDARY_TIMES = ["00:00", "01:30", "02:00", "02:15", "02:30", "03:00", "07:00", "17:00", "23:00"]
THRESHOLDS = (
    ("min_kwh", [1, 5.5, 20]), ("max_kwh", [2, 10.25, 40]), ("min_power", [7, 11]), ("max_power", [11, 22]),
    ("min_current", [16, 32]), ("max_current", [32, 63]), ("min_duration", [600, 3600]),
    ("max_duration", [1800, 7200]),
)


@st.composite
def restricted_tariffs(draw, time_only: bool = False):
    elements = []
    for _ in range(draw(st.integers(1, 4))):
        restrictions = {}
        for key in ("start_time", "end_time"):
            if draw(st.booleans()):
                restrictions[key] = draw(st.sampled_from(BOUNDARY_TIMES))
        if draw(st.booleans()):
            restrictions["day_of_week"] = draw(st.lists(st.sampled_from(
                ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]), unique=True))
        if not time_only:
            for key, values in THRESHOLDS:
                if draw(st.integers(0, 3)) == 0:
                    restrictions[key] = draw(st.sampled_from(values))
        dimensions = st.sampled_from(["FLAT", "ENERGY", "TIME", "PARKING_TIME"])
        types = draw(st.lists(dimensions, min_size=1, unique=True))
        element = {"price_components": [{"type": t, "price": 1, "step_size": 1} for t in types]}
        if restrictions:
            element["restrictions"] = restrictions
        elements.append(element)
    return tariff_from_ocpi({"id": "T", "currency": "EUR", "elements": elements}, "2.2.1")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples=sample_series(), rate=restricted_tariffs())
def test_property_energy_and_time_are_conserved_across_period_cuts(samples, rate):
    periods = charging_periods_from_samples(samples, rate, AMSTERDAM)

    total_energy = sum(p.volume(Dim.ENERGY) or D(0) for p in periods)
    assert total_energy == (samples[-1].energy_wh - samples[0].energy_wh) / 1000
    hours = sum((p.volume(Dim.TIME) or D(0)) + (p.volume(Dim.PARKING_TIME) or D(0)) for p in periods)
    expected = D((samples[-1].timestamp - samples[0].timestamp) // timedelta(seconds=1)) / 3600
    assert abs(hours - expected) < D("1e-20")
    assert starts(periods) == sorted(set(starts(periods)))
    assert periods[0].start_date_time == samples[0].timestamp
    assert all(p.volume(Dim.ENERGY) is None or p.volume(Dim.ENERGY) >= 0 for p in periods)


def selection_at(rate: Tariff, instant: datetime, samples: list[MeterSample]) -> dict:
    """Recompute, independently of the cutter, which element prices each dimension at ``instant``: readings
    held from the last sample, energy interpolated linearly between samples."""
    i = max(k for k in range(len(samples) - 1) if samples[k].timestamp <= instant)
    a, b = samples[i], samples[i + 1]
    fraction = D((instant - a.timestamp) // timedelta(microseconds=1)) / D(
        (b.timestamp - a.timestamp) // timedelta(microseconds=1))
    energy_wh = a.energy_wh + (b.energy_wh - a.energy_wh) * fraction
    power = a.power_w / 1000 if a.power_w is not None else None
    context = RestrictionContext(
        local=instant.astimezone(AMSTERDAM),
        energy_kwh=(energy_wh - samples[0].energy_wh) / 1000,
        elapsed_seconds=D((instant - samples[0].timestamp) // timedelta(microseconds=1)) / 10**6,
        min_current=a.current_a, max_current=a.current_a, min_power=power, max_power=power,
    )
    return {d: c.element_index for d, c in rate.active_components(context).items()}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples=sample_series(), rate=restricted_tariffs())
def test_property_the_whole_period_selects_the_elements_the_pricer_bills(samples, rate):
    periods = charging_periods_from_samples(samples, rate, AMSTERDAM)
    costs = price_session(rate, AMSTERDAM, periods, samples[0].timestamp, samples[-1].timestamp)

    for priced in costs.periods:
        billed = {c.dimension: c.element_index for c in priced.components if c.dimension.value != "FLAT"}
        # Every sample inside the period, and the last microsecond before it ends (a late cut shows there).
        inside = [s.timestamp for s in samples[:-1]
                  if priced.start_date_time <= s.timestamp < priced.end_date_time]
        for instant in [*inside, priced.end_date_time - timedelta(microseconds=1)]:
            chosen = selection_at(rate, instant, samples)
            assert {d: chosen.get(d) for d in billed} == billed, instant
        assert len({s.charging for s in samples[:-1] if s.timestamp in inside}) <= 1


DST_DAYS = [
    ("Europe/Amsterdam", "2025-03-29T22:00"),
    ("Europe/Amsterdam", "2025-10-25T22:00"),
    ("America/New_York", "2025-03-09T04:00"),
    ("America/New_York", "2025-11-02T03:00"),
    ("Australia/Lord_Howe", "2025-04-05T12:00"),  # half-hour DST shift
    ("Australia/Lord_Howe", "2025-10-04T12:00"),
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(day=st.sampled_from(DST_DAYS), rate=restricted_tariffs(time_only=True), data=st.data())
def test_property_time_of_day_cuts_across_dst_match_a_minute_by_minute_scan(day, rate, data):
    zone, start = ZoneInfo(day[0]), utc(day[1])
    minutes = 8 * 60
    samples = [MeterSample(timestamp=start + timedelta(minutes=m), energy_wh=D(m * 100), charging=True,
                           power_w=D(6000)) for m in range(0, minutes + 1, 20)]

    periods = charging_periods_from_samples(samples, rate, zone)

    def selection(instant: datetime) -> dict:
        context = RestrictionContext(local=instant.astimezone(zone))
        return {d: c.element_index for d, c in rate.active_components(context).items()}

    scan = [start + timedelta(minutes=m) for m in range(minutes)]
    changes = [b for a, b in zip(scan, scan[1:]) if selection(a) != selection(b)]
    assert starts(periods)[1:] == changes
