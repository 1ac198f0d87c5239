"""Read OCPP meter values of either version into version-neutral samples in Wh, W, A, V and %.

Units are normalised (1.6 ``kWh``/``kW``; 2.0.1 ``unitOfMeasure`` with its power-of-ten multiplier). Where a
measurand is reported per phase: energy and power are summed, current is the highest phase (OCPI limits are
per phase), voltage the mean. A phase-less value, when present, wins.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

from ..domain.csms_records import Sample

__all__ = ["samples_v16", "samples_v201"]

_ENERGY = "Energy.Active.Import.Register"
_FIELDS = {
    _ENERGY: "energy_wh",
    "Power.Active.Import": "power_w",
    "Current.Import": "current_a",
    "Voltage": "voltage_v",
    "SoC": "soc",
}
_SCALE_16 = {"kWh": 1000.0, "kW": 1000.0, "kvarh": 1000.0, "kvar": 1000.0, "kVA": 1000.0}


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _combine(field: str, by_phase: dict[str | None, float]) -> float:
    if None in by_phase:
        return by_phase[None]
    values = list(by_phase.values())
    if field in ("energy_wh", "power_w"):
        # L-N and L-L readings of one phase would double count; keep only the plain phase names when present.
        plain = [v for p, v in by_phase.items() if p in ("L1", "L2", "L3")]
        return sum(plain or values)
    if field == "current_a":
        return max(values)
    return sum(values) / len(values)


def _sample(at: datetime, readings: Iterable[tuple[str, str | None, str | None, float]]) -> Sample:
    grouped: dict[str, dict[str | None, float]] = defaultdict(dict)
    context = None
    for measurand, phase, ctx, value in readings:
        field = _FIELDS.get(measurand)
        context = context or ctx
        if field is not None:
            grouped[field][phase] = value
    values = {field: _combine(field, by_phase) for field, by_phase in grouped.items()}
    return Sample(at=_utc(at), context=context, **values)


def samples_v16(meter_values: Iterable) -> list[Sample]:  # noqa: ANN001 - v16 MeterValue Structs
    """Read OCPP 1.6 ``MeterValue`` items (MeterValues, StopTransaction.transactionData)."""
    samples = []
    for mv in meter_values or ():
        readings = []
        for sv in mv.sampled_value:
            try:
                value = float(sv.value)  # 1.6 sends values as strings; SignedData ones are not numbers
            except ValueError:
                continue
            unit = str(sv.unit) if sv.unit else None
            value *= _SCALE_16.get(unit or "", 1.0)
            measurand = str(sv.measurand) if sv.measurand else _ENERGY
            readings.append((measurand, str(sv.phase) if sv.phase else None,
                             str(sv.context) if sv.context else None, value))
        samples.append(_sample(mv.timestamp, readings))
    return samples


def samples_v201(meter_values: Iterable) -> list[Sample]:  # noqa: ANN001 - v201 MeterValueType Structs
    """Read OCPP 2.0.1 ``MeterValueType`` items (MeterValues, TransactionEvent.meterValue)."""
    samples = []
    for mv in meter_values or ():
        readings = []
        for sv in mv.sampled_value:
            unit = sv.unit_of_measure
            multiplier = unit.multiplier if unit and unit.multiplier else 0
            name = unit.unit if unit and unit.unit else None
            value = sv.value * (10.0 ** multiplier)
            if name in ("kWh", "kW"):
                value *= 1000.0
            measurand = str(sv.measurand) if sv.measurand else _ENERGY
            readings.append((measurand, str(sv.phase) if sv.phase else None,
                             str(sv.context) if sv.context else None, value))
        samples.append(_sample(mv.timestamp, readings))
    return samples
