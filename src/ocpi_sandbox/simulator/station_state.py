"""Hold the version-neutral state of a simulated station: EVSEs, connectors, sessions, transactions.

Plain msgspec Structs with plain attributes, so a snapshot is ``msgspec.to_builtins`` of them. A naming rule
keeps snapshots portable across process restarts: fields ending in ``_at`` are times on the station's
monotonic clock (the ``now`` every entry point receives) and are stored relative to the snapshot; wall-clock
times are ISO 8601 strings in fields ending in ``_time``.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "IdToken",
    "TokenInfo",
    "Authorization",
    "Reservation",
    "Transaction",
    "ConnectorState",
    "EvseState",
    "Job",
    "to_relative",
    "to_absolute",
]


class IdToken(msgspec.Struct, kw_only=True, frozen=True):
    """An identifier presented to the station: 1.6 idTag, 2.0.1 IdToken (with its type)."""

    id: str
    type: str = "ISO14443"


class TokenInfo(msgspec.Struct, kw_only=True):
    """What the station knows about a token (local authorization list or authorization cache)."""

    status: str  # 1.6 AuthorizationStatus / 2.0.1 AuthorizationStatusEnumType
    expiry_time: str | None = None
    group: str | None = None  # 1.6 parentIdTag, 2.0.1 groupIdToken.idToken
    type: str | None = None


class Authorization(msgspec.Struct, kw_only=True):
    """The authorization of the session on one EVSE: who, how far it got, and what came with it."""

    token: IdToken
    accepted: bool = False  # False: an Authorize CALL is out
    remote: bool = False
    remote_start_id: int | None = None
    group: str | None = None
    reservation_id: int | None = None
    plug_deadline_at: float | None = None  # ConnectionTimeOut / EVConnectionTimeOut, waiting for the cable
    profile: dict[str, Any] | None = None  # TxProfile given with a remote start (2.0.1 wire shape)


class Reservation(msgspec.Struct, kw_only=True):
    """A ReserveNow the station accepted (1.6 §5.13, 2.0.1 H01)."""

    id: int
    token: str
    group: str | None = None
    connector_id: int | None = None  # None: any connector of the EVSE
    connector_type: str | None = None
    expires_at: float


class Transaction(msgspec.Struct, kw_only=True):
    """A transaction on one EVSE. ``id`` is the station's (2.0.1 transactionId); 1.6 adds the CSMS's."""

    id: str
    connector_id: int | None
    started_time: str
    meter_start: float
    token: IdToken | None = None
    authorized: bool = False
    remote_start_id: int | None = None
    reservation_id: int | None = None
    seq_no: int = 0  # next 2.0.1 seqNo
    csms_id: int | None = None  # 1.6 StartTransaction.conf transactionId
    bound: bool = False  # registered with the charging-profile store
    last_sample_at: float = 0.0
    charging_time: float = 0.0  # seconds with energy flowing (2.0.1 timeSpentCharging)
    charging_started_time: str | None = None
    reported_state: str | None = None  # the last 2.0.1 chargingState sent
    reported_limit_w: float | None = None  # the limit behind the last ChargingRateChanged
    evse_reported: bool = False
    stop_reason: str | None = None  # set when deauthorized but the transaction lasts until unplug
    stop_token: IdToken | None = None
    invalid: bool = False  # the CSMS rejected the token and StopTxOnInvalidId is false: no energy


class ConnectorState(msgspec.Struct, kw_only=True):
    """One connector: its meter register (Wh, never re-based), fault and availability."""

    id: int
    register_wh: float = 0.0
    fault: str | None = None  # 1.6 ChargePointErrorCode (also the 2.0.1 techCode)
    fault_info: str | None = None
    operative: bool = True


class EvseState(msgspec.Struct, kw_only=True):
    """One EVSE: its connectors, the EV on one of them, the session, the transaction and the power flow."""

    id: int
    connectors: list[ConnectorState]
    operative: bool = True
    scheduled_operative: bool | None = None  # ChangeAvailability answered Scheduled
    plugged: int | None = None  # connector id the EV is plugged into
    ev: Any = None  # ev.Ev while plugged
    auth: Authorization | None = None
    tx: Transaction | None = None
    finishing: bool = False  # the transaction ended, the cable is still in
    reservation: Reservation | None = None
    power_w: float = 0.0
    offered_w: float = 0.0
    limit_w: float | None = None
    voltage: float = 0.0
    phases: int = 0
    state: str | None = None  # Charging, SuspendedEV, SuspendedEVSE while energy may flow

    def connector(self, connector_id: int) -> ConnectorState:
        for connector in self.connectors:
            if connector.id == connector_id:
                return connector
        raise KeyError(connector_id)


class Job(msgspec.Struct, kw_only=True):
    """A step of a simulated firmware update or log upload, due at ``due_at``."""

    kind: str  # firmware, log, diagnostics, reboot
    step: str
    due_at: float
    request_id: int | None = None
    location: str = ""
    data: dict[str, Any] = {}


def to_relative(value: Any, now: float) -> Any:
    """Rewrite every ``*_at`` float as seconds from ``now`` (rounded to µs), recursively, for a snapshot."""
    if isinstance(value, dict):
        return {k: (round(v - now, 6) if k.endswith("_at") and isinstance(v, (int, float))
                    and not isinstance(v, bool) else to_relative(v, now)) for k, v in value.items()}
    if isinstance(value, list):
        return [to_relative(v, now) for v in value]
    return value


def to_absolute(value: Any, now: float) -> Any:
    """Undo ``to_relative`` against a new ``now``."""
    if isinstance(value, dict):
        return {k: (now + v if k.endswith("_at") and isinstance(v, (int, float))
                    and not isinstance(v, bool) else to_absolute(v, now)) for k, v in value.items()}
    if isinstance(value, list):
        return [to_absolute(v, now) for v in value]
    return value
