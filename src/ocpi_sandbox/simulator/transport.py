"""Connect one simulated station to its CSMS over a WebSocket, and keep it connected.

The only module on the charger side that imports ``websockets``. It opens ``<csms_url>/<identity>`` offering
the station's OCPP version (compression off: it costs ~40 KiB per connection and nothing a loopback needs),
with HTTP Basic credentials when the station has a password (security profile 1/2), and then:

- feeds every received frame to the RPC and hands decoded CALLs to ``Station.handle_call``;
- sends what ``Station.take_calls`` releases, routing each answer to ``handle_result``/``handle_failure``;
- reconnects after *any* close, with the OCPP 2.0.1 back-off (RetryBackOffWaitMinimum doubled up to
  RetryBackOffRepeatTimes times, plus RetryBackOffRandomRange jitter), so a CSMS restart sees a spread of
  reconnects, not a stampede.

Physics and timers are ticked by the fleet on a shared beat; ``pump()`` is what the fleet calls after a tick.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from ..ocpp.events import CallReceived
from ..ocpp.rpc import CallErrorReply, CallFailed, CallTimeout, ConnectionLost, OcppRpc
from ..ocpp.session import OcppSession

__all__ = ["StationLink", "BackOff", "Chaos"]

log = logging.getLogger(__name__)


class BackOff(msgspec.Struct, kw_only=True):
    """OCPP 2.0.1 B10 reconnect back-off: minimum, doublings, random range (seconds)."""

    minimum: float = 3.0
    repeat_times: int = 5
    random_range: float = 2.0

    def delay(self, attempt: int) -> float:
        return self.minimum * 2 ** min(attempt, self.repeat_times) + random.uniform(0, self.random_range)


class Chaos(msgspec.Struct, kw_only=True):
    """CSMS-facing misbehaviour, for CSMS teams testing their error paths."""

    response_delay: float = 0.0       # seconds before answering any CSMS CALL
    drop_responses: float = 0.0       # share (0..1) of CSMS CALLs left unanswered
    callerror_responses: float = 0.0  # share (0..1) of CSMS CALLs answered with CALLERROR InternalError


async def _finished(task: asyncio.Task) -> None:
    """Wait for a cancelled ``task`` to end, whatever it raises; a cancellation of the caller still goes through
    (an ``await task`` in try/except CancelledError would swallow it, and the caller would live on)."""
    await asyncio.gather(task, return_exceptions=True)


# Messages a station sends on its own clock that change nothing a restart must keep: the physics that meter
# values report is integrated again over the gap on restore (Station.restore).
_PERIODIC_TRIGGERS = frozenset({"MeterValuePeriodic", "MeterValueClock"})


def _moves_state(action: str, payload: msgspec.Struct) -> bool:
    if action in ("Heartbeat", "MeterValues"):
        return False
    if action == "TransactionEvent":
        return str(getattr(payload, "trigger_reason", "")) not in _PERIODIC_TRIGGERS
    return True


class StationLink:
    """One station's connection life-cycle. ``station`` follows the ``simulator.station.Station`` interface."""

    def __init__(self, station: Any, *, csms_url: str, identity: str, version: str, password: str | None = None,
                 on_frame: Callable[[str, str, str], None] | None = None, backoff: BackOff | None = None,
                 handshake_slots: asyncio.Semaphore | None = None, response_timeout: float = 30.0,
                 clock: Callable[[], float] = time.monotonic,
                 on_pumped: Callable[[StationLink], None] | None = None) -> None:
        self.station = station
        self.identity, self.version, self.password = identity, version, password
        self.url = f"{csms_url.rstrip('/')}/{quote(identity, safe='')}"
        self.backoff = backoff or BackOff()
        self.chaos = Chaos()
        self._on_frame = on_frame
        self._slots = handshake_slots
        self._timeout = response_timeout
        self._clock = clock
        self._on_pumped = on_pumped
        self._rpc: OcppRpc | None = None
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.connected = asyncio.Event()
        self.last_error: str | None = None
        # Set when the station's state moved in a way a restart must not lose (it answered the CSMS, or sent
        # something other than a heartbeat or a periodic meter value); whoever persists snapshots clears it.
        self.dirty = False
        self.connects = 0

    # ------------------------------------------------------------------------------------------- life-cycle

    def start(self) -> None:
        self._stopping = False
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"station {self.identity}")

    async def stop(self) -> None:
        """Close the connection and stop reconnecting (the station keeps its state)."""
        self._stopping = True
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            await _finished(self._task)
        self._task = None

    async def drop(self) -> None:
        """Break the connection as a network failure would; the link reconnects by itself."""
        if self._ws is not None:
            self._ws.transport.abort()

    async def go_offline(self) -> None:
        """Break the connection as a network failure would, and stay offline until ``reconnect_now()``."""
        self._stopping = True
        task, self._task = self._task, None
        if task is None or task.done():
            return
        if self._ws is not None:
            self._ws.transport.abort()
            # Let the connection wind down by itself, so that the station hears it is offline.
            done, _ = await asyncio.wait({task}, timeout=10)
            if done:
                return
        task.cancel()  # waiting out a back-off, or mid-handshake: nothing to wind down
        await _finished(task)

    async def reconnect_now(self) -> None:
        """Connect at once, ending a back-off wait or an offline hold instead of waiting it out."""
        if self.connected.is_set():
            return
        task = self._task
        if task is not None and not task.done() and self._ws is None:
            task.cancel()
            await _finished(task)
            self._task = None
        self.start()

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            try:
                await self._connect_once()
                attempt = 0
            except asyncio.CancelledError:
                raise
            except (OSError, InvalidHandshake, InvalidURI, TimeoutError, ConnectionClosed) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.debug("%s: connection failed: %s", self.identity, self.last_error)
            if self._stopping:
                break
            await asyncio.sleep(self.backoff.delay(attempt))
            attempt += 1

    def _headers(self) -> dict[str, str]:
        if not self.password:
            return {}
        credentials = base64.b64encode(f"{self.identity}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {credentials}"}

    async def _open(self) -> ClientConnection:
        # Pings as the station's WebSocketPingInterval says (websockets would ping every 20 s, which for ten
        # thousand stations is more frames than their meter values).
        ping_interval = self.station.websocket_ping_interval()
        opening = connect(self.url, subprotocols=[f"ocpp{self.version}"], compression=None,
                          additional_headers=self._headers(), open_timeout=20, max_queue=64,
                          ping_interval=ping_interval, ping_timeout=ping_interval)
        if self._slots is None:
            return await opening
        async with self._slots:  # staggers handshakes so a large fleet does not storm the CSMS
            return await opening

    async def _connect_once(self) -> None:
        ws = await self._open()
        self._ws = ws
        session = OcppSession(self.version, response_timeout=self._timeout)
        rpc = OcppRpc(session, ws.send, self._answer, on_frame=self._frame)
        self._rpc = rpc
        rpc.start()
        self.connects += 1
        self.last_error = None
        self.station.on_connected(self._clock())
        self.connected.set()
        self.pump()
        try:
            async for text in ws:
                await rpc.feed(text)
                self.pump()
        finally:
            self.connected.clear()
            self._rpc, self._ws = None, None
            await rpc.close()
            self.station.on_disconnected(self._clock())
            self.pump()  # nothing goes out now, but offline the station's timers differ

    # ---------------------------------------------------------------------------------------------- traffic

    def _frame(self, direction: str, text: str) -> None:
        if self._on_frame is not None:
            # "out" from the station is what it sent.
            self._on_frame(self.identity, "sent" if direction == "out" else "received", text)

    async def _answer(self, event: CallReceived) -> msgspec.Struct | CallErrorReply:
        chaos = self.chaos
        if chaos.response_delay:
            await asyncio.sleep(chaos.response_delay)
        if chaos.drop_responses and random.random() < chaos.drop_responses:
            await asyncio.Event().wait()  # never answer; the worker is cancelled when the connection closes
        if chaos.callerror_responses and random.random() < chaos.callerror_responses:
            return CallErrorReply("InternalError", "simulated failure (chaos switch)")
        answer = self.station.handle_call(event.action, event.request, self._clock())
        self.dirty = True
        self.pump()  # answering may release CALLs (e.g. a remote start sends StartTransaction)
        return answer

    def pump(self) -> None:
        """Send every CALL the station releases now, and let the fleet know when the station wants to wake."""
        self._send_released()
        if self._on_pumped is not None:
            self._on_pumped(self)

    def _send_released(self) -> None:
        rpc = self._rpc
        if rpc is None or rpc.closed:
            return
        for action, payload in self.station.take_calls():
            if _moves_state(action, payload):
                self.dirty = True
            future = rpc.call_soon(action, payload)
            future.add_done_callback(self._answered(action, payload))

    def _answered(self, action: str, payload: msgspec.Struct) -> Callable[[asyncio.Future], None]:
        def done(future: asyncio.Future) -> None:
            now = self._clock()
            try:
                response = future.result()
            except (CallFailed, CallTimeout, ConnectionLost) as exc:
                self.station.handle_failure(action, payload, str(exc), now)
            except asyncio.CancelledError:
                self.station.handle_failure(action, payload, "cancelled", now)
            else:
                self.station.handle_result(action, payload, response, now)
            self.pump()

        return done

    async def send_raw(self, text: str) -> None:
        """Send a frame as is (the chaos switch "send a malformed frame"); it is logged like any other."""
        ws = self._ws
        if ws is None:
            raise ConnectionLost("not connected")
        self._frame("out", text)
        try:
            await ws.send(text)
        except ConnectionClosed as exc:
            raise ConnectionLost(f"the connection closed: {exc}") from None
