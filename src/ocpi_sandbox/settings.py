"""Settings of one sandbox process, read from flags and ``OCPI_SANDBOX_*`` environment variables."""

from __future__ import annotations

import os

import msgspec

__all__ = ["Settings"]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./ocpi-sandbox.db"


class Settings(msgspec.Struct, kw_only=True):
    """Everything ``create_app`` needs; flags override the environment, the environment overrides defaults."""

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8080
    # Base URL put into the versions and endpoint URLs we publish; behind a proxy it is the proxy's URL.
    public_url: str | None = None
    # Used when set; otherwise generated on first start and stored in the database.
    admin_token: str | None = None
    # Server cap on OCPI page size, published as X-Limit (OCPI 2.2.1 transport_and_format, Pagination).
    ocpi_page_limit: int = 100
    # The credentials POST/PUT blocks while we call the eMSP back; the spec advises generous timeouts.
    ocpi_client_timeout: float = 30.0
    # Session PATCHes to an eMSP go at most this often per session, carrying the newest kWh, closed charging
    # periods and running cost (OCPI mod_sessions asks for updates "not too chatty"); the final one goes at once.
    ocpi_session_patch_interval: float = 30.0
    # OCPI ChargingProfiles: a PUT or DELETE for a session is answered TOO_OFTEN while the session's previous one
    # is still being carried out, and when it comes less than this many seconds after the previous one arrived
    # (0: only the first rule). Protects the charger from profile churn; GET is never limited.
    ocpi_charging_profile_min_interval: float = 0.0
    # After a credentials PUT the previous token stays valid this long (ocpi/ocpi#568 leaves it open).
    ocpi_token_grace_seconds: int = 300
    # Embedded CSMS: heartbeat interval given in BootNotification answers, seconds.
    csms_heartbeat_interval: int = 300
    # Embedded CSMS: seconds between the WebSocket pings it sends each station (0: none; stations ping too).
    csms_websocket_ping_interval: float = 60.0
    # "accept": an unknown charge point is registered on connect (a sandbox should just work); "reject": refused.
    csms_unknown_chargers: str = "accept"
    # "accept": Authorize answers Accepted for ID tokens the CSMS does not know; "reject": Invalid.
    csms_unknown_tokens: str = "accept"
    # OCPP frames older than this are pruned from charger logs.
    frame_log_retention_hours: int = 168

    @property
    def base_url(self) -> str:
        """Return the public base URL without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/ocpi/versions"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``OCPI_SANDBOX_<FIELD>`` variables, then apply non-None ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.__struct_fields__:
            raw = env.get(f"OCPI_SANDBOX_{name.upper()}")
            if raw is not None and raw != "":
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        # strict=False lets "8080" from the environment become an int; a bad value still fails with its name.
        try:
            return msgspec.convert(values, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise ValueError(f"invalid setting: {exc} (check the OCPI_SANDBOX_* variables and flags)") from exc
