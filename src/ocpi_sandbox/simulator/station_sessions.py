"""Run the sessions on a station's EVSEs: cables, drivers, authorization, transactions.

A mixin of ``Station``, version-neutral. When a transaction starts and stops follows the 2.0.1 model
(Part 2 E01-E07, TxCtrlr.TxStartPoint/TxStopPoint): it starts at the first start point reached and ends when a
stop point that held stops holding. OCPP 1.6 is that model with a fixed configuration: start at
PowerPathClosed (cable in and authorized), stop on deauthorization, and on unplug when
StopTransactionOnEVSideDisconnect is true (1.6 §3.6, §4.8). Every change ends in ``_sync()``, which settles the
power flow and reports what changed.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .metering import Reading, read_meter
from .station_state import Authorization, EvseState, IdToken, TokenInfo, Transaction

if TYPE_CHECKING:  # pragma: no cover
    from .station import Station

__all__ = ["SessionFlow"]


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)

_START_ON_PLUG = {"EVConnected", "ParkingBayOccupancy"}
_START_ON_AUTH = {"Authorized", "DataSigned"}
_STOP_ON_DEAUTH = {"Authorized", "DataSigned", "PowerPathClosed", "EnergyTransfer"}
_STOP_ON_UNPLUG = {"EVConnected", "ParkingBayOccupancy", "PowerPathClosed", "EnergyTransfer"}


class SessionFlow:
    """Cables, drivers and transactions on each EVSE (mixed into ``Station``)."""

    # -- lookups --

    def _evse(self: Station, evse_id: int) -> EvseState:
        if not 1 <= evse_id <= len(self.evses):
            raise LookupError(f"EVSE {evse_id} does not exist; this station has EVSEs 1..{len(self.evses)}")
        return self.evses[evse_id - 1]

    def _operative(self: Station, evse: EvseState, connector_id: int | None = None) -> bool:
        if not (self.operative and evse.operative):
            return False
        if connector_id is not None:
            return evse.connector(connector_id).operative
        return any(c.operative for c in evse.connectors)

    def _usable(self: Station, evse: EvseState) -> bool:
        return self._operative(evse) and any(c.fault is None for c in evse.connectors)

    def _online(self: Station) -> bool:
        return self.connected and self.registration == "Accepted"

    def _token_info(self: Station, token_id: str) -> TokenInfo | None:
        info = None
        if self.settings.boolean("local_list_enabled"):
            info = self.local_list.get(token_id)
        if info is None and self.settings.boolean("auth_cache_enabled"):
            info = self.auth_cache.get(token_id)
        if info is not None and info.expiry_time is not None and (
                _parse_time(info.expiry_time) <= self._wall_at(self._now)):
            return TokenInfo(status="Expired", group=info.group, type=info.type)
        return info

    def _reserved_for_other(self: Station, evse: EvseState, token: IdToken, group: str | None = None) -> bool:
        res = evse.reservation
        if res is None:
            return False
        if group is None:
            info = self._token_info(token.id)
            group = info.group if info else None
        return not (res.token == token.id or (res.group is not None and res.group == group))

    def _pick_evse(self: Station, token: IdToken | None) -> EvseState | None:
        """Choose an EVSE for a driver: one with their EV waiting, else a free one."""
        # A transaction begun with the cable (2.0.1 TxStartPoint EVConnected) is still waiting for its driver.
        free = [e for e in self.evses if self._usable(e) and (e.tx is None or not e.tx.authorized) and e.auth is None
                and not (token and self._reserved_for_other(e, token))]
        waiting = [e for e in free if e.plugged is not None]
        return (waiting or free or [None])[0]

    # -- what drivers do --

    def _plug(self: Station, evse: EvseState, connector_id: int, profile: Any) -> dict[str, Any]:
        evse.connector(connector_id)  # raises for an unknown connector
        if evse.plugged is not None:
            return {"ok": False, "error": f"an EV is already plugged into EVSE {evse.id} connector {evse.plugged};"
                                          " unplug it first"}
        evse.ev = self._new_ev(profile)
        evse.plugged, evse.finishing = connector_id, False
        tx = evse.tx
        if evse.auth is not None:
            evse.auth.plug_deadline_at = None
        if tx is not None:
            # The transaction began before the cable (start point Authorized) or outlived an EV-side unplug.
            if tx.connector_id != connector_id:
                tx.connector_id, tx.evse_reported = connector_id, False
                if tx.charging_time == 0:
                    tx.meter_start = evse.connector(connector_id).register_wh
            self._allocate()
            self._tx_event("Updated", evse, tx, "CablePluggedIn")
        else:
            if evse.auth is None and not self.settings.boolean("authorization_enabled"):
                self._begin_auth(evse, IdToken(id="", type="NoAuthorization"), remote=False)
            self._maybe_start(evse, "CablePluggedIn")
        self._sync()
        return {"ok": True, "evse_id": evse.id, "connector_id": connector_id,
                "transaction_id": evse.tx.id if evse.tx else None}

    def _unplug(self: Station, evse: EvseState, connector_id: int) -> dict[str, Any]:
        if evse.plugged != connector_id:
            return {"ok": False, "error": f"no EV is plugged into EVSE {evse.id} connector {connector_id}"}
        evse.plugged, evse.ev = None, None
        tx, ended = evse.tx, None
        if tx is not None:
            points = self.settings.tx_stop_points
            if (tx.stop_reason is not None or points & _STOP_ON_UNPLUG
                    or (self.settings.boolean("stop_on_ev_disconnect") and "Authorized" in points)):
                ended = tx.id
                self._end_tx(evse, tx.stop_reason or "EVDisconnected", "EVCommunicationLost", tx.stop_token)
            else:  # 1.6 StopTransactionOnEVSideDisconnect=false: the transaction waits for the EV
                self._allocate()
                self._tx_event("Updated", evse, tx, "EVCommunicationLost")
        else:
            evse.auth = None
        evse.finishing = False
        self._sync()
        return {"ok": True, "evse_id": evse.id, "connector_id": connector_id, "ended_transaction": ended}

    def _swipe(self: Station, token: IdToken, evse_id: int | None) -> dict[str, Any]:
        candidates = [self._evse(evse_id)] if evse_id is not None else self.evses
        for evse in candidates:  # the same card again: stop (or cancel a session waiting for the cable)
            auth = evse.auth
            if auth is None or not self._same_user(auth, token):
                continue
            if evse.tx is not None and evse.tx.authorized and evse.tx.stop_reason is None:
                tx_id = evse.tx.id
                self._deauthorize(evse, "Local", "StopAuthorized", token)
                return {"result": "stopped", "evse_id": evse.id, "transaction_id": tx_id}
            if evse.tx is None:
                evse.auth = None
                self._sync()
                return {"result": "cancelled", "evse_id": evse.id}
        evse = self._evse(evse_id) if evse_id is not None else self._pick_evse(token)
        problem = self._start_problem(evse, token)
        if problem:
            return {"result": "rejected", "evse_id": evse.id if evse else None, "reason": problem}
        outcome = self._begin_auth(evse, token, remote=False)
        self._sync()
        return {"result": outcome, "evse_id": evse.id,
                "transaction_id": evse.tx.id if evse.tx else None}

    def _same_user(self: Station, auth: Authorization, token: IdToken) -> bool:
        if auth.token.id == token.id:
            return True
        info = self._token_info(token.id)
        return auth.group is not None and info is not None and info.group == auth.group

    def _start_problem(self: Station, evse: EvseState | None, token: IdToken, group: str | None = None) -> str | None:
        if evse is None:
            return "no EVSE is free"
        if not self._usable(evse):
            return f"EVSE {evse.id} is out of service (faulted or unavailable)"
        if evse.tx is not None and evse.tx.authorized:
            return f"EVSE {evse.id} is in use by another transaction"
        if evse.auth is not None:
            return f"EVSE {evse.id} already has a session waiting"
        if self._reserved_for_other(evse, token, group):
            return f"EVSE {evse.id} is reserved for another driver"
        return None

    # -- authorization (1.6 §3.5 / 2.0.1 C01, C10-C15) --

    def _begin_auth(self: Station, evse: EvseState, token: IdToken, *, remote: bool,
                    remote_start_id: int | None = None, profile: dict | None = None,
                    group: str | None = None) -> str:
        """Authorize ``token`` on ``evse`` as the settings say; return authorized, authorizing or rejected."""
        evse.auth = Authorization(token=token, remote=remote, remote_start_id=remote_start_id, profile=profile,
                                  group=group)
        evse.finishing = False
        s = self.settings
        if (remote and not s.boolean("authorize_remote_start")) or token.type == "NoAuthorization":
            self._accept_auth(evse)
            return "authorized"
        info = self._token_info(token.id)
        if self._online():
            known_good = info is not None and info.status == "Accepted"
            if known_good and (s.boolean("local_pre_authorize") or s.boolean("disable_remote_authorization")):
                self._accept_auth(evse, info)
                return "authorized"
            if not s.boolean("disable_remote_authorization"):
                self.dialect.authorize(token)
                return "authorizing"
            self._reject_auth(evse)
            return "rejected"
        return self._authorize_offline(evse, info)

    def _authorize_offline(self: Station, evse: EvseState, info: TokenInfo | None) -> str:
        if info is not None:
            accepted = info.status == "Accepted" and self.settings.boolean("local_authorize_offline")
        else:
            accepted = self.settings.boolean("offline_unknown_id")
        if accepted:
            self._accept_auth(evse, info)
            return "authorized"
        self._reject_auth(evse)
        return "rejected"

    def _accept_auth(self: Station, evse: EvseState, info: TokenInfo | None = None) -> None:
        auth = evse.auth
        assert auth is not None
        auth.accepted = True
        if info is not None and info.group:
            auth.group = info.group
        res = evse.reservation
        if res is not None and not self._reserved_for_other(evse, auth.token, auth.group):
            auth.reservation_id, evse.reservation = res.id, None  # the reservation is used (H01.FR.??)
        if evse.plugged is None:
            timeout = self.settings.integer("connection_timeout")
            auth.plug_deadline_at = self._now + timeout if timeout > 0 else None
        tx = evse.tx
        trigger = "RemoteStart" if auth.remote else "Authorized"
        if tx is not None:  # a transaction that began with the cable now has its driver
            tx.authorized, tx.token = True, auth.token
            tx.remote_start_id = auth.remote_start_id
            tx.reservation_id = tx.reservation_id or auth.reservation_id
            self._install_remote_profile(evse)
            self._allocate()
            self._tx_event("Updated", evse, tx, trigger, token=auth.token)
        else:
            self._maybe_start(evse, trigger)
        self._sync()

    def _reject_auth(self: Station, evse: EvseState) -> None:
        evse.auth = None
        self._sync()

    def authorization_result(self: Station, token_id: str, info: TokenInfo | None) -> None:
        """Apply the CSMS's Authorize answer (``None``: it could not be asked, decide as if offline)."""
        if info is not None:
            self._cache(token_id, info)
        for evse in self.evses:
            auth = evse.auth
            if auth is None or auth.accepted or auth.token.id != token_id:
                continue
            if info is None:
                self._authorize_offline(evse, self._token_info(token_id))
            elif info.status == "Accepted" and not self._reserved_for_other(evse, auth.token, info.group):
                self._accept_auth(evse, info)
            else:
                self._reject_auth(evse)

    def _cache(self: Station, token_id: str, info: TokenInfo) -> None:
        if token_id and self.settings.boolean("auth_cache_enabled") and token_id not in self.local_list:
            self.auth_cache[token_id] = info
            while len(self.auth_cache) > 1000:  # bounded, oldest first
                self.auth_cache.pop(next(iter(self.auth_cache)))

    # -- transactions --

    def _maybe_start(self: Station, evse: EvseState, trigger: str) -> None:
        if evse.tx is not None:
            return
        points = self.settings.tx_start_points
        plugged = evse.plugged is not None
        authorized = evse.auth is not None and evse.auth.accepted
        if ((points & _START_ON_PLUG and plugged) or (points & _START_ON_AUTH and authorized)
                or ("PowerPathClosed" in points and plugged and authorized)):
            self._start_tx(evse, trigger)

    def _start_tx(self: Station, evse: EvseState, trigger: str) -> None:
        auth = evse.auth if evse.auth is not None and evse.auth.accepted else None
        connector_id = evse.plugged  # None until the cable is in (start point Authorized)
        tx = Transaction(id=str(uuid.uuid4()), connector_id=connector_id, started_time=self._iso_now(),
                         meter_start=evse.connector(connector_id or 1).register_wh,
                         token=auth.token if auth else None, authorized=auth is not None,
                         remote_start_id=auth.remote_start_id if auth else None,
                         reservation_id=auth.reservation_id if auth else None, last_sample_at=self._now)
        evse.tx, evse.finishing = tx, False
        if self.version != "1.6":  # 1.6 binds once the CSMS has assigned its transactionId
            self._bind_profiles(evse, tx.id)
        self._allocate()
        self._tx_event("Started", evse, tx, trigger, readings=self._read(evse, "started_measurands"),
                       context="Transaction.Begin", token=tx.token)

    def _deauthorize(self: Station, evse: EvseState, reason: str, trigger: str, token: IdToken | None = None) -> None:
        """End the driver's authorization; the transaction ends now or, per TxStopPoint, at unplug."""
        tx = evse.tx
        if tx is None:
            evse.auth = None
            self._sync()
            return
        if tx.stop_reason is not None:
            return
        if (self.settings.tx_stop_points & _STOP_ON_DEAUTH or evse.plugged is None or not tx.authorized):
            self._end_tx(evse, reason, trigger, token)
            return
        tx.stop_reason, tx.stop_token, tx.authorized = reason, token, False
        self._allocate()
        self._tx_event("Updated", evse, tx, trigger, token=token)
        self._sync()

    def _end_tx(self: Station, evse: EvseState, reason: str, trigger: str, token: IdToken | None = None) -> None:
        tx = evse.tx
        assert tx is not None
        evse.tx, evse.auth = None, None
        self._allocate()  # energy stops before the final reading (2.0.1 errata: stop, then send Ended)
        self._tx_event("Ended", evse, tx, trigger, readings=self._read_tx(evse, tx),
                       context="Transaction.End", stopped_reason=reason, token=token or tx.stop_token)
        if tx.bound:
            self.store.end_transaction(self._profile_key(evse, tx.connector_id))
        evse.finishing = evse.plugged is not None
        self._sync()
        self._when_idle()

    def _read_tx(self: Station, evse: EvseState, tx: Transaction) -> list[Reading]:
        return read_meter(self.settings.members("ended_measurands"), self._electrical(evse, tx.connector_id))

    def _tx_event(self: Station, event: str, evse: EvseState, tx: Transaction, trigger: str, **details: Any) -> None:
        """Report a transaction event; the 2.0.1 chargingState goes along whenever it changed."""
        state = self._charging_state(evse)
        changed = state if (event == "Started" or state != tx.reported_state) else None
        self.dialect.tx_event(event, evse, tx, trigger, charging_state=changed, **details)
        tx.reported_state = state
        tx.seq_no += 1

    def _charging_state(self: Station, evse: EvseState) -> str:
        """The 2.0.1 ChargingStateEnumType of an EVSE (Part 2 E, §3.4 of our notes)."""
        if evse.plugged is None:
            return "Idle"
        return evse.state or "EVConnected"

    def _after_physics(self: Station) -> None:
        """Report what the power flow changed: charging state, a significant rate change, a late start."""
        significance = self.settings.decimal("limit_change_significance")
        for evse in self.evses:
            tx = evse.tx
            if tx is None:
                if evse.power_w > 0 and "EnergyTransfer" in self.settings.tx_start_points:
                    self._start_tx(evse, "ChargingStateChanged")
                continue
            if evse.power_w > 0 and tx.charging_started_time is None:
                tx.charging_started_time = self._iso_now()
                if tx.bound:
                    self.store.start_charging(self._profile_key(evse, tx.connector_id), self._wall_at(self._now))
            if self._charging_state(evse) != tx.reported_state:
                self._tx_event("Updated", evse, tx, "ChargingStateChanged")
            if evse.limit_w is not None and significance > 0:
                if tx.reported_limit_w is None:
                    tx.reported_limit_w = evse.limit_w
                elif abs(evse.limit_w - tx.reported_limit_w) > tx.reported_limit_w * significance / 100:
                    tx.reported_limit_w = evse.limit_w
                    self._tx_event("Updated", evse, tx, "ChargingRateChanged")
        self._announce()

    def _sync(self: Station) -> None:
        """Settle the power flow after a change and report what changed."""
        self._allocate()
        self._after_physics()

    def transaction_token_result(self: Station, tx_id: str, info: TokenInfo) -> None:
        """Apply the idTagInfo/idTokenInfo the CSMS returned for a transaction (1.6 §5.11, 2.0.1 E05)."""
        for evse in self.evses:
            tx = evse.tx
            if tx is None or tx.id != tx_id or tx.token is None:
                continue
            self._cache(tx.token.id, info)
            if info.status == "Accepted" or not tx.authorized:
                return
            if self.settings.boolean("stop_on_invalid_id"):
                self._deauthorize(evse, "DeAuthorized", "Deauthorized")
            else:
                tx.invalid = True
                self._sync()

    # -- remote control (1.6 §5.11/§5.12, 2.0.1 F01-F03) --

    def remote_start(self: Station, token: IdToken, evse_id: int | None, *, remote_start_id: int | None = None,
                     profile: dict | None = None, group: str | None = None) -> tuple[bool, str | None, str | None]:
        """Accept or refuse a remote start; return (accepted, why not, id of a transaction it joins)."""
        try:
            evse = self._evse(evse_id) if evse_id else self._pick_evse(token)
        except LookupError as exc:
            return False, str(exc), None
        existing = None
        if evse is not None and evse.tx is not None and not evse.tx.authorized and evse.auth is None:
            existing = evse.tx.id  # cable first: the remote start authorizes the running transaction
            problem = None if self._usable(evse) else f"EVSE {evse.id} is out of service"
        else:
            problem = self._start_problem(evse, token, group)
        if problem:
            return False, problem, None
        self._begin_auth(evse, token, remote=True, remote_start_id=remote_start_id, profile=profile, group=group)
        if evse.plugged is None and self.config.auto_plug_on_remote_start and evse.auth is not None:
            connector = next((c.id for c in evse.connectors if c.fault is None and c.operative), 1)
            self._plug(evse, connector, None)
        self._sync()
        return True, None, existing

    def remote_stop(self: Station, tx_id: str) -> bool:
        for evse in self.evses:
            if evse.tx is not None and evse.tx.id == tx_id:
                self._deauthorize(evse, "Remote", "RemoteStop")
                return True
        return False

    def find_transaction(self: Station, *, tx_id: str | None = None, csms_id: int | None = None) -> EvseState | None:
        for evse in self.evses:
            tx = evse.tx
            if tx is None:
                continue
            if (tx_id is not None and tx.id == tx_id) or (csms_id is not None and tx.csms_id == csms_id):
                return evse
        return None
