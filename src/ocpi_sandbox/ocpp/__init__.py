"""Speak OCPP-J without I/O: framing, call correlation, and the message types of OCPP 1.6 and 2.0.1.

Nothing here opens a socket or imports an event loop (see the ``ocpp/`` row of DESIGN.md): ``framing`` turns
text into frames and back, ``session.OcppSession`` correlates CALLs with their answers on one connection and
reports ``events``, and ``v16``/``v201`` hold the msgspec Structs generated from the official JSON schemas.
"""

from .events import (
    CallReceived,
    CallRejected,
    CallTimedOut,
    ErrorReceived,
    Event,
    FrameRejected,
    LateResponse,
    ResultReceived,
    ResultRejected,
    UnknownResponse,
)
from .framing import ERROR_CODES, Call, CallError, CallResult, Frame, FrameError, OcppVersion, decode_frame
from .session import OcppSession, PendingCall

__all__ = [
    "ERROR_CODES",
    "Call",
    "CallError",
    "CallReceived",
    "CallRejected",
    "CallResult",
    "CallTimedOut",
    "ErrorReceived",
    "Event",
    "Frame",
    "FrameError",
    "FrameRejected",
    "LateResponse",
    "OcppSession",
    "OcppVersion",
    "PendingCall",
    "ResultReceived",
    "ResultRejected",
    "UnknownResponse",
    "decode_frame",
]
