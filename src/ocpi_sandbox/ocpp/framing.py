"""Decode and encode OCPP-J RPC frames: CALL, CALLRESULT and CALLERROR.

Every WebSocket text message is one JSON array (OCPP-J 1.6 §4 "RPC framework"; OCPP 2.0.1 part 4 §4):

    [2, "<messageId>", "<Action>", {payload}]                               CALL
    [3, "<messageId>", {payload}]                                           CALLRESULT
    [4, "<messageId>", "<errorCode>", "<errorDescription>", {errorDetails}] CALLERROR

Payloads stay undecoded (``msgspec.Raw``) here: the session knows which Struct to decode them into, so the
JSON is parsed once. Anything that is not a well-formed frame raises ``FrameError``, which carries the
CALLERROR code the version prescribes and the message id when it could be read. This module does no I/O.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, NamedTuple

import msgspec

__all__ = [
    "ERROR_CODES",
    "UNREADABLE_ID",
    "Call",
    "CallError",
    "CallResult",
    "ErrorCodes",
    "Frame",
    "FrameError",
    "OcppVersion",
    "decode_frame",
    "encode_call",
    "encode_call_error",
    "encode_call_result",
    "encode_frame",
]

OcppVersion = Literal["1.6", "2.0.1"]

# The message id has "a maximum of 36 characters, to allow for GUIDs" (OCPP-J 1.6 and 2.0.1 part 4,
# "Message ID").
MessageId = Annotated[str, msgspec.Meta(max_length=36)]

# 2.0.1 part 4, CALLERROR: "If the message ID cannot be read, the CALLERROR SHALL use '-1' as message ID".
UNREADABLE_ID = "-1"

# 2.0.1 part 4, CALLERROR: errorDescription is at most 255 characters.
MAX_ERROR_DESCRIPTION = 255


class ErrorCodes(NamedTuple):
    """The CALLERROR codes of one OCPP version, by meaning (OCPP-J 1.6 and 2.0.1 part 4, "CALLERROR")."""

    format_violation: str
    generic_error: str
    internal_error: str
    not_implemented: str  # "Requested Action is not known by receiver"
    not_supported: str  # "Requested Action is recognized but not supported by the receiver"
    occurrence_constraint_violation: str
    property_constraint_violation: str
    protocol_error: str
    security_error: str
    type_constraint_violation: str
    # 1.6 has no code for an unknown message type: OCPP-J 1.6 says to ignore such a message, hence None.
    message_type_not_supported: str | None
    # 1.6 has no RpcFrameworkError either; its FormationViolation covers a message that is "syntactically
    # incorrect or not conform the PDU structure".
    rpc_framework_error: str


_COMMON = {
    "generic_error": "GenericError",
    "internal_error": "InternalError",
    "not_implemented": "NotImplemented",
    "not_supported": "NotSupported",
    "property_constraint_violation": "PropertyConstraintViolation",
    "protocol_error": "ProtocolError",
    "security_error": "SecurityError",
    "type_constraint_violation": "TypeConstraintViolation",
}

ERROR_CODES: dict[str, ErrorCodes] = {
    "1.6": ErrorCodes(
        format_violation="FormationViolation",
        occurrence_constraint_violation="OccurenceConstraintViolation",  # sic, as OCPP-J 1.6 spells it
        message_type_not_supported=None,
        rpc_framework_error="FormationViolation",
        **_COMMON,
    ),
    "2.0.1": ErrorCodes(
        format_violation="FormatViolation",
        occurrence_constraint_violation="OccurrenceConstraintViolation",
        message_type_not_supported="MessageTypeNotSupported",
        rpc_framework_error="RpcFrameworkError",
        **_COMMON,
    ),
}


class FrameError(ValueError):
    """A received message, or its payload, breaks OCPP-J; answer with ``error_code`` unless it is None.

    ``error_code`` is spelled for the connection's version; None means the spec says to ignore the message.
    ``unique_id`` is the message id when it could be read (else answer with ``UNREADABLE_ID``), and
    ``message_type_id`` the first array element when it was an integer.
    """

    def __init__(
        self,
        error_code: str | None,
        description: str,
        *,
        unique_id: str | None = None,
        message_type_id: int | None = None,
    ) -> None:
        super().__init__(f"{error_code or 'ignored'}: {description}")
        self.error_code = error_code
        self.description = description
        self.unique_id = unique_id
        self.message_type_id = message_type_id


class Call(msgspec.Struct, array_like=True, tag=2, forbid_unknown_fields=True, frozen=True):
    """A request, from either side (OCPP-J, "CALL")."""

    unique_id: MessageId
    action: str
    payload: msgspec.Raw


class CallResult(msgspec.Struct, array_like=True, tag=3, forbid_unknown_fields=True, frozen=True):
    """The answer to a CALL, matched by its id (OCPP-J, "CALLRESULT")."""

    unique_id: MessageId
    payload: msgspec.Raw


class CallError(msgspec.Struct, array_like=True, tag=4, forbid_unknown_fields=True, frozen=True):
    """A CALL could not be processed (OCPP-J, "CALLERROR")."""

    unique_id: MessageId
    error_code: str
    error_description: str
    error_details: dict[str, Any]


Frame = Call | CallResult | CallError

# The tag (2, 3, 4) is the first array element, so msgspec picks the frame type while it parses.
_frame_decoder = msgspec.json.Decoder(Frame)
_any_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()

# Messages a decoder can raise on hostile input: malformed JSON, wrong shape, invalid UTF-8 (bytes in) or lone
# surrogates (str in), nesting deeper than the C stack allows.
_UNREADABLE = (msgspec.DecodeError, msgspec.ValidationError, UnicodeError, RecursionError)


def decode_frame(data: str | bytes, version: OcppVersion) -> Frame:
    """Decode one WebSocket text message into a frame, or raise ``FrameError`` with the code to answer."""
    try:
        return _frame_decoder.decode(data)
    except _UNREADABLE as exc:
        raise _explain(data, version, exc) from None


def _explain(data: str | bytes, version: OcppVersion, exc: Exception) -> FrameError:
    """Work out which CALLERROR a broken message deserves; the slow path, so it may parse again."""
    codes = ERROR_CODES[version]
    try:
        message = _any_decoder.decode(data)
    except _UNREADABLE as not_json:
        # Broken JSON may still start with a readable type and id; answering with the id helps the peer.
        type_id, unique_id = _peek(data)
        description = f"unreadable JSON: {_short(str(not_json))}"
        context = {"unique_id": unique_id, "message_type_id": type_id}
        return FrameError(codes.rpc_framework_error, description, **context)
    if not isinstance(message, list) or not message:
        return FrameError(codes.rpc_framework_error, "an OCPP-J message is a non-empty JSON array")
    type_id = message[0]
    if type(type_id) is not int:  # bool is an int subclass, and floats are not message types either
        return FrameError(codes.rpc_framework_error, "the first element must be the integer message type")
    unique_id = message[1] if len(message) > 1 else None
    readable = isinstance(unique_id, str) and len(unique_id) <= 36
    context = {"unique_id": unique_id if readable else None, "message_type_id": type_id}
    if type_id not in (2, 3, 4):
        shown = type_id if abs(type_id) < 10**9 else "out of range"  # repr() of a huge int raises
        return FrameError(codes.message_type_not_supported, f"unknown message type {shown}", **context)
    if not readable:
        description = "the message id must be a string of at most 36 characters"
        return FrameError(codes.rpc_framework_error, description, **context)
    name, length = _SHAPES[type_id]
    if len(message) != length:
        description = f"a {name} has {length} elements, this one has {len(message)}"
        return FrameError(codes.rpc_framework_error, description, **context)
    return FrameError(codes.rpc_framework_error, f"malformed {name}: {_short(str(exc))}", **context)


# The start of a frame: '[', a message type, ',', and a message id without escapes (as every UUID is).
_PREFIX = re.compile(rb'\A\s*\[\s*([234])\s*,\s*"([^"\\]{0,36})"')


def _peek(data: str | bytes) -> tuple[int | None, str | None]:
    """Read the message type and id from the start of a message whose JSON is broken further on."""
    head = data[:64]
    if isinstance(head, str):
        try:
            head = head.encode()
        except UnicodeError:  # a lone surrogate
            return None, None
    match = _PREFIX.match(head)
    if match is None:
        return None, None
    try:
        return int(match[1]), match[2].decode()
    except UnicodeError:
        return None, None


_SHAPES = {2: ("CALL", 4), 3: ("CALLRESULT", 3), 4: ("CALLERROR", 5)}


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def encode_frame(frame: Frame) -> str:
    """Encode a frame back into the text of one WebSocket message."""
    return _encoder.encode(frame).decode()


def encode_call(unique_id: str, action: str, payload: Any) -> str:
    """Encode a CALL; ``payload`` is a request Struct (or anything msgspec encodes as a JSON object)."""
    return _encoder.encode((2, unique_id, action, payload)).decode()


def encode_call_result(unique_id: str, payload: Any) -> str:
    """Encode a CALLRESULT; ``payload`` is a response Struct (or anything encoding to a JSON object)."""
    return _encoder.encode((3, unique_id, payload)).decode()


def encode_call_error(
    unique_id: str, error_code: str, error_description: str = "", error_details: dict[str, Any] | None = None
) -> str:
    """Encode a CALLERROR; the description is cut to the 255 characters 2.0.1 allows, details default {}."""
    description = error_description[:MAX_ERROR_DESCRIPTION]
    return _encoder.encode((4, unique_id, error_code, description, error_details or {})).decode()
