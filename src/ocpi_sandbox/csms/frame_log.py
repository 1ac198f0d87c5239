"""Append every OCPP-J frame, both ways, to its charge point's log, in batches.

Thousands of chargers produce thousands of frames a second; one INSERT per frame would make the database the
bottleneck, so frames are buffered in memory and written with one bulk INSERT per flush (measured on SQLite:
150k rows/s in bulk against 6-8k rows/s one by one). A frame is in the log at most ``flush_interval`` after
it crossed the wire. Old frames are pruned by the retention setting.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

import msgspec
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import ChargerFrame

__all__ = ["FrameLog", "frame_head"]

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


class FrameLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, flush_interval: float = 0.5,
                 retention: timedelta = timedelta(days=7)) -> None:
        self._sessions = sessions
        self._buffer: list[dict] = []
        self._call_actions: OrderedDict[tuple[str, str], str] = OrderedDict()
        self.flush_interval = flush_interval
        self.retention = retention
        # One flush at a time: a flush() that finds the buffer empty must still wait for the rows another flush
        # has taken but not yet committed, or "flushed" would not mean "readable".
        self._flushing = asyncio.Lock()

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
        self._buffer.append({"identity": identity, "at": at or datetime.now(UTC), "direction": direction,
                             "message_type": message_type, "action": action, "unique_id": unique_id,
                             "side": side, "frame": text})

    @property
    def pending(self) -> int:
        return len(self._buffer)

    async def flush(self) -> int:
        """Write what is buffered, after any flush already under way; return how many frames were written."""
        async with self._flushing:
            rows, self._buffer = self._buffer, []
            if not rows:
                return 0
            try:
                async with self._sessions() as session:
                    await session.execute(insert(ChargerFrame), rows)
                    await session.commit()
            except Exception:  # the log must never take the chargers down; keep the rows for the next try
                log.exception("could not write %d OCPP frames to the log; retrying", len(rows))
                self._buffer = rows + self._buffer
                return 0
            return len(rows)

    async def run(self) -> None:
        """Flush every ``flush_interval`` seconds until cancelled, then flush what is left."""
        try:
            while True:
                await asyncio.sleep(self.flush_interval)
                await self.flush()
        finally:
            await asyncio.shield(self.flush())

    async def prune(self) -> int:
        """Delete frames older than the retention; return how many went."""
        cutoff = datetime.now(UTC) - self.retention
        async with self._sessions() as session:
            result = await session.execute(delete(ChargerFrame).where(ChargerFrame.at < cutoff))
            await session.commit()
        return result.rowcount or 0
