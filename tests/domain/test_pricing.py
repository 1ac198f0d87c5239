"""Price sessions with tariffs: every worked example of reference ocpi.md §5.6, recomputed, plus properties.

Spec example totals are not copied blindly (reference §8.12): where the spec's printed number disagrees with
its own rules, the test asserts the recomputed value and says why in a comment.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocpi_sandbox.domain.charging_periods import CdrDimensionType as Dim
from ocpi_sandbox.domain.charging_periods import ChargingPeriod
from ocpi_sandbox.domain.pricing import Cost, CostCategory, price_session
from ocpi_sandbox.domain.tariffs import (
    DayOfWeek,
    PriceComponent,
    PriceLimit,
    Tariff,
    TariffDimensionType,
    TariffElement,
    TariffFormatError,
    TariffRestrictions,
    TaxIncluded,
    tariff_from_ocpi,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def period(start: str, **volumes: str) -> ChargingPeriod:
    return ChargingPeriod(start_date_time=utc(start), dimensions={Dim[k]: D(v) for k, v in volumes.items()})


def cost(before: str, after: str) -> Cost:
    return Cost(D(before), D(after))


def ocpi_tariff(elements: list, version: str = "2.2.1", **fields) -> Tariff:
    obj = {"country_code": "NL", "party_id": "SBX", "id": "T", "currency": "EUR", "elements": elements,
           "last_updated": "2025-01-01T00:00:00Z", **fields}
    if version == "2.3.0":
        obj.setdefault("tax_included", "NO")
    return tariff_from_ocpi(obj, version)


def component(type_: str, price: float, step: int = 1, vat: float | None = None) -> dict:
    out = {"type": type_, "price": price, "step_size": step}
    if vat is not None:
        out["vat"] = vat
    return out


# ------------------------------------------------------------------------------------------------------------
# Reference §5.6 worked examples


START_FEE_AND_ENERGY = [
    {"price_components": [component("FLAT", 0.50, vat=20.0), component("ENERGY", 0.25, vat=10.0)]},
]


def test_example_1_start_fee_plus_energy_bills_flat_once_and_energy_per_kwh():
    tariff = ocpi_tariff(START_FEE_AND_ENERGY)
    periods = [
        period("2025-03-03T08:00", ENERGY="12", TIME="1"),
        period("2025-03-03T09:00", ENERGY="8", TIME="1"),
    ]

    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-03T08:00"), utc("2025-03-03T10:00"))

    assert costs.total_cost == cost("5.50", "6.10")
    assert costs.total_fixed_cost == cost("0.50", "0.60")
    assert costs.total_energy_cost == cost("5.00", "5.50")
    assert costs.total_energy == D("20")
    # 2.3.0 rendering with tax_included NO: one TaxAmount per VAT rate.
    assert [(t.percentage, t.amount) for t in costs.taxes] == [(D("20"), D("0.10")), (D("10"), D("0.50"))]


CDR_0001 = {  # reference §5.6 example 2, the CDR's tariff and charging periods as they travel in OCPI 2.2.1
    "tariffs": [{"country_code": "NL", "party_id": "SBX", "id": "T13", "currency": "EUR",
                 "elements": [{"price_components": [
                     {"type": "TIME", "price": 3.00, "vat": 10.0, "step_size": 60},
                     {"type": "PARKING_TIME", "price": 5.00, "vat": 20.0, "step_size": 300}]}],
                 "last_updated": "2025-01-01T00:00:00Z"}],
    "charging_periods": [
        {"start_date_time": "2025-03-03T08:00:00Z", "tariff_id": "T13",
         "dimensions": [{"type": "ENERGY", "volume": 27.5}, {"type": "TIME", "volume": 2.5}]},
        {"start_date_time": "2025-03-03T10:30:00Z", "tariff_id": "T13",
         "dimensions": [{"type": "PARKING_TIME", "volume": 0.7}]}],
}


def periods_from_cdr(cdr: dict) -> list[ChargingPeriod]:
    return [
        ChargingPeriod(
            start_date_time=datetime.fromisoformat(p["start_date_time"]),
            dimensions={Dim(d["type"]): D(str(d["volume"])) for d in p["dimensions"]},
            tariff_id=p.get("tariff_id"),
        )
        for p in cdr["charging_periods"]
    ]


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
def test_example_2_time_not_rounded_when_parking_follows_parking_rounded_to_five_minutes(version):
    tariff_json = dict(CDR_0001["tariffs"][0], tax_included="NO")
    tariff = tariff_from_ocpi(tariff_json, version)

    costs = price_session(tariff, AMSTERDAM, periods_from_cdr(CDR_0001),
                          utc("2025-03-03T08:00"), utc("2025-03-03T11:12"))

    assert costs.total_time_cost == cost("7.50", "8.25")  # 2.5 h, not rounded: parking follows
    assert costs.total_parking_cost == cost("3.75", "4.50")  # 42 min -> 45 min
    assert costs.total_cost == cost("11.25", "12.75")
    assert costs.total_energy == D("27.5")
    assert costs.total_time == D("3.2")
    assert costs.total_parking_time == D("0.7")
    assert costs.billed_parking_time == D("0.75")
    assert [(t.percentage, t.amount) for t in costs.taxes] == [(D("10"), D("0.75")), (D("20"), D("0.75"))]


def test_example_3_energy_step_applies_once_on_the_session_total_extra_goes_to_the_last_period():
    tariff = ocpi_tariff([
        {"price_components": [component("ENERGY", 0.20, step=500)], "restrictions": {"end_time": "17:00"}},
        {"price_components": [component("ENERGY", 0.27, step=500)], "restrictions": {"start_time": "17:00"}},
    ])
    periods = [  # Amsterdam is UTC+1 in early March: 15:00Z = 16:00 local, 16:00Z = 17:00 local
        period("2025-03-03T15:00", ENERGY="4.3", TIME="1"),
        period("2025-03-03T16:00", ENERGY="1.1", TIME="0.5"),
    ]

    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-03T15:00"), utc("2025-03-03T16:30"))

    # 5.4 kWh -> 5.5 kWh; the 0.1 kWh extra is billed at the after-17:00 price: 4.3*0.20 + 1.2*0.27.
    assert costs.total_energy_cost == cost("1.184", "1.184")  # no vat in the example: after = before
    assert [c.billed_quantity for p in costs.periods for c in p.components] == [D("4.3"), D("1.2")]
    assert costs.billed_energy == D("5.5")


TARIFF_22 = [  # spec Tariffs "step_size" example
    {"price_components": [component("TIME", 1.20, step=1800), component("PARKING_TIME", 1.00, step=900)],
     "restrictions": {"start_time": "00:00", "end_time": "17:00"}},
    {"price_components": [component("TIME", 2.40, step=900), component("PARKING_TIME", 1.00, step=900)],
     "restrictions": {"start_time": "17:00", "end_time": "20:00"}},
    {"price_components": [component("TIME", 2.40, step=900)],
     "restrictions": {"start_time": "20:00", "end_time": "00:00"}},
]


def test_example_4_time_step_of_the_last_time_component_rounds_the_session_total():
    periods = [  # 16:35-17:10 local (UTC+1), charging then unplug
        period("2025-03-03T15:35", TIME=str(D(25) / 60)),
        period("2025-03-03T16:00", TIME=str(D(10) / 60)),
    ]

    costs = price_session(ocpi_tariff(TARIFF_22), AMSTERDAM, periods,
                          utc("2025-03-03T15:35"), utc("2025-03-03T16:10"))

    # 35 min -> 45 min with the 17:00 element's 900 s step; the extra 10 min are billed at 2.40/h.
    assert costs.total_time_cost == cost("1.30", "1.30")
    assert costs.billed_time == D("0.75")


def test_example_4_parking_takes_the_rounding_and_charging_time_is_left_unrounded():
    periods = [  # 16:55 local: charge 10 min, then 2 min parked
        period("2025-03-03T15:55", TIME=str(D(5) / 60)),
        period("2025-03-03T16:00", TIME=str(D(5) / 60)),
        period("2025-03-03T16:05", PARKING_TIME=str(D(2) / 60)),
    ]

    costs = price_session(ocpi_tariff(TARIFF_22), AMSTERDAM, periods,
                          utc("2025-03-03T15:55"), utc("2025-03-03T16:07"))

    assert costs.total_time_cost == cost("0.30", "0.30")  # 0.10 + 0.20, unrounded
    assert costs.total_parking_cost == cost("0.25", "0.25")  # 2 min -> 15 min at 1.00/h
    assert costs.total_cost == cost("0.55", "0.55")


TARIFF_4_COMPLEX = {  # spec examples/tariff_4_complex.json
    "country_code": "DE", "party_id": "ALL", "id": "14", "currency": "EUR", "type": "REGULAR",
    "elements": [
        {"price_components": [{"type": "FLAT", "price": 2.50, "vat": 15.0, "step_size": 1}]},
        {"price_components": [{"type": "TIME", "price": 1.00, "vat": 20.0, "step_size": 900}],
         "restrictions": {"max_current": 32.00}},
        {"price_components": [{"type": "TIME", "price": 2.00, "vat": 20.0, "step_size": 600}],
         "restrictions": {"min_current": 32.00,
                          "day_of_week": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]}},
        {"price_components": [{"type": "TIME", "price": 1.25, "vat": 20.0, "step_size": 600}],
         "restrictions": {"min_current": 32.00, "day_of_week": ["SATURDAY", "SUNDAY"]}},
        {"price_components": [{"type": "PARKING_TIME", "price": 5.00, "vat": 10.0, "step_size": 300}],
         "restrictions": {"start_time": "09:00", "end_time": "18:00",
                          "day_of_week": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]}},
        {"price_components": [{"type": "PARKING_TIME", "price": 6.00, "vat": 10.0, "step_size": 300}],
         "restrictions": {"start_time": "10:00", "end_time": "17:00", "day_of_week": ["SATURDAY"]}},
    ],
    "tax_included": "NO",
    "last_updated": "2015-06-29T20:39:09Z",
}


def test_example_5_complex_tariff_on_a_monday_at_low_current():
    tariff = tariff_from_ocpi(TARIFF_4_COMPLEX, "2.3.0")
    periods = [  # Monday 09:30 local (08:30Z): 165 min at <= 16 A, then 42 min parked
        period("2025-03-03T08:30", ENERGY="10", TIME="2.75", MIN_CURRENT="16", MAX_CURRENT="16"),
        period("2025-03-03T11:15", PARKING_TIME="0.7"),
    ]

    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-03T08:30"), utc("2025-03-03T11:57"))

    assert costs.total_fixed_cost == cost("2.50", "2.875")
    assert costs.total_time_cost == cost("2.75", "3.30")  # element 2; not rounded because parking follows
    assert costs.total_parking_cost == cost("3.75", "4.125")  # element 5 (12:15 weekday); 42 -> 45 min
    assert costs.total_cost == cost("9.00", "10.30")  # matches the spec
    assert [c.element_index for p in costs.periods for c in p.components] == [0, 1, 4]


def test_example_5_complex_tariff_on_a_saturday_at_high_current_recomputed():
    tariff = tariff_from_ocpi(TARIFF_4_COMPLEX, "2.3.0")
    periods = [  # Saturday 13:30 local (12:30Z): 114 min at >= 43 A, then 71 min parked
        period("2025-03-08T12:30", ENERGY="40", TIME="1.9", MIN_CURRENT="43", MAX_CURRENT="43"),
        period("2025-03-08T14:24", PARKING_TIME=str(D(71) / 60)),
    ]

    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-08T12:30"), utc("2025-03-08T15:35"))

    # The 2.2.1-d2 table prints TIME 2.28 and totals 12.28 / 13.861; 114 min x 1.25/h is 2.375 (an arithmetic
    # slip in the spec, reference §5.6/§8.12), so the correct totals are 12.375 / 13.975.
    assert costs.total_time_cost == cost("2.375", "2.85")
    assert costs.total_parking_cost == cost("7.50", "8.25")  # element 6; 71 -> 75 min at 6.00/h
    assert costs.total_cost == cost("12.375", "13.975")


TARIFF_6_MAX_PRICE = START_FEE_AND_ENERGY


@pytest.mark.parametrize(
    ("kwh", "expected", "clamped"),
    [("50", cost("10.00", "11.00"), True), ("30", cost("8.00", "8.85"), False)],
)
def test_example_6_max_price_clamps_before_and_after_taxes_independently(kwh, expected, clamped):
    tariff = ocpi_tariff(TARIFF_6_MAX_PRICE, max_price={"excl_vat": 10.00, "incl_vat": 11.00})
    periods = [period("2025-03-03T08:00", ENERGY=kwh, TIME="2")]

    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-03T08:00"), utc("2025-03-03T10:00"))

    assert costs.total_cost == expected
    assert costs.max_price_applied is clamped
    # Subtotals stay unclamped; only total_cost moves (reference §5.5).
    assert costs.total_fixed_cost + costs.total_energy_cost == costs.unclamped_total_cost


MAX_POWER_EXAMPLE = [  # spec examples/tariffrestriction_example_max_power.json
    {"price_components": [component("ENERGY", 0.20, vat=20.0)], "restrictions": {"max_power": 16.00}},
    {"price_components": [component("ENERGY", 0.35, vat=20.0)], "restrictions": {"max_power": 32.00}},
    {"price_components": [component("ENERGY", 0.50, vat=20.0)]},
]


def test_example_7_power_bands_price_each_period_by_its_power():
    periods = [
        period("2025-03-03T08:00", ENERGY="1", TIME=str(D(10) / 60), MIN_POWER="6", MAX_POWER="6"),
        period("2025-03-03T08:10", ENERGY="40", TIME=str(D(50) / 60), MIN_POWER="48", MAX_POWER="48"),
        period("2025-03-03T09:00", ENERGY="0.5", TIME=str(D(450) / 3600), MIN_POWER="4", MAX_POWER="4"),
    ]

    costs = price_session(ocpi_tariff(MAX_POWER_EXAMPLE), AMSTERDAM, periods,
                          utc("2025-03-03T08:00"), utc("2025-03-03T09:07:30"))

    assert costs.total_energy_cost.before_taxes == D("20.30")  # 0.20 + 20.00 + 0.10
    assert [c.element_index for p in costs.periods for c in p.components] == [0, 2, 0]


TARIFF_15_RESERVATION = [
    {"price_components": [component("TIME", 5.00, step=60, vat=20.0)],
     "restrictions": {"reservation": "RESERVATION"}},
    {"price_components": [component("FLAT", 0.50, vat=20.0), component("ENERGY", 0.25, vat=10.0)]},
]


def test_example_8_reservation_time_is_priced_by_the_reservation_element_only():
    periods = [
        period("2025-03-03T07:45", RESERVATION_TIME="0.25"),
        period("2025-03-03T08:00", ENERGY="20", TIME="2"),
    ]

    costs = price_session(ocpi_tariff(TARIFF_15_RESERVATION), AMSTERDAM, periods,
                          utc("2025-03-03T07:45"), utc("2025-03-03T10:00"))

    assert costs.total_reservation_cost == cost("1.25", "1.50")
    assert costs.total_fixed_cost == cost("0.50", "0.60")
    assert costs.total_energy_cost == cost("5.00", "5.50")
    assert costs.total_time_cost == Cost()  # charging TIME is not priced by the reservation element
    assert costs.total_cost == cost("6.75", "7.60")


def test_example_8_reservation_fee_and_start_fee_are_both_billed():
    tariff = ocpi_tariff([  # spec tariff 16: reservation fee 2.00 + 5.00/h, then start fee and energy
        {"price_components": [component("FLAT", 2.00, vat=20.0), component("TIME", 5.00, step=60, vat=20.0)],
         "restrictions": {"reservation": "RESERVATION"}},
        {"price_components": [component("FLAT", 0.50, vat=20.0), component("ENERGY", 0.25, vat=10.0)]},
    ])
    periods = [period("2025-03-03T07:45", RESERVATION_TIME="0.25"), period("2025-03-03T08:00", ENERGY="20")]

    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-03T07:45"), utc("2025-03-03T10:00"))

    # Ambiguous in the spec (reference §5.4): we follow its example and bill both FLATs.
    assert costs.total_reservation_cost == cost("3.25", "3.90")
    assert costs.total_fixed_cost == cost("0.50", "0.60")


TARIFF_17_EXPIRES = {  # spec examples/tariff_17_reservation_with_expire_fee.json
    "country_code": "DE", "party_id": "ALL", "id": "20", "currency": "EUR",
    "elements": [
        {"price_components": [{"type": "FLAT", "price": 4.00, "vat": 20.0, "step_size": 1}],
         "restrictions": {"reservation": "RESERVATION_EXPIRES"}},
        {"price_components": [{"type": "TIME", "price": 2.00, "vat": 20.0, "step_size": 600}],
         "restrictions": {"reservation": "RESERVATION"}},
        {"price_components": [{"type": "FLAT", "price": 0.50, "vat": 20.0, "step_size": 1},
                              {"type": "ENERGY", "price": 0.25, "vat": 10.0, "step_size": 1}]},
    ],
    "tax_included": "NO",
    "last_updated": "2019-02-03T17:00:11Z",
}


def test_example_8_expired_reservation_pays_the_expiry_fee_and_reserved_time():
    tariff = tariff_from_ocpi(TARIFF_17_EXPIRES, "2.3.0")
    periods = [period("2025-03-03T07:00", RESERVATION_TIME="1")]

    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-03T07:00"), utc("2025-03-03T08:00"),
                          reservation_expired=True)

    assert costs.total_reservation_cost == cost("6.00", "7.20")
    assert costs.total_cost == cost("6.00", "7.20")


def test_example_8_reservation_that_is_used_does_not_pay_the_expiry_fee():
    tariff = tariff_from_ocpi(TARIFF_17_EXPIRES, "2.3.0")
    periods = [period("2025-03-03T07:00", RESERVATION_TIME="1"), period("2025-03-03T08:00", ENERGY="10")]

    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-03T07:00"), utc("2025-03-03T09:00"))

    assert costs.total_reservation_cost == cost("2.00", "2.40")
    assert costs.total_cost == cost("5.00", "5.75")  # + 0.50 start fee + 10 kWh x 0.25


def test_example_9_north_american_prices_exclusive_of_taxes_without_vat_add_no_tax():
    tariff = ocpi_tariff([{"price_components": [component("TIME", 2.00)]}], "2.3.0", tax_included="NO")
    periods = [period("2025-03-03T15:00", TIME="2.5")]

    costs = price_session(tariff, ZoneInfo("America/Toronto"), periods,
                          utc("2025-03-03T15:00"), utc("2025-03-03T17:30"))

    # Taxes are "added per local law", which the sandbox does not know: before_taxes 5.00, no TaxAmount.
    assert costs.total_cost == cost("5.00", "5.00")
    assert costs.taxes == ()


def test_example_9_prices_inclusive_of_taxes_report_the_after_tax_total_and_flag_the_unknown_split():
    tariff = ocpi_tariff([{"price_components": [component("TIME", 2.10)]}], "2.3.0", tax_included="YES")
    periods = [period("2025-03-03T15:00", TIME="2.5")]

    costs = price_session(tariff, ZoneInfo("America/Toronto"), periods,
                          utc("2025-03-03T15:00"), utc("2025-03-03T17:30"))

    assert costs.total_cost.after_taxes == D("5.25")
    assert costs.total_cost.before_taxes == D("5.25")  # no vat to back out (reference §5.5 ambiguity)
    assert any("no vat" in notice for notice in costs.notices)


def test_cdr_module_example_rounds_1_973_hours_up_to_two_hours_with_a_300_second_step():
    tariff = ocpi_tariff([{"price_components": [component("TIME", 2.00, step=300, vat=10.0)]}])
    periods = [period("2025-03-03T08:00", TIME="1.973")]

    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-03T08:00"), utc("2025-03-03T09:58:23"))

    assert costs.total_cost == cost("4.00", "4.40")
    assert costs.total_time_cost == cost("4.00", "4.40")


# ------------------------------------------------------------------------------------------------------------
# Rules beyond the worked examples


def test_free_of_charge_tariff_with_step_size_zero_costs_nothing():
    tariff = ocpi_tariff([{"price_components": [component("FLAT", 0.00, step=0)]}])
    periods = [period("2025-03-03T08:00", ENERGY="20", TIME="1")]

    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-03T08:00"), utc("2025-03-03T09:00"))

    assert costs.total_cost == Cost()
    assert costs.periods[0].components[0].dimension is TariffDimensionType.FLAT


def test_min_price_raises_a_cheap_session_to_the_minimum():
    tariff = ocpi_tariff([{"price_components": [component("ENERGY", 0.25, vat=10.0)]}],
                         min_price={"excl_vat": 0.50, "incl_vat": 0.55})
    periods = [period("2025-03-03T08:00", ENERGY="1", TIME="0.1")]

    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-03T08:00"), utc("2025-03-03T08:06"))

    assert costs.unclamped_total_cost == cost("0.25", "0.275")
    assert costs.total_cost == cost("0.50", "0.55")
    assert costs.min_price_applied and not costs.max_price_applied


def test_limit_without_after_tax_value_scales_with_the_sessions_tax_ratio():
    tariff = ocpi_tariff([{"price_components": [component("ENERGY", 1.00, vat=20.0)]}], "2.3.0",
                         max_price={"before_taxes": 10.00})
    periods = [period("2025-03-03T08:00", ENERGY="20")]

    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-03T08:00"), utc("2025-03-03T09:00"))

    assert costs.total_cost == cost("10.00", "12.00")


def test_prices_including_taxes_back_out_the_vat():
    tariff = ocpi_tariff([{"price_components": [component("ENERGY", 0.30, vat=20.0)]}], "2.3.0",
                         tax_included="YES")
    periods = [period("2025-03-03T08:00", ENERGY="10")]

    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-03T08:00"), utc("2025-03-03T09:00"))

    assert costs.total_cost == cost("2.50", "3.00")


def test_tax_not_applicable_ignores_vat():
    tariff = ocpi_tariff([{"price_components": [component("ENERGY", 0.30, vat=20.0)]}], "2.3.0",
                         tax_included="N/A")
    periods = [period("2025-03-03T08:00", ENERGY="10")]

    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-03T08:00"), utc("2025-03-03T09:00"))

    assert costs.total_cost == cost("3.00", "3.00")
    assert costs.taxes == ()


def test_overstay_fee_flat_first_billed_while_parking_counts_as_parking_cost():
    tariff = ocpi_tariff([
        {"price_components": [component("TIME", 1.00)]},
        {"price_components": [component("FLAT", 5.00), component("PARKING_TIME", 6.00)],
         "restrictions": {"min_duration": 7200}},
    ])
    periods = [period("2025-03-03T08:00", TIME="2"), period("2025-03-03T10:00", PARKING_TIME="0.5")]

    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-03T08:00"), utc("2025-03-03T10:30"))

    assert costs.total_parking_cost == cost("8.00", "8.00")
    assert costs.total_fixed_cost == Cost()


def test_kwh_restriction_reads_the_session_energy_before_the_period():
    tariff = ocpi_tariff([
        {"price_components": [component("ENERGY", 0.00)], "restrictions": {"max_kwh": 5}},
        {"price_components": [component("ENERGY", 0.40)]},
    ])
    periods = [period("2025-03-03T08:00", ENERGY="5"), period("2025-03-03T09:00", ENERGY="3")]

    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-03T08:00"), utc("2025-03-03T10:00"))

    assert costs.total_energy_cost == cost("1.20", "1.20")


def test_period_without_current_readings_satisfies_current_restrictions():
    tariff = tariff_from_ocpi(TARIFF_4_COMPLEX, "2.3.0")
    periods = [period("2025-03-03T08:30", TIME="1")]  # no MIN/MAX_CURRENT: element 2 is the first TIME

    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-03T08:30"), utc("2025-03-03T09:30"))

    assert [c.element_index for c in costs.periods[0].components] == [0, 1]


# DST: restrictions read the period start in local time, whatever the UTC offset is that day.

NIGHT_RATE = [
    {"price_components": [component("ENERGY", 0.10)],
     "restrictions": {"start_time": "02:00", "end_time": "03:00"}},
    {"price_components": [component("ENERGY", 0.30)]},
]


@pytest.mark.parametrize(
    ("start", "night"),
    [
        ("2025-10-26T00:30", True),  # 02:30 CEST, first pass through 02:xx
        ("2025-10-26T01:00", True),  # 02:00 CET: clocks went back, 02:xx again
        ("2025-10-26T01:30", True),  # 02:30 CET
        ("2025-10-26T02:00", False),  # 03:00 CET
        ("2025-03-30T00:30", False),  # 01:30 CET
        ("2025-03-30T01:00", False),  # 03:00 CEST: 02:xx never happened
    ],
)
def test_time_of_day_restriction_uses_local_time_across_dst_changes(start, night):
    periods = [period(start, ENERGY="1")]

    costs = price_session(ocpi_tariff(NIGHT_RATE), AMSTERDAM, periods, utc(start),
                          utc(start) + timedelta(minutes=10))

    assert costs.total_energy_cost.before_taxes == (D("0.10") if night else D("0.30"))


def test_day_of_week_restriction_uses_the_local_weekday():
    tariff = ocpi_tariff([
        {"price_components": [component("ENERGY", 0.10)], "restrictions": {"day_of_week": ["SUNDAY"]}},
        {"price_components": [component("ENERGY", 0.30)]},
    ])
    # Saturday 23:30 UTC is already Sunday 00:30 in Amsterdam.
    periods = [period("2025-03-08T23:30", ENERGY="1")]

    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-08T23:30"), utc("2025-03-08T23:40"))

    assert costs.total_energy_cost.before_taxes == D("0.10")


# Converter from OCPI JSON


def test_2_2_1_tariff_prices_are_read_as_excluding_vat():
    tariff = ocpi_tariff(START_FEE_AND_ENERGY, min_price={"excl_vat": 1, "incl_vat": 1.2})
    assert tariff.tax_included is TaxIncluded.NO
    assert tariff.min_price == PriceLimit(before_taxes=D("1"), after_taxes=D("1.2"))
    assert tariff.elements[0].price_components[1] == PriceComponent(
        type=TariffDimensionType.ENERGY, price=D("0.25"), step_size=1, vat=D("10.0"))


def test_restrictions_are_read_with_local_times_dates_and_weekdays():
    tariff = ocpi_tariff([{"price_components": [component("TIME", 1)], "restrictions": {
        "start_time": "22:00", "end_time": "06:00", "start_date": "2025-01-01", "end_date": "2025-02-01",
        "min_kwh": 1.5, "max_power": 22, "min_duration": 60, "day_of_week": ["MONDAY", "SUNDAY"]}}])
    restrictions = tariff.elements[0].restrictions
    assert restrictions.start_time.hour == 22 and restrictions.end_time.hour == 6
    assert restrictions.end_date.month == 2
    assert restrictions.min_kwh == D("1.5") and restrictions.max_power == D("22")
    assert restrictions.day_of_week == (DayOfWeek.MONDAY, DayOfWeek.SUNDAY)


@pytest.mark.parametrize(
    ("obj", "version", "field"),
    [
        ({"id": "T", "currency": "EUR", "elements": [{"price_components": [component("TIME", 1)]}]},
         "2.3.0", "tax_included"),
        ({"id": "T", "currency": "EUR", "elements": []}, "2.2.1", "elements"),
        ({"id": "T", "currency": "EUR", "elements": [{"price_components": [component("ENERGY", 1)],
                                                      "restrictions": {"reservation": "RESERVATION"}}]},
         "2.2.1", "reservation element"),
        ({"id": "T", "currency": "EUR", "elements": [{"price_components": [component("TIME", 1)],
                                                      "restrictions": {"start_time": "7:00"}}]},
         "2.2.1", "start_time"),
        ({"id": "T", "currency": "EUR", "elements": [{"price_components": [{"type": "TIME", "price": 1}]}]},
         "2.2.1", "step_size"),
        ({"id": "T", "currency": "EUR", "elements": [{"price_components": [component("TIME", "1")]}]},
         "2.2.1", "price"),
        ({"id": "T", "currency": "EUR", "elements": [{"price_components": [component("TIME", 1)]}]},
         "2.1.1", "2.1.1"),
    ],
)
def test_malformed_tariffs_are_refused_naming_the_field(obj, version, field):
    with pytest.raises(TariffFormatError, match=field):
        tariff_from_ocpi(obj, version)


def test_periods_out_of_order_are_refused():
    tariff = ocpi_tariff(START_FEE_AND_ENERGY)
    periods = [period("2025-03-03T09:00", ENERGY="1"), period("2025-03-03T08:00", ENERGY="1")]
    with pytest.raises(ValueError, match="sort periods"):
        price_session(tariff, AMSTERDAM, periods, utc("2025-03-03T08:00"), utc("2025-03-03T10:00"))


# ------------------------------------------------------------------------------------------------------------
# Properties

money = st.decimals(min_value=0, max_value=10, places=2)
vats = st.sampled_from([None, D("0"), D("5"), D("9.975"), D("20"), D("21")])
steps = st.sampled_from([0, 1, 60, 300, 500, 900, 1800])
times = st.sampled_from([None, "00:00", "02:00", "02:30", "03:00", "09:00", "17:00", "23:30"])


@st.composite
def restrictions(draw):
    raw = {}
    for key in ("start_time", "end_time"):
        value = draw(times)
        if value is not None:
            raw[key] = value
    if draw(st.booleans()):
        raw["day_of_week"] = draw(st.lists(st.sampled_from([d.value for d in DayOfWeek]), unique=True))
    for key, values in (("min_kwh", [1, 5, 20]), ("max_kwh", [2, 10, 40]), ("min_power", [11, 22]),
                        ("max_power", [7, 50]), ("min_current", [16, 32]), ("max_current", [16, 32]),
                        ("min_duration", [600, 3600]), ("max_duration", [1800, 7200])):
        if draw(st.integers(0, 4)) == 0:
            raw[key] = draw(st.sampled_from(values))
    return raw or None


@st.composite
def tariffs(draw):
    elements = []
    for _ in range(draw(st.integers(1, 4))):
        types = draw(st.lists(st.sampled_from(["FLAT", "ENERGY", "TIME", "PARKING_TIME"]), min_size=1,
                              unique=True))
        components = []
        for type_ in types:
            components.append({"type": type_, "price": draw(money), "step_size": draw(steps)})
            if (vat := draw(vats)) is not None:
                components[-1]["vat"] = vat
        element = {"price_components": components}
        if (r := draw(restrictions())) is not None:
            element["restrictions"] = r
        elements.append(element)
    obj = {"id": "T", "currency": "EUR", "elements": elements,
           "tax_included": draw(st.sampled_from(["YES", "NO", "N/A"]))}
    if draw(st.booleans()):
        low = draw(st.decimals(min_value=0, max_value=5, places=2))
        obj["min_price"] = {"before_taxes": low}
        if draw(st.booleans()):
            obj["max_price"] = {"before_taxes": low + draw(st.decimals(min_value=0, max_value=20, places=2)),
                                "after_taxes": low + 30}
    return tariff_from_ocpi(obj, "2.3.0")


@st.composite
def sessions(draw):
    start = draw(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2025, 12, 31)))
    start = start.replace(second=0, microsecond=0, tzinfo=timezone.utc)
    periods, instant = [], start
    for _ in range(draw(st.integers(1, 6))):
        minutes = draw(st.integers(1, 180))
        hours = D(minutes) / 60
        if draw(st.booleans()):
            power = draw(st.sampled_from([D("3.7"), D("11"), D("22"), D("50")]))
            dims = {Dim.ENERGY: (power * hours).quantize(D("0.001")), Dim.TIME: hours,
                    Dim.MIN_POWER: power, Dim.MAX_POWER: power,
                    Dim.MIN_CURRENT: power * 1000 / 690, Dim.MAX_CURRENT: power * 1000 / 690}
        else:
            dims = {Dim.PARKING_TIME: hours}
        periods.append(ChargingPeriod(start_date_time=instant, dimensions=dims))
        instant += timedelta(minutes=minutes)
    return periods, start, instant


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tariff=tariffs(), session=sessions())
def test_property_costs_are_never_negative_and_totals_add_up(tariff, session):
    periods, start, end = session
    costs = price_session(tariff, AMSTERDAM, periods, start, end)

    lines = [c for p in costs.periods for c in p.components]
    assert all(c.cost.before_taxes >= 0 and c.cost.after_taxes >= 0 for c in lines)
    assert costs.total_cost.before_taxes >= 0 and costs.total_cost.after_taxes >= 0
    # Before min/max clamping the total is exactly the sum of the period costs, and of the subtotals.
    assert costs.unclamped_total_cost == sum((p.cost for p in costs.periods), Cost())
    subtotals = (costs.total_fixed_cost, costs.total_energy_cost, costs.total_time_cost,
                 costs.total_parking_cost, costs.total_reservation_cost)
    assert costs.unclamped_total_cost == sum(subtotals, Cost())
    if not (costs.min_price_applied or costs.max_price_applied):
        assert costs.total_cost == costs.unclamped_total_cost
    # FLAT is billed at most once for a session without reservation.
    assert sum(1 for c in lines if c.dimension is TariffDimensionType.FLAT) <= 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tariff=tariffs(), session=sessions())
def test_property_step_size_only_ever_rounds_up_and_by_less_than_one_step(tariff, session):
    periods, start, end = session
    costs = price_session(tariff, AMSTERDAM, periods, start, end)

    lines = [c for p in costs.periods for c in p.components]
    assert all(c.billed_quantity >= c.quantity for c in lines)
    for dimension, unit in ((TariffDimensionType.ENERGY, 1000), (TariffDimensionType.TIME, 3600),
                            (TariffDimensionType.PARKING_TIME, 3600)):
        rounded = [c for c in lines if c.dimension is dimension and c.billed_quantity > c.quantity]
        assert len(rounded) <= 1  # the extra lands in one period only
        if rounded:
            billed = sum(c.billed_quantity for c in lines if c.dimension is dimension)
            raw = sum(c.quantity for c in lines if c.dimension is dimension)
            assert (billed - raw) * unit < max(rounded[0].step_size, 1)
    # TIME and PARKING_TIME share one rounding: never both rounded.
    assert not ({c.dimension for c in lines if c.billed_quantity > c.quantity}
                >= {TariffDimensionType.TIME, TariffDimensionType.PARKING_TIME})


@settings(max_examples=200, deadline=None)
@given(tariff=tariffs(), session=sessions())
def test_property_total_cost_respects_min_and_max_price(tariff, session):
    periods, start, end = session
    costs = price_session(tariff, AMSTERDAM, periods, start, end)

    if tariff.max_price is not None:
        assert costs.total_cost.before_taxes <= tariff.max_price.before_taxes
        assert costs.total_cost.after_taxes <= tariff.max_price.after_taxes
    elif tariff.min_price is not None:
        assert costs.total_cost.before_taxes >= tariff.min_price.before_taxes


def test_category_of_every_line_matches_its_subtotal():
    tariff = tariff_from_ocpi(TARIFF_4_COMPLEX, "2.3.0")
    periods = [
        period("2025-03-03T08:30", TIME="2.75", MAX_CURRENT="16"),
        period("2025-03-03T11:15", PARKING_TIME="0.7"),
    ]
    costs = price_session(tariff, AMSTERDAM, periods, utc("2025-03-03T08:30"), utc("2025-03-03T11:57"))
    assert [c.category for p in costs.periods for c in p.components] == [
        CostCategory.FIXED, CostCategory.TIME, CostCategory.PARKING]


def test_tariff_validity_window_is_reported_not_enforced():
    energy = PriceComponent(type=TariffDimensionType.ENERGY, price=D("1"))
    element = TariffElement(price_components=(energy,), restrictions=TariffRestrictions())
    tariff = Tariff(id="T", currency="EUR", start_date_time=utc("2026-01-01T00:00"), elements=(element,))
    costs = price_session(tariff, AMSTERDAM, [period("2025-03-03T08:00", ENERGY="1")],
                          utc("2025-03-03T08:00"), utc("2025-03-03T09:00"))
    assert costs.total_cost == cost("1", "1")
    assert any("not in force" in notice for notice in costs.notices)
