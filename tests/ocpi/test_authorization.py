"""Reading and writing the OCPI Authorization header (reference ocpi.md §1.3, §8.1)."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from ocpi_sandbox.domain.secrets import decodes_to_printable_text, generate_token
from ocpi_sandbox.ocpi.authorization import encode_authorization, read_authorization


def test_verbatim_value_comes_first_then_base64():
    token = "abc-123"
    encoded = base64.b64encode(token.encode()).decode()
    assert [c.token for c in read_authorization(f"Token {encoded}")] == [encoded, token]
    assert [c.encoding for c in read_authorization(f"Token {encoded}")] == ["raw", "base64"]


def test_raw_token_that_is_not_base64_gives_one_candidate_with_a_warning():
    [candidate] = read_authorization("Token sbx-c-not-base64")
    assert candidate.token == "sbx-c-not-base64" and "without Base64" in candidate.warnings[-1]


def test_trailing_newline_from_echo_is_stripped_with_a_warning():
    encoded = base64.b64encode(b"example-token\n").decode()
    candidate = read_authorization(f"Token {encoded}")[1]
    assert candidate.token == "example-token" and any("newline" in w for w in candidate.warnings)


def test_scheme_is_case_insensitive_and_spaces_are_tolerated():
    assert read_authorization("token   abc")[0].token == "abc"
    assert read_authorization("Bearer abc") == [] and read_authorization(None) == [] and read_authorization("Token") == []


def test_outbound_encoding_is_base64_on_22_and_raw_on_211_or_when_overridden():
    assert encode_authorization("t", version="2.2.1") == "Token dA=="
    assert encode_authorization("t", version="2.1.1") == "Token t"
    assert encode_authorization("t", version="2.3.0", override="raw") == "Token t"


@given(st.integers(min_value=0, max_value=200))
def test_generated_tokens_are_long_and_never_base64_of_printable_text(_):
    token = generate_token("sbx-c")
    assert len(token) >= 32 and not decodes_to_printable_text(token)
    assert all(0x21 <= ord(c) <= 0x7E for c in token) and len(token) <= 64
