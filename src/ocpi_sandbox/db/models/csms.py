"""What the embedded CSMS knows: stations, connector statuses, transactions, meter samples, ID tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, new_id, utcnow

__all__ = ["CsmsStation", "CsmsConnector", "CsmsTransaction", "CsmsMeterSample", "CsmsIdToken"]


class CsmsStation(Base):
    """A charging station as the CSMS sees it (identity, boot data, connection)."""

    __tablename__ = "csms_stations"

    identity: Mapped[str] = mapped_column(String(48), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), default=None)
    ocpp_version: Mapped[str | None] = mapped_column(String(8), default=None)
    vendor: Mapped[str | None] = mapped_column(String(50), default=None)
    model: Mapped[str | None] = mapped_column(String(50), default=None)
    serial_number: Mapped[str | None] = mapped_column(String(50), default=None)
    firmware_version: Mapped[str | None] = mapped_column(String(50), default=None)
    registration_status: Mapped[str | None] = mapped_column(String(16), default=None)  # Accepted/Pending/Rejected
    # Optional Basic auth password the station must present (security profile 1); None: no check.
    password: Mapped[str | None] = mapped_column(String(64), default=None)
    connected: Mapped[bool] = mapped_column(default=False)
    last_boot_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CsmsConnector(Base):
    """The last status a station reported for one connector (evse 0 / connector 0: the station)."""

    __tablename__ = "csms_connectors"

    identity: Mapped[str] = mapped_column(ForeignKey("csms_stations.identity", ondelete="CASCADE"),
                                          primary_key=True)
    evse_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connector_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))       # as the station's version spells it
    error_code: Mapped[str | None] = mapped_column(String(32), default=None)
    info: Mapped[str | None] = mapped_column(String(255), default=None)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CsmsTransaction(Base):
    """One OCPP transaction: 1.6 Start/StopTransaction or a 2.0.1 TransactionEvent stream."""

    __tablename__ = "csms_transactions"
    __table_args__ = (UniqueConstraint("identity", "transaction_id", name="uq_csms_transactions_station_tx"),
                      Index("ix_csms_transactions_identity_active", "identity", "active"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    identity: Mapped[str] = mapped_column(ForeignKey("csms_stations.identity", ondelete="CASCADE"))
    # 1.6: the integer we assigned, as text; 2.0.1: the station's own id.
    transaction_id: Mapped[str] = mapped_column(String(36))
    evse_id: Mapped[int | None] = mapped_column(Integer, default=None)
    connector_id: Mapped[int | None] = mapped_column(Integer, default=None)
    id_token: Mapped[str | None] = mapped_column(String(36), default=None)
    id_token_type: Mapped[str | None] = mapped_column(String(20), default=None)
    remote_start_id: Mapped[int | None] = mapped_column(Integer, default=None)
    reservation_id: Mapped[int | None] = mapped_column(Integer, default=None)
    active: Mapped[bool] = mapped_column(default=True)
    charging_state: Mapped[str | None] = mapped_column(String(16), default=None)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    meter_start_wh: Mapped[float | None] = mapped_column(Float, default=None)
    meter_last_wh: Mapped[float | None] = mapped_column(Float, default=None)
    meter_stop_wh: Mapped[float | None] = mapped_column(Float, default=None)
    stop_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    # 2.0.1: every seqNo received, so gaps and replays are visible; events are applied in seqNo order.
    seq_nos: Mapped[list] = mapped_column(JSON, default=list)
    offline_events: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class CsmsMeterSample(Base):
    """One sampled meter value of a transaction (the measurands the station reported at one timestamp)."""

    __tablename__ = "csms_meter_samples"
    __table_args__ = (Index("ix_csms_meter_samples_tx_at", "transaction_pk", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transaction_pk: Mapped[str] = mapped_column(ForeignKey("csms_transactions.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    context: Mapped[str | None] = mapped_column(String(24), default=None)
    energy_wh: Mapped[float | None] = mapped_column(Float, default=None)
    power_w: Mapped[float | None] = mapped_column(Float, default=None)
    current_a: Mapped[float | None] = mapped_column(Float, default=None)
    voltage_v: Mapped[float | None] = mapped_column(Float, default=None)
    soc: Mapped[float | None] = mapped_column(Float, default=None)


class CsmsIdToken(Base):
    """An ID token the embedded CSMS knows, with the status Authorize answers for it."""

    __tablename__ = "csms_id_tokens"
    __table_args__ = (UniqueConstraint("tenant_id", "id_token", name="uq_csms_id_tokens_token"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    id_token: Mapped[str] = mapped_column(String(36))
    token_type: Mapped[str] = mapped_column(String(20), default="ISO14443")
    status: Mapped[str] = mapped_column(String(16), default="Accepted")  # Accepted, Blocked, Expired, Invalid
    note: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
