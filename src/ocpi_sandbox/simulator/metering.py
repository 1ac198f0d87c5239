"""Read an EVSE's meter: turn its electrical state into the sampled values a MeterValue carries.

Version-neutral readings (measurand, value, unit, phase); each dialect writes them in its own shape (1.6 strings,
2.0.1 numbers with unitOfMeasure). Values are coherent with the physics: AC current is P / (U × phases),
DC current P / U_battery, the register is the connector's Wh register. SoC is reported for DC only (an AC
charger does not learn it from the car); per-phase registers are not modelled (2.0.1
RegisterValuesWithoutPhases behaviour).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

__all__ = ["Electrical", "Reading", "read_meter", "DEFAULT_MEASURAND"]

DEFAULT_MEASURAND = "Energy.Active.Import.Register"
_PHASES = ("L1", "L2", "L3")
_FREQUENCY_HZ = 50.0
_TEMPERATURE_C = 25.0


class Electrical(NamedTuple):
    """An EVSE's electrical state at one instant."""

    register_wh: float
    power_w: float
    offered_w: float
    voltage: float  # AC: phase to neutral; DC: battery side
    phases: int  # AC phases in use; 0 for DC
    dc: bool
    soc: float | None
    power_factor: float = 1.0


class Reading(NamedTuple):
    measurand: str
    value: float
    unit: str | None
    phase: str | None = None
    location: str | None = None


def _round(value: float, digits: int) -> float:
    return round(value + 0.0, digits)


def read_meter(measurands: Iterable[str], e: Electrical) -> list[Reading]:
    """Return the readings for ``measurands`` (unknown or unavailable ones are skipped).

    Never empty: with nothing readable the energy register is returned, since a MeterValue needs at least
    one sampled value.
    """
    out: list[Reading] = []
    phases = max(1, e.phases)
    ac_current = e.power_w / (e.voltage * phases * e.power_factor) if e.voltage and not e.dc else 0.0
    ac_offered = e.offered_w / (e.voltage * phases) if e.voltage and not e.dc else 0.0
    for measurand in measurands:
        if measurand == "Energy.Active.Import.Register":
            out.append(Reading(measurand, _round(e.register_wh, 1), "Wh"))
        elif measurand == "Energy.Active.Export.Register":
            out.append(Reading(measurand, 0.0, "Wh"))
        elif measurand == "Power.Active.Import":
            out.append(Reading(measurand, _round(e.power_w, 1), "W"))
        elif measurand == "Power.Active.Export":
            out.append(Reading(measurand, 0.0, "W"))
        elif measurand == "Power.Offered":
            out.append(Reading(measurand, _round(e.offered_w, 1), "W"))
        elif measurand == "Power.Factor":
            out.append(Reading(measurand, _round(e.power_factor, 3), None))  # unitless
        elif measurand in ("Current.Import", "Current.Offered"):
            if e.dc:
                amps = (e.power_w if measurand == "Current.Import" else e.offered_w) / e.voltage if e.voltage else 0.0
                out.append(Reading(measurand, _round(amps, 2), "A"))
            else:
                amps = ac_current if measurand == "Current.Import" else ac_offered
                out.extend(Reading(measurand, _round(amps, 2), "A", phase) for phase in _PHASES[:phases])
        elif measurand == "Current.Export":
            out.append(Reading(measurand, 0.0, "A"))
        elif measurand == "Voltage":
            if e.dc:
                out.append(Reading(measurand, _round(e.voltage, 1), "V"))
            else:
                out.extend(Reading(measurand, _round(e.voltage, 1), "V", f"{phase}-N") for phase in _PHASES[:phases])
        elif measurand == "Frequency" and not e.dc:
            out.append(Reading(measurand, _FREQUENCY_HZ, "Hz"))
        elif measurand == "SoC" and e.dc and e.soc is not None:
            out.append(Reading(measurand, _round(e.soc, 1), "Percent", location="EV"))
        elif measurand == "Temperature":
            out.append(Reading(measurand, _TEMPERATURE_C, "Celsius", location="Body"))
    if not out:
        out.append(Reading(DEFAULT_MEASURAND, _round(e.register_wh, 1), "Wh"))
    return out
