"""What the embedded CSMS answers to an OCPP 1.6 charge point's CALLs (OCPP 1.6 §4 "Operations initiated by
Charge Point"), and the domain events they produce."""

from __future__ import annotations

from ..domain import csms_records as records
from ..domain.charging_events import (
    ConnectorStatusChanged,
    MeterSampleReceived,
    TransactionEnded,
    TransactionStarted,
)
from ..ocpp.v16 import messages as m
from ..ocpp.v16.datatypes import IdTagInfo
from .connection import StationConnection
from .metering import samples_v16

__all__ = ["HANDLERS"]


async def boot_notification(c: StationConnection, req: m.BootNotificationRequest) -> m.BootNotificationResponse:
    await c.records.booted(c.identity, vendor=req.charge_point_vendor, model=req.charge_point_model,
                           serial_number=req.charge_point_serial_number or req.charge_box_serial_number,
                           firmware_version=req.firmware_version, status="Accepted")
    return m.BootNotificationResponse(status="Accepted", current_time=c.now(),
                                      interval=c.config.heartbeat_interval)


async def heartbeat(c: StationConnection, req: m.HeartbeatRequest) -> m.HeartbeatResponse:
    return m.HeartbeatResponse(current_time=c.now())


async def status_notification(c: StationConnection, req: m.StatusNotificationRequest) -> m.StatusNotificationResponse:
    # 1.6 has no EVSE level: connector n is EVSE n with connector 1; connector 0 is the whole charge point.
    evse_id = req.connector_id
    connector_id = 1 if req.connector_id else 0
    error_code = None if req.error_code == "NoError" else str(req.error_code)
    changed = await c.records.status(c.identity, evse_id, connector_id, str(req.status), error_code, req.info)
    if changed:
        c.bus.publish(ConnectorStatusChanged(
            identity=c.identity, tenant_id=c.tenant_id, at=req.timestamp or c.now(), evse_id=evse_id,
            connector_id=connector_id, ocpp_status=str(req.status), error_code=error_code,
            status=records.neutral_status(str(req.status))))
    return m.StatusNotificationResponse()


async def _id_tag_info(c: StationConnection, id_tag: str, evse_id: int | None = None) -> IdTagInfo:
    status = await c.authorize(id_tag, evse_id=evse_id)
    return IdTagInfo(status="Invalid" if status == "NoCredit" else status)  # 1.6 has no NoCredit


async def authorize(c: StationConnection, req: m.AuthorizeRequest) -> m.AuthorizeResponse:
    return m.AuthorizeResponse(id_tag_info=await _id_tag_info(c, req.id_tag))


async def start_transaction(c: StationConnection, req: m.StartTransactionRequest) -> m.StartTransactionResponse:
    info = await _id_tag_info(c, req.id_tag, req.connector_id)  # 1.6 connector n is EVSE n (status_notification)
    async with c.sessions() as session:
        number = await records.next_transaction_number(session, c.identity)
        tx, _ = await records.start_transaction(
            session, c.identity, str(number), evse_id=req.connector_id, connector_id=1, id_token=req.id_tag,
            id_token_type="RFID", started_at=req.timestamp, meter_start_wh=float(req.meter_start),
            reservation_id=req.reservation_id, charging_state="Charging")
    c.bus.publish(TransactionStarted(
        identity=c.identity, tenant_id=c.tenant_id, at=req.timestamp, transaction_pk=tx.id,
        transaction_id=tx.transaction_id, evse_id=req.connector_id, connector_id=1, id_token=req.id_tag,
        id_token_type="RFID", remote_start_id=None, meter_start_wh=float(req.meter_start)))
    return m.StartTransactionResponse(id_tag_info=info, transaction_id=number)


def _samples(c: StationConnection, transaction_pk: str, samples, charging_state=None) -> None:  # noqa: ANN001
    for s in samples:
        c.bus.publish(MeterSampleReceived(
            identity=c.identity, tenant_id=c.tenant_id, at=s.at, transaction_pk=transaction_pk, energy_wh=s.energy_wh,
            power_w=s.power_w, current_a=s.current_a, voltage_v=s.voltage_v, soc=s.soc,
            charging_state=charging_state))


async def meter_values(c: StationConnection, req: m.MeterValuesRequest) -> m.MeterValuesResponse:
    if req.transaction_id is None:
        return m.MeterValuesResponse()  # meter values outside a transaction: logged, not recorded
    tx = await c.meters.open(c.identity, str(req.transaction_id))
    if tx is None:
        return m.MeterValuesResponse()  # unknown or ended transaction: logged, not recorded
    samples = samples_v16(req.meter_value)
    c.meters.record(tx, samples)  # written in the next batch (csms/meter_buffer.py)
    _samples(c, tx.pk, samples)
    return m.MeterValuesResponse()


async def stop_transaction(c: StationConnection, req: m.StopTransactionRequest) -> m.StopTransactionResponse:
    samples = samples_v16(req.transaction_data or [])
    await c.meters.settle(c.identity, str(req.transaction_id))
    async with c.sessions() as session:
        tx = await records.find_transaction(session, c.identity, str(req.transaction_id))
        if tx is not None and tx.active:
            await records.record_samples(session, tx, samples, commit=False)
            await records.end_transaction(session, tx, stopped_at=req.timestamp, meter_stop_wh=float(req.meter_stop),
                                          reason=str(req.reason) if req.reason else "Local")
    if tx is not None:
        _samples(c, tx.id, samples)
        c.bus.publish(TransactionEnded(
            identity=c.identity, tenant_id=c.tenant_id, at=req.timestamp, transaction_pk=tx.id,
            transaction_id=tx.transaction_id, meter_stop_wh=float(req.meter_stop),
            stop_reason=str(req.reason) if req.reason else "Local"))
    info = await _id_tag_info(c, req.id_tag) if req.id_tag else None
    return m.StopTransactionResponse(id_tag_info=info)


async def data_transfer(c: StationConnection, req: m.DataTransferRequest) -> m.DataTransferResponse:
    # No vendor extensions are known to the sandbox; the spec's answer for that is UnknownVendorId.
    return m.DataTransferResponse(status="UnknownVendorId")


HANDLERS = {
    "BootNotification": boot_notification,
    "Heartbeat": heartbeat,
    "StatusNotification": status_notification,
    "Authorize": authorize,
    "StartTransaction": start_transaction,
    "MeterValues": meter_values,
    "StopTransaction": stop_transaction,
    "DataTransfer": data_transfer,
}
