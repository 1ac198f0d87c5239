"""Read the ``Authorization: Token ...`` header leniently and encode our own (reference ocpi.md §1.3, §8.1).

OCPI 2.2+ says the token is Base64 of its UTF-8 bytes; many peers send it raw, and the spec's own examples
encode a trailing newline. We accept all three, try the verbatim value first (a raw token may itself be valid
Base64), and report every leniency as a warning in the partner log.
"""

from __future__ import annotations

import base64
import binascii

import msgspec

__all__ = ["TokenCandidate", "read_authorization", "encode_authorization"]


class TokenCandidate(msgspec.Struct, frozen=True):
    token: str
    encoding: str  # "raw" or "base64"
    warnings: tuple[str, ...] = ()


def read_authorization(header: str | None) -> list[TokenCandidate]:
    """Return the tokens ``header`` may carry, verbatim value first; empty when it carries none."""
    if not header:
        return []
    scheme, _, rest = header.strip().partition(" ")
    value = rest.strip()
    if scheme.lower() != "token" or not value:
        return []
    warnings: list[str] = []
    if scheme != "Token":
        warnings.append(f"Authorization scheme written {scheme!r}; the spec writes 'Token'")
    if rest != value or "  " in header:
        warnings.append("extra white space in the Authorization header")
    candidates = [TokenCandidate(value, "raw", (*warnings, "token sent without Base64 encoding (OCPI 2.2+ "
                                                 "expects Base64 of the token)"))]
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return candidates
    if decoded.endswith("\r\n"):
        decoded, newline = decoded[:-2], True
    elif decoded.endswith("\n"):
        decoded, newline = decoded[:-1], True
    else:
        newline = False
    if decoded and all(0x21 <= ord(c) <= 0x7E for c in decoded):
        extra = ("the Base64 token encodes a trailing newline (echo instead of printf?)",) if newline else ()
        candidates.append(TokenCandidate(decoded, "base64", (*warnings, *extra)))
    return candidates


def encode_authorization(token: str, *, version: str | None, override: str | None = None) -> str:
    """Return the header value for calling a partner: Base64 on 2.2+ and raw on 2.1.1, unless overridden."""
    encoding = override or ("raw" if version and version.startswith("2.1") else "base64")
    if encoding == "raw":
        return f"Token {token}"
    return "Token " + base64.b64encode(token.encode()).decode("ascii")
