"""Send the queued OCPI pushes (domain.outbox) to the eMSPs' Receiver endpoints.

Each push is rendered when it is sent, from the current state and in the partner's negotiated version, so a
retried Session PATCH carries the latest kWh. Pushes of one object go out strictly in queue order: a later push
waits while an earlier one is pending. A failure is retried with exponential back-off (1 s doubling to 10
minutes, or the eMSP's ``Retry-After``), and after ``max_attempts`` the push is marked failed, visible and
re-pushable in the management API. OCPI itself says not to retry (mod transport: "SHALL NOT be queued"); a
sandbox that gives up silently would hide exactly what eMSP teams come to see, so we retry and show it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import CpoCdr, CpoParty, CpoSession, OcpiPush, Partner, PushState, utcnow
from ..domain.location_view import load_location_view
from .client import OcpiCallError, OcpiClient, join_url
from .location_objects import evse_object
from .session_objects import cdr_object, session_object, session_object_fields

__all__ = ["PushDispatcher"]

log = logging.getLogger(__name__)

_MODULE = {"session_put": "sessions", "session_patch": "sessions", "cdr_post": "cdrs", "evse_patch": "locations"}
_PATCH_FIELDS = ("kwh", "status", "end_date_time", "total_cost", "last_updated")


def _receiver(partner: Partner, module: str) -> str | None:
    return next((e["url"] for e in partner.endpoints or [] if e["identifier"] == module
                 and e.get("role", "RECEIVER") == "RECEIVER"), None)


class PushDispatcher:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], client: OcpiClient, *, interval: float = 0.5,
                 max_attempts: int = 12) -> None:
        self._sessions = sessions
        self._client = client
        self.interval = interval
        self.max_attempts = max_attempts

    async def run(self) -> None:
        while True:
            try:
                await self.dispatch_due()
            except Exception:  # keep dispatching whatever one round hit
                log.exception("push round failed")
            await asyncio.sleep(self.interval)

    async def dispatch_due(self) -> int:
        """Send every push that is due and first in line for its object; return how many were tried."""
        async with self._sessions() as session:
            pending = (await session.scalars(select(OcpiPush).where(OcpiPush.state == PushState.PENDING)
                                             .order_by(OcpiPush.id).limit(500))).all()
            await session.commit()
        now, seen, due = utcnow(), set(), []
        for push in pending:
            key = (push.partner_id, push.object_id)
            if key in seen:
                continue  # an earlier push of this object is still pending: order per object
            seen.add(key)
            if push.next_attempt_at <= now:
                due.append(push.id)
        for push_id in due:
            await self.send(push_id)
        return len(due)

    async def _render(self, session: AsyncSession, push: OcpiPush, partner: Partner
                      ) -> tuple[str, str, Any] | None:
        base = _receiver(partner, _MODULE[push.kind])
        party = await session.get(CpoParty, partner.cpo_party_id)
        if base is None or party is None:
            return None
        version = partner.version or "2.2.1"
        if push.kind in ("session_put", "session_patch"):
            row = await session.get(CpoSession, push.object_id)
            if row is None:
                return None
            url = join_url(base, party.country_code, party.party_id, row.id)
            obj = session_object(row, party, version)
            if push.snapshot:  # the state the session had when this push was queued
                obj.update(session_object_fields(push.snapshot, version))
            if push.kind == "session_put":
                return "PUT", url, obj
            return "PATCH", url, {k: obj[k] for k in _PATCH_FIELDS if k in obj}
        if push.kind == "cdr_post":
            cdr = await session.get(CpoCdr, push.object_id)
            return None if cdr is None else ("POST", base, cdr_object(cdr, party, version))
        location_id, evse_uid = push.object_id.split("/", 1)
        url = join_url(base, party.country_code, party.party_id, location_id, evse_uid)
        if push.snapshot:
            return "PATCH", url, push.snapshot
        view = await load_location_view(session, party.id, party.country_code, party.party_id, location_id)
        evse = next((e for e in view.evses if e.uid == evse_uid), None) if view else None
        if evse is None:
            return None
        obj = evse_object(evse, version)
        return "PATCH", join_url(base, party.country_code, party.party_id, location_id, evse_uid), \
            {"status": obj["status"], "last_updated": obj["last_updated"]}

    async def send(self, push_id: int) -> None:
        async with self._sessions() as session:
            push = await session.get(OcpiPush, push_id)
            partner = await session.get(Partner, push.partner_id) if push else None
            rendered = await self._render(session, push, partner) if partner and partner.outbound_token else None
            if push is not None and rendered is None:
                push.state, push.last_error = PushState.FAILED, "nothing to send: the partner has no Receiver " \
                    "endpoint for this module, is not registered, or the object is gone"
            await session.commit()
        if rendered is None:
            return
        method, url, body = rendered
        error, reply = None, None
        try:
            reply = await self._client.call(method, url, token=partner.outbound_token, version=partner.version,
                                            encoding=partner.outbound_token_encoding, json=body,
                                            partner_id=partner.id, tenant_id=partner.tenant_id)
        except OcpiCallError as exc:
            error, reply = exc.message, exc.reply
        async with self._sessions() as session:
            push = await session.get(OcpiPush, push_id)
            push.attempts += 1
            push.last_status = reply.http_status if reply else None
            push.last_ocpi_status = reply.status_code if reply else None
            if error is None:
                push.state, push.delivered_at, push.last_error = PushState.DELIVERED, utcnow(), None
                push.location = reply.headers.get("location")  # where the eMSP keeps a POSTed CDR
            else:
                push.last_error = error
                if push.attempts >= self.max_attempts:
                    push.state = PushState.FAILED
                else:
                    push.next_attempt_at = utcnow() + timedelta(seconds=self._delay(push.attempts, reply))
            await session.commit()

    @staticmethod
    def _delay(attempts: int, reply: Any) -> float:
        retry_after = reply.headers.get("retry-after") if reply is not None else None
        if retry_after and retry_after.isdigit():
            return min(float(retry_after), 600.0)
        return min(2.0 ** (attempts - 1), 600.0)
