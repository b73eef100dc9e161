"""The benchmarks reuse the integration fixtures (real PostgreSQL, Mosquitto, sites)."""

from tests.integration.conftest import broker, chaos_stack, provision_site, sites

__all__ = ["broker", "chaos_stack", "provision_site", "sites"]
