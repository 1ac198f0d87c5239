"""Drive an ``OcppSession`` with asyncio over any text transport: await our CALLs, answer the peer's.

This is the one asyncio layer both sides share. It opens no socket: the transport hands in each received text
message (``feed``) and gives a ``send`` coroutine. Incoming CALLs are answered by one worker task per
connection, in arrival order, so a handler may itself await a CALL of ours without blocking the reader
(the answer to it arrives through ``feed`` meanwhile).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from .events import (
    CallReceived,
    CallRejected,
    CallTimedOut,
    ErrorReceived,
    FrameRejected,
    LateResponse,
    ResultReceived,
    ResultRejected,
    UnknownResponse,
)
from .framing import ERROR_CODES
from .session import OcppSession

__all__ = ["OcppRpc", "CallFailed", "CallTimeout", "ConnectionLost", "CallErrorReply"]

log = logging.getLogger(__name__)


class CallErrorReply(msgspec.Struct, frozen=True):
    """What a CALL handler returns to answer with a CALLERROR instead of a result."""

    error_code: str
    description: str = ""


class CallFailed(Exception):
    """Our CALL was answered with a CALLERROR, or with an answer that does not fit the schema."""

    def __init__(self, action: str, error_code: str, description: str) -> None:
        super().__init__(f"{action} failed: {error_code} {description}".strip())
        self.action, self.error_code, self.description = action, error_code, description


class CallTimeout(Exception):
    """Our CALL got no answer within the session's response timeout."""


class ConnectionLost(Exception):
    """The connection closed before our CALL was answered."""


Handler = Callable[[CallReceived], Awaitable["msgspec.Struct | CallErrorReply"]]
FrameObserver = Callable[[str, str], None]  # (direction "in"/"out", raw text)


class OcppRpc:
    def __init__(self, session: OcppSession, send: Callable[[str], Awaitable[None]], handler: Handler, *,
                 on_frame: FrameObserver | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.session = session
        self._send = send
        self._handler = handler
        self._on_frame = on_frame
        self._clock = clock
        self._futures: dict[str, asyncio.Future[msgspec.Struct]] = {}
        self._incoming: asyncio.Queue[CallReceived | None] = asyncio.Queue()
        self._wakeup = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._send_lock = asyncio.Lock()
        self.closed = False

    # --------------------------------------------------------------------------------------------- life-cycle

    def start(self) -> None:
        """Start the timer and the CALL worker; call once the transport is open."""
        self._tasks = [asyncio.create_task(self._timers()), asyncio.create_task(self._answer_calls())]

    async def close(self) -> None:
        """Stop the tasks and fail every CALL still waiting for an answer."""
        self.closed = True
        for future in self._futures.values():
            if not future.done():
                future.set_exception(ConnectionLost("the connection closed before the answer came"))
        self._futures.clear()
        self._incoming.put_nowait(None)
        for task in self._tasks:
            task.cancel()
        # gather, not "await task" in a try: a cancellation of the caller itself must go through, or a station
        # task cancelled while closing would swallow it and live on (it hung the event loop's shutdown).
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ------------------------------------------------------------------------------------------------ calling

    def call_soon(self, action: str, payload: msgspec.Struct) -> asyncio.Future[msgspec.Struct]:
        """Queue a CALL and return a future for its answer (CallFailed, CallTimeout, ConnectionLost)."""
        if self.closed:
            future: asyncio.Future[msgspec.Struct] = asyncio.get_running_loop().create_future()
            future.set_exception(ConnectionLost("the connection is closed"))
            return future
        unique_id = self.session.call(action, payload, self._clock())
        future = asyncio.get_running_loop().create_future()
        self._futures[unique_id] = future
        self._wakeup.set()
        asyncio.ensure_future(self._flush())
        return future

    async def call(self, action: str, payload: msgspec.Struct) -> msgspec.Struct:
        """Send a CALL and return the peer's response Struct."""
        return await self.call_soon(action, payload)

    # ---------------------------------------------------------------------------------------------- receiving

    async def feed(self, text: str | bytes) -> None:
        """Take one received text message; never raises for anything the peer sent."""
        if self._on_frame:
            self._on_frame("in", text if isinstance(text, str) else text.decode("utf-8", "replace"))
        for event in self.session.receive(text, self._clock()):
            self._dispatch(event)
        await self._flush()

    def _dispatch(self, event: Any) -> None:
        if isinstance(event, CallReceived):
            self._incoming.put_nowait(event)
        elif isinstance(event, ResultReceived):
            self._resolve(event.unique_id, result=event.response)
        elif isinstance(event, ErrorReceived):
            self._resolve(event.unique_id, error=CallFailed(event.action, event.error_code, event.error_description))
        elif isinstance(event, ResultRejected):
            self._resolve(event.unique_id, error=CallFailed(event.action, event.error_code, event.description))
        elif isinstance(event, CallTimedOut):
            self._resolve(event.unique_id, error=CallTimeout(
                f"{event.action} got no answer within {self.session.response_timeout:g} s"))
        elif isinstance(event, (CallRejected, FrameRejected, LateResponse, UnknownResponse)):
            log.info("OCPP %s: %s", type(event).__name__, event)

    def _resolve(self, unique_id: str, *, result: msgspec.Struct | None = None,
                 error: Exception | None = None) -> None:
        future = self._futures.pop(unique_id, None)
        if future is None or future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    # ------------------------------------------------------------------------------------------------ sending

    async def _flush(self) -> None:
        frames = self.session.frames_to_send()
        if not frames or self.closed:
            return
        async with self._send_lock:  # keeps frames in order when several tasks flush at once
            for frame in frames:
                if self._on_frame:
                    self._on_frame("out", frame)
                try:
                    await self._send(frame)
                except Exception as exc:  # noqa: BLE001 - a dead transport ends the connection elsewhere
                    log.debug("send failed: %s", exc)
                    return

    async def _answer_calls(self) -> None:
        while (event := await self._incoming.get()) is not None:
            try:
                answer = await self._handler(event)
            except Exception as exc:  # a handler bug must not kill the connection
                log.exception("handling %s failed", event.action)
                answer = CallErrorReply(ERROR_CODES[self.session.version].internal_error,
                                        f"{type(exc).__name__} while handling {event.action}")
            try:
                if isinstance(answer, CallErrorReply):
                    self.session.reply_error(event.unique_id, answer.error_code, answer.description)
                else:
                    self.session.reply(event.unique_id, answer)
            except TypeError as exc:  # our handler built the wrong response type: still answer the peer
                log.error("cannot answer %s %s: %s", event.action, event.unique_id, exc)
                self.session.reply_error(event.unique_id, ERROR_CODES[self.session.version].internal_error,
                                         "the answer did not fit the response schema")
            except (KeyError, ValueError) as exc:  # the CALL is no longer awaiting an answer
                log.error("cannot answer %s %s: %s", event.action, event.unique_id, exc)
            await self._flush()

    async def _timers(self) -> None:
        while True:
            deadline = self.session.next_deadline()
            self._wakeup.clear()
            timeout = None if deadline is None else max(0.0, deadline - self._clock())
            try:
                async with asyncio.timeout(timeout):  # not wait_for: no task per wait
                    await self._wakeup.wait()
            except TimeoutError:
                for event in self.session.expire(self._clock()):
                    self._dispatch(event)
                await self._flush()
