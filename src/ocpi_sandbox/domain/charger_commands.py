"""What the CPO can ask a charger to do, in version-neutral words (the domain's door to the CSMS).

The CSMS implements this (``csms.remote_commands``) with real OCPP 1.6 or 2.0.1 requests; ``app.py`` injects
it. Callers get the station's answer as a plain string ("Accepted", "Rejected", "Occupied", ...) or one of the
two exceptions, never an OCPP type.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

__all__ = ["ChargerCommands", "ChargerUnavailable", "ChargerDidNotAnswer"]


class ChargerUnavailable(Exception):
    """The charger has no connection to the CSMS (or answered with a CALLERROR)."""


class ChargerDidNotAnswer(Exception):
    """The charger did not answer within the response timeout."""


class ChargerCommands(Protocol):
    async def start_transaction(self, identity: str, *, evse_id: int | None, id_token: str, token_type: str,
                                remote_start_id: int) -> str: ...

    async def stop_transaction(self, identity: str, *, transaction_id: str) -> str: ...

    async def unlock_connector(self, identity: str, *, evse_id: int, connector_id: int) -> str: ...

    async def reserve_now(self, identity: str, *, reservation_id: int, evse_id: int | None, id_token: str,
                          token_type: str, expiry: datetime) -> str: ...

    async def cancel_reservation(self, identity: str, *, reservation_id: int) -> str: ...
