"""The benchmarks reuse the integration fixtures (real PostgreSQL, Mosquitto, sites)."""

from tests.integration.conftest import broker, provision_site, sites

__all__ = ["broker", "provision_site", "sites"]
