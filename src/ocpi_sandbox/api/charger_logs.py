"""A charger's OCPP frame log: read a page, download it as JSON lines, or follow new frames live (SSE).

Frames are what the charger sent and received (``direction`` is as seen from the charger). The page and the
download read the database; the live stream subscribes to the frame log in memory, so it shows frames as they
cross the wire, before they are written. A reader too slow for the stream gets a ``dropped`` event saying how
many frames it missed (they are in the log), rather than the sandbox buffering for it without bound.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage, Stream
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..csms.frame_log import FrameLog, FramesDropped
from ..domain import chargers as charger_service
from .errors import error_responses

__all__ = ["ChargerLogsController", "FrameOut", "FramePage"]

KEEPALIVE_S = 15.0  # an SSE comment this often keeps proxies from closing an idle stream
STREAM_QUEUE = 1000  # frames held for one slow stream reader before it misses some
_DOWNLOAD_BATCH = 1000


class FrameOut(msgspec.Struct, kw_only=True):
    id: int
    at: datetime
    direction: str
    message_type: int | None
    action: str | None
    unique_id: str | None
    side: str
    frame: str


class FramePage(msgspec.Struct, kw_only=True):
    items: list[FrameOut]
    next_before: int | None = None


class LiveFrame(msgspec.Struct, kw_only=True):
    """A frame on the live stream (not yet in the database, so without an id)."""

    at: datetime
    direction: str
    message_type: int | None
    action: str | None
    unique_id: str | None
    side: str
    frame: str


Action = Annotated[str | None, Parameter(max_length=64, description="OCPP action, e.g. StatusNotification "
                                                                    "(a CALLRESULT carries its CALL's action)")]
Direction = Annotated[Literal["sent", "received"] | None,
                      Parameter(description="as seen from the charger: sent to, or received from, the CSMS")]
UniqueId = Annotated[str | None, Parameter(max_length=64, description="the OCPP-J message id (a CALL and its answer "
                                                                      "share it)")]


def _frame_out(row: Any) -> FrameOut:
    return FrameOut(id=row.id, at=row.at, direction=row.direction, message_type=row.message_type, action=row.action,
                    unique_id=row.unique_id, side=row.side, frame=row.frame)


class ChargerLogsController(Controller):
    path = "/api/chargers/{id:str}"
    tags = ["chargers"]

    @get("/logs", operation_id="getChargerLogs", responses=error_responses(400, 401, 403, 404))
    async def logs(
        self, id: str, tenant_id: str, db_session: AsyncSession,  # noqa: A002
        action: Action = None, direction: Direction = None, unique_id: UniqueId = None,
        since: Annotated[datetime | None, Parameter(description="frames at or after this time")] = None,
        until: Annotated[datetime | None, Parameter(description="frames before this time")] = None,
        before: Annotated[int | None, Parameter(ge=1, le=2**62, description="cursor: next_before of the "
                                                                            "previous page")] = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    ) -> FramePage:
        """Read the charger's OCPP frames, newest first; pass ``next_before`` back as ``before`` for the next
        page. Frames reach the log within half a second."""
        charger = await charger_service.get_charger(db_session, tenant_id, id)
        rows = await charger_service.charger_frames(db_session, charger, action=action, direction=direction,
                                                    unique_id=unique_id, since=since, until=until, before=before,
                                                    limit=limit + 1)
        more, rows = len(rows) > limit, rows[:limit]
        return FramePage(items=[_frame_out(r) for r in rows], next_before=rows[-1].id if more and rows else None)

    @get("/logs.jsonl", operation_id="downloadChargerLogs", media_type="application/x-ndjson",
         responses=error_responses(400, 401, 403, 404))
    async def download(
        self, id: str, tenant_id: str, db_session: AsyncSession, frame_log: FrameLog,  # noqa: A002
        session_factory: async_sessionmaker[AsyncSession],
        action: Action = None, direction: Direction = None, unique_id: UniqueId = None,
        since: Annotated[datetime | None, Parameter(description="frames at or after this time")] = None,
        until: Annotated[datetime | None, Parameter(description="frames before this time")] = None,
        after: Annotated[int | None, Parameter(ge=1, le=2**62, description="only frames with a larger id")] = None,
        limit: Annotated[int | None, Parameter(ge=1, le=10_000_000)] = None,
    ) -> Stream:
        """Download the charger's frames as JSON lines, oldest first, one FrameOut object per line (the same
        filters as /logs); everything up to the moment of the request is included."""
        charger = await charger_service.get_charger(db_session, tenant_id, id)
        await db_session.commit()
        await frame_log.flush()  # what crossed the wire up to now is in the file

        async def lines() -> AsyncIterator[bytes]:
            # One short read per batch: no transaction stays open while the client takes its time.
            cursor, left = after, limit
            while left is None or left > 0:
                batch = _DOWNLOAD_BATCH if left is None else min(_DOWNLOAD_BATCH, left)
                async with session_factory() as session:
                    rows = await charger_service.charger_frames(
                        session, charger, action=action, direction=direction, unique_id=unique_id, since=since,
                        until=until, before=None, after=cursor, limit=batch, oldest_first=True)
                if not rows:
                    return
                yield b"".join(msgspec.json.encode(_frame_out(r)) + b"\n" for r in rows)
                cursor = rows[-1].id
                if left is not None:
                    left -= len(rows)
                if len(rows) < batch:
                    return

        filename = f"{charger.identity}-frames.jsonl"
        return Stream(lines(), media_type="application/x-ndjson",
                      headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    @get("/logs/stream", operation_id="streamChargerLogs", media_type="text/event-stream",
         responses=error_responses(400, 401, 403, 404))
    async def stream(self, id: str, tenant_id: str, db_session: AsyncSession,  # noqa: A002
                     frame_log: FrameLog, action: Action = None, direction: Direction = None) -> ServerSentEvent:
        """Follow the charger's frames live as Server-Sent Events: first ``subscribed``, then one ``frame`` event
        per frame (a LiveFrame JSON object), ``dropped`` when this reader fell behind and missed some (read them
        from /logs), and a comment line every 15 s while nothing happens."""
        charger = await charger_service.get_charger(db_session, tenant_id, id)
        charger_id, identity = charger.id, charger.identity
        await db_session.commit()

        async def events() -> AsyncIterator[ServerSentEventMessage]:
            # Subscribed here, not in the handler: a response that is never sent leaves no subscription behind.
            with frame_log.subscribe(identity, max_queued=STREAM_QUEUE) as subscription:
                yield ServerSentEventMessage(event="subscribed", data=msgspec.json.encode(
                    {"charger_id": charger_id, "identity": identity}).decode())
                while True:
                    item = await subscription.get(timeout=KEEPALIVE_S)
                    if item is None:
                        yield ServerSentEventMessage(data=None, comment="keep-alive")
                    elif isinstance(item, FramesDropped):
                        yield ServerSentEventMessage(event="dropped", data=msgspec.json.encode({
                            "dropped": item.count, "message": "this reader fell behind; the missed frames are in "
                                                              "GET /api/chargers/{id}/logs"}).decode())
                    elif (action is None or item["action"] == action) and (
                            direction is None or item["direction"] == direction):
                        yield ServerSentEventMessage(event="frame", data=msgspec.json.encode(LiveFrame(
                            at=item["at"], direction=item["direction"], message_type=item["message_type"],
                            action=item["action"], unique_id=item["unique_id"], side=item["side"],
                            frame=item["frame"])).decode())

        return ServerSentEvent(events())
