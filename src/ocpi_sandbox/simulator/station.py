"""Simulate one charging station as a sans-I/O state machine speaking OCPP 1.6J or 2.0.1.

``Station`` never touches a socket or a clock: the transport (``transport.StationLink``) and the fleet pass
``now`` (monotonic seconds) into every call, hand it the CSMS's CALLs, send what ``take_calls()`` releases and
report each answer. State is plain attributes; a snapshot is small JSON and ``restore`` rebuilds an equal
station after a restart, with its transactions, meter registers and settings.

The version-neutral core is split by concept: ``station_sessions`` (cables, drivers, transactions),
``station_power`` (power flow and metering), ``station_operations`` (availability, reservations, faults, resets,
firmware, smart charging); ``dialect_v16`` and ``dialect_v201`` turn it into each version's messages.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import msgspec

from ..ocpp.rpc import CallErrorReply
from ..ocpp.v16.messages import ACTIONS as ACTIONS_16
from ..ocpp.v201.messages import ACTIONS as ACTIONS_201
from .call_queue import CallQueue
from .charging_profiles import ChargingProfile, ChargingProfileStore, ElectricalSupply
from .device_model import DeviceModel, VariableKey
from .ev import Ev, EvProfile
from .station_config import ConnectorConfig, EvseConfig, StationConfig
from .station_operations import FAULT_CODES, Operations
from .power import EvseRating
from .station_power import PHYSICS_STEP_S, EnergyFlow
from .station_sessions import SessionFlow
from .station_state import (
    ConnectorState,
    EvseState,
    IdToken,
    Job,
    TokenInfo,
    to_absolute,
    to_relative,
)

__all__ = ["Station", "StationConfig", "EvseConfig", "ConnectorConfig", "CallErrorReply", "EvProfile",
           "FAULT_CODES"]

BOOT_RETRY_S = 30.0  # after a failed BootNotification, or Pending/Rejected with interval 0
SNAPSHOT_VERSION = 1
_MAX_TIMERS_PER_TICK = 100_000
SWITCHES = ("lock_failure", "duplicate_boot")


def _connection_lost(reason: str) -> bool:
    text = reason.lower()
    return "closed" in text or "cancelled" in text or "not connected" in text or "connection" in text


# CALLs whose CALLRESULT neither dialect acts on (``dialect_v16/v201.on_result``); a 2.0.1 TransactionEvent is
# one when it carried no idToken (then the answer can carry no idTokenInfo to apply).
_NOTHING_TO_ACT_ON = frozenset({"MeterValues", "StatusNotification", "Heartbeat", "SecurityEventNotification",
                                "NotifyEvent", "NotifyReport", "FirmwareStatusNotification",
                                "DiagnosticsStatusNotification", "LogStatusNotification"})


class Station(SessionFlow, EnergyFlow, Operations):
    """One simulated charging station (see the module docstring and ``docs``)."""

    def __init__(self, config: StationConfig, now: float, wall_clock: Callable[[], datetime]) -> None:
        self.config = config
        self.version = config.ocpp_version
        self._wall_clock = wall_clock
        self._now = self._physics_at = now
        self._anchor = (now, wall_clock())
        self._evse_config = {e.id: e for e in config.evses}
        self._ratings = {e.id: EvseRating.from_config(e) for e in config.evses}
        self._flat = config.connector_ids_16()
        self._flat_back = {flat: pair for pair, flat in self._flat.items()}
        self.evses = [EvseState(id=e.id, connectors=[ConnectorState(id=c.id) for c in e.connectors])
                      for e in config.evses]
        topology = tuple((e.id, tuple((c.id, c.type) for c in e.connectors), e.max_power_w, e.phases)
                         for e in config.evses)
        self.settings = DeviceModel(self.version, config.configuration, topology=topology, live=self._live,
                                    station_power_w=config.station_max_power_w or sum(e.max_power_w
                                                                                      for e in config.evses))
        self.store = self._new_store()
        self.queue = CallQueue()
        self.local_list: dict[str, TokenInfo] = {}
        self.local_list_version = 0
        self.auth_cache: dict[str, TokenInfo] = {}
        self.operative = True
        self.connected = False
        self.registration: str | None = None  # None until a BootNotification of this power cycle is answered
        self.boot_reason = "PowerUp"
        self.boot_in_flight = False
        self.boot_retry_at: float | None = None
        self.last_call_at: float | None = None
        self.offline_since_at: float | None = now
        self.aligned_from_at = now
        self.jobs: list[Job] = []
        self.switches = {name: False for name in SWITCHES}
        self.firmware_version = config.firmware_version
        self.reset_when_idle = False
        self._power_cut = False  # events while the power is cut happened offline
        if self.version == "1.6":
            from .dialect_v16 import Dialect16 as dialect
        else:
            from .dialect_v201 import Dialect201 as dialect
        self.dialect = dialect(self)

    def _new_store(self) -> ChargingProfileStore:
        def supply(cfg: EvseConfig) -> ElectricalSupply:
            rating = self._ratings[cfg.id]
            if rating.dc:  # limits in W are what matter on DC; A limits convert at the rated voltage
                return ElectricalSupply(max_current=rating.max_power_w / rating.voltage_v, phases=1,
                                        voltage=rating.voltage_v)
            return ElectricalSupply(max_current=min(rating.max_current_a, rating.max_power_w /
                                                    (rating.voltage_v * rating.phases)),
                                    phases=rating.phases, voltage=rating.voltage_v)

        if self.version == "1.6":
            supplies = {flat: supply(self._evse_config[evse_id]) for (evse_id, _), flat in self._flat.items()}
        else:
            supplies = {cfg.id: supply(cfg) for cfg in self.config.evses}
        station = None
        if self.config.station_max_power_w:
            first = supply(self.config.evses[0])
            station = ElectricalSupply(
                max_current=self.config.station_max_power_w / (first.voltage * first.phases),
                phases=first.phases, voltage=first.voltage)
        return ChargingProfileStore(supplies, station=station, ocpp_version=self.version)

    # ------------------------------------------------------------------------------------------ time

    def _enter(self, now: float) -> None:
        """Take the time of an entry point: anchor the wall clock and bring physics up to ``now``."""
        self.tick(now)  # timers due by now fire first, each at its own time

    def _wall_at(self, t: float) -> datetime:
        anchor_now, anchor_wall = self._anchor
        return anchor_wall + timedelta(seconds=t - anchor_now)

    def _mono_at(self, wall: datetime) -> float:
        anchor_now, anchor_wall = self._anchor
        if wall.tzinfo is None and anchor_wall.tzinfo is not None:
            wall = wall.replace(tzinfo=anchor_wall.tzinfo)
        return anchor_now + (wall - anchor_wall).total_seconds()

    def _iso_now(self) -> str:
        return self._wall_at(self._now).isoformat()

    def wall_now(self) -> datetime:
        return self._wall_at(self._now)

    # ---------------------------------------------------------------------------- connection life-cycle

    def on_connected(self, now: float) -> None:
        """Start talking: BootNotification after a (re)boot, else re-announce the true statuses."""
        self._enter(now)
        self.connected = True
        offline_for = math.inf if self.offline_since_at is None else now - self.offline_since_at
        self.offline_since_at = None
        if self.registration != "Accepted" or self.switches["duplicate_boot"]:
            if self.boot_retry_at is None or self.boot_retry_at <= now or self.registration != "Rejected":
                self._send_boot()
            return
        # 1.6: a reconnect is not a reboot (OCPP-J 1.6 §5); 2.0.1 B04: statuses after OfflineThreshold.
        force = self.version == "1.6" or offline_for > self.settings.integer("offline_threshold")
        self.dialect.announce(force=force)

    def on_disconnected(self, now: float) -> None:
        self._enter(now)
        self.connected = False
        self.offline_since_at = now
        self.boot_in_flight = False
        self.queue.connection_lost()

    def _send_boot(self) -> None:
        self.boot_retry_at = None
        self.boot_in_flight = True
        self.dialect.boot_notification()

    def boot_result(self, status: str, interval: int) -> None:
        """Apply the BootNotification answer (1.6 §4.2, 2.0.1 B01-B03)."""
        self.boot_in_flight = False
        if status == "Accepted":
            self.registration = "Accepted"
            if interval > 0:
                self.settings.set_role("heartbeat_interval", str(interval))
            self.last_call_at = self._now
            for job in [j for j in self.jobs if j.kind == "firmware" and j.step == "Installed"]:
                self.jobs.remove(job)
                self.dialect.firmware_status("Installed", job.request_id)
            self.dialect.after_boot()
            self.dialect.announce(force=True)
            self._sync()
            return
        self.registration = status
        self.boot_retry_at = self._now + (interval if interval > 0 else BOOT_RETRY_S)

    def boot_failed(self) -> None:
        self.boot_in_flight = False
        if self.registration != "Accepted":
            self.boot_retry_at = self._now + BOOT_RETRY_S

    # ------------------------------------------------------------------------------------ OCPP traffic

    def handle_call(self, action: str, request: msgspec.Struct, now: float) -> msgspec.Struct | CallErrorReply:
        """Answer a CSMS CALL (decoded already)."""
        self._enter(now)
        if self.registration == "Rejected":
            # 1.6 §4.2.1 / 2.0.1 B03: a rejected station does not respond to the CSMS.
            return CallErrorReply("GenericError", "this station's BootNotification was rejected; it answers "
                                                  "nothing until a BootNotification is accepted")
        return self.dialect.handle(action, request)

    def handle_result(self, action: str, request: msgspec.Struct, response: msgspec.Struct, now: float) -> None:
        if action in _NOTHING_TO_ACT_ON or (action == "TransactionEvent" and request.id_token is None):
            # Neither dialect acts on these answers (a meter value's, a status's): physics and timers need not
            # be brought up to the instant of the answer, the fleet's beat does that, each timer at its own time.
            # A thousand answers a second each integrating a few milliseconds of physics were a tenth of the
            # simulator's CPU. The clock stays where physics is (``_now`` is never ahead of ``_physics_at``, which
            # timers and snapshots count on).
            self.queue.answered(request)
            return
        self._enter(now)
        call = self.queue.answered(request)
        self.dialect.on_result(action, request, response, call)

    def handle_failure(self, action: str, request: msgspec.Struct, reason: str, now: float) -> None:
        """A CALL of ours got a CALLERROR or no answer; transaction messages are retried (see call_queue)."""
        self._enter(now)
        counts = self.connected and not _connection_lost(reason)
        call, retried = self.queue.failed(request, counts=counts, now=now,
                                          attempts=self.settings.integer("message_attempts"),
                                          interval=self.settings.integer("message_attempt_interval"))
        self.dialect.on_failure(action, request, call, retried)

    def take_calls(self) -> list[tuple[str, msgspec.Struct]]:
        """Return the CALLs to send now, in order."""
        calls = self.queue.release(connected=self.connected, registration=self.registration, now=self._now,
                                   finalize=self.dialect.finalize)
        if calls:
            self.last_call_at = self._now
        return calls

    # ------------------------------------------------------------------------------------------ timers

    def tick(self, now: float) -> None:
        """Advance physics and fire every timer due by ``now``, each at its own time."""
        if now < self._now:
            now = self._now
        self._anchor = (now, self._wall_clock())
        for _ in range(_MAX_TIMERS_PER_TICK):
            due = self._next_timer()
            if due is None or due > now:
                break
            due = max(due, self._now)
            self._integrate(due)
            self._now = due
            self._fire(due)
        self._integrate(now)
        self._now = now

    def next_wakeup(self) -> float | None:
        """The earliest time ``tick`` has something to do."""
        times = [self._next_timer(), self.queue.next_retry()]
        if self._charging_anything():
            times.append(self._physics_at + PHYSICS_STEP_S)
        found = [t for t in times if t is not None]
        return min(found) if found else None

    def _heartbeat_due(self) -> float | None:
        interval = self.settings.integer("heartbeat_interval")
        if not self._online() or interval <= 0:
            return None
        return (self.last_call_at if self.last_call_at is not None else self._now) + interval

    def _aligned_due(self) -> float | None:
        interval = self.settings.integer("aligned_interval")
        if interval <= 0 or not self.settings.boolean("aligned_enabled"):
            return None
        if not any(e.tx is not None for e in self.evses) and not self.settings.boolean("aligned_during_idle"):
            self.aligned_from_at = self._now  # nothing to report: the next boundary counts from now
            return None
        after = self._wall_at(self.aligned_from_at)
        epoch = after.timestamp()
        boundary = (math.floor(epoch / interval) + 1) * interval
        return self.aligned_from_at + (boundary - epoch)

    def websocket_ping_interval(self) -> float | None:
        """Seconds between the station's WebSocket pings (WebSocketPingInterval; 0: none), read at each connect."""
        seconds = self.settings.integer("websocket_ping_interval")
        return float(seconds) if seconds > 0 else None

    def _sample_interval(self) -> int:
        if not self.settings.boolean("sampling_enabled"):
            return 0
        return self.settings.integer("sample_interval")

    def _next_timer(self) -> float | None:
        times = [self._heartbeat_due(), self._aligned_due(), self.boot_retry_at if self.connected else None]
        interval = self._sample_interval()
        for evse in self.evses:
            if evse.tx is not None and interval > 0:
                times.append(evse.tx.last_sample_at + interval)
            if evse.auth is not None and evse.auth.plug_deadline_at is not None:
                times.append(evse.auth.plug_deadline_at)
            if evse.reservation is not None:
                times.append(evse.reservation.expires_at)
        times.extend(j.due_at for j in self.jobs if j.step != "Installed")
        found = [t for t in times if t is not None]
        return min(found) if found else None

    def _fire(self, t: float) -> None:
        due = self._heartbeat_due()
        if due is not None and due <= t:
            self.last_call_at = t
            self.dialect.heartbeat()
        if self.boot_retry_at is not None and self.boot_retry_at <= t and self.connected:
            self._send_boot()
        interval = self._sample_interval()
        for evse in self.evses:
            tx = evse.tx
            if tx is not None and interval > 0 and tx.last_sample_at + interval <= t:
                tx.last_sample_at = t
                self._tx_event("Updated", evse, tx, "MeterValuePeriodic",
                               readings=self._read(evse, "sampled_measurands"), context="Sample.Periodic")
            auth = evse.auth
            if auth is not None and auth.plug_deadline_at is not None and auth.plug_deadline_at <= t:
                auth.plug_deadline_at = None
                if evse.tx is not None:  # 2.0.1 E03: started at Authorized, the EV never came
                    self._end_tx(evse, "Timeout", "EVConnectTimeout")
                else:
                    evse.auth = None
                    self._sync()
            if evse.reservation is not None and evse.reservation.expires_at <= t:
                self._drop_reservation(evse, "Expired")
                self._sync()
        due = self._aligned_due()
        if due is not None and due <= t:
            self.aligned_from_at = due
            for evse in self.evses:
                if evse.tx is not None:
                    self._tx_event("Updated", evse, evse.tx, "MeterValueClock",
                                   readings=self._read(evse, "aligned_measurands"), context="Sample.Clock")
                elif self.settings.boolean("aligned_during_idle"):
                    self.dialect.meter_values(evse, self._read(evse, "aligned_measurands"), "Sample.Clock")
        for job in [j for j in self.jobs if j.due_at <= t and j.step != "Installed"]:
            self.jobs.remove(job)
            self._run_job(job)

    # ------------------------------------------------------------------------- user and operator actions

    def plug_in(self, evse_id: int, connector_id: int, ev: EvProfile | None, now: float) -> dict[str, Any]:
        """The driver plugs an EV (``None``: the configured default EV) into a connector."""
        self._enter(now)
        try:
            evse = self._evse(evse_id)
            evse.connector(connector_id)
        except (LookupError, KeyError):
            return {"ok": False, "error": f"EVSE {evse_id} has no connector {connector_id}"}
        return self._plug(evse, connector_id, ev)

    def unplug(self, evse_id: int, connector_id: int, now: float) -> dict[str, Any]:
        self._enter(now)
        try:
            evse = self._evse(evse_id)
        except LookupError as exc:
            return {"ok": False, "error": str(exc)}
        return self._unplug(evse, connector_id)

    def swipe_card(self, id_token: str, evse_id: int | None, now: float, *,
                   token_type: str = "ISO14443") -> dict[str, Any]:
        """Present a card: start a session (Authorize unless the local list/cache says so) or stop one."""
        self._enter(now)
        limit = 20 if self.version == "1.6" else 36
        if not 0 < len(id_token) <= limit:
            return {"result": "rejected", "reason": f"an id token has 1-{limit} characters in OCPP {self.version}"}
        try:
            return self._swipe(IdToken(id=id_token, type=token_type), evse_id)
        except LookupError as exc:
            return {"result": "rejected", "reason": str(exc)}

    def start_local(self, evse_id: int, id_token: str | None, now: float, *, connector_id: int = 1,
                    ev: EvProfile | None = None) -> dict[str, Any]:
        """A driver arrives: plug the EV in (if it is not yet) and present ``id_token`` (if given)."""
        self._enter(now)
        result: dict[str, Any] = {"ok": True}
        try:
            evse = self._evse(evse_id)
        except LookupError as exc:
            return {"ok": False, "error": str(exc)}
        if evse.plugged is None:
            result["plug"] = self.plug_in(evse_id, connector_id, ev, now)
            result["ok"] = result["plug"]["ok"]
        if id_token is not None and result["ok"] and not (evse.tx is not None and evse.tx.authorized):
            result["card"] = self.swipe_card(id_token, evse_id, now)
            result["ok"] = result["card"]["result"] != "rejected"
        result["transaction_id"] = evse.tx.id if evse.tx else None
        return result

    def stop_local(self, evse_id: int, now: float, *, reason: str = "Local") -> dict[str, Any]:
        """Stop the transaction at the station (stop button, or an operator with ``reason`` e.g. EmergencyStop)."""
        self._enter(now)
        try:
            evse = self._evse(evse_id)
        except LookupError as exc:
            return {"ok": False, "error": str(exc)}
        if evse.tx is None:
            return {"ok": False, "error": f"EVSE {evse_id} has no transaction"}
        tx_id = evse.tx.id
        trigger = "StopAuthorized" if reason == "Local" else "AbnormalCondition"
        self._deauthorize(evse, reason, trigger)
        return {"ok": True, "evse_id": evse_id, "transaction_id": tx_id}

    def power_loss(self, now: float) -> dict[str, Any]:
        """Cut the power: the station reboots; transactions end with PowerLoss, reported after the next boot."""
        self._enter(now)
        ended = [e.tx.id for e in self.evses if e.tx is not None]
        self._power_cut = True
        try:
            self._reboot("PowerUp", "PowerLoss", "AbnormalCondition")
        finally:
            self._power_cut = False
        return {"ok": True, "ended_transactions": ended, "reconnect": True}

    # ----------------------------------------------------------------------------------------- state

    def _announce(self) -> None:
        self.dialect.announce()

    def _live(self, key: object) -> str | None:
        """Values of live device-model variables and 1.6 keys."""
        if isinstance(key, str):
            return str(len(self._flat)) if key == "NumberOfConnectors" else None
        assert isinstance(key, VariableKey)
        name, variable = key.component, key.variable
        if name == "ClockCtrlr":
            return self._iso_now()
        if name == "SecurityCtrlr":
            return self.config.identity
        if name == "LocalAuthListCtrlr":
            return str(len(self.local_list))
        if name == "SmartChargingCtrlr":
            return str(len(self.store.profiles()))
        if name == "ChargingStation":
            faults = any(c.fault for e in self.evses for c in e.connectors)
            return {"AvailabilityState": "Available" if self.operative else "Unavailable",
                    "Available": str(self.operative).lower(), "Problem": str(faults).lower(),
                    "Model": self.config.model, "VendorName": self.config.vendor,
                    "Power": f"{sum(e.power_w for e in self.evses):.1f}"}.get(variable)
        evse = self.evses[key.evse - 1]
        if name == "EVSE":
            statuses = {self.dialect.connector_status(evse, c) for c in evse.connectors}
            state = next((s for s in ("Occupied", "Reserved", "Available", "Unavailable", "Faulted") if s in statuses))
            return {"AvailabilityState": state, "Available": str(self._operative(evse)).lower(),
                    "Problem": str(any(c.fault for c in evse.connectors)).lower(),
                    "Power": f"{evse.power_w:.1f}"}.get(variable)
        connector = evse.connector(key.connector)
        return {"AvailabilityState": self.dialect.connector_status(evse, connector),
                "Available": str(self._operative(evse, connector.id)).lower(),
                "Problem": str(connector.fault is not None).lower()}.get(variable)

    @property
    def basic_auth_password(self) -> str | None:
        """The HTTP Basic password the CSMS set (2.0.1 SecurityCtrlr.BasicAuthPassword, 1.6 AuthorizationKey).

        None until the CSMS sets one; the transport uses it from the next connection on.
        """
        key = "AuthorizationKey" if self.version == "1.6" else VariableKey("SecurityCtrlr", "BasicAuthPassword")
        return self.settings.value(key) or None

    @property
    def _vendor_current_limit(self) -> float | None:
        raw = self.settings.value("MaxAvailableCurrent") if self.version == "1.6" else None
        try:
            return float(raw) if raw else None
        except ValueError:
            return None

    def _evse_config_of_key(self, key: int) -> EvseConfig:
        evse_id = self._flat_back[key][0] if self.version == "1.6" else key
        return self._evse_config[evse_id]

    def _store_tx_id(self, tx: Any) -> str:
        return str(tx.csms_id) if self.version == "1.6" else tx.id

    def bind_csms_id(self, tx_id: str, csms_id: int) -> None:
        """1.6: the CSMS assigned ``csms_id`` to our transaction; TxProfiles can now refer to it."""
        evse = self.find_transaction(tx_id=tx_id)
        if evse is not None and evse.tx is not None:
            evse.tx.csms_id = csms_id
            self._bind_profiles(evse, str(csms_id))
            self._sync()

    def snapshot(self) -> dict[str, Any]:
        """Return the station's state as small JSON-able data (see ``restore``)."""
        evses = []
        for evse in self.evses:
            data = msgspec.to_builtins(evse)
            data["ev"] = None if evse.ev is None else msgspec.to_builtins(evse.ev)
            evses.append(data)
        state = {
            "snapshot_version": SNAPSHOT_VERSION, "ocpp_version": self.version, "identity": self.config.identity,
            "registration": self.registration, "boot_reason": self.boot_reason, "boot_retry_at": self.boot_retry_at,
            "firmware_version": self.firmware_version, "settings": self.settings.changed(),
            "operative": self.operative, "switches": dict(self.switches), "reset_when_idle": self.reset_when_idle,
            "local_list_version": self.local_list_version,
            "local_list": {k: msgspec.to_builtins(v) for k, v in self.local_list.items()},
            "auth_cache": {k: msgspec.to_builtins(v) for k, v in self.auth_cache.items()},
            "evses": evses, "profiles": [msgspec.to_builtins(p) for p in self.store.profiles()],
            "queue": self.queue.snapshot(), "jobs": [msgspec.to_builtins(j) for j in self.jobs],
            "last_call_at": self.last_call_at, "aligned_from_at": self.aligned_from_at,
            "dialect": self.dialect.snapshot(),
            # Wall time of the snapshot (a string, so to_relative leaves it): restore charges over the gap.
            "saved_wall": self.wall_now().isoformat(),
        }
        return to_relative(state, self._now)

    @classmethod
    def restore(cls, config: StationConfig, snapshot: dict[str, Any], now: float,
                wall_clock: Callable[[], datetime]) -> Station:
        """Rebuild a station from ``snapshot()`` output: transactions resume, registers and settings stay.

        The station is physically independent of the process that simulates it: the time between the snapshot
        and now (a restart, or a crash since the last save) was charging time, offline. Physics is integrated
        over that gap, so the meter register is at least every value the station sent before, even when the
        snapshot is a few seconds older than the last message. Timers due in the gap fire once, at the next tick.
        """
        if snapshot.get("snapshot_version") != SNAPSHOT_VERSION or snapshot.get("ocpp_version") != config.ocpp_version:
            raise ValueError("the snapshot is from another snapshot format or OCPP version; start the station fresh")
        gap = 0.0
        if isinstance(snapshot.get("saved_wall"), str):
            saved = datetime.fromisoformat(snapshot["saved_wall"])
            gap = max(0.0, (wall_clock() - saved).total_seconds())
        then = now - gap
        station = cls(config, then, wall_clock)
        station._anchor = (then, wall_clock() - timedelta(seconds=gap))
        data = to_absolute(snapshot, then)
        station.registration, station.boot_reason = data["registration"], data["boot_reason"]
        station.boot_retry_at, station.firmware_version = data["boot_retry_at"], data["firmware_version"]
        station.settings.restore(data["settings"])
        station.operative, station.reset_when_idle = data["operative"], data["reset_when_idle"]
        station.switches.update(data["switches"])
        station.local_list_version = data["local_list_version"]
        station.local_list = {k: msgspec.convert(v, TokenInfo) for k, v in data["local_list"].items()}
        station.auth_cache = {k: msgspec.convert(v, TokenInfo) for k, v in data["auth_cache"].items()}
        station.evses = []
        for raw in data["evses"]:
            ev = raw.pop("ev")
            evse = msgspec.convert(raw, EvseState)
            evse.ev = None if ev is None else msgspec.convert(ev, Ev)
            station.evses.append(evse)
        for evse in station.evses:
            tx = evse.tx
            if tx is not None and tx.bound:
                tx.bound = False
                station._bind_profiles(evse, station._store_tx_id(tx))
        for raw in data["profiles"]:
            station.store.install(msgspec.convert(raw, ChargingProfile), from_csms=False)
        station.queue.restore(data["queue"], ACTIONS_16 if config.ocpp_version == "1.6" else ACTIONS_201)
        station.jobs = [msgspec.convert(j, Job) for j in data["jobs"]]
        station.last_call_at, station.aligned_from_at = data["last_call_at"], data["aligned_from_at"]
        station.dialect.restore(data["dialect"])
        station._allocate()
        if gap:
            station._integrate(now)
            station._now = now
        return station

    def view(self) -> dict[str, Any]:
        """What the management API shows: boot status, connectors, transactions, power, energy, SoC."""
        evses = []
        for evse in self.evses:
            tx = evse.tx
            register = evse.connector(evse.plugged or (tx and tx.connector_id) or 1).register_wh
            evses.append({
                "evse_id": evse.id, "operative": self._operative(evse), "power_w": round(evse.power_w, 1),
                "offered_w": round(evse.offered_w, 1), "state": evse.state, "plugged_connector": evse.plugged,
                "soc": None if evse.ev is None else round(evse.ev.soc, 1),
                "reservation": None if evse.reservation is None else {"id": evse.reservation.id,
                                                                       "token": evse.reservation.token},
                "transaction": None if tx is None else {
                    "id": tx.id, "csms_id": tx.csms_id, "id_token": tx.token.id if tx.token else None,
                    "started": tx.started_time, "energy_wh": round(register - tx.meter_start, 1),
                    "charging_state": self._charging_state(evse), "authorized": tx.authorized},
                "connectors": [{"connector_id": c.id, "status": self.dialect.connector_status(evse, c),
                                "error_code": c.fault, "register_wh": round(c.register_wh, 1),
                                "operative": c.operative} for c in evse.connectors],
            })
        return {"identity": self.config.identity, "ocpp_version": self.version, "connected": self.connected,
                "boot_status": self.registration, "firmware_version": self.firmware_version,
                "queued_transaction_messages": self.queue.transaction_messages(),
                "switches": dict(self.switches), "evses": evses}
