"""Append every OCPP-J frame, both ways, to its charge point's log, in batches.

Thousands of chargers produce thousands of frames a second; one INSERT per frame would make the database the
bottleneck, so frames are buffered in memory and written with one bulk INSERT per flush (measured on SQLite:
150k rows/s in bulk against 6-8k rows/s one by one). A frame is in the log at most ``flush_interval`` after
it crossed the wire. Old frames are pruned by the retention setting.

Readers that want frames as they happen (the live log stream, a command waiting for the frames it caused)
``subscribe`` to one charger's frames. Each subscription holds a bounded queue: a reader that falls behind loses
the newest frames and is told how many, so one slow client never makes the sandbox's memory grow.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from datetime import UTC, datetime, timedelta

import msgspec
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import ChargerFrame
from .write_behind import WriteBehind

__all__ = ["FrameLog", "FrameSubscription", "FramesDropped", "frame_head"]

log = logging.getLogger(__name__)

_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])
_ACTIONS_REMEMBERED = 50_000  # CALL ids whose CALLRESULT has not come yet, for naming the result's action


def frame_head(text: str) -> tuple[int | None, str | None, str | None]:
    """Return (message type, unique id, action of a CALL) without decoding the payload; Nones if unreadable."""
    try:
        parts = _RAW_LIST.decode(text)
        message_type = msgspec.json.decode(parts[0], type=int)
        unique_id = msgspec.json.decode(parts[1], type=str)
        action = msgspec.json.decode(parts[2], type=str) if message_type == 2 and len(parts) > 2 else None
    except (msgspec.DecodeError, IndexError, TypeError):
        return None, None, None
    return message_type, unique_id[:64], action[:64] if action else None


class FramesDropped(msgspec.Struct, frozen=True):
    """Stands in a subscription for frames that were dropped because its reader fell behind."""

    count: int


class FrameSubscription:
    """One reader's view of a charger's new frames: a bounded queue, read with ``get`` (see the module docstring).

    Each frame is the dict the log buffers (identity, at, direction, message_type, action, unique_id, side,
    frame); treat it as read-only, the log and other readers share it.
    """

    def __init__(self, frame_log: FrameLog, identity: str, max_queued: int) -> None:
        self._log = frame_log
        self.identity = identity
        self._max = max_queued
        self._queue: deque[dict | FramesDropped] = deque()
        self._dropped = 0
        self._ready = asyncio.Event()
        self.closed = False

    def _offer(self, frame: dict) -> None:
        if len(self._queue) >= self._max:
            self._dropped += 1
            return
        if self._dropped:  # the gap goes where the frames went missing, before the next one kept
            self._queue.append(FramesDropped(self._dropped))
            self._dropped = 0
        self._queue.append(frame)
        self._ready.set()

    def get_nowait(self) -> dict | FramesDropped | None:
        """Return the next frame (or a drop notice) if one is waiting, else None."""
        if self._queue:
            return self._queue.popleft()
        if self._dropped:
            dropped, self._dropped = FramesDropped(self._dropped), 0
            return dropped
        self._ready.clear()
        return None

    async def get(self, timeout: float | None = None) -> dict | FramesDropped | None:
        """Wait for the next frame (or a drop notice); None when ``timeout`` seconds pass without one."""
        while True:
            item = self.get_nowait()
            if item is not None or self.closed:
                return item
            try:
                async with asyncio.timeout(timeout):  # not wait_for: no task per wait (a fan-out waits thousands)
                    await self._ready.wait()
            except TimeoutError:
                return None

    def close(self) -> None:
        """Stop receiving frames (idempotent)."""
        if not self.closed:
            self.closed = True
            self._log._unsubscribe(self)
            self._ready.set()

    def __enter__(self) -> FrameSubscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FrameLog(WriteBehind):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, flush_interval: float = 0.5,
                 retention: timedelta = timedelta(days=7)) -> None:
        super().__init__(flush_interval)
        self._sessions = sessions
        self._buffer: list[dict] = []
        self._call_actions: OrderedDict[tuple[str, str], str] = OrderedDict()
        self.retention = retention
        self._subscribers: dict[str, set[FrameSubscription]] = {}

    def append(self, identity: str, direction: str, text: str, side: str, at: datetime | None = None) -> None:
        """Buffer one frame; ``direction`` is "sent" or "received" as seen from the charge point."""
        message_type, unique_id, action = frame_head(text)
        if unique_id is not None:
            key = (identity, unique_id)
            if message_type == 2 and action:
                self._call_actions[key] = action
                if len(self._call_actions) > _ACTIONS_REMEMBERED:
                    self._call_actions.popitem(last=False)
            elif message_type in (3, 4):
                action = self._call_actions.pop(key, None)
        row = {"identity": identity, "at": at or datetime.now(UTC), "direction": direction,
               "message_type": message_type, "action": action, "unique_id": unique_id, "side": side, "frame": text}
        self._buffer.append(row)
        if self._subscribers:
            for subscription in self._subscribers.get(identity, ()):
                subscription._offer(row)

    def subscribe(self, identity: str, *, max_queued: int = 1000) -> FrameSubscription:
        """Receive ``identity``'s frames from now on, as they are appended; ``close()`` the subscription after."""
        subscription = FrameSubscription(self, identity, max_queued)
        self._subscribers.setdefault(identity, set()).add(subscription)
        return subscription

    def _unsubscribe(self, subscription: FrameSubscription) -> None:
        readers = self._subscribers.get(subscription.identity)
        if readers is not None:
            readers.discard(subscription)
            if not readers:
                del self._subscribers[subscription.identity]

    @property
    def subscriptions(self) -> int:
        return sum(len(readers) for readers in self._subscribers.values())

    @property
    def pending(self) -> int:
        return len(self._buffer)

    async def _write_buffered(self) -> int:
        rows, self._buffer = self._buffer, []
        if not rows:
            return 0
        try:
            async with self._sessions() as session:
                # A Core executemany, not an ORM bulk insert: at thousands of chargers the ORM's per-row
                # bookkeeping was a sixth of the CSMS's CPU (py-spy, docs/performance.md).
                await (await session.connection()).execute(insert(ChargerFrame.__table__), rows)
                await session.commit()
        except Exception:  # the log must never take the chargers down; keep the rows for the next try
            log.exception("could not write %d OCPP frames to the log; retrying", len(rows))
            self._buffer = rows + self._buffer
            return 0
        return len(rows)

    async def prune(self) -> int:
        """Delete frames older than the retention; return how many went."""
        cutoff = datetime.now(UTC) - self.retention
        async with self._sessions() as session:
            result = await session.execute(delete(ChargerFrame).where(ChargerFrame.at < cutoff))
            await session.commit()
        return result.rowcount or 0
