"""OCPP-J framing: frames decode and encode back, and anything malformed becomes the right CALLERROR code."""

from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocpi_sandbox.ocpp.framing import (
    ERROR_CODES,
    Call,
    CallError,
    CallResult,
    FrameError,
    decode_frame,
    encode_call,
    encode_call_error,
    encode_call_result,
    encode_frame,
)
from ocpi_sandbox.ocpp.v16.messages import BootNotificationRequest

VERSIONS = ["1.6", "2.0.1"]


@pytest.mark.parametrize("version", VERSIONS)
def test_call_result_and_error_decode_and_encode_back_unchanged(version):
    texts = [
        '[2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"SingleSocket"}]',
        '[3,"19223201",{"status":"Accepted","currentTime":"2013-02-01T20:53:32.486Z","interval":300}]',
        '[4,"19223201","NotImplemented","",{}]',
        '[4,"19223201","GenericError","it broke",{"hint":["retry",1]}]',
    ]
    frames = [decode_frame(text, version) for text in texts]
    assert [type(frame) for frame in frames] == [Call, CallResult, CallError, CallError]
    assert frames[0].action == "BootNotification" and frames[0].unique_id == "19223201"
    assert frames[3].error_details == {"hint": ["retry", 1]}
    assert [encode_frame(frame) for frame in frames] == texts


def test_bytes_are_decoded_like_text():
    frame = decode_frame(b'[3,"a",{}]', "1.6")
    assert frame == CallResult("a", msgspec.Raw(b"{}"))


def test_encoders_write_the_wire_shape():
    request = BootNotificationRequest(charge_point_vendor="V", charge_point_model="M")
    assert encode_call("id1", "BootNotification", request) == (
        '[2,"id1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]'
    )
    assert encode_call_result("id1", {}) == '[3,"id1",{}]'
    assert encode_call_error("id1", "GenericError") == '[4,"id1","GenericError","",{}]'


def test_call_error_description_is_cut_to_255_characters():
    frame = json.loads(encode_call_error("id1", "InternalError", "x" * 1000))
    assert len(frame[3]) == 255


# (text, expected unique_id, message_type_id, 1.6 code, 2.0.1 code)
MALFORMED = [
    ("not json", None, None, "FormationViolation", "RpcFrameworkError"),
    ("", None, None, "FormationViolation", "RpcFrameworkError"),
    ("{}", None, None, "FormationViolation", "RpcFrameworkError"),
    ("[]", None, None, "FormationViolation", "RpcFrameworkError"),
    ('"2"', None, None, "FormationViolation", "RpcFrameworkError"),
    ('["2","a","X",{}]', None, None, "FormationViolation", "RpcFrameworkError"),
    ('[2.0,"a","X",{}]', None, None, "FormationViolation", "RpcFrameworkError"),
    ('[true,"a","X",{}]', None, None, "FormationViolation", "RpcFrameworkError"),
    ('[2,"a","X",{}] trailing', "a", 2, "FormationViolation", "RpcFrameworkError"),
    ('[2,"a","BootNotifica', "a", 2, "FormationViolation", "RpcFrameworkError"),
    ('[2,"a","X"]', "a", 2, "FormationViolation", "RpcFrameworkError"),
    ('[2,"a","X",{},{}]', "a", 2, "FormationViolation", "RpcFrameworkError"),
    ('[2,"a",7,{}]', "a", 2, "FormationViolation", "RpcFrameworkError"),
    ('[2,17,"X",{}]', None, 2, "FormationViolation", "RpcFrameworkError"),
    ('[2,null,"X",{}]', None, 2, "FormationViolation", "RpcFrameworkError"),
    ('[2,"' + "i" * 37 + '","X",{}]', None, 2, "FormationViolation", "RpcFrameworkError"),
    ('[2,"' + "i" * 1_000_000 + '","X",{}]', None, 2, "FormationViolation", "RpcFrameworkError"),
    ('[3,"a"]', "a", 3, "FormationViolation", "RpcFrameworkError"),
    ('[4,"a","GenericError","x",null]', "a", 4, "FormationViolation", "RpcFrameworkError"),
    ('[4,"a","GenericError",{}]', "a", 4, "FormationViolation", "RpcFrameworkError"),
    ('[5,"a",{}]', "a", 5, None, "MessageTypeNotSupported"),
    ('[-1,"a"]', "a", -1, None, "MessageTypeNotSupported"),
    ("[0]", None, 0, None, "MessageTypeNotSupported"),
    ("[" + "9" * 5000 + ',"a"]', None, None, "FormationViolation", "RpcFrameworkError"),
    ("[" * 100_000 + "]" * 100_000, None, None, "FormationViolation", "RpcFrameworkError"),
    ('[2,"a","X",' + "[" * 100_000 + "]" * 100_000 + "]", "a", 2, "FormationViolation", "RpcFrameworkError"),
    (b'[2,"\xff\xfe","X",{}]', None, None, "FormationViolation", "RpcFrameworkError"),
    ('[2,"\ud800","X",{}]', None, None, "FormationViolation", "RpcFrameworkError"),
]


@pytest.mark.parametrize(("text", "unique_id", "type_id", "code_16", "code_201"), MALFORMED)
@pytest.mark.parametrize("version", VERSIONS)
def test_malformed_message_raises_frame_error_with_the_versions_code(
    version, text, unique_id, type_id, code_16, code_201
):
    with pytest.raises(FrameError) as caught:
        decode_frame(text, version)
    error = caught.value
    assert error.error_code == (code_16 if version == "1.6" else code_201)
    assert (error.unique_id, error.message_type_id) == (unique_id, type_id)
    assert len(error.description) < 300  # never echoes a huge input back


def test_error_codes_keep_each_versions_spelling():
    assert ERROR_CODES["1.6"].occurrence_constraint_violation == "OccurenceConstraintViolation"  # sic
    assert ERROR_CODES["2.0.1"].occurrence_constraint_violation == "OccurrenceConstraintViolation"
    assert ERROR_CODES["1.6"].format_violation == "FormationViolation"
    assert ERROR_CODES["2.0.1"].format_violation == "FormatViolation"
    assert ERROR_CODES["1.6"].message_type_not_supported is None  # 1.6: ignore unknown message types


def decodes_or_raises_frame_error(data: str | bytes) -> None:
    for version in VERSIONS:
        try:
            decode_frame(data, version)
        except FrameError:
            pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_raise_anything_but_frame_error(data):
    decodes_or_raises_frame_error(data)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_random_text_never_raises_anything_but_frame_error(text):
    decodes_or_raises_frame_error(text)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from([2, 3, 4, 5, -1, True, 2.0, "2"]) | json_values, st.lists(json_values, max_size=5))
def test_random_json_arrays_never_raise_anything_but_frame_error(type_id, rest):
    decodes_or_raises_frame_error(json.dumps([type_id, *rest]))
