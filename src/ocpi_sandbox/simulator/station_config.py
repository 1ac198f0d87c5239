"""Describe a simulated station: identity, boot data, EVSEs with their connectors, OCPP settings.

Everything needed to build a ``Station``, JSON-serialisable (the management API stores it with the charger).
Numbering follows OCPP 2.0.1 Part 2 §2 (EVSEs 1..n, connectors 1..m per EVSE, no gaps); OCPP 1.6 sees the
connectors numbered 1..N across the EVSEs in order (``connector_ids_16``).
"""

from __future__ import annotations

from typing import Literal

import msgspec

from .ev import EvProfile

__all__ = ["ConnectorConfig", "EvseConfig", "StationConfig"]

PowerType = Literal["AC_1_PHASE", "AC_2_PHASE", "AC_2_PHASE_SPLIT", "AC_3_PHASE", "DC"]


class ConnectorConfig(msgspec.Struct, kw_only=True, frozen=True):
    """One connector: its OCPP 2.0.1 ConnectorEnumType and its OCPI standard/format/power type."""

    id: int
    type: str = "sType2"  # OCPP 2.0.1 ConnectorEnumType (cCCS2, sType2, cG105 ...)
    standard: str = "IEC_62196_T2"  # OCPI ConnectorType
    format: Literal["SOCKET", "CABLE"] = "SOCKET"
    power_type: PowerType = "AC_3_PHASE"


class EvseConfig(msgspec.Struct, kw_only=True, frozen=True):
    """One EVSE: connectors, rated power, AC phases and voltage (phase-to-neutral AC, maximum DC)."""

    id: int
    connectors: list[ConnectorConfig]
    max_power_w: float
    phases: int = 3
    voltage: float = 230.0
    min_current_a: float = 6.0  # IEC 61851 AC control pilot: below it charging pauses

    @property
    def dc(self) -> bool:
        return any(c.power_type == "DC" for c in self.connectors)


class StationConfig(msgspec.Struct, kw_only=True, frozen=True):
    """Everything needed to build a station; ``configuration`` overrides the OCPP defaults by name.

    Names are 1.6 configuration keys (``MeterValueSampleInterval``) or 2.0.1 variables written
    ``Component.Variable`` or ``Component.Variable.Instance`` (``OCPPCommCtrlr.MessageAttempts.TransactionEvent``).
    """

    identity: str
    ocpp_version: Literal["1.6", "2.0.1"]
    vendor: str
    model: str
    evses: list[EvseConfig]
    serial_number: str | None = None
    firmware_version: str = "1.0.0"
    station_max_power_w: float | None = None
    configuration: dict[str, str] = {}
    auto_plug_on_remote_start: bool = False
    default_ev: EvProfile | None = None

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= len(self.identity) <= 48 or ":" in self.identity:
            problems.append(f"identity {self.identity!r} must be 1-48 characters without ':'")
        if self.ocpp_version == "1.6":
            limits = {"vendor": 20, "model": 20, "serial_number": 25, "firmware_version": 50}
        else:
            limits = {"vendor": 50, "model": 20, "serial_number": 25, "firmware_version": 50}
        for name, limit in limits.items():
            value = getattr(self, name)
            if value is not None and len(value) > limit:
                problems.append(f"{name} {value!r} is longer than the {limit} characters BootNotification allows")
        if [e.id for e in self.evses] != list(range(1, len(self.evses) + 1)):
            problems.append(f"EVSE ids must be 1..n without gaps, got {[e.id for e in self.evses]}")
        for evse in self.evses:
            if [c.id for c in evse.connectors] != list(range(1, len(evse.connectors) + 1)):
                problems.append(f"EVSE {evse.id}: connector ids must be 1..m, got {[c.id for c in evse.connectors]}")
            if evse.max_power_w <= 0 or evse.voltage <= 0 or evse.phases not in (1, 2, 3):
                problems.append(f"EVSE {evse.id}: max_power_w and voltage must be positive, phases 1-3")
        if problems:
            raise ValueError("invalid station configuration: " + "; ".join(problems))

    def connector_ids_16(self) -> dict[tuple[int, int], int]:
        """Map (EVSE id, connector id) to the OCPP 1.6 connectorId (1..N in EVSE order)."""
        flat: dict[tuple[int, int], int] = {}
        for evse in self.evses:
            for connector in evse.connectors:
                flat[(evse.id, connector.id)] = len(flat) + 1
        return flat
