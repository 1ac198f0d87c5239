"""Run management commands on simulated chargers and report what each did and the OCPP frames it caused.

A command acts on the simulated charger itself, as a driver, an operator on site or a network failure would,
through the station's own state machine; so it works the same whether the charger talks to the embedded CSMS
or to yours. While it runs, the charger's frames are watched (``FrameLog.subscribe``): the command answers once
every CALL exchanged meanwhile has its answer and the line has been quiet for a moment (``SETTLE_S``), or when
its ``wait`` is up. Every frame listed is in the charger's log under the same unique id and action.

The other direction, the CSMS asking a charger over OCPP (Reset.req, RemoteStart...), is
``domain.charger_commands``; these commands never go through a CSMS.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from .charger_fleet import ChargerFleet
from .csms.frame_log import FrameLog, FramesDropped
from .simulator.station_state import TokenInfo
from .simulator.transport import StationLink

__all__ = ["COMMANDS", "FleetCommands", "CommandOptions", "CommandOutcome", "FrameSeen", "options_problem"]

# Lifecycle, state, driver and connectivity commands (issue wording); the order is the documentation's.
COMMANDS = ("plug-in", "unplug", "swipe-card", "start-transaction", "stop-transaction", "reset", "unlock-connector",
            "update-configuration", "set-local-auth-list", "inject-fault", "clear-fault", "power-loss",
            "disconnect", "reconnect")
# These make sense on a charger that is not online (they are about the connection or the power itself).
_ANY_CONNECTION = {"disconnect", "reconnect", "power-loss"}
SETTLE_S = 0.3  # quiet time after the last answer before a command counts its frames complete
DEFAULT_CARD = "04A1B2C3D4"
_STATUSES_16 = ("Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx")
_STATUSES_201 = (*_STATUSES_16, "NoCredit", "NotAllowedTypeEVSE", "NotAtThisLocation", "NotAtThisTime", "Unknown")

IdTokenText = Annotated[str, msgspec.Meta(min_length=1, max_length=36, pattern=r"^[\x21-\x7E]+$",
                                          examples=["04A1B2C3D4"])]


class LocalListEntry(msgspec.Struct, kw_only=True):
    """One entry of a local authorization list (1.6 AuthorizationData, 2.0.1 AuthorizationData)."""

    id_token: IdTokenText
    # null removes the token (Differential updates only).
    status: Literal[_STATUSES_201] | None = "Accepted"  # type: ignore[valid-type]
    expiry_date: datetime | None = None
    group_id: IdTokenText | None = None


class CommandOptions(msgspec.Struct, kw_only=True):
    """What a command needs; each command reads only its own fields (the others are ignored)."""

    # plug-in, unplug, start-transaction, stop-transaction, unlock-connector, inject-fault, clear-fault: default 1
    # (stop-transaction: the EVSE with a transaction). swipe-card: default, the station picks. reset: the station.
    evse_id: Annotated[int, msgspec.Meta(ge=1, le=64)] | None = None
    connector_id: Annotated[int, msgspec.Meta(ge=1, le=16)] = 1
    # swipe-card, start-transaction (default 04A1B2C3D4).
    id_token: IdTokenText | None = None
    # inject-fault: an OCPP 1.6 ChargePointErrorCode (2.0.1 chargers report it as the techCode).
    error_code: Annotated[str, msgspec.Meta(max_length=32, pattern=r"^[A-Za-z]+$")] | None = None
    # reset: Soft stops transactions first, Hard reboots and reports them after the boot.
    type: Literal["Soft", "Hard"] = "Soft"
    # update-configuration: 1.6 keys ("HeartbeatInterval") or 2.0.1 "Component.Variable[.Instance]" names.
    # (Key lengths are checked in options_problem: OpenAPI cannot state constraints on object keys.)
    configuration: dict[str, Annotated[str, msgspec.Meta(max_length=1000)]] | None = None
    # set-local-auth-list: the entries, Full (replace the list) or Differential (change it), and the version
    # (default: the charger's current version + 1).
    id_tokens: Annotated[list[LocalListEntry], msgspec.Meta(max_length=1000)] | None = None
    update_type: Literal["Full", "Differential"] = "Full"
    list_version: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None
    # disconnect: stay offline until the reconnect command (default: reconnect by itself, with back-off).
    stay_offline: bool = False
    # Act on a charger that is not online (its transaction messages wait for the connection).
    allow_offline: bool = False
    # Seconds to wait for the frames the command causes (reset, power-loss and reconnect include the new boot).
    wait: Annotated[float, msgspec.Meta(ge=0, le=60)] = 10.0


class FrameSeen(msgspec.Struct, kw_only=True):
    """A frame the charger exchanged while the command ran; find it in the log by ``unique_id``."""

    unique_id: str | None
    action: str | None
    direction: Literal["sent", "received"]  # as seen from the charger
    message_type: int | None  # 2 CALL, 3 CALLRESULT, 4 CALLERROR
    at: datetime


ErrorKind = Literal["not_found", "not_simulated", "offline", "not_booted", "busy", "refused"]


class CommandOutcome(msgspec.Struct, kw_only=True):
    """What one charger did with a command."""

    charger_id: str
    identity: str
    command: str
    ok: bool
    # The simulator's own answer (its fields depend on the command); null when the command did not run.
    result: dict[str, Any] | None = None
    frames: list[FrameSeen] = []
    # false: the wait ran out (or the stream fell behind) before the charger was done; more frames may follow.
    settled: bool = True
    error: ErrorKind | None = None
    message: str | None = None


def options_problem(command: str, options: CommandOptions) -> str | None:
    """Say what is missing from ``options`` for ``command`` (whatever the charger), or None."""
    if command == "update-configuration" and not options.configuration:
        return ('update-configuration needs "configuration": {"<key>": "<value>"} with 1.6 keys '
                '(HeartbeatInterval) or 2.0.1 Component.Variable names (OCPPCommCtrlr.HeartbeatInterval)')
    bad_keys = [k for k in options.configuration or {} if not 1 <= len(k) <= 120]
    if bad_keys:
        return f"configuration keys are 1 to 120 characters; fix {bad_keys[0][:40]!r}"
    if command == "set-local-auth-list":
        if options.id_tokens is None:
            return ('set-local-auth-list needs "id_tokens": [{"id_token": "...", "status": "Accepted"}] '
                    '(an empty list with "update_type": "Full" clears the list)')
        if options.update_type == "Full" and any(e.status is None for e in options.id_tokens):
            return 'a Full list gives every id token a status; "status": null removes one in a Differential update'
    return None


@dataclass
class _Act:
    ok: bool
    result: dict[str, Any]
    message: str | None = None
    # What "done" means beyond the quiet line (e.g. the charger booted again after a reset); only when online.
    done: Callable[[], bool] | None = None


class FleetCommands:
    """Run commands on the fleet's stations, one at a time per charger, and watch their frames."""

    def __init__(self, charger_fleet: ChargerFleet, frame_log: FrameLog, *, concurrency: int = 200) -> None:
        self._fleet = charger_fleet
        self._frame_log = frame_log
        self._running: dict[str, str] = {}  # identity -> command under way
        self._slots = asyncio.Semaphore(concurrency)

    def busy_with(self, identity: str) -> str | None:
        """The command running on ``identity`` now, if any."""
        return self._running.get(identity)

    async def run_many(self, targets: Iterable[tuple[str, str]], command: str,
                       options: CommandOptions) -> list[CommandOutcome]:
        """Run ``command`` on (charger id, identity) pairs concurrently; one outcome each, in the same order."""
        async def one(charger_id: str, identity: str) -> CommandOutcome:
            async with self._slots:
                return await self.run(charger_id, identity, command, options)

        return list(await asyncio.gather(*(one(cid, ident) for cid, ident in targets)))

    async def run(self, charger_id: str, identity: str, command: str, options: CommandOptions) -> CommandOutcome:
        """Run ``command`` on one charger; an offline, busy or unsimulated charger gives an outcome with an error."""
        def failed(error: ErrorKind, message: str) -> CommandOutcome:
            return CommandOutcome(charger_id=charger_id, identity=identity, command=command, ok=False, error=error,
                                  message=message)

        link = self._fleet.fleet.link(identity)
        if link is None:
            return failed("not_simulated", f"charger {identity} is not simulated here (created with simulate=false, "
                                           "or disabled): commands act on the sandbox's own simulated chargers")
        if identity in self._running:
            return failed("busy", f"charger {identity} is still running {self._running[identity]}; retry once it "
                                  "has answered")
        station = link.station
        online = link.connected.is_set() and station.registration == "Accepted"
        if not online and command not in _ANY_CONNECTION and not options.allow_offline:
            if not link.connected.is_set():
                why = f" (last error: {link.last_error})" if link.last_error else ""
                return failed("offline", f"charger {identity} is not connected to its CSMS{why}; wait until "
                                         f"GET /api/chargers/{charger_id} shows state.link.connected, send the "
                                         'reconnect command, or pass "allow_offline": true to act on it offline')
            return failed("not_booted", f"charger {identity} is connected but its BootNotification is "
                                        f"{station.registration or 'not answered yet'}; wait for Accepted, or pass "
                                        '"allow_offline": true')
        self._running[identity] = command
        try:
            with self._frame_log.subscribe(identity, max_queued=10_000) as watch:
                act = await self._act(link, command, options)
                link.pump()
                # Settings and local lists change without a frame: the next snapshot must still keep them.
                link.dirty = True
                done = act.done if (online or command in ("reconnect", "power-loss")) else None
                frames, settled = await _collect(watch, done, options.wait)
        finally:
            del self._running[identity]
        return CommandOutcome(charger_id=charger_id, identity=identity, command=command, ok=act.ok, result=act.result,
                              frames=frames, settled=settled, error=None if act.ok else "refused",
                              message=act.message)

    async def _act(self, link: StationLink, command: str, o: CommandOptions) -> _Act:
        station, now = link.station, time.monotonic()
        evse_id = o.evse_id or 1
        if command == "plug-in":
            return _simple(station.plug_in(evse_id, o.connector_id, None, now))
        if command == "unplug":
            return _simple(station.unplug(evse_id, o.connector_id, now))
        if command == "swipe-card":
            result = station.swipe_card(o.id_token or DEFAULT_CARD, o.evse_id, now)
            return _Act(ok=result["result"] != "rejected", result=result, message=result.get("reason"))
        if command == "start-transaction":
            result = station.start_local(evse_id, o.id_token or DEFAULT_CARD, now, connector_id=o.connector_id)
            problem = result.get("plug", {}).get("error") or result.get("card", {}).get("reason")
            return _Act(ok=result["ok"], result=result, message=problem)
        if command == "stop-transaction":
            if o.evse_id is None:
                busy = [e.id for e in station.evses if e.tx is not None]
                evse_id = busy[0] if busy else 1
            return _simple(station.stop_local(evse_id, now))
        if command == "inject-fault":
            return _simple(station.inject_fault(evse_id, o.connector_id, o.error_code or "GroundFailure", now))
        if command == "clear-fault":
            return _simple(station.clear_fault(evse_id, o.connector_id, now))
        if command == "reset":
            return self._reset(station, o, now)
        if command == "unlock-connector":
            station.tick(now)
            status = station.unlock(evse_id, o.connector_id)
            return _Act(ok=status == "Unlocked", result={"status": status, "evse_id": evse_id,
                                                         "connector_id": o.connector_id},
                        message=_UNLOCK_PROBLEMS.get(status))
        if command == "update-configuration":
            assert o.configuration is not None
            keys = station.configure(dict(o.configuration), now)
            bad = {k: v for k, v in keys.items() if v["status"] not in ("Accepted", "RebootRequired")}
            message = None if not bad else "not applied: " + "; ".join(
                f"{k} {v['status']}" + (f" ({v['reason']})" if v["reason"] else "") for k, v in bad.items())
            return _Act(ok=not bad, result={"keys": keys}, message=message)
        if command == "set-local-auth-list":
            return self._local_list(station, o, now)
        if command == "power-loss":
            was = link.connected.is_set()
            if was:  # the socket dies with the power, before the station can say anything
                await link.drop()
                await _until(lambda: not link.connected.is_set() and not station.connected, 5.0)
            result = station.power_loss(time.monotonic())
            if was:
                await link.reconnect_now()  # back as soon as it has rebooted
            return _Act(ok=True, result=result, done=(lambda: _booted(link)) if was else None)
        if command == "disconnect":
            was = link.connected.is_set()
            if o.stay_offline:
                await link.go_offline()
            else:
                await link.drop()
            note = ("it stays offline until the reconnect command" if o.stay_offline
                    else "it reconnects by itself, with back-off")
            return _Act(ok=True, result={"was_connected": was, "stay_offline": o.stay_offline, "note": note},
                        done=lambda: not link.connected.is_set())
        if command == "reconnect":
            was = link.connected.is_set()
            await link.reconnect_now()
            return _Act(ok=True, result={"was_connected": was}, done=lambda: _booted(link))
        raise ValueError(f"unknown command {command!r}")  # the controller only passes COMMANDS

    @staticmethod
    def _reset(station: Any, o: CommandOptions, now: float) -> _Act:
        station.tick(now)
        status = station.reset(o.type, o.evse_id, boot_reason="LocalReset")
        if status == "Rejected":
            return _Act(ok=False, result={"status": status}, message=f"the charger has no EVSE {o.evse_id}")
        rebooting = o.evse_id is None

        def done() -> bool:
            return not rebooting or (station.registration == "Accepted"
                                     and not any(j.kind == "reboot" for j in station.jobs))

        return _Act(ok=True, result={"status": status, "type": o.type, "reboots": rebooting}, done=done)

    @staticmethod
    def _local_list(station: Any, o: CommandOptions, now: float) -> _Act:
        assert o.id_tokens is not None
        v16 = station.version == "1.6"
        limit, statuses = (20, _STATUSES_16) if v16 else (36, _STATUSES_201)
        for entry in o.id_tokens:
            if len(entry.id_token) > limit or (entry.group_id and len(entry.group_id) > limit):
                return _Act(ok=False, result={"status": "Rejected"},
                            message=f"an id token has at most {limit} characters in OCPP {station.version}")
            if entry.status is not None and entry.status not in statuses:
                return _Act(ok=False, result={"status": "Rejected"},
                            message=f"{entry.status} is not an OCPP {station.version} authorization status; use "
                                    f"one of {', '.join(statuses)}")
        station.tick(now)
        version = o.list_version or station.local_list_version + 1
        entries = [(e.id_token, None if e.status is None else TokenInfo(
            status=e.status, group=e.group_id, expiry_time=None if e.expiry_date is None else e.expiry_date.isoformat()))
            for e in o.id_tokens]
        status = station.send_local_list(version, o.update_type == "Full", entries)
        message = {"VersionMismatch": f"a Differential update needs a list_version above the charger's "
                                      f"{station.local_list_version}",
                   "Failed": "the list is longer than the charger accepts (SendLocalListMaxLength / "
                             "LocalAuthListMaxLength)"}.get(status)
        return _Act(ok=status == "Accepted", result={"status": status, "list_version": station.local_list_version,
                                                     "entries": len(station.local_list)}, message=message)


_UNLOCK_PROBLEMS = {
    "UnlockFailed": "the connector lock failed (the lock_failure chaos switch is on)",
    "OngoingAuthorizedTransaction": "an authorized transaction runs on this connector; stop it first (2.0.1 F05)",
    "UnknownConnector": "the charger has no such EVSE/connector",
}


def _simple(result: dict[str, Any]) -> _Act:
    return _Act(ok=bool(result.get("ok")), result=result, message=result.get("error"))


def _booted(link: StationLink) -> bool:
    return link.connected.is_set() and link.station.registration == "Accepted"


async def _until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def _collect(watch: Any, done: Callable[[], bool] | None, wait: float) -> tuple[list[FrameSeen], bool]:
    """Gather frames until every CALL seen has its answer, ``done`` holds and the line is quiet, or ``wait`` ends."""
    deadline = time.monotonic() + wait
    frames: list[FrameSeen] = []
    open_calls: set[tuple[str, str | None]] = set()  # (direction of the CALL, unique id)
    complete = True
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return frames, False
        item = await watch.get(timeout=min(SETTLE_S, remaining))
        if item is None:
            if not open_calls and (done is None or done()):
                return frames, complete
            continue
        if isinstance(item, FramesDropped):
            complete = False
            continue
        direction, kind, uid = item["direction"], item["message_type"], item["unique_id"]
        frames.append(FrameSeen(unique_id=uid, action=item["action"], direction=direction, message_type=kind,
                                at=item["at"]))
        if kind == 2:
            open_calls.add((direction, uid))
        elif kind in (3, 4):  # an answer travels the other way from its CALL
            open_calls.discard(("received" if direction == "sent" else "sent", uid))
