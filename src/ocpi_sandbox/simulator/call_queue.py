"""Hold the CALLs a station wants to send, and release them when the protocol allows.

Rules (OCPP-J 1.6 §4.2 and 1.6 §3.3/§4.10; 2.0.1 Part 2 B02/B03, E13):
- while disconnected nothing goes out; transaction messages stay queued and are replayed in order, other
  messages created offline are not queued at all (the station re-announces its state after reconnecting);
- until BootNotification is Accepted only BootNotification goes out; while Pending also what the CSMS asked
  for (triggered messages, reports); after Rejected nothing;
- transaction messages go out one at a time, in order: the next waits until the CSMS answered the previous one
  (this is also what lets a 1.6 MeterValues carry the transactionId the CSMS assigned in StartTransaction.conf);
- a transaction message the CSMS failed to process (CALLERROR or no answer) is retried after
  ``interval × attempt`` seconds, ``attempts`` times in all, then dropped; one lost with the connection is
  resent after reconnecting without counting as an attempt.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

import msgspec

__all__ = ["BOOT", "REQUESTED", "NORMAL", "TRANSACTION", "QueuedCall", "CallQueue"]

BOOT, REQUESTED, NORMAL, TRANSACTION = "boot", "requested", "normal", "transaction"
_ALLOWED = {None: {BOOT}, "Pending": {BOOT, REQUESTED}, "Accepted": {BOOT, REQUESTED, NORMAL, TRANSACTION},
            "Rejected": {BOOT}}  # the station queues a new BootNotification only once the interval has passed


class QueuedCall(msgspec.Struct, kw_only=True):
    """A CALL waiting to be sent, or sent and waiting for its answer."""

    seq: int
    action: str
    payload: msgspec.Struct
    kind: str = NORMAL
    tx: str | None = None  # the station's transaction id, for transaction messages
    attempts: int = 0
    retry_at: float | None = None
    sent: msgspec.Struct | None = None  # what went out (1.6 patches in the CSMS transactionId)


class CallQueue:
    """Order, hold, release and retry the station's CALLs (see the module docstring)."""

    def __init__(self) -> None:
        self._waiting: list[QueuedCall] = []
        self._in_flight: list[QueuedCall] = []
        self._seq = 0

    def add(self, action: str, payload: msgspec.Struct, kind: str = NORMAL, tx: str | None = None) -> None:
        self._seq += 1
        self._waiting.append(QueuedCall(seq=self._seq, action=action, payload=payload, kind=kind, tx=tx))

    def release(self, *, connected: bool, registration: str | None, now: float,
                finalize: Callable[[QueuedCall], msgspec.Struct | None]) -> list[tuple[str, msgspec.Struct]]:
        """Hand out the CALLs that may be sent now, in order; ``finalize`` may rewrite or drop one."""
        if not connected:
            return []
        allowed = _ALLOWED.get(registration, set())
        transaction_busy = any(c.kind == TRANSACTION for c in self._in_flight)
        released: list[tuple[str, msgspec.Struct]] = []
        kept: list[QueuedCall] = []
        for call in self._waiting:
            if call.kind not in allowed:
                kept.append(call)
                continue
            if call.kind == TRANSACTION:
                if transaction_busy or (call.retry_at is not None and call.retry_at > now):
                    transaction_busy = True  # later transaction messages wait behind this one
                    kept.append(call)
                    continue
                transaction_busy = True
            payload = finalize(call)
            if payload is None:
                continue
            call.sent = payload
            self._in_flight.append(call)
            released.append((call.action, payload))
        self._waiting = kept
        return released

    def _take(self, request: msgspec.Struct) -> QueuedCall | None:
        for i, call in enumerate(self._in_flight):
            if call.sent is request:
                return self._in_flight.pop(i)
        return None

    def answered(self, request: msgspec.Struct) -> QueuedCall | None:
        """Forget a CALL the CSMS answered; return it (None when it was not ours to track)."""
        return self._take(request)

    def failed(self, request: msgspec.Struct, *, counts: bool, now: float, attempts: int,
               interval: float) -> tuple[QueuedCall | None, bool]:
        """Take a failed CALL back; return it and whether it will be retried."""
        call = self._take(request)
        if call is None or call.kind != TRANSACTION:
            return call, False
        if counts:
            call.attempts += 1
            if call.attempts >= max(1, attempts):
                return call, False
            call.retry_at = now + interval * call.attempts
        self._requeue(call)
        return call, True

    def _requeue(self, call: QueuedCall) -> None:
        call.sent = None
        bisect.insort(self._waiting, call, key=lambda c: c.seq)

    def connection_lost(self) -> None:
        """Put the transaction messages that were out back in line; the others are gone with the socket."""
        for call in self._in_flight:
            if call.kind == TRANSACTION:
                self._requeue(call)
        self._in_flight = []

    def drop(self, keep: Callable[[QueuedCall], bool]) -> None:
        """Forget the waiting CALLs ``keep`` rejects (a reboot loses what was not yet stored)."""
        self._waiting = [c for c in self._waiting if keep(c)]
        self._in_flight = [c for c in self._in_flight if keep(c)]

    def next_retry(self) -> float | None:
        times = [c.retry_at for c in self._waiting if c.retry_at is not None]
        return min(times) if times else None

    def transaction_messages(self, tx: str | None = None) -> int:
        """Count the transaction messages not yet answered (of ``tx``, or all)."""
        return sum(1 for c in (*self._waiting, *self._in_flight)
                   if c.kind == TRANSACTION and (tx is None or c.tx == tx))

    def waiting(self) -> list[QueuedCall]:
        return list(self._waiting)

    # -- snapshot --

    def snapshot(self) -> list[dict]:
        """The transaction messages not yet answered (the rest is not kept across a restart)."""
        calls = sorted((c for c in (*self._waiting, *self._in_flight) if c.kind == TRANSACTION),
                       key=lambda c: c.seq)
        return [{"seq": c.seq, "action": c.action, "tx": c.tx, "attempts": c.attempts, "retry_at": c.retry_at,
                 "payload": msgspec.json.decode(msgspec.json.encode(c.payload))} for c in calls]

    def restore(self, calls: list[dict], types: dict[str, tuple[type, type]]) -> None:
        for c in calls:
            payload = msgspec.json.decode(msgspec.json.encode(c["payload"]), type=types[c["action"]][0])
            self._waiting.append(QueuedCall(seq=c["seq"], action=c["action"], payload=payload, kind=TRANSACTION,
                                            tx=c["tx"], attempts=c["attempts"], retry_at=c["retry_at"]))
        self._seq = max([self._seq, *(c["seq"] for c in calls)])
