"""Anchang edge agent: the on-site appliance (kiosk API, local SQLite, MQTT sync)."""

__version__ = "0.1.0"
