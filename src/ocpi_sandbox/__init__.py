"""ocpi-sandbox: an OCPI CPO sandbox with live OCPP charger simulators."""

__version__ = "0.1.0"
