"""EV and power physics: coherent meter values, every limit honoured, curves that taper, pools that share."""

from __future__ import annotations

import math

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocpi_sandbox.simulator.charging_schedule import ChargingLimit, ChargingRateUnit
from ocpi_sandbox.simulator.ev import DC_CURVE_800V, GENERIC_EVS, MAX_STEP_S, Ev, EvProfile, PowerFlow
from ocpi_sandbox.simulator.metering import read_meter
from ocpi_sandbox.simulator.power import (
    MIN_AC_CURRENT_A,
    EvseRating,
    limit_in_watts,
    share_station_power,
)
from ocpi_sandbox.simulator.station_config import ConnectorConfig, EvseConfig

AC_22 = EvseRating.for_ac(32, phases=3)  # 22 kW Type 2
AC_7 = EvseRating.for_ac(32, phases=1)  # 7.4 kW single phase
DC_150 = EvseRating.for_dc(150_000, max_current_a=375, max_voltage_v=920)


def amps(value: float) -> ChargingLimit:
    return ChargingLimit(limit=value, unit=ChargingRateUnit.A, number_phases=3)


def watts(value: float) -> ChargingLimit:
    return ChargingLimit(limit=value, unit=ChargingRateUnit.W, number_phases=3)


def run(ev: Ev, rating: EvseRating, seconds: float, dt: float = 1.0, **kwargs) -> list[tuple[float, PowerFlow]]:
    flows = []
    elapsed = 0.0
    while elapsed < seconds:
        flows.append((dt, ev.tick(dt, rating, **kwargs)))
        elapsed += dt
    return flows


# --- energy register and SoC -----------------------------------------------------------------------------


def test_energy_register_is_the_integral_of_reported_power_over_a_long_session():
    ev = Ev.plug(GENERIC_EVS["suv-77"], soc=5, target_soc=100)
    register_wh = 1_234_567.0  # an EVSE meter is never re-based between sessions
    start_register = register_wh
    integral_wh = 0.0
    readings = []
    # Irregular ticks, as a shared beat delivers them: 0.5 s to 47 s.
    durations = [0.5, 1.0, 2.0, 13.0, 47.0, 1.0, 30.0]
    i = 0
    while not ev.full:
        dt = durations[i % len(durations)]
        flow = ev.tick(dt, DC_150)
        register_wh += flow.energy_wh
        integral_wh += flow.power_w * dt / 3600.0
        readings.append(register_wh)
        i += 1
    assert flow.state == "SuspendedEV" and ev.soc == 100.0
    delivered = register_wh - start_register
    assert delivered == pytest.approx(integral_wh, rel=1e-3)
    # The energy that reached the battery is exactly the SoC gained.
    profile = ev.profile
    assert delivered * profile.dc_efficiency == pytest.approx(95 / 100 * profile.battery_wh, rel=1e-3)
    assert all(b >= a for a, b in zip(readings, readings[1:])), "the register never goes down"


def test_soc_rises_monotonically_and_never_passes_the_target():
    ev = Ev.plug(GENERIC_EVS["compact-58"], soc=70, target_soc=80)
    socs = [ev.soc]
    for _, flow in run(ev, AC_22, 3 * 3600, dt=60):
        socs.append(ev.soc)
        assert flow.soc is None, "an AC charger does not learn the SoC"
    assert socs == sorted(socs)
    assert socs[-1] == 80.0


def test_ev_reaching_its_target_is_suspended_ev_with_zero_power():
    ev = Ev.plug(GENERIC_EVS["city-40"], soc=79.99, target_soc=80)
    flow = ev.tick(60, AC_22)
    assert ev.soc == 80.0 and flow.state == "SuspendedEV"
    assert 0 < flow.energy_wh < 11_000 * 60 / 3600, "stopped inside the tick, exactly at the target"
    after = ev.tick(10, AC_22)
    assert after.state == "SuspendedEV" and after.power_w == 0 and after.energy_wh == 0
    assert after.offered_w == pytest.approx(AC_22.max_power_w), "the EVSE still offers; the EV takes nothing"


def test_zero_length_tick_probes_without_moving():
    ev = Ev.plug(GENERIC_EVS["suv-77"], soc=30)
    flow = ev.tick(0, DC_150)
    assert flow.state == "Charging" and flow.energy_wh == 0 and ev.soc == 30


# --- AC -----------------------------------------------------------------------------------------------------


def test_ac_22kw_evse_with_an_11kw_onboard_charger_gives_11kw():
    flow = Ev.plug(GENERIC_EVS["compact-58"], soc=40).tick(10, AC_22)
    assert flow.state == "Charging"
    assert flow.power_w == pytest.approx(11_000)
    assert flow.phases == 3 and flow.voltage_v == 230
    assert flow.current_a == pytest.approx(11_000 / (3 * 230))
    assert flow.offered_w == pytest.approx(22_080)


def test_single_phase_ev_on_a_three_phase_evse_uses_one_phase():
    flow = Ev.plug(GENERIC_EVS["van-1ph-50"], soc=40).tick(10, AC_22)
    assert flow.phases == 1 and flow.current_a == pytest.approx(32) and flow.power_w == pytest.approx(7_360)


def test_ac_power_is_voltage_times_current_times_phases():
    for name in ("city-40", "van-1ph-50", "sedan-800v-84"):
        for rating in (AC_22, AC_7):
            flow = Ev.plug(GENERIC_EVS[name], soc=50).tick(5, rating, limit=amps(20))
            assert flow.power_w == pytest.approx(flow.voltage_v * flow.current_a * flow.phases)


def test_ac_tapers_shortly_before_full():
    ev = Ev.plug(GENERIC_EVS["compact-58"], soc=50)
    flat = ev.tick(1, AC_22).power_w
    ev.soc = 98.0
    tapered = ev.tick(1, AC_22).power_w
    assert flat == pytest.approx(11_000) and tapered < 0.5 * flat


def test_current_limit_is_per_phase_times_phases_times_voltage():
    flow = Ev.plug(GENERIC_EVS["sedan-800v-84"], soc=50).tick(10, AC_22, limit=amps(10))
    assert flow.current_a == pytest.approx(10) and flow.power_w == pytest.approx(10 * 230 * 3)


def test_below_6_amps_the_evse_suspends():
    ev = Ev.plug(GENERIC_EVS["compact-58"], soc=50)
    flow = ev.tick(10, AC_22, limit=amps(5.9))
    assert flow.state == "SuspendedEVSE" and flow.power_w == 0 and flow.offered_w == 0 and ev.soc == 50
    # 3 kW over three phases is 4.3 A per phase: too little to signal ...
    assert ev.tick(10, AC_22, limit=watts(3_000)).state == "SuspendedEVSE"
    # ... but over the one phase of a single-phase EV it is 13 A.
    single = Ev.plug(GENERIC_EVS["van-1ph-50"], soc=50).tick(10, AC_22, limit=watts(3_000))
    assert single.state == "Charging" and single.power_w == pytest.approx(3_000)
    resumed = ev.tick(10, AC_22, limit=amps(MIN_AC_CURRENT_A))
    assert resumed.state == "Charging" and resumed.current_a == pytest.approx(6)


def test_limit_number_phases_switches_to_one_phase():
    one_phase = ChargingLimit(limit=16, unit=ChargingRateUnit.A, number_phases=1)
    flow = Ev.plug(GENERIC_EVS["compact-58"], soc=50).tick(10, AC_22, limit=one_phase)
    assert flow.phases == 1 and flow.power_w == pytest.approx(16 * 230)


def test_north_american_split_phase_is_two_120v_legs():
    rating = EvseRating.for_split_phase(48)
    assert rating.max_power_w == pytest.approx(11_520)
    flow = Ev.plug(GENERIC_EVS["na-crossover-75"], soc=30).tick(10, rating)
    # The EV's 11.5 kW charger caps it just under 240 V x 48 A; both legs carry the same current.
    assert flow.phases == 2 and flow.voltage_v == 120 and flow.power_w == pytest.approx(11_500)
    assert flow.current_a == pytest.approx(11_500 / 240)
    readings = read_meter(["Current.Import", "Voltage"], flow.electrical(0.0))
    assert [(r.phase, r.value) for r in readings if r.measurand == "Voltage"] == [("L1-N", 120.0), ("L2-N", 120.0)]


# --- DC -----------------------------------------------------------------------------------------------------


def test_dc_ramps_up_then_holds_its_plateau():
    ev = Ev.plug(GENERIC_EVS["suv-77"], soc=20)
    powers = [flow.power_w for _, flow in run(ev, DC_150, 40)]
    assert powers[0] < 0.1 * powers[-1]
    assert powers == sorted(powers), "the ramp only goes up"
    assert powers[-1] == pytest.approx(135_000)


def test_dc_taper_lowers_power_as_soc_rises():
    profile = GENERIC_EVS["sedan-800v-84"]
    hpc = EvseRating.for_dc(350_000, max_current_a=500, max_voltage_v=1000)
    powers = []
    for soc in (60, 65, 70, 80, 90, 99):
        ev = Ev.plug(profile, soc=soc)
        ev.ramp_s = profile.dc_ramp_s  # past the ramp
        powers.append(ev.tick(1, hpc).power_w)
    assert powers == sorted(powers, reverse=True) and powers[0] > 5 * powers[-1]


def test_dc_fast_window_and_last_twenty_percent_take_comparable_time():
    """Rule of thumb (reference ocpp.md §5.9): 80 -> 100 % takes about as long as 10 -> 80 %."""
    ev = Ev.plug(GENERIC_EVS["suv-77"], soc=10, target_soc=100)
    elapsed, at_80 = 0, None
    while not ev.full:
        ev.tick(5, DC_150)
        elapsed += 5
        if at_80 is None and ev.soc >= 80:
            at_80 = elapsed
    assert 0.6 <= (elapsed - at_80) / at_80 <= 2.0
    assert 20 * 60 <= at_80 <= 45 * 60


def test_dc_voltage_rises_with_soc_and_current_is_power_over_voltage():
    for profile, low, high in ((GENERIC_EVS["suv-77"], 350, 400), (GENERIC_EVS["sedan-800v-84"], 700, 800)):
        ev = Ev.plug(profile, soc=0.0)
        first = ev.tick(1, DC_150)
        assert first.voltage_v == pytest.approx(low, abs=1)
        ev.soc = 99.999
        last = ev.tick(1, DC_150)
        assert last.voltage_v == pytest.approx(high, abs=0.1)
        for flow in (first, last):
            assert flow.current_a == pytest.approx(flow.power_w / flow.voltage_v) and flow.soc is not None
            assert flow.phases == 0 and flow.dc


def test_dc_cable_current_caps_power_on_a_400v_pack():
    # 200 A at ~375 V is 75 kW: a 150 kW charger with a naturally cooled cable cannot give more to a 400 V car.
    narrow = EvseRating.for_dc(150_000, max_current_a=200, max_voltage_v=1000)
    ev = Ev.plug(GENERIC_EVS["suv-77"], soc=50)
    ev.ramp_s = 60
    flow = ev.tick(1, narrow)
    # The pack voltage moves a little within the tick: the current is at the cap to within 0.1 %.
    assert flow.current_a == pytest.approx(200, rel=1e-3) and flow.current_a <= 200 and flow.power_w < 80_000


def test_dc_limits_in_watts_and_amps():
    ev = Ev.plug(GENERIC_EVS["suv-77"], soc=30)
    ev.ramp_s = 60
    assert ev.tick(1, DC_150, limit=watts(40_000)).power_w == pytest.approx(40_000)
    capped = ev.tick(1, DC_150, limit=amps(100))
    assert capped.current_a == pytest.approx(100, rel=1e-3) and capped.current_a <= 100
    zero = ev.tick(1, DC_150, limit=watts(0))
    assert zero.state == "SuspendedEVSE" and zero.power_w == 0
    assert ev.ramp_s == 0, "a pause restarts the ramp"


def test_ev_without_a_dc_inlet_takes_nothing_on_dc():
    ac_only = EvProfile(name="ac-only", battery_kwh=30, ac_max_w=7_400, ac_phases=1, ac_max_current_a=32, dc_max_w=0)
    flow = Ev.plug(ac_only, soc=10).tick(10, DC_150)
    assert flow.state == "SuspendedEV" and flow.power_w == 0


# --- the primitives a station that allocates power itself uses ---------------------------------------------


def test_default_profile_is_a_generic_car_and_ev_plugs_at_its_initial_soc():
    ev = Ev(EvProfile())
    assert (ev.soc, ev.target_soc) == (20.0, 100.0) and ev.profile.battery_kwh == 60
    assert ev.battery_voltage == pytest.approx(360)
    assert Ev(EvProfile(), 55.0).soc == 55.0


def test_acceptance_follows_phases_voltage_and_soc():
    ev = Ev(GENERIC_EVS["compact-58"], 50.0)
    assert ev.acceptance_w(dc=False, phases=3, voltage=230) == pytest.approx(11_000)
    assert ev.acceptance_w(dc=False, phases=1, voltage=230) == pytest.approx(16 * 230)
    assert ev.acceptance_w(dc=True) == pytest.approx(120_000 * ev.profile.dc_fraction(50))
    north_american = Ev(GENERIC_EVS["na-crossover-75"], 50.0)
    # Two 120 V legs: a single-phase 240 V on-board charger uses both.
    assert north_american.acceptance_w(dc=False, phases=2, voltage=120) == pytest.approx(11_500)
    ev.soc = 100.0
    assert ev.acceptance_w(dc=False) == 0 and ev.acceptance_w(dc=True) == 0


def test_charge_returns_the_metered_energy_and_stops_at_the_target():
    ev = Ev(GENERIC_EVS["city-40"], 79.0, 80.0)
    wh = ev.charge(11_000, 3600, dc=False)
    to_target = 0.01 * 40_000 / ev.profile.ac_efficiency
    assert wh == pytest.approx(to_target) and ev.soc == 80.0 and ev.full
    assert ev.charge(11_000, 10, dc=False) == 0.0
    assert ev.energy_wh == pytest.approx(to_target)


# --- shared power -------------------------------------------------------------------------------------------


def test_station_share_is_equal_capped_and_redistributed():
    assert share_station_power(180_000, [150_000, 150_000]) == [90_000, 90_000]
    assert share_station_power(180_000, [40_000, 150_000]) == [40_000, 140_000]
    assert share_station_power(150_000, [100_000, 30_000, 90_000, 0]) == [60_000, 30_000, 60_000, 0]
    assert share_station_power(150_000, [10_000, 20_000]) == [10_000, 20_000]


def test_shared_dc_station_never_delivers_more_than_its_pool():
    """Two EVs on a 180 kW cabinet: the nearly full one tapers and the other picks up what it leaves."""
    station_max = 180_000.0
    evs = [Ev.plug(GENERIC_EVS["sedan-800v-84"], soc=10), Ev.plug(GENERIC_EVS["suv-77"], soc=75, target_soc=95)]
    rating = EvseRating.for_dc(180_000, max_current_a=500, max_voltage_v=920)
    first_share = None
    for second in range(900):
        shares = share_station_power(station_max, [ev.demand_w(rating) for ev in evs])
        flows = [ev.tick(1, rating, share_w=share) for ev, share in zip(evs, shares)]
        assert sum(f.power_w for f in flows) <= station_max + 1e-6
        for flow, share in zip(flows, shares):
            assert flow.power_w <= share + 1e-6
        if second == 60:
            first_share = shares[0]
    assert first_share is not None and first_share > station_max / 2, "the tapering EV left power to the other"


def test_shared_ac_pool_asks_for_at_least_6_amps():
    ev = Ev.plug(GENERIC_EVS["compact-58"], soc=99.5)  # tapering: draws ~1.5 kW on three phases
    demand = ev.demand_w(AC_22)
    assert demand == pytest.approx(6 * 230 * 3)
    flow = ev.tick(1, AC_22, share_w=demand)
    assert flow.state == "Charging" and flow.power_w < demand


# --- integration points -------------------------------------------------------------------------------------


def test_rating_from_station_config():
    three_phase = EvseConfig(id=1, connectors=[ConnectorConfig(id=1)], max_power_w=22_080, phases=3)
    assert EvseRating.from_config(three_phase) == AC_22
    split = EvseConfig(id=1, connectors=[ConnectorConfig(id=1, type="cType1", standard="IEC_62196_T1",
                                                         format="CABLE", power_type="AC_2_PHASE_SPLIT")],
                       max_power_w=11_520, phases=2, voltage=240)
    rating = EvseRating.from_config(split)
    assert rating.split_phase and rating.voltage_v == 120 and rating.max_current_a == pytest.approx(48)
    dc = EvseConfig(id=1, connectors=[ConnectorConfig(id=1, type="cCCS2", standard="IEC_62196_T2_COMBO",
                                                      format="CABLE", power_type="DC")],
                    max_power_w=50_000, voltage=920)
    assert EvseRating.from_config(dc).dc


def test_ev_and_profile_survive_a_snapshot():
    ev = Ev.plug(GENERIC_EVS["sedan-800v-84"], soc=12)
    ev.tick(17, DC_150)
    restored = msgspec.convert(msgspec.to_builtins(ev), Ev)
    assert restored == ev
    assert msgspec.json.decode(msgspec.json.encode(ev.profile), type=EvProfile) == ev.profile


def test_flow_feeds_the_meter_with_coherent_values():
    ev = Ev.plug(GENERIC_EVS["suv-77"], soc=40)
    ev.ramp_s = 60
    flow = ev.tick(1, DC_150)
    readings = {r.measurand: r for r in read_meter(
        ["Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "Voltage", "SoC"],
        flow.electrical(5_000.0))}
    assert readings["Energy.Active.Import.Register"].value == 5_000.0
    assert readings["Current.Import"].value == pytest.approx(flow.current_a, abs=0.01)
    assert readings["SoC"].value == pytest.approx(ev.soc, abs=0.05)


def test_bad_profile_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="dc_curve needs increasing SoC points from 0 to 100"):
        EvProfile(battery_kwh=50, ac_max_w=11_000, dc_curve=((0, 1.0), (80, 0.3)))
    with pytest.raises(ValueError, match="must be percentages"):
        Ev.plug(GENERIC_EVS["city-40"], soc=120)
    with pytest.raises(ValueError, match="back in time"):
        Ev.plug(GENERIC_EVS["city-40"]).tick(-1, AC_22)


# --- properties ---------------------------------------------------------------------------------------------

profiles = st.builds(
    lambda pack, **fields: EvProfile(dc_voltage_empty_v=pack[0], dc_voltage_full_v=pack[1], **fields),
    pack=st.sampled_from([(350.0, 400.0), (700.0, 800.0)]),
    battery_kwh=st.floats(10, 200),
    ac_max_w=st.floats(1_000, 22_000),
    ac_phases=st.sampled_from([1, 3]),
    ac_max_current_a=st.floats(6, 80),
    dc_max_w=st.floats(0, 400_000),
    dc_ramp_s=st.floats(0, 60),
    dc_curve=st.sampled_from([GENERIC_EVS["suv-77"].dc_curve, DC_CURVE_800V]),
)
ratings = st.one_of(
    st.builds(EvseRating.for_ac, st.floats(6, 80), phases=st.sampled_from([1, 2, 3])),
    st.builds(EvseRating.for_split_phase, st.floats(6, 80)),
    st.builds(lambda p, a: EvseRating.for_dc(p, max_current_a=a), st.floats(10_000, 400_000), st.floats(50, 500)),
)
limits = st.one_of(
    st.none(),
    st.builds(lambda v, n: ChargingLimit(limit=v, unit=ChargingRateUnit.A, number_phases=n),
              st.floats(0, 100), st.sampled_from([1, 3])),
    st.builds(lambda v: ChargingLimit(limit=v, unit=ChargingRateUnit.W, number_phases=3), st.floats(0, 400_000)),
)


@settings(max_examples=300, deadline=None)
@given(profile=profiles, rating=ratings, limit=limits, share=st.none() | st.floats(0, 400_000),
       soc=st.floats(0, 100), target=st.floats(0, 100),
       ticks=st.lists(st.floats(0.01, MAX_STEP_S), min_size=1, max_size=30))
def test_power_never_exceeds_any_limit_and_energy_is_its_integral(profile, rating, limit, share, soc, target, ticks):
    ev = Ev.plug(profile, soc=soc, target_soc=target)
    register = 0.0
    for dt in ticks:
        before_soc = ev.soc
        acceptance = ev.acceptance_on(rating, limit)
        phases = ev.ac_phases_used(rating, limit)
        voltage = profile.battery_voltage_v(before_soc) if rating.dc else rating.voltage_v
        limit_w = limit_in_watts(limit, voltage_v=voltage, phases=1 if rating.dc else phases)
        flow = ev.tick(dt, rating, limit=limit, share_w=share)
        tolerance = 1e-6 * max(1.0, flow.power_w)
        assert flow.power_w >= 0
        assert flow.power_w <= rating.max_power_w + tolerance
        assert flow.power_w <= limit_w + tolerance
        assert flow.power_w <= acceptance + tolerance
        if share is not None:
            assert flow.power_w <= share + tolerance
        assert flow.energy_wh == pytest.approx(flow.power_w * dt / 3600.0, rel=1e-9, abs=1e-12)
        assert before_soc <= ev.soc <= max(before_soc, min(target, 100.0)) + 1e-9
        register += flow.energy_wh
        assert register >= 0
        if flow.state == "SuspendedEVSE":
            assert flow.power_w == 0 and flow.offered_w == 0
        if not rating.dc:
            assert flow.power_w == pytest.approx(flow.voltage_v * flow.current_a * flow.phases, rel=1e-9, abs=1e-9)
            if flow.state != "SuspendedEVSE":
                assert flow.current_offered_a >= rating.min_current_a - 1e-9
        else:
            assert math.isclose(flow.current_a * flow.voltage_v, flow.power_w, rel_tol=1e-9, abs_tol=1e-9)
    assert ev.energy_wh == pytest.approx(register, rel=1e-9, abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(station_max=st.floats(0, 1_000_000), demands=st.lists(st.floats(0, 500_000), max_size=8))
def test_shares_never_exceed_the_pool_nor_a_demand_and_are_max_min_fair(station_max, demands):
    shares = share_station_power(station_max, demands)
    assert len(shares) == len(demands)
    assert sum(shares) <= station_max * (1 + 1e-9) + 1e-6
    for share, demand in zip(shares, demands):
        assert 0 <= share <= demand + 1e-9
    if sum(demands) <= station_max:
        assert shares == pytest.approx(demands)
    else:
        assert sum(shares) == pytest.approx(station_max, rel=1e-9)
        # Nobody left short gets less than anyone else: the remainder went to those who still asked.
        short = [s for s, d in zip(shares, demands) if s < d - 1e-6]
        assert all(s >= max(shares) - 1e-6 * max(1.0, max(shares)) for s in short)
