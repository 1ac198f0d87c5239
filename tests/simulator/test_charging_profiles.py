"""The charging-profile engine of a simulated charger: install and clear rules, composite limits, wire shapes.

Scenarios follow OCPP 1.6 §3.13 and OCPP 2.0.1 Part 2 K01/K08/K10; every dict we emit is checked against the
official JSON schemas shipped in the ``ocpp`` package.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import ocpp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocpi_sandbox.simulator.charging_profiles import (
    ChargingProfile,
    ChargingProfileError,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingProfileStore,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    ElectricalSupply,
    RecurrencyKind,
    clear_criteria_from_ocpp16,
    clear_criteria_from_ocpp201,
    profile_from_ocpp16,
    profile_to_ocpp201,
    set_charging_profile_from_ocpp16,
    set_charging_profile_from_ocpp201,
    set_charging_profile_to_ocpp16,
    set_charging_profile_to_ocpp201,
)
from ocpi_sandbox.simulator.charging_schedule import composite_limit_at, convert_limit

UTC = timezone.utc
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
A, W = ChargingRateUnit.A, ChargingRateUnit.W
MAX = ChargingProfilePurpose.CHARGING_STATION_MAX_PROFILE
DEFAULT = ChargingProfilePurpose.TX_DEFAULT_PROFILE
TX = ChargingProfilePurpose.TX_PROFILE
EXTERNAL = ChargingProfilePurpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS
ABSOLUTE, RELATIVE, RECURRING = (
    ChargingProfileKind.ABSOLUTE,
    ChargingProfileKind.RELATIVE,
    ChargingProfileKind.RECURRING,
)
SCHEMAS = Path(ocpp.__file__).parent


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def profile(
    id: int,
    purpose: ChargingProfilePurpose,
    periods: float | list[tuple[int, float]],
    *,
    evse_id: int = 0,
    stack_level: int = 0,
    unit: ChargingRateUnit = A,
    kind: ChargingProfileKind = ABSOLUTE,
    start: datetime | None = T0 - timedelta(days=1),
    duration: int | None = None,
    number_phases: int | None = None,
    **fields: Any,
) -> ChargingProfile:
    """Build a profile; a bare number is one period from 0 with that limit."""
    if isinstance(periods, (int, float)):
        periods = [(0, periods)]
    return ChargingProfile(
        id=id,
        stack_level=stack_level,
        purpose=purpose,
        kind=kind,
        evse_id=evse_id,
        schedules=(
            ChargingSchedule(
                charging_rate_unit=unit,
                periods=tuple(
                    ChargingSchedulePeriod(start_period=s, limit=lim, number_phases=number_phases)
                    for s, lim in periods
                ),
                start_schedule=None if kind == RELATIVE else start,
                duration=duration,
            ),
        ),
        **fields,
    )


def charger(
    *, phases: int = 3, max_current: float = 32.0, version: str = "2.0.1", **kw: Any
) -> ChargingProfileStore:
    """Two EVSEs of 32 A; the station (grid connection) defaults to their sum."""
    supply = ElectricalSupply(max_current=max_current, phases=phases)
    return ChargingProfileStore({1: supply, 2: supply}, ocpp_version=version, **kw)  # type: ignore[arg-type]


def installed(
    store: ChargingProfileStore, *profiles: ChargingProfile, from_csms: bool = True
) -> ChargingProfileStore:
    for p in profiles:
        result = store.install(p, from_csms=from_csms)
        assert result.accepted, result
    return store


def amps(store: ChargingProfileStore, evse_id: int, at: datetime = T0) -> float:
    return store.limit_at(evse_id, at, A).limit


def validate(payload: dict[str, Any], version: str, name: str) -> None:
    """Validate against the official schema, numbers as Decimal (the 1.6 limits are multipleOf 0.1)."""
    folder = SCHEMAS / ("v16" if version == "1.6" else "v201") / "schemas"
    schema = json.loads((folder / f"{name}.json").read_text(), parse_float=Decimal)
    instance = json.loads(json.dumps(payload), parse_float=Decimal)
    validator = jsonschema.Draft4Validator if version == "1.6" else jsonschema.Draft6Validator
    validator(schema).validate(instance)


# --- each purpose alone ----------------------------------------------------------------------------------


def test_without_profiles_an_evse_gets_its_hardware_rating():
    store = charger()
    assert store.limit_at(1, T0, A).limit == 32
    assert store.limit_at(1, T0, W).limit == 32 * 230 * 3
    assert amps(store, 0) == 64  # the grid connection defaults to the sum of the EVSEs


def test_station_max_profile_alone_caps_every_evse_and_the_grid_connection():
    store = installed(charger(), profile(1, MAX, 20))
    assert [amps(store, e) for e in (0, 1, 2)] == [20, 20, 20]


def test_station_wide_tx_default_profile_alone_limits_every_evse_but_not_the_grid_view():
    store = installed(charger(), profile(1, DEFAULT, 16))
    assert [amps(store, e) for e in (0, 1, 2)] == [64, 16, 16]


def test_tx_profile_alone_limits_only_its_transaction():
    store = charger()
    store.start_transaction(1, "tx-1", T0)
    installed(store, profile(1, TX, 10, evse_id=1, transaction_id="tx-1"))
    assert [amps(store, 1), amps(store, 2)] == [10, 32]


def test_external_constraints_alone_cap_the_evse_and_stay_out_of_the_csms_reach():
    store = charger()
    rejected = store.install(profile(1, EXTERNAL, 12, evse_id=1))
    assert (rejected.accepted, rejected.reason_code) == (False, "InvalidValue")
    installed(store, profile(1, EXTERNAL, 12, evse_id=1), from_csms=False)
    assert amps(store, 1) == 12
    assert store.clear() is False  # ClearChargingProfile from the CSMS: Unknown, the constraint stays
    assert amps(store, 1) == 12
    assert store.clear(from_csms=False) is True


# --- precedence ------------------------------------------------------------------------------------------


def test_highest_active_stack_level_wins_and_a_finished_one_falls_back():
    store = installed(
        charger(),
        profile(1, DEFAULT, 16, stack_level=0),
        profile(2, DEFAULT, 8, stack_level=1, start=T0 + minutes(10), duration=20 * 60),
    )
    assert amps(store, 1, T0) == 16  # level 1 not started yet
    assert amps(store, 1, T0 + minutes(15)) == 8
    assert amps(store, 1, T0 + minutes(30)) == 16  # level 1 ran out of duration


def test_evse_specific_tx_default_beats_the_station_wide_one_only_at_a_higher_level_in_2_0_1():
    store = installed(charger(), profile(1, DEFAULT, 16), profile(2, DEFAULT, 10, evse_id=1, stack_level=1))
    assert [amps(store, 1), amps(store, 2)] == [10, 16]
    clash = store.install(profile(3, DEFAULT, 6, evse_id=2, stack_level=0))
    assert (clash.accepted, clash.reason_code) == (False, "DuplicateProfile")


def test_in_1_6_an_evse_specific_tx_default_replaces_the_station_one_at_the_same_level():
    store = installed(charger(version="1.6"), profile(1, DEFAULT, 16), profile(2, DEFAULT, 10, evse_id=1))
    assert [amps(store, 1), amps(store, 2)] == [10, 16]


def test_tx_profile_overrides_tx_default_even_when_it_allows_more():
    store = charger()
    store.start_transaction(1, "tx-1", T0)
    installed(
        store,
        profile(1, DEFAULT, 10, stack_level=5),
        profile(2, TX, 20, evse_id=1, start=T0, duration=30 * 60, transaction_id="tx-1"),
    )
    assert amps(store, 1, T0 + minutes(5)) == 20
    assert amps(store, 1, T0 + minutes(31)) == 10  # the TxProfile ended: back to the default


def test_station_max_caps_the_evse_whatever_its_transaction_profile_allows():
    store = charger()
    store.start_transaction(1, "tx-1", T0)
    installed(store, profile(1, MAX, 12), profile(2, TX, 20, evse_id=1, transaction_id="tx-1"))
    assert amps(store, 1) == 12


# --- time -------------------------------------------------------------------------------------------------


def test_relative_profile_counts_from_charging_start_not_from_transaction_start():
    store = charger()
    store.start_transaction(1, "tx-1", T0)
    store.start_charging(1, T0 + minutes(5))
    installed(store, profile(1, TX, [(0, 16), (600, 8)], evse_id=1, kind=RELATIVE, transaction_id="tx-1"))
    assert amps(store, 1, T0 + minutes(1)) == 32  # not charging yet: the profile has not begun
    assert amps(store, 1, T0 + minutes(14)) == 16
    assert amps(store, 1, T0 + minutes(15)) == 8
    store.start_transaction(2, "tx-2", T0)  # no charging start known: count from the transaction start
    installed(store, profile(2, TX, [(0, 16), (600, 8)], evse_id=2, kind=RELATIVE, transaction_id="tx-2"))
    assert amps(store, 2, T0 + minutes(10)) == 8


def test_absolute_profile_applies_only_between_valid_from_and_valid_to():
    store = installed(
        charger(), profile(1, DEFAULT, 10, valid_from=T0 + minutes(10), valid_to=T0 + minutes(20))
    )
    assert amps(store, 1, T0 + minutes(9)) == 32
    assert amps(store, 1, T0 + minutes(10)) == 10
    assert amps(store, 1, T0 + minutes(19)) == 10
    assert amps(store, 1, T0 + minutes(20)) == 32  # validTo is exclusive


def test_daily_recurring_profile_wraps_across_midnight():
    start = datetime(2025, 3, 1, 22, 0, tzinfo=UTC)
    night = profile(
        1, DEFAULT, [(0, 11000), (2 * 3600, 6000), (8 * 3600, 3000)],
        unit=W, kind=RECURRING, recurrency=RecurrencyKind.DAILY, start=start,
    )  # fmt: skip
    store = installed(charger(), night)

    def watts(at: datetime) -> float:
        return store.limit_at(1, at, W).limit

    assert watts(start - minutes(60)) == 32 * 690  # before the first run
    assert watts(start + minutes(60)) == 11000  # 23:00
    assert watts(datetime(2025, 3, 2, 0, 30, tzinfo=UTC)) == 6000
    assert watts(datetime(2025, 3, 2, 7, 0, tzinfo=UTC)) == 3000
    assert watts(datetime(2025, 3, 2, 21, 59, tzinfo=UTC)) == 3000  # the last period lasts until the rerun
    assert watts(datetime(2025, 3, 2, 22, 0, tzinfo=UTC)) == 11000
    assert watts(datetime(2025, 3, 9, 1, 0, tzinfo=UTC)) == 6000  # a week later still


def test_spec_example_daily_tx_default_gives_three_periods_a_day():
    """OCPP 1.6 §3.13.4 example: 11 000 W 00:00-08:00, 6 000 W 08:00-20:00, 11 000 W 20:00-24:00."""
    store = installed(
        charger(),
        profile(
            1, DEFAULT, [(0, 11000), (8 * 3600, 6000), (20 * 3600, 11000)], unit=W, number_phases=3,
            kind=RECURRING, recurrency=RecurrencyKind.DAILY, start=datetime(2025, 1, 1, tzinfo=UTC),
        ),
    )  # fmt: skip
    day = store.composite_schedule(1, datetime(2025, 3, 2, tzinfo=UTC), 86400, W)
    assert [(p.start_period, p.limit, p.number_phases) for p in day.periods] == [
        (0, 11000, 3),
        (28800, 6000, 3),
        (72000, 11000, 3),
    ]


# --- units and phases ------------------------------------------------------------------------------------


def test_current_and_power_limits_combine_over_three_phases():
    store = installed(charger(), profile(1, MAX, 16), profile(2, DEFAULT, 11000, unit=W))
    assert store.limit_at(1, T0, A).limit == pytest.approx(11000 / 690)  # the W default is below 16 A
    assert store.limit_at(1, T0, W).limit == 11000
    assert store.composite_schedule(1, T0, 60, A).periods[0].limit == 15.9  # rounded down, never up


def test_a_single_phase_period_converts_power_with_one_phase():
    store = charger()
    store.start_transaction(1, "tx-1", T0)
    one_phase = profile(2, TX, 4600, evse_id=1, unit=W, number_phases=1, transaction_id="tx-1")
    installed(store, profile(1, MAX, 16), one_phase)
    current, power = store.limit_at(1, T0, A), store.limit_at(1, T0, W)
    # 4 600 W on one phase is 20 A: the 16 A cap wins.
    assert (current.limit, current.number_phases) == (16, 1)
    assert (power.limit, power.number_phases) == (16 * 230, 1)


def test_a_single_phase_evse_reads_power_limits_over_one_phase_and_refuses_three():
    store = installed(charger(phases=1), profile(1, DEFAULT, 3680, unit=W))
    assert store.limit_at(1, T0, A).limit == 16
    refused = store.install(profile(2, DEFAULT, 16, evse_id=1, stack_level=1, number_phases=3))
    assert (refused.accepted, refused.reason_code) == (False, "InvalidSchedule")


# --- install and clear rules -----------------------------------------------------------------------------


def test_tx_profile_without_a_transaction_is_rejected_with_a_reason():
    store = charger()
    result = store.install(profile(1, TX, 10, evse_id=1, transaction_id="tx-1"))
    assert (result.accepted, result.reason_code) == (False, "TxNotFound")
    assert "no active transaction" in result.additional_info
    assert result.to_ocpp16() == {"status": "Rejected"}
    validate(result.to_ocpp201(), "2.0.1", "SetChargingProfileResponse")
    validate(result.to_ocpp16(), "1.6", "SetChargingProfileResponse")


def test_tx_profile_for_another_transaction_or_without_id_is_rejected_in_2_0_1_and_bound_in_1_6():
    store = charger()
    store.start_transaction(1, "tx-1", T0)
    assert store.install(profile(1, TX, 10, evse_id=1, transaction_id="tx-9")).reason_code == "TxNotFound"
    assert store.install(profile(1, TX, 10, evse_id=1)).reason_code == "MissingParam"
    old = charger(version="1.6")
    old.start_transaction(1, 42, T0)
    result = old.install(profile(1, TX, 10, evse_id=1))
    assert result.accepted and result.profile.transaction_id == "42"


def test_ending_a_transaction_drops_its_tx_profiles_only():
    store = charger()
    store.start_transaction(1, "tx-1", T0)
    installed(store, profile(1, DEFAULT, 16), profile(2, TX, 10, evse_id=1, transaction_id="tx-1"))
    assert [p.id for p in store.end_transaction(1)] == [2]
    assert [p.id for p in store.profiles()] == [1]
    assert amps(store, 1) == 16


def test_same_id_replaces_the_old_profile_wherever_it_was():
    store = installed(charger(), profile(1, DEFAULT, 16, evse_id=1))
    result = store.install(profile(1, DEFAULT, 8, evse_id=2))
    assert result.replaced == (1,)
    assert [(p.id, p.evse_id) for p in store.profiles()] == [(1, 2)]


def test_same_stack_level_and_purpose_replaces_in_1_6_and_is_a_duplicate_in_2_0_1_when_validity_overlaps():
    old = installed(charger(version="1.6"), profile(1, DEFAULT, 16))
    assert old.install(profile(2, DEFAULT, 8)).replaced == (1,)
    assert [p.id for p in old.profiles()] == [2]

    new = installed(charger(), profile(1, DEFAULT, 16, valid_to=T0))
    assert new.install(profile(2, DEFAULT, 8, valid_from=T0 - minutes(1))).reason_code == "DuplicateProfile"
    assert new.install(profile(3, DEFAULT, 8, valid_from=T0)).accepted  # back to back: both kept
    assert [amps(new, 1, T0 - minutes(1)), amps(new, 1, T0)] == [16, 8]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (profile(1, DEFAULT, [(10, 16)]), "InvalidSchedule"),  # first period must start at 0
        (profile(1, DEFAULT, [(0, 16), (0, 8)]), "InvalidSchedule"),  # startPeriod must increase
        (profile(1, MAX, 16, evse_id=1), "InvalidValue"),  # station max only on EVSE 0
        (profile(1, MAX, 16, kind=RELATIVE), "InvalidValue"),
        (profile(1, DEFAULT, 16, evse_id=7), "UnknownEvse"),
        (profile(1, DEFAULT, 16, start=None), "InvalidSchedule"),  # 2.0.1 Absolute needs startSchedule
        (profile(1, DEFAULT, 16, kind=RECURRING), "InvalidSchedule"),  # Recurring needs recurrencyKind
        (profile(1, DEFAULT, -1), "InvalidValue"),
        (profile(1, DEFAULT, 16, valid_from=T0, valid_to=T0), "InvalidValue"),
        (profile(1, DEFAULT, 16, start=datetime(2025, 3, 1)), "InvalidValue"),  # naive time
    ],
)
def test_invalid_profiles_are_rejected_with_a_reason_code(bad: ChargingProfile, reason: str):
    result = charger().install(bad)
    assert (result.accepted, result.reason_code) == (False, reason), result
    validate(result.to_ocpp201(), "2.0.1", "SetChargingProfileResponse")


def test_1_6_accepts_an_absolute_profile_without_start_schedule_counting_from_charging_start():
    store = charger(version="1.6")
    store.start_transaction(1, 7, T0)
    installed(store, profile(1, DEFAULT, [(0, 16), (600, 8)], start=None))
    assert [amps(store, 1, T0), amps(store, 1, T0 + minutes(10))] == [16, 8]


def test_clear_by_id_then_by_criteria_answers_whether_anything_matched():
    store = charger()
    store.start_transaction(1, "tx-1", T0)
    installed(
        store,
        profile(1, MAX, 40),
        profile(2, DEFAULT, 16),
        profile(3, DEFAULT, 10, evse_id=1, stack_level=2),
        profile(4, TX, 8, evse_id=1, stack_level=2, transaction_id="tx-1"),
    )
    assert store.clear(profile_id=99) is False  # Unknown
    assert store.clear(profile_id=1, purpose=DEFAULT) is True  # with an id, the criteria are ignored
    assert store.clear(evse_id=0, purpose=TX) is False  # evse 0 means station-wide profiles only
    assert store.clear(evse_id=1, stack_level=2) is True
    assert [p.id for p in store.profiles()] == [2]
    assert store.clear() is True
    assert store.profiles() == []


def test_clear_criteria_read_from_both_wire_shapes():
    station_max = {"connectorId": 0, "chargingProfilePurpose": "ChargePointMaxProfile"}
    assert clear_criteria_from_ocpp16(station_max) == {
        "profile_id": None, "evse_id": 0, "purpose": MAX, "stack_level": None,
    }  # fmt: skip
    assert clear_criteria_from_ocpp201(
        {"chargingProfileId": 5, "chargingProfileCriteria": {"evseId": 1, "stackLevel": 2}}
    ) == {"profile_id": 5, "evse_id": 1, "purpose": None, "stack_level": 2}


# --- composite schedule ----------------------------------------------------------------------------------


def test_composite_schedule_over_one_hour_puts_period_boundaries_where_limits_change():
    store = installed(
        charger(),
        # 16 A, 10 A from T0+10 min, 16 A again from T0+35 min
        profile(1, DEFAULT, [(0, 16), (1200, 10), (2700, 16)], start=T0 - minutes(10)),
        profile(2, MAX, 6, start=T0 + minutes(20), duration=600),  # a 10-minute cap at 6 A
        profile(3, MAX, 20, stack_level=1, start=T0 + minutes(50)),  # changes nothing: merged away
    )
    schedule = store.composite_schedule(1, T0 + timedelta(microseconds=500_000), 3600, A)
    assert schedule.schedule_start == T0  # truncated to the second
    assert [(p.start_period, p.limit, p.number_phases) for p in schedule.periods] == [
        (0, 16, 3),
        (600, 10, 3),
        (1200, 6, 3),
        (1800, 10, 3),
        (2100, 16, 3),
    ]
    v16, v201 = schedule.to_ocpp16(), schedule.to_ocpp201()
    validate(v16, "1.6", "GetCompositeScheduleResponse")
    validate(v201, "2.0.1", "GetCompositeScheduleResponse")
    assert v16["scheduleStart"] == v201["schedule"]["scheduleStart"] == "2025-03-01T12:00:00Z"
    third = v201["schedule"]["chargingSchedulePeriod"][2]
    assert third == {"startPeriod": 1200, "limit": 6.0, "numberPhases": 3}


def test_composite_schedule_of_a_relative_default_counts_from_the_request_when_idle():
    store = installed(charger(), profile(1, DEFAULT, [(0, 16), (900, 8)], kind=RELATIVE))
    schedule = store.composite_schedule(2, T0, 3600)
    assert [(p.start_period, p.limit) for p in schedule.periods] == [(0, 16), (900, 8)]


def test_composite_schedule_for_an_unknown_evse_is_refused():
    with pytest.raises(ValueError, match="EVSE 9 does not exist"):
        charger().composite_schedule(9, T0, 60)


# --- wire shapes -----------------------------------------------------------------------------------------

OCPP16_SET = {
    "connectorId": 0,
    "csChargingProfiles": {
        "chargingProfileId": 100,
        "stackLevel": 1,
        "chargingProfilePurpose": "ChargePointMaxProfile",
        "chargingProfileKind": "Recurring",
        "recurrencyKind": "Daily",
        "validFrom": "2025-03-01T00:00:00Z",
        "validTo": "2025-04-01T00:00:00Z",
        "chargingSchedule": {
            "duration": 86400,
            "startSchedule": "2025-03-01T00:00:00Z",
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 11000.0, "numberPhases": 3},
                {"startPeriod": 28800, "limit": 6000.5},
            ],
            "minChargingRate": 1380.0,
        },
    },
}

OCPP201_SET = {
    "evseId": 1,
    "chargingProfile": {
        "id": 7,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "transactionId": "b5f1c1e2-tx",
        "chargingSchedule": [
            {
                "id": 3,
                "duration": 3600,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 16.0, "numberPhases": 1, "phaseToUse": 2},
                    {"startPeriod": 600, "limit": 8.5},
                ],
            }
        ],
    },
}


def test_ocpp16_set_charging_profile_round_trips_and_matches_the_schema():
    validate(OCPP16_SET, "1.6", "SetChargingProfile")
    model = set_charging_profile_from_ocpp16(OCPP16_SET)
    assert (model.purpose, model.evse_id, model.recurrency) == (MAX, 0, RecurrencyKind.DAILY)
    assert set_charging_profile_to_ocpp16(model) == OCPP16_SET
    validate(set_charging_profile_to_ocpp201(model), "2.0.1", "SetChargingProfileRequest")


def test_ocpp201_set_charging_profile_round_trips_and_ignores_unknown_fields():
    validate(OCPP201_SET, "2.0.1", "SetChargingProfileRequest")
    with_extras = json.loads(json.dumps(OCPP201_SET))
    with_extras["chargingProfile"]["customData"] = {"vendorId": "acme"}
    model = set_charging_profile_from_ocpp201(with_extras)
    first_period = model.schedules[0].periods[0]
    assert (model.evse_id, model.transaction_id, first_period.phase_to_use) == (1, "b5f1c1e2-tx", 2)
    assert set_charging_profile_to_ocpp201(model) == OCPP201_SET


def test_ocpp16_transaction_ids_and_connector_ids_survive_a_trip_through_2_0_1():
    tx16 = {
        "chargingProfileId": 1, "transactionId": 42, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}],
        },
    }  # fmt: skip
    model = profile_from_ocpp16(tx16, connector_id=2)
    wire201 = profile_to_ocpp201(model)
    assert wire201["transactionId"] == "42" and wire201["chargingSchedule"][0]["id"] == 1
    back = set_charging_profile_from_ocpp201({"evseId": 2, "chargingProfile": wire201})
    assert set_charging_profile_to_ocpp16(back) == {"connectorId": 2, "csChargingProfiles": tx16}


def test_unreadable_or_unrepresentable_profiles_raise_with_the_field_path():
    broken = json.loads(json.dumps(OCPP16_SET))
    broken["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["startPeriod"] = "0"
    with pytest.raises(ChargingProfileError, match=r"chargingSchedulePeriod\[0\]\.startPeriod"):
        set_charging_profile_from_ocpp16(broken)
    with pytest.raises(ChargingProfileError, match="no ChargingStationExternalConstraints"):
        set_charging_profile_to_ocpp16(profile(1, EXTERNAL, 10))


def test_times_without_an_offset_are_read_as_utc():
    naive = json.loads(json.dumps(OCPP16_SET))
    naive["csChargingProfiles"]["validFrom"] = "2025-03-01T00:00:00"
    assert set_charging_profile_from_ocpp16(naive).valid_from == datetime(2025, 3, 1, tzinfo=UTC)


# --- property: the composite never exceeds what governs --------------------------------------------------

TX_ID = "tx-1"
CHARGING_START = T0 + minutes(3)
WINDOW_START, WINDOW_S = T0 - timedelta(hours=1), 5 * 3600


@st.composite
def random_profile(draw: st.DrawFn, id: int) -> ChargingProfile:
    purpose = draw(st.sampled_from([MAX, DEFAULT, TX, EXTERNAL]))
    evse_id = {MAX: 0, TX: 1}.get(purpose) if purpose in (MAX, TX) else draw(st.sampled_from([0, 1]))
    kind = ABSOLUTE if purpose == MAX else draw(st.sampled_from([ABSOLUTE, RELATIVE]))
    unit = draw(st.sampled_from([A, W]))
    starts = [0, *sorted(draw(st.sets(st.integers(1, 7200), max_size=3)))]
    tenths_of_amps, hundreds_of_watts = st.integers(0, 630), st.integers(0, 440)
    limit = tenths_of_amps.map(lambda n: n / 10) if unit == A else hundreds_of_watts.map(lambda n: n * 100)
    limits = [draw(limit) for _ in starts]
    valid_from = draw(st.none() | st.integers(-3600, 7200).map(lambda s: T0 + timedelta(seconds=s)))
    lasting = st.integers(60, 7200).map(lambda s: (valid_from or T0) + timedelta(seconds=s))
    valid_to = draw(st.none() | lasting)
    start_schedule = None if kind == RELATIVE else T0 + timedelta(seconds=draw(st.integers(-3600, 3600)))
    phases = st.sampled_from([None, 1, 3])
    return ChargingProfile(
        id=id,
        stack_level=draw(st.integers(0, 3)),
        purpose=purpose,
        kind=kind,
        evse_id=evse_id,
        valid_from=valid_from,
        valid_to=valid_to,
        transaction_id=TX_ID if purpose == TX else None,
        schedules=(
            ChargingSchedule(
                charging_rate_unit=unit,
                start_schedule=start_schedule,
                duration=draw(st.none() | st.integers(60, 10800)),
                periods=tuple(
                    ChargingSchedulePeriod(start_period=s, limit=lim, number_phases=draw(phases))
                    for s, lim in zip(starts, limits)
                ),
            ),
        ),
    )


def oracle_period(p: ChargingProfile, at: datetime) -> ChargingSchedulePeriod | None:
    """Evaluate one Absolute or Relative profile the plain way, straight from the spec's wording."""
    if (p.valid_from and at < p.valid_from) or (p.valid_to and at >= p.valid_to):
        return None
    schedule = p.schedules[0]
    elapsed = (at - (schedule.start_schedule or CHARGING_START)).total_seconds()
    if elapsed < 0 or (schedule.duration is not None and elapsed >= schedule.duration):
        return None
    return [x for x in schedule.periods if x.start_period <= elapsed][-1]


Governing = list[tuple[ChargingProfile, ChargingSchedulePeriod]]


def oracle_governing(profiles: list[ChargingProfile], at: datetime) -> Governing:
    def top(candidates: list[ChargingProfile]) -> Governing:
        active = [(p, period) for p in candidates if (period := oracle_period(p, at)) is not None]
        level = max((p.stack_level for p, _ in active), default=None)
        return [(p, period) for p, period in active if p.stack_level == level]

    def of(purpose: ChargingProfilePurpose, *evse_ids: int) -> list[ChargingProfile]:
        return [p for p in profiles if p.purpose == purpose and p.evse_id in evse_ids]

    governing = top(of(MAX, 0)) + top(of(EXTERNAL, 0)) + top(of(EXTERNAL, 1))
    return governing + (top(of(TX, 1)) or top(of(DEFAULT, 0, 1)))


def probe_times(profiles: list[ChargingProfile], offset: int) -> list[datetime]:
    """Return one drawn instant plus every instant where a profile changes, and the seconds either side."""
    times = {WINDOW_START + timedelta(seconds=offset)}
    for p in profiles:
        schedule = p.schedules[0]
        base = schedule.start_schedule or CHARGING_START
        edges = [p.valid_from, p.valid_to]
        edges += [base + timedelta(seconds=x.start_period) for x in schedule.periods]
        if schedule.duration is not None:
            edges.append(base + timedelta(seconds=schedule.duration))
        times.update(edge + timedelta(seconds=d) for edge in edges if edge is not None for d in (-1, 0, 1))
    window_end = WINDOW_START + timedelta(seconds=WINDOW_S)
    return sorted(t for t in times if WINDOW_START <= t < window_end)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    candidates=st.lists(st.integers(), min_size=1, max_size=6).flatmap(
        lambda ids: st.tuples(*(random_profile(i + 1) for i in range(len(ids))))
    ),
    evse_phases=st.sampled_from([1, 3]),
    unit=st.sampled_from([A, W]),
    offset=st.integers(0, WINDOW_S - 1),
)
def test_composite_limit_never_exceeds_any_governing_profile(candidates, evse_phases, unit, offset):
    supply = ElectricalSupply(max_current=32, phases=evse_phases)
    store = ChargingProfileStore({1: supply}, station=ElectricalSupply(max_current=40))
    store.start_transaction(1, TX_ID, T0, charging_started_at=CHARGING_START)
    for p in candidates:
        store.install(p, from_csms=p.purpose != EXTERNAL)  # rejected ones simply stay out
    schedule = store.composite_schedule(1, WINDOW_START, WINDOW_S, unit)

    for at in probe_times(store.profiles(), offset):
        found = store.limit_at(1, at, unit)
        governing = oracle_governing(store.profiles(), at)
        phases = min([evse_phases] + [period.number_phases or 3 for _, period in governing])
        bounds = [convert_limit(32, A, unit, voltage=230, phases=phases)] + [
            convert_limit(period.limit, p.schedules[0].charging_rate_unit, unit, voltage=230, phases=phases)
            for p, period in governing
        ]
        assert found.number_phases == phases
        for bound in bounds:
            assert found.limit <= bound + 1e-6
        assert found.limit == pytest.approx(min(bounds))

        # The composite schedule tells the same story at that second, rounded down to one decimal.
        second = int((at - WINDOW_START).total_seconds())
        period = [p for p in schedule.periods if p.start_period <= second][-1]
        assert (period.limit, period.number_phases) == (math.floor(found.limit * 10 + 1e-6) / 10, phases)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    candidates=st.lists(st.integers(), min_size=0, max_size=5).flatmap(
        lambda ids: st.tuples(*(random_profile(i + 1) for i in range(len(ids))))
    ),
    in_transaction=st.booleans(),
    order=st.randoms(use_true_random=False),
)
def test_a_remembered_limit_is_the_one_computed_afresh_whatever_the_order_of_asking(candidates, in_transaction, order):
    # The store remembers each limit until the next boundary of a relevant profile (physics asks at every step);
    # asked forwards, backwards, around every edge, and across a transaction's start, it must answer as if it
    # computed every limit anew.
    store = ChargingProfileStore({1: ElectricalSupply(max_current=32, phases=3)},
                                 station=ElectricalSupply(max_current=40))
    if in_transaction:
        store.start_transaction(1, TX_ID, T0, charging_started_at=CHARGING_START)
    for p in candidates:
        store.install(p, from_csms=p.purpose != EXTERNAL)
    times = probe_times(store.profiles(), 0)
    times += times[::-1]
    times += order.sample(times, len(times))
    supply = ElectricalSupply(max_current=32, phases=3)
    for at in times:
        for unit in (A, W):
            afresh = composite_limit_at(store.profiles(), 1, at, unit, supply,
                                        transaction_id=TX_ID if in_transaction else None,
                                        charging_start=CHARGING_START if in_transaction else at)
            assert store.limit_at(1, at, unit) == afresh, at


def test_a_remembered_limit_gives_way_to_a_new_profile_and_to_the_end_of_a_transaction():
    store = charger()
    store.start_transaction(1, TX_ID, T0)
    assert amps(store, 1) == 32
    installed(store, profile(1, TX, 10, evse_id=1, transaction_id=TX_ID))
    assert amps(store, 1, T0 + minutes(1)) == 10
    store.end_transaction(1)
    assert amps(store, 1, T0 + minutes(2)) == 32
    installed(store, profile(2, MAX, 16))
    assert amps(store, 1, T0 + minutes(3)) == 16
    store.clear(purpose=MAX)
    assert amps(store, 1, T0 + minutes(4)) == 32


def test_a_remembered_limit_follows_a_daily_recurring_profile_over_days_and_jumps():
    # Recurring schedules are looked ahead one day at a time: asked every 20 minutes for three days, then in
    # jumps of more than a day and back, the store answers as if it computed every limit anew.
    store = installed(charger(), profile(1, DEFAULT, [(0, 16), (8 * 3600, 10), (20 * 3600, 32)], kind=RECURRING,
                                         recurrency=RecurrencyKind.DAILY, start=T0 - timedelta(hours=12)))
    supply = ElectricalSupply(max_current=32, phases=3)
    times = [T0 + minutes(20 * i) for i in range(3 * 72)]
    times += [T0 + timedelta(hours=h) for h in (100, 30, 77, 5, 150, 149)]
    for at in times:
        afresh = composite_limit_at(store.profiles(), 1, at, A, supply, charging_start=at)
        assert store.limit_at(1, at, A) == afresh, at
    assert {amps(store, 1, T0 + timedelta(hours=h)) for h in range(24)} == {16, 10, 32}
