"""What the embedded CSMS answers to an OCPP 2.0.1 charging station's CALLs, and the domain events they
produce. TransactionEvents are applied so that the outcome is the in-seqNo-order one whatever the arrival order
(offline replays): an Updated arriving after Ended adds samples but never reopens the transaction."""

from __future__ import annotations

from ..domain import csms_records as records
from ..domain.charging_events import (
    ConnectorStatusChanged,
    MeterSampleReceived,
    ReservationEnded,
    TransactionEnded,
    TransactionStarted,
)
from ..ocpp.v201 import messages as m
from ..ocpp.v201.datatypes import IdTokenInfoType
from .connection import StationConnection
from .metering import samples_v201

__all__ = ["HANDLERS"]


async def boot_notification(c: StationConnection, req: m.BootNotificationRequest) -> m.BootNotificationResponse:
    station = req.charging_station
    await c.records.booted(c.identity, vendor=station.vendor_name, model=station.model,
                           serial_number=station.serial_number, firmware_version=station.firmware_version,
                           status="Accepted")
    return m.BootNotificationResponse(current_time=c.now(), interval=c.config.heartbeat_interval, status="Accepted")


async def heartbeat(c: StationConnection, req: m.HeartbeatRequest) -> m.HeartbeatResponse:
    return m.HeartbeatResponse(current_time=c.now())


async def status_notification(c: StationConnection, req: m.StatusNotificationRequest) -> m.StatusNotificationResponse:
    status = str(req.connector_status)
    changed = await c.records.status(c.identity, req.evse_id, req.connector_id, status, None, None)
    if changed:
        c.bus.publish(ConnectorStatusChanged(
            identity=c.identity, tenant_id=c.tenant_id, at=req.timestamp, evse_id=req.evse_id,
            connector_id=req.connector_id, ocpp_status=status, error_code=None,
            status=records.neutral_status(status)))
    return m.StatusNotificationResponse()


async def _token_info(c: StationConnection, id_token: str, evse_id: int | None = None) -> IdTokenInfoType:
    return IdTokenInfoType(status=await c.authorize(id_token, evse_id=evse_id))


async def authorize(c: StationConnection, req: m.AuthorizeRequest) -> m.AuthorizeResponse:
    return m.AuthorizeResponse(id_token_info=await _token_info(c, req.id_token.id_token))


def _publish_samples(c: StationConnection, transaction_pk: str, samples, charging_state: str | None) -> None:  # noqa: ANN001
    for s in samples:
        c.bus.publish(MeterSampleReceived(
            identity=c.identity, tenant_id=c.tenant_id, at=s.at, transaction_pk=transaction_pk, energy_wh=s.energy_wh,
            power_w=s.power_w, current_a=s.current_a, voltage_v=s.voltage_v, soc=s.soc, charging_state=charging_state))


async def transaction_event(c: StationConnection, req: m.TransactionEventRequest) -> m.TransactionEventResponse:
    info = req.transaction_info
    samples = samples_v201(req.meter_value or [])
    charging_state = str(info.charging_state) if info.charging_state else None
    id_token = req.id_token.id_token if req.id_token else None
    if req.event_type == "Updated" and id_token is None and req.reservation_id is None:
        # The hot path: a periodic meter value that tells nothing new of its transaction, answered from memory.
        # A transaction started at EVConnected (the 2.0.1 default) meters while it waits for its token: those
        # values take this path too, or thousands of chargers plugged at once would each cost a database
        # transaction every TxUpdatedInterval until their drivers authorize.
        open_tx = await c.meters.open(c.identity, info.transaction_id)
        if open_tx is not None and (req.evse is None or open_tx.has_evse) and (
                info.remote_start_id is None or open_tx.has_remote_start_id):
            c.meters.record(open_tx, samples, charging_state=charging_state, seq_no=req.seq_no,
                            offline=bool(req.offline))
            _publish_samples(c, open_tx.pk, samples, charging_state)
            return m.TransactionEventResponse()
    await c.meters.settle(c.identity, info.transaction_id)
    async with c.sessions() as session:
        tx, created = await records.start_transaction(
            session, c.identity, info.transaction_id, evse_id=req.evse.id if req.evse else None,
            connector_id=req.evse.connector_id if req.evse else None, id_token=id_token,
            id_token_type=str(req.id_token.type) if req.id_token else None, started_at=req.timestamp,
            meter_start_wh=next((s.energy_wh for s in samples if s.energy_wh is not None), None),
            remote_start_id=info.remote_start_id, reservation_id=req.reservation_id, charging_state=charging_state)
        # Fill what an earlier event (by arrival) could not know: the EVSE and token come once, the
        # remoteStartId in the event after RequestStartTransaction (OCPP 2.0.1 E, "optional fields").
        if req.evse and tx.evse_id is None:
            tx.evse_id, tx.connector_id = req.evse.id, req.evse.connector_id
        # A transaction started at EVConnected (the 2.0.1 default TxStartPoint) learns its token later; only then
        # can it be an eMSP's, so it is announced as started again, with the token (see below).
        token_arrived = not created and bool(id_token) and tx.id_token is None
        if id_token and tx.id_token is None:
            tx.id_token, tx.id_token_type = id_token, str(req.id_token.type)
        if info.remote_start_id is not None and tx.remote_start_id is None:
            tx.remote_start_id = info.remote_start_id
        if req.reservation_id is not None and tx.reservation_id is None:  # the reservation this charging uses
            tx.reservation_id = req.reservation_id
        was_active = tx.active
        await records.record_samples(session, tx, samples, charging_state=charging_state if tx.active else None,
                                     seq_no=req.seq_no, offline=bool(req.offline), commit=False)
        if req.event_type == "Ended" and tx.active:
            await records.end_transaction(session, tx, stopped_at=req.timestamp, meter_stop_wh=None,
                                          reason=str(info.stopped_reason) if info.stopped_reason else "Local")
        else:
            await session.commit()
    if created or token_arrived:
        c.bus.publish(TransactionStarted(
            identity=c.identity, tenant_id=c.tenant_id, at=tx.started_at or req.timestamp, transaction_pk=tx.id,
            transaction_id=tx.transaction_id, evse_id=tx.evse_id, connector_id=tx.connector_id, id_token=tx.id_token,
            id_token_type=tx.id_token_type, remote_start_id=tx.remote_start_id, meter_start_wh=tx.meter_start_wh))
    _publish_samples(c, tx.id, samples, charging_state)
    if was_active and not tx.active:
        c.bus.publish(TransactionEnded(
            identity=c.identity, tenant_id=c.tenant_id, at=req.timestamp, transaction_pk=tx.id,
            transaction_id=tx.transaction_id, meter_stop_wh=tx.meter_stop_wh, stop_reason=tx.stop_reason))
    token_info = await _token_info(c, id_token, tx.evse_id) if id_token else None
    return m.TransactionEventResponse(id_token_info=token_info)


async def meter_values(c: StationConnection, req: m.MeterValuesRequest) -> m.MeterValuesResponse:
    return m.MeterValuesResponse()  # outside transactions (2.0.1 puts transaction values in TransactionEvent)


async def reservation_status_update(c: StationConnection, req: m.ReservationStatusUpdateRequest
                                    ) -> m.ReservationStatusUpdateResponse:
    # The station expired or removed a reservation by itself (2.0.1 H04): the OCPI side ends its session, and a
    # removal is the CPO cancelling the reservation (CANCELED_RESERVATION to the eMSP).
    c.bus.publish(ReservationEnded(identity=c.identity, tenant_id=c.tenant_id, at=c.now(),
                                   reservation_id=req.reservation_id, status=str(req.reservation_update_status)))
    return m.ReservationStatusUpdateResponse()


async def data_transfer(c: StationConnection, req: m.DataTransferRequest) -> m.DataTransferResponse:
    return m.DataTransferResponse(status="UnknownVendorId")


HANDLERS = {
    "BootNotification": boot_notification,
    "Heartbeat": heartbeat,
    "StatusNotification": status_notification,
    "Authorize": authorize,
    "TransactionEvent": transaction_event,
    "MeterValues": meter_values,
    "DataTransfer": data_transfer,
    "ReservationStatusUpdate": reservation_status_update,
}
