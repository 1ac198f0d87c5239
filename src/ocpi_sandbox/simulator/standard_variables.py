"""List the settings a simulated station supports: OCPP 1.6 configuration keys and 2.0.1 device-model variables.

The standard 1.6 keys (1.6 §9) and the 2.0.1 controller variables (2.0.1 Part 2 appendix, "Standardized
Components") with their type, default and mutability, the physical components of a station (ChargingStation, EVSE,
Connector), and the ``roles``: the behaviour the station core reads and which key or variable holds it in each
version. ``device_model.DeviceModel`` keeps the values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import msgspec

__all__ = [
    "FIXED_16",
    "FIXED_201",
    "KEYS_16",
    "MEASURANDS_16",
    "MEASURANDS_201",
    "ROLES_16",
    "ROLES_201",
    "TX_POINTS",
    "VARIABLES_201",
    "Variable",
    "VariableKey",
    "station_components",
    "variable_name",
]

MEASURANDS_16 = (
    "Energy.Active.Import.Register,Energy.Active.Import.Interval,Energy.Active.Export.Register,"
    "Power.Active.Import,Power.Active.Export,Power.Offered,Power.Factor,Current.Import,Current.Export,"
    "Current.Offered,Voltage,Frequency,SoC,Temperature"
)
# 2.0.1 dropped Temperature (and RPM) from MeasurandEnumType.
MEASURANDS_201 = MEASURANDS_16.removesuffix(",Temperature")
TX_POINTS = "ParkingBayOccupancy,EVConnected,Authorized,DataSigned,PowerPathClosed,EnergyTransfer"
_AVAILABILITY = "Available,Occupied,Reserved,Unavailable,Faulted"


class Variable(msgspec.Struct, frozen=True, kw_only=True):
    """Describe one setting: its 2.0.1 data type and characteristics, its default and who may write it.

    1.6 keys use the same description: a CSL is a MemberList, ``ReadOnly`` is ``readonly: true``.
    ``live`` values are read from the station when asked; they have no stored value.
    """

    data_type: str  # 2.0.1 DataEnumType: string, decimal, integer, dateTime, boolean, OptionList, MemberList...
    default: str | None = None
    mutability: str = "ReadWrite"  # ReadOnly, ReadWrite, WriteOnly
    unit: str | None = None
    min_limit: float | None = None
    max_limit: float | None = None
    values_list: str | None = None
    max_members: int | None = None
    live: bool = False


class VariableKey(NamedTuple):
    """Name a 2.0.1 variable as the device model keys it: never by a flattened string (Part 2 appendix)."""

    component: str
    variable: str
    variable_instance: str | None = None
    component_instance: str | None = None
    evse: int | None = None
    connector: int | None = None


def variable_name(key: VariableKey) -> str:
    """Write ``Component.Variable`` or ``Component.Variable.Instance``, the form StationConfig overrides use."""
    name = f"{key.component}.{key.variable}"
    return name if key.variable_instance is None else f"{name}.{key.variable_instance}"


def _v(data_type: str, default: object = None, mutability: str = "ReadWrite", **kw: object) -> Variable:
    if isinstance(default, bool):
        default = "true" if default else "false"
    return Variable(data_type=data_type, default=None if default is None else str(default),
                    mutability=mutability, **kw)


_INT, _BOOL, _STR, _DEC = "integer", "boolean", "string", "decimal"
_RO, _WO = "ReadOnly", "WriteOnly"


def _seconds(default: int, **kw: object) -> Variable:
    return _v(_INT, default, unit="s", min_limit=0, **kw)


def _members(default: str, values: str, mutability: str = "ReadWrite", max_members: int | None = None) -> Variable:
    return _v("MemberList", default, mutability, values_list=values, max_members=max_members)


# --- OCPP 1.6 §9 standard configuration keys ------------------------------------------------------------

KEYS_16: dict[str, Variable] = {
    "AllowOfflineTxForUnknownId": _v(_BOOL, False),
    "AuthorizationCacheEnabled": _v(_BOOL, True),
    "AuthorizeRemoteTxRequests": _v(_BOOL, False),
    "ClockAlignedDataInterval": _seconds(900),
    "ConnectionTimeOut": _seconds(90),
    "ConnectorPhaseRotation": _v(_STR, "0.RST"),
    "GetConfigurationMaxKeys": _v(_INT, 100, _RO),
    "HeartbeatInterval": _seconds(300),
    "LocalAuthorizeOffline": _v(_BOOL, True),
    "LocalPreAuthorize": _v(_BOOL, False),
    "MeterValuesAlignedData": _members("Energy.Active.Import.Register", MEASURANDS_16, max_members=10),
    "MeterValuesAlignedDataMaxLength": _v(_INT, 10, _RO),
    "MeterValuesSampledData": _members("Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage",
                                       MEASURANDS_16, max_members=10),
    "MeterValuesSampledDataMaxLength": _v(_INT, 10, _RO),
    "MeterValueSampleInterval": _seconds(60),
    "MinimumStatusDuration": _seconds(0),
    "NumberOfConnectors": _v(_INT, 1, _RO, live=True),
    "ResetRetries": _v(_INT, 2, min_limit=0),
    "StopTransactionOnEVSideDisconnect": _v(_BOOL, True),
    "StopTransactionOnInvalidId": _v(_BOOL, True),
    "StopTxnAlignedData": _members("", MEASURANDS_16, max_members=10),
    "StopTxnAlignedDataMaxLength": _v(_INT, 10, _RO),
    "StopTxnSampledData": _members("Energy.Active.Import.Register", MEASURANDS_16, max_members=10),
    "StopTxnSampledDataMaxLength": _v(_INT, 10, _RO),
    "SupportedFeatureProfiles": _v(
        _STR, "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger", _RO),
    "TransactionMessageAttempts": _v(_INT, 3, min_limit=0),
    "TransactionMessageRetryInterval": _seconds(60),
    "UnlockConnectorOnEVSideDisconnect": _v(_BOOL, True),
    "WebSocketPingInterval": _seconds(60),
    "LocalAuthListEnabled": _v(_BOOL, True),
    "LocalAuthListMaxLength": _v(_INT, 1000, _RO),
    "SendLocalListMaxLength": _v(_INT, 100, _RO),
    "ReserveConnectorZeroSupported": _v(_BOOL, False, _RO),
    "ChargeProfileMaxStackLevel": _v(_INT, 8, _RO),
    "ChargingScheduleAllowedChargingRateUnit": _members("Current,Power", "Current,Power", _RO),
    "ChargingScheduleMaxPeriods": _v(_INT, 24, _RO),
    "ConnectorSwitch3to1PhaseSupported": _v(_BOOL, False, _RO),
    "MaxChargingProfilesInstalled": _v(_INT, 16, _RO),
    "SupportedFileTransferProtocols": _members("HTTP,HTTPS", "FTP,FTPS,HTTP,HTTPS", _RO),
    # Security whitepaper: the key is never read back (GetConfiguration omits its value).
    "AuthorizationKey": _v(_STR, None, _WO),
    "SecurityProfile": _v(_INT, 0, min_limit=0, max_limit=3),
}

# Behaviour the core reads, and the 1.6 key that holds it. Derived roles (tx points) are computed below.
ROLES_16: dict[str, str] = {
    "heartbeat_interval": "HeartbeatInterval",
    "sample_interval": "MeterValueSampleInterval",
    "websocket_ping_interval": "WebSocketPingInterval",
    "sampled_measurands": "MeterValuesSampledData",
    "ended_measurands": "StopTxnSampledData",
    "aligned_interval": "ClockAlignedDataInterval",
    "aligned_measurands": "MeterValuesAlignedData",
    "aligned_ended_measurands": "StopTxnAlignedData",
    "connection_timeout": "ConnectionTimeOut",
    "authorize_remote_start": "AuthorizeRemoteTxRequests",
    "local_pre_authorize": "LocalPreAuthorize",
    "local_authorize_offline": "LocalAuthorizeOffline",
    "offline_unknown_id": "AllowOfflineTxForUnknownId",
    "auth_cache_enabled": "AuthorizationCacheEnabled",
    "local_list_enabled": "LocalAuthListEnabled",
    "local_list_max": "LocalAuthListMaxLength",
    "send_local_list_max": "SendLocalListMaxLength",
    "stop_on_ev_disconnect": "StopTransactionOnEVSideDisconnect",
    "stop_on_invalid_id": "StopTransactionOnInvalidId",
    "message_attempts": "TransactionMessageAttempts",
    "message_attempt_interval": "TransactionMessageRetryInterval",
    "reserve_connector_zero": "ReserveConnectorZeroSupported",
    "max_stack_level": "ChargeProfileMaxStackLevel",
    "max_periods": "ChargingScheduleMaxPeriods",
    "max_profiles": "MaxChargingProfilesInstalled",
    "rate_units": "ChargingScheduleAllowedChargingRateUnit",
}


# --- OCPP 2.0.1 device model (Part 2 appendix, "Standardized Components") -------------------------------

def _key(component: str, variable: str, instance: str | None = None) -> VariableKey:
    return VariableKey(component, variable, instance)


VARIABLES_201: dict[VariableKey, Variable] = {
    _key("OCPPCommCtrlr", "HeartbeatInterval"): _seconds(300),
    _key("OCPPCommCtrlr", "MessageTimeout", "Default"): _v(_INT, 30, unit="s", min_limit=1),
    _key("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent"): _v(_INT, 3, min_limit=0),
    _key("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent"): _seconds(60),
    _key("OCPPCommCtrlr", "OfflineThreshold"): _seconds(60),
    _key("OCPPCommCtrlr", "QueueAllMessages"): _v(_BOOL, False),
    _key("OCPPCommCtrlr", "ResetRetries"): _v(_INT, 2, min_limit=0),
    _key("OCPPCommCtrlr", "RetryBackOffRepeatTimes"): _v(_INT, 5, min_limit=0),
    _key("OCPPCommCtrlr", "RetryBackOffRandomRange"): _seconds(2),
    _key("OCPPCommCtrlr", "RetryBackOffWaitMinimum"): _seconds(3),
    _key("OCPPCommCtrlr", "UnlockOnEVSideDisconnect"): _v(_BOOL, True),
    _key("OCPPCommCtrlr", "WebSocketPingInterval"): _seconds(60),
    _key("OCPPCommCtrlr", "NetworkConfigurationPriority"): _v("SequenceList", "0"),
    _key("OCPPCommCtrlr", "NetworkProfileConnectionAttempts"): _v(_INT, 3, min_limit=0),
    _key("OCPPCommCtrlr", "ActiveNetworkProfile"): _v(_INT, 0, _RO),
    _key("OCPPCommCtrlr", "FileTransferProtocols"): _members("HTTP,HTTPS", "FTP,FTPS,HTTP,HTTPS,SFTP", _RO),
    _key("DeviceDataCtrlr", "ItemsPerMessage", "GetReport"): _v(_INT, 20, _RO),
    _key("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"): _v(_INT, 50, _RO),
    _key("DeviceDataCtrlr", "ItemsPerMessage", "SetVariables"): _v(_INT, 50, _RO),
    _key("DeviceDataCtrlr", "BytesPerMessage", "GetReport"): _v(_INT, 65000, _RO),
    _key("DeviceDataCtrlr", "BytesPerMessage", "GetVariables"): _v(_INT, 65000, _RO),
    _key("DeviceDataCtrlr", "BytesPerMessage", "SetVariables"): _v(_INT, 65000, _RO),
    _key("DeviceDataCtrlr", "ConfigurationValueSize"): _v(_INT, 1000, _RO),
    _key("DeviceDataCtrlr", "ReportingValueSize"): _v(_INT, 2500, _RO),
    _key("ClockCtrlr", "DateTime"): _v("dateTime", None, _RO, live=True),
    _key("ClockCtrlr", "TimeSource"): _v("SequenceList", "Heartbeat",
                                         values_list="Heartbeat,NTP,GPS,RealTimeClock,MobileNetwork"),
    _key("SampledDataCtrlr", "Enabled"): _v(_BOOL, True),
    _key("SampledDataCtrlr", "Available"): _v(_BOOL, True, _RO),
    _key("SampledDataCtrlr", "SignReadings"): _v(_BOOL, False, _RO),
    _key("SampledDataCtrlr", "TxStartedMeasurands"): _members("Energy.Active.Import.Register", MEASURANDS_201),
    _key("SampledDataCtrlr", "TxUpdatedMeasurands"): _members(
        "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage", MEASURANDS_201),
    _key("SampledDataCtrlr", "TxUpdatedInterval"): _seconds(60),
    _key("SampledDataCtrlr", "TxEndedMeasurands"): _members("Energy.Active.Import.Register", MEASURANDS_201),
    _key("SampledDataCtrlr", "TxEndedInterval"): _seconds(0),
    _key("SampledDataCtrlr", "RegisterValuesWithoutPhases"): _v(_BOOL, True),
    _key("AlignedDataCtrlr", "Enabled"): _v(_BOOL, True),
    _key("AlignedDataCtrlr", "Available"): _v(_BOOL, True, _RO),
    _key("AlignedDataCtrlr", "Interval"): _seconds(900),
    _key("AlignedDataCtrlr", "Measurands"): _members("Energy.Active.Import.Register", MEASURANDS_201),
    _key("AlignedDataCtrlr", "SendDuringIdle"): _v(_BOOL, False),
    _key("AlignedDataCtrlr", "TxEndedInterval"): _seconds(0),
    _key("AlignedDataCtrlr", "TxEndedMeasurands"): _members("", MEASURANDS_201),
    _key("TxCtrlr", "EVConnectionTimeOut"): _seconds(90),
    _key("TxCtrlr", "StopTxOnEVSideDisconnect"): _v(_BOOL, True),
    _key("TxCtrlr", "StopTxOnInvalidId"): _v(_BOOL, True),
    _key("TxCtrlr", "TxBeforeAcceptedEnabled"): _v(_BOOL, False),
    _key("TxCtrlr", "TxStartPoint"): _members("EVConnected,Authorized", TX_POINTS),
    _key("TxCtrlr", "TxStopPoint"): _members("EVConnected,Authorized", TX_POINTS),
    _key("AuthCtrlr", "Enabled"): _v(_BOOL, True),
    _key("AuthCtrlr", "AuthorizeRemoteStart"): _v(_BOOL, False),
    _key("AuthCtrlr", "LocalAuthorizeOffline"): _v(_BOOL, True),
    _key("AuthCtrlr", "LocalPreAuthorize"): _v(_BOOL, False),
    _key("AuthCtrlr", "OfflineTxForUnknownIdEnabled"): _v(_BOOL, False),
    _key("AuthCtrlr", "DisableRemoteAuthorization"): _v(_BOOL, False),
    _key("AuthCacheCtrlr", "Enabled"): _v(_BOOL, True),
    _key("AuthCacheCtrlr", "Available"): _v(_BOOL, True, _RO),
    _key("AuthCacheCtrlr", "LifeTime"): _seconds(86400),
    _key("LocalAuthListCtrlr", "Enabled"): _v(_BOOL, True),
    _key("LocalAuthListCtrlr", "Available"): _v(_BOOL, True, _RO),
    _key("LocalAuthListCtrlr", "Entries"): _v(_INT, None, _RO, max_limit=1000, live=True),
    _key("LocalAuthListCtrlr", "ItemsPerMessage"): _v(_INT, 100, _RO),
    _key("LocalAuthListCtrlr", "BytesPerMessage"): _v(_INT, 65000, _RO),
    _key("ReservationCtrlr", "Enabled"): _v(_BOOL, True),
    _key("ReservationCtrlr", "Available"): _v(_BOOL, True, _RO),
    _key("ReservationCtrlr", "NonEvseSpecific"): _v(_BOOL, True),
    _key("SmartChargingCtrlr", "Enabled"): _v(_BOOL, True),
    _key("SmartChargingCtrlr", "Available"): _v(_BOOL, True, _RO),
    _key("SmartChargingCtrlr", "Entries", "ChargingProfiles"): _v(_INT, None, _RO, max_limit=16, live=True),
    _key("SmartChargingCtrlr", "LimitChangeSignificance"): _v(_DEC, 10, unit="Percent", min_limit=0),
    _key("SmartChargingCtrlr", "ProfileStackLevel"): _v(_INT, 8, _RO),
    _key("SmartChargingCtrlr", "RateUnit"): _members("A,W", "A,W", _RO),
    _key("SmartChargingCtrlr", "PeriodsPerSchedule"): _v(_INT, 24, _RO),
    _key("SmartChargingCtrlr", "ExternalControlSignalsEnabled"): _v(_BOOL, False),
    _key("SmartChargingCtrlr", "NotifyChargingLimitWithSchedules"): _v(_BOOL, False),
    _key("SmartChargingCtrlr", "Phases3to1"): _v(_BOOL, False, _RO),
    _key("SecurityCtrlr", "Identity"): _v(_STR, None, _RO, live=True),
    _key("SecurityCtrlr", "OrganizationName"): _v(_STR, "ocpi-sandbox"),
    _key("SecurityCtrlr", "SecurityProfile"): _v(_INT, 0, _RO),
    _key("SecurityCtrlr", "BasicAuthPassword"): _v(_STR, None, _WO),
    _key("SecurityCtrlr", "CertificateEntries"): _v(_INT, 0, _RO),
}

ROLES_201: dict[str, VariableKey] = {
    "heartbeat_interval": _key("OCPPCommCtrlr", "HeartbeatInterval"),
    "sample_interval": _key("SampledDataCtrlr", "TxUpdatedInterval"),
    "websocket_ping_interval": _key("OCPPCommCtrlr", "WebSocketPingInterval"),
    "sampled_measurands": _key("SampledDataCtrlr", "TxUpdatedMeasurands"),
    "started_measurands": _key("SampledDataCtrlr", "TxStartedMeasurands"),
    "ended_measurands": _key("SampledDataCtrlr", "TxEndedMeasurands"),
    "sampling_enabled": _key("SampledDataCtrlr", "Enabled"),
    "aligned_enabled": _key("AlignedDataCtrlr", "Enabled"),
    "aligned_interval": _key("AlignedDataCtrlr", "Interval"),
    "aligned_measurands": _key("AlignedDataCtrlr", "Measurands"),
    "aligned_ended_measurands": _key("AlignedDataCtrlr", "TxEndedMeasurands"),
    "aligned_during_idle": _key("AlignedDataCtrlr", "SendDuringIdle"),
    "connection_timeout": _key("TxCtrlr", "EVConnectionTimeOut"),
    "authorize_remote_start": _key("AuthCtrlr", "AuthorizeRemoteStart"),
    "authorization_enabled": _key("AuthCtrlr", "Enabled"),
    "disable_remote_authorization": _key("AuthCtrlr", "DisableRemoteAuthorization"),
    "local_pre_authorize": _key("AuthCtrlr", "LocalPreAuthorize"),
    "local_authorize_offline": _key("AuthCtrlr", "LocalAuthorizeOffline"),
    "offline_unknown_id": _key("AuthCtrlr", "OfflineTxForUnknownIdEnabled"),
    "auth_cache_enabled": _key("AuthCacheCtrlr", "Enabled"),
    "local_list_enabled": _key("LocalAuthListCtrlr", "Enabled"),
    "send_local_list_max": _key("LocalAuthListCtrlr", "ItemsPerMessage"),
    "stop_on_ev_disconnect": _key("TxCtrlr", "StopTxOnEVSideDisconnect"),
    "stop_on_invalid_id": _key("TxCtrlr", "StopTxOnInvalidId"),
    "tx_start_points": _key("TxCtrlr", "TxStartPoint"),
    "tx_stop_points": _key("TxCtrlr", "TxStopPoint"),
    "message_attempts": _key("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent"),
    "message_attempt_interval": _key("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent"),
    "offline_threshold": _key("OCPPCommCtrlr", "OfflineThreshold"),
    "reservations_enabled": _key("ReservationCtrlr", "Enabled"),
    "non_evse_specific": _key("ReservationCtrlr", "NonEvseSpecific"),
    "smart_charging_enabled": _key("SmartChargingCtrlr", "Enabled"),
    "limit_change_significance": _key("SmartChargingCtrlr", "LimitChangeSignificance"),
    "max_stack_level": _key("SmartChargingCtrlr", "ProfileStackLevel"),
    "max_periods": _key("SmartChargingCtrlr", "PeriodsPerSchedule"),
    "rate_units": _key("SmartChargingCtrlr", "RateUnit"),
    "items_per_report": _key("DeviceDataCtrlr", "ItemsPerMessage", "GetReport"),
    "items_per_get_variables": _key("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"),
    "items_per_set_variables": _key("DeviceDataCtrlr", "ItemsPerMessage", "SetVariables"),
}

# Roles without a setting in one version, and what that version behaves as.
FIXED_16 = {"sampling_enabled": "true", "aligned_enabled": "true", "aligned_during_idle": "false",
             "authorization_enabled": "true", "disable_remote_authorization": "false",
             "offline_threshold": "0", "reservations_enabled": "true", "non_evse_specific": "false",
             "smart_charging_enabled": "true", "limit_change_significance": "0", "started_measurands": "",
             "items_per_report": "20", "items_per_get_variables": "50", "items_per_set_variables": "50"}
FIXED_201 = {"local_list_max": "1000", "reserve_connector_zero": "false", "max_profiles": "16"}


def station_components(evses: Iterable[tuple[int, Iterable[tuple[int, str]], float, int]],
                       station_power_w: float) -> dict[VariableKey, Variable]:
    """List the physical components of a station: ChargingStation, each EVSE and each Connector.

    ``evses`` gives (evse id, [(connector id, 2.0.1 connector type)], max power W, phases). Their state
    (AvailabilityState, Available, Problem, Power) is live.
    """
    found: dict[VariableKey, Variable] = {
        _key("ChargingStation", "AvailabilityState"): _v("OptionList", None, _RO, values_list=_AVAILABILITY,
                                                         live=True),
        _key("ChargingStation", "Available"): _v(_BOOL, True, _RO, live=True),
        _key("ChargingStation", "Problem"): _v(_BOOL, False, _RO, live=True),
        _key("ChargingStation", "Model"): _v(_STR, None, _RO, live=True),
        _key("ChargingStation", "VendorName"): _v(_STR, None, _RO, live=True),
        _key("ChargingStation", "Power"): _v(_DEC, None, _RO, unit="W", max_limit=station_power_w, live=True),
    }
    for evse_id, connectors, power_w, phases in evses:
        evse = dict(evse=evse_id)
        for variable, var in (("AvailabilityState", _v("OptionList", None, _RO, values_list=_AVAILABILITY,
                                                        live=True)),
                              ("Available", _v(_BOOL, True, _RO, live=True)),
                              ("Problem", _v(_BOOL, False, _RO, live=True)),
                              ("Power", _v(_DEC, None, _RO, unit="W", max_limit=power_w, live=True)),
                              ("SupplyPhases", _v(_INT, phases, _RO))):
            found[VariableKey("EVSE", variable, **evse)] = var
        for connector_id, connector_type in connectors:
            where = dict(evse=evse_id, connector=connector_id)
            found[VariableKey("Connector", "AvailabilityState", **where)] = _v(
                "OptionList", None, _RO, values_list=_AVAILABILITY, live=True)
            found[VariableKey("Connector", "Available", **where)] = _v(_BOOL, True, _RO, live=True)
            found[VariableKey("Connector", "Problem", **where)] = _v(_BOOL, False, _RO, live=True)
            found[VariableKey("Connector", "ConnectorType", **where)] = _v(_STR, connector_type, _RO)
            found[VariableKey("Connector", "SupplyPhases", **where)] = _v(_INT, phases, _RO)
    return found
