"""Move energy on a station's EVSEs: ask the charging-profile store for limits, share the pool, tick the EVs.

A mixin of ``Station``. Power is the least of the EVSE rating, the composite charging-profile limit (OCPP 1.6
§3.13 / 2.0.1 K08, from ``ChargingProfileStore.limit_at``), a vendor current limit, the station pool's share
(``station_max_power_w`` and station-wide profiles, ``power.share_station_power``) and the EV's acceptance at
its state of charge (``ev.Ev``); below 6 A on AC the EVSE pauses (SuspendedEVSE), a full EV pauses itself
(SuspendedEV). The EVSE side refuses energy (SuspendedEVSE) while faulted, out of service, or holding a token
the CSMS rejected.

Physics advances in steps of ``PHYSICS_STEP_S``, limits and shares read again at every step, and the register
grows by exactly the integrated power (the EV follows its curve in sub-steps of ``ev.MAX_STEP_S`` inside a step).
A new charging profile, a plug or a fault changes the power at once (``_sync``); a schedule's next period, or an EV
becoming full, shows at the next step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .charging_profiles import ChargingLimit, ChargingRateUnit
from .ev import GENERIC_EVS, Ev, EvProfile
from .ev import PowerFlow as Flow
from .metering import Electrical, Reading, read_meter
from .power import EvseRating, share_station_power
from .station_state import EvseState

if TYPE_CHECKING:  # pragma: no cover
    from .station import Station

__all__ = ["EnergyFlow", "DEFAULT_EV", "PHYSICS_STEP_S"]

DEFAULT_EV = GENERIC_EVS["compact-58"]
# Integration step, and the wake-up period while an EV may draw energy. Ten seconds: a charging station then
# wakes once per step, with its meter values when they are sampled every 10 s (timers pull physics along), and
# at 10,000 charging stations half the wake-ups of a 5 s step were a tenth of the simulator's CPU (py-spy).
PHYSICS_STEP_S = 10.0
_MAX_STEPS = 5000  # a long gap (a restored station) is integrated in at most this many steps


class EnergyFlow:
    """Limits, pool shares and EV ticks for every EVSE (mixed into ``Station``)."""

    def _new_ev(self: Station, profile: EvProfile | None) -> Ev:
        return Ev.plug(profile or self.config.default_ev or DEFAULT_EV)

    def _rating(self: Station, evse: EvseState) -> EvseRating:
        return self._ratings[evse.id]

    def _profile_key(self: Station, evse: EvseState, connector_id: int | None = None) -> int:
        """The charging-profile store keys 1.6 profiles on connectorId, 2.0.1 ones on evseId."""
        if self.version == "1.6":
            return self._flat[(evse.id, connector_id or evse.plugged or (evse.tx and evse.tx.connector_id) or 1)]
        return evse.id

    def _energy_path(self: Station, evse: EvseState) -> bool:
        """Whether an authorized driver stands behind the plugged EV (energy may flow unless blocked)."""
        auth, tx = evse.auth, evse.tx
        return (evse.plugged is not None and evse.ev is not None and auth is not None and auth.accepted
                and (tx is None or tx.stop_reason is None))

    def _blocked(self: Station, evse: EvseState) -> bool:
        """Whether the EVSE side refuses energy: a fault, out of service, or a token the CSMS rejected."""
        if evse.plugged is not None and evse.connector(evse.plugged).fault is not None:
            return True
        if evse.tx is not None and evse.tx.invalid:
            return True
        # Availability changes wait for the running transaction to end ("Scheduled").
        return evse.tx is None and not self._operative(evse, evse.plugged)

    def _limit(self: Station, evse: EvseState) -> ChargingLimit:
        rating = self._rating(evse)
        unit = ChargingRateUnit.W if rating.dc else ChargingRateUnit.A
        limit = self.store.limit_at(self._profile_key(evse), self._wall_at(self._now), unit)
        vendor = self._vendor_current_limit
        if vendor is not None and not rating.dc and vendor < limit.limit:
            limit = ChargingLimit(limit=vendor, unit=unit, number_phases=limit.number_phases)
        return limit

    def _flows(self: Station, dt: float) -> dict[int, tuple[Flow, ChargingLimit]]:
        """Tick every EV with an energy path for ``dt`` seconds (0: just read the present instant)."""
        live = [e for e in self.evses if self._energy_path(e)]
        limits = {e.id: self._limit(e) for e in live}
        demands = [0.0 if self._blocked(e) else e.ev.demand_w(self._rating(e), limits[e.id]) for e in live]
        pool = self.store.limit_at(0, self._wall_at(self._now), ChargingRateUnit.W).limit
        if self.config.station_max_power_w is not None:
            pool = min(pool, self.config.station_max_power_w)
        shares = share_station_power(pool, demands)
        binding = sum(demands) > pool + 1e-6  # the pool only caps anyone when it cannot serve every demand
        flows = {}
        for evse, share in zip(live, shares):
            share_w = 0.0 if self._blocked(evse) else (share if binding else None)
            flows[evse.id] = (evse.ev.tick(dt, self._rating(evse), limit=limits[evse.id], share_w=share_w),
                              limits[evse.id])
        return flows

    def _allocate(self: Station) -> None:
        """Set every EVSE's power, offer, limit and state for the present instant (no messages)."""
        self._apply(self._flows(0.0))

    def _apply(self: Station, flows: dict[int, tuple[Flow, ChargingLimit]]) -> None:
        for evse in self.evses:
            found = flows.get(evse.id)
            rating = self._rating(evse)
            if found is None:
                evse.power_w = evse.offered_w = 0.0
                evse.limit_w, evse.state = None, None
                evse.voltage, evse.phases = (0.0, 0) if rating.dc else (rating.voltage_v, rating.phases)
                continue
            flow, limit = found
            evse.power_w, evse.offered_w, evse.state = flow.power_w, flow.offered_w, flow.state
            evse.voltage, evse.phases = flow.voltage_v, flow.phases
            watts = str(limit.unit) == "W"
            evse.limit_w = limit.limit if watts else limit.limit * flow.voltage_v * max(1, flow.phases)

    def _integrate(self: Station, until: float) -> None:
        """Advance physics from the last instant to ``until``, reading limits again after every step."""
        start = self._physics_at
        if until <= start:
            return
        if not self._charging_anything():
            self._physics_at = until  # nothing flows: skip the steps
            return
        step = max(PHYSICS_STEP_S, (until - start) / _MAX_STEPS)
        t = start
        while t < until:
            dt = min(step, until - t)
            flows = self._flows(dt)
            for evse_id, (flow, _) in flows.items():
                evse = self.evses[evse_id - 1]
                if flow.energy_wh > 0:
                    evse.connector(evse.plugged).register_wh += flow.energy_wh
                    if evse.tx is not None:
                        evse.tx.charging_time += dt
            t += dt
            self._physics_at = self._now = t
            # The step's mean power and end state stand for the instant: a meter averages over its period
            # anyway, and the next step reads the limits again.
            self._apply(flows)
            self._after_physics()
        self._physics_at = until

    def _charging_anything(self: Station) -> bool:
        return any(evse.state is not None for evse in self.evses)

    # -- the meter --

    def _electrical(self: Station, evse: EvseState, connector_id: int | None = None) -> Electrical:
        connector = evse.connector(connector_id or evse.plugged or (evse.tx and evse.tx.connector_id) or 1)
        dc = self._rating(evse).dc
        return Electrical(register_wh=connector.register_wh, power_w=evse.power_w, offered_w=evse.offered_w,
                          voltage=evse.voltage, phases=evse.phases, dc=dc,
                          soc=evse.ev.soc if dc and evse.ev is not None else None)

    def _read(self: Station, evse: EvseState, role: str) -> list[Reading]:
        """Read the meter of ``evse`` for the measurands the setting ``role`` lists."""
        # A sample is the power at its timestamp, not the mean of the physics step that ended there (which lags
        # by half a step on a DC ramp): CSMSs integrate samples, and their integral must match the register.
        self._allocate()
        return read_meter(self.settings.members(role), self._electrical(evse))
