"""SQLAlchemy models; importing this package registers every table on ``Base.metadata``."""

from .authorizations import RealtimeAuthorization
from .base import Base, UtcDateTime, new_id, utcnow
from .bundles import Bundle
from .chargers import Charger, ChargerFrame
from .jobs import Job, JobStatus, JobStep, StepStatus
from .locations import Location
from .cpo_sessions import CpoCdr, CpoSession
from .csms import CsmsConnector, CsmsIdToken, CsmsMeterSample, CsmsStation, CsmsTransaction
from .ocpi_exchanges import OcpiExchange
from .ocpi_commands import OcpiCommand
from .ocpi_pushes import OcpiPush, PushState
from .ocpi_tokens import OcpiToken
from .ocpi_parties import CpoParty, CredentialsToken, Partner, PartnerState, TokenKind
from .smart_charging import ChargingLimitChange, OcpiChargingProfile
from .tariffs import TariffRecord
from .tenants import SandboxSetting, Tenant

__all__ = [
    "Base",
    "Bundle",
    "Charger",
    "ChargerFrame",
    "ChargingLimitChange",
    "CsmsConnector",
    "CsmsIdToken",
    "CsmsMeterSample",
    "CsmsStation",
    "CsmsTransaction",
    "CpoCdr",
    "CpoParty",
    "CpoSession",
    "CredentialsToken",
    "Job",
    "JobStatus",
    "JobStep",
    "OcpiChargingProfile",
    "OcpiCommand",
    "OcpiExchange",
    "OcpiPush",
    "OcpiToken",
    "Partner",
    "PartnerState",
    "PushState",
    "RealtimeAuthorization",
    "SandboxSetting",
    "StepStatus",
    "Location",
    "TariffRecord",
    "Tenant",
    "TokenKind",
    "UtcDateTime",
    "new_id",
    "utcnow",
]
