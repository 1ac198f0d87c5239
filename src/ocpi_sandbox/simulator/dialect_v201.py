"""Speak OCPP 2.0.1 for a ``Station``: its CALLs from core events, its answers to the CSMS.

Mirrors ``dialect_v16``. Answers the functional blocks B (provisioning: GetBaseReport/GetReport → NotifyReport,
Get/SetVariables, Reset), C (ClearCache), D (local list), E (GetTransactionStatus), F (RequestStart/Stop,
UnlockConnector, TriggerMessage for every message the station sends), G (ChangeAvailability), H (reservations),
K (SetChargingProfile, GetChargingProfiles → ReportChargingProfiles, ClearChargingProfile,
GetCompositeSchedule), L/N (UpdateFirmware, GetLog, simulated) and P (DataTransfer); certificates, display
messages, monitoring, customer information and firmware publishing are answered NotSupported.
Transactions are TransactionEvent Started/Updated/Ended with the optional-field rules of Part 2 E (seqNo from 0,
chargingState on every change, idToken once when authorized and when deauthorized, evse once the EV is
connected, offline when it happened offline); faults go out as NotifyEvent on Connector.Problem.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import msgspec

from ..ocpp.rpc import CallErrorReply
from ..ocpp.v201 import messages as m
from ..ocpp.v201.datatypes import (
    ChargingProfileType,
    ChargingStationType,
    ComponentType,
    EVSEType,
    EventDataType,
    GetVariableResultType,
    IdTokenInfoType,
    IdTokenType,
    MeterValueType,
    SampledValueType,
    SetVariableResultType,
    StatusInfoType,
    TransactionType,
    UnitOfMeasureType,
    VariableType,
)
from .call_queue import BOOT, NORMAL, REQUESTED, TRANSACTION, QueuedCall
from .charging_profiles import (
    ChargingProfileError,
    clear_criteria_from_ocpp201,
    profile_from_ocpp201,
    profile_to_ocpp201,
)
from .metering import Reading
from .station_state import ConnectorState, EvseState, IdToken, Reservation, TokenInfo, Transaction

if TYPE_CHECKING:  # pragma: no cover
    from .station import Station

__all__ = ["Dialect201"]

_REASONS = {"DeAuthorized", "EmergencyStop", "EnergyLimitReached", "EVDisconnected", "GroundFault",
            "ImmediateReset", "Local", "LocalOutOfCredit", "MasterPass", "Other", "OvercurrentFault", "PowerLoss",
            "PowerQuality", "Reboot", "Remote", "SOCLimitReached", "StoppedByEV", "TimeLimitReached", "Timeout"}
_REASON_FROM = {"SoftReset": "ImmediateReset", "HardReset": "ImmediateReset", "UnlockCommand": "Other"}
_UPLOAD = {"Uploading": "Uploading", "Uploaded": "Uploaded", "UploadFailed": "UploadFailure"}
_SECURITY_EVENT = {"PowerUp": "StartupOfTheDevice", "FirmwareUpdate": "FirmwareUpdated"}
OUR_VENDOR_ID = "ocpi-sandbox"


def _info(data: IdTokenInfoType | None) -> TokenInfo | None:
    if data is None:
        return None
    return TokenInfo(status=str(data.status),
                     group=None if data.group_id_token is None else data.group_id_token.id_token,
                     expiry_time=None if data.cache_expiry_date_time is None
                     else data.cache_expiry_date_time.isoformat())


def _rejected(reason: str, detail: str | None = None) -> StatusInfoType:
    return StatusInfoType(reason_code=reason[:20], additional_info=None if detail is None else detail[:512])


class Dialect201:
    """OCPP 2.0.1 messages for one station."""

    def __init__(self, station: Station) -> None:
        self.s = station
        self.sent: dict[tuple[int, int], str] = {}  # (evse, connector) -> connectorStatus last reported
        self.event_id = 0  # NotifyEvent eventId
        self.firmware: tuple[str, int | None] = ("Idle", None)
        self.log: tuple[str, int | None] = ("Idle", None)

    # ------------------------------------------------------------------------------------- outgoing

    def _add(self, action: str, payload: msgspec.Struct, kind: str = NORMAL, tx: str | None = None) -> None:
        if kind == NORMAL and not self.s._online():
            return  # not queued offline (QueueAllMessages false): the state is re-announced on reconnect
        self.s.queue.add(action, payload, kind, tx)

    def boot_notification(self, reason: str | None = None) -> None:
        c = self.s.config
        self.s.queue.add("BootNotification", m.BootNotificationRequest(
            charging_station=ChargingStationType(model=c.model, vendor_name=c.vendor, serial_number=c.serial_number,
                                                 firmware_version=self.s.firmware_version),
            reason=reason or self.s.boot_reason), BOOT)

    def after_boot(self) -> None:
        kind = _SECURITY_EVENT.get(self.s.boot_reason, "ResetOrReboot")
        self._add("SecurityEventNotification", m.SecurityEventNotificationRequest(type=kind,
                                                                                  timestamp=self.s.wall_now()))

    def heartbeat(self, kind: str = NORMAL) -> None:
        self._add("Heartbeat", m.HeartbeatRequest(), kind)

    def authorize(self, token: IdToken) -> None:
        self._add("Authorize", m.AuthorizeRequest(id_token=_token(token)))

    def connector_status(self, evse: EvseState, connector: ConnectorState) -> str:
        """The 2.0.1 ConnectorStatusEnumType of a connector (Part 2 G01)."""
        tx = evse.tx
        if connector.fault is not None:
            return "Faulted"
        if evse.plugged == connector.id:
            return "Occupied"
        if evse.plugged is not None or (tx is not None and tx.connector_id not in (None, connector.id)):
            return "Unavailable"  # another connector of the EVSE is in use
        if tx is None and not self.s._operative(evse, connector.id):
            return "Unavailable"
        res = evse.reservation
        if res is not None and res.connector_id in (None, connector.id):
            return "Reserved"
        return "Available"

    def announce(self, *, force: bool = False, only: set[tuple[int, int]] | None = None, kind: str = NORMAL) -> None:
        """Send StatusNotification for connectors whose status changed (all of them with ``force``)."""
        s = self.s
        if not s._online() and kind == NORMAL:
            return
        for evse in s.evses:
            for connector in evse.connectors:
                key = (evse.id, connector.id)
                if only is not None and key not in only:
                    continue
                status = self.connector_status(evse, connector)
                if force or self.sent.get(key) != status:
                    self.sent[key] = status
                    s.queue.add("StatusNotification", m.StatusNotificationRequest(
                        timestamp=s.wall_now(), connector_status=status,
                        evse_id=evse.id, connector_id=connector.id), kind)

    def _notify_event(self, component: ComponentType, variable: str, value: str, code: str | None,
                      info: str | None, cleared: bool | None = None) -> None:
        self.event_id += 1
        now = self.s.wall_now()
        self._add("NotifyEvent", m.NotifyEventRequest(generated_at=now, seq_no=0, event_data=[EventDataType(
            event_id=self.event_id, timestamp=now, trigger="Delta", actual_value=value,
            tech_code=None if code is None else code[:50], tech_info=None if info is None else info[:500],
            cleared=cleared, component=component, variable=VariableType(name=variable),
            event_notification_type="HardWiredNotification")]))

    def fault(self, evse: EvseState, connector: ConnectorState, *, raised: bool) -> None:
        """Report a connector fault as a NotifyEvent on Connector.Problem (Part 2 N07; status follows)."""
        component = ComponentType(name="Connector", evse=EVSEType(id=evse.id, connector_id=connector.id))
        self._notify_event(component, "Problem", "true" if raised else "false", connector.fault,
                           connector.fault_info, cleared=None if raised else True)

    def lock_failure(self, evse: EvseState, connector: ConnectorState) -> None:
        component = ComponentType(name="ConnectorPlugRetentionLock",
                                  evse=EVSEType(id=evse.id, connector_id=connector.id))
        self._notify_event(component, "Problem", "true", "ConnectorLockFailure", "unlock failed")

    def _meter_value(self, readings: list[Reading], context: str) -> MeterValueType:
        return MeterValueType(timestamp=self.s.wall_now(), sampled_value=[SampledValueType(
            value=r.value, context=context, measurand=r.measurand, phase=r.phase,
            location=r.location, unit_of_measure=None if r.unit is None else UnitOfMeasureType(unit=r.unit))
            for r in readings])

    def tx_event(self, event: str, evse: EvseState, tx: Transaction, trigger: str, *,
                 charging_state: str | None = None, readings: list[Reading] | None = None,
                 context: str | None = None, stopped_reason: str | None = None, token: IdToken | None = None) -> None:
        """Queue a TransactionEvent, with the optional fields Part 2 E §1.5 asks for at this point."""
        s = self.s
        reason = None
        if event == "Ended":
            reason = _REASON_FROM.get(stopped_reason or "", stopped_reason)
            reason = reason if reason in _REASONS else "Other"
        remote = tx.remote_start_id if trigger == "RemoteStart" or (event == "Started" and tx.remote_start_id
                                                                    is not None) else None
        evse_field = None
        if not tx.evse_reported:
            evse_field = EVSEType(id=evse.id, connector_id=tx.connector_id)
            tx.evse_reported = True  # again once the cable is in, with its connector (station_sessions._plug)
        reservation = tx.reservation_id if event == "Started" or trigger in ("Authorized", "RemoteStart") else None
        payload = m.TransactionEventRequest(
            event_type=event, timestamp=s.wall_now(), trigger_reason=trigger, seq_no=tx.seq_no,
            offline=True if (not s.connected or s._power_cut) else None,
            transaction_info=TransactionType(
                transaction_id=tx.id, charging_state=charging_state,
                time_spent_charging=int(tx.charging_time) if event != "Started" else None,
                stopped_reason=reason, remote_start_id=remote),
            evse=evse_field, id_token=None if token is None else _token(token), reservation_id=reservation,
            meter_value=[self._meter_value(readings, context or "Sample.Periodic")] if readings else None)
        s.queue.add("TransactionEvent", payload, TRANSACTION, tx.id)

    def meter_values(self, evse: EvseState, readings: list[Reading], context: str, kind: str = NORMAL) -> None:
        self._add("MeterValues", m.MeterValuesRequest(evse_id=evse.id,
                                                      meter_value=[self._meter_value(readings, context)]), kind)

    def reservation_ended(self, reservation: Reservation, why: str) -> None:
        self._add("ReservationStatusUpdate", m.ReservationStatusUpdateRequest(
            reservation_id=reservation.id, reservation_update_status=why))

    def firmware_status(self, status: str, request_id: int | None, kind: str = REQUESTED) -> None:
        self.firmware = (status, request_id)
        self.s.queue.add("FirmwareStatusNotification", m.FirmwareStatusNotificationRequest(
            status=status, request_id=request_id), kind)

    def log_status(self, kind: str, status: str, request_id: int | None) -> None:
        self.log = (_UPLOAD[status], request_id)
        self.s.queue.add("LogStatusNotification", m.LogStatusNotificationRequest(
            status=_UPLOAD[status], request_id=request_id), REQUESTED)

    def rebooted(self) -> None:
        self.sent.clear()

    def finalize(self, call: QueuedCall) -> msgspec.Struct | None:
        return call.payload

    # ------------------------------------------------------------------------------------- answers

    def on_result(self, action: str, request: Any, response: Any, call: QueuedCall | None) -> None:
        s = self.s
        if action == "BootNotification":
            s.boot_result(str(response.status), response.interval)
        elif action == "Authorize":
            s.authorization_result(request.id_token.id_token, _info(response.id_token_info))
        elif action == "TransactionEvent" and request.id_token is not None and response.id_token_info is not None:
            info = _info(response.id_token_info)
            if str(request.trigger_reason) in ("StopAuthorized", "Deauthorized", "RemoteStop"):
                s._cache(request.id_token.id_token, info)
            else:
                s.transaction_token_result(request.transaction_info.transaction_id, info)

    def on_failure(self, action: str, request: Any, call: QueuedCall | None, retried: bool) -> None:
        if action == "BootNotification":
            self.s.boot_failed()
        elif action == "Authorize":
            self.s.authorization_result(request.id_token.id_token, None)

    def handle(self, action: str, request: Any) -> msgspec.Struct | CallErrorReply:
        handler = getattr(self, f"_on_{action}", None)
        if handler is None:
            return CallErrorReply("NotSupported", f"{action} is not supported by this simulated station")
        return handler(request)

    def _on_CancelReservation(self, req: m.CancelReservationRequest) -> m.CancelReservationResponse:
        found = self.s.cancel_reservation(req.reservation_id)
        return m.CancelReservationResponse(status="Accepted" if found else "Rejected")

    def _on_ChangeAvailability(self, req: m.ChangeAvailabilityRequest) -> m.ChangeAvailabilityResponse:
        evse = req.evse
        status = self.s.change_availability(None if evse is None else evse.id,
                                            None if evse is None else evse.connector_id,
                                            str(req.operational_status) == "Operative")
        return m.ChangeAvailabilityResponse(status=status)

    def _on_ClearCache(self, req: m.ClearCacheRequest) -> m.ClearCacheResponse:
        self.s.auth_cache.clear()
        return m.ClearCacheResponse(status="Accepted")

    def _on_ClearChargingProfile(self, req: m.ClearChargingProfileRequest) -> m.ClearChargingProfileResponse:
        cleared = self.s.clear_charging_profiles(**clear_criteria_from_ocpp201(msgspec.to_builtins(req)))
        return m.ClearChargingProfileResponse(status="Accepted" if cleared else "Unknown")

    def _on_CostUpdated(self, req: m.CostUpdatedRequest) -> m.CostUpdatedResponse:
        return m.CostUpdatedResponse()  # a display would show it; the simulator has none

    def _on_DataTransfer(self, req: m.DataTransferRequest) -> m.DataTransferResponse:
        if req.vendor_id != OUR_VENDOR_ID:
            return m.DataTransferResponse(status="UnknownVendorId")
        if req.message_id != "Echo":
            return m.DataTransferResponse(status="UnknownMessageId")
        return m.DataTransferResponse(status="Accepted", data=req.data)

    def _report(self, request_id: int, data: list) -> None:
        """Send report data as NotifyReport messages of ItemsPerMessage entries (seqNo from 0, tbc)."""
        size = max(1, self.s.settings.integer("items_per_report"))
        chunks = [data[i:i + size] for i in range(0, len(data), size)]
        now = self.s.wall_now()
        for seq, chunk in enumerate(chunks):
            self.s.queue.add("NotifyReport", m.NotifyReportRequest(
                request_id=request_id, generated_at=now, report_data=chunk, seq_no=seq,
                tbc=True if seq < len(chunks) - 1 else None), REQUESTED)

    def _on_GetBaseReport(self, req: m.GetBaseReportRequest) -> m.GetBaseReportResponse:
        data = self.s.settings.report(str(req.report_base))
        if not data:
            return m.GetBaseReportResponse(status="EmptyResultSet")
        self._report(req.request_id, data)
        return m.GetBaseReportResponse(status="Accepted")

    def _on_GetReport(self, req: m.GetReportRequest) -> m.GetReportResponse:
        wanted = None if req.component_variable is None else [(cv.component, cv.variable)
                                                               for cv in req.component_variable]
        data = self.s.settings.report(None, wanted)
        if req.component_criteria:
            criteria = {str(c) for c in req.component_criteria}
            names = {"Problem"} if criteria == {"Problem"} else {"Available", "AvailabilityState", "Enabled",
                                                                 "Problem"}
            data = [d for d in data if d.variable.name in names]
        if not data:
            return m.GetReportResponse(status="EmptyResultSet")
        self._report(req.request_id, data)
        return m.GetReportResponse(status="Accepted")

    def _on_GetChargingProfiles(self, req: m.GetChargingProfilesRequest) -> m.GetChargingProfilesResponse:
        criteria = req.charging_profile
        found = self.s.store.profiles(evse_id=req.evse_id,
                                      purpose=None if criteria.charging_profile_purpose is None
                                      else str(criteria.charging_profile_purpose),
                                      stack_level=criteria.stack_level)
        if criteria.charging_profile_id:
            found = [p for p in found if p.id in criteria.charging_profile_id]
        sources = {str(x) for x in criteria.charging_limit_source or ["CSO"]}
        if "CSO" not in sources:
            found = [p for p in found if str(p.purpose) == "ChargingStationExternalConstraints"]
        if not found:
            return m.GetChargingProfilesResponse(status="NoProfiles")
        by_evse: dict[int, list] = defaultdict(list)
        for profile in found:
            by_evse[profile.evse_id].append(msgspec.convert(profile_to_ocpp201(profile), ChargingProfileType))
        for n, (evse_id, profiles) in enumerate(sorted(by_evse.items())):
            self.s.queue.add("ReportChargingProfiles", m.ReportChargingProfilesRequest(
                request_id=req.request_id, charging_limit_source="CSO", charging_profile=profiles,
                evse_id=evse_id, tbc=True if n < len(by_evse) - 1 else None), REQUESTED)
        return m.GetChargingProfilesResponse(status="Accepted")

    def _on_GetCompositeSchedule(self, req: m.GetCompositeScheduleRequest) -> m.GetCompositeScheduleResponse:
        unit = None if req.charging_rate_unit is None else str(req.charging_rate_unit)
        schedule = None if req.evse_id > len(self.s.evses) else self.s.composite_schedule(
            req.evse_id, req.duration, unit)
        if schedule is None:
            return m.GetCompositeScheduleResponse(status="Rejected",
                                                  status_info=_rejected("UnknownEvse"))
        return msgspec.convert(schedule.to_ocpp201(), m.GetCompositeScheduleResponse)

    def _on_GetLocalListVersion(self, req: m.GetLocalListVersionRequest) -> m.GetLocalListVersionResponse:
        return m.GetLocalListVersionResponse(version_number=self.s.local_list_version)

    def _on_GetLog(self, req: m.GetLogRequest) -> m.GetLogResponse:
        name = self.s.upload_log("log", req.log.remote_location, req.request_id)
        return m.GetLogResponse(status="Accepted", filename=name)

    def _on_GetTransactionStatus(self, req: m.GetTransactionStatusRequest) -> m.GetTransactionStatusResponse:
        queued = self.s.queue.transaction_messages(req.transaction_id) > 0
        if req.transaction_id is None:
            return m.GetTransactionStatusResponse(messages_in_queue=queued)
        ongoing = self.s.find_transaction(tx_id=req.transaction_id) is not None
        return m.GetTransactionStatusResponse(messages_in_queue=queued, ongoing_indicator=ongoing)

    def _on_GetVariables(self, req: m.GetVariablesRequest) -> m.GetVariablesResponse | CallErrorReply:
        limit = self.s.settings.integer("items_per_get_variables")
        if len(req.get_variable_data) > limit:
            return CallErrorReply("OccurrenceConstraintViolation", f"at most {limit} variables per GetVariables")
        results = []
        for item in req.get_variable_data:
            status, value = self.s.settings.get_variable(item.component, item.variable,
                                                         _attribute(item.attribute_type))
            results.append(GetVariableResultType(
                attribute_status=status, attribute_type=item.attribute_type,
                attribute_value=value, component=item.component, variable=item.variable))
        return m.GetVariablesResponse(get_variable_result=results)

    def _on_SetVariables(self, req: m.SetVariablesRequest) -> m.SetVariablesResponse | CallErrorReply:
        limit = self.s.settings.integer("items_per_set_variables")
        if len(req.set_variable_data) > limit:
            return CallErrorReply("OccurrenceConstraintViolation", f"at most {limit} variables per SetVariables")
        results = []
        for item in req.set_variable_data:
            status, why = self.s.settings.set_variable(item.component, item.variable,
                                                       _attribute(item.attribute_type), item.attribute_value)
            results.append(SetVariableResultType(
                attribute_status=status, attribute_type=item.attribute_type,
                attribute_status_info=None if why is None else _rejected("InvalidValue", why),
                component=item.component, variable=item.variable))
        self.s._sync()  # a new interval, limit or measurand list applies from now on
        return m.SetVariablesResponse(set_variable_result=results)

    def _on_RequestStartTransaction(self, req: m.RequestStartTransactionRequest) -> m.RequestStartTransactionResponse:
        s = self.s
        if s.registration != "Accepted":
            return m.RequestStartTransactionResponse(status="Rejected",
                                                     status_info=_rejected("NotAccepted"))
        profile = None
        if req.charging_profile is not None:
            cp = req.charging_profile
            if str(cp.charging_profile_purpose) != "TxProfile" or cp.transaction_id is not None:
                return m.RequestStartTransactionResponse(status="Rejected", status_info=_rejected(
                    "InvalidProfile", "a RequestStartTransaction profile is a TxProfile without transactionId"))
            profile = msgspec.to_builtins(cp)
            try:
                profile_from_ocpp201(profile, evse_id=req.evse_id or 1)
            except ChargingProfileError as exc:
                return m.RequestStartTransactionResponse(status="Rejected",
                                                         status_info=_rejected("InvalidSchedule", str(exc)))
        accepted, why, existing = s.remote_start(
            IdToken(id=req.id_token.id_token, type=str(req.id_token.type)), req.evse_id,
            remote_start_id=req.remote_start_id, profile=profile,
            group=None if req.group_id_token is None else req.group_id_token.id_token)
        if not accepted:
            return m.RequestStartTransactionResponse(status="Rejected",
                                                     status_info=_rejected("Unavailable", why))
        return m.RequestStartTransactionResponse(status="Accepted", transaction_id=existing)

    def _on_RequestStopTransaction(self, req: m.RequestStopTransactionRequest) -> m.RequestStopTransactionResponse:
        stopped = self.s.remote_stop(req.transaction_id)
        return m.RequestStopTransactionResponse(status="Accepted" if stopped else "Rejected")

    def _on_ReserveNow(self, req: m.ReserveNowRequest) -> m.ReserveNowResponse:
        s = self.s
        if req.evse_id is None and not s.settings.boolean("non_evse_specific"):
            return m.ReserveNowResponse(status="Rejected")
        reservation = Reservation(id=req.id, token=req.id_token.id_token,
                                  group=None if req.group_id_token is None else req.group_id_token.id_token,
                                  connector_type=None if req.connector_type is None else str(req.connector_type),
                                  expires_at=s._mono_at(req.expiry_date_time))
        return m.ReserveNowResponse(status=s.reserve(reservation, req.evse_id))

    def _on_Reset(self, req: m.ResetRequest) -> m.ResetResponse:
        return m.ResetResponse(status=self.s.reset(str(req.type), req.evse_id))

    def _on_SendLocalList(self, req: m.SendLocalListRequest) -> m.SendLocalListResponse:
        entries = [(e.id_token.id_token, _info(e.id_token_info)) for e in req.local_authorization_list or []]
        status = self.s.send_local_list(req.version_number, str(req.update_type) == "Full", entries)
        return m.SendLocalListResponse(status=status)

    def _on_SetChargingProfile(self, req: m.SetChargingProfileRequest) -> m.SetChargingProfileResponse:
        if not self.s.settings.boolean("smart_charging_enabled"):
            return m.SetChargingProfileResponse(status="Rejected",
                                                status_info=_rejected("NotEnabled"))
        try:
            profile = profile_from_ocpp201(msgspec.to_builtins(req.charging_profile), evse_id=req.evse_id)
        except ChargingProfileError as exc:
            return m.SetChargingProfileResponse(status="Rejected",
                                                status_info=_rejected(exc.reason_code, str(exc)))
        result = self.s.set_charging_profile(profile)
        return msgspec.convert(result.to_ocpp201(), m.SetChargingProfileResponse)

    def _trigger(self, message: str, evse: EVSEType | None) -> str:
        s = self.s
        if evse is not None and not 1 <= evse.id <= len(s.evses):
            return "Rejected"
        evses = s.evses if evse is None else [s._evse(evse.id)]
        if message == "BootNotification":
            if s.registration == "Accepted":
                return "Rejected"  # F06.FR.17: no boot to re-send once accepted
            self.boot_notification("Triggered")
        elif message == "FirmwareStatusNotification":
            s.queue.add("FirmwareStatusNotification", m.FirmwareStatusNotificationRequest(
                status=self.firmware[0], request_id=self.firmware[1]), REQUESTED)
        elif message == "LogStatusNotification":
            s.queue.add("LogStatusNotification", m.LogStatusNotificationRequest(
                status=self.log[0], request_id=self.log[1]), REQUESTED)
        elif message == "Heartbeat":
            self.heartbeat(REQUESTED)
        elif message == "MeterValues":
            for e in evses:
                self.meter_values(e, s._read(e, "sampled_measurands"), "Trigger", REQUESTED)
        elif message == "StatusNotification":
            only = None
            if evse is not None:
                only = {(evse.id, c.id) for c in evses[0].connectors if evse.connector_id in (None, c.id)}
            self.announce(force=True, only=only, kind=REQUESTED)
        elif message == "TransactionEvent":
            running = [e for e in evses if e.tx is not None]
            if not running:
                return "Rejected"
            for e in running:
                s._tx_event("Updated", e, e.tx, "Trigger", readings=s._read(e, "sampled_measurands"),
                            context="Trigger")
        else:
            return "NotImplemented"  # certificate signing and firmware publishing are not simulated
        return "Accepted"

    def _on_TriggerMessage(self, req: m.TriggerMessageRequest) -> m.TriggerMessageResponse:
        return m.TriggerMessageResponse(status=self._trigger(str(req.requested_message), req.evse))

    def _on_UnlockConnector(self, req: m.UnlockConnectorRequest) -> m.UnlockConnectorResponse:
        return m.UnlockConnectorResponse(status=self.s.unlock(req.evse_id, req.connector_id))

    def _on_UpdateFirmware(self, req: m.UpdateFirmwareRequest) -> m.UpdateFirmwareResponse:
        fw = req.firmware
        self.s.update_firmware(fw.location, fw.retrieve_date_time, req.request_id, fw.install_date_time)
        return m.UpdateFirmwareResponse(status="Accepted")

    # ------------------------------------------------------------------------------------ snapshot

    def snapshot(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "firmware": list(self.firmware), "log": list(self.log)}

    def restore(self, data: dict[str, Any]) -> None:
        self.event_id = data["event_id"]
        self.firmware = (data["firmware"][0], data["firmware"][1])
        self.log = (data["log"][0], data["log"][1])


def _attribute(kind: object) -> str | None:
    return None if kind is None else str(kind)


def _token(token: IdToken) -> IdTokenType:
    return IdTokenType(id_token=token.id, type=token.type)
