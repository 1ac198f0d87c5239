"""Keep meter values off the database's critical path: the CSMS's hot path at fleet scale.

A charging station sends a meter value every few seconds per transaction; ten thousand stations make a
thousand a second. Writing each in its own transaction (a ``BEGIN IMMEDIATE`` on SQLite, a lookup of the
transaction first) made the database the bottleneck of the whole sandbox (docs/performance.md). Here the
active transactions live in memory once they have been seen, meter values are answered from memory, and the
samples and transaction state are written in one batch every ``flush_interval``.

Consistency rules, which the handlers follow:
- Only the meter-value path writes through this buffer. Anything else that changes a transaction (start, end,
  fields a later event fills in) first calls ``settle()``, which writes what is buffered and forgets the
  transaction, so the full path reads it fresh from the database.
- Readers that need every sample (the OCPI session that follows the transaction) call ``flush()`` first.
- A crash loses at most ``flush_interval`` of samples; the meter register in the next sample carries the energy
  on, so no energy is lost, only intermediate points.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..domain import csms_records as records
from ..domain.csms_records import OpenTransaction, Sample
from .write_behind import WriteBehind

__all__ = ["MeterBuffer"]

log = logging.getLogger(__name__)


class MeterBuffer(WriteBehind):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, flush_interval: float = 0.5) -> None:
        super().__init__(flush_interval)
        self._sessions = sessions
        self._open: dict[tuple[str, str], OpenTransaction] = {}
        self._samples: list[dict] = []
        self._changed: dict[str, OpenTransaction] = {}
        self._failures = 0

    async def open(self, identity: str, transaction_id: str) -> OpenTransaction | None:
        """Return the active transaction (from memory, else loaded once); None if unknown or ended."""
        key = (identity, transaction_id)
        found = self._open.get(key)
        if found is None:
            async with self._sessions() as session:
                found = await records.open_transaction(session, identity, transaction_id)
                await session.commit()
            if found is not None:
                self._open[key] = found
        return found

    def record(self, tx: OpenTransaction, samples: list[Sample], *, charging_state: str | None = None,
               seq_no: int | None = None, offline: bool = False) -> None:
        """Buffer ``samples`` of ``tx`` and move its state as ``csms_records.record_samples`` would."""
        for s in samples:
            self._samples.append({"transaction_pk": tx.pk, "at": s.at, "context": s.context, "energy_wh": s.energy_wh,
                                  "power_w": s.power_w, "current_a": s.current_a, "voltage_v": s.voltage_v,
                                  "soc": s.soc})
            if s.energy_wh is not None and (tx.meter_last_wh is None or s.energy_wh > tx.meter_last_wh):
                tx.meter_last_wh = s.energy_wh
        if charging_state:
            tx.charging_state = charging_state
        if seq_no is not None and seq_no not in tx.seq_nos:
            tx.seq_nos = sorted({*tx.seq_nos, seq_no})
        if offline:
            tx.offline_events += 1
        self._changed[tx.pk] = tx

    async def settle(self, identity: str, transaction_id: str) -> None:
        """Write what is buffered and forget the transaction, before a full-path change to it."""
        await self.flush()
        self._open.pop((identity, transaction_id), None)

    @property
    def pending(self) -> int:
        return len(self._samples)

    async def _write_buffered(self) -> int:
        """Write the buffered samples and transaction state; return how many samples were written."""
        samples, self._samples = self._samples, []
        changed, self._changed = self._changed, {}
        if not samples and not changed:
            return 0
        try:
            async with self._sessions() as session:
                await records.write_meter_batch(session, samples, list(changed.values()))
        except Exception:
            # Keep them for one more try (a database busy for a moment); a batch that fails twice would fail
            # for ever (e.g. its transaction was deleted with its station) and is dropped, loudly.
            self._failures += 1
            if self._failures >= 2:
                log.exception("dropping %d meter samples that could not be written twice", len(samples))
                self._failures = 0
                return 0
            log.exception("could not write %d meter samples; retrying", len(samples))
            self._samples = samples + self._samples
            self._changed = {**changed, **self._changed}
            return 0
        self._failures = 0
        return len(samples)
