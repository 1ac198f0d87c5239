"""Hold a simulated station's settings: the OCPP 1.6 configuration keys or the OCPP 2.0.1 device model.

One class serves both versions. The 1.6 side answers GetConfiguration/ChangeConfiguration (1.6 §5.8, §5.3,
standard keys §9); the 2.0.1 side answers GetVariables/SetVariables and builds the NotifyReport data of
GetBaseReport/GetReport (2.0.1 Part 2 B06-B08; variables from the Part 2 appendix "Standardized Components").
Either way the station core reads its behaviour through ``role`` names (``heartbeat_interval``,
``sample_interval``, ``tx_start_points`` ...), so a value the CSMS sets is what the next decision uses.

Values live as strings, as on the wire; only the ones that differ from the defaults go into a snapshot.
Variables whose value is the station's live state (AvailabilityState, Problem, Power, Entries...) are read
through the ``live`` callback instead of being stored.
"""

from __future__ import annotations

import functools
from collections import ChainMap
from collections.abc import Callable, Mapping
from datetime import datetime

from ..ocpp.v16.datatypes import KeyValue
from ..ocpp.v201.datatypes import (
    ComponentType,
    EVSEType,
    ReportDataType,
    VariableAttributeType,
    VariableCharacteristicsType,
    VariableType,
)
from .standard_variables import (
    FIXED_16,
    FIXED_201,
    KEYS_16,
    ROLES_16,
    ROLES_201,
    VARIABLES_201,
    Variable,
    VariableKey,
    station_components,
    variable_name,
)

__all__ = ["DeviceModel", "SettingError", "Variable", "VariableKey", "check_value", "variable_name"]

_RO, _WO = "ReadOnly", "WriteOnly"


def _vendor() -> Variable:
    """A vendor key/variable given in the configuration (1.6 §9 allows them): a read-write string."""
    return Variable(data_type="string")


class SettingError(ValueError):
    """A value that does not fit its setting; the message says what is allowed."""


def check_value(var: Variable, value: str, *, max_length: int) -> str:
    """Return ``value`` normalised for ``var``, or raise SettingError saying what would be accepted."""
    if len(value) > max_length:
        raise SettingError(f"the value is {len(value)} characters long; at most {max_length} fit")
    kind = var.data_type
    if kind in ("integer", "decimal"):
        try:
            number = int(value) if kind == "integer" else float(value)
        except ValueError:
            raise SettingError(f"{value!r} is not an {kind}") from None
        if var.min_limit is not None and number < var.min_limit:
            raise SettingError(f"{value} is below the minimum {var.min_limit:g}")
        if var.max_limit is not None and number > var.max_limit:
            raise SettingError(f"{value} is above the maximum {var.max_limit:g}")
        return str(number)
    if kind == "boolean":
        if value.lower() not in ("true", "false"):
            raise SettingError(f"{value!r} is not a boolean; send true or false")
        return value.lower()
    if kind == "dateTime":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise SettingError(f"{value!r} is not an RFC 3339 date-time") from None
        return value
    allowed = None if var.values_list is None else var.values_list.split(",")
    if kind == "OptionList":
        if allowed is not None and value not in allowed:
            raise SettingError(f"{value!r} is not one of {var.values_list}")
        return value
    if kind in ("MemberList", "SequenceList"):
        members = [m.strip() for m in value.split(",") if m.strip()]
        unknown = [m for m in members if allowed is not None and m not in allowed]
        if unknown:
            raise SettingError(f"{', '.join(unknown)} not supported; choose from {var.values_list}")
        if len(set(members)) != len(members):
            raise SettingError("a member is listed twice")
        if var.max_members is not None and len(members) > var.max_members:
            raise SettingError(f"{len(members)} members given; at most {var.max_members} fit")
        return ",".join(members)
    return value


Topology = tuple  # ((evse id, ((connector id, connector type), ...), max power W, phases), ...)


@functools.lru_cache(maxsize=256)
def _tables(version: str, topology: Topology, station_power_w: float) -> tuple[dict, dict]:
    """The definitions and default values for a version and station topology (shared, never mutated)."""
    if version == "1.6":
        defs: dict[object, Variable] = dict(KEYS_16)
    else:
        defs = {**VARIABLES_201, **station_components(topology, station_power_w)}
    defaults = {k: v.default for k, v in defs.items() if v.default is not None and not v.live}
    return defs, defaults


class DeviceModel:
    """Keep the settings of one station, answer the CSMS about them, and tell the core how to behave.

    ``overrides`` are the StationConfig.configuration entries: 1.6 key names, or 2.0.1
    ``Component.Variable[.Instance]`` names. They may set read-only values (they describe the hardware);
    an unknown name becomes a vendor setting (read-write string) so that nothing given is lost.
    """

    def __init__(self, version: str, overrides: Mapping[str, str], *, topology: Topology = (),
                 station_power_w: float = 0.0, live: Callable[[object], str | None] | None = None) -> None:
        self.version = version
        self._live = live or (lambda key: None)
        base, defaults = _tables(version, topology, station_power_w)
        # Shared by every station of the same version and topology; only what this one changes is its own.
        self._defs: ChainMap[object, Variable] = ChainMap({}, base)
        self._values: ChainMap[object, str] = ChainMap({}, defaults)
        self._defaults = defaults
        self._roles, self._fixed = (ROLES_16, FIXED_16) if version == "1.6" else (ROLES_201, FIXED_201)
        # integer() and boolean() as parsed, by role: a charging station's every tick reads half a dozen of them.
        self._parsed: dict[tuple[str, str], int | bool] = {}
        for name, value in overrides.items():
            self._override(name, str(value))

    # -- naming --

    def key_of(self, name: str) -> object:
        """Turn a configuration name into the key: the 1.6 key itself, or a 2.0.1 VariableKey."""
        if self.version == "1.6":
            return name
        parts = name.split(".")
        if len(parts) not in (2, 3) or not all(parts):
            raise SettingError(f"{name!r}: name 2.0.1 variables Component.Variable or Component.Variable.Instance")
        return VariableKey(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def name_of(self, key: object) -> str:
        return key if isinstance(key, str) else variable_name(key)

    def _override(self, name: str, value: str) -> None:
        key = self.key_of(name)
        var = self._defs.get(key)
        if var is None:
            self._defs[key] = var = _vendor()  # a vendor key/variable (1.6 §9 allows them)
        try:
            self._set(key, check_value(var, value, max_length=self._max_length))
        except SettingError as exc:
            raise ValueError(f"configuration {name!r} = {value!r}: {exc}") from None

    @property
    def _max_length(self) -> int:
        return 500 if self.version == "1.6" else 1000

    # -- state --

    def changed(self) -> dict[str, str]:
        """Return the values that differ from the defaults, by name (what a snapshot keeps)."""
        return {self.name_of(k): v for k, v in self._values.maps[0].items() if self._defaults.get(k) != v}

    def restore(self, changed: Mapping[str, str]) -> None:
        for name, value in changed.items():
            key = self.key_of(name)
            self._defs.setdefault(key, _vendor())
            self._set(key, value)

    def set_role(self, role: str, value: str) -> None:
        """Set the value behind ``role`` (e.g. the heartbeat interval a BootNotification answer gives)."""
        key = ROLES_16.get(role) if self.version == "1.6" else ROLES_201.get(role)
        if key is not None:
            self._set(key, value)

    def value(self, key: object) -> str | None:
        var = self._defs.get(key)
        if var is not None and var.live:
            return self._live(key)
        return self._values.get(key)

    # -- what the core reads --

    def _raw(self, role: str) -> str:
        key = self._roles.get(role)
        if key is None:
            if role in self._fixed:
                return self._fixed[role]
            raise KeyError(f"no setting drives {role!r} in OCPP {self.version}")
        own = self._values.maps[0]  # the hot path of every tick: skip the ChainMap machinery
        return own[key] if key in own else self._defaults.get(key) or ""

    def _set(self, key: object, value: str) -> None:
        self._values[key] = value
        self._parsed.clear()

    def integer(self, role: str) -> int:
        found = self._parsed.get(("i", role))
        if found is None:
            raw = self._raw(role)
            self._parsed[("i", role)] = found = int(float(raw)) if raw else 0
        return found

    def decimal(self, role: str) -> float:
        raw = self._raw(role)
        return float(raw) if raw else 0.0

    def boolean(self, role: str) -> bool:
        found = self._parsed.get(("b", role))
        if found is None:
            self._parsed[("b", role)] = found = self._raw(role).lower() == "true"
        return found

    def members(self, role: str) -> list[str]:
        return [m for m in self._raw(role).split(",") if m]

    @property
    def tx_start_points(self) -> set[str]:
        if self.version == "1.6":
            return {"PowerPathClosed"}
        return set(self.members("tx_start_points"))

    @property
    def tx_stop_points(self) -> set[str]:
        if self.version == "1.6":
            # 1.6 stops on deauthorisation, and on unplug when StopTransactionOnEVSideDisconnect is set.
            return {"Authorized", "EVConnected"} if self.boolean("stop_on_ev_disconnect") else {"Authorized"}
        return set(self.members("tx_stop_points"))

    # -- OCPP 1.6 GetConfiguration / ChangeConfiguration --

    def get_configuration(self, keys: list[str] | None) -> tuple[list[KeyValue], list[str]]:
        """Answer GetConfiguration (1.6 §5.8): known keys with readonly and value, then unknown ones."""
        wanted = list(self._defs) if not keys else keys
        found, unknown = [], []
        for key in wanted:
            var = self._defs.get(key)
            if var is None:
                unknown.append(key)
                continue
            value = None if var.mutability == _WO else self.value(key)
            found.append(KeyValue(key=key, readonly=var.mutability == _RO,
                                  value=None if value is None else value[:500]))
        return found, unknown

    def change_configuration(self, key: str, value: str) -> str:
        """Answer ChangeConfiguration (1.6 §5.3): Accepted, Rejected or NotSupported."""
        var = self._defs.get(key)
        if var is None:
            return "NotSupported"
        if var.mutability == _RO or var.live:
            return "Rejected"
        try:
            self._set(key, check_value(var, value, max_length=500))
        except SettingError:
            return "Rejected"
        return "Accepted"

    # -- OCPP 2.0.1 GetVariables / SetVariables / reports --

    def _find(self, component: ComponentType, variable: VariableType) -> tuple[str, VariableKey | None]:
        evse = component.evse
        key = VariableKey(component.name, variable.name, variable.instance, component.instance,
                          None if evse is None else evse.id, None if evse is None else evse.connector_id)
        if key in self._defs:
            return "Accepted", key
        if not any(k.component == component.name and k.component_instance == component.instance
                   and k.evse == key.evse and k.connector == key.connector
                   for k in self._defs if isinstance(k, VariableKey)):
            return "UnknownComponent", None
        return "UnknownVariable", None

    def get_variable(self, component: ComponentType, variable: VariableType,
                     attribute: str | None) -> tuple[str, str | None]:
        """Return (attributeStatus, attributeValue) for GetVariables (2.0.1 B06)."""
        status, key = self._find(component, variable)
        if key is None:
            return status, None
        if attribute not in (None, "Actual"):
            return "NotSupportedAttributeType", None
        if self._defs[key].mutability == _WO:
            return "Rejected", None
        return "Accepted", (self.value(key) or "")[:2500]

    def set_variable(self, component: ComponentType, variable: VariableType, attribute: str | None,
                     value: str) -> tuple[str, str | None]:
        """Apply one SetVariables item (2.0.1 B05); return (attributeStatus, what went wrong)."""
        status, key = self._find(component, variable)
        if key is None:
            return status, None
        if attribute not in (None, "Actual"):
            return "NotSupportedAttributeType", None
        var = self._defs[key]
        if var.mutability == _RO or var.live:
            return "Rejected", "ReadOnly"
        try:
            self._set(key, check_value(var, value, max_length=1000))
        except SettingError as exc:
            return "Rejected", str(exc)
        return "Accepted", None

    def report(self, base: str | None = None,
               wanted: list[tuple[ComponentType, VariableType | None]] | None = None) -> list[ReportDataType]:
        """Build the reportData of a GetBaseReport (``base``) or GetReport (``wanted``), in a stable order.

        ConfigurationInventory lists what can be set, FullInventory everything, SummaryInventory the
        availability and problem state of the physical components (2.0.1 B07).
        """
        keys = [k for k in self._defs if isinstance(k, VariableKey)]
        if base == "ConfigurationInventory":
            keys = [k for k in keys if self._defs[k].mutability != _RO and not self._defs[k].live]
        elif base == "SummaryInventory":
            keys = [k for k in keys if k.variable in ("AvailabilityState", "Problem")]
        if wanted is not None:
            keys = [k for k in keys if any(_matches(k, c, v) for c, v in wanted)]
        return [self._report_entry(k) for k in sorted(keys, key=_order)]

    def _report_entry(self, key: VariableKey) -> ReportDataType:
        var = self._defs[key]
        value = None if var.mutability == _WO else self.value(key)
        evse = None if key.evse is None else EVSEType(id=key.evse, connector_id=key.connector)
        return ReportDataType(
            component=ComponentType(name=key.component, instance=key.component_instance, evse=evse),
            variable=VariableType(name=key.variable, instance=key.variable_instance),
            variable_attribute=[VariableAttributeType(
                type="Actual", value=None if value is None else value[:2500],
                mutability=var.mutability, persistent=not var.live,
                constant=var.mutability == _RO and not var.live)],
            variable_characteristics=VariableCharacteristicsType(
                data_type=var.data_type, unit=var.unit, min_limit=var.min_limit,
                max_limit=var.max_limit, values_list=var.values_list, supports_monitoring=False),
        )


def _matches(key: VariableKey, component: ComponentType, variable: VariableType | None) -> bool:
    if key.component != component.name or key.component_instance != component.instance:
        return False
    if component.evse is not None and (key.evse != component.evse.id or (
            component.evse.connector_id is not None and key.connector != component.evse.connector_id)):
        return False
    return variable is None or (key.variable == variable.name and (
        variable.instance is None or key.variable_instance == variable.instance))


def _order(key: VariableKey) -> tuple:
    return (key.evse or 0, key.connector or 0, key.component, key.component_instance or "", key.variable,
            key.variable_instance or "")
