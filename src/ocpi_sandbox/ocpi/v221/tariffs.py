"""OCPI 2.2.1 Tariffs module objects (mod_tariffs.asciidoc): Tariff, TariffElement, PriceComponent, ...

Prices and quantities are ``float`` on the wire; the pricing engine converts them to ``Decimal``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from ..primitives import URL, CiString, DateTime, OcpiObject, String
from .types import DisplayText, EnergyMix, Price, TimeOfDay

__all__ = [
    "DayOfWeek",
    "LocalDate",
    "PriceComponent",
    "ReservationRestrictionType",
    "Tariff",
    "TariffDimensionType",
    "TariffElement",
    "TariffRestrictions",
    "TariffType",
]

DayOfWeek = Literal["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
ReservationRestrictionType = Literal["RESERVATION", "RESERVATION_EXPIRES"]
TariffDimensionType = Literal["ENERGY", "FLAT", "PARKING_TIME", "TIME"]
TariffType = Literal["AD_HOC_PAYMENT", "PROFILE_CHEAP", "PROFILE_FAST", "PROFILE_GREEN", "REGULAR"]

# "YYYY-MM-DD" local date (mod_tariffs, TariffRestrictions.start_date regex).
LocalDate = Annotated[
    str, msgspec.Meta(max_length=10, pattern=r"^([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
]


class PriceComponent(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_tariffs, PriceComponent class: the price of one dimension, billed in steps.

    ``price`` is per unit, excl. VAT. ``vat`` absent means no VAT applies (not the same as 0.0).
    ``step_size`` is in Wh for ENERGY and in seconds for TIME and PARKING_TIME; quantities are rounded up
    to a multiple of it.
    """

    type: TariffDimensionType
    price: float
    vat: float | None = None
    step_size: int


class TariffRestrictions(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_tariffs, TariffRestrictions class: when a TariffElement is active.

    Present fields are AND-ed. Times and dates are local to the Location's ``time_zone``; currents in A,
    powers in kW, durations in seconds.
    """

    start_time: TimeOfDay | None = None
    end_time: TimeOfDay | None = None
    start_date: LocalDate | None = None
    end_date: LocalDate | None = None
    min_kwh: float | None = None
    max_kwh: float | None = None
    min_current: float | None = None
    max_current: float | None = None
    min_power: float | None = None
    max_power: float | None = None
    min_duration: int | None = None
    max_duration: int | None = None
    day_of_week: list[DayOfWeek] | None = None
    reservation: ReservationRestrictionType | None = None


class TariffElement(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_tariffs, TariffElement class: price components that apply together."""

    price_components: Annotated[list[PriceComponent], msgspec.Meta(min_length=1)]
    restrictions: TariffRestrictions | None = None


class Tariff(OcpiObject, kw_only=True):
    """OCPI 2.2.1 mod_tariffs, Tariff object: a tariff that connectors refer to by id.

    ``min_price`` / ``max_price`` bound the total cost of a session; they are not start fees.
    """

    country_code: CiString(2)
    party_id: CiString(3)
    id: CiString(36)
    currency: String(3)
    type: TariffType | None = None
    tariff_alt_text: list[DisplayText] | None = None
    tariff_alt_url: URL | None = None
    min_price: Price | None = None
    max_price: Price | None = None
    elements: Annotated[list[TariffElement], msgspec.Meta(min_length=1)]
    start_date_time: DateTime | None = None
    end_date_time: DateTime | None = None
    energy_mix: EnergyMix | None = None
    last_updated: DateTime
