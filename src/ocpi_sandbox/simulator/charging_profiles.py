"""Keep the charging profiles of one simulated charger and answer the smart-charging requests about them.

``ChargingProfileStore`` gives SetChargingProfile (install), ClearChargingProfile (clear) and
GetCompositeSchedule (composite_schedule) semantics from OCPP 1.6 §3.13/§5.5/§5.7/§5.16 and OCPP 2.0.1
Part 2 K01, K08, K10. The model and the composite computation live in ``charging_schedule``; this module adds
the acceptance rules, the per-EVSE transactions, and the 1.6 and 2.0.1 wire dicts, so the simulator can
accept either version. Sans-I/O: no clock, no sockets.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Literal

import msgspec

from .charging_schedule import (
    ChargingLimit,
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    CompositeSchedule,
    ElectricalSupply,
    RecurrencyKind,
    composite_limit_at,
    counts_from_charging_start,
    next_change_after,
)
from .charging_schedule import composite_schedule as _composite_schedule

__all__ = [
    "ChargingLimit",
    "ChargingProfile",
    "ChargingProfileKind",
    "ChargingProfilePurpose",
    "ChargingRateUnit",
    "ChargingSchedule",
    "ChargingSchedulePeriod",
    "CompositeSchedule",
    "ElectricalSupply",
    "RecurrencyKind",
    "ChargingProfileError",
    "InstallResult",
    "ChargingProfileStore",
    "profile_from_ocpp16",
    "profile_to_ocpp16",
    "profile_from_ocpp201",
    "profile_to_ocpp201",
    "set_charging_profile_from_ocpp16",
    "set_charging_profile_to_ocpp16",
    "set_charging_profile_from_ocpp201",
    "set_charging_profile_to_ocpp201",
    "clear_criteria_from_ocpp16",
    "clear_criteria_from_ocpp201",
]

_Purpose = ChargingProfilePurpose
_STATION_MAX = _Purpose.CHARGING_STATION_MAX_PROFILE
_EXTERNAL = _Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS
_TX = _Purpose.TX_PROFILE
_STATION_CAPS = (_Purpose.CHARGING_STATION_MAX_PROFILE, _EXTERNAL)  # what limits the grid connection (EVSE 0)
# 1.6 spells the station cap "ChargePointMaxProfile" and has no external constraints.
_PURPOSE_16 = {"ChargePointMaxProfile": _STATION_MAX}
_PURPOSE_TO_16 = {_STATION_MAX: "ChargePointMaxProfile"}


class ChargingProfileError(ValueError):
    """Report a charging profile that cannot be read or written in a wire shape.

    ``reason_code`` is an OCPP 2.0.1 StatusInfo reasonCode the simulator can answer with.
    """

    def __init__(self, message: str, *, reason_code: str = "InvalidValue") -> None:
        super().__init__(message)
        self.reason_code = reason_code


# --- OCPP 1.6 wire shapes (csChargingProfiles); decoded strictly so errors name the 1.6 field paths ---------


class _Period16(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    start_period: int
    limit: float
    number_phases: int | None = None


class _Schedule16(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    charging_rate_unit: ChargingRateUnit
    charging_schedule_period: list[_Period16]
    duration: int | None = None
    start_schedule: datetime | None = None
    min_charging_rate: float | None = None


class _Profile16(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    charging_profile_id: int
    stack_level: int
    charging_profile_purpose: Literal["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"]
    charging_profile_kind: ChargingProfileKind
    charging_schedule: _Schedule16
    transaction_id: int | None = None
    recurrency_kind: RecurrencyKind | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None


def _utc(value: datetime | None) -> datetime | None:
    # OCPP times are UTC; a value without an offset is read as UTC rather than as local time.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def _decode(data: Any, into: type, what: str) -> Any:
    try:
        return msgspec.convert(data, into)
    except msgspec.ValidationError as exc:
        raise ChargingProfileError(f"invalid {what}: {exc}; send it as the schema defines it") from exc


def _with_utc(profile: ChargingProfile) -> ChargingProfile:
    schedules = tuple(
        msgspec.structs.replace(s, start_schedule=_utc(s.start_schedule)) for s in profile.schedules
    )
    return msgspec.structs.replace(
        profile, schedules=schedules, valid_from=_utc(profile.valid_from), valid_to=_utc(profile.valid_to)
    )


def profile_from_ocpp16(data: Mapping[str, Any], *, connector_id: int) -> ChargingProfile:
    """Read a 1.6 ChargingProfile (csChargingProfiles, or RemoteStartTransaction.chargingProfile).

    The 1.6 connector is the EVSE (connectorId 0 = the whole charge point); an integer transactionId
    becomes its decimal text.
    """
    p: _Profile16 = _decode(data, _Profile16, "OCPP 1.6 chargingProfile")
    s = p.charging_schedule
    schedule = ChargingSchedule(
        charging_rate_unit=s.charging_rate_unit,
        periods=tuple(
            ChargingSchedulePeriod(start_period=x.start_period, limit=x.limit, number_phases=x.number_phases)
            for x in s.charging_schedule_period
        ),
        start_schedule=s.start_schedule,
        duration=s.duration,
        min_charging_rate=s.min_charging_rate,
    )
    return _with_utc(
        ChargingProfile(
            id=p.charging_profile_id,
            stack_level=p.stack_level,
            purpose=_PURPOSE_16.get(p.charging_profile_purpose) or _Purpose(p.charging_profile_purpose),
            kind=p.charging_profile_kind,
            schedules=(schedule,),
            evse_id=connector_id,
            recurrency=p.recurrency_kind,
            valid_from=p.valid_from,
            valid_to=p.valid_to,
            transaction_id=None if p.transaction_id is None else str(p.transaction_id),
        )
    )


def profile_to_ocpp16(profile: ChargingProfile) -> dict[str, Any]:
    """Write ``profile`` as a 1.6 csChargingProfiles dict (phaseToUse, which 1.6 lacks, is left out)."""
    if profile.purpose == _EXTERNAL:
        raise ChargingProfileError(f"profile {profile.id}: 1.6 has no ChargingStationExternalConstraints")
    if len(profile.schedules) != 1:
        raise ChargingProfileError(f"profile {profile.id}: OCPP 1.6 carries exactly one chargingSchedule")
    if profile.transaction_id is not None and not profile.transaction_id.isdigit():
        raise ChargingProfileError(
            f"profile {profile.id}: transactionId {profile.transaction_id!r} is not an OCPP 1.6 integer"
        )
    s = profile.schedules[0]
    wire = _Profile16(
        charging_profile_id=profile.id,
        stack_level=profile.stack_level,
        charging_profile_purpose=_PURPOSE_TO_16.get(  # type: ignore[arg-type]
            profile.purpose, profile.purpose
        ),
        charging_profile_kind=profile.kind,
        charging_schedule=_Schedule16(
            charging_rate_unit=s.charging_rate_unit,
            charging_schedule_period=[
                _Period16(start_period=x.start_period, limit=x.limit, number_phases=x.number_phases)
                for x in s.periods
            ],
            duration=s.duration,
            start_schedule=s.start_schedule,
            min_charging_rate=s.min_charging_rate,
        ),
        transaction_id=None if profile.transaction_id is None else int(profile.transaction_id),
        recurrency_kind=profile.recurrency,
        valid_from=profile.valid_from,
        valid_to=profile.valid_to,
    )
    return msgspec.to_builtins(wire)


def profile_from_ocpp201(data: Mapping[str, Any], *, evse_id: int) -> ChargingProfile:
    """Read a 2.0.1 ChargingProfileType (SetChargingProfileRequest or RequestStartTransactionRequest).

    Unknown fields (customData, salesTariff) are ignored.
    """
    # evseId belongs to the request, not to the profile.
    fields = {k: v for k, v in data.items() if k != "evseId"}
    profile: ChargingProfile = _decode(fields, ChargingProfile, "OCPP 2.0.1 chargingProfile")
    return _with_utc(msgspec.structs.replace(profile, evse_id=evse_id))


def profile_to_ocpp201(profile: ChargingProfile) -> dict[str, Any]:
    """Write ``profile`` as a 2.0.1 ChargingProfileType dict (schedule ids default to their position)."""
    wire = msgspec.json.decode(msgspec.json.encode(profile))  # plain lists, as on the wire (not tuples)
    wire.pop("evseId", None)
    for position, schedule in enumerate(wire["chargingSchedule"], start=1):
        schedule.setdefault("id", position)  # required on the 2.0.1 wire, absent from 1.6 profiles
    return wire


def set_charging_profile_from_ocpp16(payload: Mapping[str, Any]) -> ChargingProfile:
    """Read a 1.6 SetChargingProfile.req payload ``{connectorId, csChargingProfiles}``."""
    if not isinstance(payload.get("connectorId"), int) or "csChargingProfiles" not in payload:
        raise ChargingProfileError("SetChargingProfile.req needs an integer connectorId, csChargingProfiles")
    return profile_from_ocpp16(payload["csChargingProfiles"], connector_id=payload["connectorId"])


def set_charging_profile_to_ocpp16(profile: ChargingProfile) -> dict[str, Any]:
    """Write the 1.6 SetChargingProfile.req payload that installs ``profile`` on its connector."""
    return {"connectorId": profile.evse_id, "csChargingProfiles": profile_to_ocpp16(profile)}


def set_charging_profile_from_ocpp201(payload: Mapping[str, Any]) -> ChargingProfile:
    """Read a 2.0.1 SetChargingProfileRequest payload ``{evseId, chargingProfile}``."""
    if not isinstance(payload.get("evseId"), int) or "chargingProfile" not in payload:
        raise ChargingProfileError("SetChargingProfileRequest needs an integer evseId and chargingProfile")
    return profile_from_ocpp201(payload["chargingProfile"], evse_id=payload["evseId"])


def set_charging_profile_to_ocpp201(profile: ChargingProfile) -> dict[str, Any]:
    """Write the 2.0.1 SetChargingProfileRequest payload that installs ``profile`` on its EVSE."""
    return {"evseId": profile.evse_id, "chargingProfile": profile_to_ocpp201(profile)}


def clear_criteria_from_ocpp16(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Turn a 1.6 ClearChargingProfile.req payload into keyword arguments for ``store.clear``."""
    purpose = payload.get("chargingProfilePurpose")
    return {
        "profile_id": payload.get("id"),
        "evse_id": payload.get("connectorId"),
        "purpose": None if purpose is None else _PURPOSE_16.get(purpose) or _Purpose(purpose),
        "stack_level": payload.get("stackLevel"),
    }


def clear_criteria_from_ocpp201(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Turn a 2.0.1 ClearChargingProfileRequest payload into keyword arguments for ``clear``."""
    criteria = payload.get("chargingProfileCriteria") or {}
    purpose = criteria.get("chargingProfilePurpose")
    return {
        "profile_id": payload.get("chargingProfileId"),
        "evse_id": criteria.get("evseId"),
        "purpose": None if purpose is None else _Purpose(purpose),
        "stack_level": criteria.get("stackLevel"),
    }


# --- The store -------------------------------------------------------------------------------------------


class InstallResult(msgspec.Struct, frozen=True, kw_only=True):
    """Tell whether SetChargingProfile was accepted, why not, and which profile ids it replaced."""

    accepted: bool
    reason_code: str | None = None  # an OCPP 2.0.1 StatusInfo reasonCode (≤ 20 characters)
    additional_info: str | None = None
    profile: ChargingProfile | None = None  # as stored: a 1.6 TxProfile gets the active transactionId
    replaced: tuple[int, ...] = ()

    def to_ocpp16(self) -> dict[str, Any]:
        """Return the 1.6 SetChargingProfile.conf payload."""
        return {"status": "Accepted" if self.accepted else "Rejected"}

    def to_ocpp201(self) -> dict[str, Any]:
        """Return the 2.0.1 SetChargingProfileResponse payload, with statusInfo when rejected."""
        if self.accepted:
            return {"status": "Accepted"}
        info = {"reasonCode": self.reason_code or "InvalidValue"}
        if self.additional_info:
            info["additionalInfo"] = self.additional_info[:512]
        return {"status": "Rejected", "statusInfo": info}


class _Transaction(msgspec.Struct, kw_only=True):
    transaction_id: str
    started_at: datetime
    charging_started_at: datetime | None = None


def _same_slot(a: ChargingProfile, b: ChargingProfile) -> bool:
    return (a.stack_level, a.purpose, a.evse_id) == (b.stack_level, b.purpose, b.evse_id)


def _validity_overlaps(a: ChargingProfile, b: ChargingProfile) -> bool:
    return (a.valid_from is None or b.valid_to is None or a.valid_from < b.valid_to) and (
        b.valid_from is None or a.valid_to is None or b.valid_from < a.valid_to
    )


_Problem = tuple[str, str] | None  # (reasonCode, what went wrong and what to do)


class ChargingProfileStore:
    """Hold one charger's charging profiles and transactions, and compute its limits.

    ``evses`` maps each EVSE id (1..n) to its hardware rating; ``station`` is the grid connection (by default
    the sum of the EVSE currents). ``ocpp_version`` picks the acceptance rules where 1.6 and 2.0.1 differ:
    1.6 replaces a profile with the same stackLevel/purpose/connector and binds a TxProfile without
    transactionId to the running transaction; 2.0.1 rejects both (K01: DuplicateProfile, MissingParam) and
    requires startSchedule exactly for Absolute and Recurring kinds (K01.FR.40, K01.FR.41).
    """

    def __init__(
        self,
        evses: Mapping[int, ElectricalSupply],
        *,
        station: ElectricalSupply | None = None,
        ocpp_version: Literal["1.6", "2.0.1"] = "2.0.1",
    ) -> None:
        if not evses or min(evses) < 1:
            raise ValueError(f"give the EVSEs as ids 1..n with their supply, got ids {sorted(evses)}")
        self._evses = dict(evses)
        self._station = station or ElectricalSupply(
            max_current=sum(e.max_current for e in evses.values()),
            phases=max(e.phases for e in evses.values()),
            voltage=next(iter(evses.values())).voltage,
        )
        self._version = ocpp_version
        self._profiles: dict[int, ChargingProfile] = {}
        self._transactions: dict[int, _Transaction] = {}
        # limit_at's answers, each with the span it holds for: physics asks every EVSE's limit at every step,
        # and a limit only changes at a profile's or period's boundary, or when the store changes (then all go).
        self._limits: dict[tuple[int, ChargingRateUnit], tuple[datetime, datetime | None, ChargingLimit]] = {}

    @property
    def evse_ids(self) -> tuple[int, ...]:
        """Return the ids of the EVSEs (0, the station, is always valid too)."""
        return tuple(sorted(self._evses))

    # -- SetChargingProfile, ClearChargingProfile, GetChargingProfiles --

    def install(self, profile: ChargingProfile, *, from_csms: bool = True) -> InstallResult:
        """Install ``profile`` with SetChargingProfile semantics (OCPP 2.0.1 Part 2 K01; 1.6 §5.16).

        The same id replaces the old profile wherever it was (K01.FR.05). ``from_csms=False`` is for local
        sources (an EMS setting ChargingStationExternalConstraints), which the CSMS may not set.
        For RequestStartTransaction (2.0.1), set the new transactionId on the profile before installing it.
        """
        problem = self._check(profile, from_csms)
        if problem is not None:
            return InstallResult(accepted=False, reason_code=problem[0], additional_info=problem[1])
        if profile.purpose == _TX and profile.transaction_id is None:
            # 1.6 §5.16: a TxProfile without transactionId is for the transaction running on the connector.
            tx = self._transactions[profile.evse_id]
            profile = msgspec.structs.replace(profile, transaction_id=tx.transaction_id)
        replaced = sorted(
            pid
            for pid, old in self._profiles.items()
            if pid == profile.id or (self._version == "1.6" and _same_slot(old, profile))
        )
        for pid in replaced:
            del self._profiles[pid]
        self._profiles[profile.id] = profile
        self._limits.clear()
        return InstallResult(accepted=True, profile=profile, replaced=tuple(replaced))

    def clear(
        self,
        *,
        profile_id: int | None = None,
        evse_id: int | None = None,
        purpose: ChargingProfilePurpose | None = None,
        stack_level: int | None = None,
        from_csms: bool = True,
    ) -> bool:
        """Remove the profile with ``profile_id``, or every profile matching all the criteria given.

        OCPP 2.0.1 Part 2 K10 (1.6 §5.5): with an id the criteria are ignored; with nothing given, all go;
        ``evse_id`` 0 matches station-wide profiles only. Returns whether anything matched (Accepted) or
        not (Unknown). External constraints are never cleared for the CSMS.
        """

        def matches(p: ChargingProfile) -> bool:
            if from_csms and p.purpose == _EXTERNAL:
                return False
            if profile_id is not None:
                return p.id == profile_id
            return (
                (evse_id is None or p.evse_id == evse_id)
                and (purpose is None or p.purpose == purpose)
                and (stack_level is None or p.stack_level == stack_level)
            )

        doomed = [pid for pid, p in self._profiles.items() if matches(p)]
        for pid in doomed:
            del self._profiles[pid]
        self._limits.clear()
        return bool(doomed)

    def profiles(
        self,
        *,
        evse_id: int | None = None,
        purpose: ChargingProfilePurpose | None = None,
        stack_level: int | None = None,
    ) -> list[ChargingProfile]:
        """List installed profiles matching the criteria, ordered by EVSE, purpose, stack level and id."""
        found = [
            p
            for p in self._profiles.values()
            if (evse_id is None or p.evse_id == evse_id)
            and (purpose is None or p.purpose == purpose)
            and (stack_level is None or p.stack_level == stack_level)
        ]
        return sorted(found, key=lambda p: (p.evse_id, str(p.purpose), p.stack_level, p.id))

    # -- transactions --

    def start_transaction(
        self,
        evse_id: int,
        transaction_id: str | int,
        started_at: datetime,
        *,
        charging_started_at: datetime | None = None,
    ) -> None:
        """Record that ``evse_id`` runs ``transaction_id``; Relative profiles count from charging start."""
        self._supply(evse_id)
        running = self._transactions.get(evse_id)
        if running is not None:
            raise ValueError(f"EVSE {evse_id} already runs {running.transaction_id}; end that one first")
        self._transactions[evse_id] = _Transaction(
            transaction_id=str(transaction_id), started_at=started_at, charging_started_at=charging_started_at
        )
        self._limits.clear()

    def start_charging(self, evse_id: int, at: datetime) -> None:
        """Record when energy was first offered in the running transaction (the Relative schedule start)."""
        tx = self._transactions.get(evse_id)
        if tx is None:
            raise ValueError(f"EVSE {evse_id} has no transaction; call start_transaction first")
        if tx.charging_started_at is None:
            tx.charging_started_at = at
            self._limits.clear()

    def active_transaction_id(self, evse_id: int) -> str | None:
        """Return the id of the transaction running on ``evse_id``, if any."""
        tx = self._transactions.get(evse_id)
        return None if tx is None else tx.transaction_id

    def end_transaction(self, evse_id: int) -> list[ChargingProfile]:
        """Forget the transaction on ``evse_id``, drop its TxProfiles (1.6 §3.13.1) and return them."""
        if self._transactions.pop(evse_id, None) is None:
            return []
        self._limits.clear()
        dropped = [p for p in self._profiles.values() if p.purpose == _TX and p.evse_id == evse_id]
        for p in dropped:
            del self._profiles[p.id]
        return sorted(dropped, key=lambda p: p.id)

    # -- limits --

    def limit_at(
        self, evse_id: int, at: datetime, unit: ChargingRateUnit = ChargingRateUnit.A
    ) -> ChargingLimit:
        """Return the effective limit of ``evse_id`` at ``at`` (the value the simulated EV must obey).

        Without a transaction, Relative profiles are read as if charging started at ``at``.
        """
        cached = self._limits.get((evse_id, unit))
        if cached is not None and cached[0] <= at and (cached[1] is None or at < cached[1]):
            return cached[2]
        tid, anchor = self._anchor(evse_id)
        # EVSE 0 (the grid connection) has only the station-wide caps: a station-wide TxDefaultProfile counted
        # from charging start would otherwise keep its limit from being remembered at all.
        relevant = [p for p in self._profiles.values() if p.evse_id in (0, evse_id)
                    and (evse_id != 0 or p.purpose in _STATION_CAPS)]
        limit = composite_limit_at(
            relevant,
            evse_id,
            at,
            unit,
            self._supply(evse_id),
            transaction_id=tid,
            charging_start=anchor or at,
        )
        # Without a transaction, a schedule counted from the start of charging starts at ``at``, wherever ``at``
        # is: such an answer holds for ``at`` alone. Any other holds until the next instant a relevant profile
        # starts, stops or changes period.
        if anchor is None and any(counts_from_charging_start(p) for p in relevant):
            return limit
        self._limits[(evse_id, unit)] = (at, next_change_after(relevant, at, anchor), limit)
        return limit

    def composite_schedule(
        self, evse_id: int, start: datetime, duration_s: int, unit: ChargingRateUnit = ChargingRateUnit.A
    ) -> CompositeSchedule:
        """Answer GetCompositeSchedule for ``evse_id`` (0 = grid connection) over ``duration_s`` seconds.

        OCPP 2.0.1 Part 2 K08 (1.6 §5.7); without a transaction, Relative profiles count from ``start``.
        Raises ValueError for an unknown EVSE (answer Rejected).
        """
        tid, anchor = self._anchor(evse_id)
        return _composite_schedule(
            list(self._profiles.values()),
            evse_id,
            start,
            duration_s,
            unit,
            self._supply(evse_id),
            transaction_id=tid,
            charging_start=anchor,
        )

    def _anchor(self, evse_id: int) -> tuple[str | None, datetime | None]:
        tx = self._transactions.get(evse_id)
        if tx is None:
            return None, None
        return tx.transaction_id, tx.charging_started_at or tx.started_at

    def _supply(self, evse_id: int) -> ElectricalSupply:
        if evse_id == 0:
            return self._station
        evse = self._evses.get(evse_id)
        if evse is None:
            raise ValueError(f"EVSE {evse_id} does not exist; this charger has EVSEs {list(self.evse_ids)}")
        # An EVSE never gets more than the grid connection it hangs on.
        return ElectricalSupply(
            max_current=min(evse.max_current, self._station.max_current),
            phases=min(evse.phases, self._station.phases),
            voltage=evse.voltage,
        )

    # -- acceptance rules --

    def _check(self, profile: ChargingProfile, from_csms: bool) -> _Problem:
        if profile.evse_id != 0 and profile.evse_id not in self._evses:
            return "UnknownEvse", (
                f"EVSE {profile.evse_id} does not exist; use 0 (the station) or one of {list(self.evse_ids)}"
            )
        try:  # constructed profiles skip decoding: re-run the type's constraints
            msgspec.convert(msgspec.to_builtins(profile), ChargingProfile)
        except msgspec.ValidationError as exc:
            return "InvalidValue", f"{exc}; fix the value and send the profile again"
        times = [profile.valid_from, profile.valid_to, *(s.start_schedule for s in profile.schedules)]
        if any(t is not None and t.tzinfo is None for t in times):
            return "InvalidValue", "validFrom, validTo, startSchedule need a UTC offset; send them with 'Z'"
        if profile.valid_from and profile.valid_to and profile.valid_from >= profile.valid_to:
            return "InvalidValue", "validFrom must be before validTo"
        return (
            self._check_schedules(profile)
            or self._check_purpose(profile, from_csms)
            or self._check_conflicts(profile, from_csms)
        )

    def _check_schedules(self, profile: ChargingProfile) -> _Problem:
        phases = self._supply(profile.evse_id).phases
        for s in profile.schedules:
            starts = [p.start_period for p in s.periods]
            if starts[0] != 0:
                return "InvalidSchedule", "the first chargingSchedulePeriod must start at 0 (K01.FR.31)"
            if any(b <= a for a, b in zip(starts, starts[1:])):
                return "InvalidSchedule", f"startPeriod must increase strictly (K01.FR.35), got {starts}"
            for p in s.periods:
                if p.phase_to_use is not None and p.number_phases != 1:
                    return "InvalidSchedule", "phaseToUse is only allowed with numberPhases 1 (K01.FR.19)"
                if p.number_phases is not None and p.number_phases > phases:
                    return "InvalidSchedule", (
                        f"numberPhases {p.number_phases} exceeds the {phases} phase(s) of EVSE"
                        f" {profile.evse_id} (K01.FR.45)"
                    )
            if profile.kind == ChargingProfileKind.RECURRING and (
                s.start_schedule is None or profile.recurrency is None
            ):
                return "InvalidSchedule", "a Recurring profile needs recurrencyKind and startSchedule"
            relative = profile.kind == ChargingProfileKind.RELATIVE
            if self._version == "2.0.1" and not relative and s.start_schedule is None:
                return "InvalidSchedule", "an Absolute profile needs startSchedule (K01.FR.40)"
            if self._version == "2.0.1" and relative and s.start_schedule is not None:
                return "InvalidSchedule", "a Relative profile must not have startSchedule (K01.FR.41)"
        return None

    def _check_purpose(self, profile: ChargingProfile, from_csms: bool) -> _Problem:
        evse = profile.evse_id
        if profile.purpose == _STATION_MAX:
            if evse != 0:
                return "InvalidValue", "ChargingStationMaxProfile only goes on EVSE 0 (the whole station)"
            if profile.kind == ChargingProfileKind.RELATIVE:
                return "InvalidValue", "ChargingStationMaxProfile cannot be Relative; use Absolute, Recurring"
        if profile.purpose == _EXTERNAL and from_csms:
            return "InvalidValue", "external constraints come from a local EMS, never the CSMS (K01.FR.22)"
        if profile.purpose != _TX:
            return None
        if evse == 0:
            return "InvalidValue", "a TxProfile must be set on an EVSE (id > 0), not on the station"
        tx = self._transactions.get(evse)
        if tx is None:
            return "TxNotFound", (
                f"EVSE {evse} has no active transaction; send the TxProfile once it has started,"
                " or use a TxDefaultProfile"
            )
        if profile.transaction_id is None and self._version == "2.0.1":
            return "MissingParam", f"a TxProfile needs transactionId; EVSE {evse} runs {tx.transaction_id}"
        if profile.transaction_id is not None and profile.transaction_id != tx.transaction_id:
            return "TxNotFound", (
                f"transaction {profile.transaction_id} is not on EVSE {evse}; it runs {tx.transaction_id}"
            )
        return None

    def _check_conflicts(self, profile: ChargingProfile, from_csms: bool) -> _Problem:
        existing = self._profiles.get(profile.id)
        if existing is not None and existing.purpose == _EXTERNAL and from_csms:
            return "DuplicateProfile", f"id {profile.id} is an external constraint the CSMS cannot replace"
        if self._version == "1.6":
            return None  # 1.6 §5.16: same stackLevel/purpose replaces instead
        for old in self._profiles.values():
            if old.id == profile.id:
                continue
            if _same_slot(old, profile) and _validity_overlaps(old, profile):
                return "DuplicateProfile", (
                    f"profile {old.id} already has stackLevel {old.stack_level} for {old.purpose} on EVSE"
                    f" {old.evse_id} with overlapping validity; reuse its id, clear it, or use another level"
                )
            if (
                profile.purpose == old.purpose == _Purpose.TX_DEFAULT_PROFILE
                and old.stack_level == profile.stack_level
                and (old.evse_id == 0) != (profile.evse_id == 0)
            ):
                return "DuplicateProfile", (
                    f"TxDefaultProfile {old.id} on EVSE {old.evse_id} uses stackLevel {old.stack_level};"
                    " station-wide and EVSE-specific defaults need different stack levels"
                )
        return None
