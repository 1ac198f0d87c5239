"""What the CSMS's write-behind buffers share (the frame log, the meter buffer): one flush at a time, a flush every
``flush_interval`` seconds, and a last flush when the loop is cancelled (shutdown)."""

from __future__ import annotations

import asyncio

__all__ = ["WriteBehind"]


class WriteBehind:
    def __init__(self, flush_interval: float) -> None:
        self.flush_interval = flush_interval
        # One flush at a time: a flush() that finds nothing buffered must still wait for the rows another flush
        # has taken but not yet committed, or "flushed" would not mean "readable".
        self._flushing = asyncio.Lock()

    async def flush(self) -> int:
        """Write what is buffered, after any flush already under way; return how many rows were written."""
        async with self._flushing:
            return await self._write_buffered()

    async def _write_buffered(self) -> int:
        raise NotImplementedError

    async def run(self) -> None:
        """Flush every ``flush_interval`` seconds until cancelled, then flush what is left."""
        try:
            while True:
                await asyncio.sleep(self.flush_interval)
                await self.flush()
        finally:
            await asyncio.shield(self.flush())
