"""Speak OCPP 1.6J for a ``Station``: its CALLs from core events, its answers to the Central System.

Mirrors ``dialect_v201``. Covers every CS-initiated message of the Core, FirmwareManagement,
LocalAuthListManagement, Reservation, SmartCharging and RemoteTrigger profiles (1.6 §5), plus GetLog and
ExtendedTriggerMessage of the security whitepaper; certificate messages are answered NotSupported.
Connector statuses are 1.6's nine (§4.9, derived from the core state); the CSMS's integer transactionId is
patched into MeterValues/StopTransaction when they go out (they wait in line behind StartTransaction).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from ..ocpp.rpc import CallErrorReply
from ..ocpp.v16 import messages as m
from ..ocpp.v16.datatypes import IdTagInfo, MeterValue, SampledValue
from .call_queue import BOOT, NORMAL, REQUESTED, TRANSACTION, QueuedCall
from .charging_profiles import (
    ChargingProfileError,
    clear_criteria_from_ocpp16,
    profile_from_ocpp16,
    profile_to_ocpp201,
)
from .metering import Reading
from .station_state import ConnectorState, EvseState, IdToken, Reservation, TokenInfo, Transaction

if TYPE_CHECKING:  # pragma: no cover
    from .station import Station

__all__ = ["Dialect16"]

_REASONS = {"Local", "Remote", "EVDisconnected", "DeAuthorized", "PowerLoss", "SoftReset", "HardReset", "Reboot",
            "UnlockCommand", "EmergencyStop", "Other"}
_UNITS = {"Wh", "W", "A", "V", "Percent", "Celsius"}
_UPLOAD = {"Uploading": "Uploading", "Uploaded": "Uploaded", "UploadFailed": "UploadFailure"}
_FIRMWARE = {"Downloading", "Downloaded", "DownloadFailed", "Installing", "Installed", "InstallationFailed"}
OUR_VENDOR_ID = "ocpi-sandbox"


def _number(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _info(data: IdTagInfo | None) -> TokenInfo | None:
    if data is None:
        return None
    return TokenInfo(status=str(data.status), group=data.parent_id_tag,
                     expiry_time=None if data.expiry_date is None else data.expiry_date.isoformat())


class Dialect16:
    """OCPP 1.6 messages for one station."""

    def __init__(self, station: Station) -> None:
        self.s = station
        self.sent: dict[int, tuple[str, str]] = {}  # connectorId -> (status, errorCode) last reported
        self.csms_ids: dict[str, int] = {}  # our transaction id -> the Central System's transactionId
        self.firmware = "Idle"
        self.diagnostics = "Idle"
        self.log = ("Idle", None)

    # ------------------------------------------------------------------------------------- outgoing

    def _add(self, action: str, payload: msgspec.Struct, kind: str = NORMAL, tx: str | None = None) -> None:
        if kind == NORMAL and not self.s._online():
            return  # not queued offline: the true state is re-announced after reconnecting
        self.s.queue.add(action, payload, kind, tx)

    def boot_notification(self) -> None:
        c = self.s.config
        self.s.queue.add("BootNotification", m.BootNotificationRequest(
            charge_point_vendor=c.vendor, charge_point_model=c.model, charge_point_serial_number=c.serial_number,
            firmware_version=self.s.firmware_version), BOOT)

    def after_boot(self) -> None:
        pass

    def heartbeat(self, kind: str = NORMAL) -> None:
        self._add("Heartbeat", m.HeartbeatRequest(), kind)

    def authorize(self, token: IdToken) -> None:
        self._add("Authorize", m.AuthorizeRequest(id_tag=token.id))

    def connector_status(self, evse: EvseState, connector: ConnectorState) -> str:
        """The 1.6 ChargePointStatus of a connector (1.6 §4.9)."""
        s, tx = self.s, evse.tx
        if connector.fault is not None:
            return "Faulted"
        mine = tx is not None and tx.connector_id in (None, connector.id)
        if tx is not None and mine:
            if evse.plugged is None:
                return "SuspendedEV"  # StopTransactionOnEVSideDisconnect=false: waiting for the EV
            return evse.state or "SuspendedEVSE"
        if tx is not None or (evse.plugged is not None and evse.plugged != connector.id):
            return "Unavailable"  # another connector of the EVSE is in use
        if not s._operative(evse, connector.id):
            return "Unavailable"
        if evse.plugged == connector.id:
            return "Finishing" if evse.finishing else "Preparing"
        if evse.auth is not None:
            return "Preparing"
        res = evse.reservation
        if res is not None and res.connector_id in (None, connector.id):
            return "Reserved"
        return "Available"

    def announce(self, *, force: bool = False, only: set[int] | None = None, kind: str = NORMAL) -> None:
        """Send StatusNotification for connectors whose status changed (all of them with ``force``)."""
        s = self.s
        if not s._online() and kind == NORMAL:
            return
        entries: list[tuple[int, str, str, str | None]] = [
            (0, "Available" if s.operative else "Unavailable", "NoError", None)]
        for evse in s.evses:
            for connector in evse.connectors:
                entries.append((s._flat[(evse.id, connector.id)], self.connector_status(evse, connector),
                                connector.fault or "NoError", connector.fault_info))
        for flat, status, error, info in entries:
            if only is not None and flat not in only:
                continue
            if force or self.sent.get(flat) != (status, error):
                self.sent[flat] = (status, error)
                s.queue.add("StatusNotification", m.StatusNotificationRequest(
                    connector_id=flat, error_code=error, status=status, info=None if info is None else info[:50],
                    timestamp=s.wall_now()), kind)

    def lock_failure(self, evse: EvseState, connector: ConnectorState) -> None:
        flat = self.s._flat[(evse.id, connector.id)]
        self._add("StatusNotification", m.StatusNotificationRequest(
            connector_id=flat, error_code="ConnectorLockFailure",
            status=self.connector_status(evse, connector), timestamp=self.s.wall_now()))

    def fault(self, evse: EvseState, connector: ConnectorState, *, raised: bool) -> None:
        pass  # the Faulted status and its errorCode say it all in 1.6

    def _meter_value(self, readings: list[Reading], context: str, at: Any = None) -> MeterValue:
        return MeterValue(timestamp=at or self.s.wall_now(), sampled_value=[SampledValue(
            value=_number(r.value), context=context, measurand=r.measurand,
            unit=r.unit if r.unit in _UNITS else None, phase=r.phase, location=r.location)
            for r in readings])

    def tx_event(self, event: str, evse: EvseState, tx: Transaction, trigger: str, *,
                 charging_state: str | None = None, readings: list[Reading] | None = None,
                 context: str | None = None, stopped_reason: str | None = None, token: IdToken | None = None) -> None:
        s = self.s
        connector = s._flat[(evse.id, tx.connector_id or 1)]
        if event == "Started":
            s.queue.add("StartTransaction", m.StartTransactionRequest(
                connector_id=connector, id_tag=tx.token.id if tx.token else "", meter_start=math.floor(tx.meter_start),
                reservation_id=tx.reservation_id, timestamp=s.wall_now()), TRANSACTION, tx.id)
        elif event == "Ended":
            register = evse.connector(tx.connector_id or 1).register_wh
            data = None
            if s.settings.members("ended_measurands"):
                begin = [Reading("Energy.Active.Import.Register", tx.meter_start, "Wh")]
                data = [self._meter_value(begin, "Transaction.Begin", datetime.fromisoformat(tx.started_time)),
                        self._meter_value(readings or [], "Transaction.End")]
            s.queue.add("StopTransaction", m.StopTransactionRequest(
                transaction_id=0, meter_stop=math.floor(register), timestamp=s.wall_now(),
                reason=stopped_reason if stopped_reason in _REASONS else "Other",
                id_tag=token.id if token else None, transaction_data=data), TRANSACTION, tx.id)
        elif readings:
            s.queue.add("MeterValues", m.MeterValuesRequest(
                connector_id=connector, transaction_id=0, meter_value=[self._meter_value(readings, context or
                                                                                           "Sample.Periodic")]),
                TRANSACTION, tx.id)

    def meter_values(self, evse: EvseState, readings: list[Reading], context: str, kind: str = NORMAL) -> None:
        flat = self.s._flat[(evse.id, evse.plugged or 1)]
        self._add("MeterValues", m.MeterValuesRequest(connector_id=flat,
                                                      meter_value=[self._meter_value(readings, context)]), kind)

    def reservation_ended(self, reservation: Reservation, why: str) -> None:
        pass  # 1.6 reports the end of a reservation through the connector status only

    def firmware_status(self, status: str, request_id: int | None, kind: str = REQUESTED) -> None:
        if status not in _FIRMWARE:
            return  # InstallRebooting is a 2.0.1 step
        self.firmware = status
        self.s.queue.add("FirmwareStatusNotification", m.FirmwareStatusNotificationRequest(status=status), kind)

    def log_status(self, kind: str, status: str, request_id: int | None) -> None:
        if kind == "diagnostics":
            self.diagnostics = status
            self.s.queue.add("DiagnosticsStatusNotification",
                             m.DiagnosticsStatusNotificationRequest(status=status), REQUESTED)
        else:
            self.log = (_UPLOAD[status], request_id)
            self.s.queue.add("LogStatusNotification", m.LogStatusNotificationRequest(
                status=_UPLOAD[status], request_id=request_id), REQUESTED)

    def rebooted(self) -> None:
        self.sent.clear()

    def finalize(self, call: QueuedCall) -> msgspec.Struct | None:
        """Patch the Central System's transactionId into MeterValues/StopTransaction (None: drop the message)."""
        if call.tx is None or call.action not in ("MeterValues", "StopTransaction"):
            return call.payload
        csms_id = self.csms_ids.get(call.tx)
        if csms_id is None:
            return None  # StartTransaction was never accepted: the Central System cannot place it
        return msgspec.structs.replace(call.payload, transaction_id=csms_id)

    # ------------------------------------------------------------------------------------- answers

    def on_result(self, action: str, request: Any, response: Any, call: QueuedCall | None) -> None:
        s = self.s
        if action == "BootNotification":
            s.boot_result(str(response.status), response.interval)
        elif action == "Authorize":
            s.authorization_result(request.id_tag, _info(response.id_tag_info))
        elif action == "StartTransaction" and call is not None and call.tx is not None:
            self.csms_ids[call.tx] = response.transaction_id
            s.bind_csms_id(call.tx, response.transaction_id)
            s.transaction_token_result(call.tx, _info(response.id_tag_info))
        elif action == "StopTransaction" and call is not None and call.tx is not None:
            if not s.queue.transaction_messages(call.tx):
                self.csms_ids.pop(call.tx, None)
            info = _info(response.id_tag_info)
            if info is not None and request.id_tag:
                s._cache(request.id_tag, info)

    def on_failure(self, action: str, request: Any, call: QueuedCall | None, retried: bool) -> None:
        if action == "BootNotification":
            self.s.boot_failed()
        elif action == "Authorize":
            self.s.authorization_result(request.id_tag, None)

    def handle(self, action: str, request: Any) -> msgspec.Struct | CallErrorReply:
        handler = getattr(self, f"_on_{action}", None)
        if handler is None:
            return CallErrorReply("NotSupported", f"{action} is not supported by this simulated charge point")
        return handler(request)

    def _evse_of(self, connector_id: int) -> tuple[int, int] | None:
        return self.s._flat_back.get(connector_id)

    def _on_CancelReservation(self, req: m.CancelReservationRequest) -> m.CancelReservationResponse:
        found = self.s.cancel_reservation(req.reservation_id)
        return m.CancelReservationResponse(status="Accepted" if found else "Rejected")

    def _on_ChangeAvailability(self, req: m.ChangeAvailabilityRequest) -> m.ChangeAvailabilityResponse:
        target = (None, None) if req.connector_id == 0 else self._evse_of(req.connector_id)
        if target is None:
            return m.ChangeAvailabilityResponse(status="Rejected")
        status = self.s.change_availability(target[0], target[1], str(req.type) == "Operative")
        return m.ChangeAvailabilityResponse(status=status)

    def _on_ChangeConfiguration(self, req: m.ChangeConfigurationRequest) -> m.ChangeConfigurationResponse:
        status = self.s.settings.change_configuration(req.key, req.value)
        self.s._sync()
        return m.ChangeConfigurationResponse(status=status)

    def _on_ClearCache(self, req: m.ClearCacheRequest) -> m.ClearCacheResponse:
        self.s.auth_cache.clear()
        return m.ClearCacheResponse(status="Accepted")

    def _on_ClearChargingProfile(self, req: m.ClearChargingProfileRequest) -> m.ClearChargingProfileResponse:
        cleared = self.s.clear_charging_profiles(**clear_criteria_from_ocpp16(msgspec.to_builtins(req)))
        return m.ClearChargingProfileResponse(status="Accepted" if cleared else "Unknown")

    def _on_DataTransfer(self, req: m.DataTransferRequest) -> m.DataTransferResponse:
        if req.vendor_id != OUR_VENDOR_ID:
            return m.DataTransferResponse(status="UnknownVendorId")
        if req.message_id != "Echo":
            return m.DataTransferResponse(status="UnknownMessageId")
        return m.DataTransferResponse(status="Accepted", data=req.data)

    def _on_GetCompositeSchedule(self, req: m.GetCompositeScheduleRequest) -> m.GetCompositeScheduleResponse:
        rejected = m.GetCompositeScheduleResponse(status="Rejected")
        if req.connector_id != 0 and self._evse_of(req.connector_id) is None:
            return rejected
        unit = None if req.charging_rate_unit is None else str(req.charging_rate_unit)
        schedule = self.s.composite_schedule(req.connector_id, req.duration, unit)
        if schedule is None:
            return rejected
        return msgspec.convert(schedule.to_ocpp16(), m.GetCompositeScheduleResponse)

    def _on_GetConfiguration(self, req: m.GetConfigurationRequest) -> m.GetConfigurationResponse:
        found, unknown = self.s.settings.get_configuration(req.key)
        return m.GetConfigurationResponse(configuration_key=found or None, unknown_key=unknown or None)

    def _on_GetDiagnostics(self, req: m.GetDiagnosticsRequest) -> m.GetDiagnosticsResponse:
        return m.GetDiagnosticsResponse(file_name=self.s.upload_log("diagnostics", req.location))

    def _on_GetLocalListVersion(self, req: m.GetLocalListVersionRequest) -> m.GetLocalListVersionResponse:
        return m.GetLocalListVersionResponse(list_version=self.s.local_list_version)

    def _on_GetLog(self, req: m.GetLogRequest) -> m.GetLogResponse:
        name = self.s.upload_log("log", req.log.remote_location, req.request_id)
        return m.GetLogResponse(status="Accepted", filename=name)

    def _on_RemoteStartTransaction(self, req: m.RemoteStartTransactionRequest) -> m.RemoteStartTransactionResponse:
        rejected = m.RemoteStartTransactionResponse(status="Rejected")
        s = self.s
        target = None if req.connector_id is None else self._evse_of(req.connector_id)
        if s.registration != "Accepted" or (req.connector_id is not None and target is None):
            return rejected
        profile = None
        if req.charging_profile is not None:
            if str(req.charging_profile.charging_profile_purpose) != "TxProfile":
                return rejected  # 1.6 §5.11: only a TxProfile may come with a remote start
            try:
                key = req.connector_id or 1
                profile = profile_to_ocpp201(profile_from_ocpp16(msgspec.to_builtins(req.charging_profile),
                                                                 connector_id=key))
            except ChargingProfileError:
                return rejected
        accepted, _, _ = s.remote_start(IdToken(id=req.id_tag, type="Central"), target and target[0],
                                        profile=profile)
        return m.RemoteStartTransactionResponse(status="Accepted" if accepted else "Rejected")

    def _on_RemoteStopTransaction(self, req: m.RemoteStopTransactionRequest) -> m.RemoteStopTransactionResponse:
        evse = self.s.find_transaction(csms_id=req.transaction_id)
        stopped = evse is not None and evse.tx is not None and self.s.remote_stop(evse.tx.id)
        return m.RemoteStopTransactionResponse(status="Accepted" if stopped else "Rejected")

    def _on_ReserveNow(self, req: m.ReserveNowRequest) -> m.ReserveNowResponse:
        s = self.s
        if req.connector_id == 0:
            if not s.settings.boolean("reserve_connector_zero"):
                return m.ReserveNowResponse(status="Rejected")
            target: tuple[int | None, int | None] | None = (None, None)
        else:
            target = self._evse_of(req.connector_id)
            if target is None:
                return m.ReserveNowResponse(status="Rejected")
        reservation = Reservation(id=req.reservation_id, token=req.id_tag, group=req.parent_id_tag,
                                  connector_id=target[1], expires_at=s._mono_at(req.expiry_date))
        return m.ReserveNowResponse(status=s.reserve(reservation, target[0]))

    def _on_Reset(self, req: m.ResetRequest) -> m.ResetResponse:
        status = self.s.reset(str(req.type))
        return m.ResetResponse(status="Accepted" if status != "Rejected" else "Rejected")

    def _on_SendLocalList(self, req: m.SendLocalListRequest) -> m.SendLocalListResponse:
        entries = [(e.id_tag, _info(e.id_tag_info)) for e in req.local_authorization_list or []]
        status = self.s.send_local_list(req.list_version, str(req.update_type) == "Full", entries)
        return m.SendLocalListResponse(status=status)

    def _on_SetChargingProfile(self, req: m.SetChargingProfileRequest) -> m.SetChargingProfileResponse:
        rejected = m.SetChargingProfileResponse(status="Rejected")
        if req.connector_id != 0 and self._evse_of(req.connector_id) is None:
            return rejected
        try:
            profile = profile_from_ocpp16(msgspec.to_builtins(req.cs_charging_profiles),
                                          connector_id=req.connector_id)
        except ChargingProfileError:
            return rejected
        result = self.s.set_charging_profile(profile)
        return m.SetChargingProfileResponse(status="Accepted" if result.accepted else "Rejected")

    def _trigger(self, message: str, connector_id: int | None) -> str:
        s = self.s
        target = None if connector_id is None else self._evse_of(connector_id)
        if connector_id not in (None, 0) and target is None:
            return "Rejected"
        evses = s.evses if target is None else [s._evse(target[0])]
        if message == "BootNotification":
            s._send_boot()
        elif message == "DiagnosticsStatusNotification":
            s.queue.add("DiagnosticsStatusNotification",
                        m.DiagnosticsStatusNotificationRequest(status=self.diagnostics), REQUESTED)
        elif message == "FirmwareStatusNotification":
            s.queue.add("FirmwareStatusNotification",
                        m.FirmwareStatusNotificationRequest(status=self.firmware), REQUESTED)
        elif message == "LogStatusNotification":
            s.queue.add("LogStatusNotification", m.LogStatusNotificationRequest(
                status=self.log[0], request_id=self.log[1]), REQUESTED)
        elif message == "Heartbeat":
            self.heartbeat(REQUESTED)
        elif message == "MeterValues":
            for evse in evses:
                readings = s._read(evse, "sampled_measurands")
                if evse.tx is not None:
                    s._tx_event("Updated", evse, evse.tx, "Trigger", readings=readings, context="Trigger")
                else:
                    self.meter_values(evse, readings, "Trigger", REQUESTED)
        elif message == "StatusNotification":
            only = None if not connector_id else {connector_id}
            self.announce(force=True, only=only, kind=REQUESTED)
        else:
            return "NotImplemented"
        return "Accepted"

    def _on_TriggerMessage(self, req: m.TriggerMessageRequest) -> m.TriggerMessageResponse:
        return m.TriggerMessageResponse(status=self._trigger(str(req.requested_message), req.connector_id))

    def _on_ExtendedTriggerMessage(self, req: m.ExtendedTriggerMessageRequest) -> m.ExtendedTriggerMessageResponse:
        return m.ExtendedTriggerMessageResponse(
            status=self._trigger(str(req.requested_message), req.connector_id))

    def _on_UnlockConnector(self, req: m.UnlockConnectorRequest) -> m.UnlockConnectorResponse:
        target = self._evse_of(req.connector_id)
        if target is None:
            return m.UnlockConnectorResponse(status="NotSupported")
        status = self.s.unlock(*target)
        return m.UnlockConnectorResponse(status="UnlockFailed" if status == "UnlockFailed" else "Unlocked")

    def _on_UpdateFirmware(self, req: m.UpdateFirmwareRequest) -> m.UpdateFirmwareResponse:
        self.s.update_firmware(req.location, req.retrieve_date)
        return m.UpdateFirmwareResponse()

    # ------------------------------------------------------------------------------------ snapshot

    def snapshot(self) -> dict[str, Any]:
        return {"csms_ids": dict(self.csms_ids), "firmware": self.firmware, "diagnostics": self.diagnostics,
                "log": list(self.log)}

    def restore(self, data: dict[str, Any]) -> None:
        self.csms_ids = {k: int(v) for k, v in data["csms_ids"].items()}
        self.firmware, self.diagnostics = data["firmware"], data["diagnostics"]
        self.log = (data["log"][0], data["log"][1])

