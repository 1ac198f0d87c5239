"""A charger's frame log through the management API: filters (action, direction, time range, unique id) with a
cursor; the JSON-lines download with the same filters; the live Server-Sent Events stream delivering a new frame
as it crosses the wire; and none of it reachable from another tenant."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import httpx

from tests.api.test_charger_commands import SITE, SLOW, command, simulated_charger, site
from tests.conftest import Sandbox


async def all_pages(sandbox: Sandbox, charger_id: str, **params) -> list[dict]:  # noqa: ANN003
    items, before = [], None
    while True:
        page = (await sandbox.api.get(f"/api/chargers/{charger_id}/logs", params={
            **params, **({"before": before} if before else {})})).json()
        items += page["items"]
        before = page["next_before"]
        if before is None:
            return items


async def test_the_log_filters_by_action_direction_time_and_unique_id_and_pages_with_a_cursor(sandbox: Sandbox):
    charger = await simulated_charger(sandbox, (await site(sandbox))["id"], "1.6")
    cid = charger["id"]
    for name in ("plug-in", "unplug", "plug-in", "unplug"):
        await command(sandbox, cid, name)
    await sandbox.service("frame_log").flush()

    everything = await all_pages(sandbox, cid, limit=1000)
    paged = await all_pages(sandbox, cid, limit=3)
    assert [f["id"] for f in paged] == [f["id"] for f in everything]
    assert [f["id"] for f in everything] == sorted((f["id"] for f in everything), reverse=True)  # newest first

    sent_status = await all_pages(sandbox, cid, action="StatusNotification", direction="sent", limit=2)
    assert len(sent_status) >= 4 and {(f["action"], f["direction"]) for f in sent_status} == {
        ("StatusNotification", "sent")}
    answers = await all_pages(sandbox, cid, action="StatusNotification", direction="received")
    assert {f["message_type"] for f in answers} == {3}

    # A time range: the frames of the first plug-in and unplug are before the middle, the rest after it.
    ordered = sorted(everything, key=lambda f: f["id"])
    middle = datetime.fromisoformat(ordered[len(ordered) // 2]["at"])
    early = await all_pages(sandbox, cid, until=middle.isoformat())
    late = await all_pages(sandbox, cid, since=middle.isoformat())
    assert {f["id"] for f in early} | {f["id"] for f in late} == {f["id"] for f in everything}
    assert not {f["id"] for f in early} & {f["id"] for f in late}
    assert await all_pages(sandbox, cid, since=(datetime.fromisoformat(ordered[-1]["at"]) +
                                                timedelta(seconds=1)).isoformat()) == []

    # A CALL and its answer share the unique id.
    call = next(f for f in everything if f["message_type"] == 2)
    pair = await all_pages(sandbox, cid, unique_id=call["unique_id"])
    assert sorted(f["message_type"] for f in pair) == [2, 3]

    wrong = await sandbox.api.get(f"/api/chargers/{cid}/logs", params={"direction": "sideways"})
    assert wrong.status_code == 400


async def test_the_log_downloads_as_json_lines_oldest_first_with_the_same_filters(sandbox: Sandbox):
    charger = await simulated_charger(sandbox, (await site(sandbox))["id"], "2.0.1")
    cid = charger["id"]
    await command(sandbox, cid, "plug-in")
    latest = await command(sandbox, cid, "unplug")  # not flushed by hand: the download includes it anyway

    reply = await sandbox.api.get(f"/api/chargers/{cid}/logs.jsonl")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/x-ndjson")
    assert charger["identity"] in reply.headers["content-disposition"]
    lines = [json.loads(line) for line in reply.text.splitlines()]
    assert [f["id"] for f in lines] == sorted(f["id"] for f in lines)  # oldest first
    assert lines[0]["action"] == "BootNotification" and lines[0]["message_type"] == 2
    assert {f["unique_id"] for f in latest["frames"]} <= {f["unique_id"] for f in lines}
    assert {f["id"] for f in lines} == {f["id"] for f in await all_pages(sandbox, cid, limit=1000)}

    status = [json.loads(x) for x in (await sandbox.api.get(f"/api/chargers/{cid}/logs.jsonl", params={
        "action": "StatusNotification", "direction": "sent"})).text.splitlines()]
    assert status and all((f["action"], f["direction"]) == ("StatusNotification", "sent") for f in status)
    first_two = (await sandbox.api.get(f"/api/chargers/{cid}/logs.jsonl", params={"limit": 2})).text.splitlines()
    assert [json.loads(x)["id"] for x in first_two] == [f["id"] for f in lines[:2]]
    rest = (await sandbox.api.get(f"/api/chargers/{cid}/logs.jsonl", params={"after": lines[1]["id"]})).text
    assert [json.loads(x)["id"] for x in rest.splitlines()] == [f["id"] for f in lines[2:]]


async def sse_events(response: httpx.Response):  # noqa: ANN201 - yields (event, data)
    event, data = None, []
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data.append(line.split(":", 1)[1].strip())
        elif line == "" and (event or data):
            yield event, json.loads("\n".join(data)) if data else None
            event, data = None, []


async def test_the_live_stream_delivers_a_new_frame_as_it_crosses_the_wire(sandbox: Sandbox):
    charger = await simulated_charger(sandbox, (await site(sandbox))["id"], "1.6")
    cid = charger["id"]
    async with asyncio.timeout(SLOW):
        async with sandbox.api.stream("GET", f"/api/chargers/{cid}/logs/stream", timeout=SLOW) as everything, \
                sandbox.api.stream("GET", f"/api/chargers/{cid}/logs/stream", params={"direction": "received"},
                                   timeout=SLOW) as answers:
            assert everything.status_code == 200
            assert everything.headers["content-type"].startswith("text/event-stream")
            events, answer_events = sse_events(everything), sse_events(answers)
            assert await anext(events) == ("subscribed", {"charger_id": cid, "identity": charger["identity"]})
            assert (await anext(answer_events))[0] == "subscribed"
            plugged = await command(sandbox, cid, "plug-in")
            status = next(f for f in plugged["frames"] if f["action"] == "StatusNotification"
                          and f["message_type"] == 2)
            while True:
                kind, frame = await anext(events)
                if kind == "frame" and frame["unique_id"] == status["unique_id"]:
                    break
            assert (frame["action"], frame["direction"], frame["message_type"]) == ("StatusNotification", "sent", 2)
            assert json.loads(frame["frame"])[1] == status["unique_id"]
            kind, answer = await anext(answer_events)  # the filtered stream skipped the CALL: its answer comes first
            assert kind == "frame" and answer["direction"] == "received"
    # Both readers have gone: their subscriptions went with them.
    deadline = asyncio.get_running_loop().time() + SLOW
    while sandbox.service("frame_log").subscriptions:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)


async def test_log_routes_hide_other_tenants_chargers(sandbox: Sandbox):
    tokens = {name: (await sandbox.api.post("/api/tenants", json={"name": name})).json()["token"]
              for name in ("alpha", "beta")}
    alpha = httpx.AsyncClient(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {tokens['alpha']}"})
    beta = httpx.AsyncClient(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {tokens['beta']}"})
    try:
        location = (await alpha.post("/api/locations", json=SITE)).json()
        charger = (await alpha.post("/api/chargers", json={"location_id": location["id"], "brand_slug": "northgrid",
                                                           "model_slug": "nordwall-22"})).json()
        for path in ("logs", "logs.jsonl", "logs/stream"):
            reply = await beta.get(f"/api/chargers/{charger['id']}/{path}")
            assert reply.status_code == 404 and reply.json()["error"] == "not_found", (path, reply.text)
            if path != "logs/stream":  # alpha reads its own (a stream would not end by itself)
                assert (await alpha.get(f"/api/chargers/{charger['id']}/{path}")).status_code == 200
        assert sandbox.service("frame_log").subscriptions == 0
    finally:
        await alpha.aclose()
        await beta.aclose()
