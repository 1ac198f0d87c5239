"""OCPI primitive types shared by every version (OCPI 2.2.1 types.asciidoc, "Primitive types").

Constraints live on the types so that they show up in decoding *and* in the exported JSON Schemas.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec

__all__ = ["CiString", "String", "DateTime", "URL", "OcpiObject", "ocpi_time", "utc_now"]

# Printable ASCII (space included); CR, LF and TAB are not allowed in a CiString.
_CI_PATTERN = r"^[\x20-\x7E]*$"
# Printable UTF-8: anything but C0 control characters and DEL.
_STRING_PATTERN = r"^[^\x00-\x1F\x7F]*$"


def CiString(max_length: int | None) -> object:  # noqa: N802 - named as the spec names the type
    """Return the annotated type of an OCPI ``CiString(n)``: case-insensitive printable ASCII."""
    return Annotated[str, msgspec.Meta(max_length=max_length, pattern=_CI_PATTERN)]


def String(max_length: int | None) -> object:  # noqa: N802
    """Return the annotated type of an OCPI ``string(n)``: case-sensitive printable UTF-8."""
    return Annotated[str, msgspec.Meta(max_length=max_length, pattern=_STRING_PATTERN)]


# DateTime is UTC on the wire; a value without "Z" means UTC (OCPI 2.2.1 types, DateTime).
DateTime = datetime
URL = Annotated[str, msgspec.Meta(max_length=255, pattern=r"^https?://")]


class OcpiObject(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Base of every OCPI object: keyword construction, absent optionals left out of the JSON.

    msgspec applies ``kw_only`` only to the fields a class itself defines, so every subclass states
    ``kw_only=True`` again. Unknown fields are ignored on decode (OCPI 2.3.0 transport: "SHALL NOT reject ... fields that are not in
    the spec"); we do the same for 2.2.1 for interoperability.
    """


def ocpi_time(value: datetime) -> datetime:
    """Return ``value`` as we emit it: UTC, whole seconds.

    msgspec writes microseconds as six digits, which overflows DateTime's string(25) and is not one of the
    spec's shapes; whole seconds always fit and every receiver parses them.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)


def utc_now() -> datetime:
    return ocpi_time(datetime.now(UTC))
