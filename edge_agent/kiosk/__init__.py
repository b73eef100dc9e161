"""Kiosk and consultant-phone API of the edge agent: visit registration and look-ups."""
