"""Work out what an EVSE can offer an EV: its rating, the active charging limit, its share of a power pool.

The EVSE side of the power chain (reference ocpp.md §5.9): power = min(EVSE rating, station share, active
limit, EV acceptance); the EV side lives in ``ev.py``. Sans-I/O: plain numbers in, plain numbers out, so
thousands of EVSEs can be computed on one tick.

Conventions, the same as OCPP smart charging (1.6 §3.13, 2.0.1 K01) and ``charging_schedule``: an ``A``
limit is current per phase, a ``W`` limit total power, and AC power is ``U x I x phases`` with ``U`` the
phase-to-neutral voltage. A North-American 120/240 V split-phase supply is two 120 V legs carrying the same
current (P = 120 V x I x 2 = 240 V x I).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal, Protocol

import msgspec

__all__ = [
    "MIN_AC_CURRENT_A",
    "EvseRating",
    "Limit",
    "ac_offer_a",
    "dc_offer_w",
    "limit_in_amps",
    "limit_in_watts",
    "share_station_power",
]

# IEC 61851-1 control pilot: an EVSE cannot signal less than 6 A, so below it charging pauses (SuspendedEVSE).
MIN_AC_CURRENT_A = 6.0

_Positive = Annotated[float, msgspec.Meta(gt=0)]


class Limit(Protocol):
    """An active charging limit: ``charging_schedule.ChargingLimit`` or anything shaped like it."""

    @property
    def limit(self) -> float: ...

    @property
    def unit(self) -> Any: ...  # "A" (per phase) or "W"; a ChargingRateUnit StrEnum compares equal

    @property
    def number_phases(self) -> int | None: ...


class EvseRating(msgspec.Struct, frozen=True, kw_only=True):
    """Say what one EVSE can deliver: nameplate power, current, voltage and phases.

    AC: ``voltage_v`` is the nominal phase-to-neutral voltage (230 V in Europe, 120 V per leg of a 120/240 V
    split-phase supply), ``max_current_a`` the current per phase. DC: ``voltage_v`` is the highest output
    voltage (informative: the battery sets the voltage) and ``max_current_a`` the output (cable) current.
    """

    kind: Literal["AC", "DC"]
    max_power_w: _Positive
    max_current_a: _Positive
    voltage_v: _Positive = 230.0
    phases: Annotated[int, msgspec.Meta(ge=1, le=3)] = 3
    split_phase: bool = False
    min_current_a: Annotated[float, msgspec.Meta(ge=0)] = MIN_AC_CURRENT_A

    @classmethod
    def for_ac(cls, max_current_a: float, *, phases: int = 3, voltage_v: float = 230.0,
               max_power_w: float | None = None) -> EvseRating:
        """Rate an AC EVSE (e.g. 32 A x 3 phases at 230 V = 22 kW); power defaults to U x I x phases."""
        return cls(kind="AC", max_current_a=max_current_a, phases=phases, voltage_v=voltage_v,
                   max_power_w=max_power_w or max_current_a * voltage_v * phases)

    @classmethod
    def for_split_phase(cls, max_current_a: float, *, leg_voltage_v: float = 120.0) -> EvseRating:
        """Rate a North-American 120/240 V split-phase AC EVSE (e.g. 48 A at 240 V = 11.5 kW)."""
        return cls(kind="AC", max_current_a=max_current_a, phases=2, voltage_v=leg_voltage_v, split_phase=True,
                   max_power_w=max_current_a * leg_voltage_v * 2)

    @classmethod
    def for_dc(cls, max_power_w: float, *, max_current_a: float, max_voltage_v: float = 920.0) -> EvseRating:
        """Rate a DC EVSE (e.g. 150 kW, 200 A cable, 1000 V)."""
        return cls(kind="DC", max_power_w=max_power_w, max_current_a=max_current_a, voltage_v=max_voltage_v,
                   phases=3, min_current_a=0.0)

    @classmethod
    def from_config(cls, evse: Any) -> EvseRating:
        """Rate an EVSE described like ``station_config.EvseConfig`` (max_power_w, phases, voltage, dc, connectors).

        A connector with power type ``AC_2_PHASE_SPLIT`` makes it a split-phase EVSE; a 240 V given there is
        read as the line-to-line voltage and halved into two 120 V legs.
        """
        if evse.dc:
            # A DC EVSE config carries no cable current: assume full power is reachable from 400 V on.
            return cls.for_dc(evse.max_power_w, max_current_a=evse.max_power_w / 400.0,
                              max_voltage_v=max(evse.voltage, 400.0))
        split = any(getattr(c, "power_type", None) == "AC_2_PHASE_SPLIT" for c in evse.connectors)
        voltage = evse.voltage / 2 if split and evse.voltage > 150 else evse.voltage
        phases = 2 if split else evse.phases
        return cls(kind="AC", max_power_w=evse.max_power_w, max_current_a=evse.max_power_w / (voltage * phases),
                   voltage_v=voltage, phases=phases, split_phase=split,
                   min_current_a=getattr(evse, "min_current_a", MIN_AC_CURRENT_A))

    @property
    def dc(self) -> bool:
        """Tell whether the EVSE delivers direct current."""
        return self.kind == "DC"


def _is_watts(limit: Limit) -> bool:
    return str(limit.unit) == "W"


def limit_in_amps(limit: Limit | None, *, voltage_v: float, phases: int) -> float:
    """Return an AC limit as current per phase over ``phases`` in use (infinite when there is none)."""
    if limit is None:
        return float("inf")
    if _is_watts(limit):
        return limit.limit / (voltage_v * phases)
    return limit.limit


def limit_in_watts(limit: Limit | None, *, voltage_v: float, phases: int) -> float:
    """Return a limit as total power: W as is, A x U x phases (DC: pass the battery voltage and 1 phase)."""
    if limit is None:
        return float("inf")
    if _is_watts(limit):
        return limit.limit
    return limit.limit * voltage_v * phases


def ac_offer_a(rating: EvseRating, phases: int, *, limit: Limit | None = None,
               share_w: float | None = None) -> float:
    """Return the current per phase an AC EVSE offers over ``phases``: the least of rating, share and limit.

    The caller compares it with ``rating.min_current_a``: below it the EVSE cannot signal a current at all.
    """
    per_phase_w = rating.voltage_v * phases
    amps = min(rating.max_current_a, rating.max_power_w / per_phase_w,
               limit_in_amps(limit, voltage_v=rating.voltage_v, phases=phases))
    if share_w is not None:
        amps = min(amps, share_w / per_phase_w)
    return max(amps, 0.0)


def dc_offer_w(rating: EvseRating, battery_voltage_v: float, *, limit: Limit | None = None,
               share_w: float | None = None) -> float:
    """Return the power a DC EVSE offers at ``battery_voltage_v``: rating, cable current, share and limit.

    A DC limit in A caps the output current, so it is worth A x battery voltage.
    """
    watts = min(rating.max_power_w, rating.max_current_a * battery_voltage_v,
                limit_in_watts(limit, voltage_v=battery_voltage_v, phases=1))
    if share_w is not None:
        watts = min(watts, share_w)
    return max(watts, 0.0)


def share_station_power(station_max_w: float, demands_w: Sequence[float]) -> list[float]:
    """Split a station's power pool among its EVSEs: equal shares, capped by demand, the rest redistributed.

    Water-filling: EVSEs asking less than an equal share get what they ask, and what they leave is shared
    equally among the others. The shares never sum to more than ``station_max_w``; an EVSE asking nothing
    gets nothing. Dynamic power sharing of DC cabinets (reference ocpp.md §5.8).
    """
    shares = [0.0] * len(demands_w)
    remaining = max(station_max_w, 0.0)
    # Serve the smallest demands first so that each one's leftover can go to the larger ones.
    order = sorted((i for i, d in enumerate(demands_w) if d > 0), key=lambda i: demands_w[i])
    for served, i in enumerate(order):
        equal = remaining / (len(order) - served)
        shares[i] = float(min(demands_w[i], equal))
        remaining -= shares[i]
    return shares
