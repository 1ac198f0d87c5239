"""Send an OCPP request to a connected charge point and await its answer: the one door to the chargers.

The management API and OCPI commands call this, never a socket. Today it knows the stations connected to this
process; routing to another process (PostgreSQL LISTEN/NOTIFY or Redis, see DESIGN.md "Scale") goes behind
the same ``call``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import msgspec

from ..ocpp.rpc import CallFailed, CallTimeout, ConnectionLost

if TYPE_CHECKING:
    from .connection import StationConnection

__all__ = ["ChargerGateway", "ChargerOffline", "CallFailed", "CallTimeout"]


class ChargerOffline(Exception):
    """The charge point has no open connection to this CSMS."""

    def __init__(self, identity: str) -> None:
        super().__init__(f"charge point {identity!r} is not connected to the embedded CSMS; check that it runs "
                         "and points at /csms/{identity}, or reconnect it")
        self.identity = identity


class ChargerGateway:
    def __init__(self, default_timeout: float = 30.0) -> None:
        self._connections: dict[str, StationConnection] = {}
        self.default_timeout = default_timeout

    def attach(self, connection: StationConnection) -> StationConnection | None:
        """Register a new connection; return the one it replaces (the caller closes it)."""
        previous = self._connections.get(connection.identity)
        self._connections[connection.identity] = connection
        return previous

    def detach(self, connection: StationConnection) -> None:
        if self._connections.get(connection.identity) is connection:
            del self._connections[connection.identity]

    def connected(self, identity: str) -> bool:
        return identity in self._connections

    def version_of(self, identity: str) -> str:
        connection = self._connections.get(identity)
        if connection is None:
            raise ChargerOffline(identity)
        return connection.version

    @property
    def count(self) -> int:
        return len(self._connections)

    async def call(self, identity: str, action: str, payload: msgspec.Struct, *, timeout: float | None = None
                   ) -> msgspec.Struct:
        """Send ``action`` to ``identity`` and return its response Struct.

        Raises ChargerOffline, CallFailed (CALLERROR or invalid answer) or CallTimeout.
        """
        connection = self._connections.get(identity)
        if connection is None:
            raise ChargerOffline(identity)
        try:
            return await asyncio.wait_for(connection.rpc.call(action, payload), timeout or self.default_timeout)
        except TimeoutError:
            raise CallTimeout(f"{identity} did not answer {action} in time") from None
        except ConnectionLost:
            raise ChargerOffline(identity) from None
