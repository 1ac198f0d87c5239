"""Call correlation on one OCPP-J connection: queueing, answers, timeouts, late or unknown answers, errors."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocpi_sandbox.ocpp.events import (
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
from ocpi_sandbox.ocpp.session import OcppSession
from ocpi_sandbox.ocpp.v16 import messages as v16
from ocpi_sandbox.ocpp.v16.enums import RegistrationStatus
from ocpi_sandbox.ocpp.v201 import messages as v201
from ocpi_sandbox.ocpp.v201.datatypes import ChargingStationType
from ocpi_sandbox.ocpp.v201.enums import BootReasonEnumType

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
BOOT_16 = v16.BootNotificationRequest(charge_point_vendor="Acme", charge_point_model="AC22")
BOOT_201 = v201.BootNotificationRequest(
    reason=BootReasonEnumType.PowerUp, charging_station=ChargingStationType(model="AC22", vendor_name="Acme")
)


def station(version: str = "1.6", **options) -> OcppSession:
    ids = (f"cp-{n}" for n in range(1, 1000))
    return OcppSession(version, new_unique_id=lambda: next(ids), **options)


def sent(session: OcppSession) -> list[list]:
    return [json.loads(frame) for frame in session.frames_to_send()]


# ------------------------------------------------------------------------------------------- our CALLs


def test_first_call_is_sent_at_once_and_its_result_is_decoded_into_the_response_struct():
    cp = station()
    unique_id = cp.call("BootNotification", BOOT_16, now=0.0)
    payload = {"chargePointVendor": "Acme", "chargePointModel": "AC22"}
    assert sent(cp) == [[2, unique_id, "BootNotification", payload]]

    answer = {"status": "Accepted", "currentTime": "2024-05-01T12:00:00Z", "interval": 300}
    [event] = cp.receive(json.dumps([3, unique_id, answer]), now=1.0)

    assert isinstance(event, ResultReceived) and event.action == "BootNotification"
    assert event.request is BOOT_16
    assert event.response == v16.BootNotificationResponse(
        status=RegistrationStatus.Accepted, current_time=NOW, interval=300
    )
    assert cp.pending is None and cp.next_deadline() is None


def test_second_call_waits_until_the_first_is_answered():
    cp = station()
    first = cp.call("BootNotification", BOOT_16, now=0.0)
    second = cp.call("Heartbeat", v16.HeartbeatRequest(), now=0.5)
    assert [frame[1] for frame in sent(cp)] == [first]
    assert cp.queued == 1

    cp.receive(f'[4,"{first}","InternalError","busy",{{}}]', now=2.0)

    assert sent(cp) == [[2, second, "Heartbeat", {}]]
    assert cp.next_deadline() == 2.0 + 30.0  # the queued CALL's timeout starts when it is sent


def test_call_error_ends_the_call_and_is_reported_with_its_details():
    cp = station("2.0.1")
    unique_id = cp.call("BootNotification", BOOT_201, now=0.0)
    [event] = cp.receive(f'[4,"{unique_id}","SecurityError","no",{{"why":"cert"}}]', now=1.0)
    assert event == ErrorReceived(
        unique_id=unique_id,
        action="BootNotification",
        request=BOOT_201,
        error_code="SecurityError",
        error_description="no",
        error_details={"why": "cert"},
    )
    assert cp.pending is None


def test_invalid_result_ends_the_call_without_answering_it():
    cp = station()
    unique_id = cp.call("BootNotification", BOOT_16, now=0.0)
    cp.frames_to_send()
    answer = {"status": "Maybe", "currentTime": "2024-05-01T12:00:00Z", "interval": 1}
    [event] = cp.receive(json.dumps([3, unique_id, answer]), now=1.0)
    assert isinstance(event, ResultRejected) and event.error_code == "PropertyConstraintViolation"
    assert cp.frames_to_send() == []  # a CALLERROR only ever answers a CALL
    assert cp.pending is None


def test_garbled_answer_to_the_pending_call_ends_it_and_releases_the_queue():
    cp = station("2.0.1")
    first = cp.call("Heartbeat", v201.HeartbeatRequest(), now=0.0)
    second = cp.call("Heartbeat", v201.HeartbeatRequest(), now=0.0)
    cp.frames_to_send()
    [event] = cp.receive(f'[3,"{first}"]', now=1.0)
    assert isinstance(event, ResultRejected) and event.unique_id == first
    assert [frame[1] for frame in sent(cp)] == [second]


def test_unanswered_call_times_out_at_its_deadline_and_the_next_one_goes_out():
    cp = station(response_timeout=10.0)
    first = cp.call("Heartbeat", v16.HeartbeatRequest(), now=100.0)
    second = cp.call("Heartbeat", v16.HeartbeatRequest(), now=100.0)
    cp.frames_to_send()
    assert cp.next_deadline() == 110.0
    assert cp.expire(109.9) == []

    timed_out = CallTimedOut(unique_id=first, action="Heartbeat", request=v16.HeartbeatRequest())
    assert cp.expire(110.0) == [timed_out]
    assert [frame[1] for frame in sent(cp)] == [second]
    assert cp.next_deadline() == 120.0


def test_result_after_the_timeout_is_reported_as_late():
    cp = station(response_timeout=5.0)
    unique_id = cp.call("Heartbeat", v16.HeartbeatRequest(), now=0.0)
    cp.expire(5.0)
    [event] = cp.receive(f'[3,"{unique_id}",{{"currentTime":"2024-05-01T12:00:00Z"}}]', now=6.0)
    assert isinstance(event, LateResponse) and event.unique_id == unique_id and event.action == "Heartbeat"


def test_receive_after_the_deadline_times_out_first_even_without_expire():
    cp = station(response_timeout=5.0)
    unique_id = cp.call("Heartbeat", v16.HeartbeatRequest(), now=0.0)
    events = cp.receive(f'[3,"{unique_id}",{{"currentTime":"2024-05-01T12:00:00Z"}}]', now=7.0)
    assert [type(event) for event in events] == [CallTimedOut, LateResponse]


def test_answer_with_an_unknown_id_is_reported_and_leaves_the_pending_call_alone():
    cp = station()
    unique_id = cp.call("Heartbeat", v16.HeartbeatRequest(), now=0.0)
    [event] = cp.receive('[3,"someone-else",{}]', now=1.0)
    assert isinstance(event, UnknownResponse) and event.frame.unique_id == "someone-else"
    [event] = cp.receive('[4,"someone-else","GenericError","",{}]', now=1.0)
    assert isinstance(event, UnknownResponse)
    assert cp.pending.unique_id == unique_id


def test_call_refuses_an_unknown_action_or_a_payload_of_another_action():
    cp = station()
    with pytest.raises(ValueError, match="not an OCPP 1.6 action"):
        cp.call("TransactionEvent", v16.HeartbeatRequest(), now=0.0)
    with pytest.raises(TypeError, match="BootNotificationRequest"):
        cp.call("BootNotification", BOOT_201, now=0.0)


# ------------------------------------------------------------------------------------------ the peer's CALLs


def test_incoming_call_is_decoded_and_answered_while_our_own_call_is_pending():
    cs = station()  # a central system looks the same
    ours = cs.call("Reset", v16.ResetRequest(type="Soft"), now=0.0)
    cs.frames_to_send()

    [event] = cs.receive('[2,"peer-1","Heartbeat",{}]', now=1.0)  # the CALLs cross
    assert event == CallReceived(unique_id="peer-1", action="Heartbeat", request=v16.HeartbeatRequest())
    cs.reply("peer-1", v16.HeartbeatResponse(current_time=NOW))

    assert sent(cs) == [[3, "peer-1", {"currentTime": "2024-05-01T12:00:00Z"}]]
    assert cs.pending.unique_id == ours


def test_reply_checks_the_id_and_the_response_type():
    cs = station()
    cs.receive('[2,"peer-1","Heartbeat",{}]', now=0.0)
    with pytest.raises(TypeError, match="HeartbeatResponse"):
        cs.reply("peer-1", v16.BootNotificationResponse(status="Accepted", current_time=NOW, interval=1))
    cs.reply_error("peer-1", "InternalError", "database down")
    assert sent(cs) == [[4, "peer-1", "InternalError", "database down", {}]]
    with pytest.raises(ValueError, match="peer-1"):
        cs.reply("peer-1", v16.HeartbeatResponse(current_time=NOW))


@pytest.mark.parametrize(
    ("version", "action", "code"),
    [
        ("1.6", "Fly", "NotImplemented"),
        ("2.0.1", "Fly", "NotImplemented"),
        ("1.6", "TransactionEvent", "NotImplemented"),  # a 2.0.1 action is unknown to 1.6
    ],
)
def test_unknown_action_is_answered_not_implemented(version, action, code):
    cs = station(version)
    [event] = cs.receive(f'[2,"peer-1","{action}",{{}}]', now=0.0)
    assert isinstance(event, CallRejected) and event.error_code == code
    assert sent(cs)[0][:3] == [4, "peer-1", code]


def test_known_action_this_side_does_not_handle_is_answered_not_supported():
    cs = station(supported_actions={"BootNotification", "Heartbeat"})
    [event] = cs.receive('[2,"peer-1","Reset",{"type":"Hard"}]', now=0.0)
    assert isinstance(event, CallRejected) and event.error_code == "NotSupported"


# payload -> (1.6 code, 2.0.1 code), all for a BootNotification CALL
INVALID_BOOT = [
    ("{}", "OccurenceConstraintViolation", "OccurrenceConstraintViolation"),
    ("[]", "FormationViolation", "FormatViolation"),
    ("null", "FormationViolation", "FormatViolation"),
]
INVALID_BOOT_16 = [
    ('{"chargePointVendor":"Acme","chargePointModel":22}', "TypeConstraintViolation"),
    ('{"chargePointVendor":"' + "A" * 21 + '","chargePointModel":"M"}', "PropertyConstraintViolation"),
    ('{"chargePointVendor":"Acme","chargePointModel":"M","colour":"red"}', "FormationViolation"),
]
INVALID_201 = [
    (
        '"BootNotification",{"reason":"Bored","chargingStation":{"model":"M","vendorName":"V"}}',
        "PropertyConstraintViolation",
    ),
    ('"GetVariables",{"getVariableData":[]}', "OccurrenceConstraintViolation"),
    ('"SetChargingProfile",{"evseId":"one","chargingProfile":{}}', "TypeConstraintViolation"),
    (
        '"StatusNotification",'
        '{"timestamp":"yesterday","connectorStatus":"Available","evseId":1,"connectorId":1}',
        "TypeConstraintViolation",
    ),
    ('"Heartbeat",{"customData":{"vendorId":"' + "v" * 256 + '"}}', "PropertyConstraintViolation"),
]


@pytest.mark.parametrize(("payload", "code_16", "code_201"), INVALID_BOOT)
@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_invalid_payload_is_answered_with_the_versions_constraint_code(version, payload, code_16, code_201):
    cs = station(version)
    [event] = cs.receive(f'[2,"peer-1","BootNotification",{payload}]', now=0.0)
    expected = code_16 if version == "1.6" else code_201
    assert isinstance(event, CallRejected) and event.error_code == expected
    assert sent(cs)[0][:3] == [4, "peer-1", expected]


@pytest.mark.parametrize(("payload", "code"), INVALID_BOOT_16)
def test_invalid_1_6_boot_notification_gets_the_matching_code(payload, code):
    cs = station("1.6")
    [event] = cs.receive(f'[2,"peer-1","BootNotification",{payload}]', now=0.0)
    assert event.error_code == code


@pytest.mark.parametrize(("action_and_payload", "code"), INVALID_201)
def test_invalid_2_0_1_payload_gets_the_matching_code(action_and_payload, code):
    cs = station("2.0.1")
    [event] = cs.receive(f'[2,"peer-1",{action_and_payload}]', now=0.0)
    assert isinstance(event, CallRejected) and event.error_code == code


# ------------------------------------------------------------------------------------------ broken frames


def test_unreadable_message_in_2_0_1_is_answered_rpc_framework_error_with_id_minus_one():
    cs = station("2.0.1")
    [event] = cs.receive("{not json", now=0.0)
    assert isinstance(event, FrameRejected) and event.replied
    assert sent(cs)[0][:3] == [4, "-1", "RpcFrameworkError"]


def test_unknown_message_type_is_ignored_in_1_6_and_refused_in_2_0_1():
    cs16, cs201 = station("1.6"), station("2.0.1")
    [event] = cs16.receive('[6,"peer-1","NotifyX",{}]', now=0.0)
    assert isinstance(event, FrameRejected) and not event.replied and cs16.frames_to_send() == []
    cs201.receive('[6,"peer-1","NotifyX",{}]', now=0.0)
    assert sent(cs201)[0][:3] == [4, "peer-1", "MessageTypeNotSupported"]


def test_broken_answer_to_nothing_is_reported_but_not_answered():
    cs = station("2.0.1")
    [event] = cs.receive('[3,"nobody"]', now=0.0)
    assert isinstance(event, FrameRejected) and not event.replied and cs.frames_to_send() == []


# ------------------------------------------------------------------------------------------ end to end


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_station_and_central_system_sessions_talk_to_each_other(version):
    messages = v16 if version == "1.6" else v201
    cp = station(version)
    cs = OcppSession(version)
    request = BOOT_16 if version == "1.6" else BOOT_201
    unique_id = cp.call("BootNotification", request, now=0.0)
    for frame in cp.frames_to_send():
        for event in cs.receive(frame, now=0.1):
            assert event.request == request
            response = messages.BootNotificationResponse(status="Accepted", current_time=NOW, interval=60)
            cs.reply(event.unique_id, response)
    [event] = [e for frame in cs.frames_to_send() for e in cp.receive(frame, now=0.2)]
    assert isinstance(event, ResultReceived) and event.unique_id == unique_id
    assert event.response.status == "Accepted" and event.response.current_time == NOW


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
# Frames that are almost right: real type ids, our pending id, real action names, random payloads.
near_frames = st.builds(
    lambda parts: json.dumps(parts),
    st.tuples(st.sampled_from([2, 3, 4, 5]), st.sampled_from(["cp-1", "cp-2", "peer", 7]))
    .flatmap(
        lambda head: st.tuples(
            st.just(head),
            st.sampled_from([*v16.ACTIONS, *v201.ACTIONS, "Fly"]),
            st.lists(json_values, max_size=3),
        )
    )
    .map(lambda t: [*t[0], t[1], *t[2]] if t[0][0] == 2 else [*t[0], *t[2]]),
)
received = st.one_of(st.text(max_size=80), st.binary(max_size=80), near_frames)


@settings(max_examples=400, deadline=None)
@given(st.lists(received, max_size=6), st.sampled_from(["1.6", "2.0.1"]))
def test_no_sequence_of_received_messages_makes_the_session_raise(messages, version):
    cs = station(version)
    heartbeat = (v16 if version == "1.6" else v201).HeartbeatRequest()
    cs.call("Heartbeat", heartbeat, now=0.0)
    cs.call("Heartbeat", heartbeat, now=0.0)
    for n, message in enumerate(messages):
        for event in cs.receive(message, now=float(n) * 10):
            if isinstance(event, CallReceived):
                cs.reply_error(event.unique_id, "NotSupported")
        for frame in cs.frames_to_send():
            assert json.loads(frame)[0] in (2, 3, 4)  # whatever we send is a frame
