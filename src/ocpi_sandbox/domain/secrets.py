"""Generate and hash the secrets we issue: OCPI credentials tokens and management API tokens."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets

__all__ = ["generate_token", "hash_token", "token_hint", "decodes_to_printable_text"]


def decodes_to_printable_text(value: str) -> bool:
    """Tell whether ``value`` is strict Base64 of printable ASCII, i.e. could be taken for an encoded token."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return bool(raw) and all(0x20 <= b < 0x7F or b in (0x0A, 0x0D) for b in raw)


def generate_token(prefix: str) -> str:
    """Return a fresh random token that no receiver can mistake for Base64 of a printable token.

    The prefix carries a dash, outside the standard Base64 alphabet, so a lenient receiver that tries to
    decode it fails and falls back to the verbatim value (reference ocpi.md §1.3). 40 random URL-safe
    characters carry 240 bits.
    """
    while True:
        token = f"{prefix}-{secrets.token_urlsafe(30)}"
        if not decodes_to_printable_text(token):
            return token


def hash_token(token: str) -> str:
    # Tokens are high-entropy random strings, so a plain SHA-256 is enough: no salt or slow hash needed.
    return hashlib.sha256(token.encode()).hexdigest()


def token_hint(token: str) -> str:
    return token[-4:]
