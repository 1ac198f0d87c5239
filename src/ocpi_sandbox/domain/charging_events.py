"""Domain events the CSMS derives from OCPP traffic, and the in-process bus that delivers them.

This is the seam between the charging side and the OCPI side: the CSMS publishes, after its database
transaction committed, version-neutral facts (a connector's status changed, a transaction started, a meter
sample arrived, a transaction ended); OCPI modules subscribe and turn them into Location PATCHes, Session PUTs
and CDRs. Events carry identities and values, never ORM rows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

import msgspec

__all__ = [
    "ChargingEvent", "StationConnectionChanged", "ConnectorStatusChanged", "TransactionStarted",
    "MeterSampleReceived", "TransactionEnded", "ReservationEnded", "EventBus",
]

log = logging.getLogger(__name__)


class _Event(msgspec.Struct, frozen=True, kw_only=True):
    identity: str            # the charge point identity
    tenant_id: str | None
    at: datetime


class StationConnectionChanged(_Event):
    connected: bool


class ConnectorStatusChanged(_Event):
    """A connector's status as the station reported it, with the version-neutral reading of it."""

    evse_id: int
    connector_id: int
    ocpp_status: str        # 1.6 ChargePointStatus or 2.0.1 ConnectorStatusEnumType, verbatim
    error_code: str | None
    # One of: available, occupied, reserved, unavailable, faulted (the 2.0.1 vocabulary, which 1.6 maps onto).
    status: str


class TransactionStarted(_Event):
    transaction_pk: str
    transaction_id: str
    evse_id: int | None
    connector_id: int | None
    id_token: str | None
    id_token_type: str | None
    remote_start_id: int | None
    meter_start_wh: float | None


class MeterSampleReceived(_Event):
    transaction_pk: str
    energy_wh: float | None
    power_w: float | None
    current_a: float | None
    voltage_v: float | None
    soc: float | None
    charging_state: str | None


class TransactionEnded(_Event):
    transaction_pk: str
    transaction_id: str
    meter_stop_wh: float | None
    stop_reason: str | None


class ReservationEnded(_Event):
    """The station let a reservation go by itself (OCPP 2.0.1 ReservationStatusUpdate; 1.6 has no such message)."""

    reservation_id: int
    status: str             # Expired, or Removed (the EVSE became faulted or unavailable)


ChargingEvent = (StationConnectionChanged | ConnectorStatusChanged | TransactionStarted | MeterSampleReceived
                 | TransactionEnded | ReservationEnded)
Subscriber = Callable[[ChargingEvent], Awaitable[None]]
BatchSubscriber = Callable[[list[ChargingEvent]], Awaitable[None]]


class EventBus:
    """Deliver events to subscribers in publication order, one consumer task, never blocking the publisher.

    The consumer takes every event waiting (up to ``max_batch``) at once. A ``subscribe_batch`` subscriber gets
    them as one list, in order, so that it can do one database transaction for a burst (a thousand stations
    booting at once publish thousands of status events); a ``subscribe`` subscriber gets them one by one.
    """

    max_batch = 500

    def __init__(self) -> None:
        self._subscribers: list[BatchSubscriber] = []
        self._queue: asyncio.Queue[ChargingEvent] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def subscribe(self, subscriber: Subscriber) -> None:
        async def one_by_one(events: list[ChargingEvent]) -> None:
            for event in events:
                try:
                    await subscriber(event)
                except Exception:  # one failing event must not cost the others of its batch
                    log.exception("event subscriber failed on %s", type(event).__name__)

        self._subscribers.append(one_by_one)

    def subscribe_batch(self, subscriber: BatchSubscriber) -> None:
        self._subscribers.append(subscriber)

    def publish(self, event: ChargingEvent) -> None:
        if self._subscribers:
            self._queue.put_nowait(event)

    def start(self) -> None:
        self._task = asyncio.create_task(self._deliver())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def drain(self) -> None:
        """Wait until every published event has been delivered (tests, shutdown)."""
        await self._queue.join()

    async def _deliver(self) -> None:
        while True:
            events = [await self._queue.get()]
            while len(events) < self.max_batch and not self._queue.empty():
                events.append(self._queue.get_nowait())
            try:
                for subscriber in self._subscribers:
                    try:
                        await subscriber(events)
                    except Exception:  # one failing consumer must not starve the others
                        log.exception("event subscriber failed on a batch of %d events", len(events))
            finally:
                for _ in events:
                    self._queue.task_done()
