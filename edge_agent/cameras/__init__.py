"""Cameras on the appliance: discovery (WS-Discovery, ONVIF), per-brand firmware configs,
face-capture event parsers, and the camera inventory a field engineer confirms."""
