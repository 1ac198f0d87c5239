"""Simulate an EV on an EVSE: battery, charging curves, and the power that flows each tick.

Power each tick is the least of the EVSE's offer (rating, station share, active limit; ``power.py``) and
what the EV accepts at its state of charge (reference ocpp.md §5.9):

- AC: flat at min(on-board charger, EVSE) until ~92 % SoC, then a short taper.
- DC: a ramp-up over the first seconds (handshake, pre-charge), a plateau, a knee around 50-60 % SoC
  (later for 800 V packs), then a taper to a few percent of peak at 100 %.

The EVSE pauses (SuspendedEVSE) when it cannot offer anything, which on AC means less than 6 A per phase
(IEC 61851-1); the EV pauses (SuspendedEV, 0 W) once it reaches its target SoC. The metered energy of a tick
is exactly its mean power times its duration, so a register summing ``energy_wh`` is the integral of the
reported power. Sans-I/O: nothing here knows about clocks, sockets or asyncio; the fleet's shared beat calls
``Ev.tick(dt)`` for every plugged EV.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from .metering import Electrical
from .power import EvseRating, Limit, ac_offer_a, dc_offer_w

__all__ = [
    "AC_CURVE",
    "DC_CURVE_400V",
    "DC_CURVE_800V",
    "GENERIC_EVS",
    "MAX_STEP_S",
    "ChargingState",
    "Ev",
    "EvProfile",
    "PowerFlow",
]

ChargingState = Literal["Charging", "SuspendedEV", "SuspendedEVSE"]
Curve = tuple[tuple[float, float], ...]

# Power fraction of the EV's maximum by SoC (%), piecewise linear (the SAP simulator's format).
AC_CURVE: Curve = ((0.0, 1.0), (92.0, 1.0), (97.0, 0.5), (100.0, 0.1))
# 400 V packs: plateau from ~10 %, knee ~45-50 %, ~35 % of peak at 80 %, ~5 % at 100 %.
DC_CURVE_400V: Curve = ((0.0, 0.75), (10.0, 1.0), (45.0, 1.0), (60.0, 0.7), (80.0, 0.35), (90.0, 0.18),
                        (100.0, 0.05))
# 800 V packs hold their peak longer: knee ~60 %.
DC_CURVE_800V: Curve = ((0.0, 0.8), (10.0, 1.0), (60.0, 1.0), (70.0, 0.75), (80.0, 0.45), (90.0, 0.2),
                        (100.0, 0.05))

# Longest stretch integrated at one SoC: a long tick is cut so the curve is followed, not jumped over.
MAX_STEP_S = 5.0
# SoC closer than this to the target counts as reached (float noise from Wh <-> % conversions).
_SOC_EPSILON = 1e-9

_Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]
_Positive = Annotated[float, msgspec.Meta(gt=0)]
_Fraction = Annotated[float, msgspec.Meta(gt=0, le=1)]


def _curve_problems(name: str, curve: Curve) -> list[str]:
    socs = [soc for soc, _ in curve]
    problems = []
    if len(curve) < 2 or socs[0] != 0 or socs[-1] != 100 or socs != sorted(set(socs)):
        problems.append(f"{name} needs increasing SoC points from 0 to 100, got {socs}")
    if any(not 0 <= fraction <= 1 for _, fraction in curve):
        problems.append(f"{name} power fractions must be within 0..1")
    return problems


def _fraction(curve: Curve, soc: float) -> float:
    """Interpolate the power fraction at ``soc`` on a piecewise-linear curve."""
    previous_soc, previous_fraction = curve[0]
    for point_soc, point_fraction in curve[1:]:
        if soc <= point_soc:
            span = point_soc - previous_soc
            return previous_fraction + (point_fraction - previous_fraction) * (soc - previous_soc) / span
        previous_soc, previous_fraction = point_soc, point_fraction
    return curve[-1][1]


class EvProfile(msgspec.Struct, frozen=True, kw_only=True):
    """Describe a (generic, simulated) vehicle: battery, AC and DC acceptance, curves, defaults per session.

    ``ac_max_current_a`` is what the on-board charger draws per phase (16 A on an 11 kW three-phase charger),
    ``ac_phases`` how many phases it can use (1 or 3; on a split-phase supply every EV uses both legs).
    ``dc_max_w`` 0 means the EV has no DC inlet. ``EvProfile()`` is a generic 60 kWh car: 11 kW AC on three
    phases, 100 kW DC on a 400 V pack.
    """

    name: str = "generic"
    battery_kwh: _Positive = 60.0
    ac_max_w: Annotated[float, msgspec.Meta(ge=0)] = 11_000.0
    ac_phases: Literal[1, 3] = 3
    ac_max_current_a: _Positive = 16.0
    dc_max_w: Annotated[float, msgspec.Meta(ge=0)] = 100_000.0
    # Pack voltage rises with SoC: 350 -> 400 V for a 400 V pack, 700 -> 800 V for an 800 V pack.
    dc_voltage_empty_v: _Positive = 350.0
    dc_voltage_full_v: _Positive = 400.0
    ac_curve: Curve = AC_CURVE
    dc_curve: Curve = DC_CURVE_400V
    dc_ramp_s: Annotated[float, msgspec.Meta(ge=0)] = 30.0
    # Share of the metered energy that reaches the battery (charger and battery losses).
    ac_efficiency: _Fraction = 0.9
    dc_efficiency: _Fraction = 0.95
    initial_soc: _Percent = 20.0
    target_soc: _Percent = 100.0

    def __post_init__(self) -> None:
        problems = _curve_problems("ac_curve", self.ac_curve) + _curve_problems("dc_curve", self.dc_curve)
        if self.dc_voltage_full_v < self.dc_voltage_empty_v:
            problems.append("dc_voltage_full_v must not be below dc_voltage_empty_v")
        if problems:
            raise ValueError(f"invalid EV profile {self.name!r}: " + "; ".join(problems))

    @property
    def battery_wh(self) -> float:
        """Return the usable battery capacity in Wh."""
        return self.battery_kwh * 1000.0

    def battery_voltage_v(self, soc: float) -> float:
        """Return the pack voltage at ``soc`` (linear between empty and full)."""
        return self.dc_voltage_empty_v + (self.dc_voltage_full_v - self.dc_voltage_empty_v) * soc / 100.0

    def ac_fraction(self, soc: float) -> float:
        """Return the share of its AC maximum the EV accepts at ``soc``."""
        return _fraction(self.ac_curve, soc)

    def dc_fraction(self, soc: float) -> float:
        """Return the share of its DC maximum the EV accepts at ``soc``."""
        return _fraction(self.dc_curve, soc)


class PowerFlow(msgspec.Struct, frozen=True, kw_only=True):
    """Report one tick of an EV on an EVSE: state at its end, mean power, and the coherent electricals.

    ``energy_wh`` = ``power_w`` x duration / 3600 exactly. AC: ``power_w`` = ``voltage_v`` x ``current_a``
    x ``phases`` (``current_a`` per phase, ``voltage_v`` phase-to-neutral). DC: ``current_a`` =
    ``power_w`` / ``voltage_v`` at the battery's voltage, and ``phases`` is 0. ``soc`` is what the charger
    can report: DC only, an AC charger does not learn it from the car.
    """

    state: ChargingState
    power_w: float
    energy_wh: float
    offered_w: float
    current_offered_a: float
    voltage_v: float
    current_a: float
    phases: int
    dc: bool
    soc: float | None

    def electrical(self, register_wh: float) -> Electrical:
        """Return this flow as the meter sees it, with the connector's register, for ``metering.read_meter``."""
        return Electrical(register_wh=register_wh, power_w=self.power_w, offered_w=self.offered_w,
                          voltage=self.voltage_v, phases=self.phases, dc=self.dc, soc=self.soc)


class _Step(msgspec.Struct, frozen=True):
    """What flows during one integration step at one SoC (internal)."""

    state: ChargingState
    power_w: float
    offered_w: float
    offered_a: float
    voltage_v: float
    phases: int


class Ev(msgspec.Struct):
    """Hold one plugged EV's changing state: SoC, target, energy taken, time into the DC ramp.

    ``Ev(profile)`` plugs an EV at the profile's initial SoC and target. A msgspec Struct so that a station
    snapshot (``msgspec.to_builtins``) carries it, and ``msgspec.convert`` brings it back.

    Two levels of use: ``tick`` runs the whole power chain for one EV on one EVSE (rating, limit, share); a
    station that allocates power itself asks ``acceptance_w`` and then calls ``charge``.
    """

    profile: EvProfile
    soc: float | None = None  # percent; None: the profile's initial_soc
    target_soc: float | None = None  # percent; None: the profile's target_soc
    energy_wh: float = 0.0  # metered into this EV since it was plugged
    ramp_s: float = 0.0  # seconds of uninterrupted DC energy flow, for the ramp-up

    def __post_init__(self) -> None:
        if self.soc is None:
            self.soc = self.profile.initial_soc
        if self.target_soc is None:
            self.target_soc = self.profile.target_soc
        if not 0 <= self.soc <= 100 or not 0 <= self.target_soc <= 100:
            raise ValueError(f"SoC {self.soc} and target {self.target_soc} must be percentages (0..100)")

    @classmethod
    def plug(cls, profile: EvProfile, *, soc: float | None = None, target_soc: float | None = None) -> Ev:
        """Return a freshly plugged EV of ``profile`` (SoC and target default to the profile's)."""
        return cls(profile, soc, target_soc)

    @property
    def full(self) -> bool:
        """Tell whether the EV has reached its target SoC (or 100 %) and takes no more energy."""
        return self.soc >= min(self.target_soc, 100.0) - _SOC_EPSILON

    @property
    def battery_voltage(self) -> float:
        """Return the pack voltage now (DC voltage at the inlet)."""
        return self.profile.battery_voltage_v(self.soc)

    def acceptance_w(self, *, dc: bool, phases: int = 3, voltage: float = 230.0,
                     split_phase: bool | None = None) -> float:
        """Return what the EV takes at its SoC when nothing on the EVSE side caps it (0 when full).

        AC: its on-board charger over the phases both sides have, at ``voltage`` phase-to-neutral, times the
        AC curve. Two legs at 150 V or less are North-American split phase (``split_phase`` None guesses
        so): every EV charges across both legs. DC: its maximum times the DC curve; the ramp-up is left out,
        so a just-plugged EV still shows the power it is about to ramp to.
        """
        if self.full:
            return 0.0
        profile = self.profile
        if dc:
            return profile.dc_max_w * profile.dc_fraction(self.soc)
        if split_phase is None:
            split_phase = phases == 2 and voltage <= 150.0
        used = phases if split_phase else min(phases, profile.ac_phases)
        charger_w = min(profile.ac_max_w, profile.ac_max_current_a * voltage * used)
        return charger_w * profile.ac_fraction(self.soc)

    def charge(self, power_w: float, dt_s: float, *, dc: bool) -> float:
        """Deliver ``power_w`` for ``dt_s`` seconds; return the Wh metered, less if the target came first.

        SoC rises by the energy that reaches the battery (metered energy times the charger's efficiency) and
        stops exactly at the target.
        """
        if power_w <= 0 or dt_s <= 0:
            self.ramp_s = 0.0 if power_w <= 0 else self.ramp_s
            return 0.0
        efficiency = self.profile.dc_efficiency if dc else self.profile.ac_efficiency
        energy_wh = power_w * dt_s / 3600.0
        target = min(self.target_soc, 100.0)
        to_target_wh = max(target - self.soc, 0.0) / 100.0 * self.profile.battery_wh / efficiency
        if energy_wh >= to_target_wh:
            energy_wh = to_target_wh
            self.soc = max(self.soc, target)
        else:
            self.soc += energy_wh * efficiency / self.profile.battery_wh * 100.0
        self.energy_wh += energy_wh
        self.ramp_s += dt_s
        return energy_wh

    def ramp_factor(self, dt_s: float = 0.0) -> float:
        """Return the DC ramp-up factor (0..1) over the next ``dt_s`` seconds, taken at their middle."""
        ramp = self.profile.dc_ramp_s
        return min(1.0, (self.ramp_s + dt_s / 2) / ramp) if ramp > 0 else 1.0

    def ac_phases_used(self, rating: EvseRating, limit: Limit | None = None) -> int:
        """Return the AC phases current flows on: what both sides have, fewer if the limit says so."""
        if rating.split_phase:
            return 2  # one 240 V circuit across both legs, whatever the EV's charger
        phases = min(self.profile.ac_phases, rating.phases)
        if limit is not None and limit.number_phases:
            phases = min(phases, limit.number_phases)
        return phases

    def acceptance_on(self, rating: EvseRating, limit: Limit | None = None) -> float:
        """Return ``acceptance_w`` on the EVSE ``rating`` with the phases ``limit`` leaves."""
        if rating.dc:
            return self.acceptance_w(dc=True)
        return self.acceptance_w(dc=False, phases=self.ac_phases_used(rating, limit), voltage=rating.voltage_v,
                                 split_phase=rating.split_phase)

    def demand_w(self, rating: EvseRating, limit: Limit | None = None) -> float:
        """Return the power to ask of a shared pool for the next tick (0 when paused).

        DC asks for its acceptance without the ramp-up, as a cabinet assigns power modules when a session
        starts (asking for the ramped power would leave a just-plugged EV with no share to ramp into). AC asks
        for at least the 6 A minimum over the phases in use: an EVSE given less could not signal a current at
        all, even to an EV tapering below it.
        """
        step = self._step(0.0, rating, limit, None)
        if step.state != "Charging":
            return 0.0
        if rating.dc:
            return min(step.offered_w, self.acceptance_on(rating))
        floor = rating.min_current_a * rating.voltage_v * step.phases
        return max(step.power_w, floor)

    def tick(self, dt_s: float, rating: EvseRating, *, limit: Limit | None = None,
             share_w: float | None = None) -> PowerFlow:
        """Advance ``dt_s`` seconds on ``rating`` under ``limit`` and a pool ``share_w``; return what flowed.

        The tick is integrated in steps of at most ``MAX_STEP_S`` so that the curve is followed, and the EV
        stops exactly at its target SoC, even inside a step.
        """
        if dt_s < 0:
            raise ValueError(f"a tick cannot go back in time (dt_s={dt_s})")
        energy_wh = 0.0
        remaining = dt_s
        while remaining > 0:
            h = min(remaining, MAX_STEP_S)
            energy_wh += self._advance(self._step(h, rating, limit, share_w), h, rating)
            remaining -= h
        # The state at the end of the tick: reaching the target inside the last step shows as SuspendedEV.
        end = self._step(0.0, rating, limit, share_w)
        power_w = energy_wh * 3600.0 / dt_s if dt_s > 0 else end.power_w
        return self._flow(end, power_w, energy_wh, rating)

    # ----------------------------------------------------------------------------------------------- internals

    def _step(self, h: float, rating: EvseRating, limit: Limit | None, share_w: float | None) -> _Step:
        """Return the state and power for a step of ``h`` seconds starting now."""
        if rating.dc:
            voltage = self.battery_voltage
            offered = dc_offer_w(rating, voltage, limit=limit, share_w=share_w)
            if offered <= 0:
                return _Step("SuspendedEVSE", 0.0, 0.0, 0.0, voltage, 0)
            accepted = self.acceptance_on(rating)
            if accepted <= 0:  # full, at its target, or no DC inlet
                return _Step("SuspendedEV", 0.0, offered, offered / voltage, voltage, 0)
            # At the very start of the ramp power may be 0 while the EV is already charging (pre-charge).
            power = min(offered, accepted * self.ramp_factor(h))
            return _Step("Charging", power, offered, offered / voltage, voltage, 0)
        phases = self.ac_phases_used(rating, limit)
        voltage = rating.voltage_v
        amps = ac_offer_a(rating, phases, limit=limit, share_w=share_w)
        if amps < rating.min_current_a or amps <= 0:
            return _Step("SuspendedEVSE", 0.0, 0.0, 0.0, voltage, phases)
        offered = amps * voltage * phases
        if self.full:
            return _Step("SuspendedEV", 0.0, offered, amps, voltage, phases)
        power = min(offered, self.acceptance_on(rating, limit))
        return _Step("Charging" if power > 0 else "SuspendedEV", power, offered, amps, voltage, phases)

    def _advance(self, step: _Step, h: float, rating: EvseRating) -> float:
        """Apply ``step`` for ``h`` seconds; return the Wh metered (a pause restarts the DC ramp)."""
        if step.state != "Charging":
            self.ramp_s = 0.0
            return 0.0
        if step.power_w <= 0:
            self.ramp_s += h  # pre-charge: the ramp runs before power shows
            return 0.0
        return self.charge(step.power_w, h, dc=rating.dc)

    def _flow(self, step: _Step, power_w: float, energy_wh: float, rating: EvseRating) -> PowerFlow:
        if rating.dc:
            current = power_w / step.voltage_v
            soc: float | None = self.soc
        else:
            current = power_w / (step.voltage_v * step.phases)
            soc = None
        return PowerFlow(state=step.state, power_w=power_w, energy_wh=energy_wh, offered_w=step.offered_w,
                         current_offered_a=step.offered_a, voltage_v=step.voltage_v, current_a=current,
                         phases=step.phases, dc=rating.dc, soc=soc)


# Generic simulated vehicles (plausible archetypes, not any real car's data).
GENERIC_EVS: dict[str, EvProfile] = {
    profile.name: profile
    for profile in (
        EvProfile(name="city-40", battery_kwh=40, ac_max_w=11_000, ac_phases=3, ac_max_current_a=16,
                  dc_max_w=50_000, initial_soc=25),
        EvProfile(name="compact-58", battery_kwh=58, ac_max_w=11_000, ac_phases=3, ac_max_current_a=16,
                  dc_max_w=120_000),
        EvProfile(name="van-1ph-50", battery_kwh=50, ac_max_w=7_400, ac_phases=1, ac_max_current_a=32,
                  dc_max_w=80_000, initial_soc=30),
        EvProfile(name="suv-77", battery_kwh=77, ac_max_w=11_000, ac_phases=3, ac_max_current_a=16,
                  dc_max_w=135_000, target_soc=80),
        EvProfile(name="sedan-800v-84", battery_kwh=84, ac_max_w=22_000, ac_phases=3, ac_max_current_a=32,
                  dc_max_w=270_000, dc_voltage_empty_v=700, dc_voltage_full_v=800, dc_curve=DC_CURVE_800V,
                  target_soc=80, initial_soc=10),
        EvProfile(name="na-crossover-75", battery_kwh=75, ac_max_w=11_500, ac_phases=1, ac_max_current_a=48,
                  dc_max_w=250_000, initial_soc=15, target_soc=90),
        EvProfile(name="na-pickup-130", battery_kwh=130, ac_max_w=19_200, ac_phases=1, ac_max_current_a=80,
                  dc_max_w=155_000, initial_soc=20, target_soc=80),
    )
}
