"""Name what an OCPP-J session reports back to the I/O layer after it received a message or a timer ran out.

Every event is a frozen Struct. ``OcppSession.receive()`` and ``OcppSession.expire()`` return lists of them;
none of them is an exception, because a peer's mistake is something to log and carry on from, not a crash.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .framing import CallError, CallResult

__all__ = [
    "CallReceived",
    "CallRejected",
    "CallTimedOut",
    "ErrorReceived",
    "Event",
    "FrameRejected",
    "LateResponse",
    "ResultReceived",
    "ResultRejected",
    "UnknownResponse",
]


class _Event(msgspec.Struct, frozen=True, kw_only=True):
    pass


class CallReceived(_Event):
    """The peer sent a valid CALL: answer it with ``OcppSession.reply()`` or ``reply_error()``."""

    unique_id: str
    action: str
    request: msgspec.Struct


class CallRejected(_Event):
    """The peer sent a CALL we cannot take; the CALLERROR that answers it is already queued to send."""

    unique_id: str
    action: str
    error_code: str
    description: str


class FrameRejected(_Event):
    """A message was not a well-formed OCPP-J frame; ``replied`` says whether a CALLERROR is queued.

    No CALLERROR is sent for a broken CALLRESULT/CALLERROR (a CALLERROR only ever answers a CALL), nor for an
    unknown message type in 1.6, which OCPP-J 1.6 says to ignore.
    """

    error_code: str | None
    description: str
    unique_id: str | None
    message_type_id: int | None
    replied: bool


class ResultReceived(_Event):
    """Our CALL was answered with a valid CALLRESULT."""

    unique_id: str
    action: str
    request: msgspec.Struct
    response: msgspec.Struct


class ErrorReceived(_Event):
    """Our CALL was answered with a CALLERROR."""

    unique_id: str
    action: str
    request: msgspec.Struct
    error_code: str
    error_description: str
    error_details: dict[str, Any]


class ResultRejected(_Event):
    """Our CALL was answered, but the answer is invalid; the CALL is over and nothing is sent back.

    ``error_code`` is what we would have answered had it been a CALL, for the log.
    """

    unique_id: str
    action: str
    request: msgspec.Struct
    error_code: str
    description: str


class CallTimedOut(_Event):
    """Our CALL got no answer within the response timeout; the next queued CALL, if any, is now sent.

    Whether to drop and reopen the connection after a timeout, as OCPP advises stations, is for the I/O layer
    to decide.
    """

    unique_id: str
    action: str
    request: msgspec.Struct


class LateResponse(_Event):
    """An answer arrived for a CALL of ours that had already timed out."""

    unique_id: str
    action: str
    frame: CallResult | CallError


class UnknownResponse(_Event):
    """An answer arrived whose id matches no CALL we sent (or one we no longer remember)."""

    frame: CallResult | CallError


Event = (
    CallReceived
    | CallRejected
    | FrameRejected
    | ResultReceived
    | ErrorReceived
    | ResultRejected
    | CallTimedOut
    | LateResponse
    | UnknownResponse
)
