"""Live subscriptions to the frame log: a reader gets its charger's frames as they are appended, and a reader
that falls behind loses the newest frames with a notice saying how many, instead of the queue growing."""

from __future__ import annotations

from ocpi_sandbox.csms.frame_log import FrameLog, FramesDropped


def _log() -> FrameLog:
    return FrameLog(sessions=None)  # type: ignore[arg-type] - nothing here touches the database


def _call(uid: str, action: str = "Heartbeat") -> str:
    return f'[2, "{uid}", "{action}", {{}}]'


async def test_a_subscriber_gets_only_its_chargers_frames_in_order():
    log = _log()
    with log.subscribe("CP-1") as mine:
        log.append("CP-1", "sent", _call("a"), "simulator")
        log.append("CP-2", "sent", _call("x"), "simulator")
        log.append("CP-1", "received", '[3, "a", {}]', "simulator")
        first, second = await mine.get(timeout=1), await mine.get(timeout=1)
        assert (first["unique_id"], first["action"], first["direction"]) == ("a", "Heartbeat", "sent")
        assert (second["unique_id"], second["action"], second["message_type"]) == ("a", "Heartbeat", 3)
        assert await mine.get(timeout=0.01) is None
    assert log.subscriptions == 0
    assert log.pending == 3  # subscribing changes nothing about what is written


async def test_a_slow_reader_loses_the_newest_frames_with_a_notice_and_the_queue_stays_bounded():
    log = _log()
    with log.subscribe("CP-1", max_queued=3) as slow:
        for i in range(10):
            log.append("CP-1", "sent", _call(f"m{i}"), "simulator")
        log_size_while_full = len(slow._queue)
        got = [await slow.get(timeout=1) for _ in range(4)]
        assert [g["unique_id"] for g in got[:3]] == ["m0", "m1", "m2"]
        assert got[3] == FramesDropped(7)
        assert log_size_while_full == 3
        # Reading caught up: later frames come again, after the notice of the gap.
        log.append("CP-1", "sent", _call("m10"), "simulator")
        assert (await slow.get(timeout=1))["unique_id"] == "m10"


async def test_the_gap_notice_sits_where_the_frames_went_missing():
    log = _log()
    with log.subscribe("CP-1", max_queued=2) as reader:
        for uid in ("a", "b", "c", "d"):
            log.append("CP-1", "sent", _call(uid), "simulator")
        assert (await reader.get(timeout=1))["unique_id"] == "a"
        log.append("CP-1", "sent", _call("e"), "simulator")  # room for one again: the notice, then "e"
        rest = [await reader.get(timeout=1) for _ in range(3)]
        assert rest[0]["unique_id"] == "b" and rest[1] == FramesDropped(2) and rest[2]["unique_id"] == "e"


async def test_a_closed_subscription_receives_nothing_more():
    log = _log()
    reader = log.subscribe("CP-1")
    reader.close()
    reader.close()
    log.append("CP-1", "sent", _call("late"), "simulator")
    assert await reader.get(timeout=0.01) is None and log.subscriptions == 0
