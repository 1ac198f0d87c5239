"""Operate a station: availability, reservations, unlocking, faults, resets, firmware and log uploads.

A mixin of ``Station``, version-neutral; the dialects translate requests into these calls and the outcomes
into their own status values. Firmware updates and uploads are simulated on a timeline of ``Job`` steps
(1.6 §5.6/§5.19, 2.0.1 L01/N01): a location containing "fail" makes the download or upload fail, so CSMS
teams can test both outcomes.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from ..ocpp.v16.enums import ChargePointErrorCode
from ..ocpp.v201.datatypes import ComponentType, VariableType
from .charging_profiles import (
    ChargingProfile,
    ChargingProfileError,
    ChargingRateUnit,
    InstallResult,
    profile_from_ocpp201,
)
from .device_model import SettingError
from .station_state import EvseState, Job, Reservation, TokenInfo

if TYPE_CHECKING:  # pragma: no cover
    from .station import Station

__all__ = ["Operations", "FAULT_CODES"]

FAULT_CODES = tuple(code.value for code in ChargePointErrorCode if code.value != "NoError")
_DOWNLOAD_S, _INSTALL_S, _REBOOT_S, _UPLOAD_S, _BUSY_RETRY_S = 5.0, 3.0, 2.0, 3.0, 10.0
_VERSION = re.compile(r"(\d+(?:\.\d+)+[\w.+-]*?)(?:\.(?:bin|img|zip|tar|gz|fw))*$")


class Operations:
    """Operator and CSMS actions on the whole station (mixed into ``Station``)."""

    # -- availability (1.6 §5.2, 2.0.1 G03/G04) --

    def change_availability(self: Station, evse_id: int | None, connector_id: int | None, operative: bool) -> str:
        """Return Accepted, Scheduled (a transaction runs: it applies when it ends) or Rejected."""
        try:
            evses = self.evses if not evse_id else [self._evse(evse_id)]
            if connector_id is not None:
                evses[0].connector(connector_id)
        except (LookupError, KeyError):
            return "Rejected"
        if not evse_id:
            self.operative = operative
        elif connector_id is None:
            evses[0].operative = operative
        else:
            evses[0].connector(connector_id).operative = operative
        for evse in evses:
            if not operative and evse.reservation is not None:
                self._drop_reservation(evse, "Removed")
        self._sync()
        busy = any(e.tx is not None for e in evses)
        return "Scheduled" if busy and not operative else "Accepted"

    # -- reservations (1.6 §5.13/§5.1, 2.0.1 H01/H02) --

    def reserve(self: Station, reservation: Reservation, evse_id: int | None) -> str:
        """Return Accepted, Faulted, Occupied, Unavailable or Rejected."""
        if not self.settings.boolean("reservations_enabled"):
            return "Rejected"
        self.cancel_reservation(reservation.id, report=False)
        if not evse_id:
            candidates = [e for e in self.evses if self._reservable(e, reservation) == "Accepted"]
            if not candidates:
                return "Occupied" if any(self._usable(e) for e in self.evses) else "Unavailable"
            evse = candidates[0]
        else:
            try:
                evse = self._evse(evse_id)
            except LookupError:
                return "Rejected"
            verdict = self._reservable(evse, reservation)
            if verdict != "Accepted":
                return verdict
        evse.reservation = reservation
        self._sync()
        return "Accepted"

    def _reservable(self: Station, evse: EvseState, res: Reservation) -> str:
        connectors = [c for c in evse.connectors if res.connector_id in (None, c.id)]
        if res.connector_type is not None:
            types = {c.id: c.type for c in self._evse_config[evse.id].connectors}
            connectors = [c for c in connectors if types[c.id] == res.connector_type]
            if not connectors:
                return "Rejected"
        if all(c.fault is not None for c in connectors):
            return "Faulted"
        if not self._operative(evse, res.connector_id):
            return "Unavailable"
        if evse.tx is not None or evse.auth is not None or evse.plugged is not None or evse.reservation is not None:
            return "Occupied"
        return "Accepted"

    def cancel_reservation(self: Station, reservation_id: int, *, report: bool = True) -> bool:
        for evse in self.evses:
            if evse.reservation is not None and evse.reservation.id == reservation_id:
                evse.reservation = None
                if report:
                    self._sync()
                return True
        return False

    def _drop_reservation(self: Station, evse: EvseState, why: str) -> None:
        """Remove a reservation the station cannot keep (Expired, or Removed: faulted/unavailable)."""
        res, evse.reservation = evse.reservation, None
        if res is not None:
            self.dialect.reservation_ended(res, why)

    # -- unlock (1.6 §5.18, 2.0.1 F05) --

    def unlock(self: Station, evse_id: int, connector_id: int) -> str:
        """Return Unlocked, UnlockFailed, OngoingAuthorizedTransaction or UnknownConnector."""
        try:
            evse = self._evse(evse_id)
            connector = evse.connector(connector_id)
        except (LookupError, KeyError):
            return "UnknownConnector"
        if self.switches.get("lock_failure"):
            self.dialect.lock_failure(evse, connector)
            return "UnlockFailed"
        tx = evse.tx
        if tx is not None and tx.connector_id in (None, connector_id):
            if self.version != "1.6" and tx.authorized:
                return "OngoingAuthorizedTransaction"  # 2.0.1 F05.FR.02; 1.6 stops it (reason UnlockCommand)
            self._end_tx(evse, "UnlockCommand" if self.version == "1.6" else "Other", "UnlockCommand")
        return "Unlocked"

    # -- faults --

    def inject_fault(self: Station, evse_id: int, connector_id: int, error_code: str, now: float, *,
                     info: str | None = None) -> dict[str, Any]:
        """Put a connector in fault with a 1.6 ChargePointErrorCode (2.0.1 reports it as the techCode)."""
        self._enter(now)
        if error_code not in FAULT_CODES:
            return {"ok": False, "error": f"unknown error code {error_code!r}; use one of {', '.join(FAULT_CODES)}"}
        found = self._connector_of(evse_id, connector_id)
        if isinstance(found, dict):
            return found
        evse, connector = found
        connector.fault, connector.fault_info = error_code, info
        if evse.reservation is not None and not self._usable(evse):
            self._drop_reservation(evse, "Removed")
        self.dialect.fault(evse, connector, raised=True)
        self._sync()
        return {"ok": True, "evse_id": evse_id, "connector_id": connector_id, "error_code": error_code}

    def clear_fault(self: Station, evse_id: int, connector_id: int, now: float) -> dict[str, Any]:
        self._enter(now)
        found = self._connector_of(evse_id, connector_id)
        if isinstance(found, dict):
            return found
        evse, connector = found
        if connector.fault is None:
            return {"ok": False, "error": f"EVSE {evse_id} connector {connector_id} has no fault"}
        self.dialect.fault(evse, connector, raised=False)
        connector.fault = connector.fault_info = None
        self._sync()
        return {"ok": True, "evse_id": evse_id, "connector_id": connector_id}

    def _connector_of(self: Station, evse_id: int, connector_id: int) -> tuple[EvseState, Any] | dict[str, Any]:
        try:
            evse = self._evse(evse_id)
            return evse, evse.connector(connector_id)
        except (LookupError, KeyError):
            return {"ok": False, "error": f"EVSE {evse_id} has no connector {connector_id}"}

    def set_switch(self: Station, name: str, on: bool, now: float) -> dict[str, Any]:
        """Flip a misbehaviour switch: ``lock_failure`` (UnlockConnector fails), ``duplicate_boot``
        (BootNotification on every reconnect, as many real stations do)."""
        self._enter(now)
        if name not in self.switches:
            return {"ok": False, "error": f"unknown switch {name!r}; use one of {', '.join(self.switches)}"}
        self.switches[name] = bool(on)
        return {"ok": True, "switches": dict(self.switches)}

    # -- resets and reboots (1.6 §5.14, 2.0.1 B11/B12) --

    def reset(self: Station, kind: str, evse_id: int | None = None, *, boot_reason: str = "RemoteReset") -> str:
        """Soft/Immediate: stop transactions now, reboot; Hard: reboot, report after boot; OnIdle: wait.

        ``boot_reason`` is what the next 2.0.1 BootNotification says: RemoteReset for the CSMS's Reset,
        LocalReset for a reset at the station itself.
        """
        if evse_id:
            try:
                evse = self._evse(evse_id)
            except LookupError:
                return "Rejected"
            if evse.tx is not None:
                if kind == "OnIdle":
                    return "Scheduled"
                self._end_tx(evse, "ImmediateReset", "ResetCommand")
            return "Accepted"
        if kind == "OnIdle" and any(e.tx is not None for e in self.evses):
            self.reset_when_idle = True
            return "Scheduled"
        reason = {"Soft": "SoftReset", "Hard": "HardReset", "Immediate": "ImmediateReset"}.get(kind, "Reboot")
        if kind != "Hard":
            for evse in self.evses:
                if evse.tx is not None:
                    self._end_tx(evse, reason, "ResetCommand")
        self._schedule(Job(kind="reboot", step=boot_reason, due_at=self._now + _REBOOT_S, data={"tx": reason}))
        return "Accepted"

    def _when_idle(self: Station) -> None:
        if self.reset_when_idle and all(e.tx is None for e in self.evses):
            self.reset_when_idle = False
            self._schedule(Job(kind="reboot", step="RemoteReset", due_at=self._now + _REBOOT_S,
                               data={"tx": "Reboot"}))

    def _reboot(self: Station, boot_reason: str, tx_reason: str, trigger: str = "ResetCommand") -> None:
        """Restart: running transactions end (reported after the next accepted boot), sessions are lost."""
        for evse in self.evses:
            if evse.tx is not None:
                self._end_tx(evse, tx_reason, trigger)
            evse.auth, evse.reservation, evse.finishing = None, None, False
        self.queue.drop(lambda call: call.kind == "transaction")
        self.registration, self.boot_reason, self.boot_retry_at = None, boot_reason, None
        self.boot_in_flight = False
        self.reset_when_idle = False
        self.jobs = [j for j in self.jobs if j.kind == "firmware" and j.step == "Installed"]
        self.dialect.rebooted()
        if self.connected:
            self.dialect.boot_notification()
            self.boot_in_flight = True
        self._sync()

    # -- firmware and logs (simulated) --

    def _schedule(self: Station, job: Job) -> None:
        self.jobs.append(job)
        self.jobs.sort(key=lambda j: j.due_at)

    def update_firmware(self: Station, location: str, retrieve: datetime, request_id: int | None = None,
                        install: datetime | None = None) -> None:
        self.jobs = [j for j in self.jobs if j.kind != "firmware"]  # a new update replaces one in progress
        start = max(self._now, self._mono_at(retrieve))
        data = {"install": None if install is None else self._mono_at(install) - self._now}
        self._schedule(Job(kind="firmware", step="Downloading", due_at=start, request_id=request_id,
                           location=location, data=data))

    def upload_log(self: Station, kind: str, location: str, request_id: int | None = None) -> str:
        """Start a simulated upload (``kind`` diagnostics or log); return the file name."""
        name = f"{kind}-{self.config.identity}-{self._wall_at(self._now):%Y%m%dT%H%M%SZ}.log"
        self._schedule(Job(kind=kind, step="Uploading", due_at=self._now + 1.0, request_id=request_id,
                           location=location))
        return name

    def _run_job(self: Station, job: Job) -> None:
        failing = "fail" in job.location.lower()
        if job.kind == "reboot":
            self._reboot(job.step, job.data.get("tx", "Reboot"))
            return
        if job.kind in ("log", "diagnostics"):
            self.dialect.log_status(job.kind, job.step, job.request_id)
            if job.step == "Uploading":
                job.step, job.due_at = ("UploadFailed" if failing else "Uploaded"), self._now + _UPLOAD_S
                self._schedule(job)
            return
        self._firmware_step(job, failing)

    def _firmware_step(self: Station, job: Job, failing: bool) -> None:
        step = job.step
        if step == "Installing" and any(e.tx is not None for e in self.evses):
            job.due_at = self._now + _BUSY_RETRY_S  # install once the transactions are over
            self._schedule(job)
            return
        if step != "Installed":
            self.dialect.firmware_status(step, job.request_id)
        following = {"Downloading": ("DownloadFailed" if failing else "Downloaded", _DOWNLOAD_S),
                     "Downloaded": ("Installing", 1.0), "Installing": ("InstallRebooting", _INSTALL_S)}.get(step)
        if step == "Downloaded" and job.data.get("install"):
            following = ("Installing", max(1.0, job.data["install"]))
        if following is not None:
            job.step, job.due_at = following[0], self._now + following[1]
            self._schedule(job)
        elif step == "InstallRebooting":
            match = _VERSION.search(job.location.rstrip("/").rsplit("/", 1)[-1])
            self.firmware_version = (match.group(1) if match else f"{self.firmware_version}+1")[:50]
            job.step, job.due_at = "Installed", self._now
            self._schedule(job)  # reported once the reboot's boot is accepted
            # Reboot a moment later, so that InstallRebooting goes out before the station goes down.
            self._schedule(Job(kind="reboot", step="FirmwareUpdate", due_at=self._now + 1.0,
                               data={"tx": "Reboot"}))

    # -- configuration at the station (an operator's tool, not the CSMS) --

    def configure(self: Station, values: dict[str, str], now: float) -> dict[str, dict[str, str | None]]:
        """Change settings as ChangeConfiguration (1.6 §5.3) or SetVariables (2.0.1 B05) would, by name: 1.6
        keys, or 2.0.1 ``Component.Variable[.Instance]``; return each name's status and what went wrong."""
        self._enter(now)
        results: dict[str, dict[str, str | None]] = {}
        for name, value in values.items():
            why: str | None = None
            if self.version == "1.6":
                status = self.settings.change_configuration(name, value)
            else:
                try:
                    key = self.settings.key_of(name)
                except SettingError as exc:
                    results[name] = {"status": "Rejected", "reason": str(exc)}
                    continue
                status, why = self.settings.set_variable(
                    ComponentType(name=key.component), VariableType(name=key.variable, instance=key.variable_instance),
                    None, value)
            results[name] = {"status": status, "reason": why}
        self._sync()  # a new interval, limit or measurand list applies from now on
        return results

    # -- local authorization list (1.6 §5.15/§5.10, 2.0.1 D01/D02) --

    def send_local_list(self: Station, version: int, full: bool,
                        entries: list[tuple[str, TokenInfo | None]]) -> str:
        """Return Accepted, Failed or VersionMismatch."""
        if len(entries) > max(1, self.settings.integer("send_local_list_max")):
            return "Failed"
        if not full and version <= self.local_list_version:
            return "VersionMismatch"
        updated = {} if full else dict(self.local_list)
        for token, info in entries:
            if info is None:
                updated.pop(token, None)
            else:
                updated[token] = info
        if len(updated) > self.settings.integer("local_list_max"):
            return "Failed"
        self.local_list, self.local_list_version = updated, version
        for token in updated:
            self.auth_cache.pop(token, None)
        return "Accepted"

    # -- smart charging (1.6 §5.16/§5.5/§5.7, 2.0.1 K01/K10/K08) --

    def set_charging_profile(self: Station, profile: ChargingProfile) -> InstallResult:
        """Install a profile after the station's own limits (stack level, periods, units, count)."""
        s = self.settings
        problem = None
        if profile.stack_level > s.integer("max_stack_level"):
            problem = f"stackLevel {profile.stack_level} is above the maximum {s.integer('max_stack_level')}"
        elif any(len(x.periods) > s.integer("max_periods") for x in profile.schedules):
            problem = f"more than {s.integer('max_periods')} chargingSchedulePeriods"
        elif not self._rate_unit_allowed(profile.schedules[0].charging_rate_unit):
            problem = f"chargingRateUnit {profile.schedules[0].charging_rate_unit} is not supported here"
        elif len(self.store.profiles()) >= s.integer("max_profiles") and not any(
                p.id == profile.id for p in self.store.profiles()):
            problem = f"already {s.integer('max_profiles')} profiles installed; clear some first"
        if problem:
            return InstallResult(accepted=False, reason_code="InvalidValue", additional_info=problem)
        result = self.store.install(profile)
        self._sync()  # the new limit applies from now on
        return result

    def _rate_unit_allowed(self: Station, unit: ChargingRateUnit) -> bool:
        allowed = self.settings.members("rate_units")
        return str(unit) in allowed or {"A": "Current", "W": "Power"}[str(unit)] in allowed

    def clear_charging_profiles(self: Station, **criteria: Any) -> bool:
        cleared = self.store.clear(**criteria)
        self._sync()
        return cleared

    def composite_schedule(self: Station, key: int, duration: int, unit: str | None) -> Any:
        """Return the CompositeSchedule of a store key (1.6 connectorId / 2.0.1 evseId), or None if unknown."""
        if unit is None:
            dc = key and self._evse_config_of_key(key).dc
            unit = "W" if (key == 0 or dc) else "A"
        try:
            return self.store.composite_schedule(key, self._wall_at(self._now), duration, ChargingRateUnit(unit))
        except (ValueError, ChargingProfileError):
            return None

    def _install_remote_profile(self: Station, evse: EvseState) -> None:
        """Install the TxProfile that came with a remote start, once the transaction id is known."""
        auth, tx = evse.auth, evse.tx
        if auth is None or auth.profile is None or tx is None or not tx.bound:
            return
        try:
            profile = profile_from_ocpp201(auth.profile, evse_id=self._profile_key(evse))
        except ChargingProfileError:
            return
        self.store.install(msgspec.structs.replace(profile, transaction_id=self._store_tx_id(tx)))
        auth.profile = None

    def _bind_profiles(self: Station, evse: EvseState, store_tx_id: str) -> None:
        tx = evse.tx
        if tx is None or tx.bound:
            return
        key = self._profile_key(evse, tx.connector_id)
        started = datetime.fromisoformat(tx.started_time)
        charging = None if tx.charging_started_time is None else datetime.fromisoformat(tx.charging_started_time)
        self.store.start_transaction(key, store_tx_id, started, charging_started_at=charging)
        tx.bound = True
        self._install_remote_profile(evse)
