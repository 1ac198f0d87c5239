"""Correlate the CALLs and answers of one OCPP-J connection, without doing any I/O.

The same class serves a charging station and a central system: OCPP-J is symmetric, both sides send CALLs.
The I/O layer feeds in every received text message with ``receive()``, sends whatever ``frames_to_send()``
returns after each call into the session, and sleeps until ``next_deadline()`` to call ``expire()``. Time is a
float from a monotonic clock, passed in, so tests need no event loop and no sleeping.

Rules from the spec (OCPP-J 1.6 §4 "RPC framework"; OCPP 2.0.1 part 4 §4):
- a side has at most one CALL of its own outstanding; more CALLs wait in a queue until it is answered or timed
  out. CALLs from the two sides may cross, so incoming CALLs are handled while ours is pending;
- an unknown action is answered with NotImplemented, a known one this side does not handle with NotSupported;
- a payload that does not fit the action's schema is answered with the matching constraint/format code.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from typing import NamedTuple

import msgspec

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
from .framing import (
    ERROR_CODES,
    UNREADABLE_ID,
    Call,
    CallError,
    CallResult,
    ErrorCodes,
    FrameError,
    OcppVersion,
    decode_frame,
    encode_call,
    encode_call_error,
    encode_call_result,
)
from .v16.messages import ACTIONS as ACTIONS_16
from .v201.messages import ACTIONS as ACTIONS_201

__all__ = ["DEFAULT_RESPONSE_TIMEOUT", "OcppSession", "PendingCall"]

# OCPP 2.0.1 part 2 suggests starting with 30 s and tuning to the network (OCPPCommCtrlr.MessageTimeout).
DEFAULT_RESPONSE_TIMEOUT = 30.0

# Ids of timed-out CALLs we still recognise, so that their answers are reported as late rather than unknown.
_REMEMBERED_TIMEOUTS = 64

_ACTIONS: dict[str, dict[str, tuple[type[msgspec.Struct], type[msgspec.Struct]]]] = {
    "1.6": ACTIONS_16,
    "2.0.1": ACTIONS_201,
}
_decoders: dict[type, msgspec.json.Decoder] = {}


class PendingCall(NamedTuple):
    """A CALL of ours, waiting to be sent or to be answered."""

    unique_id: str
    action: str
    request: msgspec.Struct
    frame: str


class OcppSession:
    """Correlate CALLs, CALLRESULTs and CALLERRORs on one connection of a given OCPP version."""

    def __init__(
        self,
        version: OcppVersion,
        *,
        response_timeout: float = DEFAULT_RESPONSE_TIMEOUT,
        supported_actions: Iterable[str] | None = None,
        new_unique_id: Callable[[], str] | None = None,
    ) -> None:
        """Start a session; ``supported_actions`` (default: all of the version) are the CALLs we answer."""
        if version not in _ACTIONS:
            raise ValueError(f"unknown OCPP version {version!r}; use one of {', '.join(_ACTIONS)}")
        if response_timeout <= 0:
            raise ValueError(f"response_timeout must be positive, got {response_timeout}")
        self.version = version
        self.response_timeout = response_timeout
        self.actions = _ACTIONS[version]
        self._codes: ErrorCodes = ERROR_CODES[version]
        self._supported = None if supported_actions is None else frozenset(supported_actions)
        self._new_unique_id = new_unique_id or (lambda: str(uuid.uuid4()))
        self._outbox: list[str] = []
        self._queue: deque[PendingCall] = deque()
        self._pending: PendingCall | None = None
        self._deadline: float | None = None
        self._timed_out: OrderedDict[str, str] = OrderedDict()  # unique id -> action
        self._awaiting_reply: dict[str, str] = {}  # the peer's unanswered CALLs: unique id -> action

    # ------------------------------------------------------------------------------------------ our CALLs

    def call(self, action: str, payload: msgspec.Struct, now: float) -> str:
        """Send a CALL now, or queue it behind the one outstanding; return its unique id.

        The frame appears in ``frames_to_send()`` once it may go out. Raises ValueError for an action the
        version does not have and TypeError for a payload that is not the action's request Struct.
        """
        request_type = self._types(action)[0]
        if type(payload) is not request_type:
            raise TypeError(
                f"{action} takes a {request_type.__module__}.{request_type.__name__}, "
                f"got {type(payload).__module__}.{type(payload).__name__}"
            )
        unique_id = self._new_unique_id()
        outgoing = PendingCall(unique_id, action, payload, encode_call(unique_id, action, payload))
        self._queue.append(outgoing)
        if self._pending is None:
            self._send_next(now)
        return unique_id

    @property
    def pending(self) -> PendingCall | None:
        """The CALL of ours that awaits its answer, if any."""
        return self._pending

    @property
    def queued(self) -> int:
        """How many CALLs of ours wait behind the pending one."""
        return len(self._queue)

    def next_deadline(self) -> float | None:
        """When the pending CALL times out (same clock as ``now``), or None when nothing is pending."""
        return self._deadline

    def expire(self, now: float) -> list[Event]:
        """Give up on the pending CALL if its deadline has passed, and send the next queued one."""
        pending = self._pending
        if pending is None or self._deadline is None or now < self._deadline:
            return []
        self._timed_out[pending.unique_id] = pending.action
        if len(self._timed_out) > _REMEMBERED_TIMEOUTS:
            self._timed_out.popitem(last=False)
        self._finish(now)
        return [CallTimedOut(unique_id=pending.unique_id, action=pending.action, request=pending.request)]

    # ------------------------------------------------------------------------------------ the peer's CALLs

    def reply(self, unique_id: str, payload: msgspec.Struct) -> None:
        """Answer the peer's CALL ``unique_id`` with a CALLRESULT carrying the action's response Struct."""
        action = self._awaiting(unique_id)
        response_type = self.actions[action][1]
        if type(payload) is not response_type:
            expected, got = response_type.__name__, type(payload).__name__
            raise TypeError(f"{action} is answered with a {expected}, got {got}")
        del self._awaiting_reply[unique_id]
        self._outbox.append(encode_call_result(unique_id, payload))

    def reply_error(
        self, unique_id: str, error_code: str, description: str = "", details: dict | None = None
    ) -> None:
        """Answer the peer's CALL ``unique_id`` with a CALLERROR (use this version's spelling of the code)."""
        self._awaiting(unique_id)
        del self._awaiting_reply[unique_id]
        self._outbox.append(encode_call_error(unique_id, error_code, description, details))

    # ------------------------------------------------------------------------------------------ receiving

    def receive(self, data: str | bytes, now: float) -> list[Event]:
        """Take one received text message and report what it means; never raises for anything the peer sent.

        Timeouts due by ``now`` are handled first, so an answer that comes after its deadline is reported as
        late even if ``expire()`` has not run yet.
        """
        events = self.expire(now)
        try:
            frame = decode_frame(data, self.version)
        except FrameError as error:
            events.append(self._reject_frame(error, now))
            return events
        if isinstance(frame, Call):
            events.append(self._take_call(frame))
        else:
            events.append(self._take_answer(frame, now))
        return events

    def frames_to_send(self) -> list[str]:
        """Hand over the text messages to send, oldest first, and forget them."""
        frames, self._outbox = self._outbox, []
        return frames

    def _take_call(self, frame: Call) -> Event:
        codes = self._codes
        types = self.actions.get(frame.action)
        if types is None:
            return self._reject_call(frame, codes.not_implemented, f"unknown action {_shown(frame.action)}")
        if self._supported is not None and frame.action not in self._supported:
            return self._reject_call(frame, codes.not_supported, f"{frame.action} is not supported here")
        try:
            request = _decode(frame.payload, types[0])
        except (msgspec.ValidationError, RecursionError) as exc:
            return self._reject_call(frame, _payload_error_code(exc, codes), str(exc))
        self._awaiting_reply[frame.unique_id] = frame.action
        return CallReceived(unique_id=frame.unique_id, action=frame.action, request=request)

    def _reject_call(self, frame: Call, error_code: str, description: str) -> CallRejected:
        self._outbox.append(encode_call_error(frame.unique_id, error_code, description))
        return CallRejected(
            unique_id=frame.unique_id, action=frame.action, error_code=error_code, description=description
        )

    def _take_answer(self, frame: CallResult | CallError, now: float) -> Event:
        pending = self._pending
        if pending is None or frame.unique_id != pending.unique_id:
            action = self._timed_out.pop(frame.unique_id, None)
            if action is not None:
                return LateResponse(unique_id=frame.unique_id, action=action, frame=frame)
            return UnknownResponse(frame=frame)
        self._finish(now)
        common = {"unique_id": pending.unique_id, "action": pending.action, "request": pending.request}
        if isinstance(frame, CallError):
            return ErrorReceived(
                **common,
                error_code=frame.error_code,
                error_description=frame.error_description,
                error_details=frame.error_details,
            )
        try:
            response = _decode(frame.payload, self.actions[pending.action][1])
        except (msgspec.ValidationError, RecursionError) as exc:
            error_code = _payload_error_code(exc, self._codes)
            return ResultRejected(**common, error_code=error_code, description=str(exc))
        return ResultReceived(**common, response=response)

    def _reject_frame(self, error: FrameError, now: float) -> Event:
        pending = self._pending
        if error.message_type_id in (3, 4) and pending is not None and error.unique_id == pending.unique_id:
            # A garbled answer to our CALL still ends it; waiting for the timeout would only delay the queue.
            self._finish(now)
            return ResultRejected(
                unique_id=pending.unique_id,
                action=pending.action,
                request=pending.request,
                error_code=error.error_code or self._codes.rpc_framework_error,
                description=error.description,
            )
        # A CALLERROR answers a CALL only; 1.6 ignores unknown message types (error_code None).
        replied = error.message_type_id not in (3, 4) and error.error_code is not None
        if replied:
            unique_id = error.unique_id if error.unique_id is not None else UNREADABLE_ID
            self._outbox.append(encode_call_error(unique_id, error.error_code, error.description))
        return FrameRejected(
            error_code=error.error_code,
            description=error.description,
            unique_id=error.unique_id,
            message_type_id=error.message_type_id,
            replied=replied,
        )

    # ------------------------------------------------------------------------------------------ internals

    def _types(self, action: str) -> tuple[type[msgspec.Struct], type[msgspec.Struct]]:
        try:
            return self.actions[action]
        except KeyError:
            raise ValueError(f"{action!r} is not an OCPP {self.version} action") from None

    def _awaiting(self, unique_id: str) -> str:
        try:
            return self._awaiting_reply[unique_id]
        except KeyError:
            raise ValueError(f"no CALL from the peer with id {unique_id!r} awaits an answer") from None

    def _finish(self, now: float) -> None:
        """End the pending CALL and send the next queued one, whose timeout starts now."""
        self._pending = None
        self._deadline = None
        self._send_next(now)

    def _send_next(self, now: float) -> None:
        if self._queue:
            self._pending = self._queue.popleft()
            self._deadline = now + self.response_timeout
            self._outbox.append(self._pending.frame)


def _decode(payload: msgspec.Raw, payload_type: type[msgspec.Struct]) -> msgspec.Struct:
    decoder = _decoders.get(payload_type)
    if decoder is None:
        decoder = _decoders[payload_type] = msgspec.json.Decoder(payload_type)
    return decoder.decode(payload)


def _payload_error_code(exc: Exception, codes: ErrorCodes) -> str:
    """Pick the CALLERROR code for a payload that does not fit its Struct (OCPP-J "CALLERROR" code table)."""
    message = str(exc)
    at_root = " - at `" not in message
    if isinstance(exc, RecursionError) or (at_root and message.startswith("Expected `object`")):
        return codes.format_violation  # the payload is not a JSON object at all
    if message.startswith(("Object missing required field", "Expected `array` of length")):
        return codes.occurrence_constraint_violation  # a field occurs too few or too many times
    if message.startswith("Object contains unknown field"):
        return codes.format_violation  # the schemas forbid additional properties
    if message.startswith(("Invalid enum value", "Number out of range")) or " of length " in message:
        return codes.property_constraint_violation  # right type, value outside its allowed set or range
    if message.startswith(("Expected `", "Invalid RFC3339")):
        if any(op in message for op in (" >= ", " <= ", " > ", " < ")):
            return codes.property_constraint_violation
        return codes.type_constraint_violation  # e.g. "somestring": 12, or a date-time that is not one
    return codes.format_violation


def _shown(action: str) -> str:
    return repr(action) if len(action) <= 64 else repr(action[:61] + "...")
