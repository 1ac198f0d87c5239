"""Send the queued OCPI pushes (domain.outbox) to the eMSPs' Receiver endpoints.

Each push is rendered when it is sent, in the partner's negotiated version, with the state it was queued with
(its snapshot). Pushes of one line (``domain.outbox.order_key``: a Session and its CDR, a Location and its EVSEs)
go out strictly in queue order: a later push waits while an earlier one is pending. A failure is retried with
exponential back-off (1 s doubling to 10 minutes, or the eMSP's ``Retry-After``); after ``max_attempts`` and
at least ``give_up_after`` of trying (so an eMSP answering ``Retry-After: 1`` through a short maintenance still
gets everything) the push is marked failed, visible and re-pushable in the management API. OCPI itself says
not to retry (mod transport: "SHALL NOT be queued"); a sandbox that gives up silently would hide exactly what eMSP
teams come to see, so we retry and show it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import CpoCdr, CpoParty, CpoSession, OcpiPush, Partner, PushState, TariffRecord, utcnow
from ..domain.location_view import load_location_view
from ..domain.outbox import MODULE_OF, ROLE_OF, order_key
from .client import OcpiCallError, OcpiClient, join_url
from .location_objects import evse_object, location_object
from .session_objects import cdr_object, session_object, session_object_fields
from .tariff_versions import tariff_object

__all__ = ["PushDispatcher"]

log = logging.getLogger(__name__)

# A Session PATCH carries these; charging_periods only as queued (the eMSP appends them, OCPI mod_sessions).
_PATCH_FIELDS = ("kwh", "status", "end_date_time", "total_cost", "last_updated")


def _receiver(partner: Partner, module: str, role: str = "RECEIVER") -> str | None:
    return next((e["url"] for e in partner.endpoints or [] if e["identifier"] == module
                 and e.get("role", "RECEIVER") == role), None)


class PushDispatcher:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], client: OcpiClient, *, interval: float = 0.5,
                 max_attempts: int = 12, give_up_after: timedelta = timedelta(minutes=10),
                 concurrency: int = 8) -> None:
        self._sessions = sessions
        self._client = client
        self.interval = interval
        self.max_attempts = max_attempts
        self.give_up_after = give_up_after
        self.concurrency = concurrency  # lines sent at once; within a line, one push at a time, in order
        self.batch = 500  # pushes tried per round at most
        self._wake: asyncio.Event | None = None

    def wake(self) -> None:
        """Send now what is due (a change was just committed with its pushes), without waiting for the interval."""
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        self._wake = asyncio.Event()
        while True:
            self._wake.clear()
            try:
                await self.dispatch_due()
            except Exception:  # keep dispatching whatever one round hit
                log.exception("push round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)

    async def dispatch_due(self) -> int:
        """Send every push that is due and first in line for its object; return how many were tried."""
        # The whole pending queue (a few columns): a push waiting for its back-off still holds its line, and a
        # page of the queue could be all such pushes, leaving every newer line unseen.
        async with self._sessions() as session:
            pending = (await session.execute(
                select(OcpiPush.id, OcpiPush.partner_id, OcpiPush.kind, OcpiPush.object_id, OcpiPush.snapshot,
                       OcpiPush.next_attempt_at).where(OcpiPush.state == PushState.PENDING).order_by(OcpiPush.id)
            )).all()
            await session.commit()
        now, seen, due = utcnow(), set(), []
        for push in pending:
            key = order_key(push)
            if key in seen:
                continue  # an earlier push of this line is still pending: order per line
            seen.add(key)
            if push.next_attempt_at <= now and len(due) < self.batch:
                due.append(push.id)
        # Different lines do not wait for each other: a slow Location line must not hold a Session PUT back.
        slots = asyncio.Semaphore(self.concurrency)

        async def send(push_id: int) -> None:
            async with slots:
                await self.send(push_id)

        await asyncio.gather(*(send(push_id) for push_id in due))
        return len(due)

    async def _render(self, session: AsyncSession, push: OcpiPush, partner: Partner
                      ) -> tuple[str, str, Any] | None:
        base = _receiver(partner, MODULE_OF[push.kind], ROLE_OF.get(push.kind, "RECEIVER"))
        party = await session.get(CpoParty, partner.cpo_party_id)
        if base is None or party is None:
            return None
        version = partner.version or "2.2.1"
        cc, pid = party.country_code, party.party_id
        if push.kind in ("session_put", "session_patch"):
            row = await session.get(CpoSession, push.object_id)
            if row is None:
                return None
            url = join_url(base, cc, pid, row.id)
            obj = session_object(row, party, version)
            obj.pop("charging_periods", None)  # only the periods this push was queued with (PATCH appends them)
            if push.snapshot:  # the state the session had when this push was queued
                obj.update(session_object_fields(push.snapshot, version))
            if not obj.get("charging_periods"):
                obj.pop("charging_periods", None)
            if push.kind == "session_put":
                return "PUT", url, obj
            fields = {k: obj[k] for k in _PATCH_FIELDS if k in obj}
            if obj.get("charging_periods"):
                fields["charging_periods"] = obj["charging_periods"]
            return "PATCH", url, fields
        if push.kind == "active_profile_put":  # the ActiveChargingProfile as computed when queued
            return "PUT", join_url(base, push.object_id), push.snapshot
        if push.kind == "cdr_post":
            cdr = await session.get(CpoCdr, push.object_id)
            return None if cdr is None else ("POST", base, cdr_object(cdr, party, version))
        if push.kind in ("tariff_put", "tariff_delete"):
            url = join_url(base, cc, pid, push.object_id)
            if push.kind == "tariff_delete":
                return "DELETE", url, None
            tariff = await session.scalar(select(TariffRecord).where(TariffRecord.cpo_party_id == party.id,
                                                                     TariffRecord.ocpi_id == push.object_id))
            return None if tariff is None else ("PUT", url, tariff_object(tariff, party, version))
        location_id, _, evse_uid = push.object_id.partition("/")
        view = await load_location_view(session, party.id, cc, pid, location_id)
        if push.kind == "location_put":
            return None if view is None else ("PUT", join_url(base, cc, pid, location_id),
                                               location_object(view, party, version))
        url = join_url(base, cc, pid, location_id, evse_uid)
        if push.kind == "evse_patch" and push.snapshot:
            return "PATCH", url, push.snapshot
        evse = next((e for e in view.evses if e.uid == evse_uid), None) if view else None
        if evse is None:
            return None
        obj = evse_object(evse, version)
        if push.kind == "evse_put":
            return "PUT", url, {**obj, **(push.snapshot or {})}
        return "PATCH", url, {"status": obj["status"], "last_updated": obj["last_updated"]}

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
                if push.attempts >= self.max_attempts and utcnow() - push.created_at >= self.give_up_after:
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
